"""Money that moves if a contract ends early, and breaches that put a conditional payment at risk.

Seen from the buyer: a positive amount is money the vendor loses or owes. Each figure is one
operation on figures printed beside it, rounded half up to the fen once:

- earned to date = Σ payable of the months served through the month (:mod:`seatscore.compute.metrics`);
- paid to date = Σ the payments ledger through the month's last day;
- ``forfeit_unpaid`` = earned − paid when positive (000 六 4, 六 6 "未向乙方支付的费用，不再支付");
- ``refund_unserved`` = paid − earned when positive (000 六 7 "退还已收的乙方尚未履行期间对应的服务费用");
- ``refund_paid_multiple`` = multiple × paid (001 六 7 "双倍返还甲方已支付的合同款": 2);
- ``damages_share_of_amount`` = share × the contract amount; ``damages_fixed`` = the amount.

A case's losses the contract leaves unquantified ("并赔偿…全部损失") are in its notes, never a number.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from seatscore.compute.metrics import MonthlyMetrics
from seatscore.core.money import ZERO, to_fen
from seatscore.terms.contracts import Contract, TerminationMoney


def _cny(value: Decimal | None) -> str | None:
    return None if value is None else f"{to_fen(value):.2f}"


def to_date(metrics: MonthlyMetrics, month: str) -> tuple[Decimal | None, Decimal]:
    """(earned to date, paid to date) through ``month``; earned is None when a month's payable
    is not assessable (no stated amount, or a staffing rate not stated)."""
    served = metrics.months.filter(pl.col("month") <= month)
    payable = served["payable_cny"].to_list()
    earned = None if any(v is None for v in payable) else sum(payable, ZERO)
    paid = sum(served["paid_cny"].to_list(), ZERO)
    return earned, paid


def _money_line(
    money: TerminationMoney, contract: Contract, earned: Decimal | None, paid: Decimal
) -> dict:
    amount: Decimal | None
    if money.kind == "forfeit_unpaid":
        amount = max(earned - paid, ZERO) if earned is not None else None
        detail = (
            f"已完成服务应付 {_cny(earned)} − 已付 {_cny(paid)}"
            if earned is not None
            else "已完成服务的应付金额无法评估"
        )
    elif money.kind == "refund_unserved":
        amount = max(paid - earned, ZERO) if earned is not None else None
        detail = (
            f"已付 {_cny(paid)} − 已完成服务应付 {_cny(earned)}"
            if earned is not None
            else "已完成服务的应付金额无法评估"
        )
    elif money.kind == "refund_paid_multiple":
        amount = to_fen(paid * money.multiple)
        detail = f"已付 {_cny(paid)} × {money.multiple:g}"
    elif money.kind == "damages_share_of_amount":
        total = contract.amount_cny.value
        amount = to_fen(total * money.share) if total is not None else None
        detail = (
            f"合同金额 {_cny(total)} × {money.share * 100:g}%"
            if total is not None
            else "合同金额未规定"
        )
    else:
        amount = money.amount_cny
        detail = "合同规定的固定金额"
    return {
        "kind": money.kind,
        "name_zh": money.name_zh,
        "clause": money.clause,
        "amount_cny": _cny(amount),
        "detail_zh": detail,
        "note": money.note,
    }


def termination_exposure(contract: Contract, metrics: MonthlyMetrics, month: str) -> dict:
    """What moves if the contract ended at the end of ``month``, per termination case.

    Returns ``{"month", "earned_cny", "paid_cny", "cases": [{"case_id", "name_zh", "clause",
    "triggers": [{"trigger_id", "state"}], "total_cny", "lines": [{"kind", "name_zh",
    "clause", "amount_cny", "detail_zh", "note"}], "note"}]}``; money as two-decimal strings,
    ``null`` where not assessable (a total is null when any of its lines is).
    """
    earned, paid = to_date(metrics, month)
    states = {
        r["trigger_id"]: r["state"]
        for r in metrics.triggers.filter(pl.col("month") == month).iter_rows(named=True)
    }
    cases = []
    for case in contract.termination_cases:
        lines = [_money_line(m, contract, earned, paid) for m in case.money]
        amounts = [line["amount_cny"] for line in lines]
        total = (
            None if any(a is None for a in amounts) else sum((Decimal(a) for a in amounts), ZERO)
        )
        cases.append(
            {
                "case_id": case.case_id,
                "name_zh": case.name_zh,
                "clause": case.clause,
                "triggers": [{"trigger_id": t, "state": states.get(t)} for t in case.triggers],
                "total_cny": _cny(total),
                "lines": lines,
                "note": case.note,
            }
        )
    return {
        "month": month,
        "earned_cny": _cny(earned),
        "paid_cny": _cny(paid),
        "cases": cases,
    }


def breaches_on_record(contract: Contract, metrics: MonthlyMetrics, month: str) -> list[str]:
    """Breaches (违约事项) on record through ``month``, in Chinese: money penalties and staffing
    penalties charged, and termination triggers in ``breach`` or ``fired``. A payment conditional
    on "如无违约事项" (000 四 3) is at risk while this list is not empty."""
    out = []
    lines = metrics.lines.filter(
        (pl.col("month") <= month) & pl.col("kind").is_in(["penalty", "staffing_penalty"])
    )
    for r in lines.sort("month").iter_rows(named=True):
        amount = f"，{_cny(r['amount_cny'])} 元" if r["amount_cny"] is not None else ""
        out.append(
            f"{r['month']} {r['name_zh']}（{r['clause']}）{r['quantity']} {r['unit_zh']}{amount}"
        )
    fired = metrics.triggers.filter(
        (pl.col("month") <= month) & pl.col("state").is_in(["breach", "fired"])
    )
    for r in fired.sort("month").iter_rows(named=True):
        word = "已触发" if r["state"] == "fired" else "已违约（纠正期内）"
        out.append(f"{r['month']} {r['text_zh']}{word}（{r['clause']}）")
    return out
