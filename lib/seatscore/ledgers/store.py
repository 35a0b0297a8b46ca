"""The DuckDB database: contracts and ledgers, loaded in one transaction.

Tables (money in CNY as DECIMAL(14,2); points as DECIMAL(7,2); times are Beijing wall-clock time,
stored as TIMESTAMP without zone):

- ``contracts``: one row per params file, with its SHA-256 and the validated terms as JSON.
- ``posts``: posts with minimum headcount (NULL = not stated) and shift pattern.
- ``staffing_daily`` (attendance), ``roster``, ``deduction_events``, ``penalty_events``,
  ``tickets``, ``kpi_monthly``, ``payments_made``: the ledgers, their
  columns generated from the ledger kinds of :mod:`seatscore.ledgers.kinds` (one definition of each
  column), plus ``source`` (``demo`` for the simulated ledgers), ``source_file`` and ``source_row``.
- ``loads``: the load history, one row per ledger file (and sheet) loaded: path, sheet, kind,
  SHA-256 of the file, the import profile, the contracts it holds, rows read / loaded / already
  present / rejected, source, time, and ``replaced_by`` (the load of a corrected version of the
  same file that replaced its rows; NULL while its rows are the ones in the ledger).
- ``quarantine``: every row :mod:`seatscore.ledgers.ingest` rejected, one row per problem: load, file,
  sheet, row number, column, value, reason code and sentence, and the whole row as JSON.

Layout for scale: ``tickets`` also holds ``contract_key``, a stable 63-bit number derived from the
contract id (:func:`contract_key`), and its rows are kept ordered by that key and receipt time.
DuckDB keeps the minimum and maximum of every column per row group of 122,880 rows (zone maps);
for strings it keeps only an 8-byte prefix, which cannot tell ``beijing-enforcement-001-2024``
from ``beijing-enforcement-002-2024``, so queries filter on the number as well as the id
(:func:`read_tickets`) and one contract-month reads one or two row groups, not the table.

:func:`build` is idempotent: it replaces the contracts and the rows of the sources it loads, inside
one transaction, so a failure leaves the database exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl
from pydantic import ValidationError

from seatscore.core import config
from seatscore.core.errors import SeatscoreError, UnknownContract
from seatscore.core.money import MONEY
from seatscore.ledgers.kinds import KINDS, LedgerKind, check_references, read_ledger
from seatscore.terms.contracts import Contract, params_sha256
from seatscore.terms.measures import STATE_COLUMNS, TIME_COLUMNS
from seatscore.terms.periods import month_key, parse_month, shift_month

CONTRACT_SCHEMA = """
-- One row per contract: its terms as read from its params file.
CREATE TABLE IF NOT EXISTS contracts (
    contract_id VARCHAR PRIMARY KEY,    -- the params file's name without .yaml
    title_zh VARCHAR NOT NULL,          -- the project's name as the contract writes it
    buyer VARCHAR NOT NULL,             -- 甲方, the buying office
    vendor VARCHAR NOT NULL,            -- 乙方, the service company
    amount_cny DECIMAL(14, 2),          -- NULL: not stated
    service_start DATE NOT NULL,        -- inclusive
    service_end DATE NOT NULL,          -- inclusive
    minimum_headcount INTEGER,          -- NULL: not stated
    params_file VARCHAR NOT NULL,       -- the params file the terms were read from
    params_sha256 VARCHAR NOT NULL,     -- of the params file's bytes
    terms_json JSON NOT NULL            -- every term as read (seatscore.terms.contracts.Contract)
);
-- The posts (岗位) of each contract with their minimum headcount and shift pattern.
CREATE TABLE IF NOT EXISTS posts (
    contract_id VARCHAR NOT NULL,       -- the contract (contracts.contract_id)
    post_id VARCHAR NOT NULL,           -- the post's id in the params file
    name_zh VARCHAR NOT NULL,           -- the post as the contract names it
    min_headcount INTEGER,              -- NULL: not stated
    days_per_week INTEGER,              -- shift pattern; NULL: not stated
    hours_per_day INTEGER,              -- shift pattern; NULL: not stated
    PRIMARY KEY (contract_id, post_id)
);
-- Every file (or sheet) loaded: what, how many rows, and whether a corrected file replaced it.
CREATE TABLE IF NOT EXISTS loads (
    load_id BIGINT NOT NULL,            -- one load of one file (or sheet)
    path VARCHAR NOT NULL,              -- the file, as given (relative to the project where inside it)
    sheet VARCHAR,                      -- NULL for CSV and Parquet
    kind VARCHAR NOT NULL,              -- the ledger kind (tickets, staffing …)
    sha256 VARCHAR NOT NULL,            -- of the file's bytes
    profile VARCHAR,                    -- import profile path, NULL for the canonical layout
    profile_sha256 VARCHAR,             -- of the profile's bytes
    contract_ids VARCHAR[] NOT NULL,    -- the contracts its rows belong to
    rows_read BIGINT NOT NULL,          -- data rows in the file
    rows BIGINT NOT NULL,               -- loaded
    rows_already BIGINT NOT NULL,       -- identical rows another load had already loaded
    rows_rejected BIGINT NOT NULL,      -- in quarantine
    source VARCHAR NOT NULL,            -- demo (simulated ledgers) or ingest
    loaded_at TIMESTAMP NOT NULL,       -- Beijing time
    replaced_by BIGINT,                 -- the load of the corrected file that replaced its rows
    replaced_at TIMESTAMP,              -- when it was replaced (Beijing time)
    contract_option VARCHAR             -- the --contract given with the file (part of its identity)
);
-- Every ledger row a load holds (loaded or already there): a row two loads share survives the replacement of one.
CREATE TABLE IF NOT EXISTS load_rows (
    load_id BIGINT NOT NULL,            -- the load (loads.load_id)
    kind VARCHAR NOT NULL,              -- the ledger kind
    row_sha1 VARCHAR NOT NULL           -- the row's hash (seatscore.ledgers.kinds.row_sha1)
);
-- Rows rejected at load, with the file, row, column, value and what was wrong (nothing is dropped silently).
CREATE TABLE IF NOT EXISTS quarantine (
    load_id BIGINT NOT NULL,            -- the load the row was rejected from
    path VARCHAR NOT NULL,              -- the file
    sheet VARCHAR,                      -- the Excel sheet; NULL for CSV
    source_row INTEGER NOT NULL,        -- as the file counts it: header = row 1 (Excel: its row)
    source_line INTEGER,                -- the text line the row starts on (CSV cells may hold breaks)
    row_key VARCHAR,                    -- the row's own id as written (ticket number …)
    column_name VARCHAR NOT NULL,       -- the file's header
    value VARCHAR,                      -- the cell as written
    code VARCHAR NOT NULL,              -- the kind of problem (missing, unparsable, range …)
    reason VARCHAR NOT NULL,            -- what was wrong and what to do
    row_json VARCHAR NOT NULL           -- every cell of the rejected row, header → text
);
"""

LEDGER_TABLES = tuple(kind.table for kind in KINDS.values())
PROVENANCE_COLUMNS = ("source_file", "source_sheet", "source_row")


def _sql_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"DECIMAL({dtype.precision}, {dtype.scale})"
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMP"  # Beijing wall-clock time, no zone
    return {
        pl.String: "VARCHAR",
        pl.Date: "DATE",
        pl.Int32: "INTEGER",
        pl.Int64: "BIGINT",
        pl.Float64: "DOUBLE",
        pl.Boolean: "BOOLEAN",
    }[dtype.base_type()]


CLUSTER_KEY = "contract_key"
"""The tickets table's extra column that its rows are ordered by (see the module text)."""


def contract_key(contract_id: str) -> int:
    """A stable non-negative 63-bit number for a contract id (the first 8 bytes of its SHA-256),
    the same in every database and every release, so rows loaded at different times agree."""
    return int.from_bytes(hashlib.sha256(contract_id.encode("utf-8")).digest()[:8], "big") >> 1


def _table_columns(kind: LedgerKind) -> list[str]:
    extra = [CLUSTER_KEY] if kind.name == "tickets" else []
    return [c.name for c in kind.columns] + extra + ["source", *PROVENANCE_COLUMNS, "load_id"]


def _ledger_ddl(kind: LedgerKind) -> str:
    """A ledger table from its kind's canonical columns (:mod:`seatscore.ledgers.kinds`), then (tickets
    only) :data:`CLUSTER_KEY`, then where each row came from: ``source`` (``demo`` or
    ``ingest``), ``source_file``, ``source_sheet`` (Excel), ``source_row``, ``load_id`` (the load
    that brought it: a load, not a file name, is what a replacement removes)."""
    columns = [
        (f"{c.name} {_sql_type(c.dtype)}{' NOT NULL' if c.required else ''}", c.doc)
        for c in kind.columns
    ]
    if kind.name == "tickets":
        columns.append(
            (f"{CLUSTER_KEY} BIGINT NOT NULL", "a number per contract, to find its rows")
        )
    columns += [
        ("source VARCHAR NOT NULL", "demo (simulated ledgers) or ingest"),
        ("source_file VARCHAR", "the file the row came from"),
        ("source_sheet VARCHAR", "the Excel sheet; NULL for CSV"),
        ("source_row INTEGER", "the row in that file, header = row 1"),
        ("load_id BIGINT", "the load that brought it (loads.load_id)"),
    ]
    lines = [
        f"    {ddl}{',' if i < len(columns) - 1 else ''}  -- {doc.replace(chr(10), ' ')}"
        for i, (ddl, doc) in enumerate(columns)
    ]
    return (
        f"-- {kind.name_zh}: {kind.doc}\n"
        f"CREATE TABLE IF NOT EXISTS {kind.table} (\n" + "\n".join(lines) + "\n);"
    )


SCHEMA = CONTRACT_SCHEMA + "\n".join(_ledger_ddl(kind) for kind in KINDS.values())

_DDL = re.compile(
    r"(?:-- (?P<doc>[^\n]*)\n)?CREATE TABLE IF NOT EXISTS (?P<table>\w+) \((?P<body>.*?)\n\);", re.S
)
_COLUMN = re.compile(r"^\s+(?P<name>[a-z_0-9]+) [A-Z][^\n]*?--\s*(?P<doc>.+)$", re.M)


def _sql_text(text: str) -> str:
    return "'" + text.strip().replace("'", "''") + "'"


def comment_schema(con: duckdb.DuckDBPyConnection, ddl: str) -> None:
    """``COMMENT ON`` every table of ``ddl`` and each of its columns, from the DDL's own ``--``
    comments (the line before a table, the end of each column's line), so the database says what
    each table and column holds (``SELECT table_name, column_name, comment FROM duckdb_columns()``)
    in the words the schema is written with."""
    for m in _DDL.finditer(ddl):
        table = m["table"]
        if m["doc"]:
            con.execute(f"COMMENT ON TABLE {table} IS {_sql_text(m['doc'])}")
        for column in _COLUMN.finditer(m["body"]):
            con.execute(f"COMMENT ON COLUMN {table}.{column['name']} IS {_sql_text(column['doc'])}")


DEMO_SOURCE = "demo"
INGEST_SOURCE = "ingest"


LOCK_WAIT_SECONDS = float(os.environ.get("SEATSCORE_DB_WAIT", "300"))
"""How long to wait for another process that holds the database (an ingest, a build) before
giving up; ``SEATSCORE_DB_WAIT`` sets it."""


def _open(path: Path, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, waiting while another process holds the file's lock and saying once,
    on standard error, for whom it waits."""
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" not in text.lower() or time.monotonic() > deadline:
                raise
            if not told:
                holder = re.search(r"PID \d+", text)
                print(
                    f"seatscore: waiting for {path}: another process "
                    f"({holder.group(0) if holder else 'unknown'}) is writing to it; "
                    f"up to {wait:.0f} s (SEATSCORE_DB_WAIT)",
                    file=sys.stderr,
                )
                told = True
            time.sleep(0.5)


@contextmanager
def connect(
    path: Path | str = config.DEFAULT_DB, read_only: bool = False, wait: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database (creating its folder), closing it afterwards. While another process
    writes to it, wait up to ``wait`` seconds (default :data:`LOCK_WAIT_SECONDS`), saying so."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, read_only, LOCK_WAIT_SECONDS if wait is None else wait)
    try:
        yield con
    finally:
        con.close()


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("_incoming", frame.to_arrow())
    try:
        columns = ", ".join(frame.columns)
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming")
    finally:
        con.unregister("_incoming")


def _contract_frames(
    contracts: dict[str, Contract], contracts_dir: Path
) -> tuple[pl.DataFrame, pl.DataFrame]:
    contract_rows, post_rows = [], []
    for cid, c in sorted(contracts.items()):
        params_file = contracts_dir / f"{cid}.yaml"
        contract_rows.append(
            {
                "contract_id": cid,
                "title_zh": c.title_zh,
                "buyer": c.buyer.name,
                "vendor": c.vendor.name,
                "amount_cny": c.amount_cny.value,
                "service_start": c.service_period.start,
                "service_end": c.service_period.end,
                "minimum_headcount": c.minimum_headcount.value,
                "params_file": display_path(params_file),
                "params_sha256": params_sha256(params_file) if params_file.exists() else "",
                "terms_json": c.model_dump_json(),
            }
        )
        for p in c.posts:
            sp = p.shift_pattern.value
            post_rows.append(
                {
                    "contract_id": cid,
                    "post_id": p.post_id,
                    "name_zh": p.name_zh,
                    "min_headcount": p.min_headcount.value,
                    "days_per_week": sp.days_per_week if sp else None,
                    "hours_per_day": sp.hours_per_day if sp else None,
                }
            )
    contracts_frame = pl.DataFrame(
        contract_rows,
        schema_overrides={"amount_cny": MONEY, "minimum_headcount": pl.Int32},
    )
    posts_frame = pl.DataFrame(
        post_rows,
        schema_overrides={c: pl.Int32 for c in ("min_headcount", "days_per_week", "hours_per_day")},
    )
    return contracts_frame, posts_frame


def read_ledger_folder(
    folder: Path, contracts: dict[str, Contract]
) -> list[tuple[LedgerKind, Path, pl.DataFrame]]:
    """Read and check every ledger file under ``folder`` (any depth), by file name: the kind's
    CSV name (``tickets.csv``) or the same name ending ``.parquet``.

    Raises :class:`~seatscore.core.errors.LedgerError` at the first file with problems.
    """
    found = []
    for kind in KINDS.values():
        names = (kind.file_name, kind.file_name.replace(".csv", ".parquet"))
        for path in sorted(p for name in names for p in folder.rglob(name)):
            frame = read_ledger(path, kind)
            check_references(path, kind, frame, contracts)
            found.append((kind, path, frame))
    return found


def build(
    db_path: Path | str,
    contracts: dict[str, Contract],
    demo_dir: Path | None = config.DEMO_DIR,
    contracts_dir: Path = config.CONTRACTS_DIR,
) -> dict[str, int]:
    """Load the contracts, and the demo ledgers unless ``demo_dir`` is None, into ``db_path``.

    ``contracts_dir`` is where the params files of ``contracts`` are (recorded with each
    contract's row for provenance). The tickets of all files go in at once, ordered by contract
    key and receipt time, so that DuckDB's per-row-group min/max (zone maps) let a query for one
    contract-month skip the rest of the table (docs/explanation/scaling.md).

    Every file is read and checked before the database is touched; the writes run in one
    transaction. Contracts are replaced; ledger rows from the demo source are replaced (or, with
    ``demo_dir=None``, removed); rows from any other source are kept. Returns rows per table.

    Raises :class:`~seatscore.core.errors.LedgerError` (bad ledger rows) or
    :class:`FileNotFoundError` (no demo data: run ``seatscore demo-data`` first); the database is
    then unchanged.
    """
    ledgers: list[tuple[LedgerKind, Path, pl.DataFrame]] = []
    if demo_dir is not None:
        if not demo_dir.is_dir():
            raise FileNotFoundError(
                f"{demo_dir}: no demo ledgers; run `seatscore demo-data` first, or build with --no-demo"
            )
        ledgers = read_ledger_folder(demo_dir, contracts)
    contracts_frame, posts_frame = _contract_frames(contracts, contracts_dir)
    loaded_at = dt.datetime.now(config.TIMEZONE).replace(tzinfo=None)
    with connect(db_path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            ensure_schema(con)
            _replace_contracts(con, contracts_frame, posts_frame)
            for table in LEDGER_TABLES:
                con.execute(f"DELETE FROM {table} WHERE source = ?", [DEMO_SOURCE])
            con.execute("DELETE FROM loads WHERE source = ?", [DEMO_SOURCE])
            tickets = []  # inserted together at the end, in key order across all files
            load_id = next_load_id(con)
            for kind, path, frame in ledgers:
                rows = frame.with_columns(
                    pl.lit(DEMO_SOURCE).alias("source"),
                    pl.lit(display_path(path)).alias("source_file"),
                    pl.lit(None, dtype=pl.String).alias("source_sheet"),
                    pl.int_range(2, frame.height + 2, dtype=pl.Int32).alias("source_row"),
                    pl.lit(load_id, dtype=pl.Int64).alias("load_id"),
                )
                if kind.name == "tickets":
                    tickets.append(rows)
                else:
                    insert_frame(con, kind.table, rows)
                record_load(
                    con,
                    load_id=load_id,
                    path=display_path(path),
                    kind=kind.name,
                    sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                    contract_ids=sorted(frame["contract_id"].unique().to_list()),
                    rows_read=frame.height,
                    rows=frame.height,
                    source=DEMO_SOURCE,
                    loaded_at=loaded_at,
                )
                load_id += 1
            if tickets:
                insert_frame(con, "tickets", clustered(pl.concat(tickets, rechunk=False)))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return {
            table: con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in ("contracts", "posts", *LEDGER_TABLES)
        }


def _replace_contracts(
    con: duckdb.DuckDBPyConnection, contracts_frame: pl.DataFrame, posts_frame: pl.DataFrame
) -> None:
    """Put ``contracts_frame`` in place of the contracts the database holds, except those that
    other contracts' params did not bring and that ingested rows (source other than demo) still
    refer to: a public dataset's params registered by ``seatscore ingest`` stays with its data."""
    kept = [
        r[0]
        for r in con.execute(
            "SELECT contract_id FROM contracts WHERE contract_id NOT IN "
            "(SELECT unnest(?::VARCHAR[])) AND contract_id IN ("
            + " UNION ".join(
                f"SELECT contract_id FROM {t} WHERE source <> '{DEMO_SOURCE}'"
                for t in LEDGER_TABLES
            )
            + ")",
            [contracts_frame["contract_id"].to_list() if contracts_frame.height else []],
        ).fetchall()
    ]
    con.execute("DELETE FROM contracts WHERE NOT list_contains(?::VARCHAR[], contract_id)", [kept])
    con.execute("DELETE FROM posts WHERE NOT list_contains(?::VARCHAR[], contract_id)", [kept])
    if contracts_frame.height:
        insert_frame(con, "contracts", contracts_frame)
    if posts_frame.height:
        insert_frame(con, "posts", posts_frame)


def upsert_contract(con: duckdb.DuckDBPyConnection, contract: Contract, params_file: Path) -> None:
    """Insert or replace one contract and its posts (inside the caller's transaction): how
    :mod:`seatscore.ledgers.ingest` registers the params of data that belong to no contract."""
    contracts_frame, posts_frame = _contract_frames(
        {contract.contract_id: contract}, params_file.parent
    )
    con.execute("DELETE FROM contracts WHERE contract_id = ?", [contract.contract_id])
    con.execute("DELETE FROM posts WHERE contract_id = ?", [contract.contract_id])
    insert_frame(con, "contracts", contracts_frame)
    if posts_frame.height:
        insert_frame(con, "posts", posts_frame)


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    """One more than the highest load id recorded (1 for an empty history)."""
    return con.sql("SELECT coalesce(max(load_id), 0) + 1 FROM loads").fetchall()[0][0]


def record_load(con: duckdb.DuckDBPyConnection, **row: object) -> None:
    """Add one row to ``loads``; columns not given are NULL, row counts 0."""
    defaults = {"rows_already": 0, "rows_rejected": 0}
    row = defaults | row
    frame = pl.DataFrame(
        [row],
        schema_overrides={
            "contract_ids": pl.List(pl.String),
            "loaded_at": pl.Datetime("us"),
            **{k: pl.Int64 for k in row if k.startswith("rows") or k == "load_id"},
        },
    )
    insert_frame(con, "loads", frame)


def with_contract_key(tickets: pl.DataFrame) -> pl.DataFrame:
    """Tickets with :data:`CLUSTER_KEY` added (:func:`contract_key` of each row's contract)."""
    keys = {cid: contract_key(cid) for cid in tickets["contract_id"].drop_nulls().unique()}
    key = pl.col("contract_id").replace_strict(keys, return_dtype=pl.Int64).alias(CLUSTER_KEY)
    return tickets.with_columns(key)


def clustered(tickets: pl.DataFrame) -> pl.DataFrame:
    """Tickets with :data:`CLUSTER_KEY` added, ordered by it and receipt time (the layout the
    zone maps need; see the module text)."""
    return with_contract_key(tickets).sort(CLUSTER_KEY, "received_at", maintain_order=True)


def _contract_filter(contract_ids: Sequence[str]) -> tuple[str, dict[str, object]]:
    """A WHERE condition on tickets for ``contract_ids``: the key (which the zone maps can prune
    on) and the id (which decides), with its bound parameters."""
    params: dict[str, object] = {}
    keys, ids = [], []
    for i, cid in enumerate(contract_ids):
        params[f"k{i}"], params[f"c{i}"] = contract_key(cid), cid
        keys.append(f"$k{i}")
        ids.append(f"$c{i}")
    if not ids:
        return "FALSE", params
    return f"{CLUSTER_KEY} IN ({', '.join(keys)}) AND contract_id IN ({', '.join(ids)})", params


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Make the tables this Seatscore writes (inside the caller's transaction): first the columns
    a newer Seatscore added are added to an older database (:func:`_add_new_columns`), then
    demo-only tables an older one made otherwise are dropped (:func:`_drop_outdated_tables`)."""
    _add_new_columns(con)
    _drop_outdated_tables(con)
    con.execute(SCHEMA)
    comment_schema(con, SCHEMA)


def _add_new_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Columns a newer Seatscore added, added in place to a database an older one made (no row
    is lost): ``loads.contract_option``, a ledger's optional columns (tickets' ``due_at``), and
    each ledger's ``load_id``, whose load is found from the row's file and sheet (the active load
    of that path: the rule that held when it was loaded)."""
    existing = {
        r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()
    }
    if "loads" in existing:
        columns = [r[0] for r in con.sql("DESCRIBE loads").fetchall()]
        if "contract_option" not in columns:
            con.execute("ALTER TABLE loads ADD COLUMN contract_option VARCHAR")
    if "quarantine" in existing:
        columns = [r[0] for r in con.sql("DESCRIBE quarantine").fetchall()]
        for name, sql_type in (("source_line", "INTEGER"), ("row_key", "VARCHAR")):
            if name not in columns:
                con.execute(f"ALTER TABLE quarantine ADD COLUMN {name} {sql_type}")
    for kind in KINDS.values():
        if kind.table not in existing:
            continue
        columns = [r[0] for r in con.sql(f"DESCRIBE {kind.table}").fetchall()]
        added = [c for c in kind.columns if c.name not in columns and not c.required]
        for c in added:
            con.execute(f"ALTER TABLE {kind.table} ADD COLUMN {c.name} {_sql_type(c.dtype)}")
        now = {*columns, *(c.name for c in added)}
        if "load_id" in now or now != set(_table_columns(kind)) - {"load_id"}:
            continue
        con.execute(f"ALTER TABLE {kind.table} ADD COLUMN load_id BIGINT")
        if "loads" in existing:
            con.execute(
                f"""UPDATE {kind.table} AS t SET load_id = l.load_id FROM loads AS l
                    WHERE l.kind = ? AND l.source = t.source AND l.path = t.source_file
                      AND l.sheet IS NOT DISTINCT FROM t.source_sheet AND l.replaced_by IS NULL""",
                [kind.name],
            )


@functools.cache
def _expected_columns() -> dict[str, list[str]]:
    """Each table's columns as this Seatscore makes them (read from the DDL once)."""
    expected = {kind.table: _table_columns(kind) for kind in KINDS.values()}
    scratch = duckdb.connect()
    try:
        scratch.execute(CONTRACT_SCHEMA)
        for table in ("contracts", "posts", "loads", "load_rows", "quarantine"):
            expected[table] = [r[0] for r in scratch.sql(f"DESCRIBE {table}").fetchall()]
    finally:
        scratch.close()
    return expected


def _drop_outdated_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop a ledger table (or the load history) made by an older Seatscore (other columns) if it
    holds only demo rows.

    Raises :class:`~seatscore.core.errors.SeatscoreError` when such a table holds other rows: they
    would be lost, so the user decides.
    """
    existing = {
        r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()
    }
    for table, columns in _expected_columns().items():
        if table not in existing or table in ("contracts", "posts", "load_rows"):
            continue  # contracts are reloaded by every build; load_rows came with load_id
        described = [r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()]
        if set(described) == set(columns):  # queries name their columns: order does not matter
            continue
        others = (
            query(
                con,
                f"SELECT count(*) AS n FROM {table} WHERE source <> $source",
                source=DEMO_SOURCE,
            )["n"][0]
            if "source" in described
            else con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        )
        if others:
            raise SeatscoreError(
                f"table {table} was made by an older Seatscore and holds {others} non-demo "
                "rows; export them, delete the database file, and build again"
            )
        con.execute(f"DROP TABLE {table}")


def rebuild_reasons(
    con: duckdb.DuckDBPyConnection, contracts: dict[str, Contract], contracts_dir: Path
) -> list[str]:
    """Why ``seatscore build`` must run again before this Seatscore uses the database; empty when
    it need not (what an upgrade tells its user, ``seatscore build --check``).

    ``contracts`` are the params files of ``contracts_dir`` as this Seatscore reads them. Reasons,
    one sentence each: a table whose columns are not those this Seatscore makes (and that opening
    the database does not add in place: a ledger's ``load_id``, ``loads.contract_option``); a
    contract stored in a form this Seatscore cannot read, or read differently from its params file
    now (a new term, a new default); a params file changed since the build, added or removed.
    Nothing is written.
    """
    reasons: list[str] = []
    existing = {
        r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()
    }
    # Added in place when the database is next opened for writing (_add_new_columns).
    addable = {"load_id", "contract_option", "source_line", "row_key"} | {
        c.name for kind in KINDS.values() for c in kind.columns if not c.required
    }
    for table, columns in _expected_columns().items():
        if table not in existing:
            continue
        described = set(r[0] for r in con.sql(f"DESCRIBE {table}").fetchall())
        if described - set(columns) or set(columns) - described - addable:
            reasons.append(f"table {table} has the columns of another Seatscore version")
    if "contracts" not in existing:
        return [*reasons, "the database holds no contracts"]
    stored = query(con, "SELECT contract_id, params_sha256, terms_json FROM contracts")
    stored_by_id = {r["contract_id"]: r for r in stored.iter_rows(named=True)}
    for cid, contract in sorted(contracts.items()):
        row = stored_by_id.get(cid)
        if row is None:
            reasons.append(f"contract {cid} (params/contracts/{cid}.yaml) is not in the database")
            continue
        params_file = contracts_dir / f"{cid}.yaml"
        if params_file.exists() and row["params_sha256"] != params_sha256(params_file):
            reasons.append(f"{display_path(params_file)} changed since the last build")
            continue
        try:
            as_stored = Contract.model_validate_json(row["terms_json"])
        except ValidationError:
            reasons.append(f"contract {cid} is stored in a form this Seatscore cannot read")
            continue
        if as_stored != contract:
            reasons.append(f"this Seatscore reads contract {cid}'s params differently")
    demo_only = set(
        query(
            con,
            "SELECT contract_id FROM contracts WHERE contract_id NOT IN ("
            + " UNION ".join(
                f"SELECT contract_id FROM {t} WHERE source <> '{DEMO_SOURCE}'"
                for t in LEDGER_TABLES
                if t in existing
            )
            + ")"
            if any(t in existing for t in LEDGER_TABLES)
            else "SELECT contract_id FROM contracts",
        )["contract_id"]
    )
    for cid in sorted(set(stored_by_id) - set(contracts)):
        if cid in demo_only:
            reasons.append(f"contract {cid} is in the database but its params file is gone")
    return reasons


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(config.ROOT))
    except ValueError:
        return str(path)


def query(con: duckdb.DuckDBPyConnection, sql: str, **params: object) -> pl.DataFrame:
    """Run ``sql`` with named, bound parameters (``$contract_id``) and return a Polars frame."""
    return con.sql(sql, params=params or None).pl()


def load_contract(con: duckdb.DuckDBPyConnection, contract_id: str) -> Contract:
    """The contract terms as the database holds them.

    Raises :class:`~seatscore.core.errors.UnknownContract` naming the contracts it does hold.
    """
    found = query(
        con,
        "SELECT terms_json FROM contracts WHERE contract_id = $contract_id",
        contract_id=contract_id,
    )
    if found.is_empty():
        known = query(con, "SELECT contract_id FROM contracts ORDER BY 1")["contract_id"]
        raise UnknownContract(
            f"no contract {contract_id!r} in the database; known: {', '.join(known)}"
        )
    return _stored_contract(contract_id, found["terms_json"][0])


def _stored_contract(contract_id: str, terms_json: str) -> Contract:
    try:
        return Contract.model_validate_json(terms_json)
    except ValidationError as exc:
        raise SeatscoreError(
            f"the database holds contract {contract_id!r} as an older Seatscore wrote it "
            f"({exc.error_count()} field(s) differ, e.g. {exc.errors()[0]['loc']}); "
            "run `seatscore build` again to reload the params files"
        ) from exc


def load_contracts(con: duckdb.DuckDBPyConnection) -> dict[str, Contract]:
    """Every contract the database holds, keyed by id. Raises
    :class:`~seatscore.core.errors.SeatscoreError` when they were stored by an older Seatscore."""
    rows = query(con, "SELECT contract_id, terms_json FROM contracts ORDER BY contract_id")
    return {
        r["contract_id"]: _stored_contract(r["contract_id"], r["terms_json"])
        for r in rows.iter_rows(named=True)
    }


def latest_month_with_data(con: duckdb.DuckDBPyConnection, contract_id: str) -> str | None:
    """The latest month (YYYY-MM) with an attendance, roster, deduction, ticket or KPI row of the
    contract; None when it has none. The month reports and the analysts' notebook default to."""
    found = query(
        con,
        """SELECT max(day) AS day FROM (
               SELECT max(service_date) AS day FROM staffing_daily WHERE contract_id = $cid UNION ALL
               SELECT max(service_date) FROM roster WHERE contract_id = $cid UNION ALL
               SELECT max(event_date) FROM deduction_events WHERE contract_id = $cid UNION ALL
               SELECT max(strptime(month || '-01', '%Y-%m-%d'))::DATE FROM kpi_monthly
                 WHERE contract_id = $cid UNION ALL
               SELECT max(received_at)::DATE FROM tickets WHERE contract_id = $cid
                 AND contract_key = $key)""",
        cid=contract_id,
        key=contract_key(contract_id),
    )
    day = found["day"][0]
    return month_key(day) if day is not None else None


def tickets_query(
    contract_ids: Sequence[str], columns: Sequence[str] = STATE_COLUMNS, month: str | None = None
) -> tuple[str, dict[str, object]]:
    """The SQL (and its bound parameters) :func:`read_tickets` runs; for ``EXPLAIN ANALYZE``.

    Raises ``ValueError`` for a month not written YYYY-MM."""
    where, params = _contract_filter(contract_ids)
    if month is not None:
        params |= {"start": parse_month(month), "end": parse_month(shift_month(month, 1))}
        where += " AND received_at >= $start AND received_at < $end"
    return f"SELECT {', '.join(columns)} FROM tickets WHERE {where}", params


def read_tickets(
    con: duckdb.DuckDBPyConnection,
    contract_ids: Sequence[str],
    columns: Sequence[str] = STATE_COLUMNS,
    month: str | None = None,
) -> pl.DataFrame:
    """The tickets of ``contract_ids`` (of their received ``month``, YYYY-MM, if given), only
    ``columns`` (default: what the service-level measures read), in table order.

    The table is kept ordered by contract key and receipt time (:func:`build`), so DuckDB's zone
    maps skip every row group outside the contract and month asked for. Raises ``ValueError`` for
    a month not written YYYY-MM.
    """
    sql, params = tickets_query(contract_ids, columns, month)
    return query(con, sql, **params)


def tickets_as_of(con: duckdb.DuckDBPyConnection, contract_id: str) -> dt.datetime | None:
    """The latest time a contract's tickets record (receipt, dispatch, reply, close, arrival):
    the ``as_of`` its open tickets are judged at (:func:`seatscore.compute.service_levels.ticket_kpis`),
    also when only one month of its tickets is read."""
    latest = ", ".join(f"max({c})" for c in TIME_COLUMNS)
    where, params = _contract_filter([contract_id])
    return query(con, f"SELECT greatest({latest}) AS t FROM tickets WHERE {where}", **params)["t"][
        0
    ]


def ledgers(con: duckdb.DuckDBPyConnection, contract_id: str) -> dict[str, pl.DataFrame]:
    """The ledgers of one contract, one frame per kind of :data:`seatscore.ledgers.kinds.KINDS`:
    ``staffing`` (attendance), ``roster``, ``deductions``, ``penalties``, ``tickets``,
    ``payments`` (what :func:`seatscore.compute.metrics.monthly_metrics` reads) and ``kpis`` (the
    vendor's reported figures, which a statement's findings compare with the tickets)."""
    return {k: ledger(con, k, contract_id) for k in KINDS}


def ledger(con: duckdb.DuckDBPyConnection, kind: str, contract_id: str) -> pl.DataFrame:
    """One contract's rows of a ledger kind: the kind's canonical columns, then ``source``,
    ``source_file``, ``source_sheet`` and ``source_row`` (where each row came from, for tracing a
    figure back to the ledger). A kind whose table an older database lacks (made when it is next
    opened for writing) has no rows."""
    spec = KINDS[kind]
    tables = con.sql(
        "SELECT 1 FROM information_schema.tables WHERE table_name = $t", params={"t": spec.table}
    ).fetchall()
    if not tables:
        schema = {**spec.schema, "source": pl.String}
        schema |= {c: pl.String for c in PROVENANCE_COLUMNS}
        schema["source_row"] = pl.Int32
        return pl.DataFrame(schema=schema)
    columns = ", ".join([*(c.name for c in spec.columns), "source", *PROVENANCE_COLUMNS])
    where, params = _contract_filter([contract_id])
    if kind != "tickets":
        where, params = "contract_id = $c0", {"c0": contract_id}
    return query(
        con,
        f"SELECT {columns} FROM {spec.table} WHERE {where} ORDER BY source_file, source_row",
        **params,
    )
