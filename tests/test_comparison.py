"""Vendor cost comparison, market benchmarks and the what-if, checked against hand arithmetic from
the contract clauses."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from seatscore import cli
from seatscore.batch import render
from seatscore.compute import comparison, scenarios
from seatscore.compute.comparison import ComparisonInputError
from seatscore.compute.service_levels import AdequacySettings
from seatscore.core import config

from helpers import ledger, run, staffing_days, ticket

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


@pytest.fixture(scope="module")
def table(demo_db) -> pl.DataFrame:
    return comparison.load_comparison(demo_db)


def row(frame: pl.DataFrame, cid: str) -> dict:
    return frame.filter(pl.col("contract_id") == cid).row(0, named=True)


@pytest.mark.parametrize(
    ("cid", "expected"),
    [
        # 004 九 6,695,568 CNY; 四 (二) 1 48 seats; 2022-04-01 – 2023-03-31 = 12 months.
        # 6,695,568 / 12 / 48 = 11,624.25 exactly.
        ("haidian-hotline-2022", "11624.25"),
        # 001 三 1 1,079,668 CNY; 一 2 (1) 6 + 2 + 1 + 1 + 1 + 1 = 12; 二 2024-02-01 – 12-31 = 11
        # months. 1,079,668 / 11 / 12 = 8,179.3030… → 8,179.30.
        ("shijingshan-hotline-2024", "8179.30"),
        # 003 一 (一) 2,020,000 CNY; 附件1 3 + 4 + 17 = 24; 2024-09-20 – 2025-09-19 = 11/30 + 11 +
        # 19/30 = 12 months. 2,020,000 / 12 / 24 = 7,013.888… → 7,013.89.
        ("karamay-grid-2024", "7013.89"),
        # 000 四 2 1,869,400 CNY; 一 (二) 16 persons; 2026-06-17 – 2027-06-16 = 14/30 + 11 + 16/30
        # = 12 months. 1,869,400 / 12 / 16 = 9,736.458… → 9,736.46.
        ("haidian-dispatch-2026", "9736.46"),
    ],
)
def test_cost_per_seat_month_of_each_contract(table, cid, expected):
    assert row(table, cid)["cost_per_seat_month_cny"] == Decimal(expected)


def test_002_seat_month_from_its_shifts_and_a_cost_per_covered_seat_hour(table):
    r = row(table, "beijing-enforcement-2025")
    # 002 states no headcount: its seats are its shifts as 40-hour seat-equivalents, as in every
    # report and the index (one source): 二 5×8 + 7×24 + 5×8 + 7×8 = 304 hours a week ÷ 40 = 7.6
    # seats; 2,031,500 / 12 months / 7.6 = 22,275.219… → 22,275.22.
    assert r["cost_per_seat_month_cny"] == Decimal("22275.22")
    assert "7.6 个座席当量" in r["seat_basis_zh"]
    # 二: hotline intake 5×8 and callbacks 5×8 on working days, order intake 7×24, screening 7×8,
    # one seat each. 2025-02-07 – 2026-02-06 is 365 days, 261 of them Monday to Friday; the State
    # Council's notices take off 4/4, 5/1, 5/2, 5/5, 6/2, 10/1–3, 10/6–8 (2025) and 1/1–2 (2026),
    # and add the make-up Saturdays/Sundays 2/8, 4/27, 9/28, 10/11 and 1/4: 261 − 13 + 5 = 253
    # working days. 2 × 8 × 253 + 24 × 365 + 8 × 365 = 4,048 + 8,760 + 2,920 = 15,728 seat-hours.
    assert r["covered_seat_hours"] == Decimal("15728")
    assert r["cover_complete"] is True
    # 2,031,500 / 15,728 = 129.1645… → 129.16 CNY per covered seat-hour.
    assert r["cost_per_covered_seat_hour_cny"] == Decimal("129.16")
    assert "253 个工作日" in r["cover_basis_zh"]


def test_004_cover_counts_the_stated_seats_and_names_the_night_duty_neither_reading_counts(table):
    r = row(table, "haidian-hotline-2022")
    # 四 (二) 2: 48 seats × 8 h on each government working day. 2022-04-01 – 2023-03-31: 261
    # weekdays, less 18 holiday weekdays (4/4–5, 5/2–4, 6/3, 9/12, 10/3–7, 2023-01-02, 1/23–27),
    # plus 7 make-up days (4/2, 4/24, 5/7, 10/8, 10/9, 2023-01-28, 1/29) = 250.
    # 48 × 8 × 250 = 96,000; 6,695,568 / 96,000 = 69.7455 → 69.75 on both readings; the night
    # duty (18:00–9:00) states neither persons nor shifts, so no reading can count it, and the
    # figure is not given as if it were whole.
    assert (r["covered_seat_hours_low"], r["covered_seat_hours_high"]) == (96000, 96000)
    assert r["covered_seat_hours"] is None and r["cost_per_covered_seat_hour_cny"] is None
    assert r["cost_per_covered_seat_hour_low_cny"] == Decimal("69.75")
    assert r["cost_per_covered_seat_hour_high_cny"] == Decimal("69.75")
    assert r["cover_complete"] is False
    assert "两种读法都未计：夜班值班（18:00—次日9:00）（人数与班次均未规定）" in r["cover_basis_zh"]
    assert comparison.seat_hour_cost_zh(r) == "¥69.75（两种读法相同，部分岗位未计）"


@pytest.mark.parametrize(
    ("cid", "low", "high", "cost_low", "cost_high"),
    [
        # 002 二: every post states its cover (see above): 15,728 on both readings.
        ("beijing-enforcement-2025", "15728", "15728", "129.16", "129.16"),
        # 000 一 (二) 2: emergency duty 2 seats (班长 + 值守) × 24 h × 365 days = 17,520. 一 (二) 1:
        # the dispatch and analysis post works 5×8 on working days with no seats stated; its
        # persons are the 16 of 一 (二) less emergency duty's 8 = 8. 2026-06-17 – 2027-06-16 has
        # 256 working days (2027 Monday to Friday until its notice). Narrow: 1 seat × 8 × 256 =
        # 2,048 → 19,568; broad: 8 persons × 40 ÷ 40 = 8 seats × 8 × 256 = 16,384 → 33,904.
        # 1,869,400 / 33,904 = 55.138… → 55.14; / 19,568 = 95.533… → 95.53.
        ("haidian-dispatch-2026", "19568", "33904", "55.14", "95.53"),
        # 004: 96,000 on both readings (the night duty counts on neither).
        ("haidian-hotline-2022", "96000", "96000", "69.75", "69.75"),
        # 003 附件1: emergency 1 seat × 24 × 365 = 8,760. The seat post (17 persons, 7×24, seats
        # unstated): narrow 1 seat × 24 × 365 = 8,760; broad 17 × 40 ÷ 168 = 4.0476 seats × 24 ×
        # 365 = 35,457.14. The assessor post (3 persons, no shift stated): narrow 0; broad 3 × 40 ×
        # 365/7 = 6,257.14. Narrow 17,520, broad 50,474.29. 2,020,000 / 50,474.29 = 40.020… →
        # 40.02; / 17,520 = 115.296… → 115.30.
        ("karamay-grid-2024", "17520", "50474.29", "40.02", "115.30"),
        # 001 一 2: the special team 1 seat × 24 × 335 days (2024-02-01 – 12-31) = 8,040; the five
        # line posts (2 + 1 + 1 + 1 + 1 = 6 persons) state no shift: narrow 0, broad 6 × 40 ×
        # 335/7 = 11,485.71. 1,079,668 / 19,525.71 = 55.294… → 55.29; / 8,040 = 134.287… → 134.29.
        ("shijingshan-hotline-2024", "8040", "19525.71", "55.29", "134.29"),
    ],
)
def test_covered_seat_hours_of_every_contract_on_both_readings(
    contracts, cid, low, high, cost_low, cost_high
):
    cover = comparison.covered_seat_hours(contracts[cid])
    assert cover.low.quantize(Decimal("0.01")) == Decimal(low)
    assert cover.high.quantize(Decimal("0.01")) == Decimal(high)
    costs = comparison.unit_costs(contracts[cid], cover)
    assert costs["cost_per_covered_seat_hour_low_cny"] == Decimal(cost_low)
    assert costs["cost_per_covered_seat_hour_high_cny"] == Decimal(cost_high)


def test_004_cost_structure_per_seat_month_adds_up(contracts):
    frame = comparison.cost_structure(list(contracts.values()))
    assert frame["contract_id"].unique().to_list() == ["haidian-hotline-2022"]
    # 004 九, each line / 12 months / 48 seats: 2,995,200 → 5,200.00; 2,580,624 → 4,480.25;
    # 1,119,744 → 1,944.00; together 11,624.25, the cost per seat-month.
    assert frame["per_seat_month_cny"].to_list() == [
        Decimal("5200.00"),
        Decimal("4480.25"),
        Decimal("1944.00"),
    ]
    assert sum(frame["per_seat_month_cny"].to_list()) == Decimal("11624.25")
    assert frame["share"].round(4).to_list() == [0.4473, 0.3854, 0.1672]


def test_per_day_per_ticket_and_recovered_by_hand(contracts):
    c = contracts["karamay-grid-2024"]
    cid = c.contract_id
    staffing = ledger("staffing", staffing_days(cid, "seat", dt.date(2024, 10, 1), 31, 17, 17))
    deductions = ledger(
        "deductions",
        [
            {
                "contract_id": cid,
                "event_date": dt.date(2024, 10, 8),
                "item_id": "late_coordination",
                "occurrences": 3,
            }
        ],
    )
    tickets = ledger(
        "tickets",
        [
            ticket(cid, "T1", "2024-10-02 09:00", closed_at="2024-10-02 15:00"),
            ticket(cid, "T2", "2024-10-03 09:00", closed_at="2024-10-04 09:00"),
            ticket(cid, "T3", "2024-10-04 09:00", closed_at="2024-10-05 09:00"),
            ticket(cid, "T4", "2024-10-31 22:00"),
        ],
    )
    metrics = run(c, staffing=staffing, deductions=deductions, tickets=tickets)
    r = comparison.compare_one(c, metrics, staffing, tickets, "2024-10")
    # Months with data: 2024-09 (11 of 30 days) and 2024-10. October's fee is 2,020,000 / 12 =
    # 168,333.33; September's 2,020,000 × 11/30 / 12 = 61,722.22.
    assert (r["observed_from"], r["observed_through"]) == ("2024-09", "2024-10")
    # Attendance only in October: 31 days × 17 present = 527 person-days; 168,333.33 / 527 =
    # 319.418… → 319.42.
    assert r["staffed_seat_days"] == 527
    assert r["cost_per_staffed_seat_day_cny"] == Decimal("319.42")
    # Tickets only in October: 168,333.33 / 4 = 42,083.3325 → 42,083.33 per ticket handled;
    # / 3 closed = 56,111.11 per ticket resolved.
    assert (r["tickets_handled"], r["tickets_resolved"]) == (4, 3)
    assert r["cost_per_ticket_handled_cny"] == Decimal("42083.33")
    assert r["cost_per_ticket_resolved_cny"] == Decimal("56111.11")
    # 附件2 二 (二): 3 late coordinations × 0.5 = 1.5 points → 98.5 in October, 100 in September.
    # 一 (四): 168,333.33 − 168,333.333… × 98.5 % (165,808.33) = 2,525.00 recovered of
    # 61,722.22 + 168,333.33 = 230,055.55 nominal.
    assert r["nominal_cny"] == Decimal("230055.55")
    assert r["recovered_cny"] == Decimal("2525.00")
    assert r["payable_cny"] == Decimal("227530.55")
    assert r["recovered_share"] == pytest.approx(2525 / 230055.55)
    # No figure divides by scores (each contract's 100-point sheet is its own); target
    # attainment comes from stored statements, which computed metrics alone do not carry.
    assert "mean_score" not in r and "quality_adjusted_cost_per_seat_month_cny" not in r
    assert r["all_targets_met_share"] is None
    assert "all_targets_met_share: 没有已存的月度结算单" in r["not_assessable"]


def test_a_price_index_expresses_money_in_one_years_cny(tmp_path, contracts):
    path = tmp_path / "cpi.csv"
    path.write_text("year,index,source\n2022,100,x\n2023,102,x\n2025,105,x\n", encoding="utf-8")
    index = comparison.read_price_index(path)
    c = contracts["haidian-hotline-2022"]
    # Nine months of 2022 at 105/100 and three of 2023 at 105/102: (9 × 1.05 + 3 × 1.0294…) / 12
    # = 1.044853; 6,695,568 × 1.044853 / 12 / 48 = 12,145.63 CNY of 2025.
    factor = comparison.price_factor(c, index, 2025)
    assert factor.quantize(Decimal("0.000001")) == Decimal("1.044853")
    r = comparison.compare_one(
        c, run(c), ledger("staffing"), ledger("tickets"), None, factor=factor
    )
    assert r["cost_per_seat_month_cny"] == Decimal("12145.63")
    with pytest.raises(ComparisonInputError, match="no value for 2024"):
        comparison.price_factor(contracts["shijingshan-hotline-2024"], index, 2025)


def test_a_bad_price_index_names_the_row(tmp_path):
    path = tmp_path / "cpi.csv"
    path.write_text("year,index\n2022,100\n2023,abc\n", encoding="utf-8")
    with pytest.raises(ComparisonInputError, match=r"cpi.csv: row 3: .*'abc'"):
        comparison.read_price_index(path)


def test_benchmarks_compare_only_rows_with_the_facts(tmp_path):
    path = tmp_path / "market.csv"
    path.write_text(
        "city,project,budget_cny,award_cny,term_months,headcount,seats,source_url\n"
        "甲市,热线,2400000,2376000,12,30,20,https://a\n"
        "乙市,热线,1200000,,24,,10,https://b\n"
        "丙市,热线,9600000,,12,,,https://c\n"
        "丁市,热线,5000000,,12 (365日历天),25,,https://d\n",
        encoding="utf-8",
    )
    frame = comparison.read_benchmarks(path)
    assert frame["row"].to_list() == [2, 3, 4, 5]  # every row kept, none guessed
    # 甲市: the award 2,376,000 / 12 / 20 seats = 9,900.00; / 30 staff = 6,600.00.
    first = frame.row(0, named=True)
    assert (first["amount_basis_zh"], first["comparable"]) == ("中标金额", True)
    assert first["cost_per_seat_month_cny"] == Decimal("9900.00")
    assert first["cost_per_staff_month_cny"] == Decimal("6600.00")
    # 乙市: only a budget: 1,200,000 / 24 / 10 = 5,000.00 per seat-month, no staff figure.
    second = frame.row(1, named=True)
    assert second["amount_basis_zh"] == "预算金额"
    assert second["cost_per_seat_month_cny"] == Decimal("5000.00")
    assert second["cost_per_staff_month_cny"] is None
    assert frame["comparable"].to_list() == [True, True, False, False]
    assert frame["reason_zh"][2] == "缺少座席数或人数"
    assert "term_months 为“12 (365日历天)”，不是单纯的数字" in frame["reason_zh"][3]


def test_a_benchmark_file_without_its_columns_is_refused(tmp_path):
    path = tmp_path / "market.csv"
    path.write_text("city,amount\n甲市,1\n", encoding="utf-8")
    with pytest.raises(ComparisonInputError, match="missing column"):
        comparison.read_benchmarks(path)


@pytest.mark.skipif(
    not (REAL / "cn_hotline_procurement_facts.csv").exists(),
    reason=f"real data not present at {REAL}",
)
def test_published_purchases_only_changsha_has_the_facts():
    frame = comparison.read_benchmarks(REAL / "cn_hotline_procurement_facts.csv")
    assert frame.height == 19
    comparable = frame.filter(pl.col("comparable"))
    assert comparable["city"].to_list() == ["长沙市"]
    # 长沙市: budget 1,700,000 for 12 months, 13 seats and 26 staff: 1,700,000 / 12 / 13 =
    # 10,897.435… → 10,897.44 per seat-month; / 26 = 5,448.717… → 5,448.72 per staff-month.
    r = comparable.row(0, named=True)
    assert r["cost_per_seat_month_cny"] == Decimal("10897.44")
    assert r["cost_per_staff_month_cny"] == Decimal("5448.72")
    not_comparable = frame.filter(~pl.col("comparable"))
    assert not_comparable["reason_zh"].null_count() == 0


def test_the_example_scenario_by_hand(demo_db, contracts):
    c = contracts["haidian-hotline-2022"]
    scenario = scenarios.load_scenario(config.EXAMPLE_SCENARIO)
    changed = scenarios.apply_scenario(c, scenario)
    assert changed.post("seat").seats_on_shift.clause == "情景 haidian-hotline-40-seats"
    assert changed.cost_breakdown == []  # the stated breakdown was of the old price
    settings = AdequacySettings(
        handle_seconds=150, target_share=0.8, answer_within_seconds=20, hours_per_person_week=40
    )
    tickets = ledger(
        "tickets",
        [ticket(c.contract_id, f"T{i}", f"2022-06-0{1 + i % 7} 10:00") for i in range(70)],
    )
    result = scenarios.what_if(c, scenario, tickets, settings)
    now, then = result.costs.row(0, named=True), result.costs.row(1, named=True)
    assert now["cost_per_covered_seat_hour_low_cny"] == Decimal("69.75")  # night duty uncounted
    assert now["cost_per_covered_seat_hour_cny"] is None
    # 40 seats × 8 h × 250 working days + 2 seats × 15 h × 365 days = 80,000 + 10,950 = 90,950;
    # 6,200,000 / 90,950 = 68.169… → 68.17, now complete; 6,200,000 / 12 / 46 = 11,231.88.
    assert then["covered_seat_hours"] == Decimal("90950")
    assert then["cost_per_covered_seat_hour_cny"] == Decimal("68.17")
    assert then["cover_complete"] is True
    assert then["cost_per_seat_month_cny"] == Decimal("11231.88")
    # June 2022 only. 70 tickets on June 1–7 at 10:00; June has 4 or 5 of each weekday, so the
    # 10:00 hour of each weekday sees 10 / 4 or 10 / 5 = 2–2.5 calls an hour; 150 s each is under
    # 0.11 erlang and 1 seat answers 80 % within 20 s: 7 seat-hours a week needed.
    adequacy = result.adequacy
    assert adequacy["month"].unique().to_list() == ["2022-06"]
    assert adequacy["needed_seat_hours_week"].to_list() == [7, 7]
    # On duty: 48 × 40 / 168 = 11.43 and 46 × 40 / 168 = 10.95 seats; no hour short.
    assert adequacy["seats_on_duty"].round(2).to_list() == [11.43, 10.95]
    assert adequacy["hours_short"].to_list() == [0, 0]


def test_a_scenario_for_another_contract_is_refused(contracts):
    scenario = scenarios.load_scenario(config.EXAMPLE_SCENARIO)
    with pytest.raises(ComparisonInputError, match="is for haidian-hotline-2022"):
        scenarios.apply_scenario(contracts["karamay-grid-2024"], scenario)


def test_a_bad_scenario_file_names_the_field(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "scenario_id: x\nname_zh: x\ncontract: haidian-hotline-2022\nposts:\n"
        "  - {post_id: seat, seats_on_shift: 0}\n",
        encoding="utf-8",
    )
    with pytest.raises(ComparisonInputError, match=r"s.yaml: posts.0.seats_on_shift"):
        scenarios.load_scenario(path)


def test_compare_json_carries_the_figures_and_reasons(demo_db, capsys):
    assert cli.main(["compare", "--db", str(demo_db), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["prices"] == "nominal"
    by_id = {r["contract_id"]: r for r in document["contracts"]}
    assert by_id["haidian-hotline-2022"]["cost_per_seat_month_cny"] == "11624.25"
    assert by_id["beijing-enforcement-2025"]["cost_per_covered_seat_hour_cny"] == "129.16"
    assert by_id["beijing-enforcement-2025"]["cost_per_seat_month_cny"] == "22275.22"
    assert by_id["haidian-dispatch-2026"]["cost_per_covered_seat_hour_low_cny"] == "55.14"
    assert by_id["haidian-dispatch-2026"]["cost_per_covered_seat_hour_high_cny"] == "95.53"
    # The demo months judged against 000's own targets: months and target-months.
    judged = by_id["haidian-dispatch-2026"]["target_months_judged"]
    assert judged and by_id["haidian-dispatch-2026"]["months_judged"] <= judged
    assert len(document["cost_structure"]) == 3
    assert "scenario" not in document and "benchmarks" not in document


def test_compare_text_with_a_scenario(demo_db, capsys):
    scenario = config.EXAMPLE_SCENARIO
    assert cli.main(["compare", "--db", str(demo_db), "--scenario", str(scenario)]) == 0
    out = capsys.readouterr().out
    assert "每座席·月（最低 48 人）: ¥11,624.25" in out
    assert "每覆盖座席小时: ¥69.75（两种读法相同，部分岗位未计）" in out
    assert "每覆盖座席小时: ¥55.14–¥95.53（宽读–窄读）" in out
    assert "每覆盖座席小时 ¥68.17，每座席·月 ¥11,231.88" in out
    assert "名义人民币" in out


@pytest.mark.notebook
def test_the_comparison_report_renders(demo_db, tmp_path):
    market = tmp_path / "market.csv"
    market.write_text(
        "city,project,budget_cny,award_cny,term_months,headcount,seats,source_url\n"
        "甲市,热线,2400000,2376000,12,30,20,https://a\n",
        encoding="utf-8",
    )
    result = render.render_comparison(demo_db, tmp_path, benchmarks=market)
    assert result.ok, result.error
    page = (tmp_path / "comparison.html").read_text(encoding="utf-8")
    for text in (
        "供应商成本对比",
        "单位成本",
        "¥11,624.25",
        "¥69.75（两种读法相同，部分岗位未计）",
        "¥55.14–¥95.53（宽读–窄读）",
        "¥129.16",
        "综合调度工作服务外包项目",  # contracts by name, with the buyer
        "成本构成",
        "甲市",
        "¥9,900.00",
        "下期招标情景",
        "未能计算的指标",
        "名义人民币",
        # The payment calendar: 000's 中期款 (四 3, 40 % of 1,869,400.00) in 2027's first quarter.
        "付款日历",
        "各财政年度合计",
        "2027 年第 1 季度",
        "¥747,760.00",
    ):
        assert text in page, text
    assert '<svg class="marks"' in page  # charts drawn inline
    assert "Traceback" not in page and '<script src="http' not in page
    # A planner's page: no command line, no score divided across schemes, no id for a name.
    assert "seatscore " not in page and "质量调整" not in page and "≤" not in page
    assert "haidian-dispatch-2026" not in page.split("<body", 1)[1]


def test_lab_opens_jupyterlab_in_the_notebooks_with_this_interpreter(monkeypatch):
    import os
    import sys

    from seatscore.core import config

    seen = {}
    monkeypatch.setattr(os, "execv", lambda path, argv: seen.update(path=path, argv=argv))
    monkeypatch.setattr(os, "chdir", lambda path: seen.update(cwd=path))
    cli.main(["lab", "--no-browser"])
    assert seen["argv"] == [sys.executable, "-m", "jupyter", "lab", "--no-browser"]
    assert seen["cwd"] == config.NOTEBOOKS_DIR
    # Arguments pass through unchanged and in order, an option's value included.
    cli.main(["lab", "--port", "8899", "--no-browser"])
    assert seen["argv"][4:] == ["--port", "8899", "--no-browser"]
