"""Service months and the official Chinese working-day calendar.

A service period rarely starts on the 1st, so its first and last calendar months are partial. A
month's nominal fee follows the contract's own day rate where it states one (000 五 1: 1,869,400 /
365 × 14 days = 71,703.01 CNY for June 2026), and otherwise the fraction of the month served
(:func:`nominal_monthly_fees`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import Decimal
from functools import cache

import chinese_calendar
import polars as pl

from seatscore.core.errors import CalendarNotAvailable, InputError
from seatscore.core.money import MONEY, allocate, to_fen
from seatscore.terms.contracts import Contract, ServicePeriod

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


def month_of(column: str) -> pl.Expr:
    """The month (YYYY-MM) of a date or time column, named ``month``: the one way frames are
    grouped and filtered by month."""
    return pl.col(column).dt.strftime("%Y-%m").alias("month")


def parse_month(text: str) -> dt.date:
    """``'2026-06'`` → ``date(2026, 6, 1)``. Raises :class:`~seatscore.core.errors.InputError` (a
    ``ValueError``) naming the expected form for
    anything else, ``'2018-5'`` included (a month is written with two digits, as it is stored)."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text or ""):
        raise InputError(f"month {text!r} is not of the form YYYY-MM (e.g. 2026-06)")
    return dt.datetime.strptime(text, "%Y-%m").date()


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
    """The contract amount spread over its service months, exact to the fen, adding up to it.

    Three readings, the first that applies:

    - **A stated day rate** (``nominal_fee: day_rate``; 000 五 1 "合同总金额/365天×项目实际执行天数"):
      a month is amount ÷ days_per_year × days served, rounded half up; 000's June 2026 (14 days)
      is 1,869,400 / 365 × 14 = 71,703.01.
    - **Settlement periods without stated amounts** (every payment milestone has ``through`` and no
      amount: 003's quarters, 一 (四)): the amount is first shared among the periods, then each
      period among its months, each part rounded half up and the period's last month taking the
      rounding difference (尾差), so a full quarter of 003 is 2,020,000 / 4 = 505,000.00 exactly
      (168,333.33 + 168,333.33 + 168,333.34). The contract writes "÷ 12" and settles quarterly;
      putting the 尾差 on the quarter's last month, so that the quarter paid is a quarter of the
      amount, is a reading of that practice, not a clause.
    - Otherwise a month's weight is ``service_days / days_in_month`` (a full month is one) and its
      fee is amount × weight / Σ weights; for a twelve-month period a full month is amount / 12
      (003 一 (四) "年度合同报价 ÷ 12"); 001 serves eleven whole months (二), so amount / 11.

    In every reading the last month takes the balance so that the months add up to the amount
    (:func:`seatscore.core.money.allocate`).

    Returns the :func:`service_months` columns plus ``month_weight`` (Decimal, 0–1) and
    ``nominal_fee_cny`` (Decimal, CNY). With no stated amount, ``nominal_fee_cny`` is null.
    """
    months = service_months(contract.service_period)
    weights = [
        Decimal(s) / Decimal(d)
        for s, d in zip(months["service_days"], months["days_in_month"], strict=True)
    ]
    amount = contract.amount_cny.value
    keys = months["month"].to_list()
    if amount is None:
        fees: list[Decimal | None] = [None] * len(weights)
    elif contract.nominal_fee is not None:
        days = months["service_days"].to_list()
        per_year = contract.nominal_fee.days_per_year
        fees = [to_fen(amount * d / per_year) for d in days[:-1]]
        fees.append(to_fen(amount) - sum(fees, Decimal(0)))
    elif (groups := _settlement_groups(contract, keys)) is not None:
        group_weights = [sum((weights[i] for i in g), Decimal(0)) for g in groups]
        totals = allocate(amount, group_weights)
        fees = []
        for group, total in zip(groups, totals, strict=True):
            fees += allocate(total, [weights[i] for i in group])
    else:
        fees = allocate(amount, weights)
    return months.with_columns(
        pl.Series("month_weight", weights, dtype=pl.Decimal(20, 12)),
        pl.Series("nominal_fee_cny", fees, dtype=MONEY),
    )


def _settlement_groups(contract: Contract, months: list[str]) -> list[list[int]] | None:
    """Month indices per payment milestone, when every milestone settles months (``through``)
    and none states an amount or share; None otherwise."""
    payments = contract.payments
    if not payments or any(
        m.through is None or m.amount_cny is not None or m.share is not None for m in payments
    ):
        return None
    groups, start = [], 0
    for milestone in payments:
        end = start
        while end < len(months) and months[end] <= milestone.through:
            end += 1
        if end > start:
            groups.append(list(range(start, end)))
        start = end
    if start < len(months):
        groups.append(list(range(start, len(months))))
    return groups


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
