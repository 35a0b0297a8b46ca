"""What needs attention (需关注事项): each kind of finding from small hand-built ledgers, its text
and its place in the list (compute/findings.py), and each target's verdict.

Contracts: 000 = haidian-dispatch-2026, 001 = shijingshan-hotline-2024, 002 =
beijing-enforcement-2025, 003 = karamay-grid-2024 (``../shared/seeds/``).
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest

from seatscore.compute import findings
from seatscore.compute.statement import statement_as_of
from seatscore.ledgers.kinds import KINDS
from tests.helpers import ledger, roster_days, staffing_days, ticket

D000 = "haidian-dispatch-2026"
D001 = "shijingshan-hotline-2024"
D002 = "beijing-enforcement-2025"
D003 = "karamay-grid-2024"
TODAY = dt.date(2027, 12, 31)  # after every service period: each month is over


def full_roster(contract) -> list[dict]:
    """000's roster at its 16 persons (一 (二)) every day of the service period: no vacancy, and
    no day the roster is unknown."""
    period = contract.service_period
    days = (period.end - period.start).days + 1
    return [
        *roster_days(D000, "dispatch_analysis", period.start, days, 8),
        *roster_days(D000, "emergency_duty", period.start, days, 8),
    ]


def statement(contract, month: str, **rows: list[dict]) -> dict:
    """The month's statement from ledgers given as rows per kind; the other kinds are empty but
    000's roster, which is full."""
    if contract.contract_id == D000:
        rows.setdefault("roster", full_roster(contract))
    ledgers = {kind: ledger(kind, rows.get(kind, [])) for kind in KINDS}
    return statement_as_of(contract, ledgers, month, TODAY)


def texts(doc: dict) -> list[str]:
    return [f["text_zh"] for f in doc["findings"]]


def deduction(cid: str, day: str, item: str, n: int) -> dict:
    return {
        "contract_id": cid,
        "event_date": dt.date.fromisoformat(day),
        "item_id": item,
        "occurrences": n,
    }


def test_000_late_replies_not_booked_are_found_with_the_points_the_contract_attaches(contracts):
    # 附件二 第四章 一 1: 市局案件 replied by midnight of the day received, 区局案件 within 24 h;
    # 未采取有效措施造成超时回复 deducts 0.5 points per document; 附件二 第三章 二: ¥1,000 a point.
    c = contracts[D000]
    tickets = [
        ticket(D000, "C1", "2026-07-06 09:00", case_class="city", replied_at="2026-07-07 08:00"),
        ticket(D000, "C2", "2026-07-06 10:00", case_class="city", replied_at="2026-07-07 09:00"),
        ticket(D000, "C3", "2026-07-06 11:00", case_class="city", replied_at="2026-07-08 09:00"),
        ticket(D000, "C4", "2026-07-06 12:00", case_class="city", replied_at="2026-07-06 23:59"),
        ticket(
            D000, "D1", "2026-07-06 09:00", case_class="district", replied_at="2026-07-07 09:01"
        ),
    ]
    doc = statement(
        c, "2026-07", tickets=tickets, deductions=[deduction(D000, "2026-07-20", "late_reply", 1)]
    )
    # 3 city cases and 1 district case late = 4; the ledger booked 1; the other 3 × 0.5 = 1.5
    # points, × ¥1,000 = ¥1,500.00, at most (the item's condition: no effective measures taken).
    assert texts(doc)[0] == (
        "4 件超过时限（市局案件当日24时前回复 3 件、区局案件24小时内回复 1 件）（附件二 第四章 一 1），"
        "台账记“未采取有效措施造成超时回复” 1 件；按“未采取有效措施造成超时回复”每件 0.5 分，"
        "未记的 3 件最多可扣 1.5 分（¥1,500.00）"
    )
    assert doc["findings"][0]["level"] == "amber" and doc["findings"][0]["cny"] == "1500.00"
    # The booked line follows, money first: 1 document, 0.5 points, ¥500.00.
    assert (
        texts(doc)[1]
        == "未采取有效措施造成超时回复 1 张单据，扣 0.5 分（¥500.00）（附件二 第四章 一 1）"
    )
    assert doc["attention"] == "amber"
    verdicts = {v["key"]: v for v in doc["targets"]}
    assert (verdicts["reply_city_same_day"]["met"], verdicts["reply_city_same_day"]["missed"]) == (
        False,
        3,
    )
    assert verdicts["reply_city_same_day"]["limit_zh"] == "每件受理当日24时前"


def test_000_misses_all_booked_are_no_finding_and_lines_rank_by_money(contracts):
    c = contracts[D000]
    tickets = [
        ticket(D000, "T1", "2026-07-06 09:00", dispatched_at="2026-07-06 09:11"),  # 11 min: late
        ticket(D000, "T2", "2026-07-06 10:00", dispatched_at="2026-07-06 10:10"),  # 10 min: on time
    ]
    doc = statement(
        c,
        "2026-07",
        tickets=tickets,
        deductions=[
            deduction(D000, "2026-07-03", "dress_code", 2),
            deduction(D000, "2026-07-09", "wrong_dispatch", 8),
            deduction(D000, "2026-07-10", "late_dispatch", 1),
        ],
    )
    # 8 wrong dispatches × 0.5 = 4.0 points = ¥4,000.00; 1 late dispatch 0.5 = ¥500.00;
    # 2 dress-code breaches × 0.1 = 0.2 = ¥200.00 (附件二 第四章 一 1, 二 3; 第三章 二).
    assert texts(doc) == [
        "派发错误且当班未纠正 8 件，扣 4.0 分（¥4,000.00）（附件二 第四章 一 1）",
        "超过10分钟未接收派发 1 张单据，扣 0.5 分（¥500.00）（附件二 第四章 一 1）",
        "未按规定着装 2 人，扣 0.2 分（¥200.00）（附件二 第四章 二 3）",
    ]
    assert doc["attention"] == "green"  # booked money alone is not a problem
    dispatch = next(v for v in doc["targets"] if v["key"] == "dispatch_10min")
    assert (dispatch["met"], dispatch["missed"], dispatch["counted"]) == (False, 1, 2)


def test_000_a_score_near_the_termination_line_and_one_below_it(contracts):
    # 六 6: 连续两个月绩效考评低于80分. 17 absences × 1 + 1 late over an hour × 0.5 (附件二 第四章
    # 三 1) = 17.5 points lost → 82.5, 2.5 above the line.
    c = contracts[D000]
    near = statement(
        c,
        "2026-07",
        deductions=[
            deduction(D000, "2026-07-03", "absence", 17),
            deduction(D000, "2026-07-04", "late_over_1h", 1),
        ],
    )
    assert (
        texts(near)[0] == "得分 82.5，距终止线 80 分仅 2.5 分（连续两个月绩效考评低于80分，六 6）"
    )
    assert near["findings"][0]["level"] == "amber"
    # 21 points lost → 79: one month below 80; the next month below fires the trigger.
    below = statement(c, "2026-07", deductions=[deduction(D000, "2026-07-03", "absence", 21)])
    first = below["findings"][0]
    assert first["level"] == "red" and below["attention"] == "red"
    assert first["text_zh"] == (
        "终止预警：得分 79.0，再有一个月低于 80 分即触发“连续两个月绩效考评低于80分”（六 6）"
    )


def test_001_vendor_reported_rates_above_the_tickets_own(contracts):
    # 001 一 1 (6): the vendor reports 响应率; 4 of 5 tickets replied = 80.00 %, reported 81.6 %.
    c = contracts[D001]
    tickets = [
        ticket(D001, f"R{i}", "2024-03-04 10:00", replied_at="2024-03-04 11:00") for i in range(4)
    ] + [ticket(D001, "R9", "2024-03-04 10:00")]
    kpis = [
        {"contract_id": D001, "month": "2024-03", "metric": "response_rate", "value": 0.816},
        {"contract_id": D001, "month": "2024-03", "metric": "satisfaction_rate", "value": 0.99},
    ]
    doc = statement(c, "2024-03", tickets=tickets, kpis=kpis)
    assert "乙方自报响应率 81.60%，比工单计算值（80.00%）高 1.6 个百分点" in texts(doc)
    # No ticket carries a satisfaction verdict: the tickets' rate is undefined, nothing to compare.
    assert not any("满意率" in t for t in texts(doc))


def test_001_urgent_dispatch_past_ten_minutes_with_no_points_attached(contracts):
    # 001 一 3 (4): 紧急、不稳定案件10分钟内派发 (inclusive); the contract has no points sheet.
    c = contracts[D001]
    tickets = [
        ticket(D001, "U1", "2024-03-04 10:00", priority="urgent", dispatched_at="2024-03-04 10:10"),
        ticket(D001, "U2", "2024-03-04 11:00", priority="urgent", dispatched_at="2024-03-04 11:11"),
    ]
    doc = statement(c, "2024-03", tickets=tickets)
    assert (
        "紧急、不稳定案件10分钟内派发：1 件超过时限（共 2 件）（一 3 (4)）；合同未规定对应扣分"
        in (texts(doc))
    )


def test_002_attendance_gap_with_an_unstated_rate(contracts):
    # 002 四 3: absences are deducted, at a rate the contract does not state.
    c = contracts[D002]
    post = c.posts[0].post_id
    rows = staffing_days(D002, post, dt.date(2025, 9, 1), 3, required=10, present=9)
    doc = statement(c, "2025-09", staffing=rows)
    assert "出勤缺口 3 人·天：缺勤扣除的金额合同未规定，无法计算（四 3）" in texts(doc)


def test_003_share_target_met_at_exactly_its_value(contracts):
    # 003 附件2 二 (三) 1 (2): 派单准确率不低于98% — 49 of 50 correct is exactly 98 %: met.
    c = contracts[D003]
    tickets = [
        ticket(D003, f"A{i}", "2025-03-04 10:00", dispatch_correct=i != 0) for i in range(50)
    ]
    doc = statement(c, "2025-03", tickets=tickets)
    accuracy = next(v for v in doc["targets"] if v["key"] == "dispatch_accuracy")
    assert (accuracy["met"], accuracy["missed"], accuracy["limit_zh"]) == (True, 1, "不低于 98%")
    assert not any("派单准确率" in t for t in texts(doc))


def test_000_payment_due_next_month_end_of_service_and_payment_at_risk(contracts):
    c = contracts[D000]
    # 四 3 中期款 (40 %, ¥747,760.00) settles through 2026-12 and falls due in 2027-01; it absorbs
    # the deductions of 2026-07 … 12: one absence, 1 point = ¥1,000.00 → ¥746,760.00.
    doc = statement(c, "2026-12", deductions=[deduction(D000, "2026-07-03", "absence", 1)])
    assert texts(doc)[0] == (
        "中期款 ¥747,760.00 下月到期，抵扣考核扣款 ¥1,000.00 后实付 ¥746,760.00（服务满七个月后，四 3）"
    )
    # Routine business, listed for the record: not a problem that turns the month amber.
    assert doc["findings"][0]["level"] == "info" and doc["attention"] == "green"
    # 七 1: the service period ends 2027-06-16, 47 days after 2027-04-30.
    april = statement(c, "2027-04")
    assert "服务期于 2027-06-16 届满，还有 47 天（七 1）" in texts(april)
    # 四 3 尾款 is paid "如无违约事项": a penalty on record puts it at risk (red, first).
    penalty = {
        "contract_id": D000,
        "event_date": dt.date(2027, 4, 2),
        "penalty_id": "no_labour_relation",
        "occurrences": 1,
    }
    risk = statement(c, "2027-04", penalties=[penalty])
    assert risk["attention"] == "red"
    assert risk["findings"][0]["level"] == "red"
    assert risk["findings"][0]["text_zh"].startswith("尾款 ¥373,880.00 有风险：")


def test_a_term_the_contract_leaves_unstated_is_not_a_finding(contracts):
    # 000 附件二 第四章 一 2: the repeat-report window is unstated (the same every month).
    c = contracts[D000]
    doc = statement(c, "2026-07")
    assert doc["findings"] == [] and doc["attention"] == "green"


@pytest.mark.parametrize("cid", [D000, D001, D002, D003])
def test_no_internal_id_in_any_finding(contracts, cid):
    c = contracts[cid]
    ids = {i.item_id for i in (c.assessment.value.items if c.assessment.value else [])}
    ids |= {t.target_id for t in c.service_level_targets} | {p.penalty_id for p in c.penalties}
    month = c.service_period.start.strftime("%Y-%m")
    rows = [
        ticket(cid, "X1", f"{month}-20 10:00", priority="urgent", dispatched_at=f"{month}-20 11:00")
    ]
    doc = statement(c, month, tickets=rows)
    for text in texts(doc):
        assert not re.search(r"[a-z]+_[a-z_]+", text), text
        assert not any(i in text for i in ids)


def test_quantity_and_line_money():
    assert findings.quantity_zh(8, "每件") == "8 件"
    assert findings.quantity_zh(3, "每人每次") == "3 人次"
    assert findings.quantity_zh(1, "每单据") == "1 张单据"
    assert findings.quantity_zh(1_200, "人·天") == "1,200 人·天"


def test_003_lines_share_the_fee_deduction_to_the_fen(contracts):
    # 003 一 (四): the fee deduction is the month's fee × points / 100, rounded once; March 2025
    # fee ¥168,333.34 (the report's 名义月费), 5 wrong reports × 0.5 + 2 late coordinations × 0.5
    # = 3.5 points → ¥5,891.67. Split by points: 2.5/3.5 × 5,891.67 = 4,208.3357 → ¥4,208.34, and
    # the last line takes the balance, ¥1,683.33; they add up to the booked ¥5,891.67 (each line
    # rounded on its own would give 4,208.33 + 1,683.33 = 5,891.66, a fen short).
    from tests.helpers import run

    c = contracts[D003]
    metrics = run(
        c,
        deductions=ledger(
            "deductions",
            [
                deduction(D003, "2025-03-03", "wrong_report", 5),
                deduction(D003, "2025-03-04", "late_coordination", 2),
            ],
        ),
    )
    row = metrics.months.filter(pl.col("month") == "2025-03").row(0, named=True)
    assert str(row["nominal_fee_cny"]) == "168333.34"
    assert str(row["fee_deduction_cny"]) == "5891.67"
    lines = findings.month_lines(metrics, "2025-03")
    assert [str(v) for v in lines["cny"]] == ["4208.34", "1683.33"]


def test_000_unbooked_misses_that_would_cross_the_termination_line_are_red(contracts):
    # 45 city cases replied the next day, none booked. 附件二 第四章 一 1: 0.5 points each if
    # no effective measures were taken; 六 6: two months below 80 end the contract. 100 − 0.5k
    # < 80 from k = 41 on; all 45 would leave 100 − 22.5 = 77.5.
    c = contracts[D000]
    tickets = [
        ticket(D000, f"C{i}", "2026-07-06 09:00", case_class="city", replied_at="2026-07-07 09:00")
        for i in range(45)
    ]
    doc = statement(c, "2026-07", tickets=tickets)
    first = doc["findings"][0]
    assert first["level"] == "red" and doc["attention"] == "red"
    assert first["text_zh"].endswith(
        "；若全部计扣，本月得分将由 100.0 降至 77.5，低于终止线 80 分（计扣 41 件即越线；"
        "连续两个月绩效考评低于80分，六 6），请核实乙方是否采取了有效措施"
    )


def test_000_lines_beyond_the_three_largest_are_summed_in_one_line(contracts):
    c = contracts[D000]
    doc = statement(
        c,
        "2026-07",
        deductions=[
            deduction(D000, "2026-07-03", "wrong_dispatch", 8),  # 4.0 points, ¥4,000
            deduction(D000, "2026-07-04", "absence", 2),  # 2.0, ¥2,000
            deduction(D000, "2026-07-05", "dress_code", 3),  # 0.3, ¥300
            deduction(D000, "2026-07-06", "ledger_late", 1),  # 0.1, ¥100
            deduction(D000, "2026-07-07", "patrol_missed", 2),  # 0.2, ¥200
        ],
    )
    # The three largest, then the other two: 0.1 + 0.2 = 0.3 points, ¥300.00; together they
    # make the month's 6.6 points and ¥6,600.00.
    assert texts(doc)[-1] == "其余 2 项扣分扣款共扣 0.3 分（¥300.00），见扣分与扣款明细"
    assert [f["level"] for f in doc["findings"]] == ["info"] * 4
