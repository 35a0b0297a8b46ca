"""``per_occurrence``: ``points`` per ``unit_zh`` (per ticket, per person, per time), times the
occurrences the deductions ledger records."""

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
    kind: Literal["per_occurrence"]
    points: Points


def points(inputs: RuleInputs, item: Params) -> tuple[pl.DataFrame, list[dict]]:
    return recorded_points(inputs, item)
