"""``linear``: a measured share scored linearly between ``floor_share`` (all ``points`` lost) and
``target_share`` (none lost); common in other hotline contracts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import polars as pl
from pydantic import model_validator

from seatscore.compute.rule_inputs import RuleInputs
from seatscore.compute.rules._share import ShareParams, share_points
from seatscore.terms.fields import Share


class Params(ShareParams):
    kind: Literal["linear"]
    floor_share: Share

    @model_validator(mode="after")
    def _floor_below_target(self):
        target = self.target_share.value
        if target is not None and self.floor_share >= target:
            raise ValueError(f"floor_share {self.floor_share} must be below target_share {target}")
        return self


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


def points(inputs: RuleInputs, item: Params) -> tuple[pl.DataFrame, list[dict]]:
    return share_points(
        item,
        inputs.tickets,
        inputs.months,
        lambda target, hits, total: linear_points(
            target, item.floor_share, hits, total, item.points
        ),
    )
