"""Ticket statuses: duplicates, transfers and cancellations count as received, not as service.

Seven tickets of March 2024 for 001 (Shijingshan: ordinary tickets dispatched within 30 minutes,
一 1 (2)). The data's cut-off is the latest event time, B's close at 03-04 10:00. A 311 system
closes a duplicate the moment it is filed (C): counted, it would be a ticket closed by its due
time in 0 hours. A duplicate is set aside from receipt; a cancellation or transfer once closed
(G, cancelled but never closed, is open like any other and overdue).

| ticket | received    | due         | closed      | status      | closed by due | hours |
|--------|-------------|-------------|-------------|-------------|---------------|-------|
| A      | 03-01 09:00 | 03-03 09:00 | 03-02 09:00 | closed      | met           | 24    |
| B      | 03-01 10:00 | 03-02 10:00 | 03-04 10:00 | closed      | missed        | 72    |
| C      | 03-01 11:00 | 03-02 11:00 | 03-01 11:00 | duplicate   | set aside     | (0)   |
| D      | 03-02 08:00 | 03-03 08:00 | 03-02 12:00 | cancelled   | set aside     | (4)   |
| E      | 03-02 09:00 | 03-03 09:00 | 03-02 15:00 | transferred | set aside     | (6)   |
| F      | 03-01 12:00 | none        | 03-01 18:00 | none        | unmeasured    | 6     |
| G      | 03-02 10:00 | 03-03 10:00 | open        | cancelled   | missed        | —     |

tickets 7, set aside 3 (C, D, E). closed_by_due_share = 1 met (A) / (1 met + 2 missed (B, G)) =
1/3; with every ticket counted it would be 4 met (A, C, D, E) / 6 (B and G missed). Hours to
close of A, B, F: 6, 24, 72 → median 24.0; 90th percentile, linear: position 0.9 × (3 − 1) = 1.8,
24 + 0.8 × (72 − 24) = 62.4. C was dispatched 45 minutes after receipt: a duplicate is still held
to the dispatch limit (000 附件二 第四章 一 1 deducts for every late document), so the ordinary
dispatch target counts it missed.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import duckdb
import polars as pl
import pytest

from seatscore.compute import service_levels as sl
from seatscore.core.errors import IngestError
from seatscore.ledgers.ingest import ingest, load_profile
from seatscore.ledgers.kinds import as_of
from seatscore.reporting import explore
from seatscore.reporting.service_report import set_aside_note

from helpers import figure, ledger, ticket

D001 = "shijingshan-hotline-2024"


def march_tickets(with_status: bool = True) -> pl.DataFrame:
    rows = [
        ("A", "2024-03-01 09:00", "2024-03-03 09:00", "2024-03-02 09:00", "closed"),
        ("B", "2024-03-01 10:00", "2024-03-02 10:00", "2024-03-04 10:00", "closed"),
        ("C", "2024-03-01 11:00", "2024-03-02 11:00", "2024-03-01 11:00", "duplicate"),
        ("D", "2024-03-02 08:00", "2024-03-03 08:00", "2024-03-02 12:00", "cancelled"),
        ("E", "2024-03-02 09:00", "2024-03-03 09:00", "2024-03-02 15:00", "transferred"),
        ("F", "2024-03-01 12:00", None, "2024-03-01 18:00", None),
        ("G", "2024-03-02 10:00", "2024-03-03 10:00", None, "cancelled"),
    ]
    return ledger(
        "tickets",
        [
            ticket(
                D001,
                tid,
                received,
                due_at=due,
                closed_at=closed,
                dispatched_at="2024-03-01 11:45" if tid == "C" else None,
                status=status if with_status else None,
            )
            for tid, received, due, closed, status in rows
        ],
    )


def test_set_aside_tickets_count_as_received_but_not_in_rates_or_times(contracts):
    kpis = sl.ticket_kpis(contracts[D001], march_tickets())
    assert figure(kpis, "2024-03", "tickets")["value"] == 7
    assert figure(kpis, "2024-03", "set_aside")["value"] == 3
    share = figure(kpis, "2024-03", "closed_by_due_share")
    assert (share["numerator"], share["denominator"], share["unmeasured"]) == (1, 3, 1)
    assert share["value"] == pytest.approx(1 / 3)
    median, p90 = (figure(kpis, "2024-03", k) for k in ("close_hours_median", "close_hours_p90"))
    assert (median["value"], median["denominator"]) == (pytest.approx(24.0), 3)
    assert p90["value"] == pytest.approx(62.4)
    # The late-ticket evidence: B, and G, cancelled but never closed (still open, overdue).
    tickets = march_tickets()
    cut = sl.as_of_time(tickets)  # 03-04 10:00
    late = tickets.filter(sl.missed(contracts[D001], "closed_by_due_share", cut))
    assert late["ticket_id"].to_list() == ["B", "G"]
    # The duplicate C is still held to the dispatch limit: its 45 minutes miss the 30.
    [ordinary] = [
        m.key
        for m in sl.contract_measures(contracts[D001])
        if m.metric == "dispatch_minutes" and m.priority == "ordinary"
    ]
    dispatch = figure(kpis, "2024-03", ordinary)
    assert (dispatch["numerator"], dispatch["denominator"]) == (0, 1)
    assert figure(kpis, "2024-03", "dispatch_minutes_median")["value"] == pytest.approx(45.0)


def test_the_same_tickets_without_statuses_count_every_ticket_and_set_aside_is_unknown(
    contracts,
):
    kpis = sl.ticket_kpis(contracts[D001], march_tickets(with_status=False))
    share = figure(kpis, "2024-03", "closed_by_due_share")
    assert (share["numerator"], share["denominator"]) == (4, 6)  # A, C, D, E of A–E and G
    aside = figure(kpis, "2024-03", "set_aside")
    assert aside["value"] is None and "未记录工单状态" in aside["note"]  # unknown, not 0
    assert figure(kpis, "2024-04", "set_aside")["value"] == 0  # no ticket at all: none


def test_a_duplicate_is_set_aside_from_receipt_a_cancellation_once_closed():
    # As of the end of 03-03: C (duplicate), D (cancelled 03-02) and E (transferred 03-02) are
    # set aside; G, cancelled but never closed, is not. Closed on 03-04 instead, C is still set
    # aside (a duplicate repeats a filing) but D is not yet: its cancellation is not known.
    def aside(frame: pl.DataFrame) -> list[str]:
        seen = as_of("tickets", frame, dt.date(2024, 3, 3))
        return sorted(seen.filter(sl.set_aside())["ticket_id"].to_list())

    frame = march_tickets()
    assert aside(frame) == ["C", "D", "E"]
    later = frame.with_columns(
        pl.when(pl.col("ticket_id").is_in(["C", "D"]))
        .then(dt.datetime(2024, 3, 4, 9))
        .otherwise(pl.col("closed_at"))
        .alias("closed_at")
    )
    assert aside(later) == ["C", "E"]


def test_the_report_says_how_many_tickets_were_set_aside_and_why():
    ctx = SimpleNamespace(month_tickets=march_tickets())
    assert set_aside_note(ctx) == (
        "本月受理的 7 张工单中 3 张标为重复、转出或撤销（重复 1 张、转出 1 张、撤销 1 张），"
        "计入受理量、话务量与派发考核，不计入回复、办结、解决、满意等比率和办结用时。"
    )
    assert set_aside_note(SimpleNamespace(month_tickets=march_tickets(False))) == ""


STATUS_CSV = (
    "工单编号,受理时间,办结时间,紧急程度,问题类别,工单状态,合同编号\n"
    f"S1,2024-03-01 09:00,2024-03-02 09:00,一般,供水,已办结,{D001}\n"
    f"S2,2024-03-01 10:00,2024-03-01 10:00,一般,供水,重复件,{D001}\n"
    f"S3,2024-03-01 11:00,2024-03-03 11:00,一般,供水,Closed,{D001}\n"
    f"S4,2024-03-01 12:00,,一般,供水,In Progress,{D001}\n"
    f"S5,2024-03-01 13:00,,一般,供水,撤销,{D001}\n"
    f"S6,2024-03-01 14:00,,一般,供水,待定,{D001}\n"
)


def test_statuses_are_read_in_chinese_and_english_and_an_unknown_one_is_quarantined(
    empty_db, tmp_path
):
    path = tmp_path / "tickets.csv"
    path.write_text(STATUS_CSV, encoding="utf-8")
    [result] = ingest([path], empty_db, kind="tickets")
    assert (result.loaded, result.rejected) == (5, 1)
    with duckdb.connect(str(empty_db), read_only=True) as con:
        assert con.sql("SELECT ticket_id, status FROM tickets ORDER BY 1").fetchall() == [
            ("S1", "closed"),
            ("S2", "duplicate"),
            ("S3", "closed"),
            ("S4", "open"),
            ("S5", "cancelled"),
        ]
        [(row, column, reason)] = con.sql(
            "SELECT source_row, column_name, reason FROM quarantine"
        ).fetchall()
    assert (row, column) == (7, "工单状态") and "values:" in reason
    # The explorer's figures leave the duplicate S2 out of everything but the count and the
    # dispatch time (S5, cancelled but not closed, is still open): hours to close of S1 and S3,
    # 24 and 48 → 36.0 (with S2's 0 hours it would be 24.0).
    with duckdb.connect(str(empty_db), read_only=True) as con:
        [row] = explore.measures(con, {}, [D001], by="month").iter_rows(named=True)
    assert row["受理工单数"] == 5 and row["办结用时中位数"] == pytest.approx(36.0)
    with duckdb.connect(str(empty_db), read_only=True) as con:  # the analyst reads them in Chinese
        picked = explore.selected_tickets(con, {}, [D001])
    assert sorted(picked["工单状态"].to_list()) == ["办理中", "已办结", "已办结", "撤销", "重复"]


def test_an_extract_fills_a_mapped_column_only_where_its_pattern_matches(empty_db, tmp_path):
    # 311's duplicates are said in the resolution text while the status column says Open.
    path = tmp_path / "311.csv"
    path.write_text(
        "key,created,status,resolution\n"
        "N1,2024-03-01T09:00:00.000,Open,The complaint you filed is a duplicate of another\n"
        "N2,2024-03-01T10:00:00.000,Open,Inspection scheduled\n"
        "N3,2024-03-01T11:00:00.000,Closed,\n",
        encoding="utf-8",
    )
    profile = tmp_path / "311.yaml"
    text = (
        "kind: tickets\n"
        "rename: {key: ticket_id, created: received_at, status: status}\n"
        f"constants: {{contract_id: {D001}, priority: ordinary, category: Noise}}\n"
        "extract:\n"
        "  status: {source: resolution, pattern: '(?i)\\b(duplicate)\\b'}\n"
    )
    profile.write_text(text + "ignore: [resolution]\n", encoding="utf-8")
    with pytest.raises(IngestError, match="ignore: 'resolution' is read"):
        load_profile(profile)
    profile.write_text(text, encoding="utf-8")
    [result] = ingest([path], empty_db, profile_path=profile)
    assert (result.loaded, result.rejected) == (3, 0)
    with duckdb.connect(str(empty_db), read_only=True) as con:
        found = con.sql("SELECT ticket_id, status FROM tickets ORDER BY 1").fetchall()
    assert found == [("N1", "duplicate"), ("N2", "open"), ("N3", "closed")]
