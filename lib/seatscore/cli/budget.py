"""`seatscore budget`: the payment calendar of every contract, per quarter and fiscal year."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from seatscore.cli.common import add_db, add_json, today
from seatscore.core.errors import SeatscoreError


def _budget(args: argparse.Namespace) -> int:
    import polars as pl

    from seatscore.compute.budget import SUMS, calendar_from_db, days_left, fiscal_years
    from seatscore.core.money import cny, format_cny

    if not Path(args.db).exists():
        raise SeatscoreError(f"{args.db}: no database; run `seatscore build` first")
    on = today()
    quarters, contracts, milestones = calendar_from_db(args.db, on)
    years = fiscal_years(quarters)
    if args.fiscal_year is not None:
        quarters = quarters.filter(pl.col("quarter").str.starts_with(f"{args.fiscal_year}-"))
        years = years.filter(pl.col("fiscal_year") == str(args.fiscal_year))
    if args.json:
        doc = {
            "as_of": on.isoformat(),
            "quarters": [
                {**r, **{k: cny(r[k]) for k in SUMS}} for r in quarters.iter_rows(named=True)
            ],
            "fiscal_years": [
                {**r, **{k: cny(r[k]) for k in SUMS}} for r in years.iter_rows(named=True)
            ],
            "contracts": [
                {
                    "contract_id": cid,
                    "title_zh": c.title_zh,
                    "amount_cny": cny(c.amount_cny.value) if c.amount_cny.stated else None,
                    "service_end": c.service_period.end.isoformat(),
                    "days_left": days_left(c, on),
                }
                for cid, c in contracts.items()
            ],
            "unplaced": [
                {"contract_id": r["contract_id"], "label_zh": r["label_zh"], "why": r["reading_zh"]}
                for r in milestones.filter(pl.col("quarter").is_null()).iter_rows(named=True)
            ],
        }
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    print(f"付款日历（截至 {on.isoformat()}；季度按付款到期月，见各期读法）")
    for cid, contract in contracts.items():
        end = contract.service_period.end
        print(f"{cid} {contract.title_zh}：服务期至 {end}，剩余 {days_left(contract, on)} 天")
        own = quarters.filter(pl.col("contract_id") == cid)
        if own.is_empty():
            print("  没有可排入季度的付款（见各期说明）")
        for r in own.iter_rows(named=True):
            print(
                f"  {r['quarter']}  应付 {format_cny(r['due_cny'])}  扣减 {format_cny(r['deducted_cny'])}"
                f"  已付 {format_cny(r['paid_cny'])}  有风险 {format_cny(r['at_risk_cny'])}"
                f"  余额 {format_cny(r['remaining_cny'])}"
            )
        for r in milestones.filter(pl.col("contract_id") == cid).iter_rows(named=True):
            where = r["quarter"] or "未定"
            print(f"    {r['label_zh']}：{where}（{r['reading_zh']}；合同：{r['due_zh']}）")
    for r in (
        years.group_by("fiscal_year")
        .agg(pl.col(k).sum() for k in SUMS)
        .sort("fiscal_year")
        .iter_rows(named=True)
    ):
        print(
            f"{r['fiscal_year']} 年合计：应付 {format_cny(r['due_cny'])}，扣减 "
            f"{format_cny(r['deducted_cny'])}，已付 {format_cny(r['paid_cny'])}，余额 "
            f"{format_cny(r['remaining_cny'])}"
        )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    budget = sub.add_parser(
        "budget", help="the payment calendar: due, paid, deducted, at risk per quarter and year"
    )
    add_db(budget)
    add_json(budget)
    budget.add_argument(
        "--fiscal-year", type=int, metavar="YYYY", help="only this fiscal (calendar) year"
    )
    budget.set_defaults(run=_budget)
