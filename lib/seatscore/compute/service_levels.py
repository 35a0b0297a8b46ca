"""Service levels from tickets: the contracts' targets, the 12345 rates, hotspots, repeated reports.

Input: a tickets frame with the canonical columns of :data:`seatscore.ledgers.kinds.TICKETS` (times are
Beijing wall-clock time, Asia/Shanghai, without zone), usually one contract's rows.

Every rate is a share 0–1 with its ``numerator`` and ``denominator`` (tickets). A period without a
ticket the measure applies to has ``value`` null: the rate is undefined, not zero.

How a ticket counts for a measure (its *state*):

- ``met`` / ``missed``: counted; ``missed`` tickets are the evidence behind a shortfall.
- ``pending``: its deadline has not passed by ``as_of`` (the latest time in the data) and the
  event has not happened yet — not counted.
- ``unmeasured``: the ledger lacks the field the measure needs (no dispatch time: the ticket was
  not dispatched, e.g. answered directly; no callback verdict) — not counted, but reported.
- ``out``: outside the measure's scope (another priority, case class, channel, distance band),
  or set aside: a duplicate, or a transferred or cancelled ticket once closed (``status``,
  :data:`~seatscore.terms.measures.SET_ASIDE_STATUSES`), counts as received and is still held to
  the handling measures (dispatch, its accuracy, arrival), but to no other, nor in the close
  times; how many there were is the ``set_aside`` figure.

Time limits are inclusive ("within 10 minutes" = at most 10 minutes after receipt).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import polars as pl
import yaml
from pydantic import Field

from seatscore.core import config
from seatscore.core.model import Model
from seatscore.terms.contracts import Contract, ServiceLevelTarget, TicketScope
from seatscore.terms.measures import (
    GENERAL,
    METRICS,
    SET_ASIDE_STATUSES,
    STATE_COLUMNS,
    THREE_RATES,
    TIME_COLUMNS,
    MetricInfo,
    split_metric,
)
from seatscore.terms.periods import service_months, shift_month
from seatscore.terms.thresholds import holds

Grain = Literal["month", "week", "day"]
STATES = ("met", "missed", "pending", "unmeasured", "out")
STATE = pl.Enum(STATES)
"""The dtype of a ticket's state: an enum (one byte a ticket, compared as ``== "missed"``)."""
AsOf = dt.datetime | pl.Expr | None
"""The time deadlines are judged at: a moment, a column (one per contract), or None (nothing
overdue)."""


@dataclass(frozen=True)
class Measure:
    """One figure to compute: a contract's service-level target, or a general rate.

    ``key`` is unique within a contract (the target id, or the metric key of a general rate).
    """

    key: str
    metric: str
    name_zh: str
    target_id: str | None
    limit_minutes: Decimal | None
    target_share: Decimal | None
    scope: TicketScope | None
    priority: str | None
    clause: str | None
    note: str | None
    target_word: str | None = None
    item: str | None = None
    """The assessment item that deducts for each ticket missing the target (``ServiceLevelTarget.item``)."""

    @classmethod
    def general(cls, metric: str) -> Measure:
        """A rate computed for every contract, with no target, limit or scope."""
        return cls(metric, metric, METRICS[metric].name_zh, *(None,) * 7)

    def meets(self, value: Decimal | float | None) -> bool | None:
        """Whether the share ``value`` (0–1; a float is read by its shortest decimal form) meets
        the target in the contract's word (不低于 98 %: exactly 98 % does; a target without a
        word reads as 不低于); None without both."""
        if value is None or self.target_share is None:
            return None
        exact = value if isinstance(value, Decimal) else Decimal(str(value))
        return holds(exact, self.target_word or "不低于", self.target_share)

    @property
    def info(self) -> MetricInfo:
        return METRICS[self.metric]

    @property
    def every_ticket(self) -> bool:
        """True when the target states a time limit (or its metric carries one, the day's
        midnight, the ticket's own deadline) and no share: every ticket is held to it, so one
        past it is a miss and its target is 100 % (000 附件二 第四章 一 1: 每超时一单扣0.5分)."""
        return self.target_share is None and self.info.deadline and self.assessable is None

    @property
    def assessable(self) -> str | None:
        """None when the measure can be computed from tickets, else why not (Chinese)."""
        if not self.info.from_tickets:
            return "工单台账不含该指标所需数据；可由月度指标台账提供"
        if self.info.needs_limit and self.limit_minutes is None:
            return "合同未规定时限"
        return None


def _from_target(t: ServiceLevelTarget) -> Measure:
    metric, priority = split_metric(t.metric)
    return Measure(
        key=t.target_id,
        metric=metric,
        name_zh=t.name_zh,
        target_id=t.target_id,
        limit_minutes=t.limit_minutes.value if t.limit_minutes is not None else None,
        target_share=t.target_share.value if t.target_share is not None else None,
        scope=t.scope,
        priority=priority,
        clause=t.clause,
        note=t.note,
        target_word=t.target_share.word if t.target_share is not None else None,
        item=t.item,
    )


def contract_measures(contract: Contract) -> list[Measure]:
    """The contract's service-level targets (``three_rates`` expanded into the three 12345 rates),
    then the general rates that no unscoped target already covers. (The contract schema rejects
    an unknown metric key when the params are loaded.)"""
    out: list[Measure] = []
    for t in contract.service_level_targets:
        if t.metric == "three_rates":
            out += [
                Measure(
                    key=k,
                    metric=k,
                    name_zh=METRICS[k].name_zh,
                    target_id=t.target_id,
                    limit_minutes=None,
                    target_share=t.target_share.value if t.target_share else None,
                    scope=t.scope,
                    priority=None,
                    clause=t.clause,
                    note=t.note,
                    target_word=t.target_share.word if t.target_share else None,
                )
                for k in THREE_RATES
            ]
        else:
            out.append(_from_target(t))
    covered = {m.metric for m in out if m.scope is None and m.priority is None}
    out += [Measure.general(k) for k in GENERAL if k not in covered]
    return out


# ---------------------------------------------------------------- per-ticket states


def _minutes(column: str) -> pl.Expr:
    return (pl.col(column) - pl.col("received_at")).dt.total_seconds() / 60


def _scope_expr(m: Measure) -> pl.Expr:
    cond = pl.lit(True)
    s = m.scope
    if m.priority is not None:
        cond = cond & (pl.col("priority") == m.priority)
    if s is None:
        return cond
    for column in ("priority", "case_class", "category_group", "channel"):
        values = getattr(s, column)
        if values is not None:
            cond = cond & pl.col(column).is_in(values).fill_null(False)
    if s.direct_dispatch is not None:
        cond = cond & (pl.col("direct_dispatch") == s.direct_dispatch).fill_null(False)
    if s.distance_km_over is not None:
        cond = cond & (pl.col("distance_km") > float(s.distance_km_over)).fill_null(False)
    if s.distance_km_upto is not None:
        cond = cond & (pl.col("distance_km") <= float(s.distance_km_upto)).fill_null(False)
    return cond


def set_aside() -> pl.Expr:
    """Whether a ticket is set aside (:data:`~seatscore.terms.measures.SET_ASIDE_STATUSES`): a
    duplicate from receipt, a transfer or cancellation once closed; false without a status."""
    status = pl.col("status")
    closed_out = status.is_in(SET_ASIDE_STATUSES) & pl.col("closed_at").is_not_null()
    return ((status == "duplicate") | closed_out).fill_null(False)


def set_aside_sql() -> str:
    """:func:`set_aside` as a DuckDB condition on a tickets query."""
    listed = ", ".join(f"'{s}'" for s in SET_ASIDE_STATUSES)
    return (
        f"coalesce(status = 'duplicate' OR (status IN ({listed}) AND closed_at IS NOT NULL), false)"
    )


def _state(name: str) -> pl.Expr:
    return pl.lit(name, dtype=STATE)


def _deadline_state(column: str, deadline: pl.Expr, as_of: AsOf) -> pl.Expr:
    """met if ``column`` happened by ``deadline``; missed if it happened later or not at all
    once the deadline passed by ``as_of``; pending otherwise."""
    if as_of is None:
        overdue = pl.lit(False)
    else:
        overdue = deadline < (as_of if isinstance(as_of, pl.Expr) else pl.lit(as_of))
    return (
        pl.when(pl.col(column).is_not_null() & (pl.col(column) <= deadline))
        .then(_state("met"))
        .when(pl.col(column).is_not_null() | overdue)
        .then(_state("missed"))
        .otherwise(_state("pending"))
    )


def _carried(column: str) -> pl.Expr:
    """Whether any ticket of the contract carries ``column``: a rate on a column the export does
    not have is undefined (unmeasured), not zero."""
    return pl.col(column).is_not_null().any().over("contract_id")


def _flag_state(flag: pl.Expr) -> pl.Expr:
    """met / missed on a boolean; unmeasured where it is null."""
    return (
        pl.when(flag.is_null())
        .then(_state("unmeasured"))
        .when(flag)
        .then(_state("met"))
        .otherwise(_state("missed"))
    )


def state_expr(m: Measure, as_of: AsOf) -> pl.Expr:
    """The state of each ticket for measure ``m``: :data:`STATE`, one of :data:`STATES`.

    ``as_of`` is when overdue tickets are judged missed (see :data:`AsOf`)."""
    limit = float(m.limit_minutes) if m.limit_minutes is not None else None
    after = (
        pl.col("received_at") + pl.duration(seconds=round(limit * 60))
        if limit is not None
        else None
    )
    metric = m.metric
    if metric in ("dispatch_minutes", "arrival_minutes"):
        column = "dispatched_at" if metric == "dispatch_minutes" else "arrived_at"
        inner = (
            pl.when(pl.col(column).is_null())
            .then(_state("unmeasured"))
            .when(pl.col(column) <= after)
            .then(_state("met"))
            .otherwise(_state("missed"))
        )
    elif metric in ("reply_minutes", "close_minutes"):
        column = "replied_at" if metric == "reply_minutes" else "closed_at"
        inner = _deadline_state(column, after, as_of)
    elif metric == "closed_by_due_share":  # the ticket's own deadline (办理时限)
        inner = (
            pl.when(pl.col("due_at").is_null())
            .then(_state("unmeasured"))
            .otherwise(_deadline_state("closed_at", pl.col("due_at"), as_of))
        )
    elif metric == "reply_by_same_day_midnight":
        midnight = pl.col("received_at").dt.date().cast(pl.Datetime("us")) + pl.duration(days=1)
        inner = _deadline_state("replied_at", midnight, as_of)
    elif metric == "callback_unclosed_after_days":
        late = _deadline_state("closed_at", after, as_of) == "missed"
        inner = pl.when(late).then(_flag_state(pl.col("callback_done").fill_null(False)))
        inner = inner.otherwise(_state("out"))
    elif metric == "callback_rate":
        inner = (
            pl.when(pl.col("closed_at").is_null())
            .then(_state("out"))
            .when(~_carried("callback_done"))
            .then(_state("unmeasured"))
            .otherwise(_flag_state(pl.col("callback_done").fill_null(False)))
        )
    elif metric == "dispatch_accuracy":
        inner = _flag_state(pl.col("dispatch_correct"))
    elif metric == "resolution_rate":
        inner = _flag_state(pl.col("resolved"))
    elif metric == "satisfaction_rate":
        inner = _flag_state(pl.col("satisfied"))
    elif metric == "response_rate":
        inner = (
            pl.when(~_carried("replied_at"))
            .then(_state("unmeasured"))
            .otherwise(_flag_state(pl.col("replied_at").is_not_null()))
        )
    elif metric == "processing_rate":
        inner = (
            pl.when(~_carried("replied_at") & ~_carried("closed_at"))
            .then(_state("unmeasured"))
            .otherwise(
                _flag_state(pl.col("replied_at").is_not_null() | pl.col("closed_at").is_not_null())
            )
        )
    else:
        raise ValueError(f"{metric!r} is not computed from tickets")
    scope = _scope_expr(m) if m.info.handling else _scope_expr(m) & ~set_aside()
    return pl.when(scope).then(inner).otherwise(_state("out"))


def _latest_time() -> pl.Expr:
    return pl.max_horizontal(pl.col(c).max() for c in TIME_COLUMNS)


def as_of_time(tickets: pl.DataFrame) -> dt.datetime | None:
    """The latest time the tickets record (receipt, dispatch, reply, close or arrival)."""
    if tickets.is_empty():
        return None
    return tickets.select(_latest_time()).item()


PERIOD_FORMATS: dict[str, str] = {"month": "%Y-%m", "week": "%G-W%V", "day": "%Y-%m-%d"}
"""How a period of each grain is labelled: ``2026-07``, ISO week ``2026-W27``, ``2026-07-01``."""
_TRUNCATE = {"month": "1mo", "week": "1w", "day": "1d"}


def _period(grain: Grain) -> pl.Expr:
    return pl.col("received_at").dt.strftime(PERIOD_FORMATS[grain]).alias("period")


def _all_periods(contract: Contract, grain: Grain) -> list[str]:
    if grain == "month":
        return service_months(contract.service_period)["month"].to_list()
    fmt = PERIOD_FORMATS[grain]
    days = pl.date_range(
        contract.service_period.start, contract.service_period.end, interval="1d", eager=True
    )
    return days.dt.strftime(fmt).unique(maintain_order=True).to_list()


KPI_SCHEMA = {
    "period": pl.String,
    "key": pl.String,
    "metric": pl.String,
    "target_id": pl.String,
    "name_zh": pl.String,
    "unit": pl.String,
    "value": pl.Float64,
    "numerator": pl.Int64,
    "denominator": pl.Int64,
    "pending": pl.Int64,
    "unmeasured": pl.Int64,
    "limit_minutes": pl.Float64,
    "target_share": pl.Float64,
    "met_target": pl.Boolean,
    "clause": pl.String,
    "note": pl.String,
    "source": pl.String,
}
"""Columns of :func:`ticket_kpis` and :func:`kpi_table`. ``value``: shares 0–1, minutes or
counts as ``unit`` says; ``denominator``: tickets counted; ``met_target`` null without a target
or a value; ``source``: ``tickets`` or ``ledger``; ``note``: why a value is missing."""


def _state_counts(
    tickets: pl.LazyFrame, measures: list[Measure], as_of: AsOf, grain: Grain, by: list[str]
) -> pl.DataFrame:
    """One row per ``by`` + period with: ``tickets``, ``set_aside`` and ``with_status``
    (tickets set aside; tickets with any status), ``dispatched``, the dispatch-time median and
    90th percentile (minutes), ``closed`` and the close-time median and 90th percentile (hours)
    of tickets not set aside, and ``<key>|<state>`` counts for every measure.

    The period is grouped on the truncated receipt time (cheap) and labelled afterwards."""
    period_start = pl.col("received_at").dt.truncate(_TRUNCATE[grain]).alias("_period_start")
    dispatch = _minutes("dispatched_at").alias("_dispatch_min")  # handling: every ticket
    close = pl.when(~set_aside()).then(_minutes("closed_at") / 60).alias("_close_hours")
    aggs: list[pl.Expr] = [
        pl.len().alias("tickets"),
        set_aside().sum().alias("set_aside"),
        pl.col("status").count().alias("with_status"),
        pl.col("_dispatch_min").count().alias("dispatched"),
        pl.col("_dispatch_min").median().alias("dispatch_minutes_median"),
        pl.col("_dispatch_min").quantile(0.9, interpolation="linear").alias("dispatch_minutes_p90"),
        pl.col("_close_hours").count().alias("closed"),
        pl.col("_close_hours").median().alias("close_hours_median"),
        pl.col("_close_hours").quantile(0.9, interpolation="linear").alias("close_hours_p90"),
    ]
    for m in measures:
        state = pl.col(f"state:{m.key}")
        aggs += [(state == s).sum().alias(f"{m.key}|{s}") for s in STATES[:4]]
    if isinstance(as_of, pl.Expr):  # computed once, not once per measure
        tickets, as_of = tickets.with_columns(as_of.alias("_as_of")), pl.col("_as_of")
    grouped = (
        tickets.with_columns(
            period_start,
            dispatch,
            close,
            *(state_expr(m, as_of).alias(f"state:{m.key}") for m in measures),
        )
        .group_by(*by, "_period_start")
        .agg(aggs)
        .collect()
    )
    return grouped.with_columns(
        pl.col("_period_start").dt.strftime(PERIOD_FORMATS[grain]).alias("period")
    ).drop("_period_start")


def _kpi_rows(contract: Contract, grain: Grain, grouped: pl.DataFrame) -> list[dict]:
    """The rows of :data:`KPI_SCHEMA` for every period of the contract's service period, from
    :func:`_state_counts` of its tickets (a period without a row has no tickets)."""
    by_period = {r["period"]: r for r in grouped.iter_rows(named=True)}
    every_measure = contract_measures(contract)
    rows = []
    for period in _all_periods(contract, grain):
        r = by_period.get(period, {})
        n = r.get("tickets", 0)
        rows.append(_plain(period, "tickets", n, n))
        aside = _plain(period, "set_aside", r.get("set_aside", 0), n)
        with_status = r.get("with_status", 0)
        if n and not with_status:  # no status recorded: unknown, not none
            aside |= {
                "value": None,
                "note": "台账未记录工单状态，无从判断是否有重复、转出或撤销的工单",
            }
        elif with_status < n:
            aside["note"] = f"{n - with_status:,} 张工单未记录状态：此数为下限"
        rows.append(aside)
        for key in ("dispatch_minutes_median", "dispatch_minutes_p90"):
            rows.append(_plain(period, key, r.get(key), r.get("dispatched", 0)))
        for key in ("close_hours_median", "close_hours_p90"):
            rows.append(_plain(period, key, r.get(key), r.get("closed", 0)))
        rows += [_measure_row(period, m, r) for m in every_measure]
    return rows


def ticket_kpis(
    contract: Contract,
    tickets: pl.DataFrame,
    grain: Grain = "month",
    as_of: dt.datetime | None = None,
) -> pl.DataFrame:
    """Every measure of the contract for every period of the service period (:data:`KPI_SCHEMA`).

    Also ``tickets`` (count) and the dispatch-time median and 90th percentile (minutes).
    Measures that tickets cannot yield come with a null value and the reason in ``note``.
    ``as_of`` (default: the latest time in ``tickets``) decides which open tickets are overdue;
    pass the contract's own when ``tickets`` is a slice of its tickets (one month).
    """
    as_of = as_of if as_of is not None else as_of_time(tickets)
    measures = [m for m in contract_measures(contract) if m.assessable is None]
    grouped = _state_counts(tickets.lazy(), measures, as_of, grain, [])
    return pl.DataFrame(_kpi_rows(contract, grain, grouped), schema=KPI_SCHEMA)


def columns_read(measures: list[Measure]) -> list[str]:
    """The ticket columns :func:`ticket_kpis` reads for ``measures`` (in :data:`STATE_COLUMNS`
    order): the contract id, every time column (for ``as_of``) and the status (for the tickets
    set aside), and what the measures' states and scopes look at."""
    used = {"contract_id", *TIME_COLUMNS, "status"}  # status: what is set aside
    for m in measures:
        used |= set(state_expr(m, None).meta.root_names())
    return [c for c in STATE_COLUMNS if c in used]


PORTFOLIO_SCHEMA = {"contract_id": pl.String, **KPI_SCHEMA}
"""Columns of :func:`portfolio_kpis`: :data:`KPI_SCHEMA` with the contract id first."""


def portfolio_kpis(
    contracts: dict[str, Contract],
    read_tickets: Callable[[list[str], list[str]], pl.DataFrame | pl.LazyFrame],
    grain: Grain = "month",
) -> pl.DataFrame:
    """:func:`ticket_kpis` of every contract at once (:data:`PORTFOLIO_SCHEMA`), equal row for
    row to calling it contract by contract with each contract's own ``as_of``.

    ``read_tickets(contract_ids, columns)`` returns those contracts' tickets with at least those
    columns (a subset of :data:`STATE_COLUMNS`: what their measures read), e.g.
    :func:`seatscore.ledgers.store.read_tickets`. Contracts with the same
    measures (a contract re-tendered year after year, a city's many lines on one template) are
    computed together: one read and one group-by per set of measures, so every ticket is read
    once and memory holds one set's tickets at a time.
    """
    sets: dict[str, list[str]] = {}
    for cid in sorted(contracts):
        sets.setdefault(repr(contract_measures(contracts[cid])), []).append(cid)
    frames = []
    for ids in sets.values():
        measures = [m for m in contract_measures(contracts[ids[0]]) if m.assessable is None]
        # Grouping on an enum of the set's ids (small integers) rather than on the text is what
        # keeps the per-month medians cheap.
        tickets = (
            read_tickets(ids, columns_read(measures))
            .lazy()
            .with_columns(pl.col("contract_id").cast(pl.Enum(ids)))
        )
        as_of = _latest_time().over("contract_id")
        grouped = _state_counts(tickets, measures, as_of, grain, ["contract_id"])
        grouped = grouped.with_columns(pl.col("contract_id").cast(pl.String))
        parts = grouped.partition_by("contract_id", as_dict=True)
        for cid in ids:
            part = parts.get((cid,), grouped.clear())
            rows = _kpi_rows(contracts[cid], grain, part)
            frames.append(
                pl.DataFrame(rows, schema=KPI_SCHEMA).select(
                    pl.lit(cid).alias("contract_id"), pl.all()
                )
            )
    if not frames:
        return pl.DataFrame(schema=PORTFOLIO_SCHEMA)
    return pl.concat(frames)


def _plain(period: str, key: str, value, n: int) -> dict:
    info = METRICS[key]
    return {
        "period": period,
        "key": key,
        "metric": key,
        "name_zh": info.name_zh,
        "unit": info.unit,
        "value": value,
        "denominator": n,
        "source": "tickets",
    }


def _measure_row(period: str, m: Measure, r: dict) -> dict:
    row = {
        "period": period,
        "key": m.key,
        "metric": m.metric,
        "target_id": m.target_id,
        "name_zh": m.name_zh,
        "unit": m.info.unit,
        "limit_minutes": float(m.limit_minutes) if m.limit_minutes is not None else None,
        "target_share": float(m.target_share) if m.target_share is not None else None,
        "clause": m.clause,
        "source": "tickets",
    }
    reason = m.assessable
    if reason:
        return {**row, "note": reason}
    met, missed = r.get(f"{m.key}|met", 0), r.get(f"{m.key}|missed", 0)
    pending, unmeasured = r.get(f"{m.key}|pending", 0), r.get(f"{m.key}|unmeasured", 0)
    total = met + missed
    value = met / total if total else None
    return {
        **row,
        "value": value,
        "numerator": met,
        "denominator": total,
        "pending": pending,
        "unmeasured": unmeasured,
        "met_target": m.meets(Decimal(met) / Decimal(total)) if total else None,
        "note": None if total else _undefined_why(pending, unmeasured),
    }


def _undefined_why(pending: int, unmeasured: int) -> str:
    """Why a rate has no value: what the tickets lack, or that none is due yet."""
    if pending:
        return f"{pending} 张工单尚未到期，比率暂无定义"
    if unmeasured:
        return f"台账未记录该指标所需的数据（{unmeasured} 张工单均无），比率无定义，不是 0"
    return "本期无适用工单，比率无定义"


def dispatch_limits(contract: Contract) -> dict[str, Decimal]:
    """Minutes allowed from receipt to dispatch, by priority (``ordinary``, ``urgent``), where
    the contract states them (000 附件二 第四章 一 1: 10; 001 一 3 (4): 30 and 10), from the same
    measures the rates use. A limit for one priority (``dispatch_minutes_ordinary``) wins over a
    general one (``dispatch_minutes``)."""
    stated: dict[str | None, Decimal] = {}
    for m in contract_measures(contract):
        if m.metric == "dispatch_minutes" and m.limit_minutes is not None:
            stated[m.priority] = m.limit_minutes
    limits = {p: stated.get(p, stated.get(None)) for p in ("ordinary", "urgent")}
    return {p: v for p, v in limits.items() if v is not None}


def missed(contract: Contract, metric: str, as_of: dt.datetime | None = None) -> pl.Expr:
    """True for a ticket that missed any of the contract's measures of ``metric`` (e.g. every
    dispatch limit of 001: 30 minutes ordinary, 10 urgent); false when it has none."""
    exprs = [
        state_expr(m, as_of) == "missed"
        for m in contract_measures(contract)
        if m.metric == metric and m.assessable is None
    ]
    return pl.any_horizontal(exprs) if exprs else pl.lit(False)


# ---------------------------------------------------------------- the KPI ledger beside


def kpi_table(
    contract: Contract,
    tickets: pl.DataFrame,
    kpi_ledger: pl.DataFrame,
    as_of: dt.datetime | None = None,
) -> pl.DataFrame:
    """Monthly figures from tickets and from the KPI ledger, one row per source (:data:`KPI_SCHEMA`).

    A ledger row's ``metric`` names a target id of the contract, or a metric key; a key that one
    target of the contract measures without a scope is matched to that target. Use
    :func:`compare_sources` to put the two sources side by side.
    """
    derived = ticket_kpis(contract, tickets, "month", as_of)
    measures = contract_measures(contract)
    by_target = {m.key: m for m in measures if m.target_id is not None}
    by_metric = {}
    for m in measures:
        if m.scope is None and m.priority is None:
            by_metric.setdefault(m.metric, m)
    rows = []
    for r in kpi_ledger.iter_rows(named=True):
        m = by_target.get(r["metric"]) or by_metric.get(r["metric"])
        base = split_metric(r["metric"])[0]
        info = METRICS.get(m.metric if m else base)
        rows.append(
            {
                "period": r["month"],
                "key": m.key if m else r["metric"],
                "metric": m.metric if m else base,
                "target_id": m.target_id if m else None,
                "name_zh": m.name_zh if m else (info.name_zh if info else r["metric"]),
                "unit": info.unit if info else None,
                "value": r["value"],
                "denominator": r.get("tickets"),
                "limit_minutes": float(m.limit_minutes) if m and m.limit_minutes else None,
                "target_share": float(m.target_share) if m and m.target_share else None,
                "met_target": m.meets(r["value"]) if m else None,
                "clause": m.clause if m else None,
                "note": r.get("note"),
                "source": "ledger",
            }
        )
    return pl.concat([derived, pl.DataFrame(rows, schema=KPI_SCHEMA)])


def compare_sources(table: pl.DataFrame) -> pl.DataFrame:
    """Rows of :func:`kpi_table` that both sources give for a month: ``period``, ``key``,
    ``metric``, ``name_zh``, ``unit``, ``tickets_value``, ``ledger_value``, ``difference`` (ledger − tickets)."""
    t = table.filter(pl.col("source") == "tickets", pl.col("value").is_not_null())
    led = table.filter(pl.col("source") == "ledger")
    return (
        t.select(
            "period", "key", "metric", "name_zh", "unit", pl.col("value").alias("tickets_value")
        )
        .join(
            led.select("period", "key", pl.col("value").alias("ledger_value")),
            on=["period", "key"],
            how="inner",
        )
        .with_columns((pl.col("ledger_value") - pl.col("tickets_value")).alias("difference"))
        .sort("period", "key")
    )


KPI_JSON_KEYS = {
    "key": "target id of the contract, or the metric key of a general figure",
    "metric": "metric key (seatscore.terms.measures.METRICS)",
    "target_id": "the contract's target id, null for a general figure",
    "name_zh": "name in Chinese",
    "unit": "share (0–1), minutes, seconds or count",
    "value": "the figure; null when undefined (no ticket it applies to) or not measurable",
    "target_share": "the contract's target (share 0–1), null when it states none",
    "limit_minutes": "the contract's time limit, null when none",
    "met_target": "value meets target_share in the contract's word (不低于, ≥, 达到: at or above); null without both",
    "tickets": "tickets (or calls) the figure is based on: the denominator of a rate",
    "numerator": "tickets that met the measure (rates from tickets only)",
    "pending": "tickets not yet due, left out",
    "unmeasured": "tickets lacking the field the measure needs, left out",
    "source": "tickets (computed here) or ledger (the KPI ledger)",
    "clause": "contract clause of the target",
    "definition_zh": "how the figure is defined",
    "note": "why a value is missing, or the ledger row's note",
}
"""Keys of each figure in ``seatscore kpis --json`` (and :func:`month_kpis`)."""


def month_kpis(
    contract: Contract,
    tickets: pl.DataFrame,
    kpi_ledger: pl.DataFrame,
    month: str,
    as_of: dt.datetime | None = None,
) -> list[dict]:
    """The month's figures from both sources as plain dicts with :data:`KPI_JSON_KEYS`.

    ``tickets`` may be the contract's whole ledger or only that month's rows; then pass the
    contract's ``as_of`` (:func:`seatscore.ledgers.store.tickets_as_of`), which decides what is overdue.
    Raises ``KeyError`` for a month outside the service period."""
    if month not in _all_periods(contract, "month"):
        period = contract.service_period
        raise KeyError(f"{month} is outside the service period {period.start} – {period.end}")
    table = kpi_table(contract, tickets, kpi_ledger, as_of).filter(pl.col("period") == month)
    return [
        {
            **{k: r.get(k) for k in KPI_JSON_KEYS},
            "tickets": r["denominator"],
            "definition_zh": METRICS[r["metric"]].definition_zh if r["metric"] in METRICS else None,
        }
        for r in table.iter_rows(named=True)
    ]


# ---------------------------------------------------------------- volumes and hotspots


def volumes(tickets: pl.DataFrame, by: str, grain: Grain = "month") -> pl.DataFrame:
    """Tickets per period and value of ``by`` (``channel``, ``category``, ``district``,
    ``location``): ``period``, ``by``, ``tickets``; a missing value shows as ``（未填）``."""
    return (
        tickets.with_columns(_period(grain), pl.col(by).fill_null("（未填）"))
        .group_by("period", by)
        .agg(pl.len().cast(pl.Int64).alias("tickets"))
        .sort("period", "tickets", by, descending=[False, True, False])
    )


DISPATCH_BINS = (2, 5, 10, 15, 30, 60)
"""Upper bounds (minutes, inclusive) of the dispatch-time distribution's bins; the last bin is
everything over 60 minutes."""


def duration_zh(minutes: float) -> str:
    """``90`` → ``'1.5小时'``: minutes in the largest unit that keeps them readable."""
    if minutes < 60:
        return f"{minutes:g}分钟"
    if minutes < 1440:
        return f"{minutes / 60:g}小时"
    return f"{minutes / 1440:g}天"


def elapsed_distribution(
    tickets: pl.DataFrame, column: str = "dispatched_at", edges: tuple[float, ...] = DISPATCH_BINS
) -> pl.DataFrame:
    """Tickets by time from receipt to ``column`` in bins (0, e1], (e1, e2] … (en, ∞) minutes:
    ``bin`` (label, e.g. ``5分钟–10分钟``), ``lower_minutes``, ``upper_minutes`` (null for the
    open last bin), ``tickets``, ``share`` (0–1 of tickets with that time; null when none).
    Tickets without the time are left out, and so are tickets set aside (:func:`set_aside`) from
    the times of what became of them (reply, close), as in the medians of :func:`ticket_kpis`."""
    if column in ("replied_at", "closed_at"):
        tickets = tickets.filter(~set_aside())
    minutes = tickets.select(_minutes(column).alias("m")).drop_nulls()["m"]
    lows = [0.0, *edges]
    rows = []
    for low, high in zip(lows, [*edges, None], strict=True):
        mask = minutes > low if low else minutes >= 0
        if high is not None:
            mask = mask & (minutes <= high)
        if not low:
            label = f"≤{duration_zh(high)}"
        elif high is None:
            label = f"{duration_zh(low)}以上"
        else:
            label = f"{duration_zh(low)}–{duration_zh(high)}"
        rows.append(
            {"bin": label, "lower_minutes": low, "upper_minutes": high, "tickets": int(mask.sum())}
        )
    total = minutes.len()
    return pl.DataFrame(
        rows,
        schema={
            "bin": pl.String,
            "lower_minutes": pl.Float64,
            "upper_minutes": pl.Float64,
            "tickets": pl.Int64,
        },
    ).with_columns(
        (pl.col("tickets") / total if total else pl.lit(None, dtype=pl.Float64)).alias("share")
    )


WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def heatmap(tickets: pl.DataFrame) -> pl.DataFrame:
    """Tickets by weekday × hour of receipt, all 7 × 24 cells: ``weekday`` (1 = Monday),
    ``weekday_zh``, ``hour`` (0–23), ``tickets``."""
    grid = pl.DataFrame({"weekday": list(range(1, 8))}, schema={"weekday": pl.Int8}).join(
        pl.DataFrame({"hour": list(range(24))}, schema={"hour": pl.Int8}), how="cross"
    )
    counts = (
        tickets.select(
            pl.col("received_at").dt.weekday().cast(pl.Int8).alias("weekday"),
            pl.col("received_at").dt.hour().cast(pl.Int8).alias("hour"),
        )
        .group_by("weekday", "hour")
        .agg(pl.len().cast(pl.Int64).alias("tickets"))
    )
    return (
        grid.join(counts, on=["weekday", "hour"], how="left")
        .with_columns(
            pl.col("tickets").fill_null(0),
            pl.col("weekday")
            .replace_strict(dict(enumerate(WEEKDAYS_ZH, start=1)), return_dtype=pl.String)
            .alias("weekday_zh"),
        )
        .select("weekday", "weekday_zh", "hour", "tickets")
        .sort("weekday", "hour")
    )


def top_changes(tickets: pl.DataFrame, by: str, month: str, n: int = 10) -> pl.DataFrame:
    """The ``n`` values of ``by`` with most tickets in ``month``, against the month before and the
    same month a year earlier: ``by``, ``tickets``, ``previous_month``, ``change_previous``,
    ``year_before``, ``change_year`` (null where that month has no tickets at all: no data is
    not zero)."""
    counts = volumes(tickets, by, "month")
    months_present = set(counts["period"].unique().to_list())

    def of(m: str, name: str) -> pl.DataFrame:
        return counts.filter(pl.col("period") == m).select(by, pl.col("tickets").alias(name))

    prev, year = shift_month(month, -1), shift_month(month, -12)
    out = of(month, "tickets").sort("tickets", by, descending=[True, False]).head(n)
    for m, name, change in (
        (prev, "previous_month", "change_previous"),
        (year, "year_before", "change_year"),
    ):
        out = out.join(of(m, name), on=by, how="left")
        if m in months_present:
            out = out.with_columns(pl.col(name).fill_null(0))
        out = out.with_columns((pl.col("tickets") - pl.col(name)).alias(change))
    return out


# ---------------------------------------------------------------- repeated reports


REPEAT_SCHEMA = {
    "month": pl.String,
    "location": pl.String,
    "first_at": pl.Datetime("us"),
    "last_at": pl.Datetime("us"),
    "reports": pl.Int64,
    "ticket_ids": pl.List(pl.String),
    "prompted": pl.Boolean,
}


def repeated_reports(
    tickets: pl.DataFrame, min_reports: int = 3, window_hours: float = 24
) -> pl.DataFrame:
    """Locations reported ``min_reports`` or more times within ``window_hours`` (000 附件二 第四章
    一 2: "短时间内重复举报（3 次及以上）").

    A filing is the tickets received at one location in the same second (one call that names
    several complaints, or one batch entered at once): it counts once. A filing is a repeat when
    ``min_reports`` or more filings at its location (itself included) were received within the
    ``window_hours`` ending at it; the filings of overlapping such windows form one episode,
    returned (:data:`REPEAT_SCHEMA`) in the month of its first ticket, ``reports`` counting
    filings and ``ticket_ids`` every ticket.
    ``prompted``: true if any ticket of the episode records the instant prompt
    (``repeat_prompted``), false if they record only its absence, null if none say either way.
    Tickets without a location are not counted.
    """
    if "location" not in tickets.columns or tickets.is_empty():
        return pl.DataFrame(schema=REPEAT_SCHEMA)
    window = dt.timedelta(hours=window_hours)
    frame = (
        tickets.filter(pl.col("location").is_not_null())
        .group_by("location", "received_at")  # one filing
        .agg(
            pl.col("ticket_id").sort(),
            pl.when(pl.col("repeat_prompted").is_not_null().any())
            .then(pl.col("repeat_prompted").any())
            .alias("repeat_prompted"),
        )
        .sort("location", "received_at")
    )
    counts = frame.group_by("location").len().filter(pl.col("len") >= min_reports)
    frame = frame.join(counts.select("location"), on="location", how="semi")
    rows = []
    for (location,), group in frame.group_by("location", maintain_order=True):
        times = group["received_at"].to_list()
        ids = group["ticket_id"].to_list()  # per filing: its tickets
        flags = group["repeat_prompted"].to_list()
        spans: list[list[int]] = []
        first = 0
        for last in range(len(times)):
            while times[last] - times[first] > window:
                first += 1
            if last - first + 1 < min_reports:
                continue
            if spans and first <= spans[-1][1]:
                spans[-1][1] = last  # overlaps the episode before: extend it
            else:
                spans.append([first, last])
        for start, end in spans:
            marks = [f for f in flags[start : end + 1] if f is not None]
            rows.append(
                {
                    "month": times[start].strftime("%Y-%m"),
                    "location": location,
                    "first_at": times[start],
                    "last_at": times[end],
                    "reports": end - start + 1,
                    "ticket_ids": [t for filing in ids[start : end + 1] for t in filing],
                    "prompted": any(marks) if marks else None,
                }
            )
    return pl.DataFrame(rows, schema=REPEAT_SCHEMA).sort("first_at", "location")


# ---------------------------------------------------------------- staffing adequacy


class AdequacySettings(Model):
    """Assumptions of the Erlang C staffing check (``params/analysis.yaml``; not contract terms),
    each with its source in ``sources_zh`` (key → where the value comes from, Chinese). The
    defaults of the optional ones change nothing: no after-call work, no shrinkage, occupancy
    uncapped, hourly intervals, every ticket a call."""

    handle_seconds: float = Field(gt=0, description="mean talk time per call, seconds")
    after_call_seconds: float = Field(0, ge=0, description="mean after-call work, seconds")
    target_share: float = Field(gt=0, lt=1, description="share answered in time, 0–1")
    answer_within_seconds: float = Field(gt=0)
    max_occupancy: float = Field(1.0, gt=0, le=1, description="busy share of a seat, 0–1")
    shrinkage: float = Field(0, ge=0, lt=1, description="paid time off the phones, 0–1")
    interval_minutes: Literal[15, 30, 60] = 60
    call_channels: list[str] = Field(
        default_factory=list, description="ticket channels that are calls; empty: every ticket"
    )
    hours_per_person_week: float = Field(gt=0, description="hours one person works a week")
    sources_zh: dict[str, str] = Field(default_factory=dict)


class RepeatReportSettings(Model):
    """The window that lists repeated reports where the contract states none (never a deduction)."""

    window_hours_when_unstated: float = Field(gt=0)


class AnalysisSettings(Model):
    staffing_adequacy: AdequacySettings
    repeat_reports: RepeatReportSettings


def load_analysis_settings(path=config.ANALYSIS_PARAMS) -> AnalysisSettings:
    """Read ``params/analysis.yaml``. Raises ``pydantic.ValidationError`` naming a bad field."""
    with open(path, encoding="utf-8") as f:
        return AnalysisSettings.model_validate(yaml.safe_load(f))
