"""Deterministic simulated ledgers for every contract's whole service period.

The seeds hold no performance data, so the demo writes, per contract, the ledgers a buyer keeps
(:mod:`seatscore.ledgers.kinds`): the roster and the attendance sheet, assessment deductions, money penalties, tickets, and
the vendor's monthly figures where ``params/demo.yaml`` asks for them.
The same ``seed`` gives byte-identical files. Simulation settings (volumes, rosters, how often
things go wrong) are in ``params/demo.yaml``, apart from the contract terms; every report built from
these files says that the performance data are simulated.

Consistency: deductions for late and wrong dispatch (000) are the very tickets that were late or
wrong, so the deduction ledger and the tickets agree; the vendor's monthly figures (KPI ledger)
start from the tickets' own rates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from seatscore.compute.service_levels import missed, repeated_reports, ticket_kpis
from seatscore.core import config
from seatscore.ledgers.kinds import (
    DEDUCTIONS,
    KPIS,
    PENALTIES,
    ROSTER,
    STAFFING,
    TICKETS,
    LedgerKind,
)
from seatscore.ledgers.kinds import as_of as cut
from seatscore.terms.contracts import Contract
from seatscore.terms.periods import is_working_day

DEMO_PARAMS = config.PARAMS_DIR / "demo.yaml"

# Relative ticket arrivals by hour of day (Beijing time), peaking mid-morning and mid-afternoon.
_HOURLY = np.array(
    [
        1,
        0.6,
        0.4,
        0.3,
        0.3,
        0.5,
        1.2,
        2.5,
        4.5,
        6.5,
        7,
        6.5,
        4.5,
        4.5,
        6,
        6.5,
        6,
        5,
        3.5,
        3,
        2.8,
        2.4,
        1.8,
        1.3,
    ]
)
_URGENT_SHARE = 0.05
_PLACES = ["路口", "小区东门", "公交站", "菜市场", "学校门口", "地铁站", "公园南门", "施工工地"]
_COMPLAINTS = [
    "市民反映持续多日未解决",
    "夜间影响休息，要求尽快处理",
    "希望相关部门到场核实",
    "此前已反映过，仍未整改",
    "存在安全隐患，请尽快处置",
]
# Items whose events come from the tickets rather than from chance.
_TICKET_DERIVED_ITEMS = {"late_dispatch": "late", "wrong_dispatch": "wrong"}


def load_demo_params(path: Path = DEMO_PARAMS) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["contracts"]


def _days(contract: Contract) -> list[dt.date]:
    period = contract.service_period
    return [
        period.start + dt.timedelta(days=i) for i in range((period.end - period.start).days + 1)
    ]


def simulate_staffing(
    contract: Contract, settings: dict, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The roster (persons on each post every calendar day, with vacancy episodes: someone leaves
    and is replaced some days later) and the attendance sheet (persons required and present on
    the days the post is staffed: the roster less a few absences)."""
    days = _days(contract)
    roster = settings.get("roster", {})
    working_only = set(settings.get("working_days_only", []))
    episodes_per_month = settings["vacancy"]["episodes_per_post_month"]
    mean_days = settings["vacancy"]["mean_days"]
    absence = settings.get("absence_per_post_day", 0.0)
    rosters, sheets = [], []
    for post in contract.posts:
        required = post.min_headcount.value or roster.get(post.post_id)
        if required is None:
            continue  # the contract states no headcount and the roster has none: no ledger rows
        gap = np.zeros(len(days), dtype=np.int32)
        n_episodes = rng.poisson(episodes_per_month * len(days) / 30.4)
        for start in rng.integers(0, len(days), size=n_episodes):
            length = int(rng.geometric(1 / mean_days))
            size = 2 if rng.random() < 0.1 and required > 2 else 1
            gap[start : start + length] = np.maximum(gap[start : start + length], size)
        on_roster = (required - gap).astype(np.int32)
        absent = np.minimum(rng.binomial(1, absence, size=len(days)).astype(np.int32), on_roster)
        rosters.append(
            pl.DataFrame(
                {
                    "contract_id": contract.contract_id,
                    "post_id": post.post_id,
                    "service_date": days,
                    "on_roster": on_roster,
                }
            )
        )
        keep = [not (post.post_id in working_only and not is_working_day(d)) for d in days]
        sheets.append(
            pl.DataFrame(
                {
                    "contract_id": contract.contract_id,
                    "service_date": days,
                    "post_id": post.post_id,
                    "required": np.full(len(days), required, dtype=np.int32),
                    "present": on_roster - absent,
                }
            ).filter(pl.Series(keep))
        )
    if not sheets:
        return pl.DataFrame(schema=ROSTER.schema), pl.DataFrame(schema=STAFFING.schema)
    return ROSTER.conform(pl.concat(rosters)), STAFFING.conform(pl.concat(sheets))


def _ticket_times(
    contract: Contract, settings: dict, rng: np.random.Generator, counts: np.ndarray | None
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """How many tickets, their receipt times (sorted), which are urgent, and their dispatch,
    reply and close times (NaT: still open at the end of the service period)."""
    days = np.array(_days(contract), dtype="datetime64[D]")
    if counts is None:
        weekday = (days.view("int64") - 4) % 7  # 0 = Monday
        mean = np.where(weekday >= 5, settings["weekend_factor"], 1.0) * settings["tickets_per_day"]
        counts = rng.poisson(mean)
    n = int(counts.sum())
    day_of_ticket = np.repeat(days, counts)
    hour = rng.choice(24, size=n, p=_HOURLY / _HOURLY.sum())
    second = rng.integers(0, 3600, size=n)
    received = day_of_ticket.astype("datetime64[s]") + (hour * 3600 + second).astype(
        "timedelta64[s]"
    )
    order = np.argsort(received, kind="stable")
    received = received[order]
    urgent = rng.random(n) < _URGENT_SHARE
    median = settings["dispatch_minutes"]["median"]
    spread = settings["dispatch_minutes"]["spread"]
    dispatch_min = rng.lognormal(np.log(np.where(urgent, median / 2, median)), spread)
    dispatched = received + (dispatch_min * 60).astype("timedelta64[s]")
    reply_hours = np.where(urgent, rng.uniform(0.3, 1.4, n), rng.lognormal(np.log(5), 0.8, n))
    replied = dispatched + (reply_hours * 3600).astype("timedelta64[s]")
    close_days = np.where(urgent, 0, rng.exponential(1.8, n))
    closed = replied + (close_days * 86400).astype("timedelta64[s]")
    period_end = np.datetime64(contract.service_period.end + dt.timedelta(days=1), "s")
    closed = np.where(closed < period_end, closed, np.datetime64("NaT"))  # still open at the end
    return n, received, urgent, dispatched, replied, closed


def _with_text(frame: pl.DataFrame, rng: np.random.Generator, n: int) -> pl.DataFrame:
    """A summary, a caller's phone (left in one summary in ten as well) and a location."""
    phones = 13_000_000_000 + rng.integers(0, 6_999_999_999, size=n)
    phone = pl.Series(phones).cast(pl.String)
    place = _pick(rng, _PLACES, n)
    frame = frame.with_columns(
        pl.format(
            "{}{}附近{}问题，{}",
            "district",
            place,
            "category",
            _pick(rng, _COMPLAINTS, n),
        ).alias("summary"),
        phone.alias("caller_phone"),
        pl.format("{}{}", "district", place).alias("location"),
    )
    # Some callers leave their number in the text as well: reports must mask both.
    in_text = pl.Series(rng.random(n) < 0.1)
    return frame.with_columns(
        pl.when(in_text)
        .then(pl.format("{}（来电人留电话{}）", "summary", "caller_phone"))
        .otherwise("summary")
        .alias("summary")
    )


def simulate_tickets(
    contract: Contract,
    settings: dict,
    rng: np.random.Generator,
    counts: np.ndarray | None = None,
) -> pl.DataFrame:
    """Tickets with Beijing-time receipt, dispatch, reply and close times.

    ``counts``: tickets per day of the service period; by default Poisson around
    ``tickets_per_day`` (weekends × ``weekend_factor``).
    """
    n, received, urgent, dispatched, replied, closed = _ticket_times(
        contract, settings, rng, counts
    )
    callback = rng.random(n) < settings["callback_share"]
    satisfied = pl.Series(rng.random(n) < settings["satisfied_share"])
    satisfied = pl.select(pl.when(pl.lit(pl.Series(callback))).then(satisfied)).to_series()
    districts = settings["districts"]
    categories = settings["categories"]
    channels = settings["channels"]
    ids = pl.format(
        "{}{}",
        pl.lit(contract.contract_id[:3].upper()),
        pl.int_range(1, n + 1).cast(pl.String).str.zfill(7),
    )
    frame = pl.DataFrame(
        {
            "contract_id": contract.contract_id,
            "ticket_id": pl.select(ids).to_series(),
            "received_at": received.astype("datetime64[us]"),
            "dispatched_at": dispatched.astype("datetime64[us]"),
            "replied_at": replied.astype("datetime64[us]"),
            "closed_at": closed.astype("datetime64[us]"),
            "priority": _PRIORITIES.gather(urgent.astype(np.int8)),
            "category": _pick(rng, categories, n, _zipf(len(categories))),
            "district": _pick(rng, districts, n, _zipf(len(districts))),
            "channel": _pick(rng, channels, n, _zipf(len(channels))),
            "callback_done": callback,
            "satisfied": satisfied,
            "dispatch_correct": rng.random(n) >= settings["wrong_dispatch_share"],
        }
    )
    return _with_text(frame, rng, n)


def simulate_ticket_details(
    contract: Contract, settings: dict, tickets: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """The ticket fields the service-level targets need, where ``params/demo.yaml`` asks for them:
    case class (000), 6+N group and direct dispatch (002), on-site arrival and distance (003),
    resolved at callback (all), instant prompts on repeated reports (000). Drawn from their own
    random stream, so the other columns do not change when these settings do."""
    n = tickets.height
    callback = tickets["callback_done"].fill_null(False).to_numpy()
    resolved = rng.random(n) < settings.get("resolved_share", 0.0)
    point = rng.choice(np.arange(1, 13), size=n, p=_zipf(12))
    out = tickets.with_columns(
        pl.when(pl.Series(callback)).then(pl.Series(resolved)).alias("resolved"),
        pl.format("{}{}号", "location", pl.Series(point)).alias("location"),
    )
    classes = settings.get("case_classes")
    if classes:
        names, weights = list(classes), np.array(list(classes.values()), dtype=float)
        out = out.with_columns(_pick(rng, names, n, weights / weights.sum()).alias("case_class"))
    six = settings.get("six_plus_n_share")
    if six is not None:
        out = out.with_columns(
            pl.when(pl.Series(rng.random(n) < six)).then(pl.lit("6+N")).alias("category_group"),
            pl.Series("direct_dispatch", rng.random(n) < settings["direct_dispatch_share"]),
        )
    arrival = settings.get("arrival")
    if arrival:
        urgent = (tickets["priority"] == "urgent").to_numpy()
        distance = np.round(rng.exponential(arrival["mean_km"], n) + 0.3, 1)
        minutes = rng.lognormal(np.log(arrival["median_minutes"] + distance), arrival["spread"])
        arrived = tickets["received_at"].to_numpy() + (minutes * 60).astype("timedelta64[s]")
        out = out.with_columns(
            pl.when(pl.Series(urgent)).then(pl.Series(distance)).alias("distance_km"),
            pl.when(pl.Series(urgent))
            .then(pl.Series(arrived).cast(pl.Datetime("us")))
            .alias("arrived_at"),
        )
    prompt_share = settings.get("repeat_prompted_share")
    if prompt_share is not None:
        window = settings.get("repeat_window_hours", 24)
        episodes = repeated_reports(
            out.with_columns(pl.lit(None).alias("repeat_prompted")), 3, window
        )
        prompted = rng.random(episodes.height) < prompt_share
        marks = episodes.with_columns(pl.Series("repeat_prompted", prompted)).explode("ticket_ids")
        out = out.join(
            marks.select(pl.col("ticket_ids").alias("ticket_id"), "repeat_prompted"),
            on="ticket_id",
            how="left",
        )
    return out


def simulate_kpis(
    contract: Contract, settings: dict, tickets: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """The vendor's own monthly figures (``reported_kpis`` in ``params/demo.yaml``): the rates
    the tickets give, rounded to 0.1 % and nudged up by up to ``reported_bias`` — so that the
    report has a ledger figure to set beside the tickets' own, as vendors' reports often differ."""
    schema = {c.name: c.dtype for c in KPIS.columns}
    keys = settings.get("reported_kpis")
    if not keys:
        return pl.DataFrame(schema=schema)
    derived = ticket_kpis(contract, tickets).filter(
        pl.col("key").is_in(keys), pl.col("value").is_not_null()
    )
    bias = rng.uniform(0, settings.get("reported_bias", 0.0), derived.height)
    return derived.select(
        pl.lit(contract.contract_id).alias("contract_id"),
        pl.col("period").alias("month"),
        pl.col("key").alias("metric"),
        (pl.col("value") + pl.Series(bias)).clip(0, 1).round(3).alias("value"),
        pl.col("denominator").alias("tickets"),
        pl.lit("乙方月度报告（模拟）").alias("note"),
    ).cast(schema)


def _pick(
    rng: np.random.Generator, values: list[str], n: int, p: np.ndarray | None = None
) -> pl.Series:
    """``n`` draws from ``values`` (as ``rng.choice(values, n, p=p)`` draws them), built as a
    Polars string column without going through NumPy strings (slow for millions of rows)."""
    return pl.Series(values, dtype=pl.String).gather(rng.choice(len(values), size=n, p=p))


_PRIORITIES = pl.Series(["ordinary", "urgent"])


def _zipf(k: int) -> np.ndarray:
    weights = 1 / np.arange(1, k + 1) ** 0.8
    return weights / weights.sum()


def simulate_deductions(
    contract: Contract, settings: dict, tickets: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """Deduction events using the contract's own rule items."""
    schema = {c.name: c.dtype for c in DEDUCTIONS.columns}
    assessment = contract.assessment.value
    if assessment is None:
        return pl.DataFrame(schema=schema)
    rows: list[dict] = []
    item_ids = {i.item_id for i in assessment.items}
    derived_items, derived = _ticket_derived_events(contract, tickets, item_ids)
    recorded = [
        i for i in assessment.items if i.kind == "per_occurrence" and i.item_id not in derived_items
    ]
    discretionary = [i for i in assessment.items if i.kind == "discretionary"]
    weights = np.array([1 / float(i.points) for i in recorded])
    budget = settings.get("deduction_points_per_month", 0)
    # Expected points of item k per month: budget × w_k / Σw; events = that / item points.
    rates = budget * weights / weights.sum() / np.array([float(i.points) for i in recorded])
    days = _days(contract)
    month_starts = sorted({d.replace(day=1) for d in days})
    for month in month_starts:
        month_days = [d for d in days if d.replace(day=1) == month]
        factor = 4.0 if rng.random() < settings.get("bad_month_share", 0) else 1.0
        scale = len(month_days) / 30.4 * factor
        for item, rate in zip(recorded, rates, strict=True):
            for _ in range(rng.poisson(rate * scale)):
                rows.append(
                    {
                        "event_date": month_days[rng.integers(len(month_days))],
                        "item_id": item.item_id,
                        "occurrences": 1 if rng.random() < 0.8 else 2,
                        "assessed_points": None,
                        "note": None,
                    }
                )
        if discretionary and rng.random() < 0.04 * factor:
            item = discretionary[rng.integers(len(discretionary))]
            low = float(item.points_min) if item.points_min is not None else 0.5
            high = float(item.points_max) if item.points_max is not None else 1.0
            points = np.round(rng.uniform(low, high) * 2) / 2
            rows.append(
                {
                    "event_date": month_days[rng.integers(len(month_days))],
                    "item_id": item.item_id,
                    "occurrences": 1,
                    "assessed_points": f"{points:.2f}",
                    "note": "考评领导小组认定（模拟）",
                }
            )
    frame = pl.DataFrame(
        rows, schema={**schema, "assessed_points": pl.String}, orient="row"
    ).with_columns(
        pl.lit(contract.contract_id).alias("contract_id"),
        pl.col("assessed_points").cast(schema["assessed_points"]),
    )
    return pl.concat([frame.select(list(schema)), derived]).sort("event_date", "item_id")


def _ticket_derived_events(
    contract: Contract, tickets: pl.DataFrame, item_ids: set[str]
) -> tuple[set[str], pl.DataFrame]:
    """000's late and wrong dispatch deductions, one event per late or wrong ticket."""
    schema = {c.name: c.dtype for c in DEDUCTIONS.columns}
    present = {k: v for k, v in _TICKET_DERIVED_ITEMS.items() if k in item_ids}
    if not present:
        return set(), pl.DataFrame(schema=schema)
    flags = TICKETS.conform(tickets).select(  # the columns the measures read, details empty
        "ticket_id",
        pl.col("received_at").dt.date().alias("event_date"),
        missed(contract, "dispatch_minutes").alias("late"),
        missed(contract, "dispatch_accuracy").alias("wrong"),
    )
    frames = [
        flags.filter(pl.col(flag)).select(
            pl.lit(contract.contract_id).alias("contract_id"),
            "event_date",
            pl.lit(item_id).alias("item_id"),
            pl.lit(1, dtype=pl.Int32).alias("occurrences"),
            pl.lit(None, dtype=schema["assessed_points"]).alias("assessed_points"),
            pl.format("工单 {}", "ticket_id").alias("note"),
        )
        for item_id, flag in present.items()
    ]
    return set(present), pl.concat(frames)


def simulate_penalties(
    contract: Contract, settings: dict, rng: np.random.Generator
) -> pl.DataFrame:
    """Money penalty events at the rates ``params/demo.yaml`` gives per penalty id."""
    schema = {c.name: c.dtype for c in PENALTIES.columns}
    rows = []
    by_id = {p.penalty_id: p for p in contract.penalties}
    days = _days(contract)
    for penalty_id, per_month in settings.get("penalties", {}).items():
        penalty = by_id[penalty_id]
        for _ in range(rng.poisson(per_month * len(days) / 30.4)):
            amount = None
            if penalty.amount_cny is None and penalty.share_of_amount is None:
                amount = f"{rng.choice([1000, 2000, 5000]):.2f}"
            rows.append(
                {
                    "contract_id": contract.contract_id,
                    "event_date": days[rng.integers(len(days))],
                    "penalty_id": penalty_id,
                    "occurrences": 1,
                    "assessed_amount_cny": amount,
                    "note": None,
                }
            )
    frame = pl.DataFrame(rows, schema={**schema, "assessed_amount_cny": pl.String}, orient="row")
    return frame.with_columns(
        pl.col("assessed_amount_cny").cast(schema["assessed_amount_cny"])
    ).sort("event_date", "penalty_id")


def simulate_contract(
    contract: Contract, settings: dict, seed: int
) -> dict[LedgerKind, pl.DataFrame]:
    """All ledgers of one contract. Same ``seed`` and params, same frames."""
    # One stream per contract, so adding a contract does not change the others' data.
    salt = int.from_bytes(contract.contract_id.encode("utf-8"), "little") % (2**32)
    rng = np.random.default_rng([seed, salt])
    tickets = simulate_tickets(contract, settings, rng)
    roster, attendance = simulate_staffing(contract, settings, rng)
    frames = {
        ROSTER: roster,
        STAFFING: attendance,
        DEDUCTIONS: simulate_deductions(contract, settings, tickets, rng),
        PENALTIES: simulate_penalties(contract, settings, rng),
    }
    details = np.random.default_rng([seed, salt, 1])
    tickets = simulate_ticket_details(contract, settings, tickets, details)
    frames[TICKETS] = TICKETS.conform(tickets)
    frames[KPIS] = simulate_kpis(contract, settings, frames[TICKETS], details)
    return frames


def write_demo_data(
    contracts: dict[str, Contract],
    seed: int,
    out_dir: Path = config.DEMO_DIR,
    as_of: dt.date | None = None,
) -> list[Path]:
    """Write ``<out_dir>/<contract_id>/<ledger>.csv`` for every contract; return the paths.

    ``as_of``: the ledgers as they would stand at the end of that day (Beijing time): nothing
    dated later, and what happened later not yet known (:func:`seatscore.ledgers.kinds.as_of`). The
    whole service period is simulated first and then cut, so an earlier ``as_of`` gives a prefix
    of a later one with the same seed. ``None`` keeps every service period whole.
    """
    settings = load_demo_params()
    written = []
    for contract_id, contract in sorted(contracts.items()):
        if contract_id not in settings:
            raise KeyError(f"params/demo.yaml has no simulation settings for {contract_id}")
        folder = out_dir / contract_id
        folder.mkdir(parents=True, exist_ok=True)
        for kind, frame in simulate_contract(contract, settings[contract_id], seed).items():
            if as_of is not None:
                frame = cut(kind, frame, as_of)
            path = folder / kind.file_name
            frame.select(c.name for c in kind.columns).write_csv(
                path, datetime_format="%Y-%m-%d %H:%M:%S", date_format="%Y-%m-%d"
            )
            written.append(path)
    return written
