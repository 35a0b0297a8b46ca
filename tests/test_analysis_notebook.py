"""The analysts' notebook renders for every demo contract, and on the real TipDM messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from seatscore.batch import render

from conftest import FIRST_MONTHS

pytestmark = pytest.mark.notebook

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


@pytest.mark.parametrize("contract_id", sorted(FIRST_MONTHS))
def test_analysis_renders_for_every_demo_contract(demo_db, tmp_path, contract_id):
    month = FIRST_MONTHS[contract_id][0]
    target = tmp_path / f"{contract_id}.html"
    error = render.render_analysis(target, "db", contract_id, month, demo_db)
    assert error is None, error
    page = target.read_text(encoding="utf-8")
    for heading in ("工单量", "用时分布", "高发时段与类别", "合同服务指标", "按周的服务指标"):
        assert heading in page
    assert "Traceback" not in page and "import altair" not in page
    assert '<svg class="marks"' in page  # charts drawn inline


def test_analysis_of_an_unknown_source_fails_with_its_notebook_kept(demo_db, tmp_path):
    target = tmp_path / "x.html"
    error = render.render_analysis(target, "excel", "haidian-dispatch-2026", "latest", demo_db)
    assert "unknown source 'excel'" in error
    assert not target.exists() and target.with_suffix(".failed.ipynb").exists()


@pytest.mark.skipif(
    not (REAL / "tipdm2020C_fujian4_messages_with_replies.xlsx").exists(),
    reason=f"real data not present at {REAL}",
)
def test_analysis_renders_on_the_tipdm_messages(tmp_path):
    target = tmp_path / "tipdm.html"
    error = render.render_analysis(target, "tipdm", real_data_dir=REAL)
    assert error is None, error
    page = target.read_text(encoding="utf-8")
    assert "TipDM 2020 留言板" in page and "2,816 张工单" in page
    assert "用时分布" in page and "问题类别前 10" in page  # chart titles are inside the SVGs
    assert "这批数据不属于任何合同" in page
