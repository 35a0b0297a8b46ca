"""`seatscore ingest`: load ledgers from CSV or Excel."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from seatscore.cli.common import (
    add_db,
)
from seatscore.ledgers.kinds import KINDS


def _ingest(args: argparse.Namespace) -> int:
    """Load ledger files; print what happened to each sheet and the totals. Exit 1 when any row
    was rejected (the good rows are loaded), 2 when a file could not be ingested (nothing was)."""
    from seatscore.ledgers.ingest import ingest

    results = ingest(
        args.files,
        db_path=args.db,
        kind=args.kind,
        contract_id=args.contract,
        profile_path=args.profile,
        sheet=args.sheet,
        quarantine_dir=args.quarantine_dir,
        replaces=args.replaces,
    )
    for result in results:
        print("\n".join(result.lines()))
    read = sum(r.rows_read for r in results if r.status != "unchanged")
    loaded = sum(r.loaded for r in results)
    rejected = sum(r.rejected for r in results)
    reasons = sum((r.reasons for r in results), Counter())
    by_reason = ", ".join(f"{code} {n:,}" for code, n in sorted(reasons.items()))
    print(
        f"total: {read:,} row(s) read, {loaded:,} loaded, "
        f"{sum(r.already for r in results):,} already in the database, {rejected:,} rejected"
        + (f" ({by_reason})" if by_reason else "")
        + f", {sum(r.status == 'unchanged' for r in results)} file(s) unchanged"
    )
    return 1 if rejected else 0


def register(sub: argparse._SubParsersAction) -> None:
    ing = sub.add_parser(
        "ingest",
        help="load ledgers from CSV or Excel; bad rows go to quarantine, good ones load",
    )
    ing.add_argument("files", nargs="+", type=Path, metavar="FILE", help="CSV or XLSX files")
    add_db(ing)
    ing.add_argument(
        "--kind",
        choices=sorted(KINDS),
        help="which ledger (seatscore.ledgers.kinds.KINDS; or give --profile)",
    )
    ing.add_argument("--contract", metavar="ID", help="contract id for rows that give none")
    ing.add_argument(
        "--profile", type=Path, metavar="PROFILE.yaml", help="import profile for another layout"
    )
    ing.add_argument("--sheet", help="only this sheet of a workbook (default: every sheet)")
    ing.add_argument(
        "--quarantine-dir",
        type=Path,
        default=None,
        help="where rejected-row reports go (default: quarantine/ next to the database)",
    )
    ing.add_argument(
        "--replaces",
        type=int,
        metavar="LOAD_ID",
        help="this file corrects that earlier load (see `seatscore loads`): its rows are "
        "replaced, except rows another load also holds",
    )
    ing.set_defaults(run=_ingest)
