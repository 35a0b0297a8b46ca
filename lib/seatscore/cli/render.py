"""`seatscore render`: render HTML reports."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from seatscore.cli.common import (
    add_contract_ids,
    add_db,
    comparison_inputs,
    positive,
)
from seatscore.core import config
from seatscore.core.errors import SeatscoreError


def _render(args: argparse.Namespace) -> int:
    from seatscore.batch import render

    if not Path(args.db).exists():
        raise SeatscoreError(f"{args.db}: no database; run `seatscore build` first")
    if args.comparison:
        started = time.monotonic()
        result = render.render_comparison(
            Path(args.db),
            args.out,
            args.benchmarks,
            args.price_index,
            args.base_year,
            args.scenario,
        )
        if not result.ok:
            print(f"comparison failed: {result.error} (notebook kept beside the target)")
            return 1
        print(f"comparison: {result.path} ({time.monotonic() - started:.0f} s)")
        return 0
    jobs = render.plan_jobs(Path(args.db), args.month, args.contract, args.open_month)
    if not jobs:
        print(
            "nothing to render: no contract has that month in its service period, or the month "
            "has not ended (Beijing time; --open-month renders it anyway)",
            file=sys.stderr,
        )
        return 2
    started = time.monotonic()
    command = f"render --month {args.month or 'latest'}"
    command += f" --contract {' '.join(args.contract)}" if args.contract else ""
    command += " --force" if args.force else ""

    def stop(signum, frame):  # SIGTERM (systemd, kill) stops like Ctrl-C
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        results = render.render_all(
            jobs,
            Path(args.db),
            args.out,
            progress=not args.quiet,
            workers=args.workers,
            force=args.force,
        )
    except render.RenderInterrupted as stopped:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # finish the record, then go
        render.append_run_log(
            args.out, command + " (interrupted)", stopped.results, time.monotonic() - started
        )
        print(render.summarise(stopped.results))
        print(
            f"render: interrupted after {len(stopped.results)} of {len(jobs)} report(s); the "
            "manifest, the index and reports/render.log record them; run again to render the rest",
            file=sys.stderr,
        )
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    render.append_run_log(args.out, command, results, time.monotonic() - started)
    print(render.summarise(results))
    print(f"index: {args.out / 'index.html'} ({time.monotonic() - started:.0f} s)")
    return 0 if all(r.ok for r in results) else 1


def register(sub: argparse._SubParsersAction) -> None:
    rend = sub.add_parser("render", help="render HTML reports with papermill")
    add_db(rend)
    rend.add_argument(
        "--month",
        default=None,
        help="YYYY-MM, 'all' (every service month), or 'last' (previous month, Beijing time); "
        "default: each contract's latest month with data",
    )
    add_contract_ids(rend)
    rend.add_argument(
        "--open-month",
        action="store_true",
        help="also render a month that has not ended (the report says 本月未结束 and its cut-off)",
    )
    rend.add_argument("--out", type=Path, default=config.REPORTS_DIR, help="reports folder")
    rend.add_argument("--quiet", action="store_true", help="no progress bar")
    rend.add_argument(
        "--workers",
        type=positive,
        default=None,
        help="processes rendering at once, each on one warm kernel (default: one per core)",
    )
    rend.add_argument(
        "--force",
        action="store_true",
        help="render every report, also those whose inputs did not change (reports/manifest.json)",
    )
    rend.add_argument(
        "--comparison",
        action="store_true",
        help="instead: the vendor comparison of every contract, to <out>/comparison.html",
    )
    comparison_inputs(rend)
    rend.set_defaults(run=_render)
