"""The ``seatscore`` command: ``demo-data``, ``build`` and ``render``.

Exit status: 0 on success, 1 when any report failed to render, 2 for bad input (the message says
what was wrong and what to do).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from seatscore import __version__, config
from seatscore.errors import SeatscoreError


def _demo_data(args: argparse.Namespace) -> int:
    from seatscore.contracts import load_contracts
    from seatscore.demo import write_demo_data

    paths = write_demo_data(load_contracts(), seed=args.seed, out_dir=args.out)
    print(f"wrote {len(paths)} simulated ledger files to {args.out} (seed {args.seed})")
    return 0


def _build(args: argparse.Namespace) -> int:
    from seatscore import db
    from seatscore.contracts import load_contracts

    counts = db.build(args.db, load_contracts(), demo_dir=None if args.no_demo else args.demo_dir)
    print(f"built {args.db}: " + ", ".join(f"{table} {n:,}" for table, n in counts.items()))
    return 0


def _render(args: argparse.Namespace) -> int:
    from seatscore import render

    if not Path(args.db).exists():
        raise SeatscoreError(f"{args.db}: no database; run `seatscore build` first")
    jobs = render.plan_jobs(Path(args.db), args.month, args.contract)
    if not jobs:
        print("nothing to render: no contract has that month in its service period")
        return 0
    started = time.monotonic()
    results = render.render_all(jobs, Path(args.db), args.out, progress=not args.quiet)
    print(render.summarise(results))
    print(f"index: {args.out / 'index.html'} ({time.monotonic() - started:.0f} s)")
    return 0 if all(r.ok for r in results) else 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="seatscore",
        description="Monthly scores, money and reports for outsourced citizen-hotline contracts.",
    )
    top.add_argument("--version", action="version", version=f"seatscore {__version__}")
    sub = top.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo-data", help="write deterministic simulated ledgers to data/demo/")
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    demo.add_argument("--out", type=Path, default=config.DEMO_DIR, help="output folder")
    demo.set_defaults(run=_demo_data)

    build = sub.add_parser("build", help="load contracts and ledgers into DuckDB")
    build.add_argument("--db", type=Path, default=config.DEFAULT_DB, help="database path")
    build.add_argument("--no-demo", action="store_true", help="contracts only, no demo ledgers")
    build.add_argument("--demo-dir", type=Path, default=config.DEMO_DIR, help=argparse.SUPPRESS)
    build.set_defaults(run=_build)

    rend = sub.add_parser("render", help="render HTML reports with papermill")
    rend.add_argument("--db", type=Path, default=config.DEFAULT_DB, help="database path")
    rend.add_argument(
        "--month",
        default=None,
        help="YYYY-MM, 'all' (every service month), or 'last' (previous month, Beijing time); "
        "default: each contract's latest month with data",
    )
    rend.add_argument("--contract", nargs="+", metavar="ID", help="contract ids (default: all)")
    rend.add_argument("--out", type=Path, default=config.REPORTS_DIR, help="reports folder")
    rend.add_argument("--quiet", action="store_true", help="no progress bar")
    rend.set_defaults(run=_render)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (SeatscoreError, FileNotFoundError, ValueError) as exc:
        print(f"seatscore {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
