"""A measured ticket share against a target (shared by ``below_target`` and ``linear``)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import polars as pl
from pydantic import Field, model_validator

from seatscore.compute.rule_inputs import ITEM_SCHEMA, unassessable
from seatscore.compute.service_levels import Measure, as_of_time, state_expr
from seatscore.ledgers.kinds import with_refs
from seatscore.terms.fields import Points, Term
from seatscore.terms.measures import METRICS
from seatscore.terms.periods import month_of
from seatscore.terms.rule_kinds import RuleItem


class ShareParams(RuleItem):
    """What the kinds scored on a measured ticket share have in common: the points, the target
    (with the contract's word for when points are lost) and the measure."""

    points: Points
    target_share: Term[Decimal]
    measure: str = Field(description="The ticket measure, e.g. dispatch_accuracy")

    @model_validator(mode="after")
    def _target_word(self):
        if self.target_share.stated and self.target_share.word is None:
            raise ValueError(
                "target_share: add the contract's word for when points are lost (word: 低于)"
            )
        return self


def rate_by_month(tickets: pl.DataFrame, metric: str) -> pl.DataFrame:
    """A ticket rate per month of receipt, from :mod:`seatscore.compute.service_levels` (the same measure
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
        .with_columns(month_of("received_at"), state.alias("state"))
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


def share_points(
    item: RuleItem,
    tickets: pl.DataFrame,
    months: list[str],
    points_of: Callable[[Decimal, int, int], Decimal],
) -> tuple[pl.DataFrame, list[dict]]:
    """Per month: the item's measure on the month's tickets, scored by ``points_of(target, hits,
    total)``. Not assessable while the target is unstated, for a measure the tickets cannot
    yield, and in a month without a ticket it applies to (the share is undefined)."""
    schema = ITEM_SCHEMA
    target = item.target_share.value if item.target_share is not None else None

    def skip(reason: str, basis: str = "data") -> tuple[pl.DataFrame, list[dict]]:
        return pl.DataFrame(schema=schema), [unassessable(item, m, reason, basis) for m in months]

    if target is None:
        note = item.target_share.note if item.target_share is not None else None
        return skip(f"指标值未规定：{note or '合同未写明'}", "terms")
    try:
        rates = rate_by_month(tickets, item.measure or "")
    except KeyError:
        return skip(f"台账中没有计算“{item.measure}”所需的数据")
    by_month = {r["month"]: r for r in rates.iter_rows(named=True)}
    rows, missing = [], []
    for m in months:
        r = by_month.get(m)
        if r is None or not r["total"]:
            missing.append(unassessable(item, m, "本月无可计算的工单，比率无定义"))
            continue
        hits, total = r["hits"], r["total"]
        pts = points_of(target, hits, total)
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
