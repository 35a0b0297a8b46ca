"""Times as exports write them: ISO 8601 by default, offsets converted to Beijing time, and one
clear pointer to `formats:` when no value of a column can be read (issue: any city's export)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from seatscore.ledgers.kinds import TICKETS, parse_values


def tickets(received: list[str]) -> pl.DataFrame:
    n = len(received)
    return pl.DataFrame(
        {
            "contract_id": ["c"] * n,
            "ticket_id": [f"t{i}" for i in range(n)],
            "received_at": received,
            "priority": ["ordinary"] * n,
            "category": ["道路"] * n,
        }
    )


def test_iso_8601_is_read_by_default_and_offsets_become_beijing_time():
    typed, problems = parse_values(
        TICKETS,
        tickets(
            [
                "2024-04-16T03:03:15.000",  # an SF311-style export: taken as written
                "2024-04-16T03:03",
                "2024-04-16T03:03:15Z",  # UTC: Beijing is 8 hours ahead, 11:03:15
                "2024-04-16T11:03:15.5+08:00",  # already Beijing time
                "2024-04-15T23:30:00-04:00",  # New York 23:30 = 03:30 UTC = 11:30 Beijing, next day
            ]
        ),
    )
    assert problems == []
    assert typed["received_at"].to_list() == [
        dt.datetime(2024, 4, 16, 3, 3, 15),
        dt.datetime(2024, 4, 16, 3, 3),
        dt.datetime(2024, 4, 16, 11, 3, 15),
        dt.datetime(2024, 4, 16, 11, 3, 15, 500000),
        dt.datetime(2024, 4, 16, 11, 30),
    ]


def test_a_column_no_value_of_which_can_be_read_names_formats():
    _, problems = parse_values(TICKETS, tickets(["16.04.2024 03:03", "17.04.2024 09:10"]))
    assert [p.index for p in problems] == [0, 1]
    assert all("formats: {received_at: '%d/%m/%Y %H:%M'}" in p.reason for p in problems)
    assert "Polars/chrono format codes" in problems[0].reason


def test_one_bad_value_among_good_ones_is_only_that_row():
    _, problems = parse_values(TICKETS, tickets(["2024-04-16 03:03", "16.04.2024 03:03"]))
    assert [(p.index, p.code) for p in problems] == [(1, "unreadable")]
    assert "formats:" not in problems[0].reason
