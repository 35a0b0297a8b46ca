"""A city's year of tickets in one CSV file, through Seatscore's checked loader.

    python benchmarks/ingest.py --rows 10000000

Steps, each printed with its figures:

1. a database with the contracts and no ledgers (``seatscore build --no-demo``) in a work folder;
2. a realistic ticket export for one contract's service period (海淀 12345, 2022-04 – 2023-03):
   the Chinese headers a 12345 system writes (工单编号, 受理时间, 派发时间, 回复时间, 办结时间,
   办理时限, 紧急程度 …), 诉求内容 with commas, quotes and line breaks, masked phone numbers, written
   in chunks so the writer's memory stays small; about one row in a thousand is bad in one of the
   ways real exports are (a time that cannot be read, closed before received, a category left
   empty, an unknown priority, a ticket exported twice, a ticket number given twice with other
   values, a time in the future);
3. ``seatscore ingest`` of that file in a fresh process, timed from start to exit; its peak
   memory is the process's maximum resident set (``VmHWM``), imports included;
4. the database is checked: loaded + quarantined rows = the file's rows.

The last line is ``ingest_s=<s> peak_mib=<MiB> rows_per_s=<rows a second> quarantined=<rows>``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = "haidian-hotline-2022"
START = np.datetime64("2022-04-01T00:00:00")
SECONDS = int((np.datetime64("2023-04-01T00:00:00") - START) / np.timedelta64(1, "s"))
CHUNK = 500_000
HEADERS = {
    "ticket_id": "工单编号",
    "received_at": "受理时间",
    "dispatched_at": "派发时间",
    "replied_at": "回复时间",
    "closed_at": "办结时间",
    "due_at": "办理时限",
    "priority": "紧急程度",
    "category": "问题类别",
    "district": "所属街道",
    "channel": "来源渠道",
    "callback_done": "是否回访",
    "satisfied": "是否满意",
    "summary": "诉求内容",
    "caller_phone": "来电号码",
    "location": "地址",
}
CATEGORIES = [
    "噪音扰民",
    "供暖",
    "物业管理",
    "交通出行",
    "市容环境",
    "劳动保障",
    "房屋管理",
    "教育",
]
STREETS = ["万寿路街道", "羊坊店街道", "甘家口街道", "八里庄街道", "紫竹院街道", "北下关街道"]
CHANNELS = ["12345热线", "12345热线", "12345热线", "网络", "微信小程序"]
SUMMARIES = [
    "楼下商铺夜间施工，噪音很大，请尽快处理",
    '反映小区供暖温度不达标，室温只有16度，"要求"物业核实',
    "公交站牌信息有误，\n请更新线路信息",
    "路灯不亮",
    "咨询社保卡补办流程，需要带哪些材料？",
]
BAD_KINDS = 7


def _fmt(seconds: np.ndarray, present: np.ndarray) -> pl.Series:
    times = (START + seconds.astype("timedelta64[s]")).astype("datetime64[ms]")
    text = pl.Series(times).dt.strftime("%Y-%m-%d %H:%M:%S")
    return pl.select(pl.when(pl.Series(present)).then(text)).to_series()


def _chunk(
    rng: np.random.Generator, first: int, n: int, rows: int, bad_share: float
) -> pl.DataFrame:
    """Rows ``first`` … ``first + n - 1`` of an export of ``rows``, in receipt order."""
    index = np.arange(first, first + n)
    received = index * SECONDS // rows
    dispatch = received + rng.integers(30, 1800, n)
    reply = dispatch + rng.integers(3600, 5 * 86400, n)
    close = reply + rng.integers(0, 86400, n)
    due = received + rng.choice([2, 5, 15], n) * 86400
    open_ = rng.random(n) < 0.03
    frame = pl.DataFrame(
        {
            "ticket_id": [f"HD{i:010d}" for i in index],
            "received_at": _fmt(received, np.ones(n, bool)),
            "dispatched_at": _fmt(dispatch, np.ones(n, bool)),
            "replied_at": _fmt(reply, ~open_),
            "closed_at": _fmt(close, ~open_),
            "due_at": _fmt(due, np.ones(n, bool)),
            "priority": rng.choice(["一般", "一般", "一般", "紧急"], n),
            "category": rng.choice(CATEGORIES, n),
            "district": rng.choice(STREETS, n),
            "channel": rng.choice(CHANNELS, n),
            "callback_done": pl.Series(rng.choice(["是", "否"], n)).scatter(
                np.flatnonzero(open_), None
            ),
            "satisfied": pl.Series(rng.choice(["满意", "满意", "不满意"], n)).scatter(
                np.flatnonzero(open_), None
            ),
            "summary": rng.choice(SUMMARIES, n),
            "caller_phone": [f"139****{i % 10000:04d}" for i in index],
            "location": [f"海淀区{STREETS[i % len(STREETS)]}{i % 300}号" for i in index],
        }
    )
    bad = np.flatnonzero(rng.random(n) < bad_share)
    kinds = rng.integers(0, BAD_KINDS, bad.size)
    rows = frame.to_dicts() if bad.size else []
    for at, kind in zip(bad.tolist(), kinds.tolist(), strict=True):
        row = rows[at]
        if kind == 0:
            row["received_at"] = "2022-13-45 25:00"
        elif kind == 1:
            row["closed_at"], row["dispatched_at"] = "2022-04-01 00:00:00", None
            row["received_at"] = "2022-04-02 08:00:00"
        elif kind == 2:
            row["category"] = None
        elif kind == 3:
            row["priority"] = "特急?"
        elif kind == 4 and at > 0:
            rows[at] = dict(rows[at - 1])  # exported twice
        elif kind == 5 and at > 0:
            row["ticket_id"] = rows[at - 1]["ticket_id"]  # one number, two tickets
        elif kind == 6:
            row["received_at"] = "2099-01-01 09:00:00"
    if bad.size:
        frame = pl.DataFrame(rows, schema=frame.schema)
    return frame.rename(HEADERS)


def write_export(path: Path, rows: int, bad_share: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with path.open("wb") as out:
        out.write("\ufeff".encode())  # as Excel's "CSV UTF-8" saves it
        for first in range(0, rows, CHUNK):
            chunk = _chunk(rng, first, min(CHUNK, rows - first), rows, bad_share)
            chunk.write_csv(out, include_header=first == 0, quote_style="necessary")


def _run_ingest(db: Path, csv: Path) -> dict:
    """``seatscore ingest`` in a fresh process; its wall time and peak memory."""
    code = (
        "import json, sys, time\n"
        "from pathlib import Path\n"
        "t = time.perf_counter()\n"
        "from seatscore.ledgers.ingest import ingest\n"
        f"results = ingest([{str(csv)!r}], db_path={str(db)!r}, kind='tickets', "
        f"contract_id={CONTRACT!r})\n"
        "elapsed = time.perf_counter() - t\n"
        "peak = next(int(l.split()[1]) for l in Path('/proc/self/status').read_text()"
        ".splitlines() if l.startswith('VmHWM:'))\n"
        "for r in results:\n"
        "    print('\\n'.join(r.lines()), file=sys.stderr)\n"
        "print(json.dumps({'seconds': elapsed, 'peak_kib': peak, "
        "'rows_read': sum(r.rows_read for r in results), "
        "'loaded': sum(r.loaded for r in results), "
        "'rejected': sum(r.rejected for r in results)}))\n"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    wall = time.perf_counter() - started
    sys.stderr.write(done.stderr)
    if done.returncode:
        raise SystemExit(f"ingest failed (exit {done.returncode})")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall"] = wall
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad-share", type=float, default=0.001, help="share of bad rows (0–1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir)")
    parser.add_argument(
        "--reuse", action="store_true", help="use the export already in --workdir, if any"
    )
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="seatscore-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    db, csv = work / "seatscore.duckdb", work / "tickets.csv"
    try:
        for leftover in (db, db.with_name(db.name + ".wal")):
            leftover.unlink(missing_ok=True)
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "seatscore.cli", "build", "--no-demo", "--db", str(db)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        print(f"contracts-only database: {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        if not (args.reuse and csv.exists()):
            write_export(csv, args.rows, args.bad_share, args.seed)
        size = csv.stat().st_size
        print(
            f"export: {args.rows:,} rows, {size / 2**20:,.0f} MiB, "
            f"ready in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
        figures = _run_ingest(db, csv)
        import duckdb

        with duckdb.connect(str(db), read_only=True) as con:
            loaded = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
            quarantined = con.execute(
                "SELECT count(DISTINCT source_row) FROM quarantine"
            ).fetchone()[0]
        print(
            f"ingest: {figures['rows_read']:,} rows read, {loaded:,} loaded, "
            f"{quarantined:,} quarantined; {figures['seconds']:.1f} s in the process "
            f"({figures['wall']:.1f} s with its start)",
            flush=True,
        )
        if loaded + quarantined != figures["rows_read"]:
            print(f"MISMATCH: {loaded:,} + {quarantined:,} != {figures['rows_read']:,}")
            return 1
        seconds = figures["wall"]
        print(
            f"ingest_s={seconds:.1f} peak_mib={figures['peak_kib'] / 1024:.0f} "
            f"rows_per_s={figures['rows_read'] / seconds:,.0f} quarantined={quarantined}"
        )
        return 0
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
