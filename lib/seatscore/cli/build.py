"""`seatscore build`: load contracts and ledgers into DuckDB."""

from __future__ import annotations

import argparse
from pathlib import Path

from seatscore.cli.common import (
    add_db,
)
from seatscore.core import config


def _build(args: argparse.Namespace) -> int:
    from seatscore.ledgers import store as db
    from seatscore.terms.contract_files import load_contracts

    if args.check:
        if not Path(args.db).exists():
            print(f"{args.db}: no database yet; run `seatscore build`")
            return 1
        with db.connect(args.db, read_only=True) as con:
            reasons = db.rebuild_reasons(
                con, load_contracts(args.contracts_dir), args.contracts_dir
            )
        if not reasons:
            print(f"{args.db} is current: no need to run `seatscore build` again")
            return 0
        print(f"run `seatscore build` again: {args.db} was built by another Seatscore or params:")
        for reason in reasons:
            print(f"  - {reason}")
        return 1
    counts = db.build(
        args.db,
        load_contracts(args.contracts_dir),
        demo_dir=None if args.no_demo else args.demo_dir,
        contracts_dir=args.contracts_dir,
    )
    print(f"built {args.db}: " + ", ".join(f"{table} {n:,}" for table, n in counts.items()))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    build = sub.add_parser("build", help="load contracts and ledgers into DuckDB")
    add_db(build)
    build.add_argument("--no-demo", action="store_true", help="contracts only, no demo ledgers")
    build.add_argument(
        "--check",
        action="store_true",
        help="build nothing; say whether the database needs a build (exit 1 if it does)",
    )
    build.add_argument(
        "--demo-dir",
        type=Path,
        default=config.DEMO_DIR,
        help="folder of simulated ledgers (default data/demo)",
    )
    build.add_argument(
        "--contracts-dir",
        type=Path,
        default=config.CONTRACTS_DIR,
        help="folder of contract params files (default params/contracts)",
    )
    build.set_defaults(run=_build)
