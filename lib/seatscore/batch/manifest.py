"""What each rendered report was made from, so a run renders again only what changed.

``reports/manifest.json`` maps each report (``<YYYY-MM>/<contract_id>.html``) to the SHA-256 of its
inputs and their parts::

    {"version": 1, "reports": {"2024-10/karamay-grid-2024.html": {
        "inputs": "<sha256>", "rendered_at": "2026-11-21T14:05:00+08:00",
        "parts": {"contract": "...", "data": "...", "notebook": "...", "code": "..."}}}}

The parts: the contract's terms as the database holds them (its params file's SHA-256 and the
validated terms), **all** the contract's ledger rows (a month's report also draws the trend of every
month and the termination triggers over consecutive months, so a change in any month of the
contract renders all its months again, and no other contract's), the report notebook, and the code
(every file of the package, ``params/analysis.yaml`` and the versions of the libraries that
compute and draw the report, the working-day calendar included). A report whose
entry matches and whose file exists is skipped; a failed report has no entry, so it is tried again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

import duckdb

from seatscore.core import config
from seatscore.core.config import TIMEZONE
from seatscore.core.digest import code_digest, sha256_of
from seatscore.core.files import atomic_write
from seatscore.ledgers import store as db

MANIFEST = "manifest.json"
VERSION = 1


def notebook_digest(notebook: Path = config.REPORT_NOTEBOOK) -> str:
    return sha256_of(Path(notebook).read_bytes())


def contract_digests(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """Per contract id: (digest of its terms, digest of all its ledger rows).

    Rows are hashed with DuckDB's ``hash`` of the whole row and summed, so the digest does not
    depend on row order; the count and the DuckDB version are part of it."""
    terms = db.query(con, "SELECT contract_id, params_sha256, terms_json FROM contracts")
    data: dict[str, list[str]] = {cid: [] for cid in terms["contract_id"]}
    for table in db.LEDGER_TABLES:
        rows = db.query(
            con,
            f"""SELECT contract_id, count(*) AS n, sum(hash(t)::HUGEINT)::VARCHAR AS h
                FROM {table} AS t GROUP BY contract_id""",
        )
        for cid, n, h in rows.iter_rows():
            data.setdefault(cid, []).append(f"{table}:{n}:{h}")
    return {
        cid: (sha256_of(sha, terms_json), sha256_of(duckdb.__version__, *sorted(data.get(cid, []))))
        for cid, sha, terms_json in terms.iter_rows()
    }


def load(out_dir: Path) -> dict:
    """The manifest in ``out_dir`` (an empty one when missing or unreadable: all render again)."""
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"version": VERSION, "reports": {}}
    if manifest.get("version") != VERSION or not isinstance(manifest.get("reports"), dict):
        return {"version": VERSION, "reports": {}}
    return manifest


def report_key(contract_id: str, month: str) -> str:
    return f"{month}/{contract_id}.html"


def entries(
    jobs: Iterable,
    db_path: Path,
    notebook: Path = config.REPORT_NOTEBOOK,
    states: dict[tuple[str, str], dict] | None = None,
) -> dict[str, dict]:
    """The manifest entry each job's report would get now (``inputs`` and ``parts``), by key.

    A closed month's report depends on its statement's version only (``states``:
    :func:`seatscore.batch.render.prepare_statements`): a closed month is never rendered again for
    new rows, new code or a new notebook, only for a correction (a new version)."""
    with db.connect(db_path, read_only=True) as con:
        digests = contract_digests(con)
    code, book = code_digest(), notebook_digest(notebook)
    states = states or {}
    found = {}
    for job in jobs:
        state = states.get((job.contract_id, job.month), {})
        if state.get("status") == "closed":
            parts = {"closed": "closed", "version": str(state["version"])}
        else:
            contract, data = digests.get(job.contract_id, ("", ""))
            parts = {"contract": contract, "data": data, "notebook": book, "code": code}
        found[report_key(job.contract_id, job.month)] = {
            "inputs": sha256_of(job.contract_id, job.month, *parts.values()),
            "parts": parts,
        }
    return found


def keep_previous_version(manifest: dict, key: str, entry: dict, out_dir: Path) -> Path | None:
    """Before a closed month's report is rendered as a new version, keep the report of the
    version it replaces as ``<id>.v<N>.html`` (never overwritten). Returns the kept path."""
    recorded = manifest["reports"].get(key, {}).get("parts", {})
    new = entry["parts"].get("version")
    old = recorded.get("version")
    report = out_dir / key
    if new is None or old is None or old == new or not report.exists():
        return None
    kept = report.with_name(f"{report.stem}.v{old}.html")
    if not kept.exists():
        report.rename(kept)
    return kept


def unchanged(manifest: dict, key: str, entry: dict, out_dir: Path) -> bool:
    """The report ``key`` exists and was made from the same inputs."""
    recorded = manifest["reports"].get(key)
    return bool(recorded) and recorded.get("inputs") == entry["inputs"] and (out_dir / key).exists()


def save(out_dir: Path, manifest: dict, rendered: dict[str, dict], failed: Iterable[str]) -> None:
    """Record the reports just ``rendered`` (key → entry), forget the ``failed`` ones, and write
    the manifest atomically."""
    now = dt.datetime.now(TIMEZONE).isoformat(timespec="seconds")
    reports = dict(manifest["reports"])
    for key, entry in rendered.items():
        reports[key] = {**entry, "rendered_at": now}
    for key in failed:
        reports.pop(key, None)
    text = json.dumps({"version": VERSION, "reports": dict(sorted(reports.items()))}, indent=1)
    atomic_write(out_dir / MANIFEST, text + "\n")
