"""Ledger (台账) kinds, their canonical columns, and a strict CSV reader.

Every ledger is a UTF-8 CSV with a header row. Times are Beijing wall-clock time (Asia/Shanghai)
written ``YYYY-MM-DD HH:MM[:SS]``; dates ``YYYY-MM-DD``; money in CNY with at most two decimals.

A bad row is never dropped: :func:`read_ledger` raises :class:`~seatscore.errors.LedgerError` naming
the file, the row (the header is row 1) and the column of every problem it finds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from seatscore.contracts import Contract
from seatscore.errors import LedgerError
from seatscore.service_levels import METRICS, known_metric

MONEY = pl.Decimal(14, 2)
POINTS = pl.Decimal(7, 2)


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    required: bool
    doc: str


@dataclass(frozen=True)
class LedgerKind:
    name: str
    file_name: str
    table: str
    columns: tuple[Column, ...]
    doc: str

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}

    def conform(self, frame: pl.DataFrame, strict: bool = True) -> pl.DataFrame:
        """``frame`` as this kind's columns, in order and cast to their dtypes; a column the frame
        lacks comes as nulls, other columns are left out. ``strict=False`` turns a value that
        cannot be cast into null (for the caller to report) instead of raising Polars'
        ``InvalidOperationError``."""
        return frame.select(
            pl.col(c.name).cast(c.dtype, strict=strict)
            if c.name in frame.columns
            else pl.lit(None, dtype=c.dtype).alias(c.name)
            for c in self.columns
        )


STAFFING = LedgerKind(
    name="staffing",
    file_name="staffing_daily.csv",
    table="staffing_daily",
    doc="One row per post per day: staff the roster requires and staff present (在岗).",
    columns=(
        Column("contract_id", pl.String(), True, "contract id"),
        Column("service_date", pl.Date(), True, "the day, Beijing time"),
        Column("post_id", pl.String(), True, "post id from the contract params"),
        Column("required", pl.Int32(), True, "persons required that day (应到人数)"),
        Column("present", pl.Int32(), True, "persons present that day (实到人数)"),
        Column("note", pl.String(), False, "free text"),
    ),
)

DEDUCTIONS = LedgerKind(
    name="deductions",
    file_name="deductions.csv",
    table="deduction_events",
    doc="Assessment deduction events (扣分): a rule item, how often, and the points the buyer set "
    "where the item is discretionary.",
    columns=(
        Column("contract_id", pl.String(), True, "contract id"),
        Column("event_date", pl.Date(), True, "the day it happened"),
        Column("item_id", pl.String(), True, "rule item id from the contract's assessment"),
        Column("occurrences", pl.Int32(), True, "how many tickets, persons or times (次数)"),
        Column(
            "assessed_points",
            POINTS,
            False,
            "points per occurrence the buyer set, for discretionary items only",
        ),
        Column("note", pl.String(), False, "free text (备注)"),
    ),
)

PENALTIES = LedgerKind(
    name="penalties",
    file_name="penalties.csv",
    table="penalty_events",
    doc="Money penalty events (扣款/违约金) under the contract's penalty clauses.",
    columns=(
        Column("contract_id", pl.String(), True, "contract id"),
        Column("event_date", pl.Date(), True, "the day it happened"),
        Column("penalty_id", pl.String(), True, "penalty id from the contract params"),
        Column("occurrences", pl.Int32(), True, "how many times"),
        Column(
            "assessed_amount_cny",
            MONEY,
            False,
            "CNY per occurrence the buyer set, for penalties stated as a range or a minimum",
        ),
        Column("note", pl.String(), False, "free text"),
    ),
)

TICKETS = LedgerKind(
    name="tickets",
    file_name="tickets.csv",
    table="tickets",
    doc="Work orders (工单): one row per ticket, with its times in Beijing time.",
    columns=(
        Column("contract_id", pl.String(), True, "contract id"),
        Column("ticket_id", pl.String(), True, "ticket number (工单编号), unique per contract"),
        Column("received_at", pl.Datetime("us"), True, "受理时间"),
        Column("dispatched_at", pl.Datetime("us"), False, "派发时间"),
        Column("replied_at", pl.Datetime("us"), False, "回复时间"),
        Column("closed_at", pl.Datetime("us"), False, "办结时间"),
        Column("priority", pl.String(), True, "urgent or ordinary (紧急程度)"),
        Column("category", pl.String(), True, "问题类别"),
        Column("district", pl.String(), False, "所属街道/区"),
        Column("channel", pl.String(), False, "来源渠道"),
        Column("callback_done", pl.Boolean(), False, "a callback (回访) was made"),
        Column("satisfied", pl.Boolean(), False, "the citizen said satisfied at callback"),
        Column("dispatch_correct", pl.Boolean(), False, "dispatched to the right unit"),
        Column("summary", pl.String(), False, "诉求内容, free text; may hold personal data"),
        Column("caller_phone", pl.String(), False, "来电号码; personal data, masked in reports"),
        Column("location", pl.String(), False, "点位/地址: where the problem is, for hotspots"),
        Column(
            "case_class",
            pl.String(),
            False,
            "city, district or special (市局/区局/特殊案件), for 000's reply limits",
        ),
        Column("category_group", pl.String(), False, "a group of categories, e.g. 6+N (002)"),
        Column("direct_dispatch", pl.Boolean(), False, "dispatched directly to a street (直派)"),
        Column("resolved", pl.Boolean(), False, "the citizen said resolved at callback (解决)"),
        Column("arrived_at", pl.Datetime("us"), False, "到场时间: on site, for emergencies"),
        Column("distance_km", pl.Float64(), False, "distance to the site in km (到场距离)"),
        Column(
            "repeat_prompted",
            pl.Boolean(),
            False,
            "a repeated report here was prompted to the unit on the ground (即时提示, 000)",
        ),
    ),
)

KPIS = LedgerKind(
    name="kpis",
    file_name="kpis_monthly.csv",
    table="kpi_monthly",
    doc="Monthly figures delivered without tickets (a vendor's monthly report, a city's "
    "published call metrics): one row per contract, month and metric.",
    columns=(
        Column("contract_id", pl.String(), True, "contract id"),
        Column("month", pl.String(), True, "calendar month YYYY-MM"),
        Column("metric", pl.String(), True, "metric key of seatscore.service_levels.METRICS"),
        Column("value", pl.Float64(), True, "shares as 0–1; minutes, seconds or counts per unit"),
        Column("tickets", pl.Int64(), False, "how many tickets or calls the figure is based on"),
        Column("note", pl.String(), False, "free text, e.g. who reported it"),
    ),
)

KINDS: dict[str, LedgerKind] = {k.name: k for k in (STAFFING, DEDUCTIONS, PENALTIES, TICKETS, KPIS)}

_MAX_LISTED = 10
_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


def _cast(column: Column, raw: pl.Expr) -> pl.Expr:
    text = raw.str.strip_chars()
    text = pl.when(text == "").then(None).otherwise(text)
    if column.dtype == pl.Date():
        return text.str.to_date("%Y-%m-%d", strict=False)
    if isinstance(column.dtype, pl.Datetime):
        parsed = [text.str.to_datetime(f, strict=False, time_unit="us") for f in _DATETIME_FORMATS]
        return pl.coalesce(parsed)
    if column.dtype == pl.Boolean():
        lowered = text.str.to_lowercase()
        return (
            pl.when(lowered.is_in(["true", "1", "是", "yes"]))
            .then(True)
            .when(lowered.is_in(["false", "0", "否", "no"]))
            .then(False)
            .otherwise(None)
        )
    return text.cast(column.dtype, strict=False)


def _problems(frame: pl.DataFrame, mask: pl.Expr, column: str, message: str) -> list[str]:
    rows = frame.with_row_index("_row", offset=2).filter(mask)["_row"].to_list()
    return [f"row {row}, column {column}: {message}" for row in rows]


def read_ledger(path: Path | str, kind: LedgerKind | str) -> pl.DataFrame:
    """Read one ledger file into a frame with the kind's canonical columns and dtypes.

    A ``.csv`` file is read as text and each value parsed; a ``.parquet`` file (for ledgers of
    millions of rows, e.g. ``seatscore demo-data --scale``) keeps its typed columns, cast to the
    canonical dtypes. Optional columns missing from the file are added as nulls. Raises
    :class:`LedgerError` when the file is unreadable, a required column is missing, a column is
    unknown, or any value cannot be read as its type, is missing where required, or breaks a basic
    rule (negative counts, a ticket closed before it was received); the message lists the rows
    (the header of a CSV is row 1; Parquet rows count from 2 alike) and columns.
    """
    kind = KINDS[kind] if isinstance(kind, str) else kind
    path = Path(path)
    if path.suffix == ".parquet":
        return _read_parquet_ledger(path, kind)
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (OSError, pl.exceptions.ComputeError) as exc:
        raise LedgerError(f"{path}: cannot read the {kind.name} ledger: {exc}") from exc
    _check_columns(path, kind, raw.columns)
    raw = raw.with_columns(
        pl.lit(None, dtype=pl.String).alias(c.name) for c in kind.columns if c.name not in raw
    )
    typed = raw.select(_cast(c, pl.col(c.name)).alias(c.name) for c in kind.columns)
    problems: list[str] = []
    for c in kind.columns:
        unreadable = raw[c.name].str.strip_chars().ne("") & typed[c.name].is_null()
        problems += _problems(raw, unreadable.fill_null(False), c.name, f"cannot read as {c.dtype}")
        if c.required:
            problems += _problems(
                raw,
                raw[c.name].is_null() | raw[c.name].str.strip_chars().eq(""),
                c.name,
                "required value is empty",
            )
    problems += _rule_problems(kind, typed)
    _raise_problems(path, kind, problems)
    return typed


def _check_columns(path: Path, kind: LedgerKind, columns: list[str]) -> None:
    known = {c.name for c in kind.columns}
    missing = [c.name for c in kind.columns if c.required and c.name not in columns]
    unknown = [c for c in columns if c not in known]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing required column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        expected = ", ".join(c.name for c in kind.columns)
        raise LedgerError(
            f"{path}: {'; '.join(parts)}. A {kind.name} ledger has the columns: {expected}"
        )


def _raise_problems(path: Path, kind: LedgerKind, problems: list[str]) -> None:
    if problems:
        shown = problems[:_MAX_LISTED]
        more = len(problems) - len(shown)
        raise LedgerError(
            f"{path}: {len(problems)} problem(s) in the {kind.name} ledger; nothing was loaded.\n"
            + "\n".join(f"  - {p}" for p in shown)
            + (f"\n  - … and {more} more" if more else "")
            + "\nCorrect the rows and load the file again."
        )


def _read_parquet_ledger(path: Path, kind: LedgerKind) -> pl.DataFrame:
    try:
        raw = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise LedgerError(f"{path}: cannot read the {kind.name} ledger: {exc}") from exc
    _check_columns(path, kind, raw.columns)
    typed = kind.conform(raw, strict=False)
    problems: list[str] = []
    for c in kind.columns:
        if c.name in raw.columns:
            lost = raw[c.name].is_not_null() & typed[c.name].is_null()
            problems += _problems(raw, lost, c.name, f"cannot read as {c.dtype}")
        if c.required:
            problems += _problems(typed, typed[c.name].is_null(), c.name, "required value is empty")
    problems += _rule_problems(kind, typed)
    _raise_problems(path, kind, problems)
    return typed


def _rule_problems(kind: LedgerKind, frame: pl.DataFrame) -> list[str]:
    checks: list[tuple[pl.Expr, str, str]] = []
    if kind is STAFFING:
        checks += [
            (pl.col("required") < 0, "required", "must not be negative"),
            (pl.col("present") < 0, "present", "must not be negative"),
        ]
    if kind in (DEDUCTIONS, PENALTIES):
        checks.append((pl.col("occurrences") < 1, "occurrences", "must be at least 1"))
    if kind is TICKETS:
        checks += [
            (
                ~pl.col("priority").is_in(["urgent", "ordinary"]),
                "priority",
                "must be urgent or ordinary",
            ),
            (
                pl.col("dispatched_at") < pl.col("received_at"),
                "dispatched_at",
                "is before received_at",
            ),
            (pl.col("replied_at") < pl.col("received_at"), "replied_at", "is before received_at"),
            (pl.col("closed_at") < pl.col("received_at"), "closed_at", "is before received_at"),
            (
                pl.col("closed_at") < pl.col("dispatched_at"),
                "closed_at",
                "is before dispatched_at",
            ),
        ]
    problems = []
    for mask, column, message in checks:
        problems += _problems(frame, mask.fill_null(False), column, message)
    if kind is TICKETS:
        checks = [
            (pl.col("arrived_at") < pl.col("received_at"), "arrived_at", "is before received_at"),
            (pl.col("distance_km") < 0, "distance_km", "must not be negative"),
        ]
        for mask, column, message in checks:
            problems += _problems(frame, mask.fill_null(False), column, message)
        dup = frame.select(pl.struct("contract_id", "ticket_id").is_duplicated()).to_series()
        problems += _problems(frame, dup, "ticket_id", "repeats an earlier ticket of the contract")
    if kind is KPIS:
        bad_month = ~pl.col("month").str.contains(r"^\d{4}-(0[1-9]|1[0-2])$")
        problems += _problems(frame, bad_month.fill_null(False), "month", "must be YYYY-MM")
        share = pl.col("metric").replace_strict(
            {k: m.unit == "share" for k, m in METRICS.items()}, default=False
        )
        out_of_range = share & ((pl.col("value") < 0) | (pl.col("value") > 1))
        problems += _problems(
            frame, out_of_range.fill_null(False), "value", "a share must be 0–1 (43.7% is 0.437)"
        )
        dup = frame.select(pl.struct("contract_id", "month", "metric").is_duplicated()).to_series()
        problems += _problems(frame, dup, "metric", "repeats another row for the same month")
    return problems


_DATE_COLUMN = {"staffing": "service_date", "deductions": "event_date", "penalties": "event_date"}


def check_references(
    path: Path | str, kind: LedgerKind, frame: pl.DataFrame, contracts: dict[str, Contract]
) -> None:
    """Check every row against the contract params it names.

    The contract must exist, the date (``received_at`` for tickets) must fall in its service
    period, and the post, rule item or penalty must be one the contract has. Discretionary items
    need ``assessed_points`` within the item's range; penalties stated as a range need
    ``assessed_amount_cny`` within it. Raises :class:`LedgerError` listing rows and columns.
    """
    problems: list[str] = []
    indexed = frame.with_row_index("_row", offset=2)
    date_col = _DATE_COLUMN.get(kind.name)
    if kind is KPIS:
        date_col, day = "month", pl.format("{}-01", "month").str.to_date()
    elif date_col:
        day = pl.col(date_col)
    else:
        day = pl.col("received_at").dt.date()
    # One join against the service periods, not one pass per contract (ledgers of millions of
    # rows over hundreds of contracts).
    periods = pl.DataFrame(
        {
            "contract_id": list(contracts),
            "_start": [
                c.service_period.start.replace(day=1) if kind is KPIS else c.service_period.start
                for c in contracts.values()
            ],
            "_end": [c.service_period.end for c in contracts.values()],
        },
        schema={"contract_id": pl.String, "_start": pl.Date, "_end": pl.Date},
    )
    checked = indexed.select("_row", "contract_id", day.alias("_day")).join(
        periods, on="contract_id", how="left"
    )
    for r, cid in checked.filter(pl.col("_start").is_null()).select("_row", "contract_id").rows():
        problems.append(f"row {r}, column contract_id: unknown contract {cid!r}")
        if len(problems) > _MAX_LISTED:
            break
    outside = checked.filter(
        (pl.col("_day") < pl.col("_start")) | (pl.col("_day") > pl.col("_end"))
    )
    for r, cid in outside.head(_MAX_LISTED + 1).select("_row", "contract_id").rows():
        period = contracts[cid].service_period
        problems.append(
            f"row {r}, column {date_col or 'received_at'}: outside {cid}'s service period "
            f"{period.start}–{period.end}"
        )
    if kind is not TICKETS:
        for row in indexed.iter_rows(named=True):
            contract = contracts.get(row["contract_id"])
            if contract is not None:
                problems += _row_reference_problems(f"row {row['_row']}", kind, row, contract)
            if len(problems) > _MAX_LISTED:
                break
    if problems:
        problems.sort(key=lambda p: int(p.split(",")[0].removeprefix("row ")))
        more = len(problems) - _MAX_LISTED
        raise LedgerError(
            f"{path}: rows that do not match the contract params; nothing was loaded.\n"
            + "\n".join(f"  - {p}" for p in problems[:_MAX_LISTED])
            + (f"\n  - … and more ({more}+)" if more > 0 else "")
            + "\nCorrect the rows (or the params file) and load again."
        )


def _row_reference_problems(
    where: str, kind: LedgerKind, row: dict, contract: Contract
) -> Iterable[str]:
    cid = contract.contract_id
    if kind is STAFFING:
        if row["post_id"] not in {p.post_id for p in contract.posts}:
            yield f"{where}, column post_id: {cid} has no post {row['post_id']!r}"
    elif kind is DEDUCTIONS:
        assessment = contract.assessment.value
        if assessment is None:
            yield f"{where}, column item_id: {cid} has no points sheet"
            return
        try:
            item = assessment.item(row["item_id"])
        except KeyError:
            yield f"{where}, column item_id: {cid} has no rule item {row['item_id']!r}"
            return
        points = row["assessed_points"]
        if item.kind == "discretionary":
            if points is None:
                yield f"{where}, column assessed_points: {item.item_id} is discretionary; record the points the buyer set"
            elif (item.points_min is not None and points < item.points_min) or (
                item.points_max is not None and points > item.points_max
            ):
                yield (
                    f"{where}, column assessed_points: {points} is outside "
                    f"{item.points_min}–{item.points_max} ({item.clause})"
                )
        elif item.kind in ("below_target", "linear", "staffing_daily", "repeat_reports"):
            yield f"{where}, column item_id: {item.item_id} is computed from tickets or staffing, not recorded"
        elif points is not None:
            yield f"{where}, column assessed_points: {item.item_id} has fixed points; leave it empty"
    elif kind is KPIS:
        targets = {t.target_id for t in contract.service_level_targets}
        if not known_metric(row["metric"]) and row["metric"] not in targets:
            yield (
                f"{where}, column metric: {row['metric']!r} is neither a metric key of "
                f"seatscore.service_levels.METRICS nor a target id of {cid} "
                f"({', '.join(sorted(targets)) or 'none'})"
            )
    elif kind is PENALTIES:
        penalty = next((p for p in contract.penalties if p.penalty_id == row["penalty_id"]), None)
        if penalty is None:
            yield f"{where}, column penalty_id: {cid} has no penalty {row['penalty_id']!r}"
            return
        amount = row["assessed_amount_cny"]
        ranged = penalty.amount_cny is None and penalty.share_of_amount is None
        if ranged and amount is None:
            yield f"{where}, column assessed_amount_cny: {penalty.penalty_id} is set by the buyer; record the amount"
        if ranged and amount is not None:
            low, high = penalty.amount_min_cny, penalty.amount_max_cny
            if (low is not None and amount < low) or (high is not None and amount > high):
                yield f"{where}, column assessed_amount_cny: {amount} is outside {low}–{high} ({penalty.clause})"
        if not ranged and amount is not None:
            yield f"{where}, column assessed_amount_cny: {penalty.penalty_id} has a fixed amount; leave it empty"
