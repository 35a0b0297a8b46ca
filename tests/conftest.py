"""Shared fixtures: the real contract params, and a small demo database built once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from seatscore.batch import render
from seatscore.ledgers import store as db
from seatscore.simulation.demo import write_demo_data
from seatscore.terms.contract_files import load_contracts
from seatscore.terms.contracts import Contract


def pytest_collection_modifyitems(items):
    """Tiers (pyproject.toml markers): a test on the session's rendered reports executes
    notebooks, and they are rendered once per test worker (one xdist group); a test on the demo
    database is slow (the database takes seconds to build)."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "rendered" in names:
            item.add_marker(pytest.mark.notebook)
            item.add_marker(pytest.mark.xdist_group("rendered"))
        if "demo_db" in names or "rendered" in names:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def contracts() -> dict[str, Contract]:
    return load_contracts()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory, contracts) -> Path:
    """A database with the contracts and seed-7 demo ledgers as of 2027-06-30 (after every
    service period: the whole of each), in a temporary folder."""
    root = tmp_path_factory.mktemp("demo")
    write_demo_data(contracts, seed=7, out_dir=root / "demo", as_of=dt.date(2027, 6, 30))
    path = root / "seatscore.duckdb"
    db.build(path, contracts, demo_dir=root / "demo")
    return path


# The first month of each service period and its nominal fee, worked out by hand:
# 000 五 1: 1,869,400 / 365 × 14 days; 001 1,079,668/11; 002 22/28 × 2,031,500/12; 003 11/30 × 2,020,000/12;
# 004 6,695,568/12.
FIRST_MONTHS = {
    "haidian-dispatch-2026": ("2026-06", "¥71,703.01", "北京市海淀区城市管理综合行政执法局"),
    "shijingshan-hotline-2024": ("2024-02", "¥98,151.64", "北京市石景山区城市管理委员会"),
    "beijing-enforcement-2025": ("2025-02", "¥133,014.88", "北京市城市管理综合行政执法局"),
    "karamay-grid-2024": ("2024-09", "¥61,722.22", "克拉玛依区城市网格化综合管理中心"),
    "haidian-hotline-2022": ("2022-04", "¥557,964.00", "北京市海淀区城市管理指挥中心"),
}


@pytest.fixture(scope="session")
def rendered(demo_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    jobs = [render.RenderJob(cid, month) for cid, (month, _, _) in FIRST_MONTHS.items()]
    jobs.append(render.RenderJob("karamay-grid-2024", "2030-01"))  # outside the service period
    results = render.render_all(jobs, demo_db, out, progress=False)
    return out, {(r.job.contract_id, r.job.month): r for r in results}


@pytest.fixture
def empty_db(tmp_path) -> Path:
    """A database with the five contracts and no ledger rows."""
    path = tmp_path / "seatscore.duckdb"
    db.build(path, load_contracts(), demo_dir=None)
    return path
