"""Plain data for one contract: its rule catalogue, and one month's assessment statement.

Used by ``seatscore rules`` and ``seatscore score`` (``--json``) and by the report, so the three
show the same figures. Money is a decimal string with two places (``"160758.33"``); points a
decimal string (``"98.2"``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial

import polars as pl

from seatscore.compute import findings
from seatscore.compute.metrics import MonthlyMetrics, metrics_as_of, month_end
from seatscore.compute.termination import termination_exposure
from seatscore.core.config import TIMEZONE
from seatscore.core.money import cny, pts
from seatscore.ledgers.kinds import as_of
from seatscore.terms.contracts import Contract
from seatscore.terms.periods import PROVISIONAL_RULE_ZH, parse_month


def rule_catalogue(contract: Contract) -> list[dict]:
    """Every rule of the contract: assessment items, staffing penalties and money penalties.

    Keys: ``rule_id``, ``kind``, ``name_zh``, ``clause``, ``unit_zh``, ``points`` (fixed points,
    or ``points_min``/``points_max`` for discretionary items), ``amount_cny`` (or ``amount_min_cny``
    / ``amount_max_cny`` / ``share_of_amount``), ``category``, ``category_cap``, ``target_share``,
    ``floor_share``, ``threshold_share``, ``threshold_word`` (the contract's word for it),
    ``basis`` (``roster`` or ``attendance`` for staffing rules), ``grace_working_days``, ``not_stated`` (what the
    contract leaves open).
    """
    out = []
    assessment = contract.assessment.value
    if assessment is not None:
        caps = {c.category_id: c.cap_points for c in assessment.categories}
        for item in assessment.items:
            # Kind-specific fields (seatscore.compute.rules): None where the kind has none.
            field = partial(getattr, item)
            target = field("target_share", None)
            floor, threshold = field("floor_share", None), field("threshold_share", None)
            out.append(
                {
                    "rule_id": item.item_id,
                    "kind": item.kind,
                    "name_zh": item.name_zh,
                    "clause": item.clause,
                    "unit_zh": item.unit_zh,
                    "points": pts(item.points),
                    "points_min": pts(field("points_min", None)),
                    "points_max": pts(field("points_max", None)),
                    "category": item.category,
                    "category_cap": pts(caps[item.category]),
                    "target_share": str(target.value)
                    if target and target.value is not None
                    else None,
                    "floor_share": str(floor) if floor is not None else None,
                    "threshold_share": str(threshold) if threshold is not None else None,
                    "threshold_word": field("threshold_word", None),
                    "basis": field("basis", None),
                    "not_stated": target.note
                    if target is not None and target.value is None
                    else None,
                }
            )
    for rule in contract.staffing_penalties:
        out.append(
            {
                "rule_id": rule.rule_id,
                "kind": "cny_per_person_day",
                "basis": rule.basis,
                "name_zh": rule.name_zh,
                "clause": rule.clause,
                "unit_zh": "每人每天",
                "amount_cny": cny(rule.rate_cny.value),
                "grace_working_days": rule.grace_working_days,
                "not_stated": rule.rate_cny.note if rule.rate_cny.value is None else None,
            }
        )
    for penalty in contract.penalties:
        out.append(
            {
                "rule_id": penalty.penalty_id,
                "kind": "penalty",
                "name_zh": penalty.name_zh,
                "clause": penalty.clause,
                "unit_zh": penalty.unit_zh,
                "amount_cny": cny(penalty.amount_cny),
                "amount_min_cny": cny(penalty.amount_min_cny),
                "amount_max_cny": cny(penalty.amount_max_cny),
                "share_of_amount": str(penalty.share_of_amount)
                if penalty.share_of_amount is not None
                else None,
            }
        )
    return [{k: v for k, v in rule.items() if v is not None} for rule in out]


def flags(contract: Contract, metrics: MonthlyMetrics, month: str) -> list[str]:
    """The month's flags, most serious first: termination triggers fired, in breach (cure period
    running) or one month away, rules not assessable, provisional working days."""
    out = []
    triggers = metrics.triggers.filter(pl.col("month") == month)
    for t in triggers.iter_rows(named=True):
        since = f"，自 {t['since']} 起" if t["since"] else ""
        if t["state"] == "fired":
            out.append(f"终止条件已触发：{t['text_zh']}（{t['clause']}{since}）")
        elif t["state"] == "breach":
            out.append(
                f"违约：{t['text_zh']}，甲方通知后 {t['cure_days']} 天内未纠正即可解除合同"
                f"（{t['clause']}{since}）"
            )
        elif t["state"] == "warning":
            word = t["threshold_word"] or "低于"
            out.append(
                f"终止预警：再有一个月 {word} {pts(t['threshold_points'])} 分即触发“{t['text_zh']}”"
                f"（{t['clause']}）"
            )
    gaps = metrics.not_assessable.filter(pl.col("month") == month)
    for r in gaps.filter(pl.col("basis") != "terms").iter_rows(named=True):
        out.append(f"无法评估：{contract.rule_name_zh(r['rule'])}（{r['clause']}）{r['reason']}")
    unstated = gaps.filter(pl.col("basis") == "terms")["rule"].unique().len()
    if unstated:  # the same every month until the buyer supplies the term: one line, not news
        out.append(f"合同未写明的条款使 {unstated} 项规则无法评估（见报告“无法评估的规则”）")
    row = metrics.months.filter(pl.col("month") == month).row(0, named=True)
    if row["provisional"]:
        out.append(f"暂定：{PROVISIONAL_RULE_ZH}")
    return out


def trigger_states(metrics: MonthlyMetrics, month: str) -> list[dict]:
    """``[{trigger_id, state, clause, since}]`` for the month (``state``: ``clear``, ``warning``,
    ``breach``, ``fired``; ``since``: the month or day the condition first held in its current
    run, null when clear or warning)."""
    return [
        {
            "trigger_id": r["trigger_id"],
            "state": r["state"],
            "clause": r["clause"],
            "since": r["since"],
        }
        for r in metrics.triggers.filter(pl.col("month") == month).iter_rows(named=True)
    ]


def month_statement(contract: Contract, metrics: MonthlyMetrics, month: str) -> dict:
    """One month's assessment as plain data (the ``seatscore score --json`` document).

    Raises ``KeyError`` for a month outside the service period.
    """
    months = metrics.months.filter(pl.col("month") == month)
    if months.is_empty():
        period = contract.service_period
        raise KeyError(f"{month} is outside the service period {period.start} – {period.end}")
    row = months.row(0, named=True)
    categories = metrics.categories.filter(pl.col("month") == month)
    lines = metrics.lines.filter(pl.col("month") == month)
    penalties = lines.filter(pl.col("kind") != "deduction")
    penalty_total = sum(
        (v for v in penalties["amount_cny"].to_list() if v is not None), Decimal("0.00")
    )
    return {
        "contract_id": contract.contract_id,
        "month": month,
        "score": pts(row["score"]),
        "points_lost": pts(row["points_lost"]),
        "points_lost_by_category": {
            r["category_id"]: pts(r["points"]) for r in categories.iter_rows(named=True)
        },
        "fee_nominal_cny": cny(row["nominal_fee_cny"]),
        "fee_deduction_cny": cny(row["fee_deduction_cny"]),
        "penalties_cny": cny(penalty_total),
        "penalties": [_line(r) for r in penalties.iter_rows(named=True)],
        "payable_cny": cny(row["payable_cny"]),
        "payable_complete": row["payable_complete"],
        "cost_per_seat_month_payable_cny": cny(row["cost_per_seat_month_payable_cny"]),
        "flags": flags(contract, metrics, month),
        "triggers": trigger_states(metrics, month),
        "termination_exposure": termination_exposure(contract, metrics, month),
        "provisional": row["provisional"],
        "lines": [_line(r) for r in lines.iter_rows(named=True)],
    }


def _line(r: dict) -> dict:
    return {
        "kind": r["kind"],
        "rule_id": r["rule_id"],
        "name_zh": r["name_zh"],
        "clause": r["clause"],
        "quantity": r["quantity"],
        "unit_zh": r["unit_zh"],
        "points": pts(r["points"]),
        "amount_cny": cny(r["amount_cny"]),
        "detail_zh": r["detail_zh"],
        "rows": [{"file": ref["file"], "row": ref["row"]} for ref in r["rows"] or []],
    }


def statement_as_of(
    contract: Contract, ledgers: dict[str, pl.DataFrame], month: str, today: dt.date | None = None
) -> dict:
    """:func:`month_statement` of ``month`` as known at its end: the ledgers cut at the month's
    last day, or at ``today`` (Beijing time) for a month not yet over
    (:func:`seatscore.compute.metrics.metrics_as_of`). Adds ``findings`` (what needs attention,
    most serious first: ``{level, text_zh, cny}``, :func:`seatscore.compute.findings.month_findings`),
    ``attention`` (``red``, ``amber`` or ``green``), ``targets`` (each service-level target's
    verdict, :class:`seatscore.compute.findings.Verdict`), ``as_of`` (the cut-off day, ISO) and
    ``month_open`` (true while the month has not ended). ``ledgers`` may carry ``kpis`` (the
    vendor's reported figures, compared with the tickets' own).

    Raises ``KeyError`` for a month outside the service period.
    """
    today = today or dt.datetime.now(TIMEZONE).date()
    parse_month(month)
    period = contract.service_period
    if not period.start.replace(day=1) <= parse_month(month) <= period.end:
        raise KeyError(f"{month} is outside the service period {period.start} – {period.end}")
    cutoff = min(month_end(month), today)
    metrics = metrics_as_of(contract, ledgers, month, cutoff)
    doc = month_statement(contract, metrics, month)
    table = findings.month_table(contract, ledgers["tickets"], ledgers.get("kpis"), month, cutoff)
    payments = ledgers.get("payments")
    found = findings.month_findings(
        contract,
        metrics,
        month,
        table,
        as_of("payments", payments, cutoff) if payments is not None else None,
        cutoff,
    )
    return {
        **doc,
        "findings": [f.as_dict() for f in found],
        "attention": findings.status(found),
        "targets": [v.as_dict() for v in findings.verdicts(contract, table)],
        "as_of": cutoff.isoformat(),
        "month_open": cutoff < month_end(month),
    }
