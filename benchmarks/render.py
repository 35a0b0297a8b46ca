"""Batch rendering against the naive loop, on the same N contract-months.

    python benchmarks/render.py --n 100

1. data: the first full month of N synthetic contracts (``seatscore demo-data --scale``: the five
   real contracts re-tendered year after year, 1,000 tickets each, so every report has tickets)
   loaded into ``data/bench/render/seatscore.duckdb``;
2. naive: one report at a time, as a shell script would: the papermill CLI, then
   ``jupyter nbconvert --to html --no-input``;
3. batch: ``seatscore.batch.render.render_all`` (a process per core, each on one warm kernel;
   ``--force`` so nothing is skipped).

Both wall times are printed; the last line is ``ratio <naive/batch>``. Figures measured on the
project's machine are in docs/explanation/scaling.md ("Batch rendering speed"). The naive loop takes
about 18 s a report, so ``--n 100`` runs about 35 minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def prepare(n: int, work: Path) -> tuple[Path, list]:
    from seatscore.batch import render
    from seatscore.ledgers import store as db
    from seatscore.simulation.scale import write_scale_data
    from seatscore.terms.contract_files import load_contracts
    from seatscore.terms.periods import service_months

    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    years = max(1, -(-n // 40))
    write_scale_data(
        1_000 * n, data, n_contracts=n, first_year=2021, years=years, seed=1, progress=False
    )
    contracts = load_contracts(data / "contracts")
    path = work / "seatscore.duckdb"
    path.unlink(missing_ok=True)
    db.build(path, contracts, demo_dir=data, contracts_dir=data / "contracts")
    jobs = []
    for cid, contract in sorted(contracts.items()):
        months = service_months(contract.service_period)
        full = months.filter(months["service_days"] == months["days_in_month"])
        jobs.append(render.RenderJob(cid, full["month"][0]))
    return path, jobs[:n]


def naive(jobs, database: Path, out: Path) -> float:
    from seatscore.core import config

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    started = time.monotonic()
    for job in jobs:
        executed = out / f"{job.contract_id}-{job.month}.ipynb"
        subprocess.run(
            [
                BIN / "papermill",
                str(config.REPORT_NOTEBOOK),
                str(executed),
                "-p",
                "contract_id",
                job.contract_id,
                "-p",
                "month",
                job.month,
                "-p",
                "db_path",
                str(database),
                "-p",
                "chart_renderer",
                "svg",
                "--cwd",
                str(config.NOTEBOOKS_DIR),
                "--no-progress-bar",
                "--log-level",
                "ERROR",
            ],
            check=True,
        )
        subprocess.run(
            [
                BIN / "jupyter",
                "nbconvert",
                "--to",
                "html",
                "--no-input",
                str(executed),
                "--log-level",
                "ERROR",
            ],
            check=True,
        )
    return time.monotonic() - started


def batch(jobs, database: Path, out: Path) -> float:
    from seatscore.batch import render

    shutil.rmtree(out, ignore_errors=True)
    started = time.monotonic()
    results = render.render_all(jobs, database, out, progress=False, force=True)
    elapsed = time.monotonic() - started
    failed = [r for r in results if not r.ok]
    if failed:
        sys.exit(f"batch: {len(failed)} report(s) failed, e.g. {failed[0].error}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="contract-months (default 100)")
    parser.add_argument("--dir", type=Path, default=ROOT / "data" / "bench" / "render")
    args = parser.parse_args()
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    started = time.monotonic()
    database, jobs = prepare(args.n, args.dir)
    print(f"data: {len(jobs)} contract-months, built in {time.monotonic() - started:.0f} s")
    workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    naive_s = naive(jobs, database, args.dir / "naive")
    print(f"naive: {naive_s:.1f} s ({naive_s / len(jobs):.2f} s a report, one at a time)")
    batch_s = batch(jobs, database, args.dir / "batch")
    print(
        f"batch: {batch_s:.1f} s ({batch_s / len(jobs):.2f} s a report, {workers} workers, warm kernels)"
    )
    print(f"ratio {naive_s / batch_s:.2f}")


if __name__ == "__main__":
    main()
