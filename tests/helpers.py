"""Tiny hand-built ledgers for tests."""

from __future__ import annotations

import datetime as dt

import polars as pl

from seatscore.compute.metrics import monthly_metrics
from seatscore.ledgers.kinds import KINDS


def ledger(kind: str, rows: list[dict] | None = None) -> pl.DataFrame:
    """A ledger frame of ``kind`` with the canonical columns; missing optional values are null."""
    spec = KINDS[kind]
    full = [{c.name: r.get(c.name) for c in spec.columns} for r in rows or []]
    return pl.DataFrame(full, schema=spec.schema, orient="row")


def staffing_days(
    contract_id: str, post_id: str, start: dt.date, days: int, required: int, present: int
) -> list[dict]:
    return [
        {
            "contract_id": contract_id,
            "service_date": start + dt.timedelta(days=i),
            "post_id": post_id,
            "required": required,
            "present": present,
        }
        for i in range(days)
    ]


def roster_days(
    contract_id: str, post_id: str, start: dt.date, days: int, on_roster: int
) -> list[dict]:
    """Daily-form roster rows: ``on_roster`` persons on ``post_id`` for ``days`` days."""
    return [
        {
            "contract_id": contract_id,
            "post_id": post_id,
            "service_date": start + dt.timedelta(days=i),
            "on_roster": on_roster,
        }
        for i in range(days)
    ]


def run(
    contract,
    staffing=None,
    deductions=None,
    penalties=None,
    tickets=None,
    roster=None,
    payments=None,
):
    """Monthly metrics of ``contract`` from hand-built ledgers; a missing ledger is empty."""
    return monthly_metrics(
        contract,
        staffing if staffing is not None else ledger("staffing"),
        deductions if deductions is not None else ledger("deductions"),
        penalties if penalties is not None else ledger("penalties"),
        tickets if tickets is not None else ledger("tickets"),
        roster=roster if roster is not None else ledger("roster"),
        payments=payments if payments is not None else ledger("payments"),
    )


def at(text: str) -> dt.datetime:
    """``2024-05-06 09:00`` (Beijing time) as a datetime."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M")


def ticket(cid: str, tid: str, received: str, **fields) -> dict:
    """One tickets-ledger row; ``*_at`` fields are written ``YYYY-MM-DD HH:MM``."""
    row = {
        "contract_id": cid,
        "ticket_id": tid,
        "received_at": at(received),
        "priority": fields.pop("priority", "ordinary"),
        "category": fields.pop("category", "其他"),
    }
    for key, value in fields.items():
        row[key] = at(value) if key.endswith("_at") and value is not None else value
    return row


def figure(kpis: pl.DataFrame, period: str, key: str) -> dict:
    """The row of ``key`` for ``period`` in a KPI frame, as a dict."""
    return kpis.filter(pl.col("period") == period, pl.col("key") == key).row(0, named=True)


def published_erlang_settings(**changed):
    """The staffing check set as call-centre staffing tools' published worked example states it
    (80 % of calls answered in 20 s, 120 s a call, occupancy at most 85 %, shrinkage 30 %),
    half-hour intervals, 40 hours a person-week; ``changed`` overrides a field."""
    from seatscore.compute.service_levels import AdequacySettings

    fields = {
        "handle_seconds": 120,
        "target_share": 0.8,
        "answer_within_seconds": 20,
        "max_occupancy": 0.85,
        "shrinkage": 0.3,
        "interval_minutes": 30,
        "hours_per_person_week": 40,
    }
    return AdequacySettings(**(fields | changed))
