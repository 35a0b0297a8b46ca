"""What needs attention in a contract-month: each service-level target's verdict, and the findings
a manager reads first (需关注事项), ranked by risk and money.

Findings come from, in this order of risk:

- termination triggers fired, in breach or one month away, and a score within
  :data:`NEAR_LINE_POINTS` of a termination line (the distance is printed);
- payments at risk (a payment conditional on no breach, 000 四 3 尾款) or due and not paid;
- targets missed against the contract's limit, whether or not the deductions ledger booked points
  for them, with the points the contract would attach (``ServiceLevelTarget.item``);
- staffing gaps and their money; the vendor's reported rates above the tickets' own;
- rules the month's ledgers could not assess; the service period ending within
  :data:`ENDING_DAYS` days;
- the month's largest booked lines (points and CNY), for the finance officer.

A rule the contract leaves unstated is the same every month: it is not a finding (the report's
appendix lists it). Every text is plain Chinese with the figures and the clause; no internal id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Literal

import polars as pl

from seatscore.compute import service_levels
from seatscore.compute.budget import due_month
from seatscore.compute.metrics import MonthlyMetrics, fee_deduction, month_end
from seatscore.compute.payments import payment_schedule
from seatscore.compute.termination import breaches_on_record
from seatscore.core.money import MONEY, allocate, format_cny, pts
from seatscore.ledgers.kinds import as_of
from seatscore.terms.contracts import Contract
from seatscore.terms.measures import METRICS
from seatscore.terms.periods import month_of, shift_month
from seatscore.terms.thresholds import holds

Level = Literal["red", "amber", "info"]
LEVELS: tuple[Level, ...] = ("red", "amber", "info")
"""``red``: the contract or a payment is at risk (a trigger fired or in breach, a score past a
termination line, a payment at risk); ``amber``: a miss or gap to act on; ``info``: booked money
the finance officer follows."""
NEAR_LINE_POINTS = Decimal(5)
"""A score this close to a termination line (points, inclusive) is a finding."""
ENDING_DAYS = 90
"""The end of the service period this many days away or fewer (from the cut-off) is a finding."""
LARGEST_LINES = 3
"""How many of the month's booked lines, largest money first, are listed as findings."""


@dataclass(frozen=True)
class Finding:
    """One thing to look at: ``level`` (:data:`LEVELS`), ``text_zh`` (a sentence with the figures
    and the clause), ``cny`` (money at stake, CNY, for ranking; None when none is stated)."""

    level: Level
    text_zh: str
    cny: Decimal | None = None
    count: int = 0
    """Tickets or occurrences behind it: ranks findings of equal money (more first)."""

    def as_dict(self) -> dict:
        d = asdict(self)
        d["cny"] = f"{self.cny:.2f}" if self.cny is not None else None
        return d


@dataclass(frozen=True)
class Verdict:
    """One service-level target of the contract in a month.

    ``met``: True (met), False (missed), None (no verdict: ``reason_zh`` says why); ``missed``:
    tickets past the limit (null without a verdict); ``counted``: tickets judged;
    ``limit_zh``: the contract's limit as printed; ``item``: the per-occurrence item that deducts
    for each miss, with its ``points_each``.
    """

    key: str
    name_zh: str
    clause: str | None
    met: bool | None
    value: float | None
    missed: int | None
    counted: int
    limit_zh: str
    reason_zh: str | None
    item: str | None = None
    points_each: Decimal | None = None
    by_share: bool = False
    """True when the verdict compares a rate with the contract's share; False when each ticket
    is held to a time limit."""
    miss_zh: str = "超过时限"
    """What each missed ticket did (:attr:`seatscore.terms.measures.MetricInfo.miss_zh`)."""
    source: str = "tickets"
    """``tickets`` (computed here) or ``ledger``: only the vendor's reported figure (KPI ledger)
    gives the value, and the verdict is read from it."""

    def as_dict(self) -> dict:
        """Plain data for a statement document (points as a decimal string)."""
        d = asdict(self)
        d["points_each"] = pts(self.points_each)
        return d


def _pct(value: float) -> str:
    """A measured share as a percent with two decimals: ``0.98021`` → ``98.02%``."""
    return f"{value * 100:.2f}%"


def _whole(points: Decimal) -> str:
    """A contract's line as it is written: ``Decimal('80.00')`` → ``80``, ``82.5`` → ``82.5``."""
    return f"{points.normalize():f}"


def _share_zh(value: Decimal) -> str:
    """A contract's share as it is written: ``0.98`` → ``98%``, ``0.995`` → ``99.5%``."""
    return f"{(value * 100).normalize():f}%"


def limit_text(measure: service_levels.Measure) -> str:
    """The contract's limit in words: ``10分钟内``, ``≥ 98%``, ``每件当日24时前`` …;
    ``合同未规定指标值`` for a target that states neither."""
    parts = []
    if measure.limit_minutes is not None:
        parts.append(f"{service_levels.duration_zh(float(measure.limit_minutes))}内")
    elif measure.metric == "reply_by_same_day_midnight":
        parts.append("受理当日24时前")
    elif measure.metric == "closed_by_due_share":
        parts.append("工单办理时限内")
    if measure.target_share is not None:
        word = measure.target_word or "不低于"
        parts.append(f"{word} {_share_zh(measure.target_share)}")
    elif parts and measure.info.deadline:
        parts[0] = "每件" + parts[0]
    if not parts:
        return "合同未规定指标值" if measure.target_id is not None else "—（通用指标）"
    return "，".join(parts)


def verdicts(contract: Contract, table: pl.DataFrame) -> list[Verdict]:
    """The verdict of every target of the contract in one month.

    ``table``: the month's rows of :func:`seatscore.compute.service_levels.kpi_table` from
    tickets (``source == "tickets"``). A target with a share is met when the rate reaches it in
    the contract's word; a time limit without a share holds every ticket to it (000 附件二 第四章
    一 1: 每超时一单扣0.5分), so one ticket past it is a miss. A target the tickets cannot measure
    is judged by the vendor's reported figure where the KPI ledger gives one (``source``
    ``ledger``); a target with neither, a month without a ticket it applies to, or a target that
    states no value has no verdict.
    """
    measures = {m.key: m for m in service_levels.contract_measures(contract)}
    items = (
        {i.item_id: i for i in contract.assessment.value.items} if contract.assessment.value else {}
    )
    out = []
    rows = table.filter(pl.col("source") == "tickets", pl.col("target_id").is_not_null())
    reported = {
        r["key"]: r
        for r in table.filter(pl.col("source") == "ledger").iter_rows(named=True)
        if r["met_target"] is not None
    }
    for r in rows.iter_rows(named=True):
        m = measures[r["key"]]
        counted = r["denominator"] or 0
        missed = counted - (r["numerator"] or 0) if r["value"] is not None else None
        met: bool | None = None
        reason = None
        source = "tickets"
        if r["value"] is None and r["key"] in reported:  # only the vendor's figure: judged by it
            met, source = bool(reported[r["key"]]["met_target"]), "ledger"
            r = {**r, "value": reported[r["key"]]["value"]}
            counted = reported[r["key"]]["denominator"] or 0
        elif r["value"] is None:
            reason = r["note"] or "本月无适用工单"
        elif m.target_share is not None:
            met = bool(r["met_target"])
        elif m.every_ticket:
            met = missed == 0
        else:
            reason = "合同未规定指标值"
        item = items.get(m.item) if m.item else None
        out.append(
            Verdict(
                key=m.key,
                name_zh=m.name_zh,
                clause=m.clause,
                met=met,
                value=r["value"],
                missed=missed if met is not None else None,
                counted=counted,
                limit_zh=limit_text(m),
                reason_zh=reason,
                item=m.item,
                points_each=getattr(item, "points", None),
                by_share=m.target_share is not None,
                miss_zh=m.info.miss_zh,
                source=source,
            )
        )
    return out


def judged_at(cutoff: dt.date) -> dt.datetime:
    """The moment deadlines are judged at for a cut-off day: the end of that day (Beijing time);
    a ticket still open then past its limit has missed it."""
    return dt.datetime.combine(cutoff + dt.timedelta(days=1), dt.time())


def month_table(
    contract: Contract,
    tickets: pl.DataFrame,
    kpis: pl.DataFrame | None,
    month: str,
    cutoff: dt.date,
) -> pl.DataFrame:
    """The month's rows of :func:`seatscore.compute.service_levels.kpi_table` as known at the end
    of ``cutoff``: the tickets received in the month and the KPI ledger's rows for it, both cut
    there (:func:`seatscore.ledgers.kinds.as_of`), deadlines judged at :func:`judged_at`."""
    # The month's rows first (cheap), then as known at the cut-off: the same rows, fewer to cut.
    month_tickets = as_of("tickets", tickets.filter(month_of("received_at") == month), cutoff)
    reported = (
        as_of("kpis", kpis, cutoff).filter(pl.col("month") == month)
        if kpis is not None
        else pl.DataFrame()
    )
    table = service_levels.kpi_table(contract, month_tickets, reported, judged_at(cutoff))
    return table.filter(pl.col("period") == month)


# ---------------------------------------------------------------- findings


def _trigger_findings(contract: Contract, metrics: MonthlyMetrics, month: str) -> list[Finding]:
    row = metrics.months.filter(pl.col("month") == month).row(0, named=True)
    score = row["score"]
    out = []
    for t in metrics.triggers.filter(pl.col("month") == month).iter_rows(named=True):
        since = f"，自 {t['since']} 起" if t["since"] else ""
        if t["state"] == "fired":
            out.append(Finding("red", f"终止条件已触发：{t['text_zh']}（{t['clause']}{since}）"))
        elif t["state"] == "breach":
            out.append(
                Finding(
                    "red",
                    f"违约：{t['text_zh']}，甲方通知后 {t['cure_days']} 天内未纠正即可解除合同"
                    f"（{t['clause']}{since}）",
                )
            )
        elif t["state"] == "warning":
            word = t["threshold_word"] or "低于"
            out.append(
                Finding(
                    "red",
                    f"终止预警：得分 {pts(score)}，再有一个月{word} {_whole(t['threshold_points'])} 分"
                    f"即触发“{t['text_zh']}”（{t['clause']}）",
                )
            )
        elif t["threshold_points"] is not None and score is not None:
            word = t["threshold_word"] or "低于"
            line = t["threshold_points"]
            if holds(score, word, line):
                out.append(
                    Finding(
                        "red",
                        f"得分 {pts(score)}，{word}终止线 {_whole(line)} 分：“{t['text_zh']}”已计 "
                        f"{t['months_counted']}/{t['months_needed']} 个月（{t['clause']}）",
                    )
                )
            elif score - line <= NEAR_LINE_POINTS:
                out.append(
                    Finding(
                        "amber",
                        f"得分 {pts(score)}，距终止线 {_whole(line)} 分仅 {pts(score - line)} 分"
                        f"（{t['text_zh']}，{t['clause']}）",
                    )
                )
    return out


def _payment_findings(
    contract: Contract, metrics: MonthlyMetrics, month: str, payments: pl.DataFrame | None
) -> list[Finding]:
    """A payment at risk (red); a payment falling due next month, with what it pays after the
    deductions it absorbs (amber); where a payments ledger is kept, a payment due by this month
    and not paid in full (amber). Due months as the payment calendar reads them
    (:func:`seatscore.compute.budget.due_month`)."""
    months = metrics.period if metrics.period is not None else metrics.months
    breaches = breaches_on_record(contract, metrics, month)
    schedule = payment_schedule(contract, months, breaches, month, payments)
    kept = payments is not None and not payments.is_empty()
    out = []
    for i, p in enumerate(schedule.iter_rows(named=True)):
        amount = p["nominal_cny"]
        due, _ = due_month(contract, p["through"], i == 0)
        if amount is None:
            continue
        if p["at_risk_zh"]:
            out.append(
                Finding(
                    "red",
                    f"{p['label_zh']} {format_cny(amount)} 有风险：{p['at_risk_zh']}（{p['clause']}）",
                    amount,
                )
            )
        elif due == shift_month(month, 1) and p["status"] != "已付":
            pays = p["paid_cny"]
            net = (
                f"，抵扣考核扣款 {format_cny(p['absorbed_cny'])} 后实付 {format_cny(pays)}"
                if p["absorbed_cny"] and pays is not None
                else ""
            )
            out.append(  # routine business, not a problem: listed after what is
                Finding(
                    "info",
                    f"{p['label_zh']} {format_cny(amount)} 下月到期{net}（{p['due_zh']}，{p['clause']}）",
                    pays if pays is not None else amount,
                )
            )
        elif kept and due is not None and due <= month and p["status"] in ("待付", "部分已付"):
            paid = p["recorded_cny"] or Decimal("0.00")
            out.append(
                Finding(
                    "amber",
                    f"{p['label_zh']}{p['status']}：应付 {format_cny(amount)}，付款台账记已付 "
                    f"{format_cny(paid)}（{p['due_zh']}，{p['clause']}）",
                    amount - paid,
                )
            )
    return out


def _booked(metrics: MonthlyMetrics, month: str) -> dict[str, int]:
    """Occurrences booked per assessment item in the month's deduction lines."""
    lines = metrics.lines.filter(pl.col("month") == month, pl.col("kind") == "deduction")
    out: dict[str, int] = {}
    for r in lines.iter_rows(named=True):
        out[r["rule_id"]] = out.get(r["rule_id"], 0) + (r["quantity"] or 0)
    return out


def _target_findings(
    contract: Contract, metrics: MonthlyMetrics, month: str, found: list[Verdict]
) -> list[Finding]:
    """Each missed target, against the contract's limit. Targets that one per-occurrence item
    deducts for (000: the three reply limits, 未采取有效措施造成超时回复 0.5 分每单据) are one
    finding: the misses, the occurrences the deductions ledger booked for the item, and the
    points and CNY the contract would attach to the rest (at most: the item may carry a condition
    the tickets cannot show). Misses all booked are no finding: the booked line is."""
    booked = _booked(metrics, month)
    nominal = metrics.months.filter(pl.col("month") == month)["nominal_fee_cny"][0]
    groups: dict[str, list[Verdict]] = {}
    for v in found:
        if v.met is False:
            groups.setdefault(v.item or v.key, []).append(v)
    out = []
    for key, group in groups.items():
        first = group[0]
        if not first.item or first.points_each is None:
            for v in group:
                what = (
                    f"{v.name_zh}：{_pct(v.value)}，未达合同要求（{v.limit_zh}）"
                    if v.by_share
                    else f"{v.name_zh}：{v.missed:,} 件{v.miss_zh}（共 {v.counted:,} 件）"
                )
                out.append(
                    Finding(
                        "amber", f"{what}（{v.clause}）；合同未规定对应扣分", count=v.missed or 0
                    )
                )
            continue
        missed = sum(v.missed or 0 for v in group)
        short = missed - booked.get(key, 0)
        if short <= 0:
            continue
        if len(group) == 1:
            what = f"{first.name_zh}：{missed:,} 件{first.miss_zh}（共 {first.counted:,} 件）"
        else:
            parts = "、".join(f"{v.name_zh} {v.missed:,} 件" for v in group if v.missed)
            what = f"{missed:,} 件{first.miss_zh}（{parts}）"
        clauses = "；".join(dict.fromkeys(v.clause for v in group if v.clause))
        points = first.points_each * short
        cny = fee_deduction(contract, nominal, points) if nominal is not None else None
        name = contract.rule_name_zh(key)
        ledger = "台账未记扣分" if not booked.get(key) else f"台账记“{name}” {booked[key]} 件"
        money = f"（{format_cny(cny)}）" if cny is not None else ""
        crossing = _crossing(metrics, month, first.points_each, short)
        out.append(
            Finding(
                "red" if crossing else "amber",
                f"{what}（{clauses}），{ledger}；按“{name}”每件 {pts(first.points_each)} 分，"
                f"未记的 {short:,} 件最多可扣 {pts(points)} 分{money}{crossing}",
                cny,
                short,
            )
        )
    return out


def _crossing(metrics: MonthlyMetrics, month: str, each: Decimal, short: int) -> str:
    """What charging the unbooked misses would do to a score trigger: the score it would fall
    to and how many misses cross the line (empty when none would). The item may carry a
    condition the tickets cannot show, so this is what to verify, not a booked fact."""
    score = metrics.months.filter(pl.col("month") == month)["score"][0]
    triggers = metrics.triggers.filter(
        pl.col("month") == month, pl.col("threshold_points").is_not_null()
    )
    if score is None or triggers.is_empty():
        return ""
    for t in triggers.sort("threshold_points", descending=True).iter_rows(named=True):
        word, line = t["threshold_word"] or "低于", t["threshold_points"]
        if holds(score, word, line) or not holds(score - each * short, word, line):
            continue
        k = max(int((score - line) / each), 1)
        while not holds(score - each * k, word, line):
            k += 1
        low = max(score - each * short, Decimal(0))
        return (
            f"；若全部计扣，本月得分将由 {pts(score)} 降至 {pts(low)}，{word}终止线 "
            f"{_whole(line)} 分（计扣 {k:,} 件即越线；{t['text_zh']}，{t['clause']}），"
            "请核实乙方是否采取了有效措施"
        )
    return ""


def _reported_findings(table: pl.DataFrame) -> list[Finding]:
    """The vendor's reported rates (KPI ledger) above the tickets' own by 0.1 percentage point or
    more (the difference before rounding)."""
    both = service_levels.compare_sources(table).filter(pl.col("unit") == "share")
    out = []
    for r in both.iter_rows(named=True):
        gap = (r["ledger_value"] - r["tickets_value"]) * 100
        if gap >= 0.1:
            name = METRICS[r["metric"]].name_zh if r["metric"] in METRICS else r["name_zh"]
            out.append(
                Finding(
                    "amber",
                    f"乙方自报{name} {_pct(r['ledger_value'])}，比工单计算值"
                    f"（{_pct(r['tickets_value'])}）高 {gap:.1f} 个百分点",
                )
            )
    return out


def _staffing_findings(contract: Contract, metrics: MonthlyMetrics, month: str) -> list[Finding]:
    if metrics.staffing is None:
        return []
    rules = {r.rule_id: r for r in contract.staffing_penalties}
    out = []
    for r in metrics.staffing.filter(pl.col("month") == month).iter_rows(named=True):
        if not r["gap_person_days"]:
            continue
        rule = rules[r["rule_id"]]
        money = r["staffing_penalty_cny"]
        what = (
            f"人员空缺 {r['vacancies']} 人次、{r['gap_person_days']} 人·天（按在册人数）"
            if rule.basis == "roster"
            else f"出勤缺口 {r['gap_person_days']} 人·天"
        )
        charge = (
            f"{rule.name_zh} {format_cny(money)}"
            if money is not None
            else f"{rule.name_zh}的金额合同未规定，无法计算"
        )
        out.append(Finding("amber", f"{what}：{charge}（{rule.clause}）", money))
    return out


def _data_findings(contract: Contract, metrics: MonthlyMetrics, month: str) -> list[Finding]:
    gaps = metrics.not_assessable.filter(pl.col("month") == month, pl.col("basis") != "terms")
    return [
        Finding(
            "amber",
            f"无法评估：{contract.rule_name_zh(r['rule'])}（{r['clause']}）：{r['reason']}",
        )
        for r in gaps.iter_rows(named=True)
    ]


def _line_findings(metrics: MonthlyMetrics, month: str) -> list[Finding]:
    """The month's largest booked lines (:data:`LARGEST_LINES`), money first, and one line for
    the rest, so the listed lines add up to what the month booked."""
    # Staffing lines are the staffing findings already.
    lines = month_lines(metrics, month).filter(pl.col("kind") != "staffing_penalty")
    out = []
    for r in lines.head(LARGEST_LINES).iter_rows(named=True):
        cny = r["cny"]
        points = f"扣 {pts(r['points'])} 分" if r["points"] is not None else ""
        money = format_cny(cny) if cny is not None else "金额未规定"
        count = quantity_zh(r["quantity"], r["unit_zh"])
        text = f"{r['name_zh']} {count}，" + (f"{points}（{money}）" if points else money)
        out.append(Finding("info", text + f"（{r['clause']}）", cny, r["quantity"] or 0))
    rest = lines.slice(LARGEST_LINES)
    if rest.height:
        points = sum((p for p in rest["points"].to_list() if p is not None), Decimal(0))
        cny = sum((c for c in rest["cny"].to_list() if c is not None), Decimal(0))
        what = f"扣 {pts(points)} 分" if points else ""
        out.append(
            Finding(
                "info",
                f"其余 {rest.height} 项扣分扣款共{what}（{format_cny(cny)}），见扣分与扣款明细",
                Decimal(0),  # after the lines it sums, whatever its amount
            )
        )
    return out


def month_lines(metrics: MonthlyMetrics, month: str) -> pl.DataFrame:
    """The month's lines (:attr:`MonthlyMetrics.lines`) with ``cny``, their money (CNY), largest
    first, then by points: a penalty's amount; for deductions, the month's fee deduction
    (after the category caps, as the statement books it) split over the lines in proportion to
    their points (:func:`seatscore.core.money.allocate`), so the lines add up to it to the fen;
    null where the contract states no rate."""
    lines = metrics.lines.filter(pl.col("month") == month)
    row = metrics.months.filter(pl.col("month") == month).row(0, named=True)
    is_deduction = [k == "deduction" for k in lines["kind"].to_list()]
    points = [p or Decimal(0) for p in lines["points"].to_list()]
    weights = [p for p, d in zip(points, is_deduction, strict=True) if d]
    total = row["fee_deduction_cny"]
    shares = (
        iter(allocate(total, weights))
        if weights and sum(weights) > 0 and total is not None and total > 0
        else iter([None] * len(weights))
    )
    money = [
        next(shares) if d else amount
        for d, amount in zip(is_deduction, lines["amount_cny"].to_list(), strict=True)
    ]
    return lines.with_columns(pl.Series("cny", money, dtype=MONEY)).sort(
        ["cny", "points"], descending=True, nulls_last=True
    )


_MEASURE_WORDS = {"单据": "张单据"}
"""Units that read as nouns in the params and need a measure word before them."""


def quantity_zh(quantity: int | None, unit_zh: str | None) -> str:
    """``(8, "每件")`` → ``8 件``; ``(3, "每人每次")`` → ``3 人次``; ``(1, "每单据")`` →
    ``1 张单据``; ``(12, "人·天")`` → ``12 人·天``."""
    if quantity is None:
        return ""
    unit = (unit_zh or "").replace("每", "") or "次"
    return f"{quantity:,} {_MEASURE_WORDS.get(unit, unit)}"


def _ending(contract: Contract, cutoff: dt.date) -> list[Finding]:
    end = contract.service_period.end
    days = (end - cutoff).days
    left = f"还有 {days} 天" if days else "即本月末"
    if 0 <= days <= ENDING_DAYS:
        return [
            Finding(
                "amber",
                f"服务期于 {end:%Y-%m-%d} 届满，{left}（{contract.service_period.clause}）",
            )
        ]
    return []


def month_findings(
    contract: Contract,
    metrics: MonthlyMetrics,
    month: str,
    kpi_month: pl.DataFrame,
    payments: pl.DataFrame | None,
    cutoff: dt.date | None = None,
) -> list[Finding]:
    """The month's findings, most serious first: by level (:data:`LEVELS`), then money at stake.

    ``kpi_month``: the month's rows of :func:`seatscore.compute.service_levels.kpi_table` (tickets
    and the KPI ledger, as known at ``cutoff``); ``payments``: the payments ledger as known at the
    cut-off; ``cutoff`` defaults to the month's last day.
    """
    cutoff = cutoff or month_end(month)
    found = [
        *_trigger_findings(contract, metrics, month),
        *_payment_findings(contract, metrics, month, payments),
        *_target_findings(contract, metrics, month, verdicts(contract, kpi_month)),
        *_staffing_findings(contract, metrics, month),
        *_reported_findings(kpi_month),
        *_data_findings(contract, metrics, month),
        *_ending(contract, cutoff),
        *_line_findings(metrics, month),
    ]
    return sorted(found, key=lambda f: rank(f.as_dict()))


def rank(finding: dict) -> tuple:
    """The sort key of a finding as plain data (:meth:`Finding.as_dict`, a stored statement's
    ``findings``): level (:data:`LEVELS`), then money at stake, then count, larger first — the
    one order of the report, the statement and the index."""
    return (LEVELS.index(finding["level"]), -Decimal(finding["cny"] or 0), -finding.get("count", 0))


def status(found: list[Finding]) -> Level | Literal["green"]:
    """A contract-month's status for the portfolio: ``red`` with any red finding, ``amber`` with
    any amber one, else ``green`` (booked lines alone are not a problem)."""
    levels = {f.level for f in found}
    return "red" if "red" in levels else ("amber" if "amber" in levels else "green")


def unstated_rules(metrics: MonthlyMetrics, month: str) -> int:
    """Rules not assessable because the contract leaves a term unstated (the same every month)."""
    gaps = metrics.not_assessable.filter(pl.col("month") == month, pl.col("basis") == "terms")
    return gaps["rule"].unique().len()
