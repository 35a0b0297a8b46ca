"""Points recorded in the deductions ledger (shared by ``per_occurrence`` and ``discretionary``)."""

from __future__ import annotations

import polars as pl

from seatscore.compute.rule_inputs import RuleInputs
from seatscore.core.money import POINTS
from seatscore.ledgers.kinds import known_refs
from seatscore.terms.periods import month_of
from seatscore.terms.rule_kinds import RuleItem


def recorded_points(inputs: RuleInputs, item: RuleItem) -> tuple[pl.DataFrame, list[dict]]:
    """``per_occurrence``: occurrences × the item's points; ``discretionary``: occurrences × the
    points the buyer set (``assessed_points``), from the deductions ledger."""
    fixed = pl.lit(item.points, dtype=POINTS) if item.points is not None else pl.lit(None, POINTS)
    frame = (
        inputs.deductions.filter(pl.col("item_id") == item.item_id)
        .with_columns(
            month_of("event_date"),
            (pl.col("occurrences").cast(POINTS) * pl.coalesce("assessed_points", fixed)).alias(
                "points"
            ),
        )
        .group_by("month", "item_id")
        .agg(pl.col("occurrences").sum(), pl.col("points").sum(), known_refs())
        .with_columns(pl.lit(None, dtype=pl.String).alias("detail_zh"))
    )
    return frame, []
