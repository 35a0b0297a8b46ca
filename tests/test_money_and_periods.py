"""Nominal monthly fees, to the fen, from the contract amount and service period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from seatscore.core.errors import CalendarNotAvailable
from seatscore.core.money import allocate, format_cny, to_fen
from seatscore.terms.periods import (
    is_working_day,
    nominal_monthly_fees,
    nth_working_day_after,
    working_day,
)


def fee(contracts, contract_id: str, month: str) -> Decimal:
    fees = nominal_monthly_fees(contracts[contract_id])
    return fees.filter(fees["month"] == month)["nominal_fee_cny"][0]


def test_000_partial_first_month(contracts):
    # 000 四 2 (1,869,400), 七 1 (from 2026-06-17) and 五 1's day rate (合同总金额/365天 × 天数):
    # June serves 17..30 = 14 days. 1,869,400 / 365 × 14 = 71,703.0136… → 71,703.01
    assert fee(contracts, "haidian-dispatch-2026", "2026-06") == Decimal("71703.01")


def test_000_full_month(contracts):
    # 五 1: 1,869,400 / 365 × 31 = 158,770.9589… → 158,770.96; a 30-day month 153,649.32.
    assert fee(contracts, "haidian-dispatch-2026", "2026-07") == Decimal("158770.96")
    assert fee(contracts, "haidian-dispatch-2026", "2026-09") == Decimal("153649.32")


def test_003_quarter_adds_up_to_a_quarter_of_the_amount(contracts):
    # 一 (四): monthly assessment, quarterly settlement. Q4 2024 is 2,020,000 / 4 = 505,000.00;
    # its months 168,333.33 + 168,333.33 and December takes the 尾差: 168,333.34.
    c = "karamay-grid-2024"
    assert [fee(contracts, c, m) for m in ("2024-10", "2024-11", "2024-12")] == [
        Decimal("168333.33"),
        Decimal("168333.33"),
        Decimal("168333.34"),
    ]


def test_003_partial_first_month(contracts):
    # 003 一 (一) 2,020,000; 一 (二) from 2024-09-20: 11 of 30 days. 2,020,000 / 12 × 11 / 30 = 61,722.22
    assert fee(contracts, "karamay-grid-2024", "2024-09") == Decimal("61722.22")


def test_001_eleven_whole_months(contracts):
    # 001 三 1 (1,079,668) over 二 (2024-02-01 – 2024-12-31): 11 whole months, 98,151.636… a month.
    assert fee(contracts, "shijingshan-hotline-2024", "2024-03") == Decimal("98151.64")


@pytest.mark.parametrize(
    ("contract_id", "months", "amount"),
    [
        ("haidian-dispatch-2026", 13, Decimal("1869400.00")),
        ("shijingshan-hotline-2024", 11, Decimal("1079668.00")),
        ("beijing-enforcement-2025", 13, Decimal("2031500.00")),
        ("karamay-grid-2024", 13, Decimal("2020000.00")),
        ("haidian-hotline-2022", 12, Decimal("6695568.00")),
    ],
)
def test_months_add_up_to_the_amount(contracts, contract_id, months, amount):
    fees = nominal_monthly_fees(contracts[contract_id])
    assert fees.height == months
    assert sum(fees["nominal_fee_cny"].to_list(), Decimal(0)) == amount


def test_last_month_takes_the_balance(contracts):
    # 000 June 2027 serves 16 days: exactly 1,869,400 / 365 × 16 = 81,946.301…; it takes the
    # balance of the other twelve months' rounding: 1,869,400 − 71,703.01 − 7 × 158,770.96
    # (31-day months) − 3 × 153,649.32 (30-day) − 143,406.03 (Feb 2027) = 81,946.28.
    fees = [
        Decimal("71703.01"),
        *[Decimal("158770.96")] * 7,
        *[Decimal("153649.32")] * 3,
        Decimal("143406.03"),
    ]
    assert Decimal("1869400.00") - sum(fees) == Decimal("81946.28")
    assert fee(contracts, "haidian-dispatch-2026", "2027-06") == Decimal("81946.28")


def test_allocate_and_rounding():
    assert allocate(Decimal("100.00"), [Decimal(1)] * 3) == [
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.34"),
    ]
    assert to_fen(Decimal("0.005")) == Decimal("0.01")  # half up, not banker's rounding
    with pytest.raises(TypeError, match="float"):
        to_fen(0.1)
    with pytest.raises(ValueError, match="at least one weight"):
        allocate(Decimal(1), [])


def test_format_cny():
    assert format_cny(Decimal("1869400")) == "¥1,869,400.00"
    assert format_cny(Decimal("-1800")) == "-¥1,800.00"
    assert format_cny(None) == "—"


def test_official_working_days():
    # 国务院办公厅 2024 年节假日安排: Sunday 2024-02-04 is a make-up working day (春节调休).
    assert is_working_day(dt.date(2024, 2, 4))
    # 2026: National Day 10-01..10-07 off; Saturday 10-10 is a make-up working day.
    assert not is_working_day(dt.date(2026, 10, 5))
    assert is_working_day(dt.date(2026, 10, 10))
    # Five working days after Wed 2026-09-30: Oct 8, 9, 10 (Sat, make-up), 12, 13.
    assert nth_working_day_after(dt.date(2026, 9, 30), 5) == (dt.date(2026, 10, 13), False)


def test_unpublished_calendar_year_is_an_error_or_provisional():
    with pytest.raises(CalendarNotAvailable, match="2027"):
        is_working_day(dt.date(2027, 3, 1))
    # The documented assumption: Monday–Friday, flagged provisional.
    assert working_day(dt.date(2027, 3, 5)) == (True, True)  # a Friday
    assert working_day(dt.date(2027, 3, 6)) == (False, True)  # a Saturday
    assert nth_working_day_after(dt.date(2026, 12, 30), 3) == (dt.date(2027, 1, 4), True)


# A second source: the State Council General Office notices themselves (国务院办公厅关于
# 20XX年部分节假日安排的通知), typed from their text: holiday ranges and make-up working days.
NOTICES = {
    2024: (  # 国办发明电〔2023〕7号
        [
            ("01-01", "01-01"),
            ("02-10", "02-17"),
            ("04-04", "04-06"),
            ("05-01", "05-05"),
            ("06-10", "06-10"),
            ("09-15", "09-17"),
            ("10-01", "10-07"),
        ],
        ["02-04", "02-18", "04-07", "04-28", "05-11", "09-14", "09-29", "10-12"],
    ),
    2025: (  # 国办发明电〔2024〕12号
        [
            ("01-01", "01-01"),
            ("01-28", "02-04"),
            ("04-04", "04-06"),
            ("05-01", "05-05"),
            ("05-31", "06-02"),
            ("10-01", "10-08"),
        ],
        ["01-26", "02-08", "04-27", "09-28", "10-11"],
    ),
    2026: (  # 国办发明电〔2025〕7号
        [
            ("01-01", "01-03"),
            ("02-15", "02-23"),
            ("04-04", "04-06"),
            ("05-01", "05-05"),
            ("06-19", "06-21"),
            ("09-25", "09-27"),
            ("10-01", "10-07"),
        ],
        ["01-04", "02-14", "02-28", "05-09", "09-20", "10-10"],
    ),
}


@pytest.mark.parametrize("year", sorted(NOTICES))
def test_calendar_agrees_with_the_notice_every_day(year):
    ranges, makeup = NOTICES[year]
    off = set()
    for first, last in ranges:
        day = dt.date.fromisoformat(f"{year}-{first}")
        while day <= dt.date.fromisoformat(f"{year}-{last}"):
            off.add(day)
            day += dt.timedelta(days=1)
    worked = {dt.date.fromisoformat(f"{year}-{d}") for d in makeup}
    day = dt.date(year, 1, 1)
    while day.year == year:
        expected = day in worked or (day.weekday() < 5 and day not in off)
        assert is_working_day(day) == expected, day
        day += dt.timedelta(days=1)
