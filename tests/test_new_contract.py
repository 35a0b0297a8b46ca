"""A new contract of a known kind needs a params file and no code."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from seatscore.compute.metrics import monthly_metrics
from seatscore.compute.rules.linear import linear_points
from seatscore.terms.contract_files import load_contract

from helpers import ledger

PARAMS = """
contract_id: example-linear-2025
title_zh: 示例热线座席服务
source_seed: none (test)
buyer: {name: 示例市政务服务中心, clause: 首部}
vendor: {name: 示例服务公司, clause: 首部}
amount_cny: {value: "1200000.00", clause: 三 1}
amount_in_words: {value: 壹佰贰拾万元整, clause: 三 1}
tax_included: {value: true, clause: 三 1}
settled_at_actual_cost: {value: false, clause: 三 1}
service_period: {start: 2025-01-01, end: 2025-12-31, clause: 二}
signing_dates: [{date: 2024-12-20, clause: 签署页}]
minimum_headcount: {value: 10, clause: 一 2}
posts:
  - post_id: seat
    name_zh: 座席
    min_headcount: {value: 10, clause: 一 2}
    shift_pattern: {value: {days_per_week: 7, hours_per_day: 24}, clause: 一 2}
    seats_on_shift: {value: 2, clause: 一 2}
    clause: 一 2
payments: []
assessment:
  clause: 附件
  value:
    scoring_zh: 100 − 扣分
    clause: 附件
    categories:
      - {category_id: quality, name_zh: 服务质量, cap_points: 30, clause: 附件 一}
    items:
      - item_id: callback_rate
        category: quality
        name_zh: 回访率
        kind: linear
        measure: callback_rate
        points: 10
        floor_share: "0.80"
        target_share: {value: "0.95", word: 低于, clause: 附件 一 1}
        unit_zh: 按比例
        clause: 附件 一 1
      - {item_id: rude_reply, category: quality, name_zh: 态度生硬, kind: per_occurrence, points: 2, unit_zh: 每次, clause: 附件 一 2}
fee_formula: {kind: cny_per_point, cny_per_point: "500.00", clause: 三 2}
staffing_penalties: []
penalties: []
termination_triggers: []
service_level_targets: []
"""


def test_linear_points():
    # 87.5 % between a floor of 80 % and a target of 95 %: (95 − 87.5) / 15 = half of 10 points.
    assert linear_points(Decimal("0.95"), Decimal("0.80"), 875, 1000, Decimal(10)) == Decimal(
        "5.00"
    )
    assert linear_points(Decimal("0.95"), Decimal("0.80"), 960, 1000, Decimal(10)) == Decimal(0)
    assert linear_points(Decimal("0.95"), Decimal("0.80"), 700, 1000, Decimal(10)) == Decimal(10)


def test_params_file_alone_scores_a_month(tmp_path):
    path = tmp_path / "example-linear-2025.yaml"
    path.write_text(PARAMS, encoding="utf-8")
    contract = load_contract(path)
    # 8 tickets closed in March, 7 called back: 87.5 % → 5 points (linear); one rude reply → 2.
    # Score 93; 500 CNY per point → 3,500 CNY off 1,200,000 / 12 = 100,000.
    closed = dt.datetime(2025, 3, 4, 12, 0)
    tickets = ledger(
        "tickets",
        [
            {
                "contract_id": contract.contract_id,
                "ticket_id": f"T{i}",
                "received_at": dt.datetime(2025, 3, 4, 9, 0),
                "closed_at": closed,
                "priority": "ordinary",
                "category": "咨询",
                "callback_done": i < 7,
            }
            for i in range(8)
        ],
    )
    deductions = ledger(
        "deductions",
        [
            {
                "contract_id": contract.contract_id,
                "event_date": dt.date(2025, 3, 9),
                "item_id": "rude_reply",
                "occurrences": 1,
            }
        ],
    )
    metrics = monthly_metrics(
        contract, ledger("staffing"), deductions, ledger("penalties"), tickets
    )
    march = metrics.months.filter(pl.col("month") == "2025-03").row(0, named=True)
    assert march["score"] == Decimal(93)
    assert march["fee_deduction_cny"] == Decimal("3500.00")
    assert march["payable_cny"] == Decimal("96500.00")
