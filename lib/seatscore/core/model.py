"""The base of every model Seatscore reads from a file (contract params, import profiles,
scenarios, recipients, analysis settings): unknown keys are refused, so a misspelt field is an
error and not a silent default; values are frozen once read."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Unknown keys refused, values frozen (``extra="forbid"``, ``frozen=True``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
