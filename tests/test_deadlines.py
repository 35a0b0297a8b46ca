"""Per-ticket deadlines (办理时限, 311's DueDate) and time to close, worked out by hand.

Six tickets of March 2024 for 001 (Shijingshan). The data's cut-off is the latest event time,
C's close at 03-04 11:00.

| ticket | received    | due (办理时限) | closed      | closed by due      | hours to close |
|--------|-------------|--------------|-------------|--------------------|----------------|
| A      | 03-01 09:00 | 03-03 09:00  | 03-02 09:00 | met                | 24             |
| B      | 03-01 10:00 | 03-02 10:00  | 03-02 10:00 | met (at the due)   | 24             |
| C      | 03-01 11:00 | 03-02 11:00  | 03-04 11:00 | missed             | 72             |
| D      | 03-02 08:00 | 03-03 08:00  | open        | missed (overdue)   | —              |
| E      | 03-04 09:00 | 03-10 09:00  | open        | pending (not due)  | —              |
| F      | 03-01 12:00 | none         | 03-01 18:00 | unmeasured         | 6              |

closed_by_due_share = 2 met / (2 met + 2 missed) = 0.5. Hours to close of the 4 closed tickets:
6, 24, 24, 72 → median (24 + 24) / 2 = 24.0; 90th percentile, linear like the dispatch-time
one: position 0.9 × (4 − 1) = 2.7, 24 + 0.7 × (72 − 24) = 57.6.
"""

from __future__ import annotations

import json

import pytest

from seatscore.cli import main
from seatscore.compute import service_levels as sl

from helpers import figure, ledger, ticket

D001 = "shijingshan-hotline-2024"


def march_tickets():
    return ledger(
        "tickets",
        [
            ticket(
                D001,
                "A",
                "2024-03-01 09:00",
                due_at="2024-03-03 09:00",
                closed_at="2024-03-02 09:00",
            ),
            ticket(
                D001,
                "B",
                "2024-03-01 10:00",
                due_at="2024-03-02 10:00",
                closed_at="2024-03-02 10:00",
            ),
            ticket(
                D001,
                "C",
                "2024-03-01 11:00",
                due_at="2024-03-02 11:00",
                closed_at="2024-03-04 11:00",
            ),
            ticket(D001, "D", "2024-03-02 08:00", due_at="2024-03-03 08:00"),
            ticket(D001, "E", "2024-03-04 09:00", due_at="2024-03-10 09:00"),
            ticket(D001, "F", "2024-03-01 12:00", closed_at="2024-03-01 18:00"),
        ],
    )


def test_closed_by_due_counts_met_late_open_past_due_pending_and_no_due(contracts):
    kpis = sl.ticket_kpis(contracts[D001], march_tickets())
    share = figure(kpis, "2024-03", "closed_by_due_share")
    assert (share["numerator"], share["denominator"]) == (2, 4)
    assert (share["pending"], share["unmeasured"]) == (1, 1)
    assert share["value"] == pytest.approx(0.5)


def test_time_to_close_median_and_90th_percentile(contracts):
    kpis = sl.ticket_kpis(contracts[D001], march_tickets())
    median = figure(kpis, "2024-03", "close_hours_median")
    p90 = figure(kpis, "2024-03", "close_hours_p90")
    assert median["value"] == pytest.approx(24.0) and median["denominator"] == 4
    assert p90["value"] == pytest.approx(57.6) and median["unit"] == "hours"


def test_a_source_without_deadlines_has_no_closed_by_due_figure(contracts):
    # Undefined, not zero: no ticket carries a due time.
    tickets = ledger(
        "tickets", [ticket(D001, "A", "2024-03-01 09:00", closed_at="2024-03-02 09:00")]
    )
    share = figure(sl.ticket_kpis(contracts[D001], tickets), "2024-03", "closed_by_due_share")
    assert share["value"] is None and share["unmeasured"] == 1


def test_kpis_json_of_an_export_with_its_own_deadline_column(empty_db, tmp_path, capsys):
    # The Chinese header 办理时限 is read as due_at; the figures reach `seatscore kpis --json`.
    rows = [
        "工单编号,受理时间,办理时限,办结时间,紧急程度,问题类别",
        "A,2024-03-01 09:00,2024-03-03 09:00,2024-03-02 09:00,一般,道路",
        "B,2024-03-01 10:00,2024-03-02 10:00,2024-03-02 10:00,一般,道路",
        "C,2024-03-01 11:00,2024-03-02 11:00,2024-03-04 11:00,一般,道路",
        "D,2024-03-02 08:00,2024-03-03 08:00,,一般,道路",
        "E,2024-03-04 09:00,2024-03-10 09:00,,一般,道路",
        "F,2024-03-01 12:00,,2024-03-01 18:00,一般,道路",
    ]
    path = tmp_path / "工单.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    db = str(empty_db)
    assert main(["ingest", str(path), "--kind", "tickets", "--contract", D001, "--db", db]) == 0
    capsys.readouterr()
    assert main(["kpis", D001, "--month", "2024-03", "--db", db, "--json"]) == 0
    figures = {f["key"]: f for f in json.loads(capsys.readouterr().out)["metrics"]}
    share = figures["closed_by_due_share"]
    assert (share["value"], share["numerator"], share["tickets"]) == (0.5, 2, 4)
    assert (share["pending"], share["unmeasured"]) == (1, 1)
    assert figures["close_hours_median"]["value"] == pytest.approx(24.0)
    assert figures["close_hours_p90"]["value"] == pytest.approx(57.6)


def test_a_database_from_before_due_at_gains_the_column_and_keeps_its_rows(
    empty_db, tmp_path, contracts
):
    from seatscore.core import config
    from seatscore.ledgers import store as db

    first = tmp_path / "a.csv"
    first.write_text(
        "工单编号,受理时间,紧急程度,问题类别\nA,2024-03-01 09:00,一般,道路\n", encoding="utf-8"
    )
    assert (
        main(["ingest", str(first), "--kind", "tickets", "--contract", D001, "--db", str(empty_db)])
        == 0
    )
    with db.connect(empty_db) as con:  # as an older Seatscore left it
        con.execute("ALTER TABLE tickets DROP COLUMN due_at")
    with db.connect(empty_db, read_only=True) as con:  # opening for writing will add it
        assert db.rebuild_reasons(con, contracts, config.CONTRACTS_DIR) == []
    second = tmp_path / "b.csv"
    second.write_text(
        "工单编号,受理时间,办理时限,紧急程度,问题类别\nB,2024-03-02 09:00,2024-03-05 09:00,一般,道路\n",
        encoding="utf-8",
    )
    assert (
        main(
            ["ingest", str(second), "--kind", "tickets", "--contract", D001, "--db", str(empty_db)]
        )
        == 0
    )
    with db.connect(empty_db, read_only=True) as con:
        rows = con.sql("SELECT ticket_id, due_at FROM tickets ORDER BY 1").fetchall()
    assert [(r[0], r[1] is not None) for r in rows] == [("A", False), ("B", True)]


def test_the_report_lists_tickets_past_their_own_deadline(empty_db, tmp_path):
    # As of the end of March (the report's cut-off): C closed after its due, D and E still open
    # past theirs (E was due 03-10); A, B closed in time, F has no deadline.
    from seatscore.reporting import report

    rows = [
        "工单编号,受理时间,办理时限,办结时间,紧急程度,问题类别",
        "A,2024-03-01 09:00,2024-03-03 09:00,2024-03-02 09:00,一般,道路",
        "B,2024-03-01 10:00,2024-03-02 10:00,2024-03-02 10:00,一般,道路",
        "C,2024-03-01 11:00,2024-03-02 11:00,2024-03-04 11:00,一般,道路",
        "D,2024-03-02 08:00,2024-03-03 08:00,,一般,道路",
        "E,2024-03-04 09:00,2024-03-10 09:00,,一般,道路",
        "F,2024-03-01 12:00,,2024-03-01 18:00,一般,道路",
    ]
    path = tmp_path / "工单.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    db = str(empty_db)
    assert main(["ingest", str(path), "--kind", "tickets", "--contract", D001, "--db", db]) == 0
    table = report.problem_tickets(report.load_context(empty_db, D001, "2024-03"))
    listed = table._tbl_data.select("工单编号", "问题").rows()  # great_tables keeps the frame
    assert sorted(listed) == [("C", "超过办理时限"), ("D", "超过办理时限"), ("E", "超过办理时限")]
