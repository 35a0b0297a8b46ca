"""`seatscore demo-data`: write deterministic simulated ledgers."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from seatscore.cli.common import (
    day,
    positive,
    today,
)
from seatscore.core import config


def _demo_data(args: argparse.Namespace) -> int:
    from seatscore.terms.contract_files import load_contracts

    if args.scale is not None:
        from seatscore.simulation.scale import SCALE_DIR, write_scale_data

        out = args.out or SCALE_DIR
        started = time.monotonic()
        params, tickets = write_scale_data(
            args.scale,
            out,
            n_contracts=args.contracts,
            first_year=args.first_year,
            years=args.years,
            seed=args.seed,
            progress=not args.quiet,
        )
        print(
            f"wrote {args.scale:,} simulated tickets of {len(params)} synthetic contracts to "
            f"{tickets} and their params to {params[0].parent} "
            f"(seed {args.seed}, {time.monotonic() - started:.1f} s)\n"
            f"load them: seatscore build --db data/scale.duckdb --contracts-dir {params[0].parent} "
            f"--demo-dir {out}"
        )
        return 0
    from seatscore.simulation.demo import write_demo_data

    out = args.out or config.DEMO_DIR
    as_of = args.as_of or today()
    paths = write_demo_data(load_contracts(), seed=args.seed, out_dir=out, as_of=as_of)
    print(
        f"wrote {len(paths)} simulated ledger files to {out} (seed {args.seed}, "
        f"as of {as_of.isoformat()})"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo-data", help="write deterministic simulated ledgers to data/demo/")
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    demo.add_argument(
        "--as-of",
        type=day,
        default=None,
        metavar="YYYY-MM-DD",
        help="simulate the ledgers only up to the end of this day (default: today, Beijing time)",
    )
    demo.add_argument(
        "--out", type=Path, default=None, help="output folder (default data/demo, data/scale)"
    )
    demo.add_argument(
        "--scale",
        type=positive,
        metavar="N",
        help="instead: N tickets over many synthetic contracts and years, to data/scale/",
    )
    demo.add_argument(
        "--contracts", type=positive, default=200, help="with --scale: contracts (default 200)"
    )
    demo.add_argument(
        "--years", type=positive, default=5, help="with --scale: years of tenders (default 5)"
    )
    demo.add_argument(
        "--first-year", type=int, default=2021, help="with --scale: first year (default 2021)"
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(run=_demo_data)
