"""The output frames of the monthly figures, declared once (dataframely schemas): their columns,
dtypes, nullability and meaning. :func:`seatscore.compute.metrics.monthly_metrics` builds its
frames from these declarations and validates them; the reference page "Output frames" is
generated from them.

Units: money in CNY to the fen (Decimal 14.2, :data:`seatscore.core.money.MONEY`), points on the
100-point sheet (Decimal 7.2), months as ``YYYY-MM``.
"""

from __future__ import annotations

import dataframely as dy
import polars as pl

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


def _money(description: str, nullable: bool = False) -> dy.Decimal:
    return dy.Decimal(14, 2, nullable=nullable, description=description)


def _points(description: str, nullable: bool = True, most: int | None = 100) -> dy.Decimal:
    return dy.Decimal(7, 2, nullable=nullable, min=0, max=most, description=description)


class MonthFrame(dy.Schema):
    """``MonthlyMetrics.months``: one row per calendar month of the service period."""

    month = dy.String(regex=MONTH_PATTERN, primary_key=True, description="the month, YYYY-MM")
    first_day = dy.Date(description="first day served in the month")
    last_day = dy.Date(description="last day served in the month")
    service_days = dy.Int32(min=1, description="days served in the month")
    days_in_month = dy.Int32(min=28, max=31, description="calendar days of the month")
    month_weight = dy.Decimal(
        20, 12, description="the share of a whole month served (service_days ÷ days_in_month)"
    )
    nominal_fee_cny = _money(
        "the month's fee before deductions (the contract's reading, e.g. 000 五 1 day rate); "
        "null when no amount is stated",
        nullable=True,
    )
    points_lost = _points("points lost after category caps; null without a points sheet")
    score = _points("max points − points lost; null without a points sheet")
    fee_deduction_cny = _money("money off the fee for points lost (the fee formula)")
    gap_person_days = dy.Int64(min=0, description="vacancy-days or absence person-days")
    penalised_person_days = dy.Int64(min=0, description="the person-days charged")
    staffing_penalty_cny = _money(
        "staffing penalties; null when a rule's rate is not stated (not assessable)", True
    )
    incident_penalty_cny = _money("money penalties (liquidated damages) of the month")
    payable_cny = _money(
        "nominal − fee deduction − staffing and incident penalties; null without a fee", True
    )
    payable_complete = dy.Bool(description="false when a rule of the month was not assessable")
    provisional = dy.Bool(description="a grace counted on a calendar not yet published")
    seats = dy.Decimal(10, 2, nullable=True, description="seats the cost per seat divides by")
    cost_per_seat_month_nominal_cny = _money("nominal fee ÷ seat-months", True)
    cost_per_seat_month_payable_cny = _money("payable ÷ seat-months", True)
    tickets = dy.Int64(min=0, description="tickets received in the month")
    paid_cny = _money("paid in the month (payments ledger)")


class LineFrame(dy.Schema):
    """``MonthlyMetrics.lines``: every deduction and penalty of every month."""

    month = dy.String(regex=MONTH_PATTERN, description="the month, YYYY-MM")
    kind = dy.String(
        regex=r"^(deduction|staffing_penalty|penalty)$",
        description="deduction (points), staffing_penalty (person-days), penalty (money)",
    )
    rule_id = dy.String(description="the rule's id in the params file")
    name_zh = dy.String(description="the rule as the contract names it")
    clause = dy.String(description="where in the contract")
    quantity = dy.Int64(nullable=True, description="occurrences or person-days")
    unit_zh = dy.String(nullable=True, description="the unit of quantity (每件, 人·天 …)")
    points = _points("points lost (deductions), before the category caps", most=None)
    amount_cny = _money("money (penalties); null for a deduction or an unstated rate", True)
    detail_zh = dy.String(nullable=True, description="how it was counted")
    rows = dy.List(
        dy.Struct({"file": dy.String(nullable=True), "row": dy.Int32(nullable=True)}),
        nullable=True,
        description="the ledger rows behind the line: {file, row}",
    )


def polars_schema(schema: type[dy.Schema]) -> dict[str, pl.DataType]:
    """The Polars dtype of each column of ``schema``, in order."""
    return {name: column.dtype for name, column in schema.columns().items()}


def markdown(schema: type[dy.Schema]) -> str:
    """``schema`` as a Markdown table (name, dtype, may be empty, meaning)."""
    rows = ["| column | dtype | may be empty | meaning |", "|---|---|---|---|"]
    for name, column in schema.columns().items():
        text = (column.description or "").replace("|", "\\|")
        rows.append(f"| `{name}` | {column.dtype} | {'yes' if column.nullable else ''} | {text} |")
    return "\n".join(rows)
