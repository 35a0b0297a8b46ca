"""The payment calendar: what each contract is due, has paid, had deducted and has at risk, per
calendar quarter and fiscal year (the calendar year in China), for budget planners.

A payment milestone (:func:`seatscore.compute.payments.payment_schedule`) falls in the quarter
of its due month, read from the terms as follows (the reading is named with each row):

- a milestone that settles service months (``through``) is due the month after the last of them
  (000 四 3: 首付款 settles June 2026 and is paid by 2026-07-11; 003 一 (四): each quarter is paid
  within 15 working days of its end; 004 九: each period's payment takes off the previous
  quarter's deductions);
- a milestone due on signing without a settled month is due in the month of signing, or, where
  the contract leaves the signing date blank (004), in the first month of the service period,
  the latest it can be (payment for the first period precedes the service);
- otherwise, or where the contract states neither its amount nor the months it settles (001's
  monthly payments of "the previous month's fees"), its quarter is not stated (``quarter`` null)
  and it is not placed.

Per quarter: ``due_cny`` (the milestones' amounts), ``deducted_cny`` (deductions and penalties
they absorb), ``at_risk_cny`` (the amount of a milestone conditional on no breach while a breach
is on record), ``paid_cny`` (the payments ledger: paid in that quarter), ``remaining_cny`` = due −
deducted − paid. Money in CNY to the fen.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl

from seatscore.compute.metrics import metrics_as_of
from seatscore.compute.payments import payment_schedule
from seatscore.compute.termination import breaches_on_record
from seatscore.core.errors import SeatscoreError
from seatscore.core.money import MONEY, ZERO
from seatscore.ledgers import store as db
from seatscore.ledgers.kinds import as_of
from seatscore.terms.contracts import Contract
from seatscore.terms.periods import month_key, parse_month, shift_month

QUARTER_SCHEMA = {
    "contract_id": pl.String,
    "quarter": pl.String,
    "due_cny": MONEY,
    "paid_cny": MONEY,
    "deducted_cny": MONEY,
    "at_risk_cny": MONEY,
    "remaining_cny": MONEY,
}
"""One row per contract and calendar quarter (``YYYY-Qn``)."""
SUMS = ("due_cny", "paid_cny", "deducted_cny", "at_risk_cny", "remaining_cny")


def quarter_of(month: str) -> str:
    """``'2026-07'`` → ``'2026-Q3'``."""
    d = parse_month(month)
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def due_month(contract: Contract, through: str | None, first: bool) -> tuple[str | None, str]:
    """The month a milestone is due and how it was read (Chinese). ``first``: it is the
    contract's first milestone (the one a signing date can place)."""
    if through is not None:
        return shift_month(through, 1), "结算月份的次月"
    if first:
        signed = [s.date for s in contract.signing_dates if s.date is not None]
        if signed:
            return month_key(min(signed)), "签订当月"
        return month_key(contract.service_period.start), "签订日期空白：按服务开始月计"
    return None, "合同未写明付款月份"


def milestone_calendar(
    contract: Contract, months: pl.DataFrame, breaches: list[str] | None = None
) -> pl.DataFrame:
    """Each milestone with its due month, quarter and reading, amount, deductions absorbed and
    the amount at risk (:func:`seatscore.compute.payments.payment_schedule` columns plus
    ``due_month``, ``quarter``, ``reading_zh``)."""
    schedule = payment_schedule(contract, months, breaches)
    rows = []
    for i, r in enumerate(schedule.iter_rows(named=True)):
        month, reading = due_month(contract, r["through"], i == 0)
        if r["nominal_cny"] is None:  # 001: "每月一次性付清上月费用", no amount or month stated
            month, reading = None, "合同未规定该期金额与结算月份"
        rows.append(
            {
                **r,
                "due_month": month,
                "quarter": quarter_of(month) if month is not None else None,
                "reading_zh": reading,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            **schedule.schema,
            "due_month": pl.String,
            "quarter": pl.String,
            "reading_zh": pl.String,
        },
    )


def payment_calendar(
    contract: Contract,
    months: pl.DataFrame,
    payments: pl.DataFrame,
    breaches: list[str] | None = None,
) -> pl.DataFrame:
    """Per calendar quarter (:data:`QUARTER_SCHEMA`) of ``contract``: ``months`` as
    :attr:`seatscore.compute.metrics.MonthlyMetrics.months` (every month of the service period),
    ``payments`` the payments ledger (``paid_on`` date, ``amount_cny``)."""
    milestones = milestone_calendar(contract, months, breaches)
    by_quarter: dict[str, dict[str, Decimal]] = {}

    def add(quarter: str, key: str, value: Decimal | None) -> None:
        sums = by_quarter.setdefault(quarter, {k: ZERO for k in SUMS})
        sums[key] += value or ZERO

    for r in milestones.filter(pl.col("quarter").is_not_null()).iter_rows(named=True):
        add(r["quarter"], "due_cny", r["nominal_cny"])
        add(r["quarter"], "deducted_cny", r["absorbed_cny"])
        if r["at_risk"]:
            add(r["quarter"], "at_risk_cny", r["nominal_cny"])
    for r in payments.filter(pl.col("paid_on").is_not_null()).iter_rows(named=True):
        add(quarter_of(month_key(r["paid_on"])), "paid_cny", r["amount_cny"])
    rows = []
    for quarter, sums in sorted(by_quarter.items()):
        remaining = sums["due_cny"] - sums["deducted_cny"] - sums["paid_cny"]
        rows.append(
            {
                "contract_id": contract.contract_id,
                "quarter": quarter,
                **sums,
                "remaining_cny": remaining,
            }
        )
    return pl.DataFrame(rows, schema=QUARTER_SCHEMA)


def fiscal_years(quarters: pl.DataFrame) -> pl.DataFrame:
    """The sums of :func:`payment_calendar` per contract and fiscal year (the calendar year)."""
    return (
        quarters.with_columns(pl.col("quarter").str.slice(0, 4).alias("fiscal_year"))
        .group_by("contract_id", "fiscal_year")
        .agg(pl.col(k).sum().cast(MONEY) for k in SUMS)
        .sort("contract_id", "fiscal_year")
    )


def days_left(contract: Contract, today: dt.date) -> int:
    """Calendar days from ``today`` to the last day of the service period (0 once it is over)."""
    return max(0, (contract.service_period.end - today).days)


def calendar_from_db(
    db_path: Path | str, on: dt.date
) -> tuple[pl.DataFrame, dict[str, Contract], pl.DataFrame]:
    """Every contract with payment terms in the database, as known on ``on``: the quarters of
    :func:`payment_calendar` (all contracts), the contracts by id, and the milestones of
    :func:`milestone_calendar` with ``contract_id``. Raises :class:`SeatscoreError` when no
    contract has payment terms."""
    parts, contracts, milestones = [], {}, []
    with db.connect(db_path, read_only=True) as con:
        for cid, contract in db.load_contracts(con).items():
            if not contract.payments:
                continue  # a public source: nothing is paid
            ledgers = db.ledgers(con, cid)
            period = contract.service_period
            month = month_key(min(max(on, period.start), period.end))
            metrics = metrics_as_of(contract, ledgers, month, min(on, period.end))
            months = metrics.period if metrics.period is not None else metrics.months
            breaches = breaches_on_record(contract, metrics, month)
            paid = as_of("payments", ledgers["payments"], on)
            parts.append(payment_calendar(contract, months, paid, breaches))
            milestones.append(
                milestone_calendar(contract, months, breaches).with_columns(
                    pl.lit(cid).alias("contract_id")
                )
            )
            contracts[cid] = contract
    if not parts:
        raise SeatscoreError(f"{db_path}: no contract with payment terms")
    return pl.concat(parts), contracts, pl.concat(milestones, how="diagonal_relaxed")
