"""Monthly scores and money on hand-built ledgers, each expected value worked out from the clause."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from seatscore.compute.rules.below_target import below_target_points

from helpers import ledger, roster_days, run, staffing_days


def month_row(metrics, month: str) -> dict:
    return metrics.months.filter(pl.col("month") == month).row(0, named=True)


def deduction(cid: str, day: dt.date, item: str, n: int = 1, points: str | None = None) -> dict:
    return {
        "contract_id": cid,
        "event_date": day,
        "item_id": item,
        "occurrences": n,
        "assessed_points": Decimal(points) if points else None,
    }


def test_000_full_month_with_1_8_points_lost(contracts):
    # 附件二 第四章: late dispatch 0.5 × 2, dress code 0.1 × 3, late reply 0.5 × 1 = 1.8 points.
    # 第二章 六: score = 100 − 1.8 = 98.2. 第三章 二: 100 CNY per 0.1 point → 1,800 CNY.
    # 五 1: July's fee is 1,869,400 / 365 × 31 days = 158,770.958… → 158,770.96 CNY.
    cid = "haidian-dispatch-2026"
    day = dt.date(2026, 7, 10)
    events = ledger(
        "deductions",
        [
            deduction(cid, day, "late_dispatch", 2),
            deduction(cid, day, "dress_code", 3),
            deduction(cid, day, "late_reply", 1),
        ],
    )
    row = month_row(run(contracts[cid], deductions=events), "2026-07")
    assert row["points_lost"] == Decimal("1.8")
    assert row["score"] == Decimal("98.2")
    assert row["fee_deduction_cny"] == Decimal("1800.00")
    assert row["fee_deduction_cny"] == Decimal("1800.00")
    assert row["payable_cny"] == Decimal("158770.96") - Decimal("1800.00")


def test_003_full_month_with_4_5_points_lost(contracts):
    # 附件2 二 (二): late coordination 0.5 × 3 = 1.5; 附件2 (三) 后勤: equipment 1 × 3 = 3 → 4.5.
    # 一 (四): 2,020,000 / 12 − 2,020,000 / 12 × 4.5 % = 160,758.333… → 160,758.33 CNY.
    cid = "karamay-grid-2024"
    day = dt.date(2024, 11, 5)
    events = ledger(
        "deductions",
        [
            deduction(cid, day, "late_coordination", 3),
            deduction(cid, day, "equipment_not_fixed_8h", 3),
        ],
    )
    row = month_row(run(contracts[cid], deductions=events), "2024-11")
    assert row["score"] == Decimal("95.5")
    assert row["payable_cny"] == Decimal("160758.33")


def test_003_staffing_points_capped_at_20(contracts):
    # 附件2 一: the seat post (17 minimum) with 16 on the roster (实有人数) is 低于 98 % × 17 =
    # 16.66 → 2 points a day; 11 days = 22 points, capped at the section's 20.
    # 一 (四): November's fee 168,333.33 − 168,333.33 × 20 % (33,666.666 → 33,666.67) = 134,666.66.
    cid = "karamay-grid-2024"
    roster = ledger("roster", roster_days(cid, "seat", dt.date(2024, 11, 1), 11, 16))
    metrics = run(contracts[cid], roster=roster)
    row = month_row(metrics, "2024-11")
    cats = metrics.categories.filter(
        (pl.col("month") == "2024-11") & (pl.col("category_id") == "staffing")
    ).row(0, named=True)
    assert (cats["points_raw"], cats["points"]) == (Decimal(22), Decimal(20))
    assert row["score"] == Decimal(80)
    assert row["fee_deduction_cny"] == Decimal("33666.67")
    assert row["payable_cny"] == Decimal("134666.66")


def test_003_at_98_percent_is_not_short(contracts):
    # 98 % of the assessor post's minimum of 3 is 2.94: 3 on the roster is fine, 2 is 低于 it.
    cid = "karamay-grid-2024"
    roster = ledger(
        "roster",
        roster_days(cid, "assessor", dt.date(2024, 12, 1), 2, 3)
        + roster_days(cid, "assessor", dt.date(2024, 12, 3), 1, 2),
    )
    assert month_row(run(contracts[cid], roster=roster), "2024-12")["points_lost"] == Decimal(2)


def test_below_target_whole_steps():
    # 附件2 二 (三) 1: 0.5 points per percentage point under 98 %.
    # 965 of 1,000 correct = 96.5 %: 1.5 points short → one whole step → 0.5 points.
    assert below_target_points(Decimal("0.98"), 965, 1000, Decimal("0.5"), Decimal(1)) == Decimal(
        "0.5"
    )
    # 950 of 1,000 = 95 %: 3 steps → 1.5 points; at or above the target nothing.
    assert below_target_points(Decimal("0.98"), 950, 1000, Decimal("0.5"), Decimal(1)) == Decimal(
        "1.5"
    )
    assert below_target_points(Decimal("0.98"), 990, 1000, Decimal("0.5"), Decimal(1)) == Decimal(0)


def test_003_dispatch_accuracy_from_tickets(contracts):
    cid = "karamay-grid-2024"
    received = dt.datetime(2025, 3, 3, 10, 0)
    tickets = ledger(
        "tickets",
        [
            {
                "contract_id": cid,
                "ticket_id": f"T{i}",
                "received_at": received,
                "priority": "ordinary",
                "category": "市容环境",
                "dispatch_correct": i >= 3,  # 3 wrong of 50: 94 % → 4 points short → 2.0 points
            }
            for i in range(50)
        ],
    )
    metrics = run(contracts[cid], tickets=tickets)
    item = metrics.items.filter(
        (pl.col("month") == "2025-03") & (pl.col("item_id") == "dispatch_accuracy_below_target")
    )
    assert item["points"].to_list() == [Decimal(2)]
    # Content quality and callback targets are not stated: listed, not guessed.
    rules = set(metrics.not_assessable.filter(pl.col("month") == "2025-03")["rule"])
    assert {"content_quality_below_target", "callback_rate_below_target"} <= rules
    # A month without tickets leaves the accuracy undefined, not 100 % or 0 %.
    april = metrics.not_assessable.filter(pl.col("month") == "2025-04")["reason"].to_list()
    assert any("无定义" in r for r in april)


def full_roster_000(start: dt.date, days: int) -> list[dict]:
    """000's two posts at full strength: 8 + 8 = the 16 persons of 一 (二)."""
    cid = "haidian-dispatch-2026"
    return roster_days(cid, "emergency_duty", start, days, 8) + roster_days(
        cid, "dispatch_analysis", start, days, 8
    )


def with_vacancy(rows: list[dict], post: str, first: dt.date, last: dt.date, short: int) -> list:
    return [
        {**r, "on_roster": r["on_roster"] - short}
        if r["post_id"] == post and first <= r["service_date"] <= last
        else r
        for r in rows
    ]


def test_000_vacancy_penalty_counts_official_working_days(contracts):
    # 六 4: a vacancy not filled within 5 working days costs 300 CNY per person per day after.
    # One person off the roster 2026-09-30 .. 2026-10-16 (a vacancy spanning National Day).
    # 2026 notice: Oct 1–7 off, Sat Oct 10 worked. Working days after Sep 30: Oct 8, 9, 10, 12,
    # 13 → grace ends Oct 13; Oct 14, 15, 16 are charged: 3 × 300 = 900 CNY, in October.
    # (Monday–Friday would give 9 days.)
    cid = "haidian-dispatch-2026"
    rows = full_roster_000(dt.date(2026, 9, 20), 40)
    rows = with_vacancy(rows, "emergency_duty", dt.date(2026, 9, 30), dt.date(2026, 10, 16), 1)
    metrics = run(contracts[cid], roster=ledger("roster", rows))
    october = month_row(metrics, "2026-10")
    assert october["gap_person_days"] == 16
    assert october["penalised_person_days"] == 3
    assert october["staffing_penalty_cny"] == Decimal("900.00")
    assert month_row(metrics, "2026-09")["staffing_penalty_cny"] == Decimal("0.00")


def test_000_vacancy_in_2027_is_provisional(contracts):
    # The 2027 holiday notice is not in the installed calendar, so working days are counted on the
    # documented assumption (Monday–Friday) and flagged. One person missing Mon 2027-03-01 .. Wed
    # 03-10: working days after Mar 1 are Mar 2, 3, 4, 5, 8 → grace ends Mar 8; Mar 9 and 10 are
    # penalised: 2 × 300 = 600 CNY, provisional.
    cid = "haidian-dispatch-2026"
    rows = with_vacancy(
        full_roster_000(dt.date(2027, 3, 1), 10),
        "emergency_duty",
        dt.date(2027, 3, 1),
        dt.date(2027, 3, 10),
        1,
    )
    metrics = run(contracts[cid], roster=ledger("roster", rows))
    row = month_row(metrics, "2027-03")
    assert row["staffing_penalty_cny"] == Decimal("600.00")
    assert row["provisional"] is True
    # Complete but for 000's repeated-report rule, whose window ("当班期间") is not stated.
    reasons = metrics.not_assessable.filter(pl.col("month") == "2027-03")
    assert reasons["rule"].to_list() == ["repeat_location_not_flagged"]
    assert row["payable_complete"] is False
    line = metrics.lines.filter(pl.col("kind") == "staffing_penalty").row(0, named=True)
    assert (line["quantity"], line["amount_cny"]) == (2, Decimal("600.00"))
    assert "暂算" in line["detail_zh"]
    assert month_row(metrics, "2027-02")["provisional"] is False


def test_004_gap_300_per_person_day_and_post_left(contracts):
    # 三 (一) 5: 300 CNY per missing seat per day; 三 (一) 7: 1,000 CNY each time a post is left,
    # 1,000–10,000 CNY per city-assessment case (assessed 2,000). 2 persons × 3 days = 6 × 300 =
    # 1,800; penalties 1,000 + 2,000 = 3,000; payable 6,695,568 / 12 − 4,800 = 553,164.00.
    cid = "haidian-hotline-2022"
    staffing = ledger("staffing", staffing_days(cid, "seat", dt.date(2022, 6, 6), 3, 48, 46))
    penalties = ledger(
        "penalties",
        [
            {
                "contract_id": cid,
                "event_date": dt.date(2022, 6, 8),
                "penalty_id": "post_left",
                "occurrences": 1,
            },
            {
                "contract_id": cid,
                "event_date": dt.date(2022, 6, 9),
                "penalty_id": "city_assessment_deduction",
                "occurrences": 1,
                "assessed_amount_cny": Decimal("2000.00"),
            },
        ],
    )
    row = month_row(run(contracts[cid], staffing=staffing, penalties=penalties), "2022-06")
    assert row["staffing_penalty_cny"] == Decimal("1800.00")
    assert row["incident_penalty_cny"] == Decimal("3000.00")
    assert row["payable_cny"] == Decimal("553164.00")
    assert row["score"] is None  # no points sheet in 004


def test_002_gap_rate_not_stated(contracts):
    # 四 3: missing person-days are deducted "按实际缺员人数和天数" at a rate the contract omits.
    cid = "beijing-enforcement-2025"
    staffing = ledger("staffing", staffing_days(cid, "order_intake", dt.date(2025, 5, 5), 2, 3, 2))
    metrics = run(contracts[cid], staffing=staffing)
    row = month_row(metrics, "2025-05")
    assert row["gap_person_days"] == 2
    assert row["staffing_penalty_cny"] is None
    assert row["payable_complete"] is False
    assert month_row(metrics, "2025-06")["staffing_penalty_cny"] == Decimal("0.00")


def test_cost_per_seat_month(contracts):
    # 004: 6,695,568 / 12 / 48 = 11,624.25; 000 partial June (五 1: 1,869,400 / 365 × 14 =
    # 71,703.01): 71,703.01 / (16 × 14/30) = 9,603.08.
    assert month_row(run(contracts["haidian-hotline-2022"]), "2022-05")[
        "cost_per_seat_month_nominal_cny"
    ] == Decimal("11624.25")
    assert month_row(run(contracts["haidian-dispatch-2026"]), "2026-06")[
        "cost_per_seat_month_nominal_cny"
    ] == Decimal("9603.08")
    # 002 states no headcount: 5×8 + 7×24 + 5×8 + 7×8 = 304 seat-hours a week ÷ 40 = 7.6 seats;
    # 2,031,500 / 12 / 7.6 = 22,275.22.
    metrics = run(contracts["beijing-enforcement-2025"])
    assert "304" in metrics.seat_basis_zh
    row = month_row(metrics, "2025-03")
    assert row["seats"] == Decimal("7.6")
    assert row["cost_per_seat_month_nominal_cny"] == Decimal("22275.22")


def test_000_two_months_below_80_is_a_breach_with_a_cure_period(contracts):
    # 六 6: two consecutive months 低于 80 points, then 7 days after the buyer's notice to put it
    # right. 21 absences × 1 point (附件二 第四章 三 1) in July and August 2026 → 79 twice:
    # July is a warning, August a breach (the notice can only follow August's assessment), and
    # September back at 100 puts it right.
    cid = "haidian-dispatch-2026"
    events = ledger(
        "deductions",
        [
            deduction(cid, dt.date(2026, 7, 3), "absence", 21),
            deduction(cid, dt.date(2026, 8, 3), "absence", 21),
        ],
    )
    triggers = run(contracts[cid], deductions=events).triggers.filter(
        pl.col("trigger_id") == "two_months_below_80"
    )
    by_month = dict(zip(triggers["month"], triggers["state"], strict=True))
    assert (by_month["2026-07"], by_month["2026-08"], by_month["2026-09"]) == (
        "warning",
        "breach",
        "clear",
    )
