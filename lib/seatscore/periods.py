"""Service months and the official Chinese working-day calendar.

A service period rarely starts on the 1st, so its first and last calendar months are partial. A
month's nominal fee is the contract amount shared out by the fraction of the month served
(days served / days in the month): 000 (一 四 2, 七 1) serves 14 of June 2026's 30 days, so June
carries 14/30 of one twelfth of 1,869,400 CNY = 72,698.89 CNY.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from functools import cache

import chinese_calendar
import polars as pl

from seatscore.contracts import Contract, ServicePeriod
from seatscore.errors import CalendarNotAvailable
from seatscore.money import allocate

MONTH_FRAME_SCHEMA = {
    "month": pl.String,
    "month_start": pl.Date,
    "first_day": pl.Date,
    "last_day": pl.Date,
    "service_days": pl.Int32,
    "days_in_month": pl.Int32,
}


def month_key(day: dt.date) -> str:
    """``date(2026, 6, 17)`` → ``'2026-06'``."""
    return f"{day.year:04d}-{day.month:02d}"


def parse_month(text: str) -> dt.date:
    """``'2026-06'`` → ``date(2026, 6, 1)``. Raises ``ValueError`` naming the expected form."""
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError as exc:
        raise ValueError(f"month {text!r} is not of the form YYYY-MM (e.g. 2026-06)") from exc


def shift_month(month: str, months: int) -> str:
    """``shift_month('2026-01', -1)`` → ``'2025-12'``: the month ``months`` calendar months on."""
    y, m = map(int, month.split("-"))
    index = y * 12 + m - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def service_months(period: ServicePeriod) -> pl.DataFrame:
    """One row per calendar month the service period touches.

    Columns: ``month`` (str YYYY-MM), ``month_start`` (date), ``first_day``/``last_day`` (date, the
    served days within the month, inclusive), ``service_days`` and ``days_in_month`` (int).
    """
    rows = []
    year, month = period.start.year, period.start.month
    while (year, month) <= (period.end.year, period.end.month):
        days = calendar.monthrange(year, month)[1]
        start = max(period.start, dt.date(year, month, 1))
        end = min(period.end, dt.date(year, month, days))
        rows.append(
            {
                "month": f"{year:04d}-{month:02d}",
                "month_start": dt.date(year, month, 1),
                "first_day": start,
                "last_day": end,
                "service_days": (end - start).days + 1,
                "days_in_month": days,
            }
        )
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return pl.DataFrame(rows, schema=MONTH_FRAME_SCHEMA)


def nominal_monthly_fees(contract: Contract) -> pl.DataFrame:
    """The contract amount spread over its service months, exact to the fen.

    Each month's weight is ``service_days / days_in_month``; a full month is one. The nominal fee of
    a month is ``amount × weight / Σ weights`` rounded half up to the fen, the last month taking the
    balance so that the months add up to the amount exactly (:func:`seatscore.money.allocate`).
    For a twelve-month period Σ weights is 12 and a full month is amount / 12, as 003 一 (四) writes
    ("年度合同报价 ÷ 12"); 001 serves eleven whole months (二), so a month is amount / 11.

    Returns the :func:`service_months` columns plus ``month_weight`` (Decimal, 0–1) and
    ``nominal_fee_cny`` (Decimal, CNY). With no stated amount, ``nominal_fee_cny`` is null.
    """
    months = service_months(contract.service_period)
    weights = [
        Decimal(s) / Decimal(d)
        for s, d in zip(months["service_days"], months["days_in_month"], strict=True)
    ]
    amount = contract.amount_cny.value
    fees = allocate(amount, weights) if amount is not None else [None] * len(weights)
    return months.with_columns(
        pl.Series("month_weight", weights, dtype=pl.Decimal(20, 12)),
        pl.Series("nominal_fee_cny", fees, dtype=pl.Decimal(14, 2)),
    )


PROVISIONAL_RULE_ZH = "按周一至周五为工作日暂算（该年国务院节假日安排尚未收录）"
"""How a year without a published calendar is counted, for reports."""


@cache
def is_working_day(day: dt.date) -> bool:
    """True on an official Chinese working day, make-up working days (调休) included.

    Source: the State Council's annual holiday notice, as packaged by ``chinesecalendar``.

    Raises
    ------
    CalendarNotAvailable
        For a year whose notice the installed calendar does not hold yet (the next year's notice
        is published in November or December).
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise CalendarNotAvailable(
            f"the official working-day calendar for {day.year} is not in chinesecalendar "
            f"{chinese_calendar.__version__}; upgrade it once the State Council has published "
            f"that year's holiday notice",
            year=day.year,
        ) from exc


def working_day(day: dt.date) -> tuple[bool, bool]:
    """``(is a working day, provisional)``.

    For a year the official calendar does not cover yet, the documented assumption is Monday to
    Friday, with no holidays or make-up days, and the answer is flagged provisional: outputs that
    use it must say so (:data:`PROVISIONAL_RULE_ZH`).
    """
    try:
        return is_working_day(day), False
    except CalendarNotAvailable:
        return day.weekday() < 5, True


def nth_working_day_after(start: dt.date, n: int) -> tuple[dt.date, bool]:
    """The ``n``-th working day after ``start`` (``start`` itself not counted), and whether any
    day counted on the way was provisional (see :func:`working_day`). ``n = 0`` returns ``start``.
    """
    day, counted, provisional = start, 0, False
    while counted < n:
        day += dt.timedelta(days=1)
        working, guessed = working_day(day)
        provisional = provisional or guessed
        if working:
            counted += 1
    return day, provisional
