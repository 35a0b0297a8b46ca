"""Digests of what a computed figure depends on: the package's own code, the analysis settings and
the versions of the libraries that compute and draw (the manifest of rendered reports and the
stored statements both use them)."""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

from seatscore import __version__
from seatscore.core import config

PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The ``seatscore`` package folder (every layer)."""

LIBRARIES = (
    "altair",
    "chinesecalendar",
    "duckdb",
    "great-tables",
    "nbconvert",
    "papermill",
    "polars",
    "vl-convert-python",
)


def sha256_of(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


def code_digest(package_dir: Path = PACKAGE_DIR, analysis: Path = config.ANALYSIS_PARAMS) -> str:
    """SHA-256 of the package's files (source and templates), the analysis settings a report reads
    (``params/analysis.yaml``) and the versions of the libraries that compute or draw a report
    (``chinesecalendar`` among them: a new holiday notice changes working days)."""
    files = sorted(
        p
        for p in package_dir.rglob("*")
        if p.is_file() and p.suffix in {".py", ".j2", ".tpl", ".css", ".json"}
    )
    parts: list[str | bytes] = [__version__]
    for path in files:
        parts += [path.relative_to(package_dir).as_posix(), path.read_bytes()]
    parts += [f"{name}=={metadata.version(name)}" for name in LIBRARIES]
    parts += ["analysis", analysis.read_bytes() if analysis.exists() else b""]
    return sha256_of(*parts)
