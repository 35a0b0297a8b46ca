"""``below_target``: ``points`` per ``step_pct_points`` percentage points a measured share falls
short of ``target_share``, the share measured on the month's tickets (003 附件2 二 (三) 1 (2));
capped by the item's category."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Literal

import polars as pl

from seatscore.compute.rule_inputs import RuleInputs
from seatscore.compute.rules._share import ShareParams, share_points


class Params(ShareParams):
    kind: Literal["below_target"]
    step_pct_points: Decimal


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


def points(inputs: RuleInputs, item: Params) -> tuple[pl.DataFrame, list[dict]]:
    return share_points(
        item,
        inputs.tickets,
        inputs.months,
        lambda target, hits, total: below_target_points(
            target, hits, total, item.points, item.step_pct_points
        ),
    )
