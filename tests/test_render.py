"""Batch rendering: kernel start-up failures are retried, a notebook's own error is not, the pool
returns results in the order of the jobs, and a warm kernel serves many reports without carrying
names from one to the next. (Rendering real reports is in test_report.py.)"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import nbformat
import papermill
import pytest

from seatscore.batch import kernel, render
from seatscore.core import config, files
from seatscore.core.files import atomic_write
from seatscore.ledgers import store as db

pytestmark = pytest.mark.notebook


def _fake_papermill(monkeypatch, failures: list[Exception]) -> list[str]:
    """Replace papermill's execution: raise the given errors in turn, then 'execute' by copying
    the notebook unexecuted. Returns the list of calls made."""
    calls = []

    def execute_notebook(source, output, **kwargs):
        calls.append(output)
        if failures:
            raise failures.pop(0)
        shutil.copy(source, output)

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)
    return calls


PARAMETERS = {"contract_id": "x", "month": "2024-05", "db_path": "x", "chart_renderer": "svg"}


def test_kernel_start_failure_is_retried(monkeypatch, tmp_path):
    calls = _fake_papermill(monkeypatch, [RuntimeError("Kernel didn't respond in 60 seconds")])
    target = tmp_path / "r.html"
    assert render.execute_to_html(config.REPORT_NOTEBOOK, PARAMETERS, target, "t") is None
    assert len(calls) == 2 and target.exists()


def test_kernel_that_never_starts_fails_after_three_attempts(monkeypatch, tmp_path):
    errors = [RuntimeError("Kernel died before replying to kernel_info")] * 3
    calls = _fake_papermill(monkeypatch, errors)
    target = tmp_path / "r.html"
    error = render.execute_to_html(config.REPORT_NOTEBOOK, PARAMETERS, target, "t")
    assert len(calls) == render.KERNEL_START_ATTEMPTS == 3
    assert error == "RuntimeError: Kernel died before replying to kernel_info"
    assert not target.exists()


def test_notebook_error_is_not_retried(monkeypatch, tmp_path):
    failure = papermill.PapermillExecutionError(3, 1, "x", "KeyError", "2030-01", [])
    calls = _fake_papermill(monkeypatch, [failure])
    target = tmp_path / "r.html"
    error = render.execute_to_html(config.REPORT_NOTEBOOK, PARAMETERS, target, "t")
    assert len(calls) == 1 and error.startswith("PapermillExecutionError")
    assert not target.exists()


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _kernel_pids() -> set[int]:
    """Running ipykernel processes (Linux /proc) started by this test process or its children:
    kernels of another program on the machine are not this test's business."""
    me, pids = os.getpid(), set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"ipykernel_launcher" not in cmdline.read_bytes():
                continue
        except OSError:  # the process ended while we looked
            continue
        pid = ancestor = int(cmdline.parent.name)
        while ancestor not in (None, 0, 1, me):
            ancestor = _parent(ancestor)
        if ancestor == me:
            pids.add(pid)
    return pids


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_job_order(demo_db, tmp_path, workers):
    # Months outside the service periods fail fast inside the notebook; the order still holds.
    jobs = [
        render.RenderJob("karamay-grid-2024", "2030-01"),
        render.RenderJob("haidian-hotline-2022", "2030-02"),
    ]
    results = render.render_all(jobs, demo_db, tmp_path, progress=False, workers=workers)
    assert [r.job for r in results] == jobs
    assert not any(r.ok for r in results)
    assert (tmp_path / "2030-01" / "karamay-grid-2024.failed.ipynb").exists()
    assert (tmp_path / "index.html").exists()


def test_a_pool_worker_shuts_its_kernel_down_when_it_exits(demo_db, tmp_path):
    # render_all's pool. Without the worker's finalizer the kernel would outlive its worker
    # until it noticed the orphaning (ipykernel polls its parent every second).
    before = _kernel_pids()
    with render.worker_pool(1) as pool:
        # A month outside the service period fails fast, after the kernel has started.
        job = render.RenderJob("karamay-grid-2024", "2030-01")
        result = pool.submit(render._render_in_worker, job, demo_db, tmp_path).result()
        assert not result.ok and len(_kernel_pids() - before) == 1  # the worker's, kept warm
    assert _kernel_pids() <= before


def _notebook(path: Path, *cells: str) -> Path:
    """A notebook whose first cell declares the parameter ``label`` and then the given cells."""
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('label = ""')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def test_reports_share_one_warm_kernel_but_not_its_names(tmp_path):
    leaves = _notebook(tmp_path / "leaves.ipynb", "left_behind = label")
    checks = _notebook(
        tmp_path / "checks.ipynb",
        "assert 'left_behind' not in globals(), 'a name from the previous report'",
        "print('report', label)",
    )
    with kernel.WarmKernel() as warm:
        assert (
            render.execute_to_html(leaves, {"label": "a"}, tmp_path / "a.html", "a", warm) is None
        )
        assert (
            render.execute_to_html(checks, {"label": "b"}, tmp_path / "b.html", "b", warm) is None
        )
        assert warm.started == 1 and warm.used == 2
    assert "report b" in (tmp_path / "b.html").read_text(encoding="utf-8")
    assert warm.km is None  # closed with the block


def test_a_kernel_is_replaced_after_its_quota_of_reports(monkeypatch, tmp_path):
    monkeypatch.setattr(kernel, "REPORTS_PER_KERNEL", 1)
    plain = _notebook(tmp_path / "plain.ipynb", "print(label)")
    with kernel.WarmKernel() as warm:
        for label in ("a", "b"):
            target = tmp_path / f"{label}.html"
            assert render.execute_to_html(plain, {"label": label}, target, label, warm) is None
        assert warm.started == 2


def test_a_warm_kernel_that_cannot_start_is_tried_three_times(monkeypatch, tmp_path):
    plain = _notebook(tmp_path / "plain.ipynb", "print(label)")
    with kernel.WarmKernel("no-such-kernel") as warm:
        starts = []
        start = warm._start
        monkeypatch.setattr(warm, "_start", lambda timeout: starts.append(1) or start(timeout))
        error = render.execute_to_html(plain, {"label": "a"}, tmp_path / "a.html", "a", warm)
    assert error.startswith("NoSuchKernel") and len(starts) == render.KERNEL_START_ATTEMPTS
    assert warm.started == 0 and warm.km is None
    assert (tmp_path / "a.failed.ipynb").exists() and not (tmp_path / "a.html").exists()


def test_a_report_that_kills_its_kernel_fails_alone(tmp_path):
    """The kernel dies: tried on a new kernel up to three times, the notebook as far as it ran is
    kept, and the next report renders on a fresh kernel."""
    dies = _notebook(tmp_path / "dies.ipynb", "import os\nos._exit(1)")
    plain = _notebook(tmp_path / "plain.ipynb", "print(label)")
    with kernel.WarmKernel() as warm:
        error = render.execute_to_html(dies, {"label": "x"}, tmp_path / "dies.html", "x", warm)
        assert error.startswith("DeadKernelError") and warm.started == render.KERNEL_START_ATTEMPTS
        assert not (tmp_path / "dies.html").exists()
        kept = nbformat.read(tmp_path / "dies.failed.ipynb", as_version=4)
        assert kept.cells[-1].source == "import os\nos._exit(1)"
        assert render.execute_to_html(plain, {"label": "y"}, tmp_path / "y.html", "y", warm) is None
        assert warm.started == render.KERNEL_START_ATTEMPTS + 1


def _fake_render(monkeypatch, fail: set[str] = frozenset()) -> list[tuple[str, str]]:
    """Replace one report's rendering by writing a stub page (or failing for the contract ids in
    ``fail``); the manifest logic around it is real. Returns the (contract, month) rendered."""
    calls = []

    def render_one(job, db_path, out_dir, warm=None):
        calls.append((job.contract_id, job.month))
        if job.contract_id in fail:
            return render.RenderResult(job, None, "boom")
        target = out_dir / job.month / f"{job.contract_id}.html"
        atomic_write(target, f"<p>{job.contract_id} {job.month}</p>")
        return render.RenderResult(job, target)

    monkeypatch.setattr(render, "render_one", render_one)
    monkeypatch.setattr(render, "write_index", lambda *args: None)
    return calls


JOBS = [
    render.RenderJob("karamay-grid-2024", "2024-10"),
    render.RenderJob("karamay-grid-2024", "2024-11"),
    render.RenderJob("haidian-hotline-2022", "2022-05"),
]


def test_an_unchanged_rerun_renders_nothing_and_force_renders_all(monkeypatch, demo_db, tmp_path):
    calls = _fake_render(monkeypatch)
    first = render.render_all(JOBS, demo_db, tmp_path, progress=False, workers=1)
    assert len(calls) == 3 and all(r.ok and not r.skipped for r in first)
    recorded = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["reports"]
    assert sorted(recorded) == [
        "2022-05/haidian-hotline-2022.html",
        "2024-10/karamay-grid-2024.html",
        "2024-11/karamay-grid-2024.html",
    ]
    assert set(recorded["2024-10/karamay-grid-2024.html"]["parts"]) == {
        "contract",
        "data",
        "notebook",
        "code",
    }
    calls.clear()
    again = render.render_all(JOBS, demo_db, tmp_path, progress=False, workers=1)
    assert calls == [] and all(r.skipped and r.ok for r in again)
    assert render.summarise(again).startswith("rendered 0 of 3 report(s), 3 unchanged")
    render.render_all(JOBS, demo_db, tmp_path, progress=False, workers=1, force=True)
    assert len(calls) == 3
    # A report deleted by hand is rendered again even though its inputs did not change.
    calls.clear()
    (tmp_path / "2022-05" / "haidian-hotline-2022.html").unlink()
    render.render_all(JOBS, demo_db, tmp_path, progress=False, workers=1)
    assert calls == [("haidian-hotline-2022", "2022-05")]


def test_a_changed_ledger_renders_only_its_contract_again(monkeypatch, demo_db, tmp_path):
    database = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, database)
    out = tmp_path / "reports"
    calls = _fake_render(monkeypatch)
    render.render_all(JOBS, database, out, progress=False, workers=1)
    with db.connect(database) as con:
        con.execute(
            """INSERT INTO deduction_events (contract_id, event_date, item_id, occurrences, source)
               VALUES ('karamay-grid-2024', DATE '2025-03-03', 'late_coordination', 1, 'test')"""
        )
    calls.clear()
    results = render.render_all(JOBS, database, out, progress=False, workers=1)
    # A March deduction changes karamay's trend in every month's report, and no other contract's.
    assert calls == [("karamay-grid-2024", "2024-10"), ("karamay-grid-2024", "2024-11")]
    assert [r.skipped for r in results] == [False, False, True]


def test_a_failed_report_is_tried_again_next_run(monkeypatch, demo_db, tmp_path):
    calls = _fake_render(monkeypatch, fail={"haidian-hotline-2022"})
    results = render.render_all(JOBS, demo_db, tmp_path, progress=False, workers=1)
    assert [r.ok for r in results] == [True, True, False]
    calls.clear()
    render.render_all(JOBS, demo_db, tmp_path, progress=False, workers=1)
    assert calls == [("haidian-hotline-2022", "2022-05")]
    log = render.append_run_log(tmp_path, "render --month all", results, 12.3)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[0].endswith("render --month all: rendered 2, unchanged 0, failed 1 in 12 s")
    assert lines[1].endswith("FAILED haidian-hotline-2022 2022-05: boom")


def test_an_interrupted_write_leaves_no_partial_report(monkeypatch, tmp_path):
    """Interrupted at the worst moment: the page is written to its temporary file, the rename
    has not happened. Neither the report nor the temporary file is left."""
    _fake_papermill(monkeypatch, [])
    target = tmp_path / "2024-05" / "r.html"

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        render.execute_to_html(config.REPORT_NOTEBOOK, PARAMETERS, target, "t")
    assert list(tmp_path.rglob("*")) == [target.parent]


def test_a_report_over_its_time_is_stopped_and_the_next_one_renders(monkeypatch, demo_db, tmp_path):
    # A real kernel: the report may take 1 s in all, which no report does.
    monkeypatch.setattr(render, "REPORT_TIMEOUT_S", 1)
    jobs = [render.RenderJob("karamay-grid-2024", "2024-10")]
    slow = render.render_all(jobs, demo_db, tmp_path, progress=False, workers=1)
    assert not slow[0].ok and slow[0].error.startswith("ReportTimeout: the report took longer")
    assert not (tmp_path / "2024-10" / "karamay-grid-2024.html").exists()
    assert (tmp_path / "2024-10" / "karamay-grid-2024.failed.ipynb").exists()  # what ran, kept
    monkeypatch.setattr(render, "REPORT_TIMEOUT_S", 600)
    again = render.render_all(jobs, demo_db, tmp_path, progress=False, workers=1)
    assert again[0].ok and (tmp_path / "2024-10" / "karamay-grid-2024.html").exists()


def test_reports_of_months_not_over_are_withdrawn_when_not_made_again(tmp_path):
    # An earlier --open-month run left 2026-12's report (figures of an earlier day); on
    # 2026-11-30 a run for the same contract that does not make it again removes it and its
    # manifest entry; an ended month's report, another contract's, and a kept version stay.
    from seatscore.batch import manifest

    for key in ("2026-12/a.html", "2026-10/a.html", "2026-12/b.html", "2026-12/a.v1.html"):
        (tmp_path / key).parent.mkdir(exist_ok=True)
        (tmp_path / key).write_text("x", encoding="utf-8")
    recorded = {
        "version": manifest.VERSION,
        "reports": {k: {} for k in ("2026-12/a.html", "2026-10/a.html", "2026-12/b.html")},
    }
    gone = render.withdraw_open_months(
        tmp_path, recorded, {"2026-10/a.html"}, {"a"}, today=dt.date(2026, 11, 30)
    )
    assert gone == ["2026-12/a.html"]
    assert not (tmp_path / "2026-12/a.html").exists()
    assert all(
        (tmp_path / k).exists() for k in ("2026-10/a.html", "2026-12/b.html", "2026-12/a.v1.html")
    )
