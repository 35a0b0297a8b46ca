"""Batch rendering: the report notebook, once per contract-month, through papermill to HTML.

Reports render in parallel, one process per core, each process executing report after report
on one warm kernel (:mod:`seatscore.batch.kernel`: no kernel start and no imports per report, the
namespace emptied between reports). Each report is executed by papermill into a temporary
notebook, exported with nbconvert without code, and written to
``reports/<YYYY-MM>/<contract_id>.html`` through a temporary file and a rename, so a report is
complete or absent. A report that fails keeps papermill's executed notebook next to where the HTML
would be (``<contract_id>.failed.ipynb``) and does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import signal
import tempfile
import threading
import traceback
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from multiprocessing import get_context, util
from pathlib import Path

import duckdb
import nbformat
import papermill
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from tqdm import tqdm
from traitlets.config import Config

from seatscore.batch import kernel, manifest
from seatscore.core import config
from seatscore.core.config import TIMEZONE
from seatscore.core.errors import SeatscoreError
from seatscore.core.files import atomic_write
from seatscore.ledgers import store as db
from seatscore.reporting import page
from seatscore.reporting.scorecard import write_index
from seatscore.terms.periods import month_key, parse_month, service_months


@dataclass(frozen=True)
class RenderJob:
    contract_id: str
    month: str


@dataclass(frozen=True)
class RenderResult:
    job: RenderJob
    path: Path | None
    error: str | None = None
    skipped: bool = False
    """True when the report on disk was made from the same inputs and was not rendered again."""

    @property
    def ok(self) -> bool:
        return self.error is None


def notebook_parameters(notebook: Path = config.REPORT_NOTEBOOK) -> set[str]:
    """The names declared in the notebook's ``parameters`` cell (read once per notebook version)."""
    return _declared(str(notebook), notebook.stat().st_mtime_ns)


@cache
def _declared(notebook: str, _mtime_ns: int) -> frozenset[str]:
    return frozenset(papermill.inspect_notebook(notebook))


def check_parameters(parameters: dict, notebook: Path = config.REPORT_NOTEBOOK) -> None:
    """Raise :class:`SeatscoreError` for a parameter the notebook does not declare."""
    declared = notebook_parameters(notebook)
    unknown = sorted(set(parameters) - declared)
    if unknown:
        raise SeatscoreError(
            f"{notebook.name} has no parameter(s) {', '.join(unknown)}; "
            f"it declares {', '.join(sorted(declared))}"
        )


def plan_jobs(
    db_path: Path,
    month: str | None = None,
    contract_ids: list[str] | None = None,
    open_month: bool = False,
    today: dt.date | None = None,
) -> list[RenderJob]:
    """The contract-months to render.

    ``month``: ``None`` (each contract's latest month with data), ``"all"`` (every month of each
    service period), ``"last"`` (the previous calendar month in Asia/Shanghai) or ``"YYYY-MM"``.
    Contracts whose service period does not include a named month are skipped, and so is a month
    that has not ended by ``today`` (Asia/Shanghai; a report is a statement of a month that is
    over) unless ``open_month`` (its report then says "本月未结束" with the data's cut-off).
    Raises :class:`SeatscoreError` for an unknown contract id or a malformed month.
    """
    today = today or dt.datetime.now(TIMEZONE).date()
    current = month_key(today)
    with db.connect(db_path, read_only=True) as con:
        contracts = db.load_contracts(con)
        chosen = contract_ids or sorted(contracts)
        latest = (
            {cid: db.latest_month_with_data(con, cid) for cid in chosen if cid in contracts}
            if month is None
            else {}
        )
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
            found = latest[cid]
            if found is not None and found >= current and not open_month:
                found = max((m for m in months if m < current), default=None)
            wanted = [found] if found in months else []
        else:
            wanted = [month] if month in months else []
        jobs += [RenderJob(cid, m) for m in wanted if open_month or m < current]
    return jobs


TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "nbconvert"


@cache
def _exporter(public_source: bool = False) -> HTMLExporter:
    """nbconvert's HTML exporter with Seatscore's template: no code, no CDN script, print CSS.
    For a public source the cells tagged ``contract_only`` (money, deductions, termination,
    staffing, payments, contract facts) are left out: it is not a contract; for a contract those
    tagged ``public_only`` (the time to close, which its own limits already cover) are."""
    exporter = HTMLExporter(
        # No code is shown: the code-highlighting stylesheet (4.5 KB) is left out.
        config=Config({"CSSHTMLHeaderPreprocessor": {"enabled": False}}),
        template_name="seatscore",
        extra_template_basedirs=[str(TEMPLATES)],
        language_code="zh",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    tags = {"remove_cell", "contract_only" if public_source else "public_only"}
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags=tags, enabled=True), enabled=True
    )
    return exporter


CELL_TIMEOUT_S = 600
"""A report cell that runs longer than this (seconds) fails the report (papermill's
``execution_timeout``); a hung kernel cannot hold up the batch."""
REPORT_TIMEOUT_S = 900
"""A report that takes longer than this (seconds, kernel start and every retry included) fails;
its kernel is shut down and the batch goes on."""
KERNEL_START_TIMEOUT_S = 60
KERNEL_START_ATTEMPTS = 3
"""Starting a kernel is tried this often: several processes starting kernels at once can race
for ports (nteract/papermill issues 239 and 511); a notebook's own error is never retried."""


class ReportTimeout(Exception):
    """Raised in the rendering process when a report passes :data:`REPORT_TIMEOUT_S`."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`ReportTimeout` in this process's main thread after ``seconds`` (SIGALRM,
    so papermill unwinds and shuts its kernel down); elsewhere, no deadline."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise ReportTimeout(f"the report took longer than {seconds:g} s and was stopped")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _execute(
    notebook: Path,
    parameters: dict,
    executed: Path,
    failed: Path,
    warm: kernel.WarmKernel | None = None,
) -> str | None:
    """Run papermill into ``executed`` (on ``warm``'s kernel, or on a kernel of its own),
    retrying a kernel that fails to start or dies, within :data:`REPORT_TIMEOUT_S` in all.
    Returns None, or the error (the executed notebook, if any, moved to ``failed``)."""
    # No widget state in a report: the notebooks' parameter widgets (cells the report removes)
    # list every contract in the database, which is not one contract's manager's to read.
    if warm is None:
        on_kernel = {
            "kernel_manager_class": kernel.KernelManager,
            "cwd": str(config.NOTEBOOKS_DIR),
            "store_widget_state": False,
        }
    else:
        on_kernel = {
            "engine_name": kernel.ENGINE,
            "warm": warm,
            "request_save_on_cell_execute": False,
            "failure_path": str(executed),
        }
    try:
        with _deadline(REPORT_TIMEOUT_S):
            for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
                try:
                    papermill.execute_notebook(
                        str(notebook),
                        str(executed),
                        parameters=parameters,
                        kernel_name=kernel.KERNEL,
                        progress_bar=False,
                        start_timeout=KERNEL_START_TIMEOUT_S,
                        execution_timeout=CELL_TIMEOUT_S,
                        **on_kernel,
                    )
                    return None
                except papermill.PapermillExecutionError:
                    raise  # the notebook's own error: the kernel is fine, nothing to retry
                except Exception as exc:
                    # A kernel that did not start or died is tried again on a new one; after a
                    # timeout the kernel may still be running the report, so it goes too.
                    if warm is not None:
                        warm.close()
                    if isinstance(exc, ReportTimeout) or attempt == KERNEL_START_ATTEMPTS:
                        raise
    except Exception as exc:
        failed.parent.mkdir(parents=True, exist_ok=True)
        if executed.exists():
            os.replace(executed, failed)
        text = str(exc).strip()
        return f"{type(exc).__name__}: {text.splitlines()[-1] if text else ''}"
    return None


def execute_to_html(
    notebook: Path,
    parameters: dict,
    target: Path,
    title: str,
    warm: kernel.WarmKernel | None = None,
    public_source: bool = False,
) -> str | None:
    """Execute ``notebook`` with ``parameters`` (papermill, in ``notebooks/``; on ``warm``'s
    kernel if given, else on a kernel started and shut down for it) and write it as HTML to
    ``target`` atomically. Returns None, or the error: then papermill's executed notebook
    is kept beside the target as ``<name>.failed.ipynb`` and no HTML is written.

    A kernel that fails to start or dies is tried again, up to :data:`KERNEL_START_ATTEMPTS`
    times; an error raised by the notebook's own code (``PapermillExecutionError``) is not; a
    report over :data:`REPORT_TIMEOUT_S` is stopped (``ReportTimeout``)."""
    check_parameters(parameters, notebook)
    failed = target.with_suffix(".failed.ipynb")
    with tempfile.TemporaryDirectory(prefix="seatscore-") as tmp:
        executed = Path(tmp) / f"{target.stem}.ipynb"
        error = _execute(notebook, parameters, executed, failed, warm)
        if error is not None:
            return error
        executed_nb = nbformat.read(executed, as_version=4)
        executed_nb.metadata["title"] = title
        body, _ = _exporter(public_source).from_notebook_node(executed_nb)
        atomic_write(target, page.lighten(body))
        failed.unlink(missing_ok=True)
    return None


def render_one(
    job: RenderJob,
    db_path: Path,
    out_dir: Path = config.REPORTS_DIR,
    warm: kernel.WarmKernel | None = None,
) -> RenderResult:
    """Execute and export one report (on ``warm``'s kernel if given). Never raises for a failing
    notebook: see ``error``."""
    target = out_dir / manifest.report_key(job.contract_id, job.month)
    parameters = {
        "contract_id": job.contract_id,
        "month": job.month,
        "db_path": str(Path(db_path).resolve()),
        "chart_renderer": "svg",
    }
    name, public = _contract_name(str(Path(db_path).resolve()), job.contract_id)
    error = execute_to_html(
        config.REPORT_NOTEBOOK, parameters, target, _title(name, job.month), warm, public
    )
    return RenderResult(job, None if error else target, error)


def _title(name: str, month: str) -> str:
    """The page's ``<title>``: the contract's Chinese name and the month (what a browser tab and a
    bookmark show)."""
    from seatscore.reporting.report import month_zh

    return f"{name} {month_zh(month)}月度报告"


@functools.lru_cache(maxsize=256)
def _contract_name(db_path: str, contract_id: str) -> tuple[str, bool]:
    """A contract's Chinese name and whether it is a public source, read once per rendering
    process (not once per report); the id when the database cannot say."""
    try:
        with db.connect(db_path, read_only=True) as con:
            contract = db.load_contract(con, contract_id)
            return contract.title_zh, contract.kind == "public_source"
    except (SeatscoreError, OSError, duckdb.Error):  # the report itself will say what is wrong
        return contract_id, False


def render_analysis(
    target: Path,
    source: str = "db",
    contract_id: str = "",
    month: str = "latest",
    db_path: Path = config.DEFAULT_DB,
    real_data_dir: Path = config.ROOT.parent / "shared" / "data" / "real",
) -> str | None:
    """Render ``notebooks/service_levels.ipynb`` (the analysts' notebook) to ``target``; returns
    None or the error, as :func:`execute_to_html`."""
    parameters = {
        "source": source,
        "contract_id": contract_id,
        "month": month,
        "db_path": str(Path(db_path).resolve()),
        "real_data_dir": str(Path(real_data_dir).resolve()),
        "chart_renderer": "svg",
    }
    title = f"服务指标分析 {contract_id or source}"
    return execute_to_html(config.ANALYSIS_NOTEBOOK, parameters, target, title)


def render_comparison(
    db_path: Path = config.DEFAULT_DB,
    out_dir: Path = config.REPORTS_DIR,
    benchmarks: Path | None = None,
    price_index: Path | None = None,
    base_year: int | None = None,
    scenario: Path | None = config.EXAMPLE_SCENARIO,
) -> RenderResult:
    """Render ``notebooks/vendor_comparison.ipynb`` to ``<out_dir>/comparison.html``; never raises
    for a failing notebook (see ``error``, as :func:`execute_to_html`)."""
    target = out_dir / "comparison.html"
    parameters = {
        "db_path": str(Path(db_path).resolve()),
        "benchmarks_path": str(Path(benchmarks).resolve()) if benchmarks else "",
        "price_index_path": str(Path(price_index).resolve()) if price_index else "",
        "base_year": base_year or 0,
        "scenario_path": str(Path(scenario).resolve()) if scenario else "",
        "chart_renderer": "svg",
    }
    error = execute_to_html(config.COMPARISON_NOTEBOOK, parameters, target, "供应商成本对比")
    return RenderResult(RenderJob("comparison", "all"), None if error else target, error)


def _render_guarded(
    job: RenderJob, db_path: Path, out_dir: Path, warm: kernel.WarmKernel | None
) -> RenderResult:
    """:func:`render_one`, with an export or write failure turned into a failed result so that it
    does not stop the other reports (a :class:`SeatscoreError`, bad input, still stops the run)."""
    try:
        return render_one(job, db_path, out_dir, warm)
    except SeatscoreError:
        raise
    except Exception as exc:
        return RenderResult(
            job, None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=2)}"
        )


_worker_kernel: kernel.WarmKernel | None = None
"""A pool worker's kernel, kept for every report the worker renders."""


class RenderInterrupted(KeyboardInterrupt):
    """``render_all`` was stopped (Ctrl-C, SIGTERM): ``results`` holds the reports finished
    before it; their manifest entries and the index were written."""

    def __init__(self, results: list[RenderResult]):
        super().__init__("interrupted")
        self.results = results


def _stop_worker(signum, frame) -> None:
    """A worker told to stop (by the parent, or because the parent died): close its kernel and
    leave at once."""
    try:
        if _worker_kernel is not None:
            _worker_kernel.close()
    finally:
        os._exit(128 + signum)


def _die_with_parent() -> None:
    """Linux: have the kernel send this process SIGTERM when its parent dies (prctl
    PR_SET_PDEATHSIG), so a killed ``render`` leaves no worker, and through it no kernel."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: workers still stop when told
        pass


def _start_worker() -> None:
    """Pool initializer: the worker's warm kernel, shut down when the worker exits (pool workers
    leave through multiprocessing's finalizers, not ``atexit``) or is told to stop (SIGTERM,
    also sent by the system if the parent dies). Ctrl-C is the parent's to handle."""
    global _worker_kernel
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    _die_with_parent()
    _worker_kernel = kernel.WarmKernel()
    util.Finalize(_worker_kernel, _worker_kernel.close, exitpriority=10)


def _render_in_worker(job: RenderJob, db_path: Path, out_dir: Path) -> RenderResult:
    return _render_guarded(job, db_path, out_dir, _worker_kernel)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """The rendering processes: spawned (forking a process that holds ZMQ sockets and DuckDB's
    threads is unsafe), each with its warm kernel (:func:`_start_worker`); submit
    :func:`_render_in_worker`."""
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=_start_worker
    )


def default_workers() -> int:
    """Processes to render with: the cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def render_all(
    jobs: list[RenderJob],
    db_path: Path,
    out_dir: Path = config.REPORTS_DIR,
    progress: bool = True,
    workers: int | None = None,
    force: bool = False,
) -> list[RenderResult]:
    """Render every job whose inputs changed since ``out_dir/manifest.json`` recorded it (all with
    ``force``), ``workers`` at a time (default: :func:`default_workers`) in separate processes, with
    one progress bar here; then update the manifest and rewrite the index. Results come back in
    the order of ``jobs``, unchanged reports as ``skipped``. Each worker executes its reports
    on one warm kernel (:class:`seatscore.batch.kernel.WarmKernel`), its namespace emptied before each
    report and the kernel replaced after a crash or a timeout, so one report's failure does not
    touch the others."""
    states = prepare_statements(db_path, sorted({job.contract_id for job in jobs}))
    recorded = manifest.load(out_dir)
    wanted = manifest.entries(jobs, db_path, states=states)
    keys = {job: manifest.report_key(job.contract_id, job.month) for job in jobs}
    done: dict[RenderJob, RenderResult] = {}
    for job, key in keys.items():
        closed = states.get((job.contract_id, job.month), {}).get("status") == "closed"
        if (not force or closed) and manifest.unchanged(recorded, key, wanted[key], out_dir):
            done[job] = RenderResult(job, out_dir / key, skipped=True)
        else:
            manifest.keep_previous_version(recorded, key, wanted[key], out_dir)
    todo = [job for job in jobs if job not in done]
    bar = tqdm(total=len(todo), desc="报告", unit="份", disable=not progress or not todo)
    workers = max(1, min(workers or default_workers(), len(todo) or 1))
    interrupted = False
    try:
        if workers == 1:
            with kernel.WarmKernel() as warm:
                for job in todo:
                    done[job] = _render_guarded(job, db_path, out_dir, warm)
                    bar.update()
        else:
            pool = worker_pool(workers)
            try:
                futures = {
                    pool.submit(_render_in_worker, job, db_path, out_dir): job for job in todo
                }
                for future in as_completed(futures):
                    done[futures[future]] = future.result()
                    bar.update()
            except BaseException:
                _stop_pool(pool)
                raise
            pool.shutdown()
    except KeyboardInterrupt:
        interrupted = True
    bar.close()
    if interrupted:  # keep what finished: its manifest entries and the index
        results = [done[job] for job in jobs if job in done]
        _save(out_dir, recorded, wanted, keys, results, db_path)
        raise RenderInterrupted(results)
    results = [done[job] for job in jobs]
    _save(out_dir, recorded, wanted, keys, results, db_path)
    return results


def _save(out_dir, recorded, wanted, keys, results, db_path) -> None:
    fresh = [r for r in results if not r.skipped]
    withdrawn = withdraw_open_months(
        out_dir, recorded, set(keys.values()), {j.contract_id for j in keys}
    )
    manifest.save(
        out_dir,
        recorded,
        {keys[r.job]: wanted[keys[r.job]] for r in fresh if r.ok},
        [keys[r.job] for r in fresh if not r.ok] + withdrawn,
    )
    write_index(db_path, out_dir, results)


def withdraw_open_months(
    out_dir: Path,
    recorded: dict,
    rendered: set[str],
    contract_ids: set[str],
    today: dt.date | None = None,
) -> list[str]:
    """Remove the reports of months not over yet that an earlier run made (``--open-month``) and
    this run did not make again, for the contracts of this run: their figures were those of an
    earlier day, and a report of a month that has not happened must not stay around as if it
    were a statement. Only files the manifest records as Seatscore's own are removed (never a
    kept earlier version, ``.vN.html``). Returns their manifest keys; each is logged."""
    current = month_key(today or dt.datetime.now(TIMEZONE).date())
    gone = []
    for key in recorded["reports"]:
        month, name = key.split("/", 1)
        cid = name.removesuffix(".html")
        if key in rendered or cid not in contract_ids or month < current:
            continue
        (out_dir / key).unlink(missing_ok=True)
        gone.append(key)
        log.warning("removed %s: a month not yet over, rendered on an earlier day", key)
    return gone


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now: no new report starts, each worker closes its kernel and leaves
    (SIGTERM, :func:`_stop_worker`); give them a few seconds, then kill what is left."""
    pool.shutdown(wait=False, cancel_futures=True)
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


def prepare_statements(db_path: Path, contract_ids: list[str]) -> dict[tuple[str, str], dict]:
    """Compute and store the statements of ``contract_ids`` (:func:`seatscore.compute.closing.refresh`)
    before any report reads them; return ``{(contract_id, month): {"status", "version"}}``."""
    from seatscore.compute import closing

    states: dict[tuple[str, str], dict] = {}
    with db.connect(db_path) as con:
        for cid in contract_ids:
            contract = db.load_contract(con, cid)
            closing.refresh(con, contract, db.ledgers(con, cid))
            for r in closing.latest(con, cid).iter_rows(named=True):
                states[(cid, r["month"])] = {"status": r["status"], "version": r["version"]}
    return states


def _counts(results: list[RenderResult]) -> tuple[int, int, list[RenderResult]]:
    """(rendered, unchanged, failed results) of a run."""
    rendered = sum(r.ok and not r.skipped for r in results)
    return rendered, sum(r.skipped for r in results), [r for r in results if not r.ok]


def summarise(results: list[RenderResult]) -> str:
    ok, skipped, _ = _counts(results)
    lines = [f"rendered {ok} of {len(results)} report(s), {skipped} unchanged"]
    lines += [f"FAILED {r.job.contract_id} {r.job.month}: {r.error}" for r in results if not r.ok]
    return "\n".join(lines)


RUN_LOG = "render.log"
log = logging.getLogger(__name__)
"""The run log: each run's counts (INFO) and each failed report (WARNING). :func:`append_run_log`
writes them to ``<out>/render.log``; with ``seatscore --debug`` they also go to the terminal."""


class _BeijingFormatter(logging.Formatter):
    """``<ISO time, Beijing, seconds> <message>``, one line a record (newlines folded)."""

    def format(self, record: logging.LogRecord) -> str:
        when = dt.datetime.fromtimestamp(record.created, TIMEZONE).isoformat(timespec="seconds")
        return f"{when} {record.getMessage()}".replace("\n", " ")


def append_run_log(
    out_dir: Path, command: str, results: list[RenderResult], seconds: float
) -> Path:
    """Log one line per run to ``<out_dir>/render.log`` (Beijing time, the command, counts,
    seconds), then one line per failed report: what a scheduled run leaves for its operator.
    Standard :mod:`logging` (logger ``seatscore.batch.render``), a file handler for the run."""
    rendered, skipped, failed = _counts(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / RUN_LOG
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(_BeijingFormatter())
    log.addHandler(handler)
    level, propagate = log.level, log.propagate
    log.setLevel(logging.INFO)
    # The terminal gets the summary from the command itself; the records too only with --debug.
    log.propagate = logging.getLogger().isEnabledFor(logging.DEBUG)
    try:
        log.info(
            "%s: rendered %d, unchanged %d, failed %d in %.0f s",
            command,
            rendered,
            skipped,
            len(failed),
            seconds,
        )
        for r in failed:
            log.warning("  FAILED %s %s: %s", r.job.contract_id, r.job.month, r.error)
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        log.propagate = propagate
        handler.close()
    return path
