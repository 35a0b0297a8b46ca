"""Shared fixtures: the real contract params, and a small demo database built once."""

from __future__ import annotations

from pathlib import Path

import pytest
from seatscore import db
from seatscore.contracts import Contract, load_contracts
from seatscore.demo import write_demo_data


@pytest.fixture(scope="session")
def contracts() -> dict[str, Contract]:
    return load_contracts()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory, contracts) -> Path:
    """A database with the contracts and seed-7 demo ledgers, in a temporary folder."""
    root = tmp_path_factory.mktemp("demo")
    write_demo_data(contracts, seed=7, out_dir=root / "demo")
    path = root / "seatscore.duckdb"
    db.build(path, contracts, demo_dir=root / "demo")
    return path
