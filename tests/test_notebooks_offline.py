"""Every notebook, run headless with its own defaults (interactive charts, as an analyst opens it in
JupyterLab), draws its charts without asking the internet for a script: an intranet has none.

Altair's ``jupyter`` renderer with ``offline=True`` (``seatscore.reporting.report.use_renderer``)
makes each chart an ``anywidget`` whose JavaScript vl-convert bundles; the ``default`` renderer
this replaced left an HTML output fetching Vega from cdn.jsdelivr.net.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import papermill
import pytest

from seatscore.core import config
from seatscore.reporting import report

pytestmark = pytest.mark.notebook

REMOTE_SCRIPT = re.compile(
    r"""(<script[^>]+src=["']https?:|cdn\.jsdelivr|unpkg\.com|import\(["']https?:)"""
)


def run(name: str, tmp_path: Path, **parameters) -> list[dict]:
    """Execute notebooks/<name> with ``parameters`` over its defaults; its code cells' outputs."""
    out = tmp_path / name
    papermill.execute_notebook(
        str(config.NOTEBOOKS_DIR / name),
        str(out),
        parameters=parameters,
        cwd=str(config.NOTEBOOKS_DIR),
        progress_bar=False,
        kernel_name="python3",
        execution_timeout=300,  # a cell that hangs fails the test instead of stalling the run
    )
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    return [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        ("contract_report.ipynb", {"contract_id": "karamay-grid-2024", "month": "2024-10"}),
        ("service_levels.ipynb", {"contract_id": "karamay-grid-2024", "month": "2024-10"}),
        ("vendor_comparison.ipynb", {}),
    ],
)
def test_notebook_draws_interactive_charts_without_the_internet(
    name, parameters, demo_db, tmp_path
):
    outputs = run(name, tmp_path, db_path=str(demo_db), **parameters)
    assert not [o for o in outputs if o["output_type"] == "error"]
    widgets = [
        o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widgets, "no interactive chart"
    text = json.dumps(outputs, ensure_ascii=False)
    assert not REMOTE_SCRIPT.search(text), REMOTE_SCRIPT.search(text)
    # Small when saved: a chart is a widget reference, not a page of script and data.
    assert all(len(json.dumps(w)) < 2_000 for w in widgets)


def test_a_renderer_that_needs_the_internet_is_refused():
    with pytest.raises(ValueError, match="use one of jupyter, svg"):
        report.use_renderer("default")
