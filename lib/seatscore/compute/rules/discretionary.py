"""``discretionary``: the buyer sets the points per case within ``points_min``–``points_max``
(bounds may be unstated); the assessed points are recorded in the deductions ledger."""

from __future__ import annotations

from typing import Literal

import polars as pl

from seatscore.compute.rule_inputs import RuleInputs
from seatscore.compute.rules._recorded import recorded_points
from seatscore.terms.fields import Points
from seatscore.terms.rule_kinds import RuleItem

RECORDED = True
"""Occurrences are recorded in the deductions ledger."""


class Params(RuleItem):
    kind: Literal["discretionary"]
    points_min: Points | None = None
    points_max: Points | None = None


def points(inputs: RuleInputs, item: Params) -> tuple[pl.DataFrame, list[dict]]:
    return recorded_points(inputs, item)
