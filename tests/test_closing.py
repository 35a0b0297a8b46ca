"""Closing a month: its statement never changes; later findings become adjustments in the first
open month; a correction makes a new version with what changed.

Contract 000 (haidian-dispatch-2026): 附件二 第三章 二, 1,000 CNY a point; 五 1, a 31-day month
is 158,770.96 (1,869,400 / 365 × 31); 附件二 第四章 一 1 late dispatch 0.5 points per ticket;
二 3 dress code 0.1 per person.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from seatscore.cli import main
from seatscore.compute import closing
from seatscore.core.errors import SeatscoreError
from seatscore.ledgers import store as db
from seatscore.ledgers.ingest import ingest
from seatscore.terms.contract_files import load_contracts

HAIDIAN = "haidian-dispatch-2026"
TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def database(tmp_path) -> Path:
    path = tmp_path / "seatscore.duckdb"
    db.build(path, load_contracts(), demo_dir=None)
    return path


def load(path: Path, folder: Path, name: str, text: str) -> None:
    file = folder / name
    file.write_text(text, encoding="utf-8")
    ingest([file], path, kind="deductions", quarantine_dir=folder / "q")


def statements(path: Path, month: str) -> dict:
    with db.connect(path) as con:
        contract = db.load_contract(con, HAIDIAN)
        closing.refresh(con, contract, db.ledgers(con, HAIDIAN), TODAY)
        return closing.stored(con, HAIDIAN, month)


def close(path: Path, month: str) -> None:
    with db.connect(path) as con:
        contract = db.load_contract(con, HAIDIAN)
        closing.close(con, contract, db.ledgers(con, HAIDIAN), month, TODAY)


def correct_the_rate(path: Path) -> None:
    """The params corrected after the close: 2,000 CNY a point instead of 1,000."""
    contracts = load_contracts()
    c = contracts[HAIDIAN]
    rate = c.fee_formula.model_copy(update={"cny_per_point": Decimal("2000.00")})
    db.build(
        path, {**contracts, HAIDIAN: c.model_copy(update={"fee_formula": rate})}, demo_dir=None
    )


def close_june_and_july_with_half_a_point(path: Path, folder: Path) -> None:
    """July: 5 dress-code persons (二 3: 0.1 each) = 0.5 points; June and July closed."""
    load(
        path,
        folder,
        "july.csv",
        f"合同编号,日期,考核项目,次数\n{HAIDIAN},2026-07-03,dress_code,5\n",
    )
    close(path, "2026-06")
    close(path, "2026-07")


def test_late_finding_is_settled_in_the_first_open_month(database, tmp_path, capsys):
    # July: 5 dress-code persons (0.5 points) → 99.5, 500.00 off 158,770.96 = 158,270.96.
    close_june_and_july_with_half_a_point(database, tmp_path)
    assert main(["score", HAIDIAN, "--month", "2026-07", "--db", str(database), "--json"]) == 0
    closed_json = capsys.readouterr().out
    closed = json.loads(closed_json)
    assert (closed["score"], closed["payable_cny"], closed["status"]) == (
        "99.5",
        "158270.96",
        "closed",
    )
    # A late dispatch on 07-20 reaches the ledger after July was closed (another file).
    load(
        database,
        tmp_path,
        "late.csv",
        f"合同编号,日期,考核项目,次数\n{HAIDIAN},2026-07-20,late_dispatch,1\n",
    )
    assert main(["score", HAIDIAN, "--month", "2026-07", "--db", str(database), "--json"]) == 0
    assert capsys.readouterr().out == closed_json  # byte-identical: the closed month stands
    august = statements(database, "2026-08")
    # 0.5 points × 1,000 = 500.00 taken off August (158,770.96 → 158,270.96), citing July.
    assert august["adjustments_cny"] == "500.00"
    assert august["payable_before_adjustments_cny"] == "158770.96"
    assert august["payable_cny"] == "158270.96"
    (adjustment,) = august["adjustments"]
    assert adjustment["original_month"] == "2026-07"
    assert adjustment["rule_ids"] == ["late_dispatch"]
    assert adjustment["clauses"] == ["附件二 第四章 一 1"]
    assert [(Path(r["file"]).name, r["row"]) for r in adjustment["rows"]] == [("late.csv", 2)]
    assert august["score"] == "100.0"  # August's own score is untouched
    # The listing shows both states.
    assert main(["statements", HAIDIAN, "--db", str(database), "--json"]) == 0
    listed = {r["month"]: r for r in json.loads(capsys.readouterr().out)}
    assert (listed["2026-07"]["status"], listed["2026-07"]["version"]) == ("closed", 1)
    assert (listed["2026-08"]["status"], listed["2026-08"]["adjustments_cny"]) == ("open", "500.00")


def test_months_close_in_order_and_only_once_over(database):
    with pytest.raises(SeatscoreError, match="close 2026-06 first"):
        close(database, "2026-07")
    with pytest.raises(SeatscoreError, match="has not ended"):
        close(database, "2026-11")
    close(database, "2026-06")
    with pytest.raises(SeatscoreError, match="closed already"):
        close(database, "2026-06")


def test_a_corrected_params_file_makes_version_2_with_what_changed(database, tmp_path):
    # July closed with 0.5 points at 1,000 CNY a point (500.00). The rate is then corrected to
    # 2,000 CNY a point: July gets version 2 (1,000.00 off, payable 157,770.96) with the
    # change listed; version 1 is kept.
    close_june_and_july_with_half_a_point(database, tmp_path)
    correct_the_rate(database)
    july = statements(database, "2026-07")
    assert (july["version"], july["status"]) == (2, "closed")
    assert (july["fee_deduction_cny"], july["payable_cny"]) == ("1000.00", "157770.96")
    with db.connect(database, read_only=True) as con:
        versions = db.query(
            con,
            "SELECT version, changes FROM statements WHERE contract_id = $c AND month = '2026-07' ORDER BY version",
            c=HAIDIAN,
        )
    assert versions["version"].to_list() == [1, 2]
    changes = json.loads(versions["changes"][1])
    assert {"field": "fee_deduction_cny", "was": "500.00", "now": "1000.00"} in changes


@pytest.mark.notebook
@pytest.mark.slow
def test_report_of_a_closed_month_is_kept_when_corrected_and_the_index_says_so(database, tmp_path):
    # June 2026 closed and rendered; a corrected rate (2,000 CNY a point) makes version 2: the
    # next render keeps version 1's report as haidian-dispatch-2026.v1.html beside version 2,
    # the index marks it 更正 and links both, and the index, the report and `score` show the
    # same payable (one stored statement). A late row does not render the closed month again.
    from seatscore.batch import render

    load(
        database,
        tmp_path,
        "june.csv",
        f"合同编号,日期,考核项目,次数\n{HAIDIAN},2026-06-20,dress_code,5\n",
    )
    close(database, "2026-06")
    out = tmp_path / "reports"
    jobs = [render.RenderJob(HAIDIAN, "2026-06")]
    (first,) = render.render_all(jobs, database, out, progress=False, workers=1)
    assert first.ok, first.error
    report = out / "2026-06" / f"{HAIDIAN}.html"
    v1 = report.read_text(encoding="utf-8")
    assert "本月已结账" in v1 and "¥71,203.01" in v1  # 71,703.01 − 0.5 × 1,000
    # a late finding: the closed report is not rendered again
    load(
        database,
        tmp_path,
        "late.csv",
        f"合同编号,日期,考核项目,次数\n{HAIDIAN},2026-06-25,dress_code,1\n",
    )
    (again,) = render.render_all(jobs, database, out, progress=False, workers=1)
    assert again.skipped and report.read_text(encoding="utf-8") == v1
    correct_the_rate(database)
    (second,) = render.render_all(jobs, database, out, progress=False, workers=1)
    assert second.ok and not second.skipped, second.error
    kept = out / "2026-06" / f"{HAIDIAN}.v1.html"
    assert kept.read_text(encoding="utf-8") == v1
    v2 = report.read_text(encoding="utf-8")
    assert (
        "第 2 版（更正）" in v2 and "¥70,703.01" in v2
    )  # 0.5 × 2,000 off; the late row is not in it
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "已结账·更正" in index and f'href="2026-06/{HAIDIAN}.v1.html"' in index
    assert "¥70,703.01" in index
