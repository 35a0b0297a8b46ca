"""One hand-worked example per rule kind and contract, and whole months that combine rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from seatscore.core.errors import LedgerError
from seatscore.ledgers.kinds import PENALTIES, check_references, read_ledger

from helpers import ledger, run


def month(contract, when: str, staffing=(), deductions=(), penalties=(), tickets=(), roster=()):
    metrics = run(
        contract,
        ledger("staffing", list(staffing)),
        ledger("deductions", list(deductions)),
        ledger("penalties", list(penalties)),
        ledger("tickets", list(tickets)),
        roster=ledger("roster", list(roster)),
    )
    return metrics, metrics.months.filter(pl.col("month") == when).row(0, named=True)


def d(cid, day, item, n=1, points=None):
    return {
        "contract_id": cid,
        "event_date": day,
        "item_id": item,
        "occurrences": n,
        "assessed_points": None if points is None else Decimal(points),
    }


def p(cid, day, penalty, n=1, amount=None):
    return {
        "contract_id": cid,
        "event_date": day,
        "penalty_id": penalty,
        "occurrences": n,
        "assessed_amount_cny": None if amount is None else Decimal(amount),
    }


def test_000_whole_month(contracts):
    # October 2026, 五 1: 1,869,400 / 365 × 31 = 158,770.96.
    # 附件二 第四章 一 1: late dispatch 0.5 × 3 = 1.5; 三 1: absence 1 × 2 = 2;
    # 四 (二) 1: an unlisted violation the panel set at 1.0 → 4.5 points, score 95.5, 4,500 CNY.
    # 六 4: one person off the roster 2026-09-30 .. 10-16 → 900 CNY in October (test_metrics);
    # 六 5: a person without a labour contract, 20,000 CNY, recorded. (六 4's 20,000 for five
    # vacancies overdue is computed from the roster: test_staffing.)
    # Payable 158,770.96 − 4,500 − 900 − 20,000 = 133,370.96.
    cid = "haidian-dispatch-2026"
    roster = [
        {
            "contract_id": cid,
            "post_id": post,
            "service_date": dt.date(2026, 9, 20) + dt.timedelta(days=i),
            "on_roster": 8 - (post == "emergency_duty" and 10 <= i <= 26),
        }
        for post in ("emergency_duty", "dispatch_analysis")
        for i in range(40)
    ]
    _, row = month(
        contracts[cid],
        "2026-10",
        roster=roster,
        deductions=[
            d(cid, dt.date(2026, 10, 9), "late_dispatch", 3),
            d(cid, dt.date(2026, 10, 12), "absence", 2),
            d(cid, dt.date(2026, 10, 20), "other_violation", 1, "1.0"),
        ],
        penalties=[p(cid, dt.date(2026, 10, 28), "no_labour_relation")],
    )
    assert row["score"] == Decimal("95.5")
    assert row["fee_deduction_cny"] == Decimal("4500.00")
    assert row["staffing_penalty_cny"] == Decimal("900.00")
    assert row["incident_penalty_cny"] == Decimal("20000.00")
    assert row["payable_cny"] == Decimal("133370.96")


def test_003_whole_month_with_caps(contracts):
    # March 2025, the last month of Q1 2025: 505,000.00 − 2 × 168,333.33 = 168,333.34.
    # 附件2 一: 16 of 17 seats on the roster on 11 days → 22 points, capped at 20.
    # 二 (一): wrong reports 0.5 × 4 = 2, one serious case the buyer set at 10 → assessors 12 (cap 15).
    # 二 (二): late coordination 0.5 × 40 = 20 → capped at the emergency post's 15.
    # 二 (三) 1 (2): 47 of 50 dispatched correctly = 94 %, 4 points under 98 % → 2 points.
    # Lost 20 + 12 + 15 + 2 = 49 → score 51; 一 (四): 168,333.34 × 49 % = 82,483.3366 → 82,483.34
    # off; payable 168,333.34 − 82,483.34 = 85,850.00.
    cid = "karamay-grid-2024"
    tickets = [
        {
            "contract_id": cid,
            "ticket_id": f"K{i}",
            "received_at": dt.datetime(2025, 3, 10, 9, 30),
            "priority": "ordinary",
            "category": "市政设施",
            "dispatch_correct": i >= 3,
        }
        for i in range(50)
    ]
    metrics, row = month(
        contracts[cid],
        "2025-03",
        roster=[
            {
                "contract_id": cid,
                "post_id": "seat",
                "service_date": dt.date(2025, 3, 1) + dt.timedelta(days=i),
                "on_roster": 16,
            }
            for i in range(11)
        ],
        deductions=[
            d(cid, dt.date(2025, 3, 3), "wrong_report", 4),
            d(cid, dt.date(2025, 3, 4), "wrong_report_serious", 1, "10"),
            d(cid, dt.date(2025, 3, 5), "late_coordination", 40),
        ],
        tickets=tickets,
    )
    cats = {
        r["category_id"]: (r["points_raw"], r["points"])
        for r in metrics.categories.filter(pl.col("month") == "2025-03").iter_rows(named=True)
    }
    assert cats["staffing"] == (Decimal(22), Decimal(20))
    assert cats["assessor"] == (Decimal(12), Decimal(12))
    assert cats["emergency"] == (Decimal(20), Decimal(15))
    assert cats["dispatch_accuracy"] == (Decimal(2), Decimal(2))
    assert row["points_lost"] == Decimal(49) and row["score"] == Decimal(51)
    assert row["fee_deduction_cny"] == Decimal("82483.34")
    assert row["payable_cny"] == Decimal("85850.00")


def test_001_share_of_amount_penalty(contracts):
    # 五 8: staff not replaced within 15 days: 10 % of 1,079,668 = 107,966.80 per time, taken from
    # the fee (六 8). May 2024's fee is 98,151.64, so the month's payable is −9,815.16: the vendor
    # owes the rest, which the payment schedule carries forward.
    cid = "shijingshan-hotline-2024"
    _, row = month(
        contracts[cid],
        "2024-05",
        penalties=[p(cid, dt.date(2024, 5, 20), "unfit_staff_not_replaced")],
    )
    assert row["incident_penalty_cny"] == Decimal("107966.80")
    assert row["payable_cny"] == Decimal("-9815.16")
    assert row["score"] is None


def test_002_fixed_and_share_penalties(contracts):
    # 四 4: false credentials 1,000 CNY; 七 9: leaking trade secrets 5 % of 2,031,500 = 101,575.00.
    # 2025-04 fee 169,291.67 (2,031,500 / 12) → payable 169,291.67 − 102,575.00 = 66,716.67.
    cid = "beijing-enforcement-2025"
    _, row = month(
        contracts[cid],
        "2025-04",
        penalties=[
            p(cid, dt.date(2025, 4, 2), "false_credentials"),
            p(cid, dt.date(2025, 4, 9), "trade_secret_leak"),
        ],
    )
    assert row["incident_penalty_cny"] == Decimal("102575.00")
    assert row["payable_cny"] == Decimal("66716.67")


def test_004_range_penalty_outside_its_range_is_rejected(tmp_path, contracts):
    # 三 (一) 7: 1,000–10,000 CNY per case; 12,000 is outside it and must not load.
    path = tmp_path / "penalties.csv"
    path.write_text(
        "contract_id,event_date,penalty_id,occurrences,assessed_amount_cny\n"
        "haidian-hotline-2022,2022-08-01,city_assessment_deduction,1,12000\n"
        "haidian-hotline-2022,2022-08-02,city_assessment_deduction,1,\n"
        "haidian-hotline-2022,2022-08-03,post_left,1,500\n",
        encoding="utf-8",
    )
    frame = read_ledger(path, PENALTIES)
    with pytest.raises(LedgerError) as err:
        check_references(path, PENALTIES, frame, contracts)
    message = str(err.value)
    assert "row 2, column assessed_amount_cny: 12000.00 is outside 1000.00–10000.00" in message
    assert (
        "row 3, column assessed_amount_cny: city_assessment_deduction is set by the buyer"
        in message
    )
    assert "row 4, column assessed_amount_cny: post_left has a fixed amount" in message
