"""Personal data masked however it is spelled, and files safe to open in a spreadsheet.

The quarantine report is a CSV buyers open in Excel; a rejected cell written as it came
(``=HYPERLINK(…)``) would run there (OWASP, CSV injection).
"""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest

from seatscore.core.files import FORMULA_START, neutralise, safe_csv
from seatscore.core.privacy import mask_personal
from seatscore.ledgers import store as db
from seatscore.ledgers.ingest import ingest
from seatscore.reporting.report import gt_table
from seatscore.terms.contract_files import load_contracts


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+8613912345678", "+86139****5678"),
        ("8613812345678", "86138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+86 139-1234-5678", "+86 139****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        ("来电13812345678，请回电", "来电138****5678，请回电"),
        ("010-68889925", "010-****9925"),
    ],
)
def test_phone_numbers_are_masked_however_spelled(text, masked):
    assert mask_personal(text) == masked


@pytest.mark.parametrize("text", ["¥158,770.96", "2026-06-17 至 2027-06-16", "附件二 第四章 一 1"])
def test_figures_dates_and_clauses_are_left_alone(text):
    assert mask_personal(text) == text


def test_every_text_column_of_a_report_table_is_masked():
    # A number typed into the district or the ticket id column is masked like one in the text.
    frame = pl.DataFrame({"街道": ["海淀街道 13912345678"], "工单": ["１３８１２３４５６７８"]})
    html = gt_table(frame).as_raw_html()
    assert "13912345678" not in html and "12345678" not in html
    assert "139****5678" in html and "138****5678" in html


def test_neutralise_follows_owasp():
    assert [neutralise(v) for v in ("=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "ok", None)] == [
        "'=1+1",
        "'+cmd",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "ok",
        None,
    ]


def test_quarantine_report_holds_no_formula(tmp_path):
    # Four rows rejected for their values, each value a formula; and a file name starting "=".
    path = tmp_path / "seatscore.duckdb"
    db.build(path, load_contracts(), demo_dir=None)
    cid = "karamay-grid-2024"
    bad = tmp_path / "=HYPERLINK(evil).csv"
    bad.write_text(
        "合同编号,日期,考核项目,次数\n"
        f'{cid},2024-10-08,wrong_report,"=HYPERLINK(""http://x"",""点我"")"\n'
        f"{cid},2024-10-08,wrong_report,+cmd|' /C calc'!A0\n"
        f"{cid},2024-10-08,wrong_report,@SUM(1+1)\n"
        f"{cid},2024-10-08,wrong_report,-1\n",
        encoding="utf-8",
    )
    (result,) = ingest([bad], path, kind="deductions", quarantine_dir=tmp_path / "q")
    assert result.rejected == 4
    text = result.quarantine_file.read_text(encoding="utf-8-sig")
    assert not result.quarantine_file.name.startswith(FORMULA_START)
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_START)]
    assert "'=HYPERLINK" in text and "'+cmd" in text and "'@SUM(1+1)" in text and "'-1" in text
    # the file column names the file, neutralised too
    files = {row["file"] for row in csv.DictReader(io.StringIO(text))}
    assert all(not f.startswith(FORMULA_START) for f in files)


def test_safe_csv_writes_numbers_as_text():
    assert safe_csv(pl.DataFrame({"a": [-5, 3]})) == "\ufeffa\n'-5\n3\n"
