"""The analysts' explore notebook: its ticket cube by hand, and the notebook executed headless."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import duckdb
import papermill
import polars as pl
import pytest

from seatscore.core import config
from seatscore.ledgers import store as db
from seatscore.reporting import explore

pytestmark = pytest.mark.notebook


def test_ticket_cube_by_hand():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE tickets (contract_id VARCHAR, contract_key BIGINT, received_at TIMESTAMP, "
        "replied_at TIMESTAMP, closed_at TIMESTAMP, category VARCHAR, district VARCHAR)"
    )
    key = db.contract_key("c1")
    rows = [
        # received, replied, closed, category, district
        ("2024-05-01 09:00", "2024-05-01 11:00", "2024-05-02 09:00", "供暖", "海淀街道"),
        ("2024-05-03 09:00", "2024-05-03 13:00", None, "供暖", "海淀街道"),
        ("2024-05-04 09:00", None, None, "供暖", " "),
        ("2024-06-01 08:00", "2024-06-01 08:30", "2024-06-01 09:00", "噪声扰民", "海淀街道"),
    ]
    for received, replied, closed, category, district in rows:
        con.execute(
            "INSERT INTO tickets VALUES ('c1', ?, ?, ?, ?, ?, ?)",
            [key, received, replied, closed, category, district],
        )
    cube = explore.ticket_cube(con, ["c1"])
    may = cube.filter(cube["month"] == dt.date(2024, 5, 1)).sort("district")
    # May, 海淀街道: 2 tickets, 1 closed, 2 replied after 2 h and 4 h = 6 hours (mean 3 h).
    assert may.row(1, named=True) | {} == {
        "contract_id": "c1",
        "month": dt.date(2024, 5, 1),
        "category": "供暖",
        "district": "海淀街道",
        "tickets": 2,
        "closed": 1,
        "replied": 2,
        "reply_hours": 6.0,
    }
    # A blank district is counted under 未填, not dropped: 1 ticket, never replied.
    assert may.row(0, named=True)["district"] == "未填"
    assert (may.row(0, named=True)["tickets"], may.row(0, named=True)["reply_hours"]) == (1, 0.0)
    assert cube["tickets"].sum() == 4


def test_a_cube_too_big_for_the_browser_is_refused():
    big = pl.DataFrame({"contract_id": ["c"] * (explore.MAX_CUBE_ROWS + 1)}).with_columns(
        pl.lit(dt.date(2024, 1, 1)).alias("month"),
        pl.lit("x").alias("category"),
        pl.lit("y").alias("district"),
        pl.lit(1).alias("tickets"),
        pl.lit(1).alias("closed"),
        pl.lit(1).alias("replied"),
        pl.lit(1.0).alias("reply_hours"),
    )
    with pytest.raises(ValueError, match="pass fewer contract ids"):
        explore.explorer(big)


def test_the_explore_notebook_executes_headless(demo_db, tmp_path):
    out = tmp_path / "explore.ipynb"
    papermill.execute_notebook(
        str(config.EXPLORE_NOTEBOOK),
        str(out),
        parameters={
            "db_path": str(demo_db),
            "contract_ids": ["haidian-hotline-2022", "karamay-grid-2024"],
        },
        cwd=str(config.NOTEBOOKS_DIR),
        progress_bar=False,
        kernel_name="python3",
    )
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    pages = ["".join(o["data"]["text/html"]) for o in outputs if "text/html" in o.get("data", {})]
    view = html.unescape(next(p for p in pages if "<iframe srcdoc=" in p))
    for name in ('"months"', '"contract"', '"category"', '"district"'):
        assert name in view  # the four selections that cross-filter the charts
    assert "每月工单（拖动选择月份）" in view and "vegaEmbed" in view
    # Offline: the Vega scripts are inside the page, none is fetched from a CDN.
    assert not re.search(r"<script[^>]+src=[\"']https?:", view)
    assert "cdn.jsdelivr" not in view and "esm.sh" not in view
    printed = "".join("".join(o.get("text", "")) for o in outputs if o["output_type"] == "stream")
    assert "2 份合同" in printed
