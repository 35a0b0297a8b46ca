"""`seatscore statements`: list a contract's monthly statements."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from seatscore.cli.common import (
    add_contract,
    add_db,
    add_json,
)
from seatscore.core.errors import SeatscoreError


def _statements(args: argparse.Namespace) -> int:
    from seatscore.compute import closing
    from seatscore.ledgers import store as db

    if not Path(args.db).exists():
        raise SeatscoreError(f"{args.db}: no database; run `seatscore build` first")
    with db.connect(args.db) as con:
        contract = db.load_contract(con, args.contract)
        closing.refresh(con, contract, db.ledgers(con, args.contract))
        rows = closing.listing(con, args.contract)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"{args.contract}: {len(rows)} month(s)")
    for r in rows:
        print(
            f"  {r['month']}  {r['status']:<6} v{r['version']}  score {r['score'] or '—':>5}  "
            f"payable {r['payable_cny'] or '—':>12}  adjustments {r['adjustments_cny']:>10}"
            + (f"  closed {r['closed_at']}" if r["closed_at"] else "")
        )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    listing = sub.add_parser("statements", help="list a contract's monthly statements")
    add_contract(listing)
    add_db(listing)
    add_json(listing)
    listing.set_defaults(run=_statements)
