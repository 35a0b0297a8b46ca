"""Batch rendering: the report notebook, once per contract-month, through papermill to HTML.

Each report is executed by papermill into a temporary notebook, exported with nbconvert without
code, and written to ``reports/<YYYY-MM>/<contract_id>.html`` through a temporary file and a rename,
so a report is complete or absent. A report that fails keeps papermill's executed notebook next to
where the HTML would be (``<contract_id>.failed.ipynb``) and does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

import jinja2
import nbformat
import papermill
import zmq
from jupyter_client.manager import AsyncKernelManager
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from tqdm import tqdm

from seatscore import __version__, config, db
from seatscore.config import TIMEZONE
from seatscore.contracts import Contract
from seatscore.errors import SeatscoreError
from seatscore.metrics import monthly_metrics
from seatscore.money import format_cny
from seatscore.periods import month_key, parse_month, service_months

KERNEL = "python3"


class _KernelManager(AsyncKernelManager):
    """Encrypts the kernel's local sockets (CurveZMQ) where the kernel supports it.

    ipykernel ≥ 7.3 warns on every start over unencrypted TCP, which buries the progress bar.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if zmq.has("curve"):
            self.transport_encryption = "auto"


@dataclass(frozen=True)
class RenderJob:
    contract_id: str
    month: str


@dataclass(frozen=True)
class RenderResult:
    job: RenderJob
    path: Path | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def notebook_parameters(notebook: Path = config.REPORT_NOTEBOOK) -> set[str]:
    """The names declared in the notebook's ``parameters`` cell."""
    return set(papermill.inspect_notebook(str(notebook)))


def check_parameters(parameters: dict, notebook: Path = config.REPORT_NOTEBOOK) -> None:
    """Raise :class:`SeatscoreError` for a parameter the notebook does not declare."""
    declared = notebook_parameters(notebook)
    unknown = sorted(set(parameters) - declared)
    if unknown:
        raise SeatscoreError(
            f"{notebook.name} has no parameter(s) {', '.join(unknown)}; "
            f"it declares {', '.join(sorted(declared))}"
        )


def _contracts_in_db(db_path: Path) -> dict[str, Contract]:
    with db.connect(db_path, read_only=True) as con:
        rows = db.query(con, "SELECT contract_id, terms_json FROM contracts ORDER BY contract_id")
    return {
        r["contract_id"]: Contract.model_validate_json(r["terms_json"])
        for r in rows.iter_rows(named=True)
    }


def _latest_month_with_data(db_path: Path, contract_id: str) -> str | None:
    with db.connect(db_path, read_only=True) as con:
        found = db.query(
            con,
            """SELECT max(day) AS day FROM (
                   SELECT max(service_date) AS day FROM staffing_daily WHERE contract_id = $cid UNION ALL
                   SELECT max(event_date) FROM deduction_events WHERE contract_id = $cid UNION ALL
                   SELECT max(received_at)::DATE FROM tickets WHERE contract_id = $cid)""",
            cid=contract_id,
        )
    day = found["day"][0]
    return month_key(day) if day is not None else None


def plan_jobs(
    db_path: Path, month: str | None = None, contract_ids: list[str] | None = None
) -> list[RenderJob]:
    """The contract-months to render.

    ``month``: ``None`` (each contract's latest month with data), ``"all"`` (every month of each
    service period), ``"last"`` (the previous calendar month in Asia/Shanghai) or ``"YYYY-MM"``.
    Contracts whose service period does not include a named month are skipped.
    Raises :class:`SeatscoreError` for an unknown contract id or a malformed month.
    """
    contracts = _contracts_in_db(db_path)
    chosen = contract_ids or sorted(contracts)
    unknown = [c for c in chosen if c not in contracts]
    if unknown:
        raise SeatscoreError(
            f"unknown contract(s) {', '.join(unknown)}; the database holds {', '.join(sorted(contracts))}"
        )
    if month == "last":
        today = dt.datetime.now(TIMEZONE).date()
        month = month_key(today.replace(day=1) - dt.timedelta(days=1))
    elif month not in (None, "all"):
        parse_month(month)
    jobs = []
    for cid in chosen:
        months = service_months(contracts[cid].service_period)["month"].to_list()
        if month == "all":
            wanted = months
        elif month is None:
            latest = _latest_month_with_data(db_path, cid)
            wanted = [latest] if latest in months else []
        else:
            wanted = [month] if month in months else []
        jobs += [RenderJob(cid, m) for m in wanted]
    return jobs


def _exporter() -> HTMLExporter:
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={"remove_cell"}, enabled=True), enabled=True
    )
    return exporter


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for others to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_one(job: RenderJob, db_path: Path, out_dir: Path = config.REPORTS_DIR) -> RenderResult:
    """Execute and export one report. Never raises for a failing notebook: see ``error``."""
    target = out_dir / job.month / f"{job.contract_id}.html"
    failed = target.with_suffix(".failed.ipynb")
    parameters = {
        "contract_id": job.contract_id,
        "month": job.month,
        "db_path": str(Path(db_path).resolve()),
        "chart_renderer": "svg",
    }
    check_parameters(parameters)
    with tempfile.TemporaryDirectory(prefix="seatscore-") as tmp:
        executed = Path(tmp) / f"{job.contract_id}-{job.month}.ipynb"
        try:
            papermill.execute_notebook(
                str(config.REPORT_NOTEBOOK),
                str(executed),
                parameters=parameters,
                kernel_name=KERNEL,
                kernel_manager_class=_KernelManager,
                progress_bar=False,
                cwd=str(config.NOTEBOOKS_DIR),
            )
        except Exception as exc:  # papermill raises PapermillExecutionError and kernel errors
            failed.parent.mkdir(parents=True, exist_ok=True)
            if executed.exists():
                os.replace(executed, failed)
            message = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
            return RenderResult(job, None, message)
        notebook = nbformat.read(executed, as_version=4)
        notebook.metadata["title"] = f"{job.contract_id} {job.month}"
        body, _ = _exporter().from_notebook_node(notebook)
        _atomic_write(target, body)
        failed.unlink(missing_ok=True)
    return RenderResult(job, target)


def render_all(
    jobs: list[RenderJob], db_path: Path, out_dir: Path = config.REPORTS_DIR, progress: bool = True
) -> list[RenderResult]:
    """Render every job in turn with one progress bar, then rewrite the index."""
    results = []
    for job in tqdm(jobs, desc="报告", unit="份", disable=not progress):
        try:
            results.append(render_one(job, db_path, out_dir))
        except SeatscoreError:
            raise
        except Exception as exc:  # an export or write failure must not stop the other reports
            results.append(
                RenderResult(
                    job, None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=2)}"
                )
            )
    write_index(db_path, out_dir, results)
    return results


def write_index(db_path: Path, out_dir: Path, results: list[RenderResult]) -> Path:
    """``reports/index.html``: every report on disk, by month and contract, with score and payable.

    Reports that failed in this run are listed with their error.
    """
    contracts = _contracts_in_db(db_path)
    failures = {(r.job.contract_id, r.job.month): r.error for r in results if not r.ok}
    rows = []
    with db.connect(db_path, read_only=True) as con:
        for cid, contract in sorted(contracts.items()):
            months = monthly_metrics(contract, **db.ledgers(con, cid)).months
            for r in months.iter_rows(named=True):
                path = out_dir / r["month"] / f"{cid}.html"
                error = failures.get((cid, r["month"]))
                if not path.exists() and error is None:
                    continue
                rows.append(
                    {
                        "month": r["month"],
                        "contract_id": cid,
                        "title": contract.title_zh,
                        "vendor": contract.vendor.name,
                        "href": f"{r['month']}/{cid}.html"
                        if path.exists() and error is None
                        else None,
                        "score": f"{r['score']:.1f}" if r["score"] is not None else "—",
                        "payable": format_cny(r["payable_cny"]),
                        "cost_per_seat": format_cny(r["cost_per_seat_month_payable_cny"]),
                        "error": error,
                    }
                )
    listed = {(r["contract_id"], r["month"]) for r in rows}
    for (cid, month), error in failures.items():
        if (cid, month) not in listed:  # e.g. a month outside the service period
            contract = contracts.get(cid)
            rows.append(
                {
                    "month": month,
                    "contract_id": cid,
                    "title": contract.title_zh if contract else cid,
                    "vendor": contract.vendor.name if contract else "—",
                    "href": None,
                    "score": "—",
                    "payable": "—",
                    "cost_per_seat": "—",
                    "error": error,
                }
            )
    rows.sort(key=lambda r: (r["month"], r["contract_id"]), reverse=True)
    by_month: dict[str, list[dict]] = {}
    for r in rows:
        by_month.setdefault(r["month"], []).append(r)
    env = jinja2.Environment(loader=jinja2.PackageLoader("seatscore", "templates"), autoescape=True)
    text = env.get_template("index.html.j2").render(
        by_month=by_month,
        generated=dt.datetime.now(TIMEZONE).strftime("%Y-%m-%d %H:%M"),
        version=__version__,
    )
    target = out_dir / "index.html"
    _atomic_write(target, text)
    return target


def summarise(results: list[RenderResult]) -> str:
    ok = sum(r.ok for r in results)
    lines = [f"rendered {ok} of {len(results)} report(s)"]
    lines += [f"FAILED {r.job.contract_id} {r.job.month}: {r.error}" for r in results if not r.ok]
    return "\n".join(lines)
