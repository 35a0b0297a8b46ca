"""Files cut short, implausible or from the future are quarantined with their reason, never
loaded as if whole; hidden sheets are left out unless named.

Contract facts (params/contracts/karamay-grid-2024.yaml): service period 2024-09-20 – 2025-09-19;
posts assessor, emergency, seat; tickets need 工单编号, 受理时间, 紧急程度, 问题类别.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from test_ingest import rows, write_csv

from seatscore.ledgers import store as db
from seatscore.ledgers.ingest import ingest
from seatscore.terms.contract_files import load_contracts

K = "karamay-grid-2024"


def reasons(path: Path) -> list[tuple]:
    return rows(path, "SELECT source_row, code FROM quarantine ORDER BY source_row, code")


def test_a_file_cut_mid_row_loads_the_whole_rows_only(empty_db, tmp_path):
    # The copy stopped inside row 3's last value: "12" became "1". Row 3 is quarantined as
    # truncated (no line end after it); rows 2 is loaded.
    path = write_csv(
        tmp_path / "s.csv",
        f"合同编号,日期,岗位,应到人数,实到人数\n{K},2024-10-08,seat,12,12\n{K},2024-10-09,seat,12,1",
    )
    [result] = ingest([path], empty_db, kind="staffing", quarantine_dir=tmp_path / "q")
    assert (result.loaded, result.rejected) == (1, 1)
    assert reasons(empty_db) == [(3, "truncated")]
    assert rows(empty_db, "SELECT present FROM staffing_daily") == [(12,)]


def test_an_unterminated_quote_and_a_short_row_are_truncated(empty_db, tmp_path):
    path = write_csv(
        tmp_path / "d.csv",
        "合同编号,日期,考核项目,次数,备注\n"
        f"{K},2024-10-08,wrong_report,1,ok\n"
        f"{K},2024-10-09,wrong_report\n"
        f'{K},2024-10-10,wrong_report,2,"unfinished\n'
        f"{K},2024-10-11,wrong_report,3,swallowed\n",
    )
    [result] = ingest([path], empty_db, kind="deductions", quarantine_dir=tmp_path / "q")
    assert result.loaded == 1
    assert [code for _, code in reasons(empty_db)].count("truncated") == 2
    assert rows(empty_db, "SELECT occurrences FROM deduction_events") == [(1,)]


def test_implausible_non_finite_and_future_values_are_quarantined(empty_db, tmp_path):
    staffing = write_csv(
        tmp_path / "s.csv",
        f"合同编号,日期,岗位,应到人数,实到人数\n{K},2024-10-08,seat,8,80\n{K},2024-10-09,seat,8,9\n",
    )
    [s] = ingest([staffing], empty_db, kind="staffing", quarantine_dir=tmp_path / "q")
    assert (s.loaded, s.rejected, dict(s.reasons)) == (1, 1, {"rule": 1})
    tickets = write_csv(
        tmp_path / "t.csv",
        "合同编号,工单编号,受理时间,紧急程度,问题类别,到场距离\n"
        f"{K},T1,2024-10-08 09:00,一般,供水,1e400\n"
        f"{K},T2,2099-01-01 09:00,一般,供水,2\n"
        f"{K},T3,2024-10-08 10:00,一般,供水,3\n",
    )
    [t] = ingest([tickets], empty_db, kind="tickets", quarantine_dir=tmp_path / "q")
    assert (t.loaded, t.rejected) == (1, 2)
    assert t.reasons["future"] >= 1 and t.reasons["rule"] == 1
    assert rows(empty_db, "SELECT ticket_id FROM tickets") == [("T3",)]


def test_hidden_sheets_are_left_out_unless_named(empty_db, tmp_path):
    book = openpyxl.Workbook()
    live = book.active
    live.title = "扣分"
    old = book.create_sheet("旧版（勿用）")
    for sheet, n in ((live, 1), (old, 3)):
        sheet.append(["合同编号", "日期", "考核项目", "次数"])
        sheet.append([K, "2024-10-08", "wrong_report", n])
    old.sheet_state = "hidden"
    path = tmp_path / "扣分.xlsx"
    book.save(path)
    [result] = ingest([path], empty_db, kind="deductions")
    assert result.hidden_skipped == ["旧版（勿用）"]
    assert any("hidden sheet(s) not loaded: 旧版（勿用）" in line for line in result.lines())
    assert rows(empty_db, "SELECT occurrences FROM deduction_events") == [(1,)]
    [named] = ingest([path], empty_db, kind="deductions", sheet="旧版（勿用）")
    assert named.loaded == 1


def test_cli_says_what_happened_without_a_traceback(empty_db, tmp_path, capsys, monkeypatch):
    # Ctrl-C during a load: exit 130, a sentence, no traceback (--debug shows it).
    from seatscore import cli

    path = write_csv(
        tmp_path / "d.csv", f"合同编号,日期,考核项目,次数\n{K},2024-10-08,wrong_report,1\n"
    )

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("seatscore.ledgers.ingest.ingest", interrupted)
    argv = ["ingest", str(path), "--db", str(empty_db), "--kind", "deductions"]
    assert cli.main(argv) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err
    with pytest.raises(KeyboardInterrupt):
        cli.main(["--debug", *argv])
    # A bug is named a bug, not the user's error.
    monkeypatch.setattr("seatscore.ledgers.ingest.ingest", lambda *a, **k: 1 / 0)
    assert cli.main(argv) == 2
    assert "internal error (ZeroDivisionError" in capsys.readouterr().err


def test_a_yaml_bomb_is_refused_before_it_expands(tmp_path, capsys):
    # "billion laughs": twelve levels of ten aliases (10^12 strings if expanded). Refused at
    # once, naming the file, before anything is expanded.
    import time

    from seatscore.cli import main

    lines = ['a0: &a0 ["lol"]']
    for i in range(1, 13):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    bomb = tmp_path / "draft.yaml"
    bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.monotonic()
    assert main(["contracts", "diff", str(bomb), "params/contracts/karamay-grid-2024.yaml"]) == 2
    assert time.monotonic() - started < 5
    err = capsys.readouterr().err
    assert "120 YAML aliases" in err and "draft.yaml" in err


def test_contracts_diff_on_a_draft_missing_keys_says_so(tmp_path, capsys):
    from seatscore.cli import main

    draft = tmp_path / "draft.yaml"
    draft.write_text("buyer: {value: 某局}\n", encoding="utf-8")
    assert main(["contracts", "diff", str(draft), "params/contracts/karamay-grid-2024.yaml"]) == 2
    err = capsys.readouterr().err
    assert "missing" in err and "Traceback" not in err


def test_a_long_cell_loads_and_an_endless_one_is_named(empty_db, tmp_path):
    # A 200 KiB complaint text (over the csv module's 128 KiB default) is a cell like any other.
    text = "市民反映" * 50_000
    path = write_csv(
        tmp_path / "t.csv",
        "合同编号,工单编号,受理时间,紧急程度,问题类别,诉求内容\n"
        f"{K},T1,2024-10-08 09:00,一般,供水,{text}\n",
    )
    [result] = ingest([path], empty_db, kind="tickets")
    assert result.loaded == 1


def test_an_unwritable_quarantine_folder_does_not_claim_nothing_was_written(empty_db, tmp_path):
    # The rows are committed before the report is written: a folder that cannot be made says
    # so and where the rejected rows are, and the good row is loaded (exit 1, not 2).
    from seatscore.cli import main

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    path = write_csv(
        tmp_path / "d.csv",
        f"合同编号,日期,考核项目,次数\n{K},2024-10-08,wrong_report,1\n{K},2024-10-08,wrong_report,x\n",
    )
    args = [
        "ingest",
        str(path),
        "--db",
        str(empty_db),
        "--kind",
        "deductions",
        "--quarantine-dir",
        str(blocked / "q"),
    ]
    assert main(args) == 1
    assert rows(empty_db, "SELECT count(*) FROM deduction_events") == [(1,)]
    assert rows(empty_db, "SELECT count(DISTINCT source_row) FROM quarantine") == [(1,)]


@pytest.mark.slow
def test_a_reader_waits_for_a_writer_and_says_for_whom(empty_db, capsys):
    # Another process holds the database for two seconds (an ingest); a render's connection
    # waits for it instead of failing, and says it is waiting.
    import subprocess
    import sys
    import time

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(empty_db)!r}); print('held', flush=True); time.sleep(2)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    with db.connect(empty_db, read_only=True, wait=30) as con:
        assert con.sql("SELECT count(*) FROM contracts").fetchall() == [(5,)]
    assert time.monotonic() - started >= 0.5
    holder.wait(timeout=10)
    assert "another process (PID" in capsys.readouterr().err


def test_friction_malformed_month_nothing_to_render_and_no_empty_database(tmp_path, capsys):
    # "2018-5" is malformed, not "outside the service period"; a render with nothing to do
    # exits 2 and says why; a first ingest that fails leaves no empty database file behind.
    from seatscore.cli import main
    from seatscore.terms.periods import parse_month

    with pytest.raises(ValueError, match="not of the form YYYY-MM"):
        parse_month("2018-5")
    path = tmp_path / "new.duckdb"
    bad = write_csv(tmp_path / "x.csv", "完全不认识的列\n1\n")
    assert main(["ingest", str(bad), "--db", str(path), "--kind", "tickets"]) == 2
    assert not path.exists()
    capsys.readouterr()
    db.build(path, load_contracts(), demo_dir=None)
    assert main(["render", "--db", str(path), "--month", "2099-01", "--out", str(tmp_path)]) == 2
    assert "nothing to render" in capsys.readouterr().err
