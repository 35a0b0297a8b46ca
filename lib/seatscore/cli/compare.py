"""`seatscore compare`: the vendor comparison as text or JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from seatscore.cli.common import (
    add_contract_ids,
    add_db,
    add_json,
    comparison_inputs,
)
from seatscore.core.errors import SeatscoreError


def _compare(args: argparse.Namespace) -> int:
    from seatscore.compute import comparison
    from seatscore.ledgers import store as db

    if not Path(args.db).exists():
        raise SeatscoreError(f"{args.db}: no database; run `seatscore build` first")
    index = comparison.read_price_index(args.price_index) if args.price_index else None
    if args.base_year and index is None:
        raise SeatscoreError("--base-year needs --price-index FILE.csv")
    table = comparison.load_comparison(args.db, args.contract, index, args.base_year)
    market = comparison.read_benchmarks(args.benchmarks) if args.benchmarks else None
    with db.connect(args.db, read_only=True) as con:
        contracts = db.load_contracts(con)
        what_if = _what_if(con, args.scenario, contracts) if args.scenario else None
    structure = comparison.cost_structure([contracts[c] for c in table["contract_id"]])
    prices = comparison.prices_zh(index, args.base_year)
    if args.json:
        document = {
            "prices": "nominal" if index is None else f"CNY of {args.base_year or max(index)}",
            "prices_zh": prices,
            "contracts": _records(table, split="not_assessable"),
            "cost_structure": _records(structure),
        }
        if market is not None:
            document["benchmarks"] = _records(market)
        if what_if is not None:
            document["scenario"] = {
                "scenario_id": what_if.scenario.scenario_id,
                "name_zh": what_if.scenario.name_zh,
                "costs": _records(what_if.costs),
                "adequacy": _records(what_if.adequacy),
                "basis_zh": what_if.basis_zh,
            }
        print(json.dumps(document, ensure_ascii=False, indent=2, default=str))
        return 0
    print(_compare_text(table, structure, market, what_if, prices))
    return 0


def _what_if(con, scenario_path: Path, contracts: dict):
    from seatscore.compute import scenarios
    from seatscore.compute.service_levels import load_analysis_settings
    from seatscore.core.errors import UnknownContract
    from seatscore.ledgers import store as db

    scenario = scenarios.load_scenario(scenario_path)
    if scenario.contract not in contracts:
        raise UnknownContract(
            f"{scenario_path}: contract {scenario.contract!r} is not in the database; "
            f"known contracts: {', '.join(sorted(contracts))}"
        )
    tickets = db.read_tickets(con, [scenario.contract], ["received_at", "channel"])
    settings = load_analysis_settings().staffing_adequacy
    return scenarios.what_if(contracts[scenario.contract], scenario, tickets, settings)


def _records(frame, split: str | None = None) -> list[dict]:
    """Rows as JSON-ready dicts: Decimal and dates as strings (exact), ``split`` column's
    ``key: reason`` lines as a mapping."""
    rows = []
    for row in frame.iter_rows(named=True):
        if split is not None:
            text = row[split] or ""
            row[split] = dict(line.split(": ", 1) for line in text.splitlines() if line)
        rows.append(
            {
                k: (
                    str(v)
                    if v is not None and not isinstance(v, (int, float, bool, str, dict))
                    else v
                )
                for k, v in row.items()
            }
        )
    return rows


def _contract_lines(table) -> list[str]:
    """Each contract's unit costs, what deductions recovered, and what cannot be computed."""
    from seatscore.compute.comparison import LABELS_ZH, attainment_zh, seat_hour_cost_zh
    from seatscore.core.money import format_cny

    lines = []
    for r in table.iter_rows(named=True):
        lines.append(
            f"{r['contract_id']}  {r['vendor_zh']}  {r['service_start']}—{r['service_end']}  "
            f"{r['service_months'].normalize()} 个月  {format_cny(r['amount_cny'])}"
        )
        seats = r["minimum_headcount"]
        lines.append(f"  每覆盖座席小时: {seat_hour_cost_zh(r)}")
        figures = [
            (
                f"每座席·月（最低 {seats} 人）" if seats else "每座席·月（按班次折算座席当量）",
                r["cost_per_seat_month_cny"],
                "",
            ),
            (
                f"每实到人·天（{r['staffed_seat_days']:,} 人·天）",
                r["cost_per_staffed_seat_day_cny"],
                "",
            ),
            (f"每受理工单（{r['tickets_handled']:,} 张）", r["cost_per_ticket_handled_cny"], ""),
            (f"每办结工单（{r['tickets_resolved']:,} 张）", r["cost_per_ticket_resolved_cny"], ""),
            (
                "考核扣回",
                r["recovered_cny"],
                f"（名义 {format_cny(r['nominal_cny'])} 的 {r['recovered_share']:.2%}"
                + ("；有未能评估的规则，应付可能更低）" if not r["payable_complete"] else "）")
                if r["recovered_share"] is not None
                else "",
            ),
        ]
        for label, value, note in figures:
            lines.append(f"  {label}: {format_cny(value)}{note}")
        lines.append(f"  全部合同指标达标的月份: {attainment_zh(r)}")
        for line in (r["not_assessable"] or "").splitlines():
            key, reason = line.split(": ", 1)
            lines.append(f"  — {LABELS_ZH.get(key, key)} 无法计算：{reason}")
        lines.append("")
    return lines


def _structure_lines(structure) -> list[str]:
    """The cost breakdown the contracts list."""
    from seatscore.core.money import format_cny

    lines = []
    lines.append("成本构成（合同列明者）")
    for r in structure.iter_rows(named=True):
        lines.append(
            f"  {r['contract_id']}  {r['name_zh']}（{r['clause']}）: {format_cny(r['amount_cny'])} "
            f"= {r['share']:.2%}，每座席·月 {format_cny(r['per_seat_month_cny'])}"
        )
    lines.append("")
    return lines


def _market_lines(market) -> list[str]:
    """Other published purchases beside them, comparable or not and why."""
    from seatscore.core.money import format_cny

    lines = []
    lines.append("市场参照（其他公开采购）")
    for r in market.iter_rows(named=True):
        if r["comparable"]:
            lines.append(
                f"  第{r['row']}行 {r['city']} {r['date_or_period']}: {r['amount_basis_zh']} "
                f"{format_cny(r['amount_cny'])} / {r['term_months']} 个月 → 每座席·月 "
                f"{format_cny(r['cost_per_seat_month_cny'])}，每人·月 "
                f"{format_cny(r['cost_per_staff_month_cny'])}"
            )
        else:
            lines.append(f"  第{r['row']}行 {r['city']}: 不可比：{r['reason_zh']}")
    lines.append("")
    return lines


def _what_if_lines(what_if) -> list[str]:
    """The next tender's scenario: costs per case and the Erlang C shortfall."""
    import polars as pl

    from seatscore.compute.comparison import seat_hour_cost_zh
    from seatscore.core.money import format_cny

    lines = []
    lines.append(f"下期招标情景：{what_if.scenario.name_zh}（假设，非合同条款）")
    for r in what_if.costs.iter_rows(named=True):
        lines.append(
            f"  {r['case_zh']}: 总价 {format_cny(r['amount_cny'])}，每覆盖座席小时 "
            f"{seat_hour_cost_zh(r)}，每座席·月 "
            f"{format_cny(r['cost_per_seat_month_cny'])}"
        )
    if not what_if.adequacy["calls"].sum():
        lines.append(
            "  近十二个月的工单中没有来电渠道的工单，也没有来电台账：无法估算 Erlang C 需求"
        )
        return lines
    short = what_if.adequacy.group_by("case_zh", maintain_order=True).agg(
        pl.col("hours_short").max(), pl.col("short_seat_hours_week").max()
    )
    for r in short.iter_rows(named=True):
        if r["hours_short"] is None:
            lines.append(f"  {r['case_zh']}: 未规定人数，无法比较 Erlang C 需求")
        else:
            lines.append(
                f"  {r['case_zh']}: 近十二个月最多每周 {r['hours_short']:g} 个小时在岗座席不足，"
                f"缺口最多 {r['short_seat_hours_week']:.1f} 座席小时/周"
            )
    lines.append(f"  {what_if.basis_zh}")
    return lines


def _compare_text(table, structure, market, what_if, prices: str) -> str:
    lines = [f"供应商成本对比（{prices}）", "", *_contract_lines(table)]
    if structure.height:
        lines += _structure_lines(structure)
    if market is not None:
        lines += _market_lines(market)
    if what_if is not None:
        lines += _what_if_lines(what_if)
    return "\n".join(lines).rstrip()


def register(sub: argparse._SubParsersAction) -> None:
    compare = sub.add_parser(
        "compare", help="cost per seat-month, covered seat-hour, staffed day and ticket"
    )
    add_db(compare)
    add_contract_ids(compare)
    add_json(compare)
    comparison_inputs(compare, scenario_default=None)
    compare.set_defaults(run=_compare)
