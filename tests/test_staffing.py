"""Vacancies from the roster, absences from attendance, and the triggers and money that follow.

Every expected figure is worked out by hand from the clause it cites; the working days are those
of the State Council's 2026 holiday notice (no holiday in July, September 1–30 has none either).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from seatscore.compute.payments import payment_schedule
from seatscore.compute.statement import month_statement
from seatscore.compute.termination import breaches_on_record
from seatscore.core.errors import ContractFileError
from seatscore.terms.contract_files import load_contract
from seatscore.terms.contracts import StaffingPenalty
from seatscore.terms.thresholds import holds, includes_number, operator_of

from helpers import ledger, roster_days, run, staffing_days

HAIDIAN = "haidian-dispatch-2026"


def full_roster(start: dt.date, days: int) -> list[dict]:
    """000's two posts at full strength, 8 + 8 = the 16 persons of 一 (二)."""
    return roster_days(HAIDIAN, "emergency_duty", start, days, 8) + roster_days(
        HAIDIAN, "dispatch_analysis", start, days, 8
    )


def short(rows: list[dict], first: dt.date, last: dt.date, persons: int) -> list[dict]:
    """Take ``persons`` off the emergency post's roster from ``first`` to ``last``."""
    return [
        {**r, "on_roster": r["on_roster"] - persons}
        if r["post_id"] == "emergency_duty" and first <= r["service_date"] <= last
        else r
        for r in rows
    ]


def month_row(metrics, month: str) -> dict:
    return metrics.months.filter(pl.col("month") == month).row(0, named=True)


def state(metrics, trigger_id: str, month: str) -> tuple[str, str | None]:
    row = metrics.triggers.filter(
        (pl.col("trigger_id") == trigger_id) & (pl.col("month") == month)
    ).row(0, named=True)
    return row["state"], row["since"]


def test_one_vacancy_runs_through_weekends(contracts):
    # 六 4: one person off the roster from 2026-07-01 to 2026-08-31. The vacancy opens on 07-01;
    # its 5 working days are 07-02, 03, 06, 07, 08 (07-01 not counted), so it is charged from
    # 07-09 on every calendar day, weekends included: July 9–31 = 23 days × 300 = 6,900;
    # August 31 days × 300 = 9,300; 16,200 CNY in all. (Read from attendance, the grace started
    # again every Monday and it cost 0.)
    rows = short(
        full_roster(dt.date(2026, 6, 17), 90), dt.date(2026, 7, 1), dt.date(2026, 8, 31), 1
    )
    metrics = run(contracts[HAIDIAN], roster=ledger("roster", rows))
    july, august = month_row(metrics, "2026-07"), month_row(metrics, "2026-08")
    assert (july["penalised_person_days"], july["staffing_penalty_cny"]) == (23, Decimal("6900.00"))
    assert (august["penalised_person_days"], august["staffing_penalty_cny"]) == (
        31,
        Decimal("9300.00"),
    )
    assert july["staffing_penalty_cny"] + august["staffing_penalty_cny"] == Decimal("16200.00")
    episode = metrics.vacancies.episodes.row(0, named=True)
    assert (episode["opened"], episode["grace_end"], episode["last_day"]) == (
        dt.date(2026, 7, 1),
        dt.date(2026, 7, 8),
        dt.date(2026, 8, 31),
    )


def test_two_overlapping_vacancies_each_have_their_own_grace(contracts):
    # 六 4, first in first out: vacancy A 07-01..07-17, vacancy B 07-08..07-17.
    # A: grace ends 07-08 (07-02, 03, 06, 07, 08) → charged 07-09..07-17 = 9 days.
    # B: grace ends 07-15 (07-09, 10, 13, 14, 15) → charged 07-16, 07-17 = 2 days.
    # 11 person-days × 300 = 3,300.00 CNY (one shared grace would charge 18 days, 5,400).
    rows = full_roster(dt.date(2026, 6, 17), 60)
    rows = short(rows, dt.date(2026, 7, 1), dt.date(2026, 7, 17), 1)
    rows = short(rows, dt.date(2026, 7, 8), dt.date(2026, 7, 17), 1)
    roster = ledger("roster", rows).with_columns(
        pl.lit("roster.csv").alias("source_file"),
        pl.int_range(2, len(rows) + 2, dtype=pl.Int32).alias("source_row"),
    )
    metrics = run(contracts[HAIDIAN], roster=roster)
    july = month_row(metrics, "2026-07")
    assert july["penalised_person_days"] == 11
    assert july["staffing_penalty_cny"] == Decimal("3300.00")
    line = metrics.lines.filter(pl.col("kind") == "staffing_penalty").row(0, named=True)
    assert (line["rule_id"], line["quantity"], line["amount_cny"]) == (
        "vacancy_not_filled",
        11,
        Decimal("3300.00"),
    )
    # the roster rows behind it: both posts' rows (the minimum is the total of 16) on the nine
    # days 07-09..07-17 with a charged vacancy
    charged = [
        i + 2
        for i, r in enumerate(rows)
        if dt.date(2026, 7, 9) <= r["service_date"] <= dt.date(2026, 7, 17)
    ]
    assert sorted(ref["row"] for ref in line["rows"]) == charged


def test_a_day_without_a_roster_figure_is_unknown_not_filled(contracts):
    # The same July vacancy as above, with no roster rows on 07-10 and 07-11: the vacancy is not
    # cut (its grace does not start again on 07-12), those two days are not charged, and July is
    # reported incomplete. Charged: 07-09, then 07-12..07-31 = 1 + 20 = 21 days → 6,300.
    rows = short(
        full_roster(dt.date(2026, 6, 17), 60), dt.date(2026, 7, 1), dt.date(2026, 7, 31), 1
    )
    rows = [
        r for r in rows if r["service_date"] not in (dt.date(2026, 7, 10), dt.date(2026, 7, 11))
    ]
    metrics = run(contracts[HAIDIAN], roster=ledger("roster", rows))
    july = month_row(metrics, "2026-07")
    assert july["staffing_penalty_cny"] == Decimal("6300.00")
    assert july["payable_complete"] is False
    reasons = metrics.not_assessable.filter(
        (pl.col("month") == "2026-07") & (pl.col("rule") == "vacancy_not_filled")
    )["reason"]
    assert reasons.to_list() == ["在册人数缺 2 天的记录：这些天的空缺无法计算，扣款可能偏低"]


def test_person_list_gives_the_same_vacancy(contracts):
    # The person list vendors keep (工号, 岗位, 到岗日期, 离岗日期, 名单日期): 16 persons from the
    # start; E1's last day on the post is 2026-06-30 and nobody has replaced E1 when the list is
    # exported on 2026-07-31. The emergency post is one short from 07-01: grace ends 07-08,
    # charged 07-09..07-31 = 23 days × 300 = 6,900.00. (Without 名单日期 the list would say
    # nothing of the days after its last date.)
    start = dt.date(2026, 6, 17)
    people = [
        {
            "contract_id": HAIDIAN,
            "post_id": post,
            "staff_id": f"{post[0].upper()}{i}",
            "start_date": start,
            "end_date": dt.date(2026, 6, 30) if (post, i) == ("emergency_duty", 1) else None,
            "listed_on": dt.date(2026, 7, 31),
        }
        for post in ("emergency_duty", "dispatch_analysis")
        for i in range(1, 9)
    ]
    metrics = run(contracts[HAIDIAN], roster=ledger("roster", people))
    july = month_row(metrics, "2026-07")
    assert (july["penalised_person_days"], july["staffing_penalty_cny"]) == (23, Decimal("6900.00"))
    assert (
        "2026-07"
        not in metrics.not_assessable.filter(pl.col("rule") == "vacancy_not_filled")[
            "month"
        ].to_list()
    )
    # A replacement from 07-20 (E9) fills it: charged 07-09..07-19 = 11 days, 3,300.00.
    people.append(
        {**people[0], "staff_id": "E9", "start_date": dt.date(2026, 7, 20), "end_date": None}
    )
    july = month_row(run(contracts[HAIDIAN], roster=ledger("roster", people)), "2026-07")
    assert (july["penalised_person_days"], july["staffing_penalty_cny"]) == (11, Decimal("3300.00"))


def test_attendance_absences_are_not_vacancies(contracts):
    # 000 六 4 is about the roster. Attendance shows one absent on the 5×8 post every weekend
    # day and every weekday of July, but the roster is full: no staffing penalty. (Absence is
    # a deduction item of its own, 附件二 第四章 三 1, recorded in the deductions ledger.)
    rows = full_roster(dt.date(2026, 6, 17), 60)
    attendance = ledger(
        "staffing", staffing_days(HAIDIAN, "dispatch_analysis", dt.date(2026, 7, 1), 31, 8, 7)
    )
    metrics = run(contracts[HAIDIAN], roster=ledger("roster", rows), staffing=attendance)
    assert month_row(metrics, "2026-07")["staffing_penalty_cny"] == Decimal("0.00")


def test_five_vacancies_overdue_ten_working_days(contracts):
    # 六 4, second sentence: "人员空缺达到5人及以上且逾期10个工作日及以上未及时补充的，甲方有权解除本
    # 合同，未向乙方支付的费用，不再支付，乙方还应向甲方支付2万元违约金". Five persons off the roster
    # from 2026-07-01: each is overdue from 07-09 (grace ended 07-08); the 10th working day after
    # 07-08 is 07-22 (07-09, 10, 13, 14, 15, 16, 17, 20, 21, 22). From 07-22 all five are 10
    # working days overdue: fired. The 20,000 comes with the termination, so it is in the
    # termination case, not taken off July. Staffing penalty: 5 × 23 days (07-09..07-31) × 300 =
    # 34,500.
    rows = short(
        full_roster(dt.date(2026, 6, 17), 50), dt.date(2026, 7, 1), dt.date(2026, 7, 31), 5
    )
    metrics = run(contracts[HAIDIAN], roster=ledger("roster", rows))
    july = month_row(metrics, "2026-07")
    assert july["incident_penalty_cny"] == Decimal("0.00")
    assert july["staffing_penalty_cny"] == Decimal("34500.00")
    assert state(metrics, "vacancy_5_for_10_working_days", "2026-07") == ("fired", "2026-07-22")
    exposure = month_statement(contracts[HAIDIAN], metrics, "2026-07")["termination_exposure"]
    case = next(c for c in exposure["cases"] if c["case_id"] == "vacancies_not_filled")
    assert case["triggers"] == [{"trigger_id": "vacancy_5_for_10_working_days", "state": "fired"}]
    damages = [line for line in case["lines"] if line["kind"] == "damages_fixed"]
    assert damages[0]["amount_cny"] == "20000.00"
    # Four vacancies would not do ("5人及以上" includes 5, not 4).
    four = short(
        full_roster(dt.date(2026, 6, 17), 50), dt.date(2026, 7, 1), dt.date(2026, 7, 31), 4
    )
    metrics4 = run(contracts[HAIDIAN], roster=ledger("roster", four))
    assert state(metrics4, "vacancy_5_for_10_working_days", "2026-07")[0] == "clear"


@pytest.mark.parametrize(("last_day", "expected"), [(8, "breach"), (9, "fired")])
def test_gap_of_five_breach_then_fired_after_the_cure_period(contracts, last_day, expected):
    # 六 6: "人员缺岗5人（含）以上", then 7 days after the buyer's notice to put it right. The
    # notice can come on the first day at the earliest (2026-09-01), so the cure period runs to
    # 09-08: five short through 09-08 is a breach; still five short on 09-09 is fired.
    rows = short(
        full_roster(dt.date(2026, 8, 20), 30), dt.date(2026, 9, 1), dt.date(2026, 9, last_day), 5
    )
    metrics = run(contracts[HAIDIAN], roster=ledger("roster", rows))
    assert state(metrics, "gap_5_or_more", "2026-09") == (expected, "2026-09-01")
    doc = month_statement(contracts[HAIDIAN], metrics, "2026-09")
    assert {
        "trigger_id": "gap_5_or_more",
        "state": expected,
        "clause": "六 6",
        "since": "2026-09-01",
    } in doc["triggers"]


def deductions(cid: str, item: str, per_month: dict[str, int]) -> pl.DataFrame:
    return ledger(
        "deductions",
        [
            {
                "contract_id": cid,
                "event_date": dt.date.fromisoformat(f"{month}-05"),
                "item_id": item,
                "occurrences": n,
            }
            for month, n in per_month.items()
        ],
    )


def test_003_three_months_at_exactly_85_fire(contracts):
    # 003 四 (四) "连续3个月…85分以下": 以下 includes 85 (民法典 第一千二百五十九条). 30 wrong
    # reports × 0.5 (附件2 二 (一), cap 15) = 15 points → 85.0 in Oct, Nov, Dec 2024.
    cid = "karamay-grid-2024"
    metrics = run(
        contracts[cid],
        deductions=deductions(cid, "wrong_report", {"2024-10": 30, "2024-11": 30, "2024-12": 30}),
    )
    assert month_row(metrics, "2024-12")["score"] == Decimal(85)
    assert [
        state(metrics, "three_months_below_85", m)[0] for m in ("2024-10", "2024-11", "2024-12")
    ] == [
        "clear",
        "warning",
        "fired",
    ]
    assert state(metrics, "three_months_below_85", "2024-12") == ("fired", "2024-12")
    # four within twelve: three counted by December → one more fires it
    assert state(metrics, "four_of_twelve_below_85", "2024-12")[0] == "warning"


def test_000_two_months_at_exactly_80_do_not_fire(contracts):
    # 000 六 6 "连续两个月绩效考评低于80分": 低于 excludes 80. 20 absences × 1 point → 80.0 twice.
    metrics = run(
        contracts[HAIDIAN],
        deductions=deductions(HAIDIAN, "absence", {"2026-07": 20, "2026-08": 20}),
    )
    assert month_row(metrics, "2026-08")["score"] == Decimal(80)
    assert state(metrics, "two_months_below_80", "2026-08")[0] == "clear"


def test_000_79_9_breach_then_fired_after_the_cure_period(contracts):
    # 20 absences + 1 dress code (0.1) = 20.1 points → 79.9 in July, August and September 2026.
    # July: one more month fires it (warning). August: two months 低于 80 — a breach; the buyer's
    # notice follows August's assessment and the vendor has 7 days (六 6). September is still
    # under 80 after the cure period ended (08-31 + 7 = 09-07): fired, since August.
    per_month = {"2026-07": 20, "2026-08": 20, "2026-09": 20}
    events = pl.concat(
        [
            deductions(HAIDIAN, "absence", per_month),
            deductions(HAIDIAN, "dress_code", dict.fromkeys(per_month, 1)),
        ]
    )
    metrics = run(contracts[HAIDIAN], deductions=events)
    assert month_row(metrics, "2026-08")["score"] == Decimal("79.9")
    assert state(metrics, "two_months_below_80", "2026-07") == ("warning", None)
    assert state(metrics, "two_months_below_80", "2026-08") == ("breach", "2026-08")
    assert state(metrics, "two_months_below_80", "2026-09") == ("fired", "2026-08")


def test_003_five_point_month_rounds_as_a_finance_office(contracts):
    # 一 (四): November 2024's fee 168,333.33 × 5 % = 8,416.6665 → 8,416.67 off; payable
    # 168,333.33 − 8,416.67 = 159,916.66. 10 wrong reports × 0.5 = 5 points.
    cid = "karamay-grid-2024"
    metrics = run(contracts[cid], deductions=deductions(cid, "wrong_report", {"2024-11": 10}))
    row = month_row(metrics, "2024-11")
    assert row["fee_deduction_cny"] == Decimal("8416.67")
    assert row["payable_cny"] == Decimal("159916.66")


def payment(cid: str, day: dt.date, amount: str, voucher: str) -> dict:
    return {
        "contract_id": cid,
        "paid_on": day,
        "amount_cny": Decimal(amount),
        "voucher_no": voucher,
    }


def test_001_vendor_quitting_refunds_twice_what_was_paid(contracts):
    # 001 三 2: each month the previous month's cost is paid. Paid by the end of May 2024:
    # February, March and April, 3 × 98,151.64 = 294,454.92. 六 7: a vendor that ends the
    # contract itself refunds double: 2 × 294,454.92 = 588,909.84. 六 2: subcontracting costs 20 %
    # of 1,079,668 = 215,933.60.
    cid = "shijingshan-hotline-2024"
    paid = ledger(
        "payments",
        [
            payment(cid, dt.date(2024, 3, 10), "98151.64", "P1"),
            payment(cid, dt.date(2024, 4, 10), "98151.64", "P2"),
            payment(cid, dt.date(2024, 5, 10), "98151.64", "P3"),
        ],
    )
    metrics = run(contracts[cid], payments=paid)
    exposure = month_statement(contracts[cid], metrics, "2024-05")["termination_exposure"]
    assert exposure["paid_cny"] == "294454.92"
    assert exposure["earned_cny"] == "392606.56"  # February–May, 4 × 98,151.64
    cases = {c["case_id"]: c for c in exposure["cases"]}
    assert cases["vendor_quits"]["total_cny"] == "588909.84"
    assert cases["vendor_quits"]["lines"][0]["clause"] == "六 7"
    assert cases["subcontracting"]["total_cny"] == "215933.60"


def test_000_termination_exposure_forfeits_what_is_unpaid(contracts):
    # 000 六 6 / 六 4: on termination "未向乙方支付的费用，不再支付". By the end of August 2026 the
    # first payment (四 3: 747,760.00) was made; served June–August earn 71,703.01 + 2 ×
    # 158,770.96 = 389,244.93 (no deductions): nothing unpaid to forfeit, 747,760.00 −
    # 389,244.93 = 358,515.07 paid for time not served is refunded (六 7); with the roster case
    # 20,000 damages on top.
    paid = ledger("payments", [payment(HAIDIAN, dt.date(2026, 7, 10), "747760.00", "A1")])
    metrics = run(contracts[HAIDIAN], payments=paid)
    exposure = month_statement(contracts[HAIDIAN], metrics, "2026-08")["termination_exposure"]
    cases = {c["case_id"]: c for c in exposure["cases"]}
    lines = {line["kind"]: line["amount_cny"] for line in cases["vacancies_not_filled"]["lines"]}
    assert lines == {
        "forfeit_unpaid": "0.00",
        "refund_unserved": "358515.07",
        "damages_fixed": "20000.00",
    }
    assert cases["vacancies_not_filled"]["total_cny"] == "378515.07"


def test_000_final_payment_at_risk_with_a_breach(contracts):
    # 四 3: the final 20 % (373,880.00) is paid "如无违约事项". A vacancy penalty (六 4) in July
    # puts it at risk and the schedule says which breach.
    rows = short(
        full_roster(dt.date(2026, 6, 17), 60), dt.date(2026, 7, 1), dt.date(2026, 7, 17), 1
    )
    c = contracts[HAIDIAN]
    metrics = run(c, roster=ledger("roster", rows))
    breaches = breaches_on_record(c, metrics, "2026-07")
    assert breaches == ["2026-07 人员空缺逾期未补充（六 4）9 人·天，2700.00 元"]
    schedule = payment_schedule(c, metrics.months, breaches)
    final = schedule.filter(pl.col("label_zh") == "尾款").row(0, named=True)
    assert final["at_risk"] is True and "如无违约事项" in final["at_risk_zh"]
    assert not schedule.filter(pl.col("label_zh") != "尾款")["at_risk"].any()
    assert not payment_schedule(c, metrics.months, breaches_on_record(c, metrics, "2026-06"))[
        "at_risk"
    ].any()


def test_every_staffing_rule_applies(contracts):
    # A contract with a roster rule (000 六 4) and an attendance rule (100 CNY per absent
    # person-day, added for the test): both are charged. One absence on 07-06 → 100; the roster
    # vacancy of test_two_overlapping… → 3,300.
    c = contracts[HAIDIAN]
    extra = StaffingPenalty(
        rule_id="absence_test",
        basis="attendance",
        rate_cny={"value": "100.00", "clause": "测试"},
        clause="测试",
    )
    c = c.model_copy(update={"staffing_penalties": [*c.staffing_penalties, extra]})
    rows = full_roster(dt.date(2026, 6, 17), 60)
    rows = short(rows, dt.date(2026, 7, 1), dt.date(2026, 7, 17), 1)
    rows = short(rows, dt.date(2026, 7, 8), dt.date(2026, 7, 17), 1)
    attendance = ledger(
        "staffing", staffing_days(HAIDIAN, "emergency_duty", dt.date(2026, 7, 6), 1, 8, 7)
    )
    metrics = run(c, roster=ledger("roster", rows), staffing=attendance)
    assert month_row(metrics, "2026-07")["staffing_penalty_cny"] == Decimal("3400.00")
    rules = metrics.lines.filter(pl.col("kind") == "staffing_penalty")["rule_id"].to_list()
    assert sorted(rules) == ["absence_test", "vacancy_not_filled"]


def test_threshold_words_follow_the_civil_code():
    # 民法典 第一千二百五十九条: 以上、以下、以内、届满 include the number; 不满、超过 do not.
    assert holds(Decimal(85), "以下", 85) and not holds(Decimal(80), "低于", 80)
    assert holds(5, "以上", 5) and not holds(10, "超过", 10) and holds(10, "以内", 10)
    assert includes_number("届满") and not includes_number("不满")
    with pytest.raises(ValueError, match="左右"):
        operator_of("左右")


def test_a_threshold_without_its_word_is_refused(tmp_path):
    text = open("params/contracts/karamay-grid-2024.yaml", encoding="utf-8").read()
    bad = tmp_path / "karamay-grid-2024.yaml"
    bad.write_text(text.replace("threshold_word: 以下, months: 3", "months: 3"), encoding="utf-8")
    with pytest.raises(ContractFileError, match="threshold_word"):
        load_contract(bad)
