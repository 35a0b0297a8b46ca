"""Load ledgers (台账) from CSV and Excel as buyers and vendors keep them, losing and doubling nothing.

A file goes through these steps; nothing is written until the last one, and that one is a single
transaction (a failure leaves the database exactly as it was):

1. **Read** every cell as text. CSV in UTF-8 (with or without BOM) or GB18030 (which contains GBK,
   as Chinese Excel saves "CSV"), read with the standard ``csv`` module so row numbers are exact;
   XLSX with python-calamine (every sheet, or one named), merged cells filled with their top-left
   value (a date merged down over several posts belongs to each). Rows are numbered as the file
   numbers them: a CSV's header is row 1, an Excel row is its row in the sheet.
2. **Map the header** onto the kind's canonical columns (:mod:`seatscore.ledgers.kinds`): the canonical
   names, the Chinese aliases each column lists (工单编号, 受理时间, 应到人数 …), and an import
   profile's renames. The header row is the first of the top 20 whose cells are mostly known
   (titles above it are skipped). An unknown column stops the file: a column dropped unread could
   be a deduction.
3. **Shape** with the profile: constants (the contract id), value maps (是/否, 紧急/一般), fixed
   formats for dates, regex extracts, categories from a taxonomy, and wide monthly figures turned
   into one KPI row per metric (``metrics``).
4. **Check** every row: types (percentages as ``43.7%``, ``43.7`` or ``0.437`` become a share;
   a plain number at most 1 among percents is ambiguous), required values, the kind's rules
   (:func:`~seatscore.ledgers.kinds.rule_problems`), the contract params (unknown contract, outside the
   service period, unknown post/item/penalty; Chinese names of posts, items and penalties are
   read as their ids), and natural keys: a repeated identical row is a duplicate, rows that give
   different values for one key (SF311's two May 2015 rows) are all rejected as conflicting, and
   a key the database already holds from another file is skipped when identical and rejected when
   different.
5. **Load** in one transaction: the accepted rows, one row in the ``loads`` history, and every
   rejected row in ``quarantine`` (file, sheet, row, column, value, reason and the whole row).
   Then a quarantine report (CSV) is written next to the database.

A load is identified by its content and its parameters (the file's SHA-256, kind, sheet, import
profile and ``--contract``), never by its file name: loading the same bytes with the same
parameters again changes nothing, and a file of the same name with other bytes (next month's
export, another folder) is a new load beside the first. Replacing an earlier load is an explicit
act (``replaces``: ``seatscore ingest FILE --replaces LOAD_ID``): the earlier load's rows are
removed, except those another active load also holds (``load_rows`` records every row each load
holds), and the earlier load is marked ``replaced_by`` the new one (the history keeps both). A
row whose natural key the database already holds with other values is a conflict, quarantined
with the load to replace if the file is a correction.

A CSV file larger than :data:`BATCH_FILE_BYTES` (a city's year of tickets) goes through the same
steps in pieces, in bounded memory (:func:`_load_batched`).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import queue
import re
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import polars as pl
from pydantic import Field, field_validator
from tqdm import tqdm  # the terminal bar: tqdm.auto warns in a kernel without ipywidgets

from seatscore.core import config
from seatscore.core.errors import IngestError
from seatscore.core.files import atomic_write, read_yaml_model, safe_csv
from seatscore.core.model import Model
from seatscore.ledgers import store as db
from seatscore.ledgers.kinds import (
    DEDUCTIONS,
    KINDS,
    KPIS,
    PENALTIES,
    ROSTER,
    SHARE_METRICS,
    STAFFING,
    Column,
    LedgerKind,
    Problem,
    key_problems,
    parse_values,
    reference_problems,
    row_sha1,
    rule_problems,
)
from seatscore.terms.contract_files import load_contract
from seatscore.terms.contracts import Contract
from seatscore.terms.measures import METRICS

LARGE_FILE_ROWS = 50_000
CSV_CELL_LIMIT = 8 * 1024 * 1024
"""The longest CSV cell read (the csv module's default, 128 KiB, is below a long complaint)."""
csv.field_size_limit(CSV_CELL_LIMIT)
"""Files with more rows than this show a progress bar while they are read."""
IGNORED_HEADERS = ("序号",)
"""Headers never loaded: a row counter is not data."""
_HEADER_SEARCH_ROWS = 20


# ---------------------------------------------------------------- profiles


class Extract(Model):
    """A canonical column taken from part of a source column: the first group of ``pattern``.
    Where the column is also mapped from a header of its own, the extract fills it only on the
    rows the pattern matches (a status ``duplicate`` read from a resolution text, the status
    column elsewhere)."""

    source: str
    pattern: str


class Taxonomy(Model):
    """``category`` from a category tree (一级/二级/三级分类, an Excel file) by keyword: the
    longest second- or third-level term the ``source`` column contains; ``fallback`` when none."""

    source: str
    file: str = Field(description="the tree's file, relative to the data file's folder")
    fallback: str = "（未匹配）"


class Profile(Model):
    """An import profile (``params/profiles/*.yaml``): how one layout maps onto a canonical kind.

    Header names are compared after trimming and collapsing spaces; full-width brackets count as
    ASCII ones. ``params`` names the params file (relative to the profile) of data that belong to
    no contract; it is registered with the data.
    """

    kind: str = Field(description="a ledger kind of seatscore.ledgers.kinds.KINDS")
    description: str = ""
    params: str | None = None
    encoding: str | None = None

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
        return kind

    sheet: str | None = None
    header_row: int | None = Field(default=None, ge=1)
    rename: dict[str, str] = {}
    ignore: list[str] = []
    constants: dict[str, str] = {}
    formats: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    metrics: dict[str, str] = {}
    extract: dict[str, Extract] = {}
    categories: Taxonomy | None = None


_GENERIC = ("管理", "服务", "问题", "处理", "建设", "保障", "工作", "事务")


def categories_from_taxonomy(topics: pl.Series, taxonomy: pl.DataFrame) -> pl.Series:
    """The first-level category (一级分类) of each topic, by keyword: the longest second- or
    third-level term of the tree (or the term without a generic ending such as 管理/服务) that
    the topic contains; null when none does. A keyword match, not a classifier: the share left
    unmatched is shown wherever the categories are."""
    terms = []
    for level in ("三级分类", "二级分类"):
        pairs = taxonomy.select(pl.col(level).alias("term"), "一级分类").unique("term")
        for term, top in pairs.iter_rows():
            if not term or term.startswith(("其他", "其它")):
                continue
            terms.append((term, top))
            stem = term.removesuffix(next((s for s in _GENERIC if term.endswith(s)), ""))
            if stem != term and len(stem) >= 2:
                terms.append((stem, top))  # 物业服务 → 物业, so that 物业管理 matches
    terms = list(dict.fromkeys(terms))
    terms.sort(key=lambda p: -len(p[0]))  # the most specific (longest) term wins
    out = []
    for topic in topics.to_list():
        found = next((top for term, top in terms if topic and term in topic), None)
        out.append(found)
    return pl.Series("category", out, dtype=pl.String)


def load_profile(path: Path | str) -> tuple[Profile, Path]:
    """Read and check an import profile; returns it with its resolved path.

    Raises :class:`IngestError` naming the file and what is wrong: not YAML, an unknown key, a
    rename, constant, format or value map naming a column the kind does not have, a metric key
    :mod:`seatscore.compute.service_levels` does not know."""
    path = Path(path).resolve()
    profile = read_yaml_model(path, Profile, IngestError)
    kind = KINDS[profile.kind]
    columns = {c.name for c in kind.columns}
    problems = []
    for where, names in (
        ("rename", profile.rename.values()),
        ("constants", profile.constants),
        ("formats", profile.formats),
        ("values", profile.values),
        ("extract", profile.extract),
    ):
        problems += [
            f"{where}: {n!r} is not a column of a {kind.name} ledger"
            for n in names
            if n not in columns
        ]
    if profile.metrics and kind is not KPIS:
        problems.append("metrics: only a kpis profile turns columns into metrics")
    problems += [
        f"metrics: {m!r} is not a metric key of seatscore.terms.measures.METRICS"
        for m in profile.metrics.values()
        if m not in METRICS
    ]
    if profile.categories and kind.name != "tickets":
        problems.append("categories: only a tickets profile reads a category tree")
    read = [*profile.rename, *profile.metrics, *(e.source for e in profile.extract.values())]
    read += [profile.categories.source] if profile.categories else []
    ignored = {_normal_header(h) for h in profile.ignore}
    problems += [
        f"ignore: {h!r} is read (rename, metrics, extract or categories), so it cannot be ignored"
        for h in dict.fromkeys(read)
        if _normal_header(h) in ignored
    ]
    if problems:
        raise IngestError(
            f"{path}: "
            + "; ".join(problems)
            + f". A {kind.name} ledger has the columns: "
            + ", ".join(sorted(columns))
        )
    return profile, path


# ---------------------------------------------------------------- reading


@dataclass
class Table:
    """One sheet (or CSV file) as text: the header cells and the rows under it, numbered as the
    file numbers them."""

    path: Path
    sheet: str | None
    sha256: str  # of the whole file
    rows: list[list[str | None]]  # as read: every row; after _split_header, the rows under it
    row_numbers: list[int] = field(default_factory=list)
    blank_rows: int = 0
    merged_cells: int = 0
    cut: dict[int, str] = field(default_factory=dict)  # row number as read → why it looks cut
    lines: list[int] = field(default_factory=list)  # CSV: the text line each record starts on
    hidden_skipped: list[str] = field(default_factory=list)  # hidden sheets left out


def _normal_header(text: str) -> str:
    text = text.replace("（", "(").replace("）", ")").replace("\u3000", " ")
    return re.sub(r"\s+", " ", text).strip()


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        # Excel stores a day number, which is 00:00 of that day (calamine gives a date for any
        # whole number, whatever the cell's format); date columns take the zero time too.
        return f"{value.isoformat()} 00:00:00"
    if isinstance(value, dt.time):
        return value.isoformat()
    text = str(value)
    return text if text.strip(" \t\r\n\u3000\u00a0") else None


def _decode(path: Path, data: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise IngestError(f"{path}: cannot read as {encoding}: {exc}") from exc
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    raise IngestError(
        f"{path}: neither UTF-8 nor GBK/GB18030 text; save it as CSV UTF-8, or give the "
        "encoding in an import profile (encoding: ...)"
    )


def _cut_rows(text: str, grid: list[list[str | None]]) -> dict[int, str]:
    """Rows of a CSV that look cut off (row numbers as read, from 1): an opening quote never
    closed (the rest of the file became one cell), or a last row with no line end after it (a
    copy interrupted mid-value: a 12 cut to 1). Rows with fewer cells than the header are found
    once the header is known (:func:`_split_header`)."""
    cut: dict[int, str] = {}
    if not grid:
        return cut
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), strict=True):
            pass
    except csv.Error:
        cut[len(grid)] = (
            "an opening quote is never closed: from here to the end of the file is one cell; "
            "the file is cut or malformed, export it again"
        )
        return cut
    if not text.endswith(("\n", "\r")):
        cut[len(grid)] = (
            "the file ends in this row without a line end: it may have been cut mid-value; "
            "export it again (or, if the row is whole, end the file with a line break)"
        )
    return cut


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")


@dataclass
class Workbook:
    """The sheets of a workbook to load, the hidden ones left out unless named."""

    path: Path
    sha256: str
    book: Any  # python-calamine's workbook
    names: list[str]
    hidden_skipped: list[str]

    @property
    def sheets(self) -> Iterator[tuple[str, Any]]:
        """(name, python-calamine sheet) of each sheet to load, read one at a time: calamine
        holds a sheet's cells in memory, about 1 KB a row of 15 columns."""
        for name in self.names:
            yield name, self.book.get_sheet_by_name(name)


def open_workbook(path: Path, sheet: str | None = None) -> Workbook:
    """A workbook's visible sheets (or the one named ``sheet``, hidden or not), read by
    python-calamine. Raises :class:`IngestError` for a file it cannot read or an unknown sheet."""
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for every format problem
        raise IngestError(f"{path}: cannot read the workbook: {exc}") from exc
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    names = book.sheet_names
    if sheet is not None and sheet not in names:
        raise IngestError(f"{path}: no sheet {sheet!r}; the workbook has {', '.join(names)}")
    hidden = [
        m.name for m in book.sheets_metadata if str(m.visible).lower().split(".")[-1] != "visible"
    ]
    skipped = [n for n in names if n in hidden] if sheet is None else []
    chosen = [sheet] if sheet is not None else [n for n in names if n not in hidden]
    return Workbook(path, digest.hexdigest(), book, chosen, skipped)


def _merged_filled(found: Any, grid: list[list]) -> int:
    """Fill each merged range's cells in ``grid`` (the sheet from A1) with its top-left value
    (a date merged down over several posts belongs to each); the number of cells filled."""
    merged = 0
    for (r0, c0), (r1, c1) in found.merged_cell_ranges or []:
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            for c in range(c0, min(c1, len(grid[r]) - 1) + 1):
                if (r, c) != (r0, c0) and grid[r][c] in ("", None):
                    grid[r][c] = grid[r0][c0]
                    merged += 1
    return merged


def _sheet_table(book: Workbook, name: str, found: Any) -> Table | None:
    """One sheet as a :class:`Table` (rows numbered from A1, merged cells filled); None for an
    empty sheet."""
    grid = found.to_python(skip_empty_area=False)
    merged = _merged_filled(found, grid)
    text = [[_cell_text(v) for v in row] for row in grid]
    if not any(c is not None for row in text for c in row):  # an empty sheet is no table
        return None
    return Table(book.path, name, book.sha256, text, merged_cells=merged)


def read_tables(path: Path, sheet: str | None = None, encoding: str | None = None) -> list[Table]:
    """The tables of a CSV or XLSX file, every cell as text (header not yet found: see
    :func:`_split_header`). ``sheet`` picks one sheet of a workbook; by default every sheet with
    data. Raises :class:`IngestError` for an unreadable file, an unknown sheet or suffix."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise IngestError(f"{path}: cannot read the file ({exc.strerror})") from exc
        text = _decode(path, data, encoding)
        reader = csv.reader(io.StringIO(text, newline=""))
        grid, lines, previous = [], [], 0
        try:
            for row in reader:  # a quoted cell may hold line breaks: a record spans lines
                grid.append([_cell_text(c) for c in row])
                lines.append(previous + 1)
                previous = reader.line_num
        except csv.Error as exc:
            raise IngestError(
                f"{path}: line {reader.line_num}: {exc}; a cell is at most "
                f"{CSV_CELL_LIMIT // 1024 // 1024} MiB of text. Is this a ledger? Nothing was loaded."
            ) from exc
        table = Table(path, None, hashlib.sha256(data).hexdigest(), grid)
        table.cut = _cut_rows(text, grid)
        table.lines = lines
        return [table]
    if suffix in WORKBOOK_SUFFIXES:
        book = open_workbook(path, sheet)
        tables = [t for name, found in book.sheets if (t := _sheet_table(book, name, found))]
        for table in tables:
            table.hidden_skipped = book.hidden_skipped
        return tables
    raise IngestError(f"{path}: not a CSV or Excel (.xlsx) file")


# ---------------------------------------------------------------- mapping the header


@dataclass
class _Mapping:
    canonical: dict[int, str]  # cell position → canonical column
    sources: dict[str, int]  # normalised header → position (for extracts, categories, metrics)
    headers: list[str]  # as written
    header_at: int = 0  # the header's index among the rows as read (0: the first row)


def _known_headers(kind: LedgerKind, profile: Profile | None) -> dict[str, str | None]:
    """Normalised header → canonical column (None: read but not loaded as a column)."""
    known: dict[str, str | None] = {}
    for c in kind.columns:
        known[_normal_header(c.name)] = c.name
        for alias in c.aliases:
            known[_normal_header(alias)] = c.name
    if profile is not None:
        for source, target in profile.rename.items():
            known[_normal_header(source)] = target
        for source in profile.metrics:
            known[_normal_header(source)] = None
        for extract in profile.extract.values():
            known.setdefault(_normal_header(extract.source), None)
        if profile.categories is not None:
            known.setdefault(_normal_header(profile.categories.source), None)
    return known


def _ignored(profile: Profile | None) -> set[str]:
    return {_normal_header(h) for h in (*IGNORED_HEADERS, *(profile.ignore if profile else ()))}


def _split_header(table: Table, kind: LedgerKind, profile: Profile | None) -> _Mapping:
    known, ignored = _known_headers(kind, profile), _ignored(profile)
    grid = table.rows
    if profile is not None and profile.header_row is not None:
        at = profile.header_row - 1
        if at >= len(grid):
            raise IngestError(f"{_where(table)}: header_row {profile.header_row} is past the end")
    else:
        at = None
        for i, row in enumerate(grid[:_HEADER_SEARCH_ROWS]):
            cells = [_normal_header(c) for c in row if c is not None]
            if not cells:
                continue
            hits = sum(1 for c in cells if c in known or c in ignored)
            renamed = {_normal_header(h) for h in (profile.rename if profile else {})}
            # A profile's renames name the header: a wide export (311's 40 columns, 9 of them
            # used) is found by them without listing every other column.
            if hits >= max(1, (len(cells) + 1) // 2) or (renamed and renamed <= set(cells)):
                at = i
                break
        if at is None:
            expected = ", ".join(sorted({h for h in known}))
            raise IngestError(
                f"{_where(table)}: no header row found; none of the first rows names the columns "
                f"of a {kind.name} ledger ({expected}). Give header_row and rename in an import "
                "profile (--profile)."
            )
    body = grid[at + 1 :]
    # Cells right of the last header still count: a value there with no header is reported,
    # never cut off.
    width = max([len(grid[at]), *(len(r) for r in body)])
    headers = [c or "" for c in grid[at]] + [""] * (width - len(grid[at]))
    numbers, rows, blank = [], [], 0
    named = len([c for c in grid[at] if c is not None]) if table.sheet is None else 0
    for offset, row in enumerate(body):
        if all(c is None for c in row):
            blank += 1
            continue
        number = at + 2 + offset
        if len(row) < named and number not in table.cut:  # CSV only: Excel rows are padded
            table.cut[number] = (
                f"the row has {len(row)} of the {named} cells its header names: the file looks "
                "cut off here; export it again"
            )
        numbers.append(number)
        rows.append(row + [None] * (len(headers) - len(row)))
    table.rows, table.row_numbers, table.blank_rows = rows, numbers, blank
    canonical, sources, unknown, doubled = {}, {}, [], []
    for pos, header in enumerate(headers):
        name = _normal_header(header)
        if not name:
            if any(r[pos] is not None for r in rows):  # rows are padded to the headers
                unknown.append(f"(no header, column {_column_letter(pos)})")
            continue
        if name in ignored:
            continue
        sources[name] = pos
        if name not in known:
            unknown.append(f"{header!r} (column {_column_letter(pos)})")
            continue
        target = known[name]
        if target is not None:
            if target in canonical.values():
                doubled.append(f"{header!r} and another header both mean {target}")
            canonical[pos] = target
    if unknown or doubled:
        raise IngestError(
            f"{_where(table)}: "
            + "; ".join(([f"unknown column(s) {', '.join(unknown)}"] if unknown else []) + doubled)
            + f". A {kind.name} ledger reads: "
            + "; ".join(
                f"{c.name} ({'/'.join(c.aliases)})" if c.aliases else c.name for c in kind.columns
            )
            + ". Rename it to one of these, or list it under ignore: in an import profile "
            "(--profile) if it is not to be loaded."
        )
    return _Mapping(canonical, sources, headers, at)


def _column_letter(pos: int) -> str:
    letters = ""
    pos += 1
    while pos:
        pos, rem = divmod(pos - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _where(table: Table) -> str:
    return f"{table.path}" + (f" sheet {table.sheet!r}" if table.sheet else "")


# ---------------------------------------------------------------- shaping


@dataclass
class Shaped:
    """A table as canonical text columns, one row per ledger row, with where each came from:
    ``_row`` (the file's row number), ``_raw`` (the whole source row, JSON) and, for wide KPIs,
    ``_value_header`` (the metric's column). ``headers`` names each canonical column's source."""

    frame: pl.DataFrame
    headers: dict[str, str]  # canonical column → header as written (for problem reports)
    empty_cells: int = 0


def _columns_of(
    table: Table, mapping: _Mapping
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, str]]:
    """The table's mapped columns as text (with ``_row``, the file's row number, and ``_raw``,
    every cell of the row as JSON for the quarantine), the source columns a profile reads, and
    each canonical column's header in the file. A progress bar on large files."""
    headers = mapping.headers
    progress = tqdm(
        total=len(table.rows),
        desc=table.path.name,
        unit="行",
        disable=len(table.rows) <= LARGE_FILE_ROWS,
    )
    columns: dict[str, list[str | None]] = {name: [] for name in mapping.canonical.values()}
    sources: dict[str, list[str | None]] = {h: [] for h in mapping.sources}
    raws: list[str] = []
    for row in table.rows:
        for pos, name in mapping.canonical.items():
            columns[name].append(row[pos])
        for name, pos in mapping.sources.items():
            sources[name].append(row[pos])
        raws.append(
            json.dumps(
                {
                    h or _column_letter(i): row[i]
                    for i, h in enumerate(headers)
                    if row[i] is not None
                },
                ensure_ascii=False,
            )
        )
        progress.update()
    progress.close()
    named = {name: headers[pos] for pos, name in mapping.canonical.items()}
    frame = pl.DataFrame(
        {
            **{name: pl.Series(name, values, dtype=pl.String) for name, values in columns.items()},
            "_row": pl.Series("_row", table.row_numbers, dtype=pl.Int32),
            "_raw": pl.Series("_raw", raws, dtype=pl.String),
        }
    )
    source = pl.DataFrame(
        {n: pl.Series(n, v, dtype=pl.String) for n, v in sources.items()}, height=frame.height
    )
    return frame, source, named


def _apply_profile(
    table: Table,
    profile: Profile,
    frame: pl.DataFrame,
    source: pl.DataFrame,
    named: dict[str, str],
) -> pl.DataFrame:
    """A profile's extracts (a pattern on a source column), category tree, constants and value
    maps; ``named`` gains the header each derived column comes from."""
    for name, extract in profile.extract.items():
        src = _normal_header(extract.source)
        if src not in source.columns:
            raise IngestError(
                f"{_where(table)}: extract {name} reads {extract.source!r}, not found"
            )
        found = source[src].str.extract(extract.pattern)
        if name in frame.columns:
            found = found.fill_null(frame[name])
            named[name] = f"{named[name]} / {extract.source}"
        else:
            named[name] = extract.source
        frame = frame.with_columns(found.alias(name))
    if profile.categories is not None:
        frame = frame.with_columns(_categories(table, profile.categories, source))
        named["category"] = profile.categories.source
    for name, value in profile.constants.items():
        if name in frame.columns:
            frame = frame.with_columns(pl.col(name).fill_null(pl.lit(value)))
        else:
            frame = frame.with_columns(pl.lit(value, dtype=pl.String).alias(name))
            named[name] = f"(profile constant {name})"
    for name, mapping_values in profile.values.items():
        if name in frame.columns:
            frame = frame.with_columns(pl.col(name).replace(mapping_values))
    return frame


def _shape(
    table: Table,
    mapping: _Mapping,
    kind: LedgerKind,
    profile: Profile | None,
    contract_id: str | None,
) -> Shaped:
    return _shape_columns(table, *_columns_of(table, mapping), kind, profile, contract_id)


def _shape_columns(
    table: Table,
    frame: pl.DataFrame,
    source: pl.DataFrame,
    named: dict[str, str],
    kind: LedgerKind,
    profile: Profile | None,
    contract_id: str | None,
) -> Shaped:
    """Mapped text columns (``frame``, with ``_row``), the source columns a profile reads and
    each column's header, shaped by the profile and ``--contract``."""
    if profile is not None:
        frame = _apply_profile(table, profile, frame, source, named)
    if contract_id is not None:
        if "contract_id" in frame.columns:
            frame = frame.with_columns(pl.col("contract_id").fill_null(pl.lit(contract_id)))
        else:
            frame = frame.with_columns(pl.lit(contract_id, dtype=pl.String).alias("contract_id"))
            named["contract_id"] = "(--contract)"
    empty = 0
    if profile is not None and profile.metrics:
        frame, empty = _unpivot(frame, source, profile.metrics, named)
    if profile is not None:
        for name, fmt in profile.formats.items():
            if name in frame.columns:
                frame = frame.with_columns(_with_format(kind, name, fmt))
    if kind is KPIS and "month" in frame.columns:
        frame = frame.with_columns(_normal_month(pl.col("month")))
    missing = [c.name for c in kind.columns if c.required and c.name not in frame.columns]
    if missing:
        raise IngestError(
            f"{_where(table)}: no column for {', '.join(missing)} (required in a {kind.name} "
            "ledger). Add it to the file (docs/reference/ledgers.md lists the Chinese headers read), give it "
            "with --contract for contract_id, or map it in an import profile."
        )
    return Shaped(frame, named, empty)


def _unpivot(
    frame: pl.DataFrame, source: pl.DataFrame, metrics: dict[str, str], named: dict[str, str]
) -> tuple[pl.DataFrame, int]:
    """One KPI row per (source row, metric column) with a figure; empty cells are no figure."""
    parts, empty = [], 0
    for header, metric in metrics.items():
        values = source[_normal_header(header)]
        part = frame.with_columns(
            pl.lit(metric).alias("metric"),
            values.alias("value"),
            pl.lit(header).alias("_value_header"),
        )
        empty += part["value"].is_null().sum()
        parts.append(part.filter(pl.col("value").is_not_null()))
    named["metric"] = "(profile metrics)"
    named["value"] = "(metric column)"
    return pl.concat(parts).sort("_row", maintain_order=True), empty


def _with_format(kind: LedgerKind, name: str, fmt: str) -> pl.Expr:
    """Parse ``name`` with a fixed strptime format and write it the canonical way."""
    dtype = next(c.dtype for c in kind.columns if c.name == name)
    parsed = pl.col(name).str.strip_chars().str.to_datetime(fmt, strict=False)
    canonical = "%Y-%m" if name == "month" else "%Y-%m-%d" if dtype == pl.Date() else None
    out = parsed.dt.strftime(canonical or "%Y-%m-%d %H:%M:%S")
    return pl.when(parsed.is_not_null()).then(out).otherwise(pl.col(name)).alias(name)


def _normal_month(text: pl.Expr) -> pl.Expr:
    """``2015-05``, ``2015/5``, ``2015年5月``, or the first of a month (as spreadsheets store
    months) → ``2015-05``; anything else unchanged (and rejected as not YYYY-MM)."""
    parts = text.str.strip_chars().str.extract_groups(
        r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:\s*[-/.]\s*0?1\s*日?(?:\s+0{1,2}:00(?::00)?)?)?$"
    )
    month = pl.format("{}-{}", parts.struct.field("1"), parts.struct.field("2").str.zfill(2))
    return pl.when(parts.struct.field("1").is_not_null()).then(month).otherwise(text).alias("month")


def _categories(table: Table, taxonomy: Taxonomy, source: pl.DataFrame) -> pl.Expr:

    tree = Path(taxonomy.file)
    tree = tree if tree.is_absolute() else table.path.parent / tree
    if not tree.exists():
        raise IngestError(
            f"{_where(table)}: the category tree {tree} is not there (categories.file in the "
            "profile is read next to the data file)"
        )
    found = categories_from_taxonomy(source[_normal_header(taxonomy.source)], pl.read_excel(tree))
    return pl.lit(found.fill_null(taxonomy.fallback)).alias("category")


# ---------------------------------------------------------------- checking


def _percent_problems(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
    """KPI values: ``43.7%`` → 0.437. A share metric's plain numbers are shares when all of that
    metric's plain numbers in the file are at most 1, percents when any is above 1; then a plain
    number at most 1 (``0.5``: half, or half a percent?) is ambiguous and rejected. A ``%`` on a
    metric that is not a share is rejected."""
    text = pl.col("value").str.strip_chars(" \t\u3000\u00a0")
    is_pct = text.str.ends_with("%") | text.str.ends_with("％")
    number = text.str.replace(r"[%％]$", "").str.replace_all(",", "").cast(pl.Float64, strict=False)
    share = pl.col("metric").is_in(sorted(SHARE_METRICS))
    plain_share = share & ~is_pct & number.is_not_null()
    per_cent_scale = (plain_share & (number > 1)).any().over("metric")
    frame = frame.with_columns(
        _is_pct=is_pct, _number=number, _plain=plain_share, _scale=per_cent_scale
    )
    problems = [
        Problem(i, "value", "percent", "a percent on a figure that is not a share")
        for i in frame.with_row_index("_i").filter(
            pl.col("_is_pct") & ~share & pl.col("_number").is_not_null()
        )["_i"]
    ]
    problems += [
        Problem(
            i,
            "value",
            "ambiguous_percent",
            f"{v} is ambiguous: other rows give this metric in percent, so it may be {v}% or "
            f"{float(v) * 100:g}%; write it with a % sign",
        )
        for i, v in frame.with_row_index("_i")
        .filter(pl.col("_plain") & pl.col("_scale") & (pl.col("_number") <= 1))
        .select("_i", "value")
        .rows()
    ]
    # Rounded to 12 places: 43.7 / 100 in binary floating point is 0.43700000000000006.
    value = (
        pl.when(pl.col("_is_pct") & share)
        .then((pl.col("_number") / 100).round(12))
        .when(pl.col("_plain") & pl.col("_scale"))
        .then((pl.col("_number") / 100).round(12))
        .otherwise(None)
    )
    frame = frame.with_columns(
        pl.when(value.is_not_null())
        .then(value.cast(pl.String))
        .otherwise(pl.col("value"))
        .alias("value")
    ).drop("_is_pct", "_number", "_plain", "_scale")
    return frame, problems


def _resolve_names(
    kind: LedgerKind, typed: pl.DataFrame, contracts: dict[str, Contract]
) -> pl.DataFrame:
    """Chinese names of posts, rule items and penalties read as their ids, per contract; a
    fixed-point item's 扣分 that equals its points (per occurrence or in all) read as empty."""
    column = {
        STAFFING: "post_id",
        ROSTER: "post_id",
        DEDUCTIONS: "item_id",
        PENALTIES: "penalty_id",
    }.get(kind)
    if column is None:
        return typed
    pairs = []
    for cid, c in contracts.items():
        if kind in (STAFFING, ROSTER):
            pairs += [(cid, p.name_zh, p.post_id) for p in c.posts]
        elif kind is PENALTIES:
            pairs += [(cid, p.name_zh, p.penalty_id) for p in c.penalties]
        elif c.assessment.value is not None:
            pairs += [(cid, i.name_zh, i.item_id) for i in c.assessment.value.items]
    names = pl.DataFrame(
        pairs, schema={"contract_id": pl.String, column: pl.String, "_id": pl.String}, orient="row"
    ).unique(["contract_id", column], keep="none")
    typed = (
        typed.join(names, on=["contract_id", column], how="left", maintain_order="left")
        .with_columns(pl.coalesce("_id", column).alias(column))
        .drop("_id")
    )
    if kind is DEDUCTIONS:
        fixed = [
            (cid, i.item_id, i.points)
            for cid, c in contracts.items()
            if c.assessment.value is not None
            for i in c.assessment.value.items
            if i.kind == "per_occurrence"
        ]
        points = pl.DataFrame(
            fixed,
            schema={
                "contract_id": pl.String,
                "item_id": pl.String,
                "_points": typed["assessed_points"].dtype,
            },
            orient="row",
        )
        typed = (
            typed.join(points, on=["contract_id", "item_id"], how="left", maintain_order="left")
            .with_columns(
                pl.when(
                    (pl.col("assessed_points") == pl.col("_points"))
                    | (pl.col("assessed_points") == pl.col("_points") * pl.col("occurrences"))
                )
                .then(None)
                .otherwise(pl.col("assessed_points"))
                .alias("assessed_points")
            )
            .drop("_points")
        )
    return typed


def _same_key_problems(kind: LedgerKind, typed: pl.DataFrame) -> list[Problem]:
    """Within the file: a row repeating an earlier identical row is a ``duplicate``; rows that
    share a natural key but differ are all ``conflict``."""
    if not kind.natural_key:
        return []
    key = list(kind.natural_key)
    values = [c.name for c in kind.columns]
    indexed = typed.with_row_index("_i").filter(
        pl.all_horizontal(pl.col(c).is_not_null() for c in key)
    )
    groups = indexed.with_columns(
        _n=pl.len().over(key),
        _variants=pl.struct(values).n_unique().over(key),
        _rows=pl.col("_row").over(key, mapping_strategy="join"),
    ).filter(pl.col("_n") > 1)
    problems = []
    described = ", ".join(key)
    for r in groups.iter_rows(named=True):
        others = ", ".join(str(x) for x in r["_rows"] if x != r["_row"])
        if r["_variants"] == 1:
            first = min(r["_rows"])
            if r["_row"] != first:
                problems.append(
                    Problem(r["_i"], key[-1], "duplicate", f"repeats row {first} ({described})")
                )
        else:
            problems.append(
                Problem(
                    r["_i"],
                    key[-1],
                    "conflict",
                    f"row(s) {others} give other values for the same {described}; "
                    "none is loaded until one is removed",
                )
            )
    return problems


def _remove_load(con: duckdb.DuckDBPyConnection, kind: LedgerKind, load_id: int) -> None:
    """Delete the rows load ``load_id`` brought, except those another active load also holds:
    those are handed to that load, so a row two files share survives the correction of one.

    In SQL but for the shared rows: a city's year replaced by its correction is one DELETE; only
    when some row of the load is also held by another is the load read to find which."""
    shared = db.query(
        con,
        """SELECT r.row_sha1, min(r.load_id) AS other FROM load_rows r JOIN loads l USING (load_id)
           WHERE r.kind = $kind AND r.load_id <> $id AND l.replaced_by IS NULL
             AND r.row_sha1 IN (SELECT row_sha1 FROM load_rows WHERE load_id = $id)
           GROUP BY r.row_sha1""",
        kind=kind.name,
        id=load_id,
    )
    if not shared.is_empty():
        others = dict(shared.rows())
        rows = db.query(
            con, f"SELECT rowid AS _rid, * FROM {kind.table} WHERE load_id = $id", id=load_id
        )
        for rid, sha in zip(rows["_rid"].to_list(), row_sha1(kind, rows), strict=True):
            if sha in others:
                con.execute(
                    f"UPDATE {kind.table} SET load_id = ? WHERE rowid = ?", [others[sha], rid]
                )
    con.execute(f"DELETE FROM {kind.table} WHERE load_id = ?", [load_id])


def _database_key_check(
    con: duckdb.DuckDBPyConnection, kind: LedgerKind, checked: pl.DataFrame
) -> tuple[list[int], list[Problem]]:
    """Rows of ``checked`` (typed, with its index ``_i``) whose natural key the database already
    holds: identical ones (their ``_i``, to be skipped) and different ones (``conflict``
    problems naming the file and row that holds it)."""
    if not kind.natural_key or checked.is_empty():
        return [], []
    key = list(kind.natural_key)
    values = [c.name for c in kind.columns]
    on = " AND ".join(f"t.{k} = i.{k}" for k in key)
    if kind.name == "tickets":  # the cluster key lets the zone maps skip other contracts
        checked = db.with_contract_key(checked)
        on = f"t.{db.CLUSTER_KEY} = i.{db.CLUSTER_KEY} AND {on}"
    con.register("_incoming", checked.to_arrow())
    try:
        same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM i.{c}" for c in values)
        found = con.sql(
            f"""SELECT i._i AS i, ({same}) AS same, t.source_file AS file, t.source_sheet AS sheet,
                       t.source_row AS row, t.load_id AS load
                FROM _incoming i JOIN {kind.table} t ON {on}"""
        ).pl()
    finally:
        con.unregister("_incoming")
    identical = found.filter(pl.col("same"))["i"].to_list()
    problems = [
        Problem(
            r["i"],
            key[-1],
            "conflict",
            f"the database holds other values for this {', '.join(key)} from {r['file']}"
            + (f" sheet {r['sheet']}" if r["sheet"] else "")
            + f" row {r['row']}"
            + (
                f" (load {r['load']}); if this file corrects it, load it with --replaces {r['load']}"
                if r["load"] is not None
                else ""
            ),
        )
        for r in found.filter(~pl.col("same")).unique("i").iter_rows(named=True)
    ]
    return identical, problems


# ---------------------------------------------------------------- the load


@dataclass
class TableResult:
    """What happened to one sheet or CSV file. Row counts are ledger rows (a wide KPI row gives
    one per metric); ``rows_read`` counts the file's rows under the header."""

    path: str
    sheet: str | None
    kind: str
    status: Literal["loaded", "unchanged", "replaced"] = "loaded"
    load_id: int | None = None
    rows_read: int = 0
    ledger_rows: int = 0
    loaded: int = 0
    already: int = 0
    rejected: int = 0
    rejected_source_rows: int = 0
    reasons: Counter = field(default_factory=Counter)
    blank_rows: int = 0
    merged_cells: int = 0
    empty_cells: int = 0
    replaced_load: int | None = None
    same_as_load: int | None = None
    quarantine_file: Path | None = None
    contract_ids: list[str] = field(default_factory=list)
    hidden_skipped: list[str] = field(default_factory=list)
    quarantine_error: str | None = None

    def lines(self) -> list[str]:
        where = self.path + (f" [{self.sheet}]" if self.sheet else "")
        if self.status == "unchanged":
            return [
                f"{where}: unchanged (already loaded as load {self.same_as_load}); nothing written"
            ]
        head = f"{where}: {self.kind}, {self.rows_read:,} row(s) read"
        if self.ledger_rows != self.rows_read:
            head += f" → {self.ledger_rows:,} ledger row(s)"
        out = [
            head + f"; loaded {self.loaded:,}, already in the database {self.already:,}, "
            f"rejected {self.rejected:,}"
            + (f" (from {self.rejected_source_rows:,} row(s) of the file)" if self.rejected else "")
        ]
        if self.status == "replaced":
            out.append(f"  replaces load {self.replaced_load} (a previous version of this file)")
        for code, n in sorted(self.reasons.items()):
            out.append(f"  rejected, {code}: {n:,}")
        notes = []
        if self.blank_rows:
            notes.append(f"{self.blank_rows:,} blank row(s) skipped")
        if self.merged_cells:
            notes.append(f"{self.merged_cells:,} merged cell(s) filled from their first cell")
        if self.empty_cells:
            notes.append(f"{self.empty_cells:,} empty figure cell(s): no figure, nothing loaded")
        if self.hidden_skipped:
            notes.append(
                f"hidden sheet(s) not loaded: {', '.join(self.hidden_skipped)} "
                "(name one with --sheet to load it)"
            )
        if notes:
            out.append("  " + "; ".join(notes))
        if self.quarantine_file:
            out.append(f"  quarantine report: {self.quarantine_file}")
        if self.quarantine_error:
            out.append(f"  {self.quarantine_error}")
        return out


@dataclass
class _Prepared:
    table: Table
    kind: LedgerKind
    shaped: Shaped
    typed: pl.DataFrame
    problems: list[Problem]
    result: TableResult


def ingest(
    files: list[Path | str],
    db_path: Path | str = config.DEFAULT_DB,
    kind: str | None = None,
    contract_id: str | None = None,
    profile_path: Path | str | None = None,
    sheet: str | None = None,
    quarantine_dir: Path | None = None,
    replaces: int | None = None,
) -> list[TableResult]:
    """Load ``files`` into the database at ``db_path``; see the module text for the steps.

    ``replaces``: the load id (``seatscore loads``) this file corrects; its rows are removed in
    the same transaction, but for those another active load also holds.

    ``kind`` (a :data:`~seatscore.ledgers.kinds.KINDS` name) is required unless the profile gives it.
    ``contract_id`` fills an absent or empty contract id column. Rejected rows go to the
    ``quarantine`` table and a CSV report under ``quarantine_dir`` (default: ``quarantine/`` next
    to the database). Returns one :class:`TableResult` per sheet or CSV file.

    Raises :class:`IngestError` (nothing written) for a file that cannot be read as a ledger:
    unreadable, an unknown sheet, no header row, an unknown or doubled column, a required column
    missing, no kind given, ``replaces`` not an active load of the same kind or with more than one
    file or sheet; :class:`~seatscore.core.errors.SeatscoreError` for a database an older Seatscore
    made. An interruption during the load rolls the transaction back.
    """
    profile, profile_file = (None, None)
    if profile_path is not None:
        profile, profile_file = load_profile(profile_path)
    spec = _kind_to_load(kind, profile, profile_file)
    db_path = Path(db_path)
    params_contract = None
    if profile is not None and profile.params is not None:
        params_file = (profile_file.parent / profile.params).resolve()
        params_contract = (load_contract(params_file), params_file)
    profile_sha = hashlib.sha256(profile_file.read_bytes()).hexdigest() if profile_file else None

    with _no_new_empty_file(db_path), db.connect(db_path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            db.ensure_schema(con)
            if params_contract is not None:
                db.upsert_contract(con, *params_contract)
            contracts = db.load_contracts(con)
            if replaces is not None:
                if len(files) > 1:
                    raise IngestError(_ONE_FILE)
                _check_replaced(con, spec, replaces)
            request = _Request(
                spec, profile, profile_file, profile_sha, contract_id, sheet, replaces
            )
            results = _load_files(con, list(map(Path, files)), request, contracts, db_path.parent)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        _write_quarantines(con, quarantine_dir or db_path.parent / "quarantine", results)
    return results


@dataclass
class _Request:
    """What ``seatscore ingest`` was asked to load the files as."""

    kind: LedgerKind
    profile: Profile | None
    profile_file: Path | None
    profile_sha: str | None
    contract_id: str | None
    sheet: str | None
    replaces: int | None


def _could_be_unchanged(con: duckdb.DuckDBPyConnection, r: _Request) -> bool:
    """Whether an active load of a CSV file could be the same bytes read the same way (same
    profile and ``--contract``): only then must a large file be hashed before it is read."""
    return not (
        _active_loads(con, r.kind, None)
        .filter(
            pl.col("profile_sha256").eq_missing(pl.lit(r.profile_sha, dtype=pl.String)),
            pl.col("contract_option").eq_missing(pl.lit(r.contract_id, dtype=pl.String)),
        )
        .is_empty()
    )


def _load_files(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    r: _Request,
    contracts: dict[str, Contract],
    folder: Path,
) -> list[TableResult]:
    """Load every sheet of ``files`` (inside the caller's transaction); a large CSV file in
    batches (:func:`_load_batched`), with its scratch files in ``folder``."""
    results: list[TableResult] = []
    profile = r.profile
    encoding = profile.encoding if profile else None
    sheet = r.sheet or (profile.sheet if profile else None)
    for path in files:
        if _batched(path, r.kind):
            if r.replaces is not None and results:
                raise IngestError(_ONE_FILE)
            big = _scan_big_csv(path, encoding, folder, _could_be_unchanged(con, r))
            results.append(_load_batched(con, folder, big, r, contracts))
            continue
        tables: list[Table] = []
        if path.suffix.lower() in WORKBOOK_SUFFIXES:
            book = open_workbook(path, sheet)
            for name, found in book.sheets:
                if r.kind is not KPIS and found.height > BATCH_SHEET_ROWS:
                    if r.replaces is not None and (results or tables):
                        raise IngestError(_ONE_FILE)
                    big = _BigSheet(book, name, found)
                    results.append(_load_batched(con, folder, big, r, contracts))
                    results[-1].hidden_skipped = book.hidden_skipped
                elif table := _sheet_table(book, name, found):
                    table.hidden_skipped = book.hidden_skipped
                    tables.append(table)
        else:
            tables = read_tables(path, sheet, encoding)
        for table in tables:
            same = _same_load(con, r.kind, table, r.profile_sha, r.contract_id)
            if same is not None:  # the same bytes again: not even parsed
                results.append(same)
                continue
            prepared = _prepare(table, r.kind, profile, r.contract_id, contracts)
            if r.replaces is not None and results:
                raise IngestError(_ONE_FILE)
            results.append(
                _load(
                    con,
                    prepared,
                    r.profile_file,
                    r.profile_sha,
                    contracts,
                    r.contract_id,
                    r.replaces,
                )
            )
    return results


def _kind_to_load(
    kind: str | None, profile: Profile | None, profile_file: Path | None
) -> LedgerKind:
    """The ledger kind from ``--kind`` or the profile; :class:`IngestError` when neither gives
    one, they disagree, or the name is not a kind."""
    kind_name = kind or (profile.kind if profile else None)
    if kind_name is None:
        raise IngestError("say which ledger this is: --kind " + "|".join(KINDS) + " or --profile")
    if profile is not None and kind is not None and kind != profile.kind:
        raise IngestError(f"--kind {kind} but the profile {profile_file} is for {profile.kind}")
    if kind_name not in KINDS:
        raise IngestError(f"unknown kind {kind_name!r}; one of {', '.join(KINDS)}")
    return KINDS[kind_name]


def _same_load(
    con: duckdb.DuckDBPyConnection,
    spec: LedgerKind,
    table: Table,
    profile_sha: str | None,
    contract_id: str | None,
) -> TableResult | None:
    """An ``unchanged`` result when an active load already holds these bytes, read with the same
    profile and ``--contract`` (the load's identity); None otherwise."""
    same = _active_loads(con, spec, table.sheet).filter(
        (pl.col("sha256") == table.sha256)
        & pl.col("profile_sha256").eq_missing(pl.lit(profile_sha, dtype=pl.String))
        & pl.col("contract_option").eq_missing(pl.lit(contract_id, dtype=pl.String))
    )
    if same.is_empty():
        return None
    return TableResult(
        path=db.display_path(table.path),
        sheet=table.sheet,
        kind=spec.name,
        status="unchanged",
        same_as_load=same["load_id"][0],
    )


def _write_quarantines(
    con: duckdb.DuckDBPyConnection, quarantine_dir: Path, results: list[TableResult]
) -> None:
    """The quarantine report of each load with rejected rows; a report that cannot be written
    is recorded on its result (the rows are committed: say so, do not claim otherwise)."""
    for result in results:
        if result.status != "unchanged" and result.rejected:
            try:
                result.quarantine_file = _write_quarantine(con, quarantine_dir, result)
            except OSError as exc:
                result.quarantine_error = (
                    f"the quarantine report could not be written to {quarantine_dir} "
                    f"({exc.strerror or exc}); the rows were loaded and the rejected ones are "
                    f"in the database's quarantine table (load {result.load_id}); give "
                    "--quarantine-dir a folder you can write to for the report"
                )


def _typed(
    table: Table, kind: LedgerKind, profile: Profile | None, contract_id: str | None
) -> tuple[Shaped, pl.DataFrame, list[Problem]]:
    """A table's header mapped, shaped and parsed: the kind's typed columns plus ``_row``,
    ``_raw`` (and ``_value_header`` for wide KPIs), with the percent and parse problems."""
    mapping = _split_header(table, kind, profile)
    shaped = _shape(table, mapping, kind, profile, contract_id)
    frame, problems = shaped.frame, []
    if kind is KPIS:
        frame, problems = _percent_problems(frame)
    typed, parse = parse_values(
        kind, frame.select([c.name for c in kind.columns if c.name in frame.columns])
    )
    extra = [c for c in ("_row", "_raw", "_value_header") if c in frame.columns]
    return shaped, typed.with_columns(frame.select(extra)), problems + parse


def _prepare(
    table: Table,
    kind: LedgerKind,
    profile: Profile | None,
    contract_id: str | None,
    contracts: dict[str, Contract],
) -> _Prepared:
    shaped, typed, problems = _typed(table, kind, profile, contract_id)
    typed = _resolve_names(kind, typed, contracts)
    problems += _cut_problems(table, kind, typed) + _future_problems(kind, typed)
    problems += rule_problems(kind, typed)
    problems += _same_key_problems(kind, typed)
    problems += reference_problems(kind, typed, contracts)
    result = TableResult(
        path=db.display_path(table.path),
        sheet=table.sheet,
        kind=kind.name,
        rows_read=len(table.row_numbers),
        ledger_rows=typed.height,
        blank_rows=table.blank_rows,
        merged_cells=table.merged_cells,
        empty_cells=shaped.empty_cells,
        hidden_skipped=table.hidden_skipped,
    )
    return _Prepared(table, kind, shaped, typed, problems, result)


def _cut_problems(table: Table, kind: LedgerKind, typed: pl.DataFrame) -> list[Problem]:
    """Rows of a file that looks cut off there (code ``truncated``): loading them would load a
    short value (a ``present`` of 12 cut to 1 is an 11-person gap)."""
    if not table.cut:
        return []
    column = kind.columns[-1].name
    return [
        Problem(i, column, "truncated", table.cut[number])
        for i, number in enumerate(typed["_row"].to_list())
        if number in table.cut
    ]


def _future_problems(kind: LedgerKind, typed: pl.DataFrame) -> list[Problem]:
    """Dates and times after the moment of loading (Beijing time; code ``future``): a ticket
    dated three months ahead would move the data's cut-off and turn pending tickets into missed
    ones. (The demo's own ledgers, loaded by ``build``, are not checked here.)"""
    now = dt.datetime.now(config.TIMEZONE).replace(tzinfo=None)
    problems = []
    for c in kind.columns:
        if c.name not in typed.columns:
            continue
        if isinstance(c.dtype, pl.Datetime):
            later = typed[c.name] > now
        elif c.dtype == pl.Date():
            later = typed[c.name] > now.date()
        else:
            continue
        for i in later.fill_null(False).arg_true().to_list():
            problems.append(
                Problem(
                    i, c.name, "future", f"is after the moment of loading ({now:%Y-%m-%d %H:%M})"
                )
            )
    return problems


_ONE_FILE = "--replaces takes one file (one sheet): load the others separately"


@contextmanager
def _no_new_empty_file(db_path: Path) -> Iterator[None]:
    """A first ingest that fails leaves no empty database file (nor its WAL) behind."""
    existed = db_path.exists()
    try:
        yield
    except BaseException:
        if not existed:
            for leftover in (db_path, db_path.with_name(db_path.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise


def _check_replaced(con: duckdb.DuckDBPyConnection, kind: LedgerKind, load_id: int) -> None:
    """Raise :class:`IngestError` unless ``load_id`` is an active ingested load of ``kind``."""
    found = db.query(
        con,
        "SELECT kind, path, replaced_by, source FROM loads WHERE load_id = $id",
        id=load_id,
    )
    if found.is_empty() or found["source"][0] != db.INGEST_SOURCE:
        raise IngestError(
            f"--replaces {load_id}: no such ingested load; `seatscore loads` lists them"
        )
    row = found.row(0, named=True)
    if row["replaced_by"] is not None:
        raise IngestError(
            f"--replaces {load_id}: that load ({row['path']}) was already replaced by load "
            f"{row['replaced_by']}; replace that one instead"
        )
    if row["kind"] != kind.name:
        raise IngestError(
            f"--replaces {load_id}: that load is a {row['kind']} ledger, this is {kind.name}"
        )


def _active_loads(
    con: duckdb.DuckDBPyConnection, kind: LedgerKind, sheet: str | None
) -> pl.DataFrame:
    """The ingested loads of this kind and sheet whose rows are in the ledger (not replaced)."""
    return db.query(
        con,
        """SELECT load_id, path, sha256, profile_sha256, contract_option FROM loads
           WHERE kind = $kind AND sheet IS NOT DISTINCT FROM $sheet AND replaced_by IS NULL
             AND source = $source""",
        kind=kind.name,
        sheet=sheet,
        source=db.INGEST_SOURCE,
    )


def _load(
    con: duckdb.DuckDBPyConnection,
    p: _Prepared,
    profile_file: Path | None,
    profile_sha: str | None,
    contracts: dict[str, Contract],
    contract_option: str | None = None,
    replaces: int | None = None,
) -> TableResult:
    """Write one prepared table (inside the caller's transaction): remove the rows of the load it
    replaces (not those another load holds), skip or reject keys the database holds, insert,
    record the load and the rows it holds."""
    result, kind = p.result, p.kind
    load_id = db.next_load_id(con)
    result.load_id = load_id
    now = dt.datetime.now(config.TIMEZONE).replace(tzinfo=None)
    if replaces is not None:
        result.status, result.replaced_load = "replaced", replaces
        _remove_load(con, kind, replaces)
        con.execute(
            "UPDATE loads SET replaced_by = ?, replaced_at = ? WHERE load_id = ?",
            [load_id, now, replaces],
        )
    indexed = p.typed.with_row_index("_i")
    checked = indexed.filter(~pl.col("_i").is_in(sorted({q.index for q in p.problems})))
    identical, conflicts = _database_key_check(con, kind, checked)
    problems = p.problems + conflicts
    rejected_idx = {q.index for q in problems}
    accepted = indexed.filter(~pl.col("_i").is_in(sorted(rejected_idx | set(identical))))
    rows = accepted.select(
        *[c.name for c in kind.columns],
        pl.lit(db.INGEST_SOURCE).alias("source"),
        pl.lit(result.path).alias("source_file"),
        pl.lit(p.table.sheet, dtype=pl.String).alias("source_sheet"),
        pl.col("_row").alias("source_row"),
        pl.lit(load_id, dtype=pl.Int64).alias("load_id"),
    )
    _insert_rows(con, kind, load_id, rows, indexed.filter(pl.col("_i").is_in(identical)))
    quarantine = _quarantine_frame(p, problems, load_id, result)
    if quarantine.height:
        db.insert_frame(con, "quarantine", quarantine)
    result.loaded, result.already = rows.height, len(identical)
    _count_rejected(result, p, problems)
    result.contract_ids = sorted(
        c for c in p.typed["contract_id"].drop_nulls().unique().to_list() if c in contracts
    )
    db.record_load(
        con,
        load_id=load_id,
        path=result.path,
        sheet=p.table.sheet,
        kind=kind.name,
        sha256=p.table.sha256,
        profile=db.display_path(profile_file) if profile_file else None,
        profile_sha256=profile_sha,
        contract_ids=result.contract_ids,
        rows_read=result.rows_read,
        rows=result.loaded,
        rows_already=result.already,
        rows_rejected=result.rejected,
        source=db.INGEST_SOURCE,
        contract_option=contract_option,
        loaded_at=now,
    )
    return result


def _insert_rows(
    con: duckdb.DuckDBPyConnection,
    kind: LedgerKind,
    load_id: int,
    rows: pl.DataFrame,
    identical: pl.DataFrame,
) -> None:
    """Insert the accepted rows (tickets clustered by contract and time) and record every row the
    load holds, loaded or already there (``load_rows``), so a row two loads share survives the
    replacement of one."""
    if rows.height:
        db.insert_frame(con, kind.table, db.clustered(rows) if kind.name == "tickets" else rows)
    held = pl.concat([rows.select(kind.schema.keys()), identical.select(kind.schema.keys())])
    if held.height:
        db.insert_frame(
            con,
            "load_rows",
            pl.DataFrame(
                {"load_id": load_id, "kind": kind.name, "row_sha1": row_sha1(kind, held)},
                schema={"load_id": pl.Int64, "kind": pl.String, "row_sha1": pl.String},
            ),
        )


def _count_rejected(result: TableResult, p: _Prepared, problems: list[Problem]) -> None:
    """Rejected rows, the source rows they came from, and the rows per reason (each row counted
    once, under its first problem)."""
    rejected_idx = {q.index for q in problems}
    result.rejected = len(rejected_idx)
    result.rejected_source_rows = (
        p.typed[sorted(rejected_idx)]["_row"].n_unique() if rejected_idx else 0
    )
    first_code: dict[int, str] = {}
    for q in sorted(problems, key=lambda q: q.index):
        first_code.setdefault(q.index, q.code)
    result.reasons = Counter(first_code.values())


def _quarantine_frame(
    p: _Prepared, problems: list[Problem], load_id: int, result: TableResult
) -> pl.DataFrame:
    schema = {
        "load_id": pl.Int64,
        "path": pl.String,
        "sheet": pl.String,
        "source_row": pl.Int32,
        "source_line": pl.Int32,
        "row_key": pl.String,
        "column_name": pl.String,
        "value": pl.String,
        "code": pl.String,
        "reason": pl.String,
        "row_json": pl.String,
    }
    records = []
    has_value_header = "_value_header" in p.typed.columns
    for q in sorted(problems, key=lambda q: (q.index, q.column)):
        row = p.typed.row(q.index, named=True)
        raw = json.loads(row["_raw"])
        header = p.shaped.headers.get(q.column, q.column)
        if q.column in ("value", "metric") and has_value_header:
            header = row["_value_header"]  # the metric's own column in a wide layout
        records.append(
            {
                "load_id": load_id,
                "path": result.path,
                "sheet": p.table.sheet,
                "source_row": row["_row"],
                "source_line": _line_of(p.table, row["_row"]),
                "row_key": _key_of(p, row, raw),
                "column_name": header,
                "value": raw.get(header, p.shaped.frame.row(q.index, named=True).get(q.column)),
                "code": q.code,
                "reason": q.reason,
                "row_json": row["_raw"],
            }
        )
    return pl.DataFrame(records, schema=schema)


def _line_of(table: Table, row: int) -> int:
    """The text line a row starts on: for a CSV the record's first line (a quoted cell with line
    breaks makes it differ from the record number), for a sheet the row itself."""
    if table.lines and 0 < row <= len(table.lines):
        return table.lines[row - 1]
    return row


def _key_of(p: _Prepared, row: dict, raw: dict) -> str | None:
    """The row's own id as the file writes it (a ticket's number, a staffing row's date and
    post): its natural key without the contract id, joined by " / "; None if it has none."""
    return _row_key(p.kind, p.shaped.headers, row, raw)


def _row_key(kind: LedgerKind, headers: dict[str, str], row: dict, raw: dict) -> str | None:
    parts = []
    for name in (k for k in kind.natural_key if k != "contract_id"):
        header = headers.get(name, name)
        value = raw.get(header) if header in raw else row.get(name)
        parts.append("" if value is None else str(value))
    return " / ".join(parts) if any(parts) else None


def _write_quarantine(con: duckdb.DuckDBPyConnection, folder: Path, result: TableResult) -> Path:
    """The load's quarantined rows as CSV (UTF-8 with BOM, so Excel opens the Chinese): file,
    sheet, row (the record's number, header = 1), line (the text line it starts on), key (its
    ticket number or other id), column, value, reason code, reason; every cell neutralised against formula
    injection (:func:`seatscore.core.files.safe_csv`), since buyers open it in Excel."""
    frame = db.query(
        con,
        """SELECT path AS file, sheet, source_row AS row, source_line AS line, row_key AS key,
                  column_name AS "column", value, code, reason
           FROM quarantine WHERE load_id = $id ORDER BY source_row, column_name""",
        id=result.load_id,
    )
    stem = re.sub(r"[^\w\u4e00-\u9fff.-]+", "_", Path(result.path).stem).lstrip("=+-@.")
    target = folder / f"load-{result.load_id}-{stem}.csv"
    atomic_write(target, safe_csv(frame))
    return target


# ---------------------------------------------------------------- large CSV files, in batches

BATCH_FILE_BYTES = 64 * 2**20
"""A CSV file larger than this (a city's tickets: 64 MiB is about 250,000 of them) is read,
checked and loaded in batches (:func:`_load_batched`), in bounded memory."""
BATCH_BYTES = 24 * 2**20
"""Bytes of a large CSV file read and checked at a time (about 95,000 tickets): small enough
that reading, checking and hashing overlap well on two cores (48 MiB pieces were about 2 s slower
on 10 million rows, 96 MiB slower still and 600 MB more memory, 16 MiB slower again)."""
BATCH_MEMORY_LIMIT = "1GB"
"""DuckDB's memory during a batched load (the key checks and the one INSERT over the staged
Parquet files), beyond which it spills to its temporary folder."""
_EXTRA_CELLS = 16
"""Cells read right of the last header in a batched load, so a value there is reported, not cut."""
_HEAD_BYTES = 1 << 20
"""The start of a large CSV file read to find its encoding and its header (in the first 20 rows)."""


def _batched(path: Path, kind: LedgerKind) -> bool:
    """Whether ``path`` is a CSV file large enough to load in batches. KPI files (whose
    percent scale is judged over the whole file) are never that large and load whole."""
    return (
        path.suffix.lower() in (".csv", ".txt")
        and kind is not KPIS
        and path.is_file()
        and path.stat().st_size > BATCH_FILE_BYTES
    )


@dataclass
class _BigCsv:
    """A large CSV file as the batched load reads it: a source of :class:`_BigLoad` (as
    :class:`_BigSheet` is for a sheet)."""

    path: Path  # as given
    utf8: Path  # what is read: the file itself, or a UTF-8 copy of a GB18030 one
    digest: Any  # hashlib's SHA-256 of the file: complete, or fed as the pieces are read
    ends_with_line_end: bool
    hashed: bool = True  # the digest is complete before the load (else: once it is read)
    sheet = None
    width = 0  # cells a row may have: the header's, and _EXTRA_CELLS more
    merged_cells = 0

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()

    def head(self) -> Table:
        return _head_table(self)

    def batches(
        self, skip: int, names: list[str], width: int, pieces: list[_Piece]
    ) -> Iterator[pl.DataFrame]:
        """The records after the first ``skip`` (the header and what is above it) in pieces
        of :data:`BATCH_BYTES` (:func:`_csv_batches`); most have ``width`` cells."""
        body = _body_offset(self.utf8, skip)
        digest = None
        if not self.hashed:  # the SHA-256 of the bytes as they are read, from the first
            digest = self.digest
            with self.path.open("rb") as f:
                digest.update(f.read(body))
        return _csv_batches(self.utf8, body, names, BATCH_BYTES, pieces, width, digest)

    def again(
        self, pieces: list[_Piece], records: list[int], names: list[str]
    ) -> Iterator[pl.DataFrame]:
        """The records ``records`` (indices as :meth:`batches` gave them), read again from the
        pieces that hold them, a piece at a time."""
        with self.utf8.open("rb") as f:
            for piece in pieces:
                end = piece.first_record + piece.records
                inside = [r for r in records if piece.first_record <= r < end]
                if not inside:
                    continue
                f.seek(piece.start)
                data = f.read(piece.length)
                bounds = _record_bounds(data)
                if len(bounds) - 1 != piece.records:  # not as Polars counted: read it whole
                    frame = _read_piece(data, names, piece.first_record)
                    yield frame.filter(pl.col("_rec").is_in(inside))
                    continue
                # Only the records wanted, cut from the bytes (a third of parsing the piece).
                chosen = [r - piece.first_record for r in inside]
                text = b"".join(
                    data[bounds[i] : bounds[i + 1]].rstrip(b"\n") + b"\n" for i in chosen
                )
                frame = _read_piece(text, names, 0)
                yield frame.with_columns(pl.Series("_rec", inside, dtype=frame["_rec"].dtype))

    def close(self) -> None:
        if self.utf8 != self.path:
            self.utf8.unlink(missing_ok=True)


def _scan_big_csv(path: Path, encoding: str | None, folder: Path, hash_first: bool) -> _BigCsv:
    """A large CSV file ready to read: its start (for the encoding) and last byte, and with
    ``hash_first`` its SHA-256 (the load's identity), one pass over the bytes before the load;
    without (no load in the database could be these same bytes), the pieces are hashed as they
    are read, a pass saved. A file whose start is not UTF-8 (GB18030, as Chinese Excel saves
    CSV; or the profile's ``encoding``) is copied as UTF-8 into ``folder`` for the reader, and
    removed after; it is hashed first."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            head = f.read(_HEAD_BYTES)
            f.seek(-1, io.SEEK_END)
            last = f.read(1)
    except OSError as exc:
        raise IngestError(f"{path}: cannot read the file ({exc.strerror})") from exc
    wanted = (encoding or "").lower().replace("_", "-")
    utf8 = wanted in ("utf-8", "utf-8-sig", "utf8")
    if not wanted:
        try:
            head.decode("utf-8")
            utf8 = True
        except UnicodeDecodeError as exc:  # a character cut at the end of the head is fine
            utf8 = exc.start >= len(head) - 3
    if hash_first or not utf8:
        try:
            with path.open("rb") as f:
                while chunk := f.read(8 << 20):
                    digest.update(chunk)
        except OSError as exc:
            raise IngestError(f"{path}: cannot read the file ({exc.strerror})") from exc
    target = path
    if not utf8:
        target = folder / f".{path.name}.{digest.hexdigest()[:12]}.utf8"
        source_encoding = encoding or "gb18030"
        try:
            decoder = codecs.getincrementaldecoder(source_encoding)()
            with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as out:
                while chunk := src.read(8 << 20):
                    out.write(decoder.decode(chunk))
                out.write(decoder.decode(b"", final=True))
        except (LookupError, UnicodeDecodeError) as exc:
            target.unlink(missing_ok=True)
            raise IngestError(
                f"{path}: neither UTF-8 nor {source_encoding} text ({exc}); save it as CSV "
                "UTF-8, or give the encoding in an import profile (encoding: ...)"
            ) from exc
    return _BigCsv(path, target, digest, last in (b"\n", b"\r"), hash_first or not utf8)


BATCH_SHEET_ROWS = 100_000
"""A sheet with more rows than this (a city's tickets kept in Excel, up to its 1,048,576 rows)
is checked and loaded in batches of this many rows (:class:`_BigSheet`). python-calamine still
holds the sheet's cells (about 1 KB a row of 15 columns, 1.6 GB at its peak parsing 1.04 million
rows); what is bounded is everything Seatscore makes of them: the whole-sheet path made Python
text of every cell at once (300,000 rows: 2.4 GB; in batches 1.0 GB, 1.04 million 1.85 GB)."""
_SHEET_HEAD_ROWS = 40
"""The first rows of a large sheet read to find its header (in the first 20)."""


@dataclass
class _BigSheet:
    """A large sheet as the batched load reads it (a source of :class:`_BigLoad`, as
    :class:`_BigCsv` is for a CSV file): rows numbered from A1 as the whole-sheet path numbers
    them, merged cells filled from their top-left cell as they are passed."""

    book: Workbook
    sheet: str
    found: Any  # the python-calamine sheet
    merged_cells: int = 0
    ends_with_line_end = True  # a sheet is never cut mid-row
    hashed = True  # the workbook's SHA-256 is taken when it is opened

    def __post_init__(self) -> None:
        self.path, self.sha256 = self.book.path, self.book.sha256
        self.width = self.found.end[1] + 1 if self.found.end else 0
        # calamine gives the rows from row 1 but the columns from the first one used; count
        # the rows once rather than rely on where they start.
        given = sum(1 for _ in self.found.iter_rows())
        self.first_row = (self.found.end[0] + 1 - given) if self.found.end else 0
        self.skip = 0

    def _rows(self, count: bool = False) -> Iterator[list[str | None]]:
        """Every row from A1 as text cells, merged cells filled (counted when ``count``)."""
        found = self.found
        left = [None] * (found.start[1] if found.start else 0)
        pending = sorted(found.merged_cell_ranges or [])
        active: list = []
        tops: dict[tuple[int, int], object] = {}
        for _ in range(self.first_row):
            yield []
        for r, values in enumerate(found.iter_rows(), start=self.first_row):
            row = [*left, *values]
            while pending and pending[0][0][0] <= r:
                active.append(pending.pop(0))
            if active:
                active = [m for m in active if m[1][0] >= r]
                for (r0, c0), (_, c1) in active:
                    if r == r0:
                        tops[(r0, c0)] = row[c0] if c0 < len(row) else None
                    for c in range(c0, min(c1, len(row) - 1) + 1):
                        if (r, c) != (r0, c0) and row[c] in ("", None):
                            row[c] = tops.get((r0, c0))
                            self.merged_cells += count
            yield [_cell_text(v) for v in row]

    def head(self) -> Table:
        grid = []
        for row in self._rows():
            grid.append(row)
            if len(grid) == _SHEET_HEAD_ROWS:
                break
        table = Table(self.path, self.sheet, self.sha256, grid)
        table.lines = list(range(1, len(grid) + 1))  # a sheet's line is its row
        return table

    def _frame(self, rows: list[list[str | None]], names: list[str], first: int) -> pl.DataFrame:
        width = len(names)
        padded = [row + [None] * (width - len(row)) for row in rows]
        frame = pl.DataFrame(padded, schema={n: pl.String for n in names}, orient="row")
        return frame.with_row_index("_rec", offset=first)

    def batches(
        self, skip: int, names: list[str], width: int, pieces: list[_Piece]
    ) -> Iterator[pl.DataFrame]:
        """The rows after the first ``skip``, :data:`BATCH_SHEET_ROWS` at a time (``width``:
        every row is as wide as the sheet)."""
        self.skip, self.merged_cells = skip, 0
        rows, record = self._rows(count=True), 0
        for _ in range(skip):
            next(rows, None)
        while chunk := list(itertools.islice(rows, BATCH_SHEET_ROWS)):
            pieces.append(_Piece(0, 0, record, len(chunk), len(chunk)))
            yield self._frame(chunk, names, record)
            record += len(chunk)

    def again(
        self, pieces: list[_Piece], records: list[int], names: list[str]
    ) -> Iterator[pl.DataFrame]:
        """The rows ``records`` (indices as :meth:`batches` gave them), read again."""
        wanted = set(records)
        found = [
            (i - self.skip, row)
            for i, row in enumerate(self._rows())
            if i >= self.skip and i - self.skip in wanted
        ]
        if found:
            frame = self._frame([row for _, row in found], names, 0)
            yield frame.with_columns(pl.Series("_rec", [i for i, _ in found], dtype=pl.UInt32))

    def close(self) -> None:
        pass


def _head_table(big: _BigCsv) -> Table:
    """The first rows of a large CSV file as a :class:`Table`, to find and map its header."""
    with big.utf8.open("rb") as f:
        data = f.read(_HEAD_BYTES)
    whole = len(data) < _HEAD_BYTES
    text = data.decode("utf-8-sig", errors="replace")
    if not whole:  # up to the last line end; its last record may still be cut: dropped below
        text = text[: text.rfind("\n") + 1]
    reader = csv.reader(io.StringIO(text, newline=""))
    grid, lines, previous = [], [], 0
    try:
        for row in reader:
            grid.append([_cell_text(c) for c in row])
            lines.append(previous + 1)
            previous = reader.line_num
    except csv.Error:
        pass  # a quoted cell cut by the head's end
    if not whole and len(grid) > 1:
        grid, lines = grid[:-1], lines[:-1]
    table = Table(big.path, None, big.sha256, grid)
    table.lines = lines
    return table


def _body_offset(path: Path, records: int) -> int:
    """The byte offset where record ``records`` (from 0) of a CSV file starts: after that many
    line ends outside quotes (a blank line is a record, as the readers count it)."""
    with path.open("rb") as f:
        data = f.read(_HEAD_BYTES)
    inside, found = False, 0
    for match in re.finditer(rb'["\n]', data):
        if match.group() == b'"':
            inside = not inside
        elif not inside:
            found += 1
            if found == records:
                return match.end()
    return len(data)


@dataclass
class _Piece:
    """Where a batch of a large CSV file is: its bytes and its records."""

    start: int
    length: int
    first_record: int
    records: int = 0
    line_ends: int = 0  # more than ``records``: some cell holds a line break


def _record_bounds(data: bytes) -> list[int]:
    """Where each record of ``data`` (CSV text cut at a record's end) starts, and its length
    last: after each line end outside quotes (quotes are doubled inside a quoted cell, so the
    count of quotes before a line end says whether it is inside one)."""
    text = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(text == ord("\n"))
    quotes = np.flatnonzero(text == ord('"'))
    ends = breaks[np.searchsorted(quotes, breaks) % 2 == 0] + 1
    bounds = [0, *ends.tolist()]
    if bounds[-1] < len(data):  # the last record has no line end
        bounds.append(len(data))
    return bounds


def _read_piece(
    data: bytes, names: list[str], first_record: int, width: int | None = None
) -> pl.DataFrame:
    """CSV records as text cells in the columns ``names``, with ``_rec``. Read as ``width``
    columns first (the header's: the columns right of it are empty in a good file, and reading
    them costs a third more); a record with more cells reads the piece again with all of
    ``names``. Raises Polars' error for a record with more cells than ``names``."""

    def read(columns: list[str]) -> pl.DataFrame:
        return pl.read_csv(
            data,
            has_header=False,
            infer_schema=False,
            schema={n: pl.String for n in columns},
            missing_columns="insert",
            raise_if_empty=False,
        )

    if width is not None and width < len(names):
        try:
            frame = read(names[:width])
        except pl.exceptions.ComputeError:  # more fields than the header: read them
            frame = read(names)
        else:
            frame = frame.with_columns(
                pl.lit(None, dtype=pl.String).alias(n) for n in names[width:]
            )
    else:
        frame = read(names)
    return frame.with_row_index("_rec", offset=first_record)


def _csv_batches(
    path: Path,
    start: int,
    names: list[str],
    chunk_bytes: int,
    pieces: list[_Piece],
    width: int | None = None,
    digest: Any = None,
) -> Iterator[pl.DataFrame]:
    """The records of a UTF-8 CSV file from byte ``start`` (a record's start), every cell as
    text in the columns ``names`` (short records padded with empty cells), about ``chunk_bytes`` at a time,
    with ``_rec``: the record's index among them. Each piece ends at a line end outside quotes
    (a quoted cell may hold line breaks; quotes inside one are doubled, so the count of quotes
    before a line end says whether it is inside one). Each piece read is appended to
    ``pieces``. Raises Polars' error for a record with more cells than ``names``."""
    record, pending, offset = 0, b"", start
    with path.open("rb") as f:
        f.seek(start)
        while True:
            data = f.read(chunk_bytes)
            if digest is not None:
                digest.update(data)
            buffer = pending + data
            if not buffer:
                return
            cut = len(buffer) if not data else _last_record_end(buffer)
            if cut <= 0:  # no record ends in this piece: read on
                pending = buffer
                continue
            piece = _Piece(offset, cut, record, line_ends=buffer.count(b"\n", 0, cut))
            frame = _read_piece(buffer[:cut], names, record, width)
            pending, offset = buffer[cut:], offset + cut
            piece.records = frame.height
            pieces.append(piece)
            yield frame
            record += frame.height
            if not data:
                return


def _read_ahead(frames: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """``frames``, the next one read in a thread while the caller checks this one (reading
    and checking each leave a core idle on a small machine); an error is raised in order. A
    caller that stops early stops the reader."""
    ahead: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    done = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for frame in frames:
                if not put(frame):
                    return
            put(done)
        except BaseException as exc:  # handed to the reader, raised there
            put(exc)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            item = ahead.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _last_record_end(data: bytes) -> int:
    """The index after the last line end of ``data`` (which starts a record) outside quotes;
    -1 if none."""
    quotes, end = data.count(b'"'), len(data)
    at = data.rfind(b"\n")
    while at >= 0:
        quotes -= data.count(b'"', at, end)
        end = at
        if quotes % 2 == 0:
            return at + 1
        at = data.rfind(b"\n", 0, at)
    return -1


def _blank(column: str) -> pl.Expr:
    """A cell as the whole-file reader reads it: only spaces is empty."""
    text = pl.col(column)
    return pl.when(text.str.strip_chars().str.len_bytes() > 0).then(text)  # faster than != ""


def _create_staging(con: duckdb.DuckDBPyConnection, name: str, columns: str) -> None:
    """A temporary table with the columns ``SELECT {columns} FROM _batch`` gives. Made with
    its column list, not ``CREATE TABLE … AS … LIMIT 0``: in DuckDB 2.0.0 a table made that
    way inside a transaction loses the rows later inserted a row group (122,880) at a time."""
    described = con.execute(f"DESCRIBE SELECT {columns} FROM _batch").fetchall()
    listed = ", ".join(f'"{row[0]}" {row[1]}' for row in described)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({listed})")


def _load_batched(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    source: _BigCsv | _BigSheet,
    r: _Request,
    contracts: dict[str, Contract],
) -> TableResult:
    """Load one large CSV file or sheet (inside the caller's transaction) in pieces (of about
    :data:`BATCH_BYTES` of a CSV file, :data:`BATCH_SHEET_ROWS` rows of a sheet), with the same
    checks as a whole file and in bounded memory. Each piece is read (every cell as text; the
    next piece in a thread), shaped, parsed and
    checked against the rules and the contracts; its accepted rows and its keys (with each
    row's SHA-1) go to Parquet files in a scratch folder beside the database, its problems to a
    small table. Then the keys are checked across the whole file and against the database in
    SQL (DuckDB, at most :data:`BATCH_MEMORY_LIMIT`), the rows rejected then are read again
    from the file for their quarantine record, and the accepted rows are inserted in one
    statement (one statement: DuckDB writes its row groups out as it goes, where an insert per
    batch inside a transaction held every batch in memory until the commit).

    What differs from a whole-file load: a row with fewer cells than the header reads as a row
    with those cells empty (then checked as any row: a required one empty is rejected), and a
    ticket file is ordered by contract and receipt time within each piece, not across them."""
    scratch = Path(tempfile.mkdtemp(prefix=".seatscore-ingest-", dir=folder))
    try:
        return _load_big(con, source, scratch, r, contracts)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        source.close()


def _load_big(
    con: duckdb.DuckDBPyConnection,
    source: _BigCsv | _BigSheet,
    scratch: Path,
    r: _Request,
    contracts: dict[str, Contract],
) -> TableResult:
    kind, profile, contract_id, replaces = r.kind, r.profile, r.contract_id, r.replaces
    profile_file, profile_sha = r.profile_file, r.profile_sha
    head = source.head()
    if source.hashed:  # else no load could be the same bytes
        same = _same_load(con, kind, head, profile_sha, contract_id)
        if same is not None:
            return same
    lines = list(head.lines)
    load = _BigLoad(con, source, scratch, kind, profile, contract_id, contracts, head)
    if replaces is not None:
        load.result.status, load.result.replaced_load = "replaced", replaces
        _remove_load(con, kind, replaces)
        con.execute(
            "UPDATE loads SET replaced_by = ?, replaced_at = ? WHERE load_id = ?",
            [load.load_id, load.now, replaces],
        )
    at = load.mapping.header_at
    load.line = lines[at + 1] if len(lines) > at + 1 else (lines[at] if lines else 1) + 1
    con.execute(f"SET memory_limit = '{BATCH_MEMORY_LIMIT}'")
    load.stage_all(at + 1)
    load.finish()
    con.execute("RESET memory_limit")
    db.record_load(
        con,
        load_id=load.load_id,
        path=load.result.path,
        sheet=source.sheet,
        kind=kind.name,
        sha256=source.sha256,
        profile=db.display_path(profile_file) if profile_file else None,
        profile_sha256=profile_sha,
        contract_ids=load.result.contract_ids,
        rows_read=load.result.rows_read,
        rows=load.result.loaded,
        rows_already=load.result.already,
        rows_rejected=load.result.rejected,
        source=db.INGEST_SOURCE,
        contract_option=contract_id,
        loaded_at=load.now,
    )
    return load.result


class _BigLoad:
    """One batched load under way: the file's layout, what has been staged, and the steps."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        source: _BigCsv | _BigSheet,
        scratch: Path,
        kind: LedgerKind,
        profile: Profile | None,
        contract_id: str | None,
        contracts: dict[str, Contract],
        head: Table,
    ) -> None:
        self.con, self.source, self.scratch, self.kind = con, source, scratch, kind
        self.profile, self.contract_id = profile, contract_id
        self.contracts, self.head = contracts, head
        self.mapping = _split_header(head, kind, profile)
        headers = self.mapping.headers
        width = max(len(headers) + _EXTRA_CELLS, source.width)
        self.names = [f"_c{i}" for i in range(width)]
        self.headerless = [i for i, h in enumerate(headers) if not _normal_header(h)]
        self.headerless += range(len(headers), len(self.names))
        # Cells the load reads: only spaces is empty there, as in a whole-file load. Elsewhere a
        # cell of spaces counts as a value (a row of them is then checked, not skipped as blank).
        read = {*self.mapping.canonical, *self.mapping.sources.values()}
        self.cell_select = [
            _blank(n).alias(n) if i in read else pl.col(n) for i, n in enumerate(self.names)
        ]
        self.label = {i: (h or _column_letter(i)) for i, h in enumerate(headers)}
        self.label.update({i: _column_letter(i) for i in range(len(headers), len(self.names))})
        self.result = TableResult(
            path=db.display_path(source.path), sheet=source.sheet, kind=kind.name
        )
        self.load_id = self.result.load_id = db.next_load_id(con)
        self.now = dt.datetime.now(config.TIMEZONE).replace(tzinfo=None)
        self.first_row = self.mapping.header_at + 2
        self.line = 1
        self.headers: dict[str, str] = {}  # canonical column → header, once shaped
        self.pieces: list[_Piece] = []
        self.batches = 0
        self.problems_made = False
        self.last: tuple[int, int, dict, dict] | None = None  # the last row, for a cut file
        self.canonical = [c.name for c in kind.columns]
        self.extra = [db.CLUSTER_KEY] if kind.name == "tickets" else []
        self.key_columns = [*dict.fromkeys(["contract_id", *kind.natural_key, *self.extra])]

    def stage_all(self, skip: int) -> None:
        """Read, check and stage every piece after the first ``skip`` records (the header and
        what is above it); the problems into ``_problems`` (made even when there are none)."""
        progress = tqdm(desc=self.source.path.name, unit="行")
        hasher = duckdb.connect()
        width = len(self.mapping.headers)
        reading = _read_ahead(self.source.batches(skip, self.names, width, self.pieces))
        # A piece is hashed and written in a thread while the next one is checked (DuckDB and
        # Polars work outside the GIL): one piece in flight, so memory stays bounded.
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seatscore-stage")
        writing: Future | None = None
        try:
            while True:
                try:
                    batch = next(reading)
                except StopIteration:
                    break
                except pl.exceptions.PolarsError as exc:
                    last = self.first_row + self.result.rows_read + self.result.blank_rows - 1
                    raise IngestError(
                        f"{self.source.path}: cannot read past row {last}: "
                        f"{str(exc).splitlines()[0]}. A row may have more than "
                        f"{len(self.names)} cells, or the file is not UTF-8 throughout; "
                        "nothing was loaded."
                    ) from exc
                progress.update(batch.height)
                staged = self.stage(batch)
                if writing is not None:
                    writing.result()
                if staged is not None:
                    writing = writer.submit(self.write, *staged, hasher, self.batches)
                    self.batches += 1
            if writing is not None:
                writing.result()
        finally:
            reading.close()
            writer.shutdown(wait=True, cancel_futures=True)
            progress.close()
            hasher.close()
        if not self.problems_made:
            self.add_problems(_problem_records(self.kind, {}, None, None, [], {}))
        if not self.batches:
            raise IngestError(f"{self.source.path}: no rows under the header; nothing was loaded")
        self.result.merged_cells = self.source.merged_cells
        if not self.source.ends_with_line_end and self.last is not None:
            self.add_problems(self.cut_record())

    def cells(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series, pl.Series]:
        """A piece's non-blank rows as text cells, with each row's number and text line.
        Raises :class:`IngestError` for a value under no header."""
        cells = batch.select(self.cell_select)
        first = batch["_rec"][0]
        piece = next(p for p in reversed(self.pieces) if p.first_record == first)
        found = (False,)
        if piece.line_ends > piece.records:  # some cell holds a line break: which columns
            found = batch.select(
                pl.col(n).str.contains("\n", literal=True).any() for n in self.names
            ).row(0)
        if not any(found):  # a record a line
            spans = pl.zeros(batch.height, dtype=pl.Int64, eager=True)
        else:  # the line breaks inside cells as read (a cell of spaces may hold one), counted
            # only in the columns that have any (a free-text column or two)
            spans = batch.select(
                pl.sum_horizontal(
                    pl.col(n).str.count_matches("\n", literal=True)
                    for n, has in zip(self.names, found, strict=True)
                    if has
                )
                .fill_null(0)
                .cast(pl.Int64)
                .alias("_extra")
            )["_extra"]
        lines = self.line + pl.int_range(batch.height, eager=True) + (spans.cum_sum() - spans)
        self.line += batch.height + int(spans.sum())
        rows = batch["_rec"].cast(pl.Int32) + self.first_row
        keep = ~cells.select(pl.all_horizontal(pl.all().is_null())).to_series()
        self.result.blank_rows += int((~keep).sum())
        cells, rows, lines = cells.filter(keep), rows.filter(keep), lines.filter(keep)
        stray = [i for i in self.headerless if cells[self.names[i]].is_not_null().any()]
        if stray:
            row = rows.filter(cells[self.names[stray[0]]].is_not_null())[0]
            raise IngestError(
                f"{_where(self.head)}: row {row} has a value in column {_column_letter(stray[0])}, "
                "which has no header. Give it a header (and map it), or remove it; nothing was "
                "loaded."
            )
        return cells, rows, lines

    def check(
        self, cells: pl.DataFrame, rows: pl.Series
    ) -> tuple[pl.DataFrame, list[tuple[int, Problem]]]:
        """A piece shaped, parsed and checked: the typed rows (with ``_row``) and each problem
        with the stage a whole-file load meets it at (for the reason counted per row)."""
        mapping, headers = self.mapping, self.mapping.headers
        frame = cells.select(
            pl.col(self.names[pos]).alias(name) for pos, name in mapping.canonical.items()
        ).with_columns(_row=rows)
        source = cells.select(
            pl.col(self.names[pos]).alias(name) for name, pos in mapping.sources.items()
        )
        named = {name: headers[pos] for pos, name in mapping.canonical.items()}
        shaped = _shape_columns(
            self.head, frame, source, named, self.kind, self.profile, self.contract_id
        )
        self.headers, frame = shaped.headers, shaped.frame
        typed, parse = parse_values(
            self.kind, frame.select([c for c in self.canonical if c in frame.columns])
        )
        typed = _resolve_names(self.kind, typed.with_columns(frame.select("_row")), self.contracts)
        ordered = [(0, q) for q in parse]
        ordered += [(2, q) for q in _future_problems(self.kind, typed)]
        ordered += [(3, q) for q in rule_problems(self.kind, typed)]
        ordered += [(5, q) for q in reference_problems(self.kind, typed, self.contracts)]
        return typed, ordered

    def stage(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame] | None:
        """Check one piece; its problems to ``_problems``; the piece for :meth:`write`: every
        row checked (with ``_row``, ``_line``, ``_bad``) and the accepted rows as the ledger
        table takes them. None for a piece of blank rows."""
        cells, rows, lines = self.cells(batch)
        if cells.is_empty():
            return None
        typed, ordered = self.check(cells, rows)
        self.result.rows_read += typed.height
        bad = sorted({q.index for _, q in ordered})
        stage = typed.with_columns(
            _line=lines.cast(pl.Int32),
            _bad=pl.int_range(typed.height).is_in(bad),
        )
        if self.kind.name == "tickets":
            stage = db.with_contract_key(stage)
        good = stage.filter(~pl.col("_bad")).select(
            *self.canonical,
            *self.extra,
            pl.lit(db.INGEST_SOURCE).alias("source"),
            pl.lit(self.result.path).alias("source_file"),
            pl.lit(self.source.sheet, dtype=pl.String).alias("source_sheet"),
            pl.col("_row").alias("source_row"),
            pl.lit(self.load_id, dtype=pl.Int64).alias("load_id"),
        )
        names, label = self.names, self.label
        raws = {i: _raw_cells(cells.row(i), names, label) for i in {*bad, cells.height - 1}}
        last = cells.height - 1
        self.last = (rows[last], int(lines[last]), typed.row(last, named=True), raws[last])
        if ordered:
            self.add_problems(
                _problem_records(self.kind, self.headers, typed, lines, ordered, raws)
            )
        return stage, good

    def write(
        self,
        stage: pl.DataFrame,
        good: pl.DataFrame,
        hasher: duckdb.DuckDBPyConnection,
        index: int,
    ) -> None:
        """A checked piece to the scratch folder: its accepted rows (a ticket piece in the
        layout the zone maps need) and the keys of every row with its SHA-1."""
        if self.kind.name == "tickets":
            good = good.sort(db.CLUSTER_KEY, "received_at", "source_row")
        # SHA-1 by DuckDB, on a connection of its own: inside the load's transaction each query
        # of a registered frame keeps memory until the commit (130 MB a piece).
        hasher.register("_batch", _hash_input(stage, self.kind))
        try:
            keys = db.query(
                hasher,
                f"SELECT {', '.join(self.key_columns)}, _row, _line, _bad, "
                f"sha1({_row_text_sql(self.kind)}) AS _sha FROM _batch",
            )
        finally:
            hasher.unregister("_batch")
        good.write_parquet(self.scratch / f"rows-{index:06d}.parquet", compression="lz4")
        keys.write_parquet(self.scratch / f"keys-{index:06d}.parquet", compression="lz4")

    def add_problems(self, records: pl.DataFrame) -> None:
        self.con.register("_batch", records.to_arrow())
        try:
            if not self.problems_made:
                _create_staging(self.con, "_problems", "*")
                self.problems_made = True
            self.con.execute("INSERT INTO _problems SELECT * FROM _batch")
        finally:
            self.con.unregister("_batch")

    def cut_record(self) -> pl.DataFrame:
        """The file's last row, quarantined as ``truncated`` (no line end after it)."""
        row, line, typed_row, raw = self.last
        column = self.kind.columns[-1].name
        return _problem_frame(
            [
                (
                    row,
                    line,
                    1000,
                    "truncated",
                    column,
                    raw.get(self.headers.get(column, ""), None),
                    "the file ends in this row without a line end: it may have been cut "
                    "mid-value; export it again (or, if the row is whole, end the file with a "
                    "line break)",
                    json.dumps(raw, ensure_ascii=False),
                    _row_key(self.kind, self.headers, typed_row, raw),
                )
            ]
        )

    def finish(self) -> None:
        """Keys across the file and against the database; then the accepted rows, the rows
        the load holds and the quarantine, in the caller's transaction; then the counts."""
        con, kind, result = self.con, self.kind, self.result
        # The staged pieces (Parquet, so DuckDB holds none of them in memory until the one
        # INSERT below, which writes row groups out as it goes) as two views.
        for name in ("rows", "keys"):
            pattern = _sql_literal(str(self.scratch / f"{name}-*.parquet"))
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW _ingest_{name} AS FROM read_parquet({pattern})"
            )
        _key_problems_sql(con, kind, self.headers)
        _database_key_sql(con, kind, self.headers)
        wanted = con.execute("SELECT DISTINCT _row FROM _problems WHERE row_json IS NULL")
        records = sorted(r[0] - self.first_row for r in wanted.fetchall())
        # The rows just rejected are read again from the file in a thread while DuckDB inserts
        # the accepted ones (each leaves a core idle much of the time).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seatscore-reread") as pool:
            reading = pool.submit(
                _rows_as_written,
                self.source,
                self.pieces,
                records,
                self.cell_select,
                self.first_row,
                self.names,
                self.label,
            )
            rejected = "SELECT _row FROM _problems UNION ALL SELECT _row FROM _identical"
            provenance = ["source", "source_file", "source_sheet", "source_row", "load_id"]
            target = ", ".join([*self.canonical, *self.extra, *provenance])
            con.execute(
                f"""INSERT INTO {kind.table} ({target}) SELECT {target} FROM _ingest_rows
                    WHERE source_row NOT IN ({rejected})"""
            )
            con.execute(
                """INSERT INTO load_rows (load_id, kind, row_sha1)
                    SELECT $load, $kind, _sha FROM _ingest_keys
                    WHERE NOT _bad AND _row NOT IN (SELECT _row FROM _problems)""",
                {"load": self.load_id, "kind": kind.name},
            )
            filled = reading.result()
        con.register("_filled", filled.to_arrow())
        try:
            con.execute(
                """UPDATE _problems SET row_json = f.row_json FROM _filled f
                   WHERE _problems._row = f._row AND _problems.row_json IS NULL"""
            )
        finally:
            con.unregister("_filled")
        con.execute(
            """INSERT INTO quarantine (load_id, path, sheet, source_row, source_line, row_key,
                                       column_name, value, code, reason, row_json)
               SELECT $load, $path, $sheet, _row, _line, row_key, column_name, value, code,
                      reason, row_json
               FROM _problems ORDER BY _row, _seq""",
            {"load": self.load_id, "path": result.path, "sheet": self.source.sheet},
        )
        self.count()
        for name in ("_problems", "_identical"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
        for name in ("_ingest_rows", "_ingest_keys"):
            con.execute(f"DROP VIEW IF EXISTS {name}")

    def count(self) -> None:
        con, result = self.con, self.result
        counts = con.execute(
            f"""SELECT (SELECT count(*) FROM _ingest_keys),
                       (SELECT count(*) FROM {self.kind.table} WHERE load_id = $load),
                       (SELECT count(*) FROM _identical),
                       (SELECT count(DISTINCT _row) FROM _problems)""",
            {"load": self.load_id},
        ).fetchone()
        result.ledger_rows, result.loaded, result.already, result.rejected = counts
        result.rejected_source_rows = result.rejected
        first_codes = """SELECT code, count(*) FROM (SELECT arg_min(code, _seq) AS code
                         FROM _problems GROUP BY _row) GROUP BY code"""
        result.reasons = Counter(dict(con.execute(first_codes).fetchall()))
        found = con.execute(
            "SELECT DISTINCT contract_id FROM _ingest_keys WHERE contract_id IS NOT NULL"
        ).fetchall()
        result.contract_ids = sorted(r[0] for r in found if r[0] in self.contracts)


def _as_text_in_polars(column: Column) -> bool:
    """Whether :func:`_row_text_sql` takes ``column`` as Polars writes it (numbers with a
    fraction, whose shortest text the two libraries may write differently) rather than cast."""
    return column.dtype == pl.Float64() or isinstance(column.dtype, pl.Decimal)


def _hash_input(stage: pl.DataFrame, kind: LedgerKind):
    """The staged piece for the hasher: its columns, numbers with a fraction as Polars' text."""
    return stage.with_columns(
        pl.col(c.name).cast(pl.String) for c in kind.columns if _as_text_in_polars(c)
    ).to_arrow(compat_level=pl.CompatLevel.newest())


def _row_text_sql(kind: LedgerKind) -> str:
    """:func:`seatscore.ledgers.kinds.row_text` in DuckDB SQL, the same text to the byte (times
    as Polars writes them, ``2025-10-01 08:05:00.000000``): Polars' cast of every column to text
    was a fifth of a large load; a test checks the two agree."""
    parts, later = [], []
    for c in kind.columns:
        if isinstance(c.dtype, pl.Datetime):
            text = f"strftime({c.name}, '%Y-%m-%d %H:%M:%S.%f')"
        else:
            text = f"CAST({c.name} AS VARCHAR)"
        if c.hashed_when_set:  # appended only when set, as name=value
            later.append(f" || coalesce(chr(31) || '{c.name}=' || {text}, '')")
        else:
            parts.append(f"coalesce({text}, '\\N')")
    return f"concat_ws(chr(31), {', '.join(parts)}){''.join(later)}"


def _raw_cells(row: tuple, names: list[str], label: dict[int, str]) -> dict[str, str]:
    """A row's cells under their headers (a column letter where none), empty cells left out."""
    return {label[i]: v for i, v in enumerate(row) if v is not None}


_PROBLEM_SCHEMA = {
    "_row": pl.Int32,
    "_line": pl.Int32,
    "_seq": pl.Int32,
    "code": pl.String,
    "column_name": pl.String,
    "value": pl.String,
    "reason": pl.String,
    "row_json": pl.String,
    "row_key": pl.String,
}


def _problem_frame(records: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(records, schema=_PROBLEM_SCHEMA, orient="row")


def _problem_records(
    kind: LedgerKind,
    headers: dict[str, str],
    typed: pl.DataFrame | None,
    lines: pl.Series | None,
    ordered: list[tuple[int, Problem]],
    raws: dict[int, dict],
) -> pl.DataFrame:
    """A batch's problems as rows of the staged ``_problems`` table. ``_seq`` orders a row's
    problems as a whole-file load meets them (parse, cut, future, rule, key, reference,
    database), so the reason counted for a row is the same."""
    position = {c.name: i for i, c in enumerate(kind.columns)}
    records = []
    for stage, q in ordered:
        row = typed.row(q.index, named=True)
        raw = raws[q.index]
        header = headers.get(q.column, q.column)
        records.append(
            (
                row["_row"],
                int(lines[q.index]),
                stage * 1000 + position.get(q.column, 999),
                q.code,
                header,
                raw.get(header, None if row.get(q.column) is None else str(row.get(q.column))),
                q.reason,
                json.dumps(raw, ensure_ascii=False),
                _row_key(kind, headers, row, raw),
            )
        )
    return _problem_frame(records)


def _rows_as_written(
    source: _BigCsv | _BigSheet,
    pieces: list[_Piece],
    records: list[int],
    cell_select: list[pl.Expr],
    first_row: int,
    names: list[str],
    label: dict[int, str],
) -> pl.DataFrame:
    """The whole row as written (``_row``, ``row_json``), for rows rejected once every batch was
    staged (a key repeated in the file or held by the database): read again from the source,
    the pieces that hold ``records`` (indices as the batches gave them) only."""
    rows, texts = [], []
    for frame in source.again(pieces, records, names) if records else ():
        # Into Python text now: a filtered frame keeps the whole piece's text alive.
        for row in frame.select("_rec", *cell_select).iter_rows():
            rows.append(row[0] + first_row)
            texts.append(json.dumps(_raw_cells(row[1:], names, label), ensure_ascii=False))
    return pl.DataFrame(
        {"_row": rows, "row_json": texts}, schema={"_row": pl.Int32, "row_json": pl.String}
    )


def _key_text_sql(kind: LedgerKind, prefix: str) -> str:
    """SQL for :func:`_row_key` of a staged row: its natural key without the contract id."""
    parts = [
        f"coalesce(CAST({prefix}{k} AS VARCHAR), '')"
        for k in kind.natural_key
        if k != "contract_id"
    ]
    return " || ' / ' || ".join(parts) if parts else "NULL"


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _key_problems_sql(
    con: duckdb.DuckDBPyConnection, kind: LedgerKind, headers: dict[str, str]
) -> None:
    """:func:`_same_key_problems` over every staged row in SQL: a row repeating an earlier
    identical one is a ``duplicate``; rows sharing a key with other values are all ``conflict``."""
    if not kind.natural_key:
        return
    key = list(kind.natural_key)
    last = key[-1]
    described = ", ".join(key)
    complete = " AND ".join(f"{k} IS NOT NULL" for k in key)
    on = " AND ".join(f"s.{k} = g.{k}" for k in key)
    seq = 4000 + [c.name for c in kind.columns].index(last)
    key_text = _key_text_sql(kind, "s.")
    con.execute(
        f"""INSERT INTO _problems
            WITH repeated AS (
                SELECT {", ".join(key)} FROM _ingest_keys WHERE {complete}
                GROUP BY {", ".join(key)} HAVING count(*) > 1),
            g AS (
                SELECT {", ".join(key)}, count(DISTINCT _sha) AS variants, min(_row) AS first,
                       list(_row ORDER BY _row) AS rows
                FROM _ingest_keys SEMI JOIN repeated USING ({", ".join(key)})
                GROUP BY {", ".join(key)})
            SELECT s._row, s._line, {seq},
                   CASE WHEN g.variants = 1 THEN 'duplicate' ELSE 'conflict' END,
                   {_sql_literal(headers.get(last, last))}, CAST(s.{last} AS VARCHAR),
                   CASE WHEN g.variants = 1
                        THEN 'repeats row ' || g.first || ' ({described})'
                        ELSE 'row(s) ' || array_to_string(list_filter(g.rows, lambda x: x <> s._row), ', ')
                             || ' give other values for the same {described}; none is loaded '
                             || 'until one is removed' END,
                   NULL, {key_text}
            FROM _ingest_keys s JOIN g ON {on}
            WHERE g.variants > 1 OR s._row <> g.first"""
    )


def _database_key_sql(
    con: duckdb.DuckDBPyConnection, kind: LedgerKind, headers: dict[str, str]
) -> None:
    """:func:`_database_key_check` for the rows a batched load inserted (``load_id``) that have
    no problem: a key another load holds with the same values is skipped (``_identical``), with
    other values it is a conflict."""
    con.execute("CREATE OR REPLACE TEMP TABLE _identical (_row INTEGER)")
    if not kind.natural_key:
        return
    key = list(kind.natural_key)
    values = [c.name for c in kind.columns]
    on = " AND ".join(f"t.{k} = k.{k}" for k in key)
    if kind.name == "tickets":
        on = f"t.{db.CLUSTER_KEY} = k.{db.CLUSTER_KEY} AND {on}"
    same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM n.{c}" for c in values)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _found AS
            SELECT k._row, k._line, ({same}) AS same, t.source_file, t.source_sheet,
                   t.source_row, t.load_id, CAST(k.{key[-1]} AS VARCHAR) AS value,
                   {_key_text_sql(kind, "k.")} AS row_key
            FROM _ingest_keys k
            JOIN {kind.table} t ON {on}
            JOIN _ingest_rows n ON n.source_row = k._row
            WHERE NOT k._bad AND k._row NOT IN (SELECT _row FROM _problems)"""
    )
    con.execute("INSERT INTO _identical SELECT DISTINCT _row FROM _found WHERE same")
    described = ", ".join(key)
    seq = 6000 + values.index(key[-1])
    con.execute(
        f"""INSERT INTO _problems
            SELECT DISTINCT ON (_row) _row, _line, {seq}, 'conflict',
                   {_sql_literal(headers.get(key[-1], key[-1]))}, value,
                   'the database holds other values for this {described} from ' || source_file
                   || coalesce(' sheet ' || source_sheet, '') || ' row ' || source_row
                   || coalesce(' (load ' || load_id || '); if this file corrects it, load it '
                               || 'with --replaces ' || load_id, ''),
                   NULL, row_key
            FROM _found WHERE NOT same"""
    )
    con.execute("DROP TABLE _found")


def read_with_profile(
    path: Path | str, profile_path: Path | str, sheet: str | None = None
) -> pl.DataFrame:
    """One file read through an import profile without a database: the kind's canonical
    columns plus ``source_file`` and ``source_row``. For public datasets analysed in a notebook
    (:func:`seatscore.ledgers.sources.read_tipdm_messages`). Raises :class:`IngestError` listing the
    first problems when any row has one (rules and keys; contracts are not checked)."""
    profile, _ = load_profile(profile_path)
    kind = KINDS[profile.kind]
    path = Path(path)
    frames = []
    for table in read_tables(path, sheet or profile.sheet, profile.encoding):
        shaped, typed, problems = _typed(table, kind, profile, None)
        problems += rule_problems(kind, typed) + key_problems(kind, typed)
        if problems:
            rows = typed["_row"].to_list()
            listed = "\n".join(
                f"  - row {rows[q.index]}, column {shaped.headers.get(q.column, q.column)}: {q.reason}"
                for q in sorted(problems, key=lambda q: q.index)[:10]
            )
            raise IngestError(f"{_where(table)}: {len(problems)} problem(s)\n{listed}")
        frames.append(
            typed.select(
                *[c.name for c in kind.columns],
                pl.lit(path.name).alias("source_file"),
                pl.col("_row").alias("source_row"),
            )
        )
    return pl.concat(frames)
