"""Ledgers load whole or not at all; bad rows are named by file, row and column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from seatscore.core.errors import LedgerError
from seatscore.ledgers import store as db
from seatscore.ledgers.kinds import DEDUCTIONS, STAFFING, TICKETS, check_references, read_ledger
from seatscore.simulation.demo import write_demo_data


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_values_are_named_by_row_and_column(tmp_path):
    path = write(
        tmp_path / "staffing_daily.csv",
        "contract_id,service_date,post_id,required,present\n"
        "karamay-grid-2024,2024-10-01,seat,17,17\n"
        "karamay-grid-2024,2024-10-32,seat,17,16\n"
        "karamay-grid-2024,2024-10-03,seat,seventeen,16\n"
        "karamay-grid-2024,2024-10-04,seat,17,-1\n",
    )
    with pytest.raises(LedgerError) as err:
        read_ledger(path, STAFFING)
    message = str(err.value)
    assert "staffing_daily.csv" in message and "nothing was loaded" in message
    assert "row 3, column service_date: cannot read" in message
    assert "row 4, column required: cannot read" in message
    assert "row 5, column present: must not be negative" in message


def test_missing_and_unknown_columns(tmp_path):
    path = write(tmp_path / "deductions.csv", "contract_id,event_date,itemid,occurrences\n")
    with pytest.raises(
        LedgerError, match=r"missing required column\(s\) item_id; unknown column\(s\) itemid"
    ):
        read_ledger(path, DEDUCTIONS)


def test_ticket_closed_before_dispatch_is_rejected(tmp_path):
    path = write(
        tmp_path / "tickets.csv",
        "contract_id,ticket_id,received_at,dispatched_at,closed_at,priority,category\n"
        "haidian-dispatch-2026,A1,2026-07-01 23:55,2026-07-02 00:03,2026-07-02 09:00,ordinary,渣土运输\n"
        "haidian-dispatch-2026,A2,2026-07-01 10:00,2026-07-01 12:00,2026-07-01 11:00,ordinary,渣土运输\n"
        "haidian-dispatch-2026,A2,2026-07-01 10:00,,,urgent,渣土运输\n",
    )
    with pytest.raises(LedgerError) as err:
        read_ledger(path, TICKETS)
    assert "row 3, column closed_at: is before dispatched_at" in str(err.value)
    assert "row 4, column ticket_id: repeats" in str(err.value)
    assert "row 2" not in str(err.value)


def test_references_are_checked_against_the_contract(tmp_path, contracts):
    path = write(
        tmp_path / "deductions.csv",
        "contract_id,event_date,item_id,occurrences,assessed_points\n"
        "karamay-grid-2024,2024-10-01,wrong_report,1,\n"
        "karamay-grid-2024,2024-10-02,wrong_report_serious,1,20\n"
        "karamay-grid-2024,2024-10-03,no_such_item,1,\n"
        "karamay-grid-2024,2023-01-01,wrong_report,1,\n"
        "nobody-2024,2024-10-01,wrong_report,1,\n",
    )
    frame = read_ledger(path, DEDUCTIONS)
    with pytest.raises(LedgerError) as err:
        check_references(path, DEDUCTIONS, frame, contracts)
    message = str(err.value)
    # 附件2 二 (一): serious wrong reports are 5–15 points at the buyer's discretion.
    assert "row 3, column assessed_points: 20.00 is outside 5–15" in message
    assert "row 4, column item_id: karamay-grid-2024 has no rule item 'no_such_item'" in message
    assert "row 5, column event_date: outside karamay-grid-2024's service period" in message
    assert "row 6, column contract_id: unknown contract 'nobody-2024'" in message
    assert message.index("row 3,") < message.index("row 5,")


def table_rows(path: Path) -> dict[str, list]:
    with db.connect(path, read_only=True) as con:
        return {
            t: sorted(con.sql(f"SELECT * EXCLUDE (source) FROM {t}").fetchall(), key=repr)
            for t in db.LEDGER_TABLES
        }


@pytest.mark.slow
def test_build_twice_gives_the_same_database(tmp_path, contracts):
    write_demo_data(contracts, seed=3, out_dir=tmp_path / "demo")
    path = tmp_path / "s.duckdb"
    first = db.build(path, contracts, demo_dir=tmp_path / "demo")
    rows = table_rows(path)
    second = db.build(path, contracts, demo_dir=tmp_path / "demo")
    assert first == second and first["tickets"] > 100_000
    assert table_rows(path) == rows


@pytest.mark.slow
def test_build_without_demo_keeps_contracts_only(tmp_path, contracts):
    write_demo_data(contracts, seed=3, out_dir=tmp_path / "demo")
    path = tmp_path / "s.duckdb"
    db.build(path, contracts, demo_dir=tmp_path / "demo")
    counts = db.build(path, contracts, demo_dir=None)
    assert counts["contracts"] == 5 and counts["posts"] == 17
    assert all(counts[t] == 0 for t in db.LEDGER_TABLES)


@pytest.mark.slow
def test_failed_build_leaves_the_database_as_it_was(tmp_path, contracts):
    write_demo_data(contracts, seed=3, out_dir=tmp_path / "demo")
    path = tmp_path / "s.duckdb"
    db.build(path, contracts, demo_dir=tmp_path / "demo")
    before = table_rows(path)
    bad = tmp_path / "bad"
    shutil.copytree(tmp_path / "demo", bad)
    tickets = bad / "karamay-grid-2024" / "tickets.csv"
    lines = tickets.read_text(encoding="utf-8").splitlines()
    lines[500] = lines[500].replace(",ordinary,", ",whenever,")
    tickets.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LedgerError, match=r"tickets\.csv.*\n.*row 501, column priority"):
        db.build(path, contracts, demo_dir=bad)
    assert table_rows(path) == before


def test_demo_data_is_deterministic(tmp_path, contracts):
    a = write_demo_data(contracts, seed=5, out_dir=tmp_path / "a")
    b = write_demo_data(contracts, seed=5, out_dir=tmp_path / "b")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    c = write_demo_data(contracts, seed=6, out_dir=tmp_path / "c")
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]


def test_every_table_and_column_says_what_it_holds(empty_db):
    # The comments come from the schema's own text (ledger kinds' column docs, the DDL's `--`
    # comments), so an analyst can ask the database instead of reading the code.
    from seatscore.compute import closing

    with db.connect(empty_db) as con:
        closing.ensure(con)
        tables = dict(con.sql("SELECT table_name, comment FROM duckdb_tables()").fetchall())
        columns = con.sql(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE NOT internal"
        ).fetchall()
    assert {"tickets", "calls_offered", "statements", "loads", "quarantine"} <= set(tables)
    assert all(tables.values()), [t for t, c in tables.items() if not c]
    assert not [(t, c) for t, c, comment in columns if not comment]
    assert tables["tickets"].startswith("工单台账: Work orders")
    comment = {(t, c): m for t, c, m in columns}
    assert comment[("tickets", "due_at")].startswith("the ticket's own deadline")
    assert comment[("quarantine", "source_row")].startswith("as the file counts it")
