"""What-if for the next tender: change a contract's seats, shift patterns or price and see the cost
per covered seat-hour and the staffing adequacy gap against the last year's tickets.

A scenario file (``params/scenarios/*.yaml``, docs/explanation/vendor-comparison.md) names the contract it
starts from and only what changes::

    scenario_id: hotline-40-seats
    name_zh: 座席减至40人，增设夜班2座席
    contract: haidian-hotline-2022
    amount_cny: "6200000.00"          # the price for a service period as long as the contract's
    minimum_headcount: 44
    posts:
      - {post_id: seat, min_headcount: 40, seats_on_shift: 40}
      - {post_id: night_duty, seats_on_shift: 2,
         shift_pattern: {days_per_week: 7, hours_per_day: 15}}

Every changed term is marked as the scenario's assumption (clause ``情景 <scenario_id>``), never as
the contract's. The adequacy check is :func:`seatscore.compute.workload.staffing_adequacy` (Erlang C,
assumptions in ``params/analysis.yaml``) for each of the last twelve months with tickets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import polars as pl
from pydantic import Field

from seatscore.compute.comparison import ComparisonInputError, covered_seat_hours, unit_costs
from seatscore.compute.service_levels import AdequacySettings
from seatscore.compute.workload import staffing_adequacy
from seatscore.core.files import read_yaml_model
from seatscore.core.model import Model
from seatscore.core.money import MONEY
from seatscore.terms.contracts import Contract, Money, Post, ShiftPattern, Term
from seatscore.terms.periods import month_of


class PostChange(Model):
    """A post to change (by ``post_id``) or add (a new id needs ``name_zh``)."""

    post_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    name_zh: str | None = None
    min_headcount: Annotated[int, Field(ge=0)] | None = None
    seats_on_shift: Annotated[int, Field(ge=1)] | None = None
    shift_pattern: ShiftPattern | None = None


class Scenario(Model):
    scenario_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    name_zh: str
    contract: str
    amount_cny: Money | None = None
    minimum_headcount: Annotated[int, Field(ge=1)] | None = None
    posts: list[PostChange] = []
    note: str | None = None


def load_scenario(path: Path | str) -> Scenario:
    """Read a scenario file. Raises :class:`~seatscore.compute.comparison.ComparisonInputError` naming
    the file and each bad field."""
    return read_yaml_model(Path(path), Scenario, ComparisonInputError)


def apply_scenario(contract: Contract, scenario: Scenario) -> Contract:
    """``contract`` with the scenario's changes. Raises
    :class:`~seatscore.compute.comparison.ComparisonInputError` when the scenario is for another contract
    or adds a post without a name."""
    if scenario.contract != contract.contract_id:
        raise ComparisonInputError(
            f"scenario {scenario.scenario_id} is for {scenario.contract}, not {contract.contract_id}"
        )
    clause = f"情景 {scenario.scenario_id}"
    posts = {p.post_id: p for p in contract.posts}
    for change in scenario.posts:
        old = posts.get(change.post_id)
        if old is None and not change.name_zh:
            raise ComparisonInputError(
                f"scenario {scenario.scenario_id}: new post {change.post_id} needs name_zh"
            )
        unstated = Term(value=None, note="情景未规定")
        base = old or Post(
            post_id=change.post_id,
            name_zh=change.name_zh,
            min_headcount=unstated,
            shift_pattern=unstated,
            seats_on_shift=unstated,
            clause=clause,
        )
        update = {
            key: Term(value=getattr(change, key), clause=clause)
            for key in ("min_headcount", "seats_on_shift", "shift_pattern")
            if getattr(change, key) is not None
        }
        if change.name_zh:
            update["name_zh"] = change.name_zh
        posts[change.post_id] = base.model_copy(update=update)
    update: dict = {
        "posts": list(posts.values()),
        "title_zh": f"{contract.title_zh}（{scenario.name_zh}）",
    }
    if scenario.amount_cny is not None:
        update["amount_cny"] = Term(value=scenario.amount_cny, clause=clause)
        update["cost_breakdown"] = []  # the stated breakdown was of the old price
    if scenario.minimum_headcount is not None:
        update["minimum_headcount"] = Term(value=scenario.minimum_headcount, clause=clause)
    return contract.model_copy(update=update)


COST_SCHEMA = {
    "case_zh": pl.String,
    "amount_cny": MONEY,
    "minimum_headcount": pl.Int64,
    "covered_seat_hours": pl.Decimal(14, 2),
    "cover_complete": pl.Boolean,
    "cost_per_covered_seat_hour_cny": MONEY,
    "cost_per_covered_seat_hour_low_cny": MONEY,
    "cost_per_covered_seat_hour_high_cny": MONEY,
    "cost_per_seat_month_cny": MONEY,
    "cover_basis_zh": pl.String,
}
ADEQUACY_SCHEMA = {
    "month": pl.String,
    "case_zh": pl.String,
    "tickets": pl.Int64,
    "calls": pl.Int64,
    "needed_seat_hours_week": pl.Int64,
    "seats_on_duty": pl.Float64,
    "hours_short": pl.Float64,
    "short_seat_hours_week": pl.Float64,
}


@dataclass(frozen=True)
class WhatIf:
    """``costs``: two rows (现行, 情景) of :data:`COST_SCHEMA`, CNY to the fen; ``adequacy``: per
    month (YYYY-MM) and case, :data:`ADEQUACY_SCHEMA` — the tickets, the calls among them (or
    offered in the calls ledger), Erlang C seat-hours needed a week, the
    seats on duty the headcount keeps on average, the hours of the week with fewer, and the
    seat-hours a week short (Σ over hours of needed − on duty where positive; null without a
    headcount); ``basis_zh``: the Erlang C assumptions."""

    scenario: Scenario
    costs: pl.DataFrame
    adequacy: pl.DataFrame
    basis_zh: str


def _costs(case: str, contract: Contract) -> dict:
    cover = covered_seat_hours(contract)
    return {
        "case_zh": case,
        "amount_cny": contract.amount_cny.value,
        "minimum_headcount": contract.seats,
        "covered_seat_hours": cover.seat_hours,
        "cover_complete": cover.complete,
        **unit_costs(contract, cover),
        "cover_basis_zh": cover.basis_zh,
    }


def what_if(
    contract: Contract, scenario: Scenario, tickets: pl.DataFrame, settings: AdequacySettings
) -> WhatIf:
    """The scenario against the contract as it is, on ``tickets`` (the contract's ticket ledger,
    ``received_at`` datetime at least): costs, and adequacy in each of the last twelve months that
    have tickets."""
    changed = apply_scenario(contract, scenario)
    costs = pl.DataFrame(
        [_costs("现行合同", contract), _costs(f"情景：{scenario.name_zh}", changed)],
        schema=COST_SCHEMA,
    )
    counts = tickets.group_by(month_of("received_at")).len("tickets").sort("month").tail(12)
    rows, basis = [], ""
    for month, n in counts.iter_rows():
        for case, c in (("现行合同", contract), ("情景", changed)):
            a = staffing_adequacy(c, tickets, month, settings)
            basis = a.basis_zh if case == "现行合同" else basis
            short = None
            if a.seats_on_duty is not None:
                gap = (pl.col("seats_needed") - a.seats_on_duty).clip(lower_bound=0)
                hours = settings.interval_minutes / 60
                short = float(a.intervals.select(gap.sum()).item()) * hours
            rows.append(
                {
                    "month": month,
                    "case_zh": case,
                    "tickets": n,
                    "calls": a.calls,
                    "needed_seat_hours_week": a.needed_seat_hours_week,
                    "seats_on_duty": a.seats_on_duty,
                    "hours_short": a.hours_short,
                    "short_seat_hours_week": short,
                }
            )
    return WhatIf(scenario, costs, pl.DataFrame(rows, schema=ADEQUACY_SCHEMA), basis)
