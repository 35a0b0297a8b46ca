"""Payment milestones: what each payment is, what it absorbs, and what is paid.

A milestone settles the service months after the previous milestone's ``through`` up to its own
(:class:`~seatscore.terms.contracts.PaymentMilestone`). It absorbs those months' fee deductions and
penalties (nominal fee − payable); what it cannot absorb carries to the next payment (000 附件二
第三章 二: "随项目支付进度，扣减前期累计扣除款项"). A milestone without a stated amount pays the
nominal fees of its months (003 一 (四) quarterly settlement).

Over a whole service period, Σ paid + Σ absorbed = the contract amount when the stated amounts add
up to it; a carry left after the last payment is what the vendor still owes.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from seatscore.core.money import MONEY, ZERO, to_fen
from seatscore.terms.contracts import Contract

SCHEDULE_SCHEMA = {
    "label_zh": pl.String,
    "due_zh": pl.String,
    "clause": pl.String,
    "first_month": pl.String,
    "through": pl.String,
    "nominal_cny": MONEY,
    "absorbed_cny": MONEY,
    "paid_cny": MONEY,
    "carried_cny": MONEY,
    "complete": pl.Boolean,
    "at_risk": pl.Boolean,
    "at_risk_zh": pl.String,
    "status": pl.String,
    "recorded_cny": MONEY,
    "paid_on": pl.Date,
    "note_zh": pl.String,
}
STATUSES = ("已付", "部分已付", "待付", "预计")
"""A payment's status at the end of a month: paid (the payments ledger records at least what it
should pay), partly paid, due (it settles months up to the month and is not yet paid), expected
(it settles later months, or has no month: not due yet as far as the terms say)."""


def payment_schedule(
    contract: Contract,
    months: pl.DataFrame,
    breaches: list[str] | None = None,
    as_of: str | None = None,
    payments: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per payment milestone.

    ``months`` is :attr:`seatscore.compute.metrics.MonthlyMetrics.months` (``month``, ``nominal_fee_cny``,
    ``payable_cny``, ``payable_complete``). Columns: ``label_zh``, ``due_zh``, ``clause``,
    ``first_month`` / ``through`` (the months settled, null when the contract does not tie the
    payment to months), ``nominal_cny`` (the milestone's amount, CNY), ``absorbed_cny``
    (deductions and penalties taken off it), ``paid_cny``, ``carried_cny`` (deductions left for
    the next payment), ``complete`` (false when a month it settles has a not-assessable rule or the
    amount is not stated), ``at_risk`` / ``at_risk_zh`` (a payment conditional on no breach,
    000 四 3 尾款 "如无违约事项", while ``breaches`` — :func:`seatscore.compute.termination.breaches_on_record`
    — is not empty: which breach), ``note_zh``; with ``as_of`` (YYYY-MM) and ``payments`` (the
    payments ledger cut at that month, :func:`seatscore.ledgers.kinds.as_of`): ``status`` (one of
    :data:`STATUSES`), ``recorded_cny`` (paid according to the ledger: rows naming the payment in
    ``milestone``, then the others in date order to the payments due first) and ``paid_on`` (the
    last such payment); null without ``as_of``.

    ``months`` must hold every month of the service period (later months with nominal fees only):
    :attr:`seatscore.compute.metrics.MonthlyMetrics.period` for a month's report.
    """
    by_month = {r["month"]: r for r in months.iter_rows(named=True)}
    rows = []
    previous = None
    carried = ZERO
    for milestone in contract.payments:
        if milestone.through is not None:
            settled = [
                m for m in by_month if (previous is None or m > previous) and m <= milestone.through
            ]
        else:
            settled = []
        deductions = sum(
            (by_month[m]["nominal_fee_cny"] - by_month[m]["payable_cny"] for m in settled), ZERO
        )
        complete = all(by_month[m]["payable_complete"] for m in settled)
        nominal = milestone.amount_cny
        if (
            nominal is None
            and milestone.share is not None
            and contract.amount_cny.value is not None
        ):
            nominal = to_fen(contract.amount_cny.value * milestone.share)
        if nominal is None and milestone.through is not None:
            nominal = sum((by_month[m]["nominal_fee_cny"] for m in settled), ZERO)
        if nominal is None:
            rows.append(_row(milestone, settled, None, None, None, carried, False, breaches))
            continue
        due = carried + deductions
        absorbed = min(due, nominal)
        carried = due - absorbed
        rows.append(
            _row(
                milestone,
                settled,
                nominal,
                absorbed,
                nominal - absorbed,
                carried,
                complete,
                breaches,
            )
        )
        if milestone.through is not None:
            previous = milestone.through
    frame = pl.DataFrame(
        [{**r, "status": None, "recorded_cny": None, "paid_on": None} for r in rows],
        schema=SCHEDULE_SCHEMA,
    )
    if as_of is None:
        return frame
    return _with_status(frame, as_of, payments)


def _with_status(frame: pl.DataFrame, as_of: str, payments: pl.DataFrame | None) -> pl.DataFrame:
    """Status of each payment at the end of ``as_of`` (see :data:`STATUSES`)."""
    recorded = [ZERO] * frame.height
    last: list = [None] * frame.height
    labels = frame["label_zh"].to_list()
    unlabelled = []
    if payments is not None and payments.height:
        for r in payments.sort("paid_on").iter_rows(named=True):
            if r["milestone"] in labels:
                i = labels.index(r["milestone"])
                recorded[i] += r["amount_cny"]
                last[i] = r["paid_on"]
            else:
                unlabelled.append(r)
    expected = frame["paid_cny"].to_list()
    due = [t is not None and t <= as_of for t in frame["through"].to_list()]
    for r in unlabelled:  # to the earliest payment still short, due ones first
        order = sorted(range(frame.height), key=lambda i: (not due[i], i))
        open_ = [i for i in order if expected[i] is None or recorded[i] < expected[i]]
        i = open_[0] if open_ else order[-1]
        recorded[i] += r["amount_cny"]
        last[i] = r["paid_on"]
    status = []
    for i in range(frame.height):
        if expected[i] is not None and recorded[i] >= expected[i] > 0:
            status.append("已付")
        elif recorded[i] > 0:
            status.append("部分已付")
        else:
            status.append("待付" if due[i] else "预计")
    return frame.with_columns(
        pl.Series("status", status, dtype=pl.String),
        pl.Series("recorded_cny", recorded, dtype=MONEY),
        pl.Series("paid_on", last, dtype=pl.Date),
    )


def _row(milestone, settled, nominal, absorbed, paid, carried, complete, breaches) -> dict:
    notes = [n for n in (milestone.through_note, milestone.note) if n]
    if milestone.at_most:
        notes.append("合同金额为上限")
    at_risk = bool(milestone.condition_zh and breaches)
    return {
        "label_zh": milestone.label_zh,
        "due_zh": milestone.due_zh,
        "clause": milestone.clause,
        "first_month": settled[0] if settled else None,
        "through": milestone.through,
        "nominal_cny": nominal,
        "absorbed_cny": absorbed,
        "paid_cny": paid,
        "carried_cny": carried if nominal is not None else None,
        "complete": complete,
        "at_risk": at_risk,
        "at_risk_zh": (
            f"{milestone.condition_zh}：已有违约记录 {len(breaches)} 项（最近：{breaches[-1]}）"
            if at_risk
            else None
        ),
        "note_zh": "；".join(notes) or None,
    }


def schedule_balances(contract: Contract, schedule: pl.DataFrame) -> bool:
    """True when Σ paid + Σ absorbed equals the contract amount."""
    amount = contract.amount_cny.value
    if amount is None or schedule.is_empty() or schedule["nominal_cny"].null_count():
        return False
    paid = sum(schedule["paid_cny"].to_list(), Decimal(0))
    absorbed = sum(schedule["absorbed_cny"].to_list(), Decimal(0))
    return paid + absorbed == amount
