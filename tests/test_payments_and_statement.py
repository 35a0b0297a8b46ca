"""Payment milestones absorb deductions; the statement and CLI show every line with its rows."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import polars as pl

from seatscore.cli import main
from seatscore.compute.payments import payment_schedule, schedule_balances
from seatscore.compute.statement import month_statement, rule_catalogue
from seatscore.ledgers import store as db

from helpers import ledger, roster_days, run, staffing_days


def events(cid, *rows):
    return ledger(
        "deductions",
        [
            {"contract_id": cid, "event_date": d, "item_id": item, "occurrences": n}
            for d, item, n in rows
        ],
    )


# 003, November 2024: 附件2 二 (二) late coordination 0.5 × 3 = 1.5; 附件2 (三) 后勤 equipment not
# fixed within 8 hours 1 × 3 = 3 → 4.5 points.
KARAMAY_NOVEMBER_4_5_POINTS = events(
    "karamay-grid-2024",
    (dt.date(2024, 11, 5), "late_coordination", 3),
    (dt.date(2024, 11, 5), "equipment_not_fixed_8h", 3),
)


def test_000_milestones_absorb_the_deductions_since_the_last_payment(contracts):
    # 四 3: 40 % / 40 % / 20 % = 747,760 / 747,760 / 373,880. 附件二 第三章 二: deductions come
    # off the next payment. July 2026 loses 1.8 points (1,800 CNY), March 2027 one absence (1 point,
    # 1,000 CNY). Payment 1 (through 2026-06) pays 747,760; payment 2 (through 2026-12) 745,960;
    # payment 3 372,880. 747,760 + 745,960 + 372,880 + 2,800 = 1,869,400.
    cid = "haidian-dispatch-2026"
    c = contracts[cid]
    metrics = run(
        c,
        deductions=events(
            cid,
            (dt.date(2026, 7, 10), "late_dispatch", 2),
            (dt.date(2026, 7, 10), "dress_code", 3),
            (dt.date(2026, 7, 11), "late_reply", 1),
            (dt.date(2027, 3, 2), "absence", 1),
        ),
    )
    schedule = payment_schedule(c, metrics.months)
    assert schedule["paid_cny"].to_list() == [
        Decimal("747760.00"),
        Decimal("745960.00"),
        Decimal("372880.00"),
    ]
    assert schedule["absorbed_cny"].to_list() == [
        Decimal("0.00"),
        Decimal("1800.00"),
        Decimal("1000.00"),
    ]
    assert schedule_balances(c, schedule)


def test_004_first_payment_in_advance_next_one_absorbs(contracts):
    # 九: four quarterly payments of 1,641,000, the first paid on signing for April–June. June's
    # gap (2 × 3 person-days × 300 = 1,800, 三 (一) 5) comes off the July–September payment.
    cid = "haidian-hotline-2022"
    c = contracts[cid]
    staffing = ledger("staffing", staffing_days(cid, "seat", dt.date(2022, 6, 6), 3, 48, 46))
    schedule = payment_schedule(c, run(c, staffing=staffing).months)
    assert schedule["paid_cny"].to_list()[:2] == [Decimal("1641000.00"), Decimal("1639200.00")]
    assert schedule_balances(c, schedule)


def test_003_quarterly_settlement_pays_the_months_less_deductions(contracts):
    # 一 (四), read as calendar quarters: Q4 2024 = a quarter of 2,020,000 = 505,000.00 (the
    # months 168,333.33 + 168,333.33 + 168,333.34). 4.5 points in November → 168,333.33 × 4.5 % =
    # 7,574.99985 → 7,575.00 off: paid 505,000.00 − 7,575.00 = 497,425.00.
    cid = "karamay-grid-2024"
    c = contracts[cid]
    metrics = run(c, deductions=KARAMAY_NOVEMBER_4_5_POINTS)
    schedule = payment_schedule(c, metrics.months)
    q4 = schedule.filter(pl.col("through") == "2024-12").row(0, named=True)
    assert q4["nominal_cny"] == Decimal("505000.00")
    assert q4["paid_cny"] == Decimal("497425.00")
    assert schedule.height == 5 and schedule_balances(c, schedule)


def test_termination_warned_the_month_before(contracts):
    # 003 四 (四): three consecutive months 85分以下, or four in twelve. Two months at 80 (20
    # points of staffing each: 16 of 17 seats on the roster for 10 days) → warned in the second;
    # a third fires it.
    cid = "karamay-grid-2024"
    c = contracts[cid]
    roster = ledger(
        "roster",
        roster_days(cid, "seat", dt.date(2024, 10, 1), 10, 16)
        + roster_days(cid, "seat", dt.date(2024, 11, 1), 10, 16)
        + roster_days(cid, "seat", dt.date(2024, 12, 1), 10, 16),
    )
    metrics = run(c, roster=roster)
    november = month_statement(c, metrics, "2024-11")["flags"]
    december = month_statement(c, metrics, "2024-12")["flags"]
    assert any(f.startswith("终止预警") and "连续3个月" in f for f in november)
    assert any(f.startswith("终止条件已触发") and "连续3个月" in f for f in december)
    assert not any("连续3个月" in f for f in month_statement(c, metrics, "2024-10")["flags"])


def test_statement_keys_and_money_strings(contracts):
    cid = "karamay-grid-2024"
    c = contracts[cid]
    metrics = run(c, deductions=KARAMAY_NOVEMBER_4_5_POINTS)
    doc = month_statement(c, metrics, "2024-11")
    assert set(doc) >= {
        "contract_id",
        "month",
        "score",
        "points_lost",
        "points_lost_by_category",
        "fee_nominal_cny",
        "fee_deduction_cny",
        "penalties_cny",
        "penalties",
        "payable_cny",
        "flags",
        "triggers",
        "termination_exposure",
        "provisional",
        "lines",
    }
    assert (doc["score"], doc["payable_cny"], doc["fee_deduction_cny"]) == (
        "95.5",
        "160758.33",
        "7575.00",
    )
    assert doc["points_lost_by_category"]["emergency"] == "1.5"
    assert doc["points_lost_by_category"]["logistics"] == "3.0"
    assert {line["rule_id"] for line in doc["lines"]} == {
        "late_coordination",
        "equipment_not_fixed_8h",
    }


def test_catalogue_lists_every_rule(contracts):
    rules = {r["rule_id"]: r for r in rule_catalogue(contracts["haidian-hotline-2022"])}
    assert rules["seat_gap"]["amount_cny"] == "300.00"
    assert rules["seat_gap"]["basis"] == "attendance"
    assert rules["post_left"]["amount_cny"] == "1000.00"
    assert (
        rules["city_assessment_deduction"]["amount_min_cny"],
        rules["city_assessment_deduction"]["amount_max_cny"],
    ) == ("1000.00", "10000.00")
    karamay = {r["rule_id"]: r for r in rule_catalogue(contracts["karamay-grid-2024"])}
    assert karamay["dispatch_accuracy_below_target"]["category_cap"] == "15.0"
    assert "not_stated" in karamay["callback_rate_below_target"]
    # 000: 33 items of 附件二 第四章 (32 with fixed points, 四 (二) 1 discretionary), the staffing
    # penalty of 六 4 and three money penalties (六 4, 六 5, 五 2).
    assert len(rule_catalogue(contracts["haidian-dispatch-2026"])) == 33 + 1 + 3


def test_cli_score_json_traces_rows(demo_db, capsys):
    # Demo late-dispatch deductions are one event per late ticket, one occurrence each: the line's
    # quantity equals the number of ledger rows behind it, and the rows name the deductions file.
    with db.connect(demo_db, read_only=True) as con:
        month = con.sql(
            "SELECT strftime(min(event_date), '%Y-%m') FROM deduction_events "
            "WHERE contract_id = 'haidian-dispatch-2026' AND item_id = 'late_dispatch'"
        ).fetchall()[0][0]
    args = ["score", "haidian-dispatch-2026", "--month", month, "--db", str(demo_db), "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["month"] == month
    (late,) = [line for line in doc["lines"] if line["rule_id"] == "late_dispatch"]
    assert late["quantity"] == len(late["rows"]) >= 1
    assert Decimal(late["points"]) == Decimal("0.5") * late["quantity"]  # 附件二 第四章 一 1
    assert all(r["file"].endswith("haidian-dispatch-2026/deductions.csv") for r in late["rows"])
    assert Decimal(doc["payable_cny"]) == Decimal(doc["fee_nominal_cny"]) - Decimal(
        doc["fee_deduction_cny"]
    ) - Decimal(doc["penalties_cny"])


def test_cli_errors_are_clear(demo_db, capsys):
    assert main(["score", "nobody", "--month", "2026-08", "--db", str(demo_db)]) == 2
    assert "no contract 'nobody'" in capsys.readouterr().err
    assert main(["score", "karamay-grid-2024", "--month", "2030-01", "--db", str(demo_db)]) == 2
    assert "outside the service period" in capsys.readouterr().err
    assert main(["rules", "karamay-grid-2024", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["contract_id"] == "karamay-grid-2024"


def test_a_contract_gap_is_one_line_and_never_an_id(contracts):
    # 000 附件二 第四章 一 2's window ("当班期间") is not stated: the same every month until the
    # buyer supplies it, so the flags carry one line pointing to the appendix, which names the
    # rule as the contract does; a month's own data gap is named in the flags.
    c = contracts["haidian-dispatch-2026"]
    flags = month_statement(c, run(c), "2026-07")["flags"]
    assert "合同未写明的条款使 1 项规则无法评估（见报告“无法评估的规则”）" in flags
    assert "repeat_location_not_flagged" not in " ".join(flags)
    k = contracts["karamay-grid-2024"]
    march = month_statement(k, run(k), "2025-03")["flags"]
    # content quality and callback rate targets unstated (terms); dispatch accuracy has no
    # ticket in March (data), named with its Chinese name
    assert "合同未写明的条款使 2 项规则无法评估（见报告“无法评估的规则”）" in march
    assert any(f.startswith("无法评估：派单准确率低于98%") and "无定义" in f for f in march)
