"""Service levels from tickets, checked against hand counts on small ticket sets.

Every expected figure is counted by hand from the tickets written out in the test and the clause
that sets the limit; times are Beijing wall-clock time (Asia/Shanghai).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from seatscore.cli import main
from seatscore.compute import erlang, workload
from seatscore.compute import service_levels as sl
from seatscore.core.errors import LedgerError
from seatscore.ledgers.kinds import KPIS, check_references, read_ledger
from seatscore.terms.contracts import Contract

from helpers import at, figure, ledger, published_erlang_settings, run, ticket

D000, D001, D002, D003 = (
    "haidian-dispatch-2026",
    "shijingshan-hotline-2024",
    "beijing-enforcement-2025",
    "karamay-grid-2024",
)


# ---------------------------------------------------------------- 000: reply limits by case class


@pytest.fixture(scope="module")
def kpis_000(contracts):
    # 000 附件二 第四章 一 1: 市局案件当日24时前回复；区局案件不超过24小时；特殊案件7日内回复第一阶段;
    # 10 分钟内接收派发.
    tickets = ledger(
        "tickets",
        [
            # June 30 23:55, city, replied after midnight: June, same-day reply missed.
            ticket(
                D000, "T0", "2026-06-30 23:55", case_class="city", replied_at="2026-07-01 00:05"
            ),
            # July 1 23:55, city, replied 00:10 next day: missed (after 24:00); dispatched in 4 min.
            ticket(
                D000,
                "T1",
                "2026-07-01 23:55",
                case_class="city",
                dispatched_at="2026-07-01 23:59",
                replied_at="2026-07-02 00:10",
            ),
            # Same times, district: within 24 hours, met; dispatched after 11 minutes: late.
            ticket(
                D000,
                "T2",
                "2026-07-01 23:55",
                case_class="district",
                dispatched_at="2026-07-02 00:06",
                replied_at="2026-07-02 00:10",
            ),
            # City, replied 23:59 the same day: met. No dispatch time: not counted for dispatch.
            ticket(
                D000, "T3", "2026-07-01 09:00", case_class="city", replied_at="2026-07-01 23:59"
            ),
            # District, replied 24 h 1 min later: missed; dispatched at exactly 10 minutes: met.
            ticket(
                D000,
                "T4",
                "2026-07-02 10:00",
                case_class="district",
                dispatched_at="2026-07-02 10:10",
                replied_at="2026-07-03 10:01",
            ),
            # District, never replied, deadline long past by the data's last time: missed.
            ticket(D000, "T5", "2026-07-03 08:00", case_class="district"),
            # Special, replied after 6 days: met.
            ticket(
                D000, "T6", "2026-07-03 09:00", case_class="special", replied_at="2026-07-09 09:00"
            ),
            # District, received an hour before the data's last time, not replied: pending.
            ticket(D000, "T7", "2026-07-09 08:00", case_class="district"),
            # 07:30 Beijing is 23:30 UTC the day before: still July.
            ticket(D000, "T8", "2026-07-01 07:30"),
        ],
    )
    return sl.ticket_kpis(contracts[D000], tickets)


def test_000_city_cases_replied_after_midnight_miss_the_same_day_limit(kpis_000):
    july = figure(kpis_000, "2026-07", "reply_city_same_day")
    assert (july["numerator"], july["denominator"]) == (1, 2)  # T3 met, T1 missed
    assert july["value"] == 0.5
    june = figure(kpis_000, "2026-06", "reply_city_same_day")
    assert (june["numerator"], june["denominator"], june["value"]) == (0, 1, 0.0)  # T0


def test_000_district_cases_within_24_hours_with_overdue_and_pending(kpis_000):
    f = figure(kpis_000, "2026-07", "reply_district_24h")
    # T2 met; T4 (24 h 1 min) and T5 (never, overdue) missed; T7 not yet due.
    assert (f["numerator"], f["denominator"], f["pending"]) == (1, 3, 1)
    assert f["value"] == pytest.approx(1 / 3)
    assert f["limit_minutes"] == 1440.0 and f["clause"] == "附件二 第四章 一 1"
    special = figure(kpis_000, "2026-07", "reply_special_first_stage_7d")
    assert (special["numerator"], special["denominator"]) == (1, 1)


def test_000_dispatch_within_10_minutes_inclusive_and_missing_times_left_out(kpis_000):
    f = figure(kpis_000, "2026-07", "dispatch_10min")
    # T1 (4 min) and T4 (exactly 10) met, T2 (11 min) missed; 5 July tickets have no dispatch time.
    assert (f["numerator"], f["denominator"], f["unmeasured"]) == (2, 3, 5)
    # The contract states no share to reach (每超时一单扣0.5分), so no verdict.
    assert f["target_share"] is None and f["met_target"] is None


def test_a_month_with_no_tickets_has_undefined_rates_not_zero(kpis_000):
    count = figure(kpis_000, "2026-08", "tickets")
    assert count["value"] == 0
    for key in ("reply_district_24h", "dispatch_10min", "response_rate"):
        f = figure(kpis_000, "2026-08", key)
        assert f["value"] is None and f["denominator"] == 0
        assert f["note"] == "本期无适用工单，比率无定义"


def test_months_follow_beijing_wall_clock_time(kpis_000):
    # T0 (June 30 23:55) is June; T1–T8 (July 1 07:30 … July 9) are July.
    assert figure(kpis_000, "2026-06", "tickets")["value"] == 1
    assert figure(kpis_000, "2026-07", "tickets")["value"] == 8


# ---------------------------------------------------------------- 001: limits by priority


def test_001_close_and_dispatch_limits_by_priority(contracts):
    # 001 一 3 (4): 一般案件30分钟内派发, 紧急10分钟内; 紧急情况1.5小时办结, 一般案件7天（自然日）办结.
    tickets = ledger(
        "tickets",
        [
            ticket(
                D001,
                "U1",
                "2024-03-04 10:00",
                priority="urgent",
                dispatched_at="2024-03-04 10:10",
                closed_at="2024-03-04 11:30",
            ),
            ticket(
                D001,
                "U2",
                "2024-03-04 12:00",
                priority="urgent",
                dispatched_at="2024-03-04 12:11",
                closed_at="2024-03-04 13:31",
            ),
            ticket(
                D001,
                "O1",
                "2024-03-05 09:00",
                dispatched_at="2024-03-05 09:30",
                closed_at="2024-03-12 09:01",
            ),
            ticket(
                D001,
                "O2",
                "2024-03-05 10:00",
                dispatched_at="2024-03-05 10:31",
                closed_at="2024-03-11 10:00",
            ),
        ],
    )
    kpis = sl.ticket_kpis(contracts[D001], tickets)

    def counts(key):
        f = figure(kpis, "2024-03", key)
        return f["numerator"], f["denominator"]

    assert counts("close_urgent_90min") == (1, 2)  # U1 at 90 min met, U2 at 91 missed
    assert counts("close_ordinary_7d") == (1, 2)  # O1 at 7 days 1 minute missed, O2 6 days met
    assert counts("dispatch_urgent_10min") == (1, 2)  # U1 10 min, U2 11 min
    assert counts("dispatch_ordinary_30min") == (1, 2)  # O1 30 min, O2 31 min
    # The three 12345 rates the contract asks to report (一 1 (6)), here with no callbacks yet.
    # No ticket carries a reply time: the response rate is undefined, not 0 % (the ledger does
    # not record replies), and all 4 tickets are counted as unmeasured.
    response = figure(kpis, "2024-03", "response_rate")
    assert response["value"] is None and response["unmeasured"] == 4
    assert figure(kpis, "2024-03", "satisfaction_rate")["value"] is None


def test_ticket_closed_before_dispatch_is_rejected_at_ingest_so_never_counted(tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_text(
        "contract_id,ticket_id,received_at,dispatched_at,closed_at,priority,category\n"
        f"{D001},A1,2024-03-04 10:00,2024-03-04 10:20,2024-03-04 10:10,ordinary,供热\n",
        encoding="utf-8",
    )
    with pytest.raises(LedgerError, match="row 2, column closed_at: is before dispatched_at"):
        read_ledger(path, "tickets")


# ---------------------------------------------------------------- 002 and 003: scopes


def test_002_callback_rate_counts_only_directly_dispatched_6n_tickets(contracts):
    # 002 四 22 (3): 直派街道（乡镇）6+N类诉求电话回访比例≥20%.
    def closed(tid, **kw):
        return ticket(D002, tid, "2025-04-01 09:00", closed_at="2025-04-02 09:00", **kw)

    in_scope = {"category_group": "6+N", "direct_dispatch": True}
    tickets = ledger(
        "tickets",
        [
            closed("A", callback_done=True, **in_scope),
            *(closed(f"B{i}", callback_done=False, **in_scope) for i in range(4)),
            ticket(D002, "C", "2025-04-01 09:00", **in_scope),  # open: not yet due a callback
            closed("D", callback_done=True, category_group="6+N", direct_dispatch=False),
            closed("E", callback_done=True, direct_dispatch=True),
        ],
    )
    f = figure(sl.ticket_kpis(contracts[D002], tickets), "2025-04", "callback_rate_6n")
    assert (f["numerator"], f["denominator"], f["value"]) == (1, 5, 0.2)
    assert f["target_share"] == 0.2 and f["met_target"] is True  # "≥20%": 20 % meets it


def test_003_emergency_arrival_by_distance_band(contracts):
    # 003 附件1 二 (二) 2: 城区5公里之内15分钟、6至10公里20分钟、10公里以上30分钟应到达现场.
    def urgent(tid, km, minutes):
        received = at("2024-10-08 09:00")
        return {
            **ticket(D003, tid, "2024-10-08 09:00", priority="urgent"),
            "distance_km": km,
            "arrived_at": received + dt.timedelta(minutes=minutes) if minutes is not None else None,
        }

    tickets = ledger(
        "tickets",
        [
            urgent("A", 5.0, 15),  # ≤ 5 km in 15 min: met
            urgent("B", 4.2, 16),  # ≤ 5 km in 16 min: missed
            urgent("C", 5.1, 21),  # 5–10 km in 21 min: missed
            urgent("D", 12.0, 30),  # over 10 km in 30 min: met
            urgent("E", 8.0, None),  # no arrival recorded: unmeasured
            {**ticket(D003, "F", "2024-10-08 09:00"), "distance_km": 3.0},  # not urgent: out
        ],
    )
    kpis = sl.ticket_kpis(contracts[D003], tickets)
    within = figure(kpis, "2024-10", "emergency_arrival_5km")
    middle = figure(kpis, "2024-10", "emergency_arrival_6_10km")
    far = figure(kpis, "2024-10", "emergency_arrival_over_10km")
    assert (within["numerator"], within["denominator"]) == (1, 2)
    assert (middle["numerator"], middle["denominator"], middle["unmeasured"]) == (0, 1, 1)
    assert (far["numerator"], far["denominator"]) == (1, 1)


def test_003_dispatch_accuracy_rule_takes_its_rate_and_evidence_from_the_tickets(contracts):
    # 003 附件2 二 (三) 1 (2): 派单准确率98%，低于指标值一个百分点扣0.5分; category capped at 15.
    # 3 judged, 1 wrong: 66.67 %, 31.33 points short → ⌊31.33⌋ × 0.5 = 15.5 → capped at 15.
    rows = [
        ticket(D003, f"K{i}", "2024-10-08 09:00", dispatch_correct=ok)
        for i, ok in enumerate([True, False, True])
    ]
    tickets = ledger("tickets", rows).with_columns(
        pl.lit("tickets.csv").alias("source_file"),
        pl.Series("source_row", [2, 3, 4], dtype=pl.Int32),
    )
    metrics = run(contracts[D003], tickets=tickets)
    item = metrics.items.filter(
        pl.col("month") == "2024-10", pl.col("item_id") == "dispatch_accuracy_below_target"
    ).row(0, named=True)
    assert item["points"] == Decimal("15.50")
    assert item["rows"] == [{"file": "tickets.csv", "row": 3}]  # the wrong ticket, K1
    category = metrics.categories.filter(
        pl.col("month") == "2024-10", pl.col("category_id") == "dispatch_accuracy"
    ).row(0, named=True)
    assert category["points"] == Decimal("15.00")


# ---------------------------------------------------------------- repeated reports (000)


def repeat_tickets() -> pl.DataFrame:
    base = at("2026-07-01 08:00")

    def t(tid, location, hours, prompted=None):
        return {
            **ticket(D000, tid, "2026-07-01 08:00", location=location, repeat_prompted=prompted),
            "received_at": base + dt.timedelta(hours=hours),
        }

    return ledger(
        "tickets",
        [
            # A: 0 h, 23 h, 25 h, 26 h — the last three fall within one 24-hour window.
            t("A1", "甲路口", 0),
            t("A2", "甲路口", 23),
            t("A3", "甲路口", 25),
            t("A4", "甲路口", 26),
            # B: three within two hours, the third prompted to the team on the ground.
            t("B1", "乙小区", 1),
            t("B2", "乙小区", 2),
            t("B3", "乙小区", 3, True),
            # C: twice only.
            t("C1", "丙公园", 1),
            t("C2", "丙公园", 2),
            # D: three within an hour, recorded as not prompted.
            t("D1", "丁市场", 5, False),
            t("D2", "丁市场", 5.5, False),
            t("D3", "丁市场", 6, False),
        ],
    )


def test_repeated_reports_three_within_the_window():
    # 000 附件二 第四章 一 2: 短时间内重复举报（3 次及以上）.
    found = sl.repeated_reports(repeat_tickets(), min_reports=3, window_hours=24)
    by_location = {r["location"]: r for r in found.iter_rows(named=True)}
    assert sorted(by_location) == ["丁市场", "乙小区", "甲路口"]
    assert by_location["甲路口"]["ticket_ids"] == ["A2", "A3", "A4"]
    assert by_location["乙小区"]["prompted"] is True
    assert by_location["丁市场"]["prompted"] is False
    assert by_location["甲路口"]["prompted"] is None


def with_repeat_window(contract: Contract, hours: str | None) -> Contract:
    data = contract.model_dump(mode="json")
    for item in data["assessment"]["value"]["items"]:
        if item["kind"] == "repeat_reports":
            item["window_hours"] = (
                {"value": hours, "clause": "测试：假定甲方规定"}
                if hours
                else {"value": None, "note": "当班期间"}
            )
    return Contract.model_validate(data)


def test_000_repeat_rule_is_not_assessable_while_its_window_is_unstated(contracts):
    metrics = run(contracts[D000], tickets=repeat_tickets())
    reasons = metrics.not_assessable.filter(
        pl.col("month") == "2026-07", pl.col("rule") == "repeat_location_not_flagged"
    )
    assert reasons["reason"].to_list() == [
        "时间窗口未规定：条款为“当班期间”出现重复举报；合同未写明班次起止时间，无法确定窗口"
    ]
    assert metrics.items.filter(pl.col("item_id") == "repeat_location_not_flagged").is_empty()


def test_000_repeat_rule_with_a_stated_window_deducts_per_unprompted_location(contracts):
    # With a 24-hour window: 丁市场 not prompted → 0.1 point (每处点位扣0.1分); 乙小区 prompted →
    # none; 甲路口 records nothing → not assessable for that location.
    metrics = run(with_repeat_window(contracts[D000], "24"), tickets=repeat_tickets())
    item = metrics.items.filter(
        pl.col("month") == "2026-07", pl.col("item_id") == "repeat_location_not_flagged"
    ).row(0, named=True)
    assert (item["occurrences"], item["points"]) == (1, Decimal("0.10"))
    assert item["detail_zh"].startswith("丁市场")
    reasons = metrics.not_assessable.filter(pl.col("rule") == "repeat_location_not_flagged")
    assert reasons["reason"].to_list() == ["1 处重复举报点位的工单未记录是否即时提示"]


# ---------------------------------------------------------------- Erlang C against published tables


def test_erlang_c_two_servers_worked_by_hand():
    # A = 2 Erlangs, n = 3: B = (8/6) / (1 + 2 + 2 + 8/6) = 4/19; C = 3B / (3 − 2(1 − B)) = 4/9.
    assert erlang.erlang_b(3, 2) == pytest.approx(4 / 19)
    assert erlang.erlang_c(3, 2) == pytest.approx(4 / 9)


def test_erlang_c_textbook_ten_servers():
    # M/M/10 with 120 arrivals an hour and 3-minute service (a = 6 Erlangs): "from the Erlang C
    # curve, the probability of waiting is about 0.10" (queueing-theory exercise, Erlang C curve).
    traffic = erlang.traffic_erlangs(120, 180)
    assert traffic == 6
    assert round(erlang.erlang_c(10, traffic), 2) == 0.10


def test_erlang_c_call_centre_staffing_example():
    # jonesthenet.com "Erlang uplift": 250 calls in the average hour, AHT 330 s, 80 % answered in
    # 30 s → "Erlang … thinks we need 28 advisors" (the accountant's 22.9 is the raw traffic).
    assert erlang.traffic_erlangs(250, 330) == pytest.approx(22.9, abs=0.05)
    assert erlang.seats_needed(250, 330, 0.8, 30) == 28
    assert erlang.service_level(27, erlang.traffic_erlangs(250, 330), 330, 30) < 0.8


def test_erlang_edges():
    assert erlang.seats_needed(0, 150) == 0
    assert erlang.erlang_c(5, 5) == 1.0 and erlang.service_level(5, 5, 150, 20) == 0.0
    assert math.isinf(erlang.average_speed_of_answer(4, 5, 150))
    with pytest.raises(ValueError, match="not a percent"):
        erlang.seats_needed(10, 150, 80)


def test_staffing_adequacy_counts_arrivals_per_weekday_hour(contracts):
    # 000 has 16 persons: 16 × 40 h ÷ 168 h = 3.81 seats on duty on average. July 2026 has five
    # Wednesdays (1, 8, 15, 22, 29); 50 tickets on Wednesdays 10:00–10:59 → 10 an hour; at 150 s
    # that is 0.417 Erlangs. One seat: C = A = 0.417, SL = 1 − 0.417·e^(−0.583·20/150) = 61.4 % <
    # 80 %; two seats: B = 0.0577, C = 0.0718, SL = 1 − 0.0718·e^(−1.583·20/150) = 94.2 % → 2.
    wednesdays = [dt.date(2026, 7, d) for d in (1, 8, 15, 22, 29)]
    rows = [ticket(D000, f"W{d.day}-{i}", f"{d} 10:{i:02d}") for d in wednesdays for i in range(10)]
    settings = sl.AdequacySettings(
        handle_seconds=150, target_share=0.8, answer_within_seconds=20, hours_per_person_week=40
    )
    result = workload.staffing_adequacy(
        contracts[D000], ledger("tickets", rows), "2026-07", settings
    )
    cell = result.intervals.filter(pl.col("weekday") == 3, pl.col("hour") == 10).row(0, named=True)
    assert cell["calls_per_hour"] == 10 and cell["seats_needed"] == 2
    assert result.needed_seat_hours_week == 2 and result.peak_seats_needed == 2
    assert result.seats_on_duty == pytest.approx(16 * 40 / 168)
    assert result.hours_short == 0


def test_workload_matches_a_published_staffing_example_half_hour_by_half_hour(contracts):
    # The example the call-center-tools package publishes (pypi.org/project/call-center-tools):
    # 1,000 calls an hour, 120 s each, 80 % answered within 20 s, occupancy at most 85 %,
    # shrinkage 30 % → traffic 33.333 Erlangs, 40 agents (service level 93.72 %, ASA 3.43 s),
    # 58 with shrinkage. Here: 500 calls in Wednesday 10:00–10:29 on each of July 2026's five
    # Wednesdays = 1,000 an hour in that half-hour.
    assert erlang.service_level(40, 1000 * 120 / 3600, 120, 20) == pytest.approx(0.9372, abs=5e-5)
    assert erlang.average_speed_of_answer(40, 1000 * 120 / 3600, 120) == pytest.approx(
        3.43, abs=5e-3
    )
    wednesdays = [dt.date(2026, 7, d) for d in (1, 8, 15, 22, 29)]
    rows = [
        ticket(D000, f"W{d.day}-{i}", f"{d} 10:{i % 30:02d}", channel="举报电话")
        for d in wednesdays
        for i in range(500)
    ]
    rows += [ticket(D000, "V1", "2026-07-01 10:05", channel="视频巡查")]  # not a call
    settings = published_erlang_settings(call_channels=["举报电话"])
    result = workload.staffing_adequacy(
        contracts[D000], ledger("tickets", rows), "2026-07", settings
    )
    cell = result.intervals.filter(
        pl.col("weekday") == 3, pl.col("hour") == 10, pl.col("minute") == 0
    ).row(0, named=True)
    assert cell["calls_per_hour"] == 1000 and cell["traffic_erlangs"] == pytest.approx(33.333, 1e-4)
    assert (cell["seats_needed"], cell["seats_scheduled"]) == (40, 58)  # 40 ÷ 0.7 = 57.1 → 58
    # One busy half-hour a week: 40 agents × 0.5 h = 20 seat-hours. Handle time −20 % (96 s):
    # 26.67 Erlangs, the 85 % cap wants 26.67 ÷ 0.85 = 31.4 → 32 seats (16 seat-hours); +20 %
    # (144 s): 40 Erlangs, 40 ÷ 0.85 = 47.1 → 48 (24 seat-hours).
    assert result.needed_seat_hours_week == 20
    assert result.sensitivity == {0.8: 16, 1.2: 24}
    assert (result.calls, result.tickets_left_out) == (2500, 1)
    assert "只计来电渠道（举报电话）的工单" in result.basis_zh and "下限" in result.basis_zh


def test_workload_from_a_calls_ledger_is_the_offered_calls_not_a_lower_bound(contracts, tmp_path):
    # A switch export (话务量): 500 calls offered in Wednesday 10:00–10:29 on
    # each of July 2026's five Wednesdays, handled in 120 s (talk and after-call work). As in
    # the published example above: 1,000 calls an hour → 40 agents, 58 seats scheduled.
    path = tmp_path / "calls.csv"
    lines = ["contract_id,interval_start,interval_minutes,offered,answered,handle_seconds"]
    lines += [f"{D000},2026-07-{d:02d} 10:00,30,500,480,120" for d in (1, 8, 15, 22, 29)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    calls = read_ledger(path, "calls")
    assert calls["offered"].sum() == 2500 and calls["interval_minutes"].to_list() == [30] * 5
    settings = published_erlang_settings(
        handle_seconds=150,  # the tickets' assumption: the ledger's own 120 s replaces it
        interval_minutes=60,
        call_channels=["举报电话"],
    )
    result = workload.staffing_adequacy(
        contracts[D000], ledger("tickets"), "2026-07", settings, calls
    )
    cell = result.intervals.filter(
        pl.col("weekday") == 3, pl.col("hour") == 10, pl.col("minute") == 0
    ).row(0, named=True)
    assert (cell["calls_per_hour"], cell["seats_needed"], cell["seats_scheduled"]) == (1000, 40, 58)
    assert result.lower_bound is False and result.calls == 2500
    assert "来电台账：本月呼入 2,500 个" in result.basis_zh and "下限" not in result.basis_zh
    assert "通话 120 秒（来电台账，含话后处理）" in result.basis_zh


def test_a_calls_ledger_refuses_more_answered_than_offered(tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text(
        "contract_id,interval_start,interval_minutes,offered,answered\n"
        f"{D000},2026-07-01 10:00,30,10,12\n",
        encoding="utf-8",
    )
    with pytest.raises(LedgerError, match="row 2, column answered: is more than offered"):
        read_ledger(path, "calls")


# ---------------------------------------------------------------- the KPI ledger beside


def test_kpi_ledger_figures_sit_beside_the_ticket_figures(contracts):
    tickets = ledger(
        "tickets",
        [
            ticket(D001, "R1", "2024-03-04 10:00", replied_at="2024-03-04 11:00"),
            ticket(D001, "R2", "2024-03-04 10:00"),
        ],
    )
    reported = ledger(
        "kpis",
        [
            {"contract_id": D001, "month": "2024-03", "metric": "response_rate", "value": 0.9},
            {"contract_id": D001, "month": "2024-03", "metric": "calls_answered", "value": 1200.0},
        ],
    )
    table = sl.kpi_table(contracts[D001], tickets, reported)
    both = sl.compare_sources(table)
    row = both.filter(pl.col("key") == "response_rate").row(0, named=True)
    # Tickets: 1 of 2 replied = 0.5; the vendor reports 0.9: 0.4 higher.
    assert (row["tickets_value"], row["ledger_value"]) == (0.5, 0.9)
    assert row["difference"] == pytest.approx(0.4)
    calls = table.filter(pl.col("key") == "calls_answered").row(0, named=True)
    assert calls["source"] == "ledger" and calls["unit"] == "count"


def test_kpi_ledger_rejects_percent_values_unknown_metrics_and_repeats(tmp_path, contracts):
    path = tmp_path / "kpis_monthly.csv"
    path.write_text(
        "contract_id,month,metric,value\n"
        f"{D001},2024-03,response_rate,43.7\n"
        f"{D001},2024-13,satisfaction_rate,0.9\n"
        f"{D001},2024-04,satisfaction_rate,0.9\n"
        f"{D001},2024-04,satisfaction_rate,0.8\n",
        encoding="utf-8",
    )
    with pytest.raises(LedgerError) as err:
        read_ledger(path, "kpis")
    message = str(err.value)
    assert "row 2, column value: a share must be 0–1 (43.7% is 0.437)" in message
    assert "row 3, column month: must be YYYY-MM" in message
    assert "row 5, column metric: repeats another row for the same month" in message
    path.write_text(
        f"contract_id,month,metric,value\n{D001},2024-03,answer_speed,0.9\n", encoding="utf-8"
    )
    frame = read_ledger(path, "kpis")
    with pytest.raises(LedgerError, match="row 2, column metric: 'answer_speed' is neither"):
        check_references(path, KPIS, frame, contracts)


# ---------------------------------------------------------------- hotspots


def test_top_changes_against_the_month_before_and_a_year_earlier(contracts):
    rows = [ticket(D003, f"a{i}", "2024-10-08 09:00", district="胜利路街道") for i in range(3)]
    rows += [ticket(D003, f"b{i}", "2024-09-28 09:00", district="胜利路街道") for i in range(5)]
    rows += [ticket(D003, "c", "2024-10-09 09:00", district="小拐乡")]
    top = sl.top_changes(ledger("tickets", rows), "district", "2024-10")
    first = top.row(0, named=True)
    assert (first["district"], first["tickets"], first["previous_month"]) == ("胜利路街道", 3, 5)
    assert first["change_previous"] == -2
    assert first["year_before"] is None  # no tickets at all in 2023-10: unknown, not 0
    second = top.row(1, named=True)
    assert (second["district"], second["previous_month"], second["change_previous"]) == (
        "小拐乡",
        0,
        1,
    )


def test_heatmap_has_every_weekday_hour():
    rows = [ticket(D003, "x", "2024-10-08 09:15"), ticket(D003, "y", "2024-10-08 09:45")]
    grid = sl.heatmap(ledger("tickets", rows))
    assert grid.height == 7 * 24 and grid["tickets"].sum() == 2
    tuesday_nine = grid.filter(pl.col("weekday") == 2, pl.col("hour") == 9)  # 2024-10-08 a Tuesday
    assert tuesday_nine["tickets"].item() == 2 and tuesday_nine["weekday_zh"].item() == "周二"


# ---------------------------------------------------------------- seatscore kpis


def test_kpis_command_json(demo_db, capsys):
    assert main(["kpis", D001, "--month", "2024-05", "--db", str(demo_db), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["contract_id"] == D001 and doc["month"] == "2024-05"
    assert all(list(m) == list(sl.KPI_JSON_KEYS) for m in doc["metrics"])
    by_key = {(m["key"], m["source"]): m for m in doc["metrics"]}
    close = by_key[("close_ordinary_7d", "tickets")]
    assert 0 <= close["value"] <= 1 and close["value"] == close["numerator"] / close["tickets"]
    assert close["limit_minutes"] == 10080.0 and close["clause"] == "一 3 (4)"
    # The demo vendor reports the three rates monthly: both sources are there.
    assert ("satisfaction_rate", "ledger") in by_key and ("satisfaction_rate", "tickets") in by_key
    assert main(["kpis", D001, "--month", "2030-01", "--db", str(demo_db)]) == 2


# ---------------------------------------------------------------- the TipDM messages

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
needs_real = pytest.mark.skipif(
    not (REAL / "tipdm2020C_fujian4_messages_with_replies.xlsx").exists(),
    reason=f"real data not present at {REAL}",
)


@needs_real
def test_tipdm_messages_read_as_tickets():
    from seatscore.ledgers.sources import read_tipdm_messages

    tickets = read_tipdm_messages(REAL / "tipdm2020C_fujian4_messages_with_replies.xlsx")
    assert tickets.height == 2816 and tickets["ticket_id"].n_unique() == 2816
    assert tickets["received_at"].null_count() == 0 and tickets["replied_at"].null_count() == 0
    assert tickets["caller_phone"].null_count() == 2816  # no personal data is carried over
    # The dataset's README: "median reply after about 11 days".
    days = (tickets["replied_at"] - tickets["received_at"]).dt.total_seconds() / 86400
    assert 10 < days.median() < 12.5
    assert tickets["source_row"].min() == 2 and tickets["source_row"].max() == 2817


def test_one_filing_of_several_complaints_counts_once_for_repeated_reports():
    # NYC 311: 12 complaints filed in one second at one address are one filing, not a hotspot.
    # 000 附件二 第四章 一 2 counts 3 reports within the window: 12 + 1 later = 2 filings, none.
    at_once = [ticket("c", f"N{i}", "2024-04-16 03:03", location="133 AVENUE") for i in range(12)]
    later = [ticket("c", "L1", "2024-04-16 05:03", location="133 AVENUE")]
    assert sl.repeated_reports(ledger("tickets", at_once + later), 3, 24).is_empty()
    # A third filing within 24 hours makes an episode of 3 reports holding all 14 tickets.
    third = [ticket("c", "L2", "2024-04-16 07:03", location="133 AVENUE")]
    episodes = sl.repeated_reports(ledger("tickets", at_once + later + third), 3, 24)
    assert episodes["reports"].to_list() == [3]
    assert len(episodes["ticket_ids"][0]) == 14
