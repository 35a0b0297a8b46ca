"""The analysts' explore notebook: its ticket cube by hand, and the notebook executed headless."""

from __future__ import annotations

import datetime as dt
import json
import re

import duckdb
import papermill
import polars as pl
import pytest

from seatscore.core import config
from seatscore.ledgers import store as db
from seatscore.ledgers.ingest import ingest
from seatscore.reporting import explore
from tests.helpers import ledger, ticket

K = "karamay-grid-2024"

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
        execution_timeout=300,  # a cell that hangs fails the test instead of stalling the run
    )
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    # The view is an interactive widget (Altair's JupyterChart, its JavaScript bundled offline):
    # no page of script in the outputs, none fetched from a CDN.
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    text = json.dumps(outputs, ensure_ascii=False)
    assert not re.search(r"<script[^>]+src=[\"']https?:", text)
    assert "cdn.jsdelivr" not in text and "esm.sh" not in text
    printed = "".join("".join(o.get("text", "")) for o in outputs if o["output_type"] == "stream")
    assert "2 份合同" in printed
    # With nothing selected, the selected tickets are all of them (the two contracts').
    assert re.search(r"选中 [\d,]+ 张工单", printed)
    # The three worked questions ran.
    assert all(f"cell-q{i}c" in {c.get("id") for c in cells} for i in (1, 2, 3))


def database(tmp_path, contracts, rows: list[dict]):
    """A database of the five contracts holding ``rows`` as tickets, loaded by the checked loader."""
    path = tmp_path / "t.duckdb"
    db.build(path, contracts, demo_dir=None)
    csv = tmp_path / "tickets.csv"
    ledger("tickets", rows).write_csv(csv, datetime_format="%Y-%m-%d %H:%M:%S")
    ingest([csv], path, kind="tickets")
    return path


def test_a_selection_reads_back_the_tickets_behind_it_masked(tmp_path, contracts):
    # Brushed months arrive as epoch milliseconds (a month's bar stands at its first day's
    # midnight in the browser's time, Beijing: 16:00 UTC the day before); clicks as lists of
    # field values.
    rows = [
        ticket(
            K,
            "K1",
            "2024-10-05 09:00",
            category="占道经营",
            district="天山路街道",
            summary="请回电13812345678",
        ),
        ticket(K, "K2", "2024-11-05 09:00", category="占道经营", district="天山路街道"),
        ticket(K, "K3", "2024-11-06 09:00", category="违章停车", district="天山路街道"),
        ticket(K, "K4", "2024-12-05 09:00", category="占道经营", district="胜利路街道"),
    ]
    path = database(tmp_path, contracts, rows)
    october_local = dt.datetime(2024, 9, 30, 16, tzinfo=dt.UTC).timestamp() * 1000
    november_local = dt.datetime(2024, 10, 31, 16, tzinfo=dt.UTC).timestamp() * 1000
    selections = {
        "months": {"yearmonth_month": [october_local + 3_600_000, november_local + 3_600_000]},
        "category": [{"category": "占道经营"}],
    }
    with db.connect(path, read_only=True) as con:
        picked = explore.selected_tickets(con, selections, [K])
        everything = explore.selected_tickets(con, {}, [K])
    # The brush runs from just after October's bar to just after November's: November only (the
    # month whose bar it covers), and of November's two tickets the one of the clicked category.
    assert picked["工单编号"].to_list() == ["K2"]
    assert everything["工单编号"].to_list() == ["K4", "K3", "K2", "K1"]  # newest first
    assert everything.filter(pl.col("工单编号") == "K1")["诉求内容"][0] == "请回电138****5678"
    xlsx = explore.export(everything, tmp_path / "选中的工单.xlsx")
    assert pl.read_excel(xlsx)["工单编号"].to_list() == ["K4", "K3", "K2", "K1"]
    assert explore.export(picked, tmp_path / "a.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    with pytest.raises(ValueError, match=r"export to \.csv or \.xlsx"):
        explore.export(picked, tmp_path / "a.json")


def test_measures_of_a_selection_by_hand(tmp_path, contracts):
    rows = [
        # A: dispatched in 10 min, closed in 2 h before its 3 h deadline, resolved and satisfied.
        ticket(
            K,
            "T1",
            "2024-10-05 09:00",
            category="A",
            dispatched_at="2024-10-05 09:10",
            replied_at="2024-10-05 09:30",
            closed_at="2024-10-05 11:00",
            due_at="2024-10-05 12:00",
            resolved=True,
            satisfied=True,
        ),
        # A: dispatched in 20 min, closed in 4 h, after its 3 h deadline; not resolved.
        ticket(
            K,
            "T2",
            "2024-10-06 09:00",
            category="A",
            dispatched_at="2024-10-06 09:20",
            replied_at="2024-10-06 10:00",
            closed_at="2024-10-06 13:00",
            due_at="2024-10-06 12:00",
            resolved=False,
        ),
        # B: never dispatched, replied or closed, its 1 h deadline long past by the last receipt.
        ticket(K, "T3", "2024-10-07 09:00", category="B", due_at="2024-10-07 10:00"),
        # A in November: closed in 1 h with no deadline, not satisfied.
        ticket(
            K,
            "T4",
            "2024-11-05 09:00",
            category="A",
            replied_at="2024-11-05 09:05",
            closed_at="2024-11-05 10:00",
            satisfied=False,
        ),
    ]
    path = database(tmp_path, contracts, rows)
    with db.connect(path, read_only=True) as con:
        by_category = explore.measures(con, {}, [K], by="category")
        october = explore.measures(con, {"category": [{"category": "A"}]}, [K], by="month")
    a, b = by_category.to_dicts()
    # A: 3 tickets; dispatch median of 10 and 20 = 15 min; close median of 2, 4, 1 = 2 h; closed
    # by due 1 of the 2 with a deadline; replied 3 of 3; resolved 1 of 2; satisfied 1 of 2.
    assert (a["问题类别"], a["受理工单数"], a["派发用时中位数"], a["办结用时中位数"]) == (
        "A",
        3,
        15,
        2,
    )
    assert (a["按时办结率"], a["响应率"], a["解决率"], a["满意率"]) == (0.5, 1.0, 0.5, 0.5)
    # B: 1 ticket, past its deadline and open (0 of 1); nothing dispatched, closed or judged:
    # those figures are undefined (null), not zero.
    assert (b["受理工单数"], b["按时办结率"], b["响应率"]) == (1, 0.0, 0.0)
    assert b["派发用时中位数"] is None and b["解决率"] is None and b["满意率"] is None
    # Clicking category A and grouping by month: October's T1 and T2, November's T4.
    assert october.select("月份", "受理工单数").rows() == [("2024-10", 2), ("2024-11", 1)]
    assert explore.definitions()["指标"].to_list()[0] == "受理工单数"
    with pytest.raises(ValueError, match="group by one of month, contract, category, district"):
        explore.measures(con, {}, [K], by="week")
