"""`seatscore close`: close a month."""

from __future__ import annotations

import argparse

from seatscore.cli.common import (
    add_contract,
    add_db,
    add_month,
    check_month_and_db,
)


def _close(args: argparse.Namespace) -> int:
    from seatscore.compute import closing
    from seatscore.ledgers import store as db

    check_month_and_db(args)
    with db.connect(args.db) as con:
        contract = db.load_contract(con, args.contract)
        doc = closing.close(con, contract, db.ledgers(con, args.contract), args.month)
    print(
        f"{args.contract} {args.month} closed: score {doc['score'] or '—'}, payable "
        f"{doc['payable_cny'] or '—'}; later findings for it will be settled in the first open month"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    close = sub.add_parser("close", help="close a month: its statement and report never change")
    add_contract(close)
    add_month(close, " (months close in order)")
    add_db(close)
    close.set_defaults(run=_close)
