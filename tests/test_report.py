"""The report notebook: committed clean, parameterized, and rendered for every contract."""

from __future__ import annotations

import datetime as dt
import json
import re

import nbformat
import pytest

from seatscore.batch import render
from seatscore.core import config
from seatscore.core.errors import SeatscoreError

from conftest import FIRST_MONTHS


@pytest.mark.parametrize(
    "notebook", sorted(config.NOTEBOOKS_DIR.glob("*.ipynb")), ids=lambda p: p.stem
)
def test_notebook_committed_without_outputs(notebook):
    # Every notebook of notebooks/ (four today): outputs are built, never committed.
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    assert all(not c.get("outputs") for c in nb["cells"])
    assert all(c.get("execution_count") is None for c in nb["cells"] if c["cell_type"] == "code")


def test_parameters_cell_is_typed_and_commented():
    nb = nbformat.read(config.REPORT_NOTEBOOK, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    for line in cells[0].source.splitlines():
        assert re.match(r"^\w+: \w+ = .+  # .+", line), line
    assert render.notebook_parameters() == {"contract_id", "month", "db_path", "chart_renderer"}


def test_unknown_parameter_is_an_error():
    with pytest.raises(SeatscoreError, match=r"no parameter.*contract"):
        render.check_parameters({"contract": "x"})


@pytest.mark.parametrize("contract_id", sorted(FIRST_MONTHS))
def test_report_renders_for_every_contract(rendered, contract_id, contracts):
    out, results = rendered
    month, fee, buyer = FIRST_MONTHS[contract_id]
    result = results[(contract_id, month)]
    assert result.ok, result.error
    page = (out / month / f"{contract_id}.html").read_text(encoding="utf-8")
    assert buyer in page
    assert fee in page  # the month's nominal fee
    for heading in (
        "合同要素",
        "本月考核与费用",
        "服务期趋势",
        "扣分与扣款明细",
        "终止条件",
        "人员空缺与出勤",
        "付款进度",
        "每座席成本",
        "服务指标",
        "派发与回复用时",
        "高发时段、区域、点位与类别",
        "重复举报点位",
        "座席需求（Erlang C）",
    ):
        assert heading in page
    assert "Traceback" not in page
    # No warning box: nothing the kernel wrote to stderr reaches the page (a TqdmWarning did).
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page and "Warning" not in page
    assert "模拟数据" in page  # demo ledgers are labelled as simulated
    # A contract's own time limits cover closing; the time-to-close chart is a public source's.
    assert "办结用时分布" not in page
    assert "load_context" not in page and "import altair" not in page  # no code in the HTML
    assert '<svg class="marks"' in page  # charts drawn inline, no script needed
    # The notebook's parameter widgets list every contract; a report carries none of them.
    assert "widget-state" not in page and "DropdownModel" not in page
    others = [c.title_zh for cid, c in contracts.items() if cid != contract_id]
    assert not [t for t in others if t in page]
    # The browser tab names the contract in Chinese and the month, e.g. 综合调度工作服务外包项目
    # 2026年6月月度报告, not the internal id.
    year, mon = month.split("-")
    title = contracts[contract_id].title_zh
    assert f"<title>{title} {year}年{int(mon)}月月度报告</title>" in page
    # Each font of the list is its own family name, so tables use the CJK font.
    assert "'Noto Sans CJK SC', 'Source Han Sans SC'" in page


def test_failed_report_is_kept_and_listed(rendered):
    out, results = rendered
    failed = results[("karamay-grid-2024", "2030-01")]
    assert not failed.ok and "outside the service period" in failed.error
    assert (out / "2030-01" / "karamay-grid-2024.failed.ipynb").exists()
    assert not (out / "2030-01" / "karamay-grid-2024.html").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "生成失败" in index and "outside the service period" in index
    assert 'href="2026-06/haidian-dispatch-2026.html"' in index


def test_plan_all_months(demo_db):
    # On 2026-11-30 (Beijing) 000's months from 2026-11 on have not ended: 5 of its 13 months
    # (2026-06 … 2026-10) and every month of the other four, 54 reports; --open-month adds
    # November 2026 and, for a date-less plan, every later month too.
    today = dt.date(2026, 11, 30)
    jobs = render.plan_jobs(demo_db, "all", today=today)
    assert len(jobs) == 5 + 11 + 13 + 13 + 12
    assert render.RenderJob("haidian-dispatch-2026", "2026-11") not in jobs
    opened = render.plan_jobs(demo_db, "all", open_month=True, today=today)
    assert len(opened) == 13 + 11 + 13 + 13 + 12
    # The default month is the latest ended month with data, not the month under way.
    latest = render.plan_jobs(demo_db, None, ["haidian-dispatch-2026"], today=today)
    assert latest == [render.RenderJob("haidian-dispatch-2026", "2026-10")]
    assert render.plan_jobs(demo_db, "2024-10", ["karamay-grid-2024", "haidian-hotline-2022"]) == [
        render.RenderJob("karamay-grid-2024", "2024-10")
    ]
    with pytest.raises(SeatscoreError, match="unknown contract"):
        render.plan_jobs(demo_db, None, ["nope"])
