"""`seatscore rules`: a contract's rule catalogue."""

from __future__ import annotations

import argparse
import json

from seatscore.cli.common import (
    add_contract,
    add_json,
)


def _rules(args: argparse.Namespace) -> int:
    from seatscore.compute.statement import rule_catalogue
    from seatscore.terms.contract_files import get_contract

    contract = get_contract(args.contract)
    rules = rule_catalogue(contract)
    if args.json:
        print(
            json.dumps(
                {"contract_id": contract.contract_id, "rules": rules}, ensure_ascii=False, indent=2
            )
        )
        return 0
    print(f"{contract.contract_id} {contract.title_zh}: {len(rules)} rules")
    for r in rules:
        size = r.get("points") or r.get("amount_cny") or _range(r) or "—"
        unit = "分" if "points" in r or "points_min" in r else "元"
        cap = (
            f" [{r['category']} ≤ {r['category_cap']}]"
            if r.get("category_cap")
            else (f" [{r['category']}]" if r.get("category") else "")
        )
        open_ = f" (未规定: {r['not_stated']})" if r.get("not_stated") else ""
        print(
            f"  {r['rule_id']:<34} {r['kind']:<18} {size} {unit}/{r.get('unit_zh', '')}{cap}  {r['clause']}  {r['name_zh']}{open_}"
        )
    return 0


def _range(rule: dict) -> str | None:
    for low, high in (("points_min", "points_max"), ("amount_min_cny", "amount_max_cny")):
        if low in rule or high in rule:
            return f"{rule.get(low, '?')}–{rule.get(high, '?')}"
    if "share_of_amount" in rule:
        return f"合同金额×{rule['share_of_amount']}"
    return None


def register(sub: argparse._SubParsersAction) -> None:
    rules = sub.add_parser("rules", help="print a contract's rule catalogue with clauses")
    add_contract(rules)
    add_json(rules)
    rules.set_defaults(run=_rules)
