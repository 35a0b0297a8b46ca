"""Tiny hand-built ledgers for tests."""

from __future__ import annotations

import datetime as dt

import polars as pl

from seatscore.ledgers import KINDS
from seatscore.metrics import monthly_metrics


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


def run(contract, staffing=None, deductions=None, penalties=None, tickets=None):
    """Monthly metrics of ``contract`` from hand-built ledgers; a missing ledger is empty."""
    return monthly_metrics(
        contract,
        staffing if staffing is not None else ledger("staffing"),
        deductions if deductions is not None else ledger("deductions"),
        penalties if penalties is not None else ledger("penalties"),
        tickets if tickets is not None else ledger("tickets"),
    )
