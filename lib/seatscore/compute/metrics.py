"""Monthly scores, money and cost per seat for one contract, computed with Polars.

Input frames have the canonical ledger columns of :mod:`seatscore.ledgers.kinds` (one contract's rows).
Output (:class:`MonthlyMetrics`) has one row per calendar month of the service period. Money is
Decimal CNY rounded half up to the fen (:mod:`seatscore.core.money`); points are Decimal.

Rules, each from the contract params (the clause is carried in the params file):

- points per item: ``per_occurrence`` = occurrences × points; ``discretionary`` = occurrences ×
  the assessed points in the ledger; ``staffing_daily`` = post-days whose roster (``basis:
  roster``; attendance with ``basis: attendance``) is "``threshold_word`` ``threshold_share``" ×
  the post's stated minimum, × points (003 附件2 一: 低于 98 %); ``below_target`` =
  ⌊shortfall in percentage points / step⌋ × points, the shortfall measured on the month's tickets
  by :mod:`seatscore.compute.service_levels` (003 附件2 二 (三) 1 (2)), the tickets that missed being the
  line's evidence; ``repeat_reports`` = locations reported 3+ times within the stated window and
  not prompted × points (000 附件二 第四章 一 2); ``linear`` = points × (target − share) / (target − floor), clipped
  to 0 … points, rounded to 0.01 point.
- categories cap their points bottom-up ("扣完为止", 003 附件2); score = 100 − points lost.
- fee deduction: ``cny_per_point`` × points (000 附件二 第三章 二); ``share_of_monthly_fee``: the
  printed month's fee × points / 100 (003 一 (四)), rounded half up once, so a 003 month of
  168,333.33 with 20 points lost pays 168,333.33 − 33,666.67 = 134,666.66.
- staffing penalties (:func:`staffing_penalties`, every rule): on the roster, each vacancy's
  calendar days after its own grace of working days (000 六 4: 5, the first day not counted;
  :mod:`seatscore.compute.staffing`); on attendance, each absent person-day (004 三 (一) 5).
- money penalties: occurrences × the fixed amount, the assessed amount, or the share of the
  contract amount.
- cost per seat-month: the month's fee ÷ (seats × the month's served fraction), on the minimum
  headcount; where the contract states none (002), on seat-equivalents = covered seat-hours per
  week from the shift patterns ÷ 40 h (one 5×8 seat).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from seatscore.compute import staffing as staffing_mod
from seatscore.compute.frames import LineFrame, MonthFrame, polars_schema
from seatscore.compute.rule_inputs import ITEM_SCHEMA, NOT_ASSESSABLE_SCHEMA, RuleInputs
from seatscore.compute.rule_inputs import not_assessable as not_assessable_row
from seatscore.core.money import MONEY, POINTS, to_fen
from seatscore.ledgers.kinds import KINDS, ROWS, as_of, known_refs, with_refs
from seatscore.terms.contracts import Assessment, Contract, StaffingPenalty, TerminationTrigger
from seatscore.terms.periods import (
    PROVISIONAL_RULE_ZH,
    month_key,
    month_of,
    nominal_monthly_fees,
    parse_month,
)
from seatscore.terms.rule_kinds import rule_kind, unevaluable
from seatscore.terms.thresholds import holds

HOURS_PER_SEAT_WEEK = 40
"""One 5×8 seat covers 40 hours a week: the unit for seat-equivalents."""
CATEGORY_SCHEMA = {
    "month": pl.String,
    "category_id": pl.String,
    "name_zh": pl.String,
    "parent": pl.String,
    "cap_points": POINTS,
    "points_raw": POINTS,
    "points": POINTS,
}


@dataclass(frozen=True)
class MonthlyMetrics:
    """Everything the report and the comparison need for one contract.

    Attributes
    ----------
    months:
        One row per service month: the columns of
        :class:`~seatscore.compute.frames.MonthFrame` (checked when built).
    items:
        Points per rule item and month: ``month``, ``item_id``, ``category``, ``name_zh``,
        ``clause``, ``occurrences``, ``points``, ``detail_zh``, ``rows``.
    lines:
        Every deduction and penalty of every month, with the ledger rows behind it: the columns
        of :class:`~seatscore.compute.frames.LineFrame` (checked when built).
    categories:
        Points per category and month before and after its cap: ``month``, ``category_id``,
        ``name_zh``, ``parent``, ``cap_points``, ``points_raw``, ``points``.
    not_assessable:
        ``month``, ``rule``, ``clause``, ``reason``, ``basis``: rules that could not be applied,
        ``terms`` when the contract leaves a term unstated (the same every month until someone
        supplies it), ``data`` when the month's ledgers lack what the rule needs.
    triggers:
        :data:`TRIGGER_SCHEMA`: each evaluable termination trigger's ``state`` per month
        (:data:`TRIGGER_STATES`), ``since`` (the month or day its condition first held in the
        current run), ``months_counted`` / ``months_needed`` for score triggers.
    seat_basis_zh:
        How ``seats`` was obtained, in Chinese, for the report.
    vacancies:
        The roster's vacancy episodes (:class:`seatscore.staffing_mod.Vacancies`).
    staffing:
        Staffing penalties per rule and month (:data:`STAFFING_MONTH_SCHEMA`).
    """

    months: pl.DataFrame
    items: pl.DataFrame
    lines: pl.DataFrame
    categories: pl.DataFrame
    not_assessable: pl.DataFrame
    triggers: pl.DataFrame
    seat_basis_zh: str
    vacancies: staffing_mod.Vacancies | None = None
    staffing: pl.DataFrame | None = None
    period: pl.DataFrame | None = None
    """After :meth:`through`: every month of the service period as known at the cut (``months``'
    columns); later months carry their nominal fee and nothing else, for the payment schedule."""

    def through(self, month: str) -> MonthlyMetrics:
        """These figures cut at ``month`` (YYYY-MM): no row of a later month, so a month's report
        plots and lists nothing after it."""
        keep = pl.col("month") <= month
        return MonthlyMetrics(
            months=self.months.filter(keep),
            items=self.items.filter(keep),
            lines=self.lines.filter(keep),
            categories=self.categories.filter(keep),
            not_assessable=self.not_assessable.filter(keep),
            triggers=self.triggers.filter(keep),
            seat_basis_zh=self.seat_basis_zh,
            vacancies=self.vacancies,
            staffing=self.staffing.filter(keep) if self.staffing is not None else None,
            period=self.months,
        )


# ---------------------------------------------------------------- categories and caps


def cap_categories(assessment: Assessment, item_points: pl.DataFrame) -> pl.DataFrame:
    """Roll item points up the category tree, capping each category at ``cap_points``.

    ``item_points`` needs ``month``, ``item_id``, ``points``. A category's points are
    min(cap, its own items + its children's capped points). Returns one row per month and category.
    """
    category_of = {i.item_id: i.category for i in assessment.items}
    own: dict[tuple[str, str], Decimal] = {}
    for r in item_points.iter_rows(named=True):
        key = (r["month"], category_of[r["item_id"]])
        own[key] = own.get(key, Decimal(0)) + r["points"]
    depth = {
        c.category_id: len(assessment.category_chain(c.category_id)) for c in assessment.categories
    }
    ordered = sorted(assessment.categories, key=lambda c: -depth[c.category_id])
    rows = []
    for month in sorted({m for m, _ in own} | set(item_points["month"].to_list())):
        capped: dict[str, Decimal] = {}
        raw: dict[str, Decimal] = {}
        for c in ordered:
            children = [k.category_id for k in assessment.categories if k.parent == c.category_id]
            total = own.get((month, c.category_id), Decimal(0)) + sum(
                (capped[k] for k in children), Decimal(0)
            )
            raw[c.category_id] = total
            capped[c.category_id] = min(total, c.cap_points) if c.cap_points is not None else total
        for c in assessment.categories:
            rows.append(
                {
                    "month": month,
                    "category_id": c.category_id,
                    "name_zh": c.name_zh,
                    "parent": c.parent,
                    "cap_points": c.cap_points,
                    "points_raw": raw[c.category_id],
                    "points": capped[c.category_id],
                }
            )
    return pl.DataFrame(rows, schema=CATEGORY_SCHEMA)


# ---------------------------------------------------------------- staffing penalties

STAFFING_MONTH_SCHEMA = {
    "month": pl.String,
    "rule_id": pl.String,
    "gap_person_days": pl.Int64,
    "penalised_person_days": pl.Int64,
    "vacancies": pl.Int64,
    "provisional": pl.Boolean,
    "staffing_penalty_cny": MONEY,
    "rows": ROWS,
}


def _roster_months(
    rule: StaffingPenalty, vac: staffing_mod.Vacancies
) -> tuple[pl.DataFrame, list[dict]]:
    """``basis: roster``: vacancy-days per month, those charged after each vacancy's grace, the
    vacancies open, whether a grace ran on an unpublished calendar, the roster rows behind them;
    and the months whose roster has unknown days."""
    not_assessable = []
    grace = {i: r for i, r in enumerate(vac.episodes.iter_rows(named=True))}
    days = vac.days.with_columns(
        pl.col("vacancy")
        .replace_strict({i: r["provisional"] for i, r in grace.items()}, default=False)
        .alias("provisional")
    )
    evidence = (
        vac.gaps.explode("rows")
        .rename({"rows": "ref"})
        .join(
            days.filter("charged").select("group", "service_date").unique(),
            on=["group", "service_date"],
        )
        .with_columns(month_of("service_date"))
        .group_by("month")
        .agg(
            pl.col("ref")
            .filter(pl.col("ref").struct.field("row").is_not_null())
            .unique(maintain_order=True)
            .alias("rows")
        )
    )
    monthly = (
        days.group_by("month")
        .agg(
            pl.len().cast(pl.Int64).alias("gap_person_days"),
            pl.col("charged").sum().cast(pl.Int64).alias("penalised_person_days"),
            pl.col("vacancy").n_unique().cast(pl.Int64).alias("vacancies"),
            (pl.col("provisional") & pl.col("charged")).any().alias("provisional"),
        )
        .join(evidence, on="month", how="left")
    )
    for m, n in vac.unknown.group_by("month").agg(pl.col("days").sum()).sort("month").rows():
        not_assessable.append(
            not_assessable_row(
                rule.rule_id,
                rule.clause,
                m,
                f"在册人数缺 {n} 天的记录：这些天的空缺无法计算，扣款可能偏低",
            )
        )
    return monthly, not_assessable


def _attendance_months(attendance: pl.DataFrame) -> pl.DataFrame:
    """``basis: attendance``: person-days absent per month (all charged) and the rows behind them."""
    gaps = staffing_mod.attendance_gaps(attendance).filter(pl.col("gap") > 0)
    monthly = gaps.group_by("month").agg(
        pl.col("gap").sum().cast(pl.Int64).alias("gap_person_days"),
        pl.col("gap").sum().cast(pl.Int64).alias("penalised_person_days"),
        pl.lit(None, dtype=pl.Int64).alias("vacancies"),
        pl.lit(False).alias("provisional"),
        pl.col("ref").filter(pl.col("ref").struct.field("row").is_not_null()).alias("rows"),
    )
    return monthly


def staffing_penalties(
    contract: Contract, vac: staffing_mod.Vacancies, attendance: pl.DataFrame
) -> tuple[pl.DataFrame, list[dict]]:
    """Every staffing penalty of the contract, per rule and month (each rule applies).

    ``basis: roster`` (000 六 4): each vacancy is charged for every known calendar day it is open
    after its own grace (:mod:`seatscore.compute.staffing`); ``basis: attendance`` (004 三 (一) 5, 002 四 3):
    each person-day short on the attendance sheet is charged. The penalty is charged person-days ×
    the rate (CNY, to the fen). A rule whose rate is not stated gives null money and its months
    with gaps are listed as not assessable; a month with roster days unknown is listed too.

    Returns (frame of :data:`STAFFING_MONTH_SCHEMA`: ``gap_person_days`` — vacancy-days or
    absence person-days, ``penalised_person_days`` — those charged, ``vacancies`` — vacancies open
    in the month, ``provisional`` — a grace counted on an unpublished calendar; not-assessable rows).
    """
    parts: list[pl.DataFrame] = []
    not_assessable: list[dict] = []
    for rule in contract.staffing_penalties:
        rate = rule.rate_cny.value
        if rule.basis == "roster":
            monthly, unknown = _roster_months(rule, vac)
            not_assessable += unknown
        else:
            monthly = _attendance_months(attendance)
        if rate is None:
            money = pl.lit(None, dtype=MONEY)
            for m in monthly.filter(pl.col("gap_person_days") > 0)["month"].sort():
                not_assessable.append(
                    not_assessable_row(
                        rule.rule_id,
                        rule.clause,
                        m,
                        f"缺员扣款标准未规定：{rule.rate_cny.note}",
                        "terms",
                    )
                )
        else:
            money = pl.col("penalised_person_days").cast(MONEY) * to_fen(rate)
        parts.append(
            monthly.with_columns(
                pl.lit(rule.rule_id).alias("rule_id"),
                money.cast(MONEY).alias("staffing_penalty_cny"),
                pl.col("rows").fill_null([]),
            )
            .select(list(STAFFING_MONTH_SCHEMA))
            .cast(STAFFING_MONTH_SCHEMA)
        )
    frame = pl.concat(parts) if parts else pl.DataFrame(schema=STAFFING_MONTH_SCHEMA)
    return frame.sort("month", "rule_id"), not_assessable


# ---------------------------------------------------------------- money penalties


def incident_penalties(contract: Contract, penalties: pl.DataFrame) -> pl.DataFrame:
    """Money penalties per month and penalty: ``month``, ``penalty_id``, ``occurrences``,
    ``amount_cny`` (Decimal CNY: occurrences × the fixed amount, the assessed amount, or the share
    of the contract amount) and ``rows`` (the ledger rows behind it)."""
    amount = contract.amount_cny.value
    per_occurrence = {}
    for p in contract.penalties:
        if p.amount_cny is not None:
            per_occurrence[p.penalty_id] = p.amount_cny
        elif p.share_of_amount is not None and amount is not None:
            per_occurrence[p.penalty_id] = to_fen(amount * p.share_of_amount)
    fixed = pl.DataFrame(
        {"penalty_id": list(per_occurrence), "fixed_cny": list(per_occurrence.values())},
        schema={"penalty_id": pl.String, "fixed_cny": MONEY},
    )
    return (
        with_refs(penalties)
        .join(fixed, on="penalty_id", how="left")
        .with_columns(
            month_of("event_date"),
            (
                pl.col("occurrences").cast(MONEY) * pl.coalesce("assessed_amount_cny", "fixed_cny")
            ).alias("amount"),
        )
        .group_by("month", "penalty_id")
        .agg(
            pl.col("occurrences").sum().cast(pl.Int64),
            pl.col("amount").sum().cast(MONEY).alias("amount_cny"),
            known_refs(),
        )
        .sort("month", "penalty_id")
    )


# ---------------------------------------------------------------- termination triggers

TRIGGER_SCHEMA = {
    "month": pl.String,
    "trigger_id": pl.String,
    "kind": pl.String,
    "text_zh": pl.String,
    "clause": pl.String,
    "threshold_points": POINTS,
    "threshold_word": pl.String,
    "months_needed": pl.Int32,
    "months_counted": pl.Int32,
    "state": pl.String,
    "since": pl.String,
    "cure_days": pl.Int32,
    "triggered": pl.Boolean,
}
TRIGGER_STATES = ("clear", "warning", "breach", "fired")
"""``clear``; ``warning``: one more month fires it; ``breach``: the condition is met and the
notice and cure period are running; ``fired``: the buyer may terminate."""


def _score_trigger_rows(
    trigger: TerminationTrigger, scores: list[tuple[str, Decimal | None]]
) -> list[dict]:
    """Monthly-score triggers (000 六 6 低于 80 twice running; 003 四 (四) 85分以下 three running or
    four within twelve). A month without a score breaks a run. With ``cure_days`` (000 六 6: 7
    days after the notice), the condition first met in month M is a ``breach`` through M; the
    notice can come at the earliest when M's assessment is done, so the cure period ends
    ``cure_days`` after M's last day, and a condition still met in a month ending after that is
    ``fired``. A later month that no longer meets it is ``clear`` (put right)."""
    rows, run, flags = [], 0, []
    met_since: str | None = None
    word = trigger.threshold_word or "低于"
    for month, score in scores:
        below = score is not None and holds(score, word, trigger.threshold_points)
        run = run + 1 if below else 0
        flags.append(below)
        if trigger.kind == "consecutive_months_below":
            counted = run
        else:
            counted = sum(flags[-(trigger.window_months or 1) :])
        met = counted >= (trigger.months or 0)
        if met and met_since is None:
            met_since = month
        if not met:
            met_since = None
        if met:
            if trigger.cure_days is None:
                state = "fired"
            else:
                deadline = month_end(met_since) + dt.timedelta(days=trigger.cure_days)
                state = "fired" if month_end(month) > deadline else "breach"
        elif below and counted == (trigger.months or 0) - 1:
            state = "warning"
        else:
            state = "clear"
        rows.append(
            {
                "month": month,
                "months_counted": counted,
                "state": state,
                "since": met_since if met else None,
            }
        )
    return rows


def _staffing_trigger_rows(
    trigger: TerminationTrigger, vac: staffing_mod.Vacancies, months: list[str]
) -> list[dict]:
    """Roster triggers, day by day. ``staffing_gap`` (000 六 6 "人员缺岗5人（含）以上"): persons
    missing from the roster in all; the notice can come on the first day of a run at the
    earliest, so a run still going ``cure_days`` days later is ``fired``, one shorter is a
    ``breach``. ``vacancies_overdue`` (000 六 4): ``fired`` on the days it holds (no cure period).
    A month's state is the most serious a day of it reached; ``since`` is the run's first day."""
    if trigger.kind == "vacancies_overdue":
        held = {
            r[0]: True
            for r in staffing_mod.overdue_days(vac, trigger).select("service_date").rows()
        }
    else:
        gaps = staffing_mod.total_gap_by_day(vac)
        held = {
            day: True
            for day, gap in gaps.items()
            if holds(gap, trigger.count_word or "以上", trigger.min_persons or 0)
        }
    by_month: dict[str, tuple[str, str | None]] = {}
    rank = {s: i for i, s in enumerate(TRIGGER_STATES)}
    run_start: dt.date | None = None
    previous: dt.date | None = None
    for day in sorted(held):
        if previous is None or day - previous > dt.timedelta(days=1):
            run_start = day
        previous = day
        if trigger.kind == "vacancies_overdue" or trigger.cure_days is None:
            state = "fired"
        else:
            cured_by = run_start + dt.timedelta(days=trigger.cure_days)
            state = "fired" if day > cured_by else "breach"
        month = month_key(day)
        current = by_month.get(month, ("clear", None))
        if rank[state] >= rank[current[0]]:
            by_month[month] = (state, run_start.isoformat())
    return [
        {
            "month": m,
            "months_counted": None,
            "state": by_month.get(m, ("clear", None))[0],
            "since": by_month.get(m, ("clear", None))[1],
        }
        for m in months
    ]


def evaluate_triggers(
    contract: Contract, months: pl.DataFrame, vac: staffing_mod.Vacancies | None = None
) -> pl.DataFrame:
    """Each evaluable termination trigger's state in each month (:data:`TRIGGER_STATES`).

    Score triggers read ``months`` (``month``, ``score``); roster triggers read ``vac``. Triggers
    of kind ``other`` are described only and not listed. Thresholds follow the contract's word
    (:mod:`seatscore.terms.thresholds`): 003's "85分以下" fires on three months at exactly 85, 000's
    "低于80分" does not on two months at exactly 80.
    """
    rows = []
    scores = months.select("month", "score").rows()
    month_list = [m for m, _ in scores]
    for trigger in contract.termination_triggers:
        if trigger.kind == "other":
            continue
        if trigger.kind in ("staffing_gap", "vacancies_overdue"):
            if vac is None:
                continue
            states = _staffing_trigger_rows(trigger, vac, month_list)
        else:
            states = _score_trigger_rows(trigger, scores)
        for r in states:
            rows.append(
                {
                    **r,
                    "trigger_id": trigger.trigger_id,
                    "kind": trigger.kind,
                    "text_zh": trigger.text_zh,
                    "clause": trigger.clause,
                    "threshold_points": trigger.threshold_points,
                    "threshold_word": trigger.threshold_word or trigger.count_word,
                    "months_needed": trigger.months,
                    "cure_days": trigger.cure_days,
                    "triggered": r["state"] == "fired",
                }
            )
    return pl.DataFrame(rows, schema=TRIGGER_SCHEMA).select(list(TRIGGER_SCHEMA))


# ---------------------------------------------------------------- the month


def seat_basis(contract: Contract) -> tuple[Decimal | None, str]:
    """Seats for cost per seat-month, and how they were obtained (Chinese, for the report)."""
    if contract.seats is not None:
        basis = f"按合同最低人数 {contract.seats} 人（{contract.minimum_headcount.clause}）"
        return Decimal(contract.seats), basis
    hours = contract.covered_seat_hours_per_week
    if hours is not None:
        seats = Decimal(hours) / HOURS_PER_SEAT_WEEK
        patterns = " + ".join(
            p.shift_pattern.value.label for p in contract.posts if p.shift_pattern.value
        )
        return seats, (
            f"合同未规定人数，按班次折算：{patterns} = 每周 {hours} 座席小时 ÷ 40 小时 = {seats} 个座席当量"
        )
    return None, "合同未规定人数和完整班次，无法计算每座席成本"


def fee_deduction(contract: Contract, monthly_fee: Decimal | None, points: Decimal) -> Decimal:
    """The fee deduction (CNY) for ``points`` lost in a month, per the contract's fee formula.

    ``monthly_fee`` is the month's nominal fee as printed (to the fen). ``cny_per_point``: points
    × the rate (000 附件二 第三章 二). ``share_of_monthly_fee``: the printed fee × points / 100,
    rounded half up once (003 一 (四)), so a finance officer reproduces it from the line above:
    a 5-point month of 168,333.33 loses 8,416.67, and a 20-point month pays 168,333.33 −
    33,666.67 = 134,666.66.
    """
    formula = contract.fee_formula
    if formula.kind == "cny_per_point":
        return to_fen(points * formula.cny_per_point)
    if formula.kind == "share_of_monthly_fee":
        return to_fen(monthly_fee * points / 100)
    return Decimal("0.00")


LINE_SCHEMA = polars_schema(LineFrame)
"""The columns of :attr:`MonthlyMetrics.lines`, declared in :class:`~seatscore.compute.frames.LineFrame`."""


def _staffing_lines(contract: Contract, staffing_months: pl.DataFrame) -> list[pl.DataFrame]:
    """One line per staffing rule and month with a gap: person-days (charged, or the gap when the
    rate is not stated), the money, and how they were counted."""
    parts = []
    for rule in contract.staffing_penalties:
        rate = rule.rate_cny.value
        counted = "penalised" if rate is not None else "gap"  # unstated rate: show the gap
        if rule.basis == "roster":
            how = (
                f"各空缺满 {rule.grace_working_days} 个工作日宽限后按日历日计，"
                if rule.grace_working_days
                else "按在册人数的空缺日历日计，"
            )
        else:
            how = "按出勤缺口人·天计，"
        money = f"每人每天 {to_fen(rate)} 元" if rate is not None else "每人每天金额未规定"
        rows = staffing_months.filter(
            (pl.col("rule_id") == rule.rule_id) & (pl.col(f"{counted}_person_days") > 0)
        )
        parts.append(
            rows.select(
                "month",
                pl.lit("staffing_penalty").alias("kind"),
                pl.lit(rule.rule_id).alias("rule_id"),
                pl.lit(rule.name_zh).alias("name_zh"),
                pl.lit(rule.clause).alias("clause"),
                pl.col(f"{counted}_person_days").alias("quantity"),
                pl.lit("人·天").alias("unit_zh"),
                pl.lit(None, dtype=POINTS).alias("points"),
                pl.col("staffing_penalty_cny").alias("amount_cny"),
                pl.when(pl.col("provisional"))
                .then(pl.lit(how + money + "；" + PROVISIONAL_RULE_ZH))
                .otherwise(pl.lit(how + money))
                .alias("detail_zh"),
                "rows",
            )
        )
    return parts


def _lines(
    contract: Contract,
    items: pl.DataFrame,
    staffing_months: pl.DataFrame,
    penalty_lines: pl.DataFrame,
) -> pl.DataFrame:
    """One row per deduction item, staffing penalty rule and money penalty of each month.

    Staffing lines take their quantity and amount from :func:`staffing_penalties`' frame, so the
    money is computed in one place."""
    units = {}
    if contract.assessment.value is not None:
        units = {i.item_id: i.unit_zh for i in contract.assessment.value.items}
    deductions = items.filter(pl.col("points") > 0).select(
        "month",
        pl.lit("deduction").alias("kind"),
        pl.col("item_id").alias("rule_id"),
        "name_zh",
        "clause",
        pl.col("occurrences").cast(pl.Int64).alias("quantity"),
        pl.col("item_id").replace_strict(units, default="").alias("unit_zh"),
        "points",
        pl.lit(None, dtype=MONEY).alias("amount_cny"),
        "detail_zh",
        "rows",
    )
    parts = [deductions, *_staffing_lines(contract, staffing_months)]
    by_id = {p.penalty_id: p for p in contract.penalties}
    parts.append(
        penalty_lines.select(
            "month",
            pl.lit("penalty").alias("kind"),
            pl.col("penalty_id").alias("rule_id"),
            pl.col("penalty_id")
            .replace_strict({k: p.name_zh for k, p in by_id.items()})
            .alias("name_zh"),
            pl.col("penalty_id")
            .replace_strict({k: p.clause for k, p in by_id.items()})
            .alias("clause"),
            pl.col("occurrences").alias("quantity"),
            pl.col("penalty_id")
            .replace_strict({k: p.unit_zh for k, p in by_id.items()})
            .alias("unit_zh"),
            pl.lit(None, dtype=POINTS).alias("points"),
            "amount_cny",
            pl.lit(None, dtype=pl.String).alias("detail_zh"),
            "rows",
        )
    )
    return pl.concat([p.cast(LINE_SCHEMA).select(list(LINE_SCHEMA)) for p in parts]).sort(
        "month", "kind", "rule_id"
    )


def data_cutoff(*frames_and_columns: tuple[pl.DataFrame, str]) -> dt.date | None:
    """The latest day any of the frames records (each with the date or time column to read)."""
    days = []
    for frame, column in frames_and_columns:
        if column in frame.columns and frame.height:
            value = frame[column].max()
            if isinstance(value, dt.datetime):
                value = value.date()
            if value is not None:
                days.append(value)
    return max(days) if days else None


def _empty(kind: str) -> pl.DataFrame:
    return pl.DataFrame(schema=KINDS[kind].schema)


MONTH_SCHEMA = polars_schema(MonthFrame)
"""The columns of :attr:`MonthlyMetrics.months`, declared in :class:`~seatscore.compute.frames.MonthFrame`."""


def rule_inputs(
    contract: Contract,
    staffing: pl.DataFrame,
    deductions: pl.DataFrame,
    penalties: pl.DataFrame,
    tickets: pl.DataFrame,
    roster: pl.DataFrame,
    months: list[str],
) -> RuleInputs:
    """What the points functions read: the ledgers with their row references, the data's
    cut-off, the roster headcount per day and its vacancies (each with the grace of the contract's
    roster rule, 000 六 4)."""
    known_through = data_cutoff(
        (roster, "service_date"),
        (roster, "start_date"),
        (roster, "end_date"),
        (roster, "listed_on"),
        (staffing, "service_date"),
        (deductions, "event_date"),
        (penalties, "event_date"),
        (tickets, "received_at"),
    )
    headcount = staffing_mod.roster_headcount(contract, roster, known_through)
    roster_rule = next((r for r in contract.staffing_penalties if r.basis == "roster"), None)
    vac = staffing_mod.vacancies(
        contract,
        headcount,
        roster_rule.grace_working_days if roster_rule is not None else 0,
        known_through,
    )
    return RuleInputs(
        contract=contract,
        deductions=deductions,
        tickets=tickets,
        attendance=staffing,
        headcount=headcount,
        vacancies=vac,
        known_through=known_through,
        months=months,
    )


def assessment_points(
    contract: Contract, inputs: RuleInputs
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, list[dict]]:
    """Points per item (each by its kind's points function), per category after its cap, and
    lost per month (the root categories' sum); and the rules not assessable. Empty frames for a
    contract without a points sheet."""
    assessment = contract.assessment.value
    if assessment is None:
        items = pl.DataFrame(
            schema={**ITEM_SCHEMA, "category": pl.String, "name_zh": pl.String, "clause": pl.String}
        )
        lost = pl.DataFrame(schema={"month": pl.String, "points_lost": POINTS})
        return items, pl.DataFrame(schema=CATEGORY_SCHEMA), lost, []
    parts, not_assessable = [], []
    for item in assessment.items:
        points_of = rule_kind(item.kind).points
        if points_of is None:  # refused at load; a contract built in code must not slip through
            raise ValueError(unevaluable([item])[0])
        frame, missing = points_of(inputs, item)
        parts.append(frame.cast(ITEM_SCHEMA).select(list(ITEM_SCHEMA)))
        not_assessable += missing
    item_points = pl.concat(parts)
    item_info = pl.DataFrame(
        [
            {"item_id": i.item_id, "category": i.category, "name_zh": i.name_zh, "clause": i.clause}
            for i in assessment.items
        ]
    )
    items = item_points.join(item_info, on="item_id", how="left").sort("month", "item_id")
    categories = cap_categories(assessment, item_points)
    roots = {c.category_id for c in assessment.categories if c.parent is None}
    lost = (
        categories.filter(pl.col("category_id").is_in(roots))
        .group_by("month")
        .agg(pl.col("points").sum().alias("points_lost"))
    )
    return items, categories, lost, not_assessable


def _month_inputs(
    fees: pl.DataFrame,
    lost: pl.DataFrame,
    staffing_months: pl.DataFrame,
    penalty_lines: pl.DataFrame,
    tickets: pl.DataFrame,
    payments: pl.DataFrame,
) -> pl.DataFrame:
    """One row per service month: the nominal fee, points lost, staffing gaps and their money
    (null when any rule's rate is not stated), incident penalties, tickets and CNY paid."""
    gaps = staffing_months.group_by("month").agg(
        pl.col("gap_person_days").sum(),
        pl.col("penalised_person_days").sum(),
        pl.col("provisional").any(),
        pl.when(pl.col("staffing_penalty_cny").is_null().any())
        .then(None)
        .otherwise(pl.col("staffing_penalty_cny").sum())
        .cast(MONEY)
        .alias("staffing_penalty_cny"),
    )
    incidents = penalty_lines.group_by("month").agg(
        pl.col("amount_cny").sum().cast(MONEY).alias("incident_penalty_cny")
    )
    ticket_counts = (
        tickets.with_columns(month_of("received_at"))
        .group_by("month")
        .agg(pl.len().cast(pl.Int64).alias("tickets"))
    )
    paid = (
        payments.filter(pl.col("paid_on").is_not_null())
        .with_columns(month_of("paid_on"))
        .group_by("month")
        .agg(pl.col("amount_cny").sum().cast(MONEY).alias("paid_cny"))
    )
    return (
        fees.join(lost, on="month", how="left")
        .join(gaps.with_columns(pl.lit(True).alias("_staffed")), on="month", how="left")
        .join(incidents, on="month", how="left")
        .join(ticket_counts, on="month", how="left")
        .join(paid, on="month", how="left")
        .with_columns(
            pl.col("tickets").fill_null(0),
            pl.col("gap_person_days").fill_null(0),
            pl.col("penalised_person_days").fill_null(0),
            pl.col("provisional").fill_null(False),
            pl.col("incident_penalty_cny").fill_null(Decimal("0.00")),
            pl.col("paid_cny").fill_null(Decimal("0.00")),
            # A month without a staffing gap has no staffing penalty.
            pl.when(pl.col("_staffed").is_null())
            .then(Decimal("0.00"))
            .otherwise(pl.col("staffing_penalty_cny"))
            .cast(MONEY)
            .alias("staffing_penalty_cny"),
        )
    )


def _month_row(contract: Contract, r: dict, incomplete: set[str], seats: Decimal | None) -> dict:
    """One row of :data:`MONTH_SCHEMA` from a row of :func:`_month_inputs`: score, fee
    deduction, payable (nominal − deduction − staffing − incident penalties, to the fen; None when
    no amount is stated) and cost per seat-month."""
    assessment = contract.assessment.value
    points = score = None
    deduction = Decimal("0.00")
    if assessment is not None:
        points = min(r["points_lost"] or Decimal(0), assessment.max_points)
        score = assessment.max_points - points
        deduction = fee_deduction(contract, r["nominal_fee_cny"], points)
    staffing_penalty = r["staffing_penalty_cny"]  # None: not assessable
    payable = (  # None: no amount stated, so no fee to pay or reduce
        r["nominal_fee_cny"] - deduction - (staffing_penalty or 0) - r["incident_penalty_cny"]
        if r["nominal_fee_cny"] is not None
        else None
    )
    seat_months = seats * r["month_weight"] if seats is not None else None
    return {
        **{k: r[k] for k in ("month", "first_day", "last_day", "service_days", "days_in_month")},
        "month_weight": r["month_weight"],
        "nominal_fee_cny": r["nominal_fee_cny"],
        "points_lost": points,
        "score": score,
        "fee_deduction_cny": deduction,
        "gap_person_days": r["gap_person_days"],
        "penalised_person_days": r["penalised_person_days"],
        "staffing_penalty_cny": staffing_penalty,
        "incident_penalty_cny": r["incident_penalty_cny"],
        "payable_cny": to_fen(payable) if payable is not None else None,
        "payable_complete": r["month"] not in incomplete,
        "provisional": r["provisional"],
        "seats": seats,
        "cost_per_seat_month_nominal_cny": to_fen(r["nominal_fee_cny"] / seat_months)
        if seat_months
        else None,
        "cost_per_seat_month_payable_cny": to_fen(payable / seat_months) if seat_months else None,
        "tickets": r["tickets"],
        "paid_cny": r["paid_cny"],
    }


def monthly_metrics(
    contract: Contract,
    staffing: pl.DataFrame,
    deductions: pl.DataFrame,
    penalties: pl.DataFrame,
    tickets: pl.DataFrame,
    roster: pl.DataFrame | None = None,
    payments: pl.DataFrame | None = None,
) -> MonthlyMetrics:
    """All monthly figures of one contract from its ledgers (frames of :mod:`seatscore.ledgers.kinds`:
    ``staffing`` is the attendance sheet, ``roster`` the roster, ``payments`` what was paid)."""
    roster = roster if roster is not None else _empty("roster")
    payments = payments if payments is not None else _empty("payments")
    staffing, deductions = with_refs(staffing), with_refs(deductions)
    fees = nominal_monthly_fees(contract)
    inputs = rule_inputs(
        contract, staffing, deductions, penalties, tickets, roster, fees["month"].to_list()
    )
    items, categories, lost, not_assessable = assessment_points(contract, inputs)
    staffing_months, missing = staffing_penalties(contract, inputs.vacancies, staffing)
    not_assessable += missing
    penalty_lines = incident_penalties(contract, penalties)
    month_rows = _month_inputs(fees, lost, staffing_months, penalty_lines, tickets, payments)
    incomplete = {n["month"] for n in not_assessable}
    seats, seat_basis_zh = seat_basis(contract)
    months_frame = MonthFrame.validate(
        pl.DataFrame(
            [_month_row(contract, r, incomplete, seats) for r in month_rows.iter_rows(named=True)],
            schema=MONTH_SCHEMA,
        )
    )
    return MonthlyMetrics(
        months=months_frame,
        items=items,
        lines=LineFrame.validate(_lines(contract, items, staffing_months, penalty_lines)),
        categories=categories,
        not_assessable=pl.DataFrame(not_assessable, schema=NOT_ASSESSABLE_SCHEMA)
        .with_columns(pl.col("basis").fill_null("data"))
        .unique(maintain_order=True),
        triggers=evaluate_triggers(contract, months_frame, inputs.vacancies),
        vacancies=inputs.vacancies,
        staffing=staffing_months,
        seat_basis_zh=seat_basis_zh,
    )


def month_end(month: str) -> dt.date:
    """The last day of ``month`` (YYYY-MM)."""
    first = parse_month(month)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


METRICS_LEDGERS = ("staffing", "roster", "deductions", "penalties", "tickets", "payments")
"""The ledger kinds :func:`monthly_metrics` reads."""


def metrics_as_of(
    contract: Contract,
    ledgers: dict[str, pl.DataFrame],
    month: str,
    cutoff: dt.date | None = None,
) -> MonthlyMetrics:
    """Month ``month``'s figures as they were known at its end: every ledger cut at the month's
    last day (or at ``cutoff`` when that is earlier: a month not yet over,
    :func:`seatscore.ledgers.kinds.as_of`), computed, and sliced through the month
    (:meth:`MonthlyMetrics.through`).

    ``ledgers`` is keyed as :func:`monthly_metrics` takes them (``staffing``, ``roster``,
    ``deductions``, ``penalties``, ``tickets``, ``payments``; :func:`seatscore.ledgers.store.ledgers`);
    the other kinds (``kpis``: the vendor's reported figures; ``calls``) are not read.
    """
    end = month_end(month) if cutoff is None else min(cutoff, month_end(month))
    cut = {k: as_of(k, frame, end) for k, frame in ledgers.items() if k in METRICS_LEDGERS}
    return monthly_metrics(contract, **cut).through(month)
