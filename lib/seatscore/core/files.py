"""Writing output files whole or not at all; reading small YAML settings files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TypeVar

import polars as pl
import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder and a rename,
    so a reader never sees a half-written file and a crash leaves none behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for others to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet reads a cell starting with one of these as a formula (OWASP, CSV injection)."""


def neutralise(value: str | None) -> str | None:
    """A cell safe to open in a spreadsheet: text starting with ``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return gets a leading apostrophe, so Excel and WPS show it as text instead of
    running it (OWASP's CSV-injection rule: ``=HYPERLINK(…)`` → ``'=HYPERLINK(…)``)."""
    if value is None or not value.startswith(FORMULA_START):
        return value
    return "'" + value


def safe_csv(frame: pl.DataFrame) -> str:
    """``frame`` as CSV text (UTF-8 with BOM, which Excel needs for Chinese), every cell — file
    names included — neutralised (:func:`neutralise`); numbers, dates and times are written as
    text first, so a negative figure is shown as ``'-5``."""
    text = frame.select(
        pl.col(c).cast(pl.String).map_elements(neutralise, return_dtype=pl.String)
        for c in frame.columns
    )
    return "\ufeff" + text.write_csv()


MAX_YAML_BYTES = 2 * 1024 * 1024
MAX_YAML_ALIASES = 100


def read_yaml_document(path: Path, error: type[Exception]) -> object:
    """``path`` (YAML, UTF-8) read with limits: at most :data:`MAX_YAML_BYTES` and
    :data:`MAX_YAML_ALIASES` aliases, counted before anything is expanded (a "billion laughs"
    file of a few lines would otherwise take minutes and all the memory). Raises ``error``
    naming the file and what is wrong."""
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise error(
                f"{path}: {size:,} bytes; a params or draft file is at most {MAX_YAML_BYTES:,}"
            )
        text = path.read_text(encoding="utf-8")
        aliases = sum(
            isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=yaml.SafeLoader)
        )
        if aliases > MAX_YAML_ALIASES:
            raise error(
                f"{path}: {aliases} YAML aliases (*name); a params or draft file needs none, and "
                "this many can expand without end. Write the values out."
            )
        return yaml.safe_load(text)
    except OSError as exc:
        raise error(f"{path}: cannot read the file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc


def read_yaml_model(
    path: Path, model: type[M], error: type[Exception], missing_hint: str = ""
) -> M:
    """``path`` (YAML, UTF-8) validated as ``model`` (pydantic). Raises ``error`` naming the file
    and what is wrong: unreadable (with ``missing_hint``), not YAML, or each bad field."""
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise error(f"{path}: cannot read the file ({exc.strerror}){missing_hint}") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors()
        )
        raise error(f"{path}: {problems}") from exc
