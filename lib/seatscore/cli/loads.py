"""`seatscore loads`: list the loads."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from seatscore.cli.common import (
    add_db,
    add_json,
)
from seatscore.core.errors import SeatscoreError


def _loads(args: argparse.Namespace) -> int:
    """List the loads: what each file brought and whether a later load replaced it."""
    from seatscore.ledgers import store as db

    if not Path(args.db).exists():
        raise SeatscoreError(f"{args.db}: no database; run `seatscore build` first")
    with db.connect(args.db, read_only=True) as con:
        frame = db.query(
            con,
            """SELECT load_id, path, sheet, kind, source, contract_ids, contract_option, rows_read,
                      rows, rows_already, rows_rejected, loaded_at, replaced_by, sha256
               FROM loads ORDER BY load_id""",
        )
    loads = [
        {
            **{k: v for k, v in r.items() if k != "loaded_at"},
            "loaded_at": r["loaded_at"].isoformat(timespec="seconds"),
            "state": "active" if r["replaced_by"] is None else "replaced",
        }
        for r in frame.iter_rows(named=True)
    ]
    if args.json:
        print(json.dumps(loads, ensure_ascii=False, indent=2))
        return 0
    for r in loads:
        where = r["path"] + (f" [{r['sheet']}]" if r["sheet"] else "")
        state = "active" if r["replaced_by"] is None else f"replaced by load {r['replaced_by']}"
        print(
            f"{r['load_id']:>5}  {r['kind']:<10} {where}  rows {r['rows']:,} loaded, "
            f"{r['rows_already']:,} already, {r['rows_rejected']:,} rejected  "
            f"{r['loaded_at']}  {state}"
        )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    loads = sub.add_parser("loads", help="list the loads: files, rows, and what replaced what")
    add_db(loads)
    add_json(loads)
    loads.set_defaults(run=_loads)
