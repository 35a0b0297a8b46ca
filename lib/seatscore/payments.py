"""Payment milestones: what each payment is, what it absorbs, and what is paid.

A milestone settles the service months after the previous milestone's ``through`` up to its own
(:class:`~seatscore.contracts.PaymentMilestone`). It absorbs those months' fee deductions and
penalties (nominal fee − payable); what it cannot absorb carries to the next payment (000 附件二
第三章 二: "随项目支付进度，扣减前期累计扣除款项"). A milestone without a stated amount pays the
nominal fees of its months (003 一 (四) quarterly settlement).

Over a whole service period, Σ paid + Σ absorbed = the contract amount when the stated amounts add
up to it; a carry left after the last payment is what the vendor still owes.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from seatscore.contracts import Contract
from seatscore.money import ZERO, to_fen

SCHEDULE_SCHEMA = {
    "label_zh": pl.String,
    "due_zh": pl.String,
    "clause": pl.String,
    "first_month": pl.String,
    "through": pl.String,
    "nominal_cny": pl.Decimal(14, 2),
    "absorbed_cny": pl.Decimal(14, 2),
    "paid_cny": pl.Decimal(14, 2),
    "carried_cny": pl.Decimal(14, 2),
    "complete": pl.Boolean,
    "at_risk": pl.Boolean,
    "at_risk_zh": pl.String,
    "note_zh": pl.String,
}


def payment_schedule(
    contract: Contract, months: pl.DataFrame, breaches: list[str] | None = None
) -> pl.DataFrame:
    """One row per payment milestone.

    ``months`` is :attr:`seatscore.metrics.MonthlyMetrics.months` (``month``, ``nominal_fee_cny``,
    ``payable_cny``, ``payable_complete``). Columns: ``label_zh``, ``due_zh``, ``clause``,
    ``first_month`` / ``through`` (the months settled, null when the contract does not tie the
    payment to months), ``nominal_cny`` (the milestone's amount, CNY), ``absorbed_cny``
    (deductions and penalties taken off it), ``paid_cny``, ``carried_cny`` (deductions left for
    the next payment), ``complete`` (false when a month it settles has a not-assessable rule or the
    amount is not stated), ``at_risk`` / ``at_risk_zh`` (a payment conditional on no breach,
    000 四 3 尾款 "如无违约事项", while ``breaches`` — :func:`seatscore.termination.breaches_on_record`
    — is not empty: which breach), ``note_zh``.
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
    return pl.DataFrame(rows, schema=SCHEDULE_SCHEMA)


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
