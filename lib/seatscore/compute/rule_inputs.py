"""What a rule kind's points function reads and returns (:mod:`seatscore.compute.rules`).

:class:`RuleInputs` holds one contract's ledgers as the engine prepared them; a points function
returns a frame of :data:`ITEM_SCHEMA` (points per month: ``month`` YYYY-MM, ``occurrences``,
``points`` on the 100-point sheet, ``detail_zh``, ``rows``: the ledger rows behind them) and the
months it could not assess, each built by :func:`unassessable`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from seatscore.compute import staffing as staffing_mod
from seatscore.core.money import POINTS
from seatscore.ledgers.kinds import ROWS
from seatscore.terms.contracts import Contract
from seatscore.terms.rule_kinds import RuleItem

ITEM_SCHEMA = {
    "month": pl.String,
    "item_id": pl.String,
    "occurrences": pl.Int32,
    "points": POINTS,
    "detail_zh": pl.String,
    "rows": ROWS,
}
"""Points of one item per month: what every points function returns."""


@dataclass(frozen=True)
class RuleInputs:
    """What a rule kind's points function reads: the contract, its ledgers (with ``ref``), the
    roster headcount and the months of the service period."""

    contract: Contract
    deductions: pl.DataFrame
    tickets: pl.DataFrame
    attendance: pl.DataFrame
    headcount: pl.DataFrame
    vacancies: staffing_mod.Vacancies
    known_through: dt.date | None
    months: list[str]


NOT_ASSESSABLE_SCHEMA = {
    "month": pl.String,
    "rule": pl.String,
    "clause": pl.String,
    "reason": pl.String,
    "basis": pl.String,
}
"""A rule that could not be applied in a month: the rule's id and clause, the reason in Chinese,
and ``basis``: ``terms`` when the contract leaves a term unstated (the same every month),
``data`` when the month's ledgers lack what the rule needs."""


def not_assessable(rule: str, clause: str, month: str, reason: str, basis: str = "data") -> dict:
    """One row of :data:`NOT_ASSESSABLE_SCHEMA`: the one place such a row is built."""
    return {"month": month, "rule": rule, "clause": clause, "reason": reason, "basis": basis}


def unassessable(item: RuleItem, month: str, text: str, basis: str = "data") -> dict:
    """:func:`not_assessable` for a points sheet ``item`` in ``month``."""
    return not_assessable(item.item_id, item.clause, month, text, basis)
