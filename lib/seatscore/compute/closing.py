"""Monthly statements computed once, stored, closed in order, and never silently rewritten.

A contract-month's statement is the ``seatscore score --json`` document
(:func:`seatscore.compute.statement.statement_as_of`: the month as known at its end), stored in the
``statements`` table with the SHA-256 of its inputs and the time it was computed. In government
finance a month's assessment is agreed, then closed; what is found later is settled in a later
month, never by rewriting the closed one:

- **Open** months are recomputed when their inputs change (:func:`refresh`).
- :func:`close` finalises a month (months close in order) and records which ledger rows it was
  made from (``closed_rows``: a SHA-1 of each row's canonical values).
- **Late findings.** A row dated in a closed month but not among the rows it was closed with is
  kept and settled as an **adjustment** in the first open month: money only, the closed month's
  score stands. Each adjustment line cites the original month, rule, clause and ledger rows, and
  its money is what the closed month's payable would have been lower (000: 0.5 points = 500.00;
  003: the closed month's fee × the points %).
- **Corrections.** When a closed month's figures change with the rows it was closed with (the
  params corrected, a rule reading fixed), a new version of its statement is stored with what
  changed; earlier versions are kept (and their reports, as ``<id>.v1.html``).

Statements are computed by :func:`refresh` before reports are rendered; the report, the index,
delivery and ``seatscore score`` read them (:func:`stored`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import duckdb
import polars as pl

from seatscore.compute.metrics import month_end
from seatscore.compute.statement import statement_as_of
from seatscore.core.config import TIMEZONE
from seatscore.core.errors import SeatscoreError
from seatscore.ledgers import store as db
from seatscore.ledgers.kinds import as_of, row_sha1
from seatscore.terms.contracts import Contract
from seatscore.terms.periods import service_months

DDL = """
-- Each month's statement as known at its end (the figures every report, the index and the email show); a closed month keeps its versions.
CREATE TABLE IF NOT EXISTS statements (
    contract_id VARCHAR NOT NULL,       -- the contract (contracts.contract_id)
    month VARCHAR NOT NULL,             -- YYYY-MM
    version INTEGER NOT NULL,           -- 1, then one more per correction of a closed month
    status VARCHAR NOT NULL,            -- open | closed
    computed_at TIMESTAMP NOT NULL,     -- Beijing time
    closed_at TIMESTAMP,                -- when it was closed (Beijing time); NULL while open
    inputs_sha256 VARCHAR NOT NULL,     -- terms, code and ledger rows the statement was made from
    score VARCHAR,                      -- points as a decimal string; NULL without a points sheet
    payable_cny DECIMAL(14, 2),         -- after adjustments; NULL: not assessable
    adjustments_cny DECIMAL(14, 2) NOT NULL,  -- late findings of closed months settled here
    document JSON NOT NULL,             -- the `seatscore score --json` document
    changes JSON,                       -- version > 1: what changed from the previous version
    PRIMARY KEY (contract_id, month, version)
);
-- The ledger rows each closed month was closed with (a later row is a late finding, not a change).
CREATE TABLE IF NOT EXISTS closed_rows (
    contract_id VARCHAR NOT NULL,       -- the contract
    kind VARCHAR NOT NULL,              -- the ledger kind
    row_sha1 VARCHAR NOT NULL,          -- of the row's canonical values
    closed_month VARCHAR NOT NULL       -- the month whose closing first included it
);
"""

FIGURES = ("score", "points_lost", "fee_deduction_cny", "penalties_cny", "payable_cny")
"""The figures a correction compares (with the lines' rule, quantity, points and money)."""


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)
    db.comment_schema(con, DDL)


def _now() -> dt.datetime:
    return dt.datetime.now(TIMEZONE).replace(tzinfo=None)


def _closed_hashes(
    con: duckdb.DuckDBPyConnection, contract_id: str, through: str | None = None
) -> dict[str, set[str]]:
    sql = "SELECT kind, row_sha1 FROM closed_rows WHERE contract_id = $cid"
    params: dict = {"cid": contract_id}
    if through is not None:
        sql += " AND closed_month <= $m"
        params["m"] = through
    found: dict[str, set[str]] = {}
    for kind, sha in db.query(con, sql, **params).rows():
        found.setdefault(kind, set()).add(sha)
    return found


def rows_at_close(
    con: duckdb.DuckDBPyConnection, contract_id: str, ledgers: dict[str, pl.DataFrame], month: str
) -> dict[str, pl.DataFrame]:
    """The rows of ``ledgers`` that closed months up to ``month`` were closed with: what a
    closed month's report shows, whatever arrived later."""
    return _only(ledgers, _closed_hashes(con, contract_id, month))


def _only(ledgers: dict[str, pl.DataFrame], hashes: dict[str, set[str]]) -> dict:
    """The rows of ``ledgers`` whose hash is in ``hashes``."""
    out = {}
    for kind, frame in ledgers.items():
        keep = hashes.get(kind, set())
        mask = pl.Series([h in keep for h in row_sha1(kind, frame)], dtype=pl.Boolean)
        out[kind] = frame.filter(mask) if frame.height else frame
    return out


def inputs_sha256(contract: Contract, ledgers: dict[str, pl.DataFrame], month: str) -> str:
    """SHA-256 of the terms, the code (:func:`seatscore.core.digest.code_digest`) and every ledger
    row dated in or before ``month`` (row order does not matter)."""
    from seatscore.core.digest import code_digest

    digest = hashlib.sha256()
    digest.update(contract.model_dump_json().encode("utf-8"))
    digest.update(code_digest().encode("utf-8"))
    end = month_end(month)
    for kind in sorted(ledgers):
        for sha in sorted(row_sha1(kind, as_of(kind, ledgers[kind], end))):
            digest.update(f"{kind}:{sha}".encode())
    return digest.hexdigest()


def latest(con: duckdb.DuckDBPyConnection, contract_id: str) -> pl.DataFrame:
    """The latest version of each stored month: the ``statements`` columns."""
    return db.query(
        con,
        """SELECT * FROM statements WHERE contract_id = $cid
           QUALIFY version = max(version) OVER (PARTITION BY month) ORDER BY month""",
        cid=contract_id,
    )


def _key(doc: dict) -> dict:
    """What a correction compares: the figures and the lines' rule, size and money."""
    lines = sorted(
        (line["kind"], line["rule_id"], line["quantity"], line["points"], line["amount_cny"])
        for line in doc["lines"]
    )
    return {**{k: doc.get(k) for k in FIGURES}, "lines": lines}


def _changes(old: dict, new: dict) -> list[dict]:
    a, b = _key(old), _key(new)
    out = [{"field": k, "was": a[k], "now": b[k]} for k in FIGURES if a[k] != b[k]]
    if a["lines"] != b["lines"]:
        gone = [x for x in a["lines"] if x not in b["lines"]]
        added = [x for x in b["lines"] if x not in a["lines"]]
        out.append({"field": "lines", "was": gone, "now": added})
    return out


def _adjustments(
    contract: Contract,
    ledgers: dict[str, pl.DataFrame],
    closed: dict[str, set[str]],
    closed_months: list[str],
) -> list[dict]:
    """Late findings for each closed month: the current rows against those already closed."""
    out = []
    baseline = _only(ledgers, closed)
    for month in closed_months:
        was = statement_as_of(contract, baseline, month)
        now = statement_as_of(contract, ledgers, month)
        if was["payable_cny"] is None or now["payable_cny"] is None:
            continue
        delta = Decimal(was["payable_cny"]) - Decimal(now["payable_cny"])
        if not delta:
            continue
        old = [
            (ln["rule_id"], ln["quantity"], ln["points"], ln["amount_cny"]) for ln in was["lines"]
        ]
        found = [
            ln
            for ln in now["lines"]
            if (ln["rule_id"], ln["quantity"], ln["points"], ln["amount_cny"]) not in old
        ]
        rules = "、".join(f"{ln['name_zh']}（{ln['clause']}）" for ln in found) or "重算差额"
        rows = [r for ln in found for r in ln["rows"]]
        out.append(
            {
                "original_month": month,
                "rule_ids": [ln["rule_id"] for ln in found],
                "detail_zh": f"{month} 已结账后发现：{rules}；{month} 的得分不变，金额在本月调整",
                "clauses": sorted({ln["clause"] for ln in found}),
                "amount_cny": f"{delta:.2f}",
                "rows": rows,
            }
        )
    return out


def refresh(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    ledgers: dict[str, pl.DataFrame],
    today: dt.date | None = None,
) -> int:
    """Store the statement of every ended month of ``contract`` whose inputs changed (open
    months), a new version of every closed month whose figures changed with the rows it was
    closed with (a correction), and the late findings in the first open month. Returns how
    many statements were written."""
    ensure(con)
    today = today or dt.datetime.now(TIMEZONE).date()
    cid = contract.contract_id
    months = [m for m in service_months(contract.service_period)["month"] if month_end(m) < today]
    stored = {r["month"]: r for r in latest(con, cid).iter_rows(named=True)}
    closed_months = [m for m in months if stored.get(m, {}).get("status") == "closed"]
    written = 0
    for month in closed_months:  # corrections
        at_close = _only(ledgers, _closed_hashes(con, cid, month))
        doc = statement_as_of(contract, at_close, month, today)
        old = json.loads(stored[month]["document"])
        changes = _changes(old, doc)
        if changes:
            _insert(
                con,
                cid,
                month,
                stored[month]["version"] + 1,
                "closed",
                doc,
                inputs_sha256(contract, at_close, month),
                Decimal(0),
                changes,
                closed_at=_now(),
            )
            written += 1
    closed = _closed_hashes(con, cid)
    adjustments = _adjustments(contract, ledgers, closed, closed_months) if closed_months else []
    first_open = next((m for m in months if m not in closed_months), None)
    for month in months:
        if month in closed_months:
            continue
        sha = inputs_sha256(contract, ledgers, month)
        found = adjustments if month == first_open else []
        previous = stored.get(month)
        if (
            previous is not None
            and previous["inputs_sha256"] == sha
            and (json.loads(previous["document"]).get("adjustments", []) == found)
        ):
            continue
        doc = statement_as_of(contract, ledgers, month, today)
        total = sum((Decimal(a["amount_cny"]) for a in found), Decimal(0))
        doc["adjustments"] = found
        doc["adjustments_cny"] = f"{total:.2f}"
        if doc["payable_cny"] is not None:
            doc["payable_before_adjustments_cny"] = doc["payable_cny"]
            doc["payable_cny"] = f"{Decimal(doc['payable_cny']) - total:.2f}"
        con.execute("DELETE FROM statements WHERE contract_id = ? AND month = ?", [cid, month])
        _insert(con, cid, month, 1, "open", doc, sha, total, None)
        written += 1
    return written


def _insert(con, cid, month, version, status, doc, sha, adjustments, changes, closed_at=None):
    con.execute(
        "INSERT INTO statements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            cid,
            month,
            version,
            status,
            _now(),
            closed_at,
            sha,
            doc["score"],
            Decimal(doc["payable_cny"]) if doc["payable_cny"] is not None else None,
            adjustments,
            json.dumps(doc, ensure_ascii=False),
            json.dumps(changes, ensure_ascii=False) if changes else None,
        ],
    )


def close(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    ledgers: dict[str, pl.DataFrame],
    month: str,
    today: dt.date | None = None,
) -> dict:
    """Close ``month`` of ``contract``: refresh it, mark it closed and record its rows.

    Raises :class:`SeatscoreError` when the month has not ended, is outside the service period,
    is already closed, or an earlier month is still open (months close in order).
    """
    ensure(con)
    today = today or dt.datetime.now(TIMEZONE).date()
    cid = contract.contract_id
    months = service_months(contract.service_period)["month"].to_list()
    if month not in months:
        period = contract.service_period
        raise SeatscoreError(
            f"{cid}: {month} is outside the service period {period.start} – {period.end}"
        )
    if month_end(month) >= today:
        raise SeatscoreError(f"{cid}: {month} has not ended (Beijing time); close it after it has")
    refresh(con, contract, ledgers, today)
    stored = {r["month"]: r for r in latest(con, cid).iter_rows(named=True)}
    if stored[month]["status"] == "closed":
        raise SeatscoreError(
            f"{cid}: {month} is closed already (version {stored[month]['version']})"
        )
    still_open = [m for m in months[: months.index(month)] if stored[m]["status"] != "closed"]
    if still_open:
        raise SeatscoreError(
            f"{cid}: close {still_open[0]} first; months close in order "
            f"({len(still_open)} earlier month(s) open)"
        )
    now = _now()
    con.execute(
        """UPDATE statements SET status = 'closed', closed_at = ?
           WHERE contract_id = ? AND month = ? AND version = ?""",
        [now, cid, month, stored[month]["version"]],
    )
    known = _closed_hashes(con, cid)
    end = month_end(month)
    rows = []
    for kind, frame in ledgers.items():
        for sha in set(row_sha1(kind, as_of(kind, frame, end))) - known.get(kind, set()):
            rows.append((cid, kind, sha, month))
    if rows:
        con.executemany("INSERT INTO closed_rows VALUES (?, ?, ?, ?)", rows)
    return json.loads(stored[month]["document"])


def stored(con: duckdb.DuckDBPyConnection, contract_id: str, month: str) -> dict | None:
    """The latest stored statement of the month: its document plus ``status``, ``version``,
    ``computed_at``, ``closed_at`` and ``inputs_sha256``; None when none is stored."""
    try:
        found = latest(con, contract_id).filter(pl.col("month") == month)
    except duckdb.CatalogException:
        return None
    if found.is_empty():
        return None
    r = found.row(0, named=True)
    return {
        **json.loads(r["document"]),
        "status": r["status"],
        "version": r["version"],
        "computed_at": r["computed_at"].isoformat(timespec="seconds"),
        "closed_at": r["closed_at"].isoformat(timespec="seconds") if r["closed_at"] else None,
        "inputs_sha256": r["inputs_sha256"],
    }


def listing(con: duckdb.DuckDBPyConnection, contract_id: str) -> list[dict]:
    """Every stored month (latest version): ``month``, ``status``, ``closed_at``, ``version``,
    ``score``, ``payable_cny``, ``adjustments_cny``, ``inputs_sha256``."""
    ensure(con)
    return [
        {
            "month": r["month"],
            "status": r["status"],
            "closed_at": r["closed_at"].isoformat(timespec="seconds") if r["closed_at"] else None,
            "version": r["version"],
            "score": r["score"],
            "payable_cny": f"{r['payable_cny']:.2f}" if r["payable_cny"] is not None else None,
            "adjustments_cny": f"{r['adjustments_cny']:.2f}",
            "inputs_sha256": r["inputs_sha256"],
        }
        for r in latest(con, contract_id).iter_rows(named=True)
    ]
