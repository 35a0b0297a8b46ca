"""Every path Seatscore uses, built from the project root (cookiecutter-data-science style).

The root is the folder holding ``pyproject.toml``; override it with ``SEATSCORE_ROOT``.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Asia/Shanghai")
"""All contract times are Beijing time."""


def project_root() -> Path:
    env = os.environ.get("SEATSCORE_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


ROOT = project_root()
PARAMS_DIR = ROOT / "params"
CONTRACTS_DIR = PARAMS_DIR / "contracts"
PUBLIC_PARAMS_DIR = PARAMS_DIR / "public"
"""Params of data that belong to no contract (a city's own call centre, a public dataset)."""
PROFILES_DIR = PARAMS_DIR / "profiles"
"""Import profiles (``seatscore ingest --profile``)."""
ANALYSIS_PARAMS = PARAMS_DIR / "analysis.yaml"
DATA_DIR = ROOT / "data"
DEMO_DIR = DATA_DIR / "demo"
DEFAULT_DB = DATA_DIR / "seatscore.duckdb"
NOTEBOOKS_DIR = ROOT / "notebooks"
REPORT_NOTEBOOK = NOTEBOOKS_DIR / "contract_report.ipynb"
ANALYSIS_NOTEBOOK = NOTEBOOKS_DIR / "service_levels.ipynb"
COMPARISON_NOTEBOOK = NOTEBOOKS_DIR / "vendor_comparison.ipynb"
EXPLORE_NOTEBOOK = NOTEBOOKS_DIR / "explore.ipynb"
SCENARIOS_DIR = PARAMS_DIR / "scenarios"
EXAMPLE_SCENARIO = SCENARIOS_DIR / "haidian-hotline-40-seats.yaml"
REPORTS_DIR = ROOT / "reports"
