"""Batch rendering: kernel start-up failures are retried, a notebook's own error is not, and the
pool returns results in the order of the jobs. (Rendering real reports is in test_report.py.)"""

from __future__ import annotations

import shutil

import papermill
import pytest

from seatscore import config, render


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
