"""`seatscore score`: one month's assessment, deductions and penalties."""

from __future__ import annotations

import argparse
import json

from seatscore.cli.common import (
    add_contract,
    add_db,
    add_json,
    add_month,
    check_month_and_db,
)
from seatscore.core.errors import SeatscoreError


def _score(args: argparse.Namespace) -> int:
    from seatscore.compute import closing
    from seatscore.compute.statement import statement_as_of
    from seatscore.ledgers import store as db

    check_month_and_db(args)
    with db.connect(args.db) as con:
        contract = db.load_contract(con, args.contract)
        ledgers = db.ledgers(con, args.contract)
        closing.refresh(con, contract, ledgers)
        doc = closing.stored(con, args.contract, args.month)
    if doc is None:  # a month not yet over (not stored): computed as of today
        try:
            doc = statement_as_of(contract, ledgers, args.month)
        except KeyError as exc:
            raise SeatscoreError(f"{args.contract}: {exc.args[0]}") from exc
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    print(f"{doc['contract_id']} {doc['month']}")
    print(f"  score {doc['score'] or '—'} (points lost {doc['points_lost'] or '—'})")
    print(
        f"  nominal fee {doc['fee_nominal_cny'] or '— (amount not stated)'}  "
        f"fee deduction {doc['fee_deduction_cny']}  "
        f"penalties {doc['penalties_cny']}  payable {doc['payable_cny'] or '—'}"
    )
    for line in doc["lines"]:
        size = (
            f"{line['points']} 分"
            if line["points"] is not None
            else f"{line['amount_cny'] or '未评估'} 元"
        )
        rows = ", ".join(f"{r['file']}:{r['row']}" for r in line["rows"][:3])
        more = f" … +{len(line['rows']) - 3}" if len(line["rows"]) > 3 else ""
        print(
            f"  - {line['rule_id']} ×{line['quantity']} = {size}  ({line['clause']})  {rows}{more}"
        )
    for flag in doc["flags"]:
        print(f"  ! {flag}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    score = sub.add_parser("score", help="print one month's assessment, deductions and penalties")
    add_contract(score)
    add_month(score)
    add_db(score)
    add_json(score)
    score.set_defaults(run=_score)
