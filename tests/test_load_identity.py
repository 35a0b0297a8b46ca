"""A load is its content and its parameters, never its file name: no month is lost when two
exports share a name, a typo in --contract does not block the right load, and correcting one
file keeps the rows another file also holds.

Contract facts (params/contracts/karamay-grid-2024.yaml): service period 2024-09-20 – 2025-09-19;
附件2 二 (一) wrong_report 测评错报, 0.5 points per case. Tickets have the natural key (contract,
ticket id).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_ingest import rows, write_csv

from seatscore.cli import main
from seatscore.core.errors import IngestError
from seatscore.ledgers import store as db
from seatscore.ledgers.ingest import ingest

K = "karamay-grid-2024"
HEADER = "合同编号,工单编号,受理时间,紧急程度,问题类别\n"


def tickets(ids: range, month: str) -> str:
    return HEADER + "".join(f"{K},T{i},{month}-08 09:00,一般,供水\n" for i in ids)


def test_two_exports_with_the_same_name_are_two_loads(empty_db, tmp_path, monkeypatch):
    # October's and November's exports are both called tickets.csv, in two folders, each loaded
    # from its own folder as typed: both months stay (10 + 10 rows), exit 0.
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    write_csv(tmp_path / "A" / "tickets.csv", tickets(range(10), "2024-10"))
    write_csv(tmp_path / "B" / "tickets.csv", tickets(range(10, 20), "2024-11"))
    monkeypatch.chdir(tmp_path / "A")
    [a] = ingest([Path("tickets.csv")], empty_db, kind="tickets")
    monkeypatch.chdir(tmp_path / "B")
    [b] = ingest([Path("tickets.csv")], empty_db, kind="tickets")
    assert (a.status, b.status, a.loaded, b.loaded) == ("loaded", "loaded", 10, 10)
    assert rows(empty_db, "SELECT count(*) FROM tickets") == [(20,)]


def test_a_contract_typo_does_not_block_the_right_contract(empty_db, tmp_path):
    # A staffing sheet without a contract column, loaded first with a mistyped --contract: every
    # row is rejected. Loaded again with the right id it is a different load and its 5 rows load.
    sheet = write_csv(
        tmp_path / "s.csv",
        "日期,岗位,应到人数,实到人数\n"
        + "".join(f"2024-10-0{d},seat,17,17\n" for d in range(1, 6)),
    )
    [typo] = ingest([sheet], empty_db, kind="staffing", contract_id="karamay-grid-2042")
    assert (typo.loaded, typo.rejected) == (0, 5)
    [right] = ingest([sheet], empty_db, kind="staffing", contract_id=K)
    assert (right.status, right.loaded) == ("loaded", 5)
    [again] = ingest([sheet], empty_db, kind="staffing", contract_id=K)
    assert again.status == "unchanged"


def test_correcting_a_file_keeps_rows_another_file_holds(empty_db, tmp_path):
    # first.csv holds T1, T2, T3; second.csv (a later export) holds T3 and T4. first.csv is then
    # corrected to T1 and T2 with another category. T3 stays: second.csv still holds it. And
    # second.csv loaded again is recognised as unchanged, not lost.
    first = write_csv(tmp_path / "first.csv", tickets(range(1, 4), "2024-10"))
    second = write_csv(tmp_path / "second.csv", tickets(range(3, 5), "2024-10"))
    [one] = ingest([first], empty_db, kind="tickets")
    [two] = ingest([second], empty_db, kind="tickets")
    assert (two.loaded, two.already) == (1, 1)
    write_csv(first, HEADER + "".join(f"{K},T{i},2024-10-08 09:00,一般,排水\n" for i in (1, 2)))
    [fixed] = ingest([first], empty_db, kind="tickets", replaces=one.load_id)
    assert (fixed.status, fixed.replaced_load, fixed.loaded) == ("replaced", one.load_id, 2)
    got = rows(empty_db, "SELECT ticket_id, category, load_id FROM tickets ORDER BY ticket_id")
    assert got == [
        ("T1", "排水", fixed.load_id),
        ("T2", "排水", fixed.load_id),
        ("T3", "供水", two.load_id),  # handed to the load that also holds it
        ("T4", "供水", two.load_id),
    ]
    [again] = ingest([second], empty_db, kind="tickets")
    assert again.status == "unchanged"


def test_a_changed_file_without_replaces_is_a_conflict_that_names_the_load(empty_db, tmp_path):
    path = write_csv(tmp_path / "t.csv", tickets(range(1, 3), "2024-10"))
    [one] = ingest([path], empty_db, kind="tickets")
    write_csv(path, HEADER + f"{K},T1,2024-10-08 09:00,一般,排水\n")
    [two] = ingest([path], empty_db, kind="tickets", quarantine_dir=tmp_path / "q")
    assert (two.status, two.loaded, two.rejected) == ("loaded", 0, 1)
    reason = rows(empty_db, "SELECT reason FROM quarantine")[0][0]
    assert f"--replaces {one.load_id}" in reason
    assert rows(empty_db, "SELECT category FROM tickets ORDER BY ticket_id") == [
        ("供水",),
        ("供水",),
    ]


def test_replaces_must_name_an_active_load_of_the_same_kind(empty_db, tmp_path):
    path = write_csv(tmp_path / "t.csv", tickets(range(1, 2), "2024-10"))
    [one] = ingest([path], empty_db, kind="tickets")
    deductions = write_csv(
        tmp_path / "d.csv", f"合同编号,日期,考核项目,次数\n{K},2024-10-08,wrong_report,1\n"
    )
    with pytest.raises(IngestError, match="is a tickets ledger"):
        ingest([deductions], empty_db, kind="deductions", replaces=one.load_id)
    with pytest.raises(IngestError, match="no such ingested load"):
        ingest([path], empty_db, kind="tickets", replaces=99)


def test_loads_lists_files_rows_and_state(empty_db, tmp_path, capsys):
    path = write_csv(tmp_path / "t.csv", tickets(range(1, 3), "2024-10"))
    [one] = ingest([path], empty_db, kind="tickets")
    write_csv(path, tickets(range(1, 4), "2024-10"))
    assert (
        main(
            [
                "ingest",
                str(path),
                "--db",
                str(empty_db),
                "--kind",
                "tickets",
                "--replaces",
                str(one.load_id),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["loads", "--db", str(empty_db), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["load_id"], r["state"], r["rows"]) for r in listed] == [
        (one.load_id, "replaced", 2),
        (one.load_id + 1, "active", 3),
    ]


def test_a_database_from_before_load_ids_gets_them_in_place(empty_db, tmp_path):
    # A database an older Seatscore wrote has no load_id on its ledger rows and no
    # contract_option on its loads: both are added in place, and each ingested row gets the
    # active load of its file, so nothing needs rebuilding and no row is lost.
    path = write_csv(tmp_path / "t.csv", tickets(range(1, 3), "2024-10"))
    [one] = ingest([path], empty_db, kind="tickets")
    with db.connect(empty_db) as con:
        con.execute("ALTER TABLE tickets DROP COLUMN load_id")
        con.execute("ALTER TABLE loads DROP COLUMN contract_option")
    write_csv(tmp_path / "u.csv", tickets(range(5, 6), "2024-10"))
    [two] = ingest([tmp_path / "u.csv"], empty_db, kind="tickets")
    got = rows(empty_db, "SELECT ticket_id, load_id FROM tickets ORDER BY ticket_id")
    assert got == [("T1", one.load_id), ("T2", one.load_id), ("T5", two.load_id)]
