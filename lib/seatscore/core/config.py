"""Every path Seatscore uses, built from the project root (cookiecutter-data-science style).

The root is the folder holding ``pyproject.toml`` and ``params/``; override it with
``SEATSCORE_ROOT``. From a source checkout (``make install``: an editable install) it is the
checkout; from an installed wheel (``make install-offline``) it is the nearest such folder at or
above the working directory, passed on to child processes (the report kernels) through
``SEATSCORE_ROOT``.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Asia/Shanghai")
"""All contract times are Beijing time."""


def _is_root(folder: Path) -> bool:
    return (folder / "pyproject.toml").is_file() and (folder / "params").is_dir()


def project_root() -> Path:
    """``SEATSCORE_ROOT``; else the checkout this package is in; else the nearest project folder
    at or above the working directory (recorded in ``SEATSCORE_ROOT`` for child processes); else
    the working directory (commands that need ``params/`` then say it is missing)."""
    env = os.environ.get("SEATSCORE_ROOT")
    if env:
        return Path(env).resolve()
    checkout = Path(__file__).resolve().parents[3]
    if _is_root(checkout):
        return checkout
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if _is_root(folder):
            os.environ["SEATSCORE_ROOT"] = str(folder)
            return folder
    return cwd


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
