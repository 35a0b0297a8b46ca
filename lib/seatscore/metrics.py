"""Monthly scores, money and cost per seat for one contract, computed with Polars.

Input frames have the canonical ledger columns of :mod:`seatscore.ledgers` (one contract's rows).
Output (:class:`MonthlyMetrics`) has one row per calendar month of the service period. Money is
Decimal CNY rounded half up to the fen (:mod:`seatscore.money`); points are Decimal.

Rules, each from the contract params (the clause is carried in the params file):

- points per item: ``per_occurrence`` = occurrences × points; ``discretionary`` = occurrences ×
  the assessed points in the ledger; ``staffing_daily`` = post-days with present staff below
  ``threshold_share`` × the post's stated minimum × points (003 附件2 一); ``below_target`` =
  ⌊shortfall in percentage points / step⌋ × points, the shortfall measured on the month's tickets
  by :mod:`seatscore.service_levels` (003 附件2 二 (三) 1 (2)), the tickets that missed being the
  line's evidence; ``repeat_reports`` = locations reported 3+ times within the stated window and
  not prompted × points (000 附件二 第四章 一 2); ``linear`` = points × (target − share) / (target − floor), clipped
  to 0 … points, rounded to 0.01 point.
- categories cap their points bottom-up ("扣完为止", 003 附件2); score = 100 − points lost.
- fee deduction: ``cny_per_point`` × points (000 附件二 第三章 二); ``share_of_monthly_fee``: the
  month's fee × points / 100 (003 一 (四)); the formula is evaluated exactly and rounded once, so
  the payable fee of a full 003 month with 20 points lost is 2,020,000 / 12 × 80 % = 134,666.67.
- staffing penalty: CNY per missing person per day, counting only days after the grace period of
  working days from the first day of a vacancy (000 六 4: 5 working days, the first day not
  counted; 004 三 (一) 5: none).
- money penalties: occurrences × the fixed amount, the assessed amount, or the share of the
  contract amount.
- cost per seat-month: the month's fee ÷ (seats × the month's served fraction), on the minimum
  headcount; where the contract states none (002), on seat-equivalents = covered seat-hours per
  week from the shift patterns ÷ 40 h (one 5×8 seat).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from seatscore.contracts import Assessment, Contract, RuleItem
from seatscore.money import to_fen
from seatscore.periods import PROVISIONAL_RULE_ZH, nominal_monthly_fees, nth_working_day_after
from seatscore.service_levels import METRICS, Measure, as_of_time, repeated_reports, state_expr

MONEY = pl.Decimal(14, 2)
POINTS = pl.Decimal(7, 2)
HOURS_PER_SEAT_WEEK = 40
"""One 5×8 seat covers 40 hours a week: the unit for seat-equivalents."""
REF = pl.Struct({"file": pl.String, "row": pl.Int32})
"""A ledger row: the file it was loaded from and its row number there (header = row 1)."""
ROWS = pl.List(REF)
CATEGORY_SCHEMA = {
    "month": pl.String,
    "category_id": pl.String,
    "name_zh": pl.String,
    "parent": pl.String,
    "cap_points": POINTS,
    "points_raw": POINTS,
    "points": POINTS,
}
ITEM_SCHEMA = {
    "month": pl.String,
    "item_id": pl.String,
    "occurrences": pl.Int32,
    "points": POINTS,
    "detail_zh": pl.String,
    "rows": ROWS,
}


def with_refs(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``ref`` (file, row) from ``source_file``/``source_row``, null where a frame has none."""
    for column, dtype in (("source_file", pl.String), ("source_row", pl.Int32)):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(column))
    ref = pl.struct(file=pl.col("source_file"), row=pl.col("source_row").cast(pl.Int32))
    return frame.with_columns(ref.alias("ref"))


def _rows() -> pl.Expr:
    return pl.col("ref").filter(pl.col("ref").struct.field("row").is_not_null()).alias("rows")


@dataclass(frozen=True)
class MonthlyMetrics:
    """Everything the report and the comparison need for one contract.

    Attributes
    ----------
    months:
        One row per service month: ``month`` (YYYY-MM), ``service_days``, ``days_in_month``,
        ``nominal_fee_cny``, ``points_lost``, ``score`` (null without a points sheet),
        ``fee_deduction_cny``, ``gap_person_days``, ``penalised_person_days``,
        ``staffing_penalty_cny`` (null: not assessable), ``incident_penalty_cny``, ``payable_cny``,
        ``payable_complete`` (false when a not-assessable rule may lower it further),
        ``seats`` (Decimal), ``cost_per_seat_month_nominal_cny``, ``cost_per_seat_month_payable_cny``,
        ``tickets``.
    items:
        Points per rule item and month: ``month``, ``item_id``, ``category``, ``name_zh``,
        ``clause``, ``occurrences``, ``points``, ``detail_zh``, ``rows``.
    lines:
        Every deduction and penalty of every month, with what is behind it: ``month``, ``kind``
        (``deduction`` in points, ``staffing_penalty`` or ``penalty`` in CNY), ``rule_id``,
        ``name_zh``, ``clause``, ``quantity``, ``unit_zh``, ``points``, ``amount_cny``,
        ``detail_zh`` and ``rows`` (list of ``{file, row}``: the ledger rows behind the line).
    categories:
        Points per category and month before and after its cap: ``month``, ``category_id``,
        ``name_zh``, ``parent``, ``cap_points``, ``points_raw``, ``points``.
    not_assessable:
        ``month``, ``rule``, ``clause``, ``reason``: rules that could not be applied.
    triggers:
        ``month``, ``trigger_id``, ``text_zh``, ``threshold_points``, ``months_needed``,
        ``months_counted``, ``triggered``: termination triggers on the monthly scores.
    seat_basis_zh:
        How ``seats`` was obtained, in Chinese, for the report.
    """

    months: pl.DataFrame
    items: pl.DataFrame
    lines: pl.DataFrame
    categories: pl.DataFrame
    not_assessable: pl.DataFrame
    triggers: pl.DataFrame
    seat_basis_zh: str


def _month(col: str) -> pl.Expr:
    return pl.col(col).dt.strftime("%Y-%m").alias("month")


# ---------------------------------------------------------------- points per item


def _per_occurrence_points(assessment: Assessment, deductions: pl.DataFrame) -> pl.DataFrame:
    items = pl.DataFrame(
        [
            {
                "item_id": i.item_id,
                "fixed_points": i.points,
            }
            for i in assessment.items
            if i.kind in ("per_occurrence", "discretionary")
        ],
        schema={"item_id": pl.String, "fixed_points": POINTS},
    )
    return (
        deductions.join(items, on="item_id", how="inner")
        .with_columns(
            _month("event_date"),
            (
                pl.col("occurrences").cast(POINTS) * pl.coalesce("assessed_points", "fixed_points")
            ).alias("points"),
        )
        .group_by("month", "item_id")
        .agg(pl.col("occurrences").sum(), pl.col("points").sum(), _rows())
        .with_columns(pl.lit(None, dtype=pl.String).alias("detail_zh"))
    )


def _staffing_daily_points(
    contract: Contract, item: RuleItem, staffing: pl.DataFrame, months: list[str]
) -> tuple[pl.DataFrame, list[dict]]:
    """003 附件2 一: ``item.points`` per post-day with present < threshold × the post's minimum."""
    minimums = {p.post_id: p.min_headcount.value for p in contract.posts}
    unstated = sorted(pid for pid, m in minimums.items() if m is None)
    not_assessable = [
        {
            "month": m,
            "rule": item.item_id,
            "clause": item.clause,
            "reason": f"岗位 {', '.join(unstated)} 的最低保障人数合同未规定",
        }
        for m in months
        if unstated
    ]
    stated = pl.DataFrame(
        {"post_id": list(minimums), "minimum": list(minimums.values())},
        schema={"post_id": pl.String, "minimum": pl.Int32},
    ).drop_nulls()
    threshold = item.threshold_share
    short = (
        staffing.join(stated, on="post_id", how="inner")
        .filter(
            pl.col("present").cast(pl.Decimal(12, 4))
            < pl.col("minimum").cast(pl.Decimal(12, 4)) * threshold
        )
        .with_columns(_month("service_date"))
        .group_by("month")
        .agg(pl.len().cast(pl.Int32).alias("occurrences"), _rows())
        .with_columns(
            pl.lit(item.item_id).alias("item_id"),
            (pl.col("occurrences").cast(POINTS) * item.points).alias("points"),
            pl.format(
                "{} 个岗位·天低于最低保障人数的 {}%", "occurrences", pl.lit(f"{threshold * 100:g}")
            ).alias("detail_zh"),
        )
    )
    return short, not_assessable


def rate_by_month(tickets: pl.DataFrame, metric: str) -> pl.DataFrame:
    """A ticket rate per month of receipt, from :mod:`seatscore.service_levels` (the same measure
    the service-level section shows): ``month``, ``hits``, ``total`` and ``rows`` (the ledger rows
    of the tickets that missed — the evidence behind a shortfall). A month with no ticket the
    rate applies to is absent, so its share stays undefined rather than zero.

    Raises ``KeyError`` for a metric tickets cannot yield.
    """
    if metric not in METRICS or Measure.general(metric).assessable is not None:
        raise KeyError(metric)
    measure = Measure.general(metric)
    state = state_expr(measure, as_of_time(tickets))
    return (
        with_refs(tickets)
        .with_columns(_month("received_at"), state.alias("state"))
        .filter(pl.col("state").is_in(["met", "missed"]))
        .group_by("month")
        .agg(
            (pl.col("state") == "met").sum().alias("hits"),
            pl.len().alias("total"),
            pl.col("ref")
            .filter((pl.col("state") == "missed") & pl.col("ref").struct.field("row").is_not_null())
            .alias("rows"),
        )
    )


def below_target_points(
    target: Decimal, hits: int, total: int, points: Decimal, step_pct_points: Decimal
) -> Decimal:
    """Points for a measured share ``hits / total`` short of ``target`` (share 0–1).

    ⌊(target − hits/total) × 100 / step⌋ × points, never negative; evaluated exactly. 003 附件2
    二 (三) 1: "低于指标值一个百分点扣0.5分，以此类推" read as whole steps of one point.
    Raises ``ZeroDivisionError`` for ``total == 0`` (the share is undefined).
    """
    shortfall_pct = (target * total - hits) * 100 / Decimal(total)
    steps = max(0, math.floor(shortfall_pct / step_pct_points))
    return Decimal(steps) * points


def linear_points(
    target: Decimal, floor: Decimal, hits: int, total: int, points: Decimal
) -> Decimal:
    """Points lost on a linear scale: none at or above ``target``, all ``points`` at or below
    ``floor``, in proportion between; rounded half up to 0.01 point.

    Raises ``ZeroDivisionError`` for ``total == 0`` (the share is undefined).
    """
    share = Decimal(hits) / Decimal(total)
    fraction = min(Decimal(1), max(Decimal(0), (target - share) / (target - floor)))
    return (points * fraction).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _below_target_points(
    item: RuleItem, tickets: pl.DataFrame, months: list[str]
) -> tuple[pl.DataFrame, list[dict]]:
    schema = ITEM_SCHEMA
    target = item.target_share.value if item.target_share is not None else None

    def skip(reason: str) -> tuple[pl.DataFrame, list[dict]]:
        rows = [
            {"month": m, "rule": item.item_id, "clause": item.clause, "reason": reason}
            for m in months
        ]
        return pl.DataFrame(schema=schema), rows

    if target is None:
        note = item.target_share.note if item.target_share is not None else None
        return skip(f"指标值未规定：{note or '合同未写明'}")
    try:
        rates = rate_by_month(tickets, item.measure or "")
    except KeyError:
        return skip(f"台账中没有计算“{item.measure}”所需的数据")
    by_month = {r["month"]: r for r in rates.iter_rows(named=True)}
    rows, missing = [], []
    for m in months:
        r = by_month.get(m)
        if r is None or not r["total"]:
            missing.append(
                {
                    "month": m,
                    "rule": item.item_id,
                    "clause": item.clause,
                    "reason": "本月无可计算的工单，比率无定义",
                }
            )
            continue
        hits, total = r["hits"], r["total"]
        if item.kind == "linear":
            pts = linear_points(target, item.floor_share, hits, total, item.points)
        else:
            pts = below_target_points(target, hits, total, item.points, item.step_pct_points)
        share = Decimal(hits) / Decimal(total)
        detail = f"本月 {share * 100:.2f}%（{hits}/{total} 张工单），指标 {target * 100:g}%"
        rows.append(
            {
                "month": m,
                "item_id": item.item_id,
                "occurrences": 1,
                "points": pts,
                "detail_zh": detail,
                "rows": r["rows"] if pts > 0 else [],
            }
        )
    return pl.DataFrame(rows, schema=schema), missing


def _repeat_report_points(
    item: RuleItem, tickets: pl.DataFrame, months: list[str]
) -> tuple[pl.DataFrame, list[dict]]:
    """000 附件二 第四章 一 2: ``item.points`` per location reported ``min_reports``+ times within
    the window without an instant prompt (:func:`seatscore.service_levels.repeated_reports`).
    Not assessable while the window is unstated, and for locations whose tickets do not record
    whether a prompt was made."""

    def reason(month: str, text: str) -> dict:
        return {"month": month, "rule": item.item_id, "clause": item.clause, "reason": text}

    window = item.window_hours.value
    if window is None:
        note = item.window_hours.note or "合同未写明"
        return pl.DataFrame(schema=ITEM_SCHEMA), [
            reason(m, f"时间窗口未规定：{note}") for m in months
        ]
    episodes = repeated_reports(tickets, item.min_reports, float(window))
    refs = with_refs(tickets).select("ticket_id", "ref")
    rows, missing = [], []
    for m in months:
        month = episodes.filter(pl.col("month") == m)
        unknown = month.filter(pl.col("prompted").is_null()).height
        if unknown:
            missing.append(reason(m, f"{unknown} 处重复举报点位的工单未记录是否即时提示"))
        failed = month.filter(pl.col("prompted").not_(), pl.col("prompted").is_not_null())
        if failed.is_empty():
            continue
        ids = failed.explode("ticket_ids")["ticket_ids"]
        evidence = refs.filter(pl.col("ticket_id").is_in(ids.implode()))["ref"]
        rows.append(
            {
                "month": m,
                "item_id": item.item_id,
                "occurrences": failed.height,
                "points": item.points * failed.height,
                "detail_zh": "、".join(failed["location"].to_list()[:5])
                + (" 等" if failed.height > 5 else "")
                + f"（{float(window):g} 小时内 {item.min_reports} 次及以上）",
                "rows": [r for r in evidence.to_list() if r["row"] is not None],
            }
        )
    return pl.DataFrame(rows, schema=ITEM_SCHEMA), missing


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


# ---------------------------------------------------------------- staffing gaps


def staffing_gaps(
    contract: Contract, staffing: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, list[dict]]:
    """Gap person-days, penalised person-days and the staffing penalty, per day and per month.

    A day's gap at a post is max(required − present, 0) persons. A vacancy is a run of consecutive
    days with a gap at one post; with a grace period of *g* working days, the days up to and
    including the *g*-th working day after the run's first day are not penalised (000 六 4, read
    as "期间开始的当日不计入"). The penalty is penalised person-days × the rate (CNY). With no
    staffing rule the penalty is 0; with a rule whose rate is not stated it is null and the month
    is listed as not assessable. A grace period counted on an unpublished year's calendar is
    flagged ``provisional`` (:func:`seatscore.periods.working_day`).

    Returns (daily frame: the staffing columns plus ``month``, ``gap``, ``penalised``,
    ``provisional``; monthly frame: ``month``, ``gap_person_days``, ``penalised_person_days``,
    ``provisional``, ``staffing_penalty_cny``; not-assessable rows).
    """
    first_of_run = (pl.col("gap") > 0) & (
        (pl.col("gap").shift(1).over("post_id").fill_null(0) == 0)
        | (pl.col("service_date").diff().over("post_id") != pl.duration(days=1)).fill_null(True)
    )
    daily = (
        staffing.with_columns(
            (pl.col("required") - pl.col("present")).clip(lower_bound=0).alias("gap")
        )
        .sort("post_id", "service_date")
        .with_columns(first_of_run.alias("run_starts"))
        .with_columns(pl.col("run_starts").cum_sum().over("post_id").alias("run"))
        .with_columns(
            pl.when(pl.col("gap") > 0)
            .then(
                pl.col("service_date").filter(pl.col("run_starts")).first().over("post_id", "run")
            )
            .alias("run_start"),
            _month("service_date"),
        )
    )
    rule = contract.staffing_penalties[0] if contract.staffing_penalties else None
    grace = rule.grace_working_days if rule is not None else 0
    ends = {}
    for start in daily["run_start"].drop_nulls().unique().to_list():
        ends[start] = nth_working_day_after(start, grace) if grace else (start, False)
    grace_frame = pl.DataFrame(
        {
            "run_start": list(ends),
            "grace_end": [end for end, _ in ends.values()],
            "provisional": [guessed for _, guessed in ends.values()],
        },
        schema={"run_start": pl.Date, "grace_end": pl.Date, "provisional": pl.Boolean},
    )
    after_grace = pl.col("service_date") > pl.col("grace_end") if grace else pl.lit(True)
    daily = (
        daily.join(grace_frame, on="run_start", how="left")
        .with_columns(
            pl.when((pl.col("gap") > 0) & after_grace & pl.lit(rule is not None))
            .then(pl.col("gap"))
            .otherwise(0)
            .alias("penalised"),
            (pl.col("provisional").fill_null(False) & (pl.col("gap") > 0)).alias("provisional"),
        )
        .drop("run_starts", "run", "grace_end")
    )
    monthly = daily.group_by("month").agg(
        pl.col("gap").sum().cast(pl.Int64).alias("gap_person_days"),
        pl.col("penalised").sum().cast(pl.Int64).alias("penalised_person_days"),
        pl.col("provisional").any().alias("provisional"),
    )
    not_assessable: list[dict] = []
    if rule is None:
        penalty = pl.lit(Decimal("0.00"), dtype=MONEY)
    elif rule.rate_cny.value is None:
        penalty = pl.lit(None, dtype=MONEY)
        months_with_gaps = monthly.filter(pl.col("gap_person_days") > 0)["month"].sort()
        not_assessable += [
            {
                "month": m,
                "rule": "staffing_penalty",
                "clause": rule.clause,
                "reason": f"缺员扣款标准未规定：{rule.rate_cny.note}",
            }
            for m in months_with_gaps
        ]
    else:
        penalty = pl.col("penalised_person_days").cast(MONEY) * to_fen(rule.rate_cny.value)
    penalty = pl.when(pl.col("gap_person_days") == 0).then(Decimal("0.00")).otherwise(penalty)
    monthly = monthly.with_columns(penalty.cast(MONEY).alias("staffing_penalty_cny"))
    return daily, monthly, not_assessable


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
            _month("event_date"),
            (
                pl.col("occurrences").cast(MONEY) * pl.coalesce("assessed_amount_cny", "fixed_cny")
            ).alias("amount"),
        )
        .group_by("month", "penalty_id")
        .agg(
            pl.col("occurrences").sum().cast(pl.Int64),
            pl.col("amount").sum().cast(MONEY).alias("amount_cny"),
            _rows(),
        )
        .sort("month", "penalty_id")
    )


# ---------------------------------------------------------------- termination triggers


def evaluate_triggers(contract: Contract, months: pl.DataFrame) -> pl.DataFrame:
    """For each month, how many qualifying low-score months count towards each trigger.

    ``consecutive_months_below``: the run of consecutive months under the threshold ending in the
    month (000 六 6; 003 四 (四)). ``months_below_within``: months under the threshold in the last
    ``window_months`` months, this one included (003 四 (四)). Months without a score break a run.
    """
    rows = []
    scores = months.select("month", "score").rows()
    for trigger in contract.termination_triggers:
        if trigger.kind == "other":
            continue
        threshold = trigger.threshold_points
        run = 0
        below_flags: list[bool] = []
        for month, score in scores:
            below = score is not None and score < threshold
            run = run + 1 if below else 0
            below_flags.append(below)
            if trigger.kind == "consecutive_months_below":
                counted = run
            else:
                counted = sum(below_flags[-trigger.window_months :])
            rows.append(
                {
                    "month": month,
                    "trigger_id": trigger.trigger_id,
                    "text_zh": trigger.text_zh,
                    "clause": trigger.clause,
                    "threshold_points": threshold,
                    "months_needed": trigger.months,
                    "months_counted": counted,
                    "triggered": counted >= trigger.months,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "month": pl.String,
            "trigger_id": pl.String,
            "text_zh": pl.String,
            "clause": pl.String,
            "threshold_points": POINTS,
            "months_needed": pl.Int32,
            "months_counted": pl.Int32,
            "triggered": pl.Boolean,
        },
    )


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


def fee_deduction(contract: Contract, exact_fee: Decimal | None, points: Decimal) -> Decimal:
    """The fee deduction (CNY) for ``points`` lost in a month, per the contract's fee formula.

    ``exact_fee`` is the month's share of the amount before rounding. ``cny_per_point``: points ×
    the rate (000 附件二 第三章 二). ``share_of_monthly_fee``: the fee less the fee × (100 − points)%,
    both rounded once (003 一 (四)), so the payable fee is the formula's own figure to the fen.
    """
    formula = contract.fee_formula
    if formula.kind == "cny_per_point":
        return to_fen(points * formula.cny_per_point)
    if formula.kind == "share_of_monthly_fee":
        return to_fen(exact_fee) - to_fen(exact_fee * (100 - points) / 100)
    return Decimal("0.00")


LINE_SCHEMA = {
    "month": pl.String,
    "kind": pl.String,
    "rule_id": pl.String,
    "name_zh": pl.String,
    "clause": pl.String,
    "quantity": pl.Int64,
    "unit_zh": pl.String,
    "points": POINTS,
    "amount_cny": MONEY,
    "detail_zh": pl.String,
    "rows": ROWS,
}


def _lines(
    contract: Contract,
    items: pl.DataFrame,
    staffing_days: pl.DataFrame,
    staffing_gaps_monthly: pl.DataFrame,
    penalty_lines: pl.DataFrame,
) -> pl.DataFrame:
    """One row per deduction item, staffing penalty and money penalty of each month.

    The staffing line takes its quantity and amount from :func:`staffing_gaps`' monthly frame and
    only adds the ledger rows behind them, so the money is computed in one place."""
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
    parts = [deductions]
    if contract.staffing_penalties:
        rule = contract.staffing_penalties[0]
        rate = rule.rate_cny.value
        counted = "penalised" if rate is not None else "gap"  # unstated rate: show the gap
        rows = staffing_days.filter(pl.col(counted) > 0).group_by("month").agg(_rows())
        staffing = staffing_gaps_monthly.join(rows, on="month", how="inner").select(
            "month",
            pl.lit("staffing_penalty").alias("kind"),
            pl.lit("staffing_penalty").alias("rule_id"),
            pl.lit("缺岗扣款").alias("name_zh"),
            pl.lit(rule.clause).alias("clause"),
            pl.col(f"{counted}_person_days").alias("quantity"),
            pl.lit("人·天").alias("unit_zh"),
            pl.lit(None, dtype=POINTS).alias("points"),
            pl.col("staffing_penalty_cny").alias("amount_cny"),
            pl.when(pl.col("provisional"))
            .then(pl.lit(PROVISIONAL_RULE_ZH))
            .otherwise(
                pl.lit("每人每天 " + (f"{to_fen(rate)} 元" if rate is not None else "金额未规定"))
            )
            .alias("detail_zh"),
            "rows",
        )
        parts.append(staffing)
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


def monthly_metrics(
    contract: Contract,
    staffing: pl.DataFrame,
    deductions: pl.DataFrame,
    penalties: pl.DataFrame,
    tickets: pl.DataFrame,
) -> MonthlyMetrics:
    """All monthly figures of one contract from its ledgers (frames of :mod:`seatscore.ledgers`)."""
    staffing, deductions = with_refs(staffing), with_refs(deductions)
    fees = nominal_monthly_fees(contract)
    month_list = fees["month"].to_list()
    total_weight = sum(fees["month_weight"].to_list(), Decimal(0))
    not_assessable: list[dict] = []
    ticket_counts = (
        tickets.with_columns(_month("received_at"))
        .group_by("month")
        .agg(pl.len().cast(pl.Int64).alias("tickets"))
    )
    assessment = contract.assessment.value
    if assessment is not None:
        parts = [
            _per_occurrence_points(assessment, deductions)
            .cast(ITEM_SCHEMA)
            .select(list(ITEM_SCHEMA))
        ]
        for item in assessment.items:
            if item.kind == "staffing_daily":
                frame, missing = _staffing_daily_points(contract, item, staffing, month_list)
            elif item.kind in ("below_target", "linear"):
                frame, missing = _below_target_points(item, tickets, month_list)
            elif item.kind == "repeat_reports":
                frame, missing = _repeat_report_points(item, tickets, month_list)
            else:
                continue
            parts.append(frame.cast(ITEM_SCHEMA).select(list(ITEM_SCHEMA)))
            not_assessable += missing
        item_points = pl.concat(parts)
        item_info = pl.DataFrame(
            [
                {
                    "item_id": i.item_id,
                    "category": i.category,
                    "name_zh": i.name_zh,
                    "clause": i.clause,
                }
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
    else:
        items = pl.DataFrame(
            schema={**ITEM_SCHEMA, "category": pl.String, "name_zh": pl.String, "clause": pl.String}
        )
        categories = pl.DataFrame(schema=CATEGORY_SCHEMA)
        lost = pl.DataFrame(schema={"month": pl.String, "points_lost": POINTS})

    staffing_days, gaps, missing = staffing_gaps(contract, staffing)
    not_assessable += missing
    penalty_lines = incident_penalties(contract, penalties)
    incidents = penalty_lines.group_by("month").agg(
        pl.col("amount_cny").sum().cast(MONEY).alias("incident_penalty_cny")
    )
    seats, basis = seat_basis(contract)

    months = (
        fees.join(lost, on="month", how="left")
        .join(gaps.with_columns(pl.lit(True).alias("_staffed")), on="month", how="left")
        .join(incidents, on="month", how="left")
        .join(ticket_counts, on="month", how="left")
        .with_columns(
            pl.col("tickets").fill_null(0),
            pl.col("gap_person_days").fill_null(0),
            pl.col("penalised_person_days").fill_null(0),
            pl.col("provisional").fill_null(False),
            pl.col("incident_penalty_cny").fill_null(Decimal("0.00")),
            # A month without staffing rows has no gap, so no staffing penalty.
            pl.when(pl.col("_staffed").is_null())
            .then(Decimal("0.00"))
            .otherwise(pl.col("staffing_penalty_cny"))
            .cast(MONEY)
            .alias("staffing_penalty_cny"),
        )
    )
    amount = contract.amount_cny.value
    months_not_assessable = {n["month"] for n in not_assessable}
    out = []
    for r in months.iter_rows(named=True):
        points = score = None
        deduction = Decimal("0.00")
        if assessment is not None:
            points = min(r["points_lost"] or Decimal(0), assessment.max_points)
            score = assessment.max_points - points
            exact_fee = amount * r["month_weight"] / total_weight if amount is not None else None
            deduction = fee_deduction(contract, exact_fee, points)
        staffing_penalty = r["staffing_penalty_cny"]  # None: not assessable
        payable = (  # None: no amount stated, so no fee to pay or reduce
            r["nominal_fee_cny"] - deduction - (staffing_penalty or 0) - r["incident_penalty_cny"]
            if r["nominal_fee_cny"] is not None
            else None
        )
        seat_months = seats * r["month_weight"] if seats is not None else None
        out.append(
            {
                "month": r["month"],
                "first_day": r["first_day"],
                "last_day": r["last_day"],
                "service_days": r["service_days"],
                "days_in_month": r["days_in_month"],
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
                "payable_complete": r["month"] not in months_not_assessable,
                "provisional": r["provisional"],
                "seats": seats,
                "cost_per_seat_month_nominal_cny": to_fen(r["nominal_fee_cny"] / seat_months)
                if seat_months
                else None,
                "cost_per_seat_month_payable_cny": to_fen(payable / seat_months)
                if seat_months
                else None,
                "tickets": r["tickets"],
            }
        )
    months_frame = pl.DataFrame(
        out,
        schema={
            "month": pl.String,
            "first_day": pl.Date,
            "last_day": pl.Date,
            "service_days": pl.Int32,
            "days_in_month": pl.Int32,
            "month_weight": pl.Decimal(20, 12),
            "nominal_fee_cny": MONEY,
            "points_lost": POINTS,
            "score": POINTS,
            "fee_deduction_cny": MONEY,
            "gap_person_days": pl.Int64,
            "penalised_person_days": pl.Int64,
            "staffing_penalty_cny": MONEY,
            "incident_penalty_cny": MONEY,
            "payable_cny": MONEY,
            "payable_complete": pl.Boolean,
            "provisional": pl.Boolean,
            "seats": pl.Decimal(10, 2),
            "cost_per_seat_month_nominal_cny": MONEY,
            "cost_per_seat_month_payable_cny": MONEY,
            "tickets": pl.Int64,
        },
    )
    return MonthlyMetrics(
        months=months_frame,
        items=items,
        lines=_lines(contract, items, staffing_days, gaps, penalty_lines),
        categories=categories,
        not_assessable=pl.DataFrame(
            not_assessable,
            schema={
                "month": pl.String,
                "rule": pl.String,
                "clause": pl.String,
                "reason": pl.String,
            },
        ).unique(maintain_order=True),
        triggers=evaluate_triggers(contract, months_frame),
        seat_basis_zh=basis,
    )
