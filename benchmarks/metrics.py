"""Every monthly ticket metric of a city's tickets: Seatscore against a plain pandas version.

    python benchmarks/metrics.py --tickets 10_000_000

Steps, each printed with its figures:

1. generate N simulated tickets over synthetic contracts and years (``seatscore demo-data --scale``);
2. ingest them into a fresh DuckDB file through Seatscore's checked loader (``seatscore build``);
3. Seatscore: every monthly ticket metric of every contract (``service_levels.portfolio_kpis``),
   in a fresh process, timed from opening the database; peak memory is that process's maximum
   resident set (imports included, and printed apart); the best of ``--repeat`` runs (default 3);
4. pandas: the same metrics as a competent analyst would write them with pandas alone (one read of
   the tickets, vectorised NumPy conditions, ``groupby`` with named aggregations, no row-wise
   ``apply``), in its own fresh process, best of as many runs; the contract terms (limits,
   scopes) are read from the same params, the computing is pandas';
5. agreement: every count, rate, median and 90th percentile of every contract-month compared
   between the two (exit status 1 if any differs);
6. one contract-month as a report asks for it (open the database, read the contract, read that
   month's tickets, compute), in a fresh process: the slowest of ``--samples`` random
   contract-months after the process's first query, whose one-off costs are printed apart.

The last line is ``metrics_s=<s> peak_mib=<MiB> pandas_ratio=<pandas/seatscore>
contract_month_ms=<ms>``.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MET, MISSED, PENDING, UNMEASURED, OUT = range(5)
STATE_NAMES = ("met", "missed", "pending", "unmeasured")


def _peak_mib() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    an exec, so a spawned child would report its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _in_child(function, *args):
    """Run ``function(*args)`` in a fresh process (its own peak memory) and return its result."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def _runs(results) -> str:
    return ", ".join(f"{r[0]:.2f}" for r in results)


# ------------------------------------------------------------------------------------ Seatscore


def generate(n: int, folder: str, contracts: int, years: int, seed: int) -> tuple[str, str, float]:
    """``seatscore demo-data --scale``: (params folder, tickets file, peak MiB)."""
    from seatscore.simulation.scale import write_scale_data

    params, tickets = write_scale_data(
        n, Path(folder), contracts, years=years, seed=seed, progress=False
    )
    return str(params[0].parent), str(tickets), _peak_mib()


def ingest(db_path: str, params_dir: str, folder: str) -> tuple[float, float, int]:
    """``seatscore build`` of the synthetic contracts and tickets: (seconds, peak MiB, tickets)."""
    from seatscore.ledgers import store as db
    from seatscore.terms.contract_files import load_contracts

    started = time.perf_counter()
    counts = db.build(
        db_path, load_contracts(params_dir), demo_dir=Path(folder), contracts_dir=Path(params_dir)
    )
    return time.perf_counter() - started, _peak_mib(), counts["tickets"]


def seatscore_metrics(db_path: str, out: str) -> tuple[float, float, float]:
    """(seconds, peak MiB, MiB after imports) computing every contract's monthly ticket KPIs."""
    from seatscore.compute import service_levels
    from seatscore.ledgers import store as db

    baseline = _peak_mib()
    started = time.perf_counter()
    with db.connect(db_path, read_only=True) as con:
        contracts = db.load_contracts(con)
        kpis = service_levels.portfolio_kpis(
            contracts, lambda ids, columns: db.read_tickets(con, ids, columns)
        )
    seconds = time.perf_counter() - started
    peak = _peak_mib()
    kpis.write_parquet(out)
    return seconds, peak, baseline


# ------------------------------------------------------------------------------------ pandas


def _deadline_state(np, happened_at, deadline, as_of):
    happened = happened_at.notna().to_numpy()
    on_time = (happened_at <= deadline).to_numpy()
    overdue = (deadline < as_of).to_numpy()
    return np.select([happened & on_time, happened | overdue], [MET, MISSED], PENDING)


def _flag_state(np, flag):
    known = flag.notna().to_numpy()
    return np.select([~known, flag.fillna(False).to_numpy(dtype=bool)], [UNMEASURED, MET], MISSED)


def _scope(np, t, m):
    mask = np.ones(len(t), dtype=bool)
    if m.priority is not None:
        mask &= (t["priority"] == m.priority).to_numpy()
    s = m.scope
    if s is None:
        return mask
    for column in ("priority", "case_class", "category_group", "channel"):
        values = getattr(s, column)
        if values is not None:
            mask &= t[column].isin(values).to_numpy()
    if s.direct_dispatch is not None:
        mask &= (t["direct_dispatch"] == s.direct_dispatch).fillna(False).to_numpy(dtype=bool)
    if s.distance_km_over is not None:
        mask &= (t["distance_km"] > float(s.distance_km_over)).to_numpy()
    if s.distance_km_upto is not None:
        mask &= (t["distance_km"] <= float(s.distance_km_upto)).to_numpy()
    return mask


def _pandas_state(np, pd, t, m):
    """One measure's state per ticket, as :func:`seatscore.compute.service_levels.state_expr` defines it,
    written in pandas/NumPy."""
    received = t["received_at"]
    limit = (
        pd.to_timedelta(round(float(m.limit_minutes) * 60), unit="s") if m.limit_minutes else None
    )
    metric = m.metric
    if metric in ("dispatch_minutes", "arrival_minutes"):
        at = t["dispatched_at" if metric == "dispatch_minutes" else "arrived_at"]
        state = np.select(
            [at.isna().to_numpy(), (at <= received + limit).to_numpy()], [UNMEASURED, MET], MISSED
        )
    elif metric in ("reply_minutes", "close_minutes"):
        at = t["replied_at" if metric == "reply_minutes" else "closed_at"]
        state = _deadline_state(np, at, received + limit, t["_as_of"])
    elif metric == "reply_by_same_day_midnight":
        state = _deadline_state(
            np, t["replied_at"], received.dt.normalize() + pd.Timedelta(days=1), t["_as_of"]
        )
    elif metric == "callback_unclosed_after_days":
        late = _deadline_state(np, t["closed_at"], received + limit, t["_as_of"]) == MISSED
        called = t["callback_done"].fillna(False).to_numpy(dtype=bool)
        state = np.where(late, np.where(called, MET, MISSED), OUT)
    elif metric == "callback_rate":
        called = t["callback_done"].fillna(False).to_numpy(dtype=bool)
        state = np.where(t["closed_at"].isna().to_numpy(), OUT, np.where(called, MET, MISSED))
    elif metric == "dispatch_accuracy":
        state = _flag_state(np, t["dispatch_correct"])
    elif metric == "resolution_rate":
        state = _flag_state(np, t["resolved"])
    elif metric == "satisfaction_rate":
        state = _flag_state(np, t["satisfied"])
    elif metric == "response_rate":
        state = np.where(t["replied_at"].notna().to_numpy(), MET, MISSED)
    elif metric == "processing_rate":
        done = t["replied_at"].notna() | t["closed_at"].notna()
        state = np.where(done.to_numpy(), MET, MISSED)
    else:
        raise ValueError(metric)
    return np.where(_scope(np, t, m), state, OUT)


def pandas_metrics(db_path: str, out: str) -> tuple[float, float, float]:
    """The same figures with pandas: (seconds, peak MiB, MiB after imports)."""
    import duckdb
    import numpy as np
    import pandas as pd

    from seatscore.compute import service_levels
    from seatscore.ledgers import store as db
    from seatscore.terms.measures import STATE_COLUMNS, TIME_COLUMNS

    baseline = _peak_mib()
    started = time.perf_counter()
    con = duckdb.connect(db_path, read_only=True)
    contracts = db.load_contracts(con)
    columns = ", ".join(STATE_COLUMNS)
    tickets = con.sql(f"SELECT {columns} FROM tickets").df()
    con.close()
    for flag in ("direct_dispatch", "callback_done", "dispatch_correct", "resolved", "satisfied"):
        tickets[flag] = tickets[flag].astype("boolean")
    times = list(TIME_COLUMNS)
    tickets["_as_of"] = tickets[times].max(axis=1).groupby(tickets["contract_id"]).transform("max")
    tickets["period"] = tickets["received_at"].dt.to_period("M")
    tickets["dispatch_min"] = (
        tickets["dispatched_at"] - tickets["received_at"]
    ).dt.total_seconds() / 60
    by_terms: dict[str, list[str]] = {}
    for cid, contract in contracts.items():
        by_terms.setdefault(repr(service_levels.contract_measures(contract)), []).append(cid)
    parts = []
    for ids in by_terms.values():
        measures = [
            m for m in service_levels.contract_measures(contracts[ids[0]]) if m.assessable is None
        ]
        t = tickets[tickets["contract_id"].isin(ids)].copy()
        named = {
            "tickets": ("received_at", "size"),
            "dispatched": ("dispatch_min", "count"),
            "dispatch_minutes_median": ("dispatch_min", "median"),
        }
        for m in measures:
            state = _pandas_state(np, pd, t, m)
            for code, name in enumerate(STATE_NAMES):
                t[f"{m.key}|{name}"] = state == code
                named[f"{m.key}|{name}"] = (f"{m.key}|{name}", "sum")
        grouped = t.groupby(["contract_id", "period"], observed=True)
        wide = grouped.agg(**named)
        wide["dispatch_minutes_p90"] = grouped["dispatch_min"].quantile(0.9)
        long = []
        for m in measures:
            met, missed = wide[f"{m.key}|met"], wide[f"{m.key}|missed"]
            counted = met + missed
            long.append(
                pd.DataFrame(
                    {
                        "key": m.key,
                        "value": (met / counted).where(counted > 0),
                        "numerator": met,
                        "denominator": counted,
                        "pending": wide[f"{m.key}|pending"],
                        "unmeasured": wide[f"{m.key}|unmeasured"],
                    }
                )
            )
        long.append(pd.DataFrame({"key": "tickets", "value": wide["tickets"].astype(float)}))
        for key in ("dispatch_minutes_median", "dispatch_minutes_p90"):
            long.append(pd.DataFrame({"key": key, "value": wide[key]}))
        parts.append(pd.concat(long).reset_index())
    result = pd.concat(parts, ignore_index=True)
    result["period"] = result["period"].astype(str)
    seconds = time.perf_counter() - started
    peak = _peak_mib()
    result.to_parquet(out)
    return seconds, peak, baseline


# ------------------------------------------------------------------------------------ checks


def disagreements(seatscore_file: Path, pandas_file: Path) -> list[str]:
    """Every contract-month figure where the two results differ (empty when they agree).

    Compared: the months with tickets (pandas' group-by has no row for a month without); every
    measure computed from tickets (counts exactly, rates to 1e-9), the ticket count, and the
    dispatch-time median and 90th percentile."""
    import polars as pl

    plain = ["tickets", "dispatch_minutes_median", "dispatch_minutes_p90"]
    counts = ["numerator", "denominator", "pending", "unmeasured"]
    ours = pl.read_parquet(seatscore_file)
    with_tickets = ours.filter(pl.col("key") == "tickets", pl.col("value") > 0)
    ours = ours.join(with_tickets.select("contract_id", "period"), on=["contract_id", "period"])
    ours = ours.filter(pl.col("key").is_in(plain) | pl.col("numerator").is_not_null())
    theirs = pl.read_parquet(pandas_file).with_columns(pl.col("value").fill_nan(None))
    joined = ours.select("contract_id", "period", "key", "value", *counts).join(
        theirs.select("contract_id", "period", "key", "value", *counts).cast(
            {c: pl.Int64 for c in counts}
        ),
        on=["contract_id", "period", "key"],
        how="full",
        suffix="_pandas",
        coalesce=True,
    )
    problems = []
    one_sided = joined.filter(
        pl.col("value").is_null() & pl.col("numerator").is_null() & pl.col("key").ne("tickets")
        | pl.col("value_pandas").is_null()
        & pl.col("numerator_pandas").is_null()
        & ~pl.col("key").is_in(plain)
    )
    problems += [f"one side only: {r}" for r in one_sided.head(5).rows()]
    for column in counts:
        differ = joined.filter(
            ~pl.col("key").is_in(plain), pl.col(column).ne_missing(pl.col(f"{column}_pandas"))
        )
        problems += [f"{column} differs: {r}" for r in differ.head(5).rows()]
    close = (pl.col("value") - pl.col("value_pandas")).abs() <= 1e-9 * (1 + pl.col("value").abs())
    both_null = pl.col("value").is_null() & pl.col("value_pandas").is_null()
    differ = joined.filter(~(close.fill_null(False) | both_null))
    problems += [f"value differs: {r}" for r in differ.head(5).rows()]
    return problems


def contract_month_ms(
    db_path: Path, samples: int, seed: int, portfolio: Path
) -> tuple[float, list[float], int]:
    """Milliseconds for one contract-month as a report asks for it: open the database, read the
    contract, that month's tickets and its as-of time, compute. The first query of the process
    pays one-off costs (DuckDB imports pyarrow on first use, Polars warms up): it is timed and
    returned apart, then ``samples`` random contract-months are timed. Each is checked against the
    portfolio result. Returns (first, the samples' times, tickets of the largest month)."""
    import polars as pl
    from polars.testing import assert_frame_equal

    from seatscore.compute import service_levels
    from seatscore.ledgers import store as db

    expected = pl.read_parquet(portfolio)
    pairs = (
        expected.filter(pl.col("key") == "tickets", pl.col("value") > 0)
        .select("contract_id", "period")
        .rows()
    )
    rng = random.Random(seed)
    chosen = rng.sample(pairs, min(samples + 1, len(pairs)))
    times, largest = [], 0
    for cid, month in chosen:
        started = time.perf_counter()
        with db.connect(db_path, read_only=True) as con:
            contract = db.load_contract(con, cid)
            tickets = db.read_tickets(con, [cid], month=month)
            as_of = db.tickets_as_of(con, cid)
        figures = service_levels.ticket_kpis(contract, tickets, as_of=as_of).filter(
            pl.col("period") == month
        )
        times.append((time.perf_counter() - started) * 1000)
        largest = max(largest, tickets.height)
        assert_frame_equal(
            figures,
            expected.filter(pl.col("contract_id") == cid, pl.col("period") == month).drop(
                "contract_id"
            ),
        )
    return times[0], times[1:], largest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    parser.add_argument("--contracts", type=int, default=200)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=20, help="contract-months to time")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each implementation; the best counts"
    )
    parser.add_argument("--dir", type=Path, default=ROOT / "data" / "bench", help="work folder")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "lib"))
    import polars as pl

    args.dir.mkdir(parents=True, exist_ok=True)
    db_path = args.dir / "bench.duckdb"
    print(
        f"Seatscore metrics benchmark: {args.tickets:,} tickets, {args.contracts} contracts, "
        f"{args.years} years; polars {pl.__version__}, {pl.thread_pool_size()} threads"
    )

    started = time.perf_counter()
    params_dir, tickets_file, gen_peak = _in_child(
        generate, args.tickets, str(args.dir), args.contracts, args.years, args.seed
    )
    print(
        f"generate   {time.perf_counter() - started:7.1f} s  peak {gen_peak:,.0f} MiB "
        f"({Path(tickets_file).stat().st_size / 2**20:,.0f} MiB Parquet)"
    )
    db_path.unlink(missing_ok=True)
    ingest_s, ingest_peak, loaded = _in_child(ingest, str(db_path), params_dir, str(args.dir))
    os.sync()  # the database's pages on disk before anything is timed reading it
    print(
        f"ingest     {ingest_s:7.1f} s  peak {ingest_peak:,.0f} MiB ({loaded:,} tickets checked "
        f"and loaded, {loaded / ingest_s:,.0f} a second; {db_path.stat().st_size / 2**20:,.0f} MiB "
        "database)"
    )

    ours_file, theirs_file = args.dir / "seatscore_kpis.parquet", args.dir / "pandas_kpis.parquet"
    ours = [_in_child(seatscore_metrics, str(db_path), str(ours_file)) for _ in range(args.repeat)]
    ours_s, ours_peak, ours_base = min(ours)
    rows = pl.read_parquet(ours_file)
    print(
        f"seatscore  {ours_s:7.2f} s  peak {ours_peak:,.0f} MiB (imports {ours_base:,.0f} MiB); "
        f"{rows.height:,} figures, {rows['contract_id'].n_unique()} contracts; "
        f"best of {_runs(ours)} s"
    )
    theirs = [_in_child(pandas_metrics, str(db_path), str(theirs_file)) for _ in range(args.repeat)]
    theirs_s, theirs_peak, theirs_base = min(theirs)
    print(
        f"pandas     {theirs_s:7.2f} s  peak {theirs_peak:,.0f} MiB (imports {theirs_base:,.0f} MiB); "
        f"best of {_runs(theirs)} s"
    )
    ratio = theirs_s / ours_s
    print(f"ratio      {ratio:7.1f} × (pandas / seatscore)")

    problems = disagreements(ours_file, theirs_file)
    if problems:
        print("DISAGREE: the two implementations differ:\n  " + "\n  ".join(problems))
        return 1
    print("agree      every count, rate, median and 90th percentile of every contract-month")

    first, times, largest = _in_child(
        contract_month_ms, db_path, args.samples, args.seed, ours_file
    )
    times.sort()
    print(
        f"contract-month  median {times[len(times) // 2]:.0f} ms, slowest {times[-1]:.0f} ms over "
        f"{len(times)} random contract-months (largest {largest:,} tickets), each equal to the "
        f"all-contract result; the process's first query {first:.0f} ms (one-off imports)"
    )
    print(
        f"metrics_s={ours_s:.2f} peak_mib={ours_peak:.0f} pandas_ratio={ratio:.1f} "
        f"contract_month_ms={times[-1]:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
