"""``staffing_daily``: ``points`` per post-day on which the post's staff are "``threshold_word``
``threshold_share``" of its minimum headcount (003 附件2 一: 低于 98 %); ``basis`` says whether the
roster (实有人数) or attendance is counted."""

from __future__ import annotations

from functools import partial
from typing import Literal

import polars as pl
from pydantic import Field, field_validator

from seatscore.compute.rule_inputs import RuleInputs, unassessable
from seatscore.core.money import POINTS
from seatscore.terms.fields import Points, Share, StaffingBasis, check_word
from seatscore.terms.periods import month_of
from seatscore.terms.rule_kinds import RuleItem
from seatscore.terms.thresholds import operator_of


class Params(RuleItem):
    kind: Literal["staffing_daily"]
    points: Points
    threshold_share: Share
    threshold_word: str = Field(
        description="The contract's word for threshold_share: 低于, 不足, 以下 …"
    )
    basis: StaffingBasis

    @field_validator("threshold_word")
    @classmethod
    def _known_word(cls, word: str) -> str:
        check_word(word, "threshold_word")
        return word


def points(inputs: RuleInputs, item: Params) -> tuple[pl.DataFrame, list[dict]]:
    """003 附件2 一: ``item.points`` per post-day on which the post's staff are "``threshold_word``
    ``threshold_share``" of its minimum (低于 98 %). ``basis: roster`` counts the roster
    (实有人数; a day without a roster figure is unknown and the month incomplete);
    ``attendance`` counts those present."""
    contract, months = inputs.contract, inputs.months
    minimums = {p.post_id: p.min_headcount.value for p in contract.posts}
    unstated = sorted(pid for pid, m in minimums.items() if m is None)

    reason = partial(unassessable, item)

    missing = [
        reason(m, f"岗位 {', '.join(unstated)} 的最低保障人数合同未规定", "terms")
        for m in months
        if unstated
    ]
    stated = pl.DataFrame(
        {"post_id": list(minimums), "minimum": list(minimums.values())},
        schema={"post_id": pl.String, "minimum": pl.Int32},
    ).drop_nulls()
    if item.basis == "roster":
        counted = inputs.headcount.rename({"on_roster": "staff"})
        evidence = pl.col("rows").list.explode(keep_nulls=False, empty_as_null=False)
        unknown = inputs.vacancies.unknown.filter(
            pl.col("group").is_in(stated["post_id"].implode())
        )
        for m, n in unknown.group_by("month").agg(pl.col("days").sum()).sort("month").rows():
            missing.append(reason(m, f"在册人数缺 {n} 个岗位·天的记录，无法完整评估"))
    else:
        counted = inputs.attendance.rename({"present": "staff"})
        evidence = pl.col("ref")
    threshold, word = item.threshold_share, item.threshold_word
    op = operator_of(word)
    staff = pl.col("staff").cast(pl.Decimal(12, 4))
    limit = pl.col("minimum").cast(pl.Decimal(12, 4)) * threshold
    condition = {
        "<": staff < limit,
        "<=": staff <= limit,
        ">": staff > limit,
        ">=": staff >= limit,
    }[op]
    short = (
        counted.join(stated, on="post_id", how="inner")
        .filter(condition)
        .with_columns(month_of("service_date"))
        .group_by("month")
        .agg(
            pl.len().cast(pl.Int32).alias("occurrences"),
            evidence.filter(evidence.struct.field("row").is_not_null()).alias("rows"),
        )
        .with_columns(
            pl.lit(item.item_id).alias("item_id"),
            (pl.col("occurrences").cast(POINTS) * item.points).alias("points"),
            pl.format(
                "{} 个岗位·天{}最低保障人数的 {}%（{}）",
                "occurrences",
                pl.lit(word),
                pl.lit(f"{threshold * 100:g}"),
                pl.lit("按在册人数" if item.basis == "roster" else "按出勤人数"),
            ).alias("detail_zh"),
        )
    )
    return short, missing
