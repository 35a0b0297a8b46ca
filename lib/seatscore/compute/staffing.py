"""Staffing: vacancies on the roster and absences on the attendance sheet, kept apart.

A **vacancy** (人员空缺, 缺员, 空岗) is a post whose roster (在册/实有人数, the ``roster`` ledger)
is below the contract's minimum because someone left and was not replaced. It runs on calendar
days, weekends and holidays included, until it is filled, and a grace period belongs to each
vacancy (000 六 4: "未能在5个工作日内提供合格人员，则每逾期一天…300元/每人每天"). An **absence**
(缺勤, 缺口人次) is a required person not present on a day of the attendance sheet (``staffing``
ledger, 应到/实到); it is charged per person-day without grace (004 三 (一) 5; 002 四 3).

Readings, each written down here so a finance officer can check them:

- **Episodes, first in first out.** Each rise of a post's gap (minimum − on roster, never below 0)
  opens that many vacancies on that day; each fall closes the oldest open ones. A vacancy's last
  day is the last day it was open; it is filled on the next day.
- **Grace.** A vacancy opened on day *d* (its first vacant day) is charged from the day after the
  *g*-th official working day after *d*: *d* is not counted, as 民法典 第二百零一条 counts a period
  ("开始的当日不计入"); make-up working days 调休 count, holidays do not
  (:func:`seatscore.terms.periods.nth_working_day_after`). A post short from the first day of service
  gets the same grace, though 000 六 4 speaks of "人员变动": the reading that charges least.
- **Overdue (000 六 4 second sentence).** "逾期10个工作日及以上" is read as 10 or more official
  working days past the vacancy's own grace (so 15 working days after it opened), and "人员空缺
  达到5人及以上" as 5 or more such vacancies open on the same day. Other readings (10 working days
  from the vacancy's opening; 5 vacancies at once for 10 working days) are possible and would fire
  earlier; the trigger's state and ``since`` day let the buyer check it against the roster.
- **Unknown is not zero.** A day with no roster figure for a post (no daily row, and no person list
  for the post) is unknown: open vacancies stay open through it (their grace does not start
  again), it is not charged, and the month is reported incomplete.
- **Where the minimum is counted.** Per post when every post's minimum is stated (003 附件1);
  otherwise, where the contract states only a total (000 一 (二): 16 persons, the dispatch post's
  share not stated), on the sum of all posts against the total.
- **Person list.** A person is on the roster from ``start_date`` to ``end_date`` inclusive (the
  last day on the post); an empty ``end_date`` means still there. A post the list names is known
  from the service start to ``known_through``: the latest day any ledger of the contract records,
  the list's own ``listed_on`` (the day it was exported) included; a post it does not name is
  unknown.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass

import polars as pl

from seatscore.ledgers.kinds import REF, known_refs, with_refs
from seatscore.terms.contracts import Contract, TerminationTrigger
from seatscore.terms.periods import month_key, month_of, nth_working_day_after
from seatscore.terms.thresholds import holds

ALL_POSTS = "__all__"
"""The group id of the roster summed over every post, against the contract's total minimum."""

HEADCOUNT_SCHEMA = {
    "post_id": pl.String,
    "service_date": pl.Date,
    "on_roster": pl.Int32,
    "rows": pl.List(REF),
}
EPISODE_SCHEMA = {
    "group": pl.String,
    "opened": pl.Date,
    "last_day": pl.Date,
    "still_open": pl.Boolean,
    "grace_end": pl.Date,
    "provisional": pl.Boolean,
}
VACANCY_DAY_SCHEMA = {
    "group": pl.String,
    "vacancy": pl.Int32,
    "service_date": pl.Date,
    "month": pl.String,
    "charged": pl.Boolean,
}


def roster_headcount(
    contract: Contract, roster: pl.DataFrame, known_through: dt.date | None
) -> pl.DataFrame:
    """Persons on the roster per post and day, from either form of the ``roster`` ledger.

    ``roster`` has the columns of :data:`seatscore.ledgers.kinds.ROSTER` (and optionally
    ``source_file``/``source_row``). Returns ``post_id``, ``service_date``, ``on_roster`` (Int32,
    persons) and ``rows`` (the ledger rows behind the figure), one row per post and known day
    within the service period. Daily rows win over a person list for the same post and day.
    """
    period = contract.service_period
    roster = with_refs(roster)
    daily = (
        roster.filter(pl.col("service_date").is_not_null())
        .filter(pl.col("service_date").is_between(period.start, period.end))
        .group_by("post_id", "service_date")
        .agg(pl.col("on_roster").sum().cast(pl.Int32), known_refs())
    )
    people = roster.filter(pl.col("service_date").is_null() & pl.col("start_date").is_not_null())
    if people.is_empty() or known_through is None:
        return (
            daily.select(list(HEADCOUNT_SCHEMA))
            .cast(HEADCOUNT_SCHEMA)
            .sort("post_id", "service_date")
        )
    last = min(period.end, known_through)
    days = (
        pl.DataFrame({"service_date": pl.date_range(period.start, last, "1d", eager=True)})
        if last >= period.start
        else pl.DataFrame(schema={"service_date": pl.Date})
    )
    posts = people.select("post_id").unique()
    spans = people.select(
        "post_id",
        pl.max_horizontal(pl.col("start_date"), pl.lit(period.start)).alias("first"),
        pl.min_horizontal(pl.col("end_date").fill_null(last), pl.lit(last)).alias("final"),
        "ref",
    )
    counted = (
        posts.join(days, how="cross")
        .join(spans, on="post_id", how="left")
        .with_columns(
            pl.col("service_date")
            .is_between(pl.col("first"), pl.col("final"))
            .fill_null(False)
            .alias("on")
        )
        .group_by("post_id", "service_date")
        .agg(
            pl.col("on").sum().cast(pl.Int32).alias("on_roster"),
            pl.col("ref")
            .filter(pl.col("on") & pl.col("ref").struct.field("row").is_not_null())
            .alias("rows"),
        )
    )
    from_list = counted.join(
        daily.select("post_id", "service_date"), on=["post_id", "service_date"], how="anti"
    )
    return pl.concat(
        [
            daily.select(list(HEADCOUNT_SCHEMA)).cast(HEADCOUNT_SCHEMA),
            from_list.select(list(HEADCOUNT_SCHEMA)).cast(HEADCOUNT_SCHEMA),
        ]
    ).sort("post_id", "service_date")


def minimum_groups(contract: Contract) -> dict[str, int] | None:
    """The minimum headcount each roster group must keep: per post when every post's minimum is
    stated, else ``{ALL_POSTS: total}`` when the contract states a total; None when neither."""
    minimums = {p.post_id: p.min_headcount.value for p in contract.posts}
    if minimums and all(m is not None for m in minimums.values()):
        return {k: int(v) for k, v in minimums.items() if v is not None}
    if contract.minimum_headcount.value is not None:
        return {ALL_POSTS: contract.minimum_headcount.value}
    return None


def group_headcount(contract: Contract, headcount: pl.DataFrame) -> pl.DataFrame:
    """``headcount`` by the groups of :func:`minimum_groups`: ``group``, ``service_date``,
    ``on_roster``, ``minimum``, ``gap`` (persons, ≥ 0), ``rows``. For the all-posts group a day is
    known only when every post has a figure that day."""
    groups = minimum_groups(contract) or {}
    if ALL_POSTS in groups:
        n_posts = len(contract.posts)
        frame = (
            headcount.group_by("service_date")
            .agg(
                pl.col("on_roster").sum().cast(pl.Int32),
                pl.col("post_id").n_unique().alias("_posts"),
                pl.col("rows").list.explode(keep_nulls=False, empty_as_null=False),
            )
            .filter(pl.col("_posts") == n_posts)
            .drop("_posts")
            .with_columns(pl.lit(ALL_POSTS).alias("group"))
        )
    else:
        frame = headcount.rename({"post_id": "group"}).filter(pl.col("group").is_in(list(groups)))
    minimum = pl.col("group").replace_strict(groups, return_dtype=pl.Int32, default=None)
    return (
        frame.with_columns(minimum.alias("minimum"))
        .with_columns((pl.col("minimum") - pl.col("on_roster")).clip(lower_bound=0).alias("gap"))
        .select("group", "service_date", "on_roster", "minimum", "gap", "rows")
        .sort("group", "service_date")
    )


@dataclass(frozen=True)
class Vacancies:
    """The vacancies of one contract.

    Attributes
    ----------
    episodes:
        One row per vacancy: ``group`` (post id, or :data:`ALL_POSTS`), ``opened`` (first vacant
        day), ``last_day`` (last day known vacant), ``still_open`` (not filled by the last known
        day), ``grace_end`` (last day of its grace; charged from the day after), ``provisional``.
    days:
        One row per vacancy and known day it was open: ``group``, ``vacancy`` (index into
        ``episodes``), ``service_date``, ``month``, ``charged`` (after its grace).
    gaps:
        :func:`group_headcount`'s frame (the known days).
    unknown:
        ``group``, ``month``, ``days``: days of the service period up to the data's cut-off with no
        roster figure.
    """

    episodes: pl.DataFrame
    days: pl.DataFrame
    gaps: pl.DataFrame
    unknown: pl.DataFrame


def vacancies(
    contract: Contract,
    headcount: pl.DataFrame,
    grace_working_days: int,
    known_through: dt.date | None,
) -> Vacancies:
    """Vacancy episodes (first in, first out) from the daily roster headcount (module readings)."""
    gaps = group_headcount(contract, headcount)
    period = contract.service_period
    last = min(period.end, known_through) if known_through is not None else None
    episodes: list[dict] = []
    days: list[dict] = []
    unknown: dict[tuple[str, str], int] = {}
    groups = minimum_groups(contract) or {}
    for group in groups:
        by_day = {
            d: g
            for d, g in gaps.filter(pl.col("group") == group).select("service_date", "gap").rows()
        }
        if last is None and by_day:
            last_day = max(by_day)
        else:
            last_day = last
        if last_day is None:
            continue
        open_: deque[int] = deque()
        previous_gap = 0
        day = period.start
        while day <= last_day:
            gap = by_day.get(day)
            if gap is None:
                key = (group, month_key(day))
                unknown[key] = unknown.get(key, 0) + 1
                day += dt.timedelta(days=1)
                continue
            if gap > previous_gap:
                for _ in range(gap - previous_gap):
                    grace_end, provisional = (
                        nth_working_day_after(day, grace_working_days)
                        if grace_working_days
                        else (day - dt.timedelta(days=1), False)
                    )
                    episodes.append(
                        {
                            "group": group,
                            "opened": day,
                            "last_day": day,
                            "still_open": True,
                            "grace_end": grace_end,
                            "provisional": provisional,
                        }
                    )
                    open_.append(len(episodes) - 1)
            elif gap < previous_gap:
                for _ in range(previous_gap - gap):
                    episodes[open_.popleft()]["still_open"] = False
            previous_gap = gap
            for index in open_:
                episodes[index]["last_day"] = day
                days.append(
                    {
                        "group": group,
                        "vacancy": index,
                        "service_date": day,
                        "month": month_key(day),
                        "charged": day > episodes[index]["grace_end"],
                    }
                )
            day += dt.timedelta(days=1)
    return Vacancies(
        episodes=pl.DataFrame(episodes, schema=EPISODE_SCHEMA),
        days=pl.DataFrame(days, schema=VACANCY_DAY_SCHEMA),
        gaps=gaps,
        unknown=pl.DataFrame(
            [{"group": g, "month": m, "days": n} for (g, m), n in sorted(unknown.items())],
            schema={"group": pl.String, "month": pl.String, "days": pl.Int32},
        ),
    )


def overdue_from(grace_end: dt.date, working_days: int) -> tuple[dt.date, bool]:
    """The first day a vacancy is overdue by ``working_days`` official working days: the
    ``working_days``-th working day after its grace ended (000 六 4 "逾期10个工作日及以上")."""
    return nth_working_day_after(grace_end, working_days)


def overdue_days(v: Vacancies, trigger: TerminationTrigger) -> pl.DataFrame:
    """Days on which "``count_word`` ``min_persons``" vacancies are each overdue by
    ``overdue_working_days`` or more (000 六 4): ``service_date``, ``month``, ``overdue`` (count),
    ``starts`` (true on the first day of each run of such days: one penalty per run)."""
    if v.days.is_empty():
        return pl.DataFrame(
            schema={
                "service_date": pl.Date,
                "month": pl.String,
                "overdue": pl.Int32,
                "starts": pl.Boolean,
            }
        )
    due = {
        i: overdue_from(r["grace_end"], trigger.overdue_working_days or 0)[0]
        for i, r in enumerate(v.episodes.iter_rows(named=True))
    }
    per_day: dict[dt.date, int] = {}
    for index, day in v.days.select("vacancy", "service_date").rows():
        per_day.setdefault(day, 0)
        if day >= due[index]:
            per_day[day] += 1
    rows, previous = [], False
    for day in sorted(per_day):
        met = holds(per_day[day], trigger.count_word or "以上", trigger.min_persons or 0)
        if met:
            rows.append(
                {
                    "service_date": day,
                    "month": month_key(day),
                    "overdue": per_day[day],
                    "starts": not previous,
                }
            )
        previous = met
    return pl.DataFrame(
        rows,
        schema={
            "service_date": pl.Date,
            "month": pl.String,
            "overdue": pl.Int32,
            "starts": pl.Boolean,
        },
    )


def total_gap_by_day(v: Vacancies) -> dict[dt.date, int]:
    """Persons missing from the roster in all groups, per known day (000 六 6 "人员缺岗")."""
    out: dict[dt.date, int] = {}
    for day, gap in v.gaps.select("service_date", "gap").rows():
        out[day] = out.get(day, 0) + gap
    return out


def attendance_gaps(staffing: pl.DataFrame) -> pl.DataFrame:
    """Absences from the attendance sheet: ``post_id``, ``service_date``, ``month``, ``gap``
    (persons required but not present that day, ≥ 0) and ``ref`` (the sheet's row)."""
    return (
        with_refs(staffing)
        .with_columns(
            (pl.col("required") - pl.col("present"))
            .clip(lower_bound=0)
            .cast(pl.Int64)
            .alias("gap"),
            month_of("service_date"),
        )
        .select("post_id", "service_date", "month", "gap", "ref")
    )
