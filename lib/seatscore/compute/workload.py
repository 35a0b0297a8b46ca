"""Seats a contract's calls need (Erlang C) against the seats its headcount keeps on duty.

Workload from calls: the month's tickets that arrived by a call channel
(:attr:`~seatscore.compute.service_levels.AdequacySettings.call_channels`) are the offered calls,
averaged per weekday and interval (half-hours by default) over the month's served days. For each
interval (:mod:`seatscore.compute.erlang`):

- traffic (Erlangs) = calls per hour × (talk time + after-call work) ÷ 3,600;
- agents = the fewest seats answering ``target_share`` of calls within ``answer_within_seconds``
  with each seat busy at most ``max_occupancy`` of the time (traffic ÷ agents);
- scheduled seats = agents ÷ (1 − shrinkage), rounded up (breaks, training, meetings).

Every input is an assumption of ``params/analysis.yaml`` printed with its source. A ticket ledger
records only the calls that became tickets (not the calls answered and closed at once, the
abandoned ones or the repeats), so the figure is a **lower bound** of the workload, and it says so;
a calls ledger or an ACD export would give the real offered calls. Its sensitivity to the handle
time (±20 %) is given beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from seatscore.compute.erlang import seats_needed, traffic_erlangs
from seatscore.compute.service_levels import WEEKDAYS_ZH, AdequacySettings
from seatscore.core.errors import InputError
from seatscore.terms.contracts import Contract
from seatscore.terms.periods import month_of, service_months

SENSITIVITY = (0.8, 1.2)
"""Handle time × these factors: the seat-hours a week needed if handling is 20 % faster or slower."""


@dataclass(frozen=True)
class Adequacy:
    """Erlang C seats needed per interval of the week against the seats the contract buys.

    ``intervals``: ``weekday`` (1 = Monday), ``weekday_zh``, ``hour``, ``minute`` (the interval's
    start), ``calls_per_hour`` (mean over the month's days of that weekday), ``traffic_erlangs``,
    ``seats_needed`` (agents answering the calls) and ``seats_scheduled`` (with shrinkage).
    ``seats_on_duty``: the contract's minimum headcount × ``hours_per_person_week`` / 168 — the
    seats its people can keep staffed on average at any hour (None when the headcount is
    unstated). ``needed_seat_hours_week`` = Σ agents × the interval's hours over the week;
    ``scheduled_seat_hours_week`` the same with shrinkage; ``sensitivity``: handle-time factor →
    needed seat-hours a week; ``calls`` / ``tickets_left_out``: the month's tickets counted as
    calls and those left out (other channels); ``basis_zh``: the inputs and their sources.
    """

    intervals: pl.DataFrame
    settings: AdequacySettings
    seats_on_duty: float | None
    needed_seat_hours_week: int
    scheduled_seat_hours_week: int
    contracted_person_hours_week: float | None
    peak_seats_needed: int
    hours_short: float | None
    sensitivity: dict[float, int]
    calls: int
    tickets_left_out: int
    basis_zh: str
    lower_bound: bool = True
    """True when counted from tickets (only the calls that became tickets); False from the
    calls ledger."""


def _calls(
    tickets: pl.DataFrame, settings: AdequacySettings, contract: Contract | None = None
) -> tuple[pl.DataFrame, str]:
    """The tickets that arrived by a call channel, and how they were chosen (Chinese). A public
    source's own ``data_source.call_channels`` come before ``settings``'."""
    source = contract.data_source if contract is not None else None
    channels = (
        source.call_channels
        if source is not None and source.call_channels is not None
        else settings.call_channels
    )
    if not channels:
        return tickets, "每张工单按一次来电计"
    recorded = "channel" in tickets.columns and tickets["channel"].is_not_null().any()
    if not recorded:
        return tickets, "台账未记录受理渠道，每张工单按一次来电计（可能偏高）"
    calls = tickets.filter(pl.col("channel").is_in(channels))
    return calls, f"只计来电渠道（{'、'.join(channels)}）的工单"


def _agents(calls_per_hour: float, settings: AdequacySettings, factor: float = 1.0) -> int:
    """Seats for one interval: the Erlang C service level, then the occupancy cap."""
    handle = (settings.handle_seconds + settings.after_call_seconds) * factor
    n = seats_needed(calls_per_hour, handle, settings.target_share, settings.answer_within_seconds)
    traffic = traffic_erlangs(calls_per_hour, handle)
    return max(n, math.ceil(traffic / settings.max_occupancy - 1e-9)) if traffic else 0


def _per_interval(
    tickets: pl.DataFrame, days: pl.Series, minutes: int, count: str | None = None
) -> pl.DataFrame:
    """Calls per hour in each weekday × interval cell: the cell's calls ÷ the month's days of
    that weekday ÷ the interval in hours; every cell of the week, empty ones at 0. A row of
    ``tickets`` (``received_at``) is one call, or ``count`` calls where that column is given
    (the calls ledger's ``offered``)."""
    slots = 24 * 60 // minutes
    grid = pl.DataFrame({"weekday": list(range(1, 8))}, schema={"weekday": pl.Int8}).join(
        pl.DataFrame({"slot": list(range(slots))}, schema={"slot": pl.Int16}), how="cross"
    )
    counts = (
        tickets.select(
            *([count] if count is not None else []),
            pl.col("received_at").dt.weekday().cast(pl.Int8).alias("weekday"),
            (
                (
                    pl.col("received_at").dt.hour().cast(pl.Int16) * 60
                    + pl.col("received_at").dt.minute()
                )
                // minutes
            )
            .cast(pl.Int16)
            .alias("slot"),
        )
        .group_by("weekday", "slot")
        .agg((pl.len() if count is None else pl.col(count).sum()).alias("calls"))
    )
    day_counts = days.dt.weekday().value_counts(name="days").rename({days.name: "weekday"})
    return (
        grid.join(counts, on=["weekday", "slot"], how="left")
        .join(day_counts.with_columns(pl.col("weekday").cast(pl.Int8)), on="weekday", how="left")
        .with_columns(
            pl.col("calls").fill_null(0),
            (pl.col("slot").cast(pl.Int32) * minutes // 60).cast(pl.Int8).alias("hour"),
            (pl.col("slot").cast(pl.Int32) * minutes % 60).cast(pl.Int8).alias("minute"),
            pl.col("weekday")
            .replace_strict(dict(enumerate(WEEKDAYS_ZH, start=1)), return_dtype=pl.String)
            .alias("weekday_zh"),
        )
        .with_columns(
            (pl.col("calls") / pl.col("days").fill_null(0) * 60 / minutes)
            .fill_nan(0)
            .alias("calls_per_hour")
        )
        .sort("weekday", "slot")
    )


def _from_calls_ledger(
    calls: pl.DataFrame, days: pl.Series
) -> tuple[pl.DataFrame, int, float | None]:
    """The calls ledger's month (``interval_start``, ``interval_minutes``, ``offered``,
    ``answered``, ``handle_seconds``) as per-interval rows of :func:`_per_interval`'s shape, the
    interval length, and the mean handle time of the answered calls (None when not recorded)."""
    lengths = calls["interval_minutes"].unique().to_list()
    if len(lengths) != 1:
        raise InputError(
            f"the calls ledger mixes interval lengths {sorted(lengths)} in one month: "
            "export one length (15, 30 or 60 minutes)"
        )
    minutes = int(lengths[0])
    rows = calls.select(pl.col("interval_start").alias("received_at"), "offered")
    cells = _per_interval(rows, days, minutes, count="offered")
    answered = calls.filter(pl.col("handle_seconds").is_not_null())
    weights = answered["answered"].fill_null(answered["offered"])
    handle = (
        float((answered["handle_seconds"] * weights).sum() / weights.sum())
        if answered.height and weights.sum()
        else None
    )
    return cells, minutes, handle


def _basis(settings: AdequacySettings, chosen: str, lower_bound: bool) -> str:
    """The inputs with their sources, in one sentence; a ticket-based count says it is a lower
    bound."""
    src = settings.sources_zh

    def said(key: str, text: str) -> str:
        return f"{text}（{src[key]}）" if key in src else text

    parts = [
        said("handle_seconds", f"通话 {settings.handle_seconds:g} 秒"),
        said("after_call_seconds", f"话后处理 {settings.after_call_seconds:g} 秒"),
        said(
            "target_share",
            f"{settings.target_share:.0%} 的来电在 {settings.answer_within_seconds:g} 秒内接通",
        ),
        said("max_occupancy", f"座席占用率不超过 {settings.max_occupancy:.0%}"),
        said("shrinkage", f"缺勤与非话务时间 {settings.shrinkage:.0%}"),
    ]
    if not lower_bound:  # from the calls ledger: the offered calls themselves
        return f"Erlang C，每 {settings.interval_minutes} 分钟一段：{'；'.join(parts)}。{chosen}"
    return (
        f"Erlang C，每 {settings.interval_minutes} 分钟一段：{'；'.join(parts)}。{chosen}；"
        "工单只含成为工单的来电，未成单、放弃与重复来电不在其中，故所需座席为下限"
    )


@dataclass(frozen=True)
class _Offered:
    """The month's offered calls per interval, where they came from, and the settings they
    bring (a calls ledger's own interval and handle time)."""

    cells: pl.DataFrame
    settings: AdequacySettings
    chosen_zh: str
    calls: int
    left_out: int
    lower_bound: bool


def _offered(
    in_month: pl.DataFrame,
    calls: pl.DataFrame | None,
    month: str,
    days: pl.Series,
    settings: AdequacySettings,
    contract: Contract | None = None,
) -> _Offered:
    """The calls ledger's month where it has one; else the month's tickets from call channels."""
    ledger_month = calls.filter(month_of("interval_start") == month) if calls is not None else None
    if ledger_month is None or ledger_month.is_empty():
        chosen, chosen_zh = _calls(in_month, settings, contract)
        cells = _per_interval(chosen, days, settings.interval_minutes)
        left_out = in_month.height - chosen.height
        return _Offered(cells, settings, chosen_zh, chosen.height, left_out, True)
    cells, minutes, handle = _from_calls_ledger(ledger_month, days)
    sources = dict(settings.sources_zh)
    update: dict = {"interval_minutes": minutes}
    if handle is not None:
        update |= {"handle_seconds": handle, "after_call_seconds": 0.0}
        sources |= {
            "handle_seconds": "来电台账，含话后处理",
            "after_call_seconds": "已含在处理时长中",
        }
    settings = settings.model_copy(update={**update, "sources_zh": sources})
    offered = int(ledger_month["offered"].sum())
    return _Offered(
        cells, settings, f"来电台账：本月呼入 {offered:,} 个", offered, in_month.height, False
    )


def staffing_adequacy(
    contract: Contract,
    tickets: pl.DataFrame,
    month: str,
    settings: AdequacySettings,
    calls: pl.DataFrame | None = None,
) -> Adequacy:
    """Seats the month's calls need per interval of the week against the headcount's seats.

    ``tickets``: the contract's ledger (``received_at``, ``channel``), any months; only the
    month's are read. ``calls``: the calls ledger (:data:`seatscore.ledgers.kinds.CALLS`); when
    it has the month, its offered calls, interval and handle time are used instead (not a lower
    bound). Raises :class:`~seatscore.core.errors.InputError` (a ``ValueError``) for a month
    outside the service period, or a calls ledger mixing interval lengths in the month.
    """
    served = service_months(contract.service_period).filter(pl.col("month") == month)
    if served.is_empty():
        raise InputError(f"{month} is outside the service period of {contract.contract_id}")
    days = pl.date_range(served["first_day"][0], served["last_day"][0], "1d", eager=True)
    in_month = tickets.filter(month_of("received_at") == month)
    offered = _offered(in_month, calls, month, days, settings, contract)
    cells, settings = offered.cells, offered.settings
    rate = cells["calls_per_hour"].to_list()
    handle = settings.handle_seconds + settings.after_call_seconds
    agents = [_agents(x or 0, settings) for x in rate]
    intervals = cells.with_columns(
        pl.Series("traffic_erlangs", [traffic_erlangs(x or 0, handle) for x in rate]),
        pl.Series("seats_needed", agents, dtype=pl.Int64),
        pl.Series(
            "seats_scheduled",
            [math.ceil(a / (1 - settings.shrinkage) - 1e-9) for a in agents],
            dtype=pl.Int64,
        ),
    ).select(
        "weekday",
        "weekday_zh",
        "hour",
        "minute",
        "calls_per_hour",
        "traffic_erlangs",
        "seats_needed",
        "seats_scheduled",
    )
    hours = settings.interval_minutes / 60
    persons = contract.seats
    person_hours = persons * settings.hours_per_person_week if persons is not None else None
    on_duty = person_hours / 168 if person_hours is not None else None
    needed = intervals["seats_needed"]
    sensitivity = {
        f: round(sum(_agents(x or 0, settings, f) for x in rate) * hours) for f in SENSITIVITY
    }
    basis = _basis(settings, offered.chosen_zh, offered.lower_bound)
    if persons is not None:
        basis += (
            f"。合同最低 {persons} 人 × 每周 {settings.hours_per_person_week:g} 小时 ÷ 168 小时 = "
            f"平均每小时在岗 {on_duty:.1f} 个座席"
        )
    else:
        basis += "。合同未规定人数，无法比较在岗座席"
    return Adequacy(
        intervals=intervals,
        settings=settings,
        seats_on_duty=on_duty,
        needed_seat_hours_week=round(needed.sum() * hours),
        scheduled_seat_hours_week=round(intervals["seats_scheduled"].sum() * hours),
        contracted_person_hours_week=person_hours,
        peak_seats_needed=int(needed.max() or 0),
        hours_short=float((needed > on_duty).sum() * hours) if on_duty is not None else None,
        sensitivity=sensitivity,
        calls=offered.calls,
        tickets_left_out=offered.left_out,
        basis_zh=basis,
        lower_bound=offered.lower_bound,
    )
