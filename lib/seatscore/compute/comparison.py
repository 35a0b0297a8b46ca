"""Vendor cost comparison: every contract on one footing, for budget planners.

One row per contract (:func:`compare`), all money in CNY to the fen, **nominal** (the CNY of each
contract's own service months, tax as its params file says) unless a price index is given
(:func:`read_price_index`, :func:`price_factor`):

- ``cost_per_seat_month_cny`` = amount ÷ service months ÷ seats, the seats every report and the
  index use (:func:`seatscore.compute.metrics.seat_basis`: the minimum headcount, or the stated
  shifts as 40-hour seat-equivalents; 004 九 and 四 (二) 1: 6,695,568 ÷ 12 ÷ 48 = 11,624.25).
  Service months = Σ of each month's served days ÷ its days
  (:func:`seatscore.terms.periods.nominal_monthly_fees`): 12 for the four one-year contracts, 11 for 001.
- ``cost_per_covered_seat_hour_cny`` = amount ÷ the seat-hours of cover the contract buys over its
  service period: per post, seats on shift × hours per day × the days its pattern covers — official
  working days (``chinesecalendar``) for a 5-day pattern, every day for a 7-day one, days × d/7
  otherwise (:func:`covered_seat_hours`). Where a post's cover is not stated in full there is no
  single figure: ``_low_cny`` and ``_high_cny`` give it on the broad and the narrow reading
  (:data:`BROAD_ZH`, :data:`NARROW_ZH`), and ``cover_basis_zh`` names what each reading counts.
- ``cost_per_staffed_seat_day_cny`` = nominal fees of the months with attendance rows ÷ person-days
  present (实到人数) in them.
- ``cost_per_ticket_handled_cny`` / ``cost_per_ticket_resolved_cny`` = nominal fees of the months
  with tickets ÷ tickets received / tickets closed (办结, ``closed_at`` recorded; a ticket set
  aside, :func:`seatscore.compute.service_levels.set_aside`, is not a resolved one) in those
  months.
- ``payable_cny`` against ``nominal_cny`` over the months with data: ``recovered_cny`` is what
  deductions and penalties took off, ``recovered_share`` its share (0–1) of the nominal fees.
- ``all_targets_met_share`` = months that met every target with a verdict ÷ months with one,
  each contract against its own targets (the stored statements' ``targets``). No figure divides by
  scores: the contracts' 100-point sheets differ and cannot be compared.

A figure that cannot be computed is null, and ``not_assessable`` says why, one ``key: 原因`` line per
figure (keys as the columns, reasons in Chinese, :data:`LABELS_ZH`).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from seatscore.compute.metrics import HOURS_PER_SEAT_WEEK, MonthlyMetrics, seat_basis
from seatscore.compute.service_levels import set_aside
from seatscore.core.errors import SeatscoreError
from seatscore.core.money import MONEY, POINTS, to_fen
from seatscore.terms.contracts import Contract
from seatscore.terms.periods import PROVISIONAL_RULE_ZH, month_of, nominal_monthly_fees, working_day

NOMINAL_ZH = "金额为名义人民币（各合同服务期当年价格，含税与否以合同为准），未做价格指数调整"

COMPARISON_SCHEMA = {
    "contract_id": pl.String,
    "title_zh": pl.String,
    "buyer_zh": pl.String,
    "vendor_zh": pl.String,
    "service_start": pl.Date,
    "service_end": pl.Date,
    "service_months": pl.Decimal(10, 4),
    "amount_cny": MONEY,
    "minimum_headcount": pl.Int64,
    "cost_per_seat_month_cny": MONEY,
    "seat_basis_zh": pl.String,
    "covered_seat_hours": pl.Decimal(14, 2),
    "covered_seat_hours_low": pl.Decimal(14, 2),
    "covered_seat_hours_high": pl.Decimal(14, 2),
    "cover_complete": pl.Boolean,
    "cover_basis_zh": pl.String,
    "cost_per_covered_seat_hour_cny": MONEY,
    "cost_per_covered_seat_hour_low_cny": MONEY,
    "cost_per_covered_seat_hour_high_cny": MONEY,
    "observed_from": pl.String,
    "observed_through": pl.String,
    "staffed_seat_days": pl.Int64,
    "cost_per_staffed_seat_day_cny": MONEY,
    "tickets_handled": pl.Int64,
    "tickets_resolved": pl.Int64,
    "cost_per_ticket_handled_cny": MONEY,
    "cost_per_ticket_resolved_cny": MONEY,
    "nominal_cny": MONEY,
    "payable_cny": MONEY,
    "recovered_cny": MONEY,
    "recovered_share": pl.Float64,
    "payable_complete": pl.Boolean,
    "months_judged": pl.Int64,
    "months_all_targets_met": pl.Int64,
    "all_targets_met_share": pl.Float64,
    "target_months_judged": pl.Int64,
    "target_months_met": pl.Int64,
    "price_factor": pl.Decimal(12, 6),
    "not_assessable": pl.String,
}
"""Columns of :func:`compare`'s frame. Money CNY (Decimal, fen); shares 0–1; scores in points."""


LABELS_ZH = {
    "amount_cny": "合同金额",
    "cost_per_seat_month_cny": "每座席·月",
    "cost_per_covered_seat_hour_cny": "每覆盖座席小时",
    "cost_per_staffed_seat_day_cny": "每实到人·天",
    "cost_per_ticket_handled_cny": "每受理工单",
    "cost_per_ticket_resolved_cny": "每办结工单",
    "payable_cny": "应付与名义",
    "all_targets_met_share": "全部指标达标的月份占比",
}
"""Chinese labels of the figures, for reports and the CLI."""


class ComparisonInputError(SeatscoreError):
    """A price index, benchmark or scenario file that cannot be used; the message says where."""


# ---------------------------------------------------------------- cover


NARROW_ZH = (
    "窄读：只计合同写明的同时在岗座席；写明有人值守而未写座席数的岗位按1个座席，未写班次的岗位不计"
)
BROAD_ZH = (
    "宽读：未写座席数或班次的岗位，按其人数每人每周40小时的标准工时折算为在岗座席"
    "（《国务院关于职工工作时间的规定》第三条）"
)
"""The two readings of a post whose cover the contract does not state in full."""


@dataclass(frozen=True)
class Cover:
    """The seat-hours of cover a contract buys over its whole service period, on two readings.

    ``low`` / ``high``: seat-hours on the narrow and the broad reading (:data:`NARROW_ZH`,
    :data:`BROAD_ZH`); the same number when every post states its cover. ``seat_hours``: that
    number when the readings agree and every post states its cover, else None (no bare bound).
    ``complete``: every post states its shift pattern and seats on shift; ``provisional``: a
    working day was counted Monday to Friday for a year the official calendar does not hold yet;
    ``basis_zh``: each post's seat-hours written out on each reading, and what neither reading
    can count.
    """

    low: Decimal | None
    high: Decimal | None
    complete: bool
    provisional: bool
    basis_zh: str

    @property
    def seat_hours(self) -> Decimal | None:
        return self.low if self.complete else None


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def _persons(contract: Contract, post) -> tuple[int | None, str]:
    """A post's persons: its stated minimum headcount, or the contract's total less the other
    posts' when this is the only post without one (000: 16 − 8 = 8, which 一 (二) implies)."""
    if post.min_headcount.value is not None:
        return post.min_headcount.value, f"{post.min_headcount.value} 人"
    others = [p.min_headcount.value for p in contract.posts if p is not post]
    total = contract.minimum_headcount.value
    if total is not None and all(v is not None for v in others) and total > sum(others):
        left = total - sum(others)
        return left, f"总人数 {total} − 其他岗位 {sum(others)} = {left} 人"
    return None, "人数未规定"


def covered_seat_hours(contract: Contract) -> Cover:
    """Seat-hours of cover over the service period, post by post, on two readings.

    A 5-day pattern covers the official working days (the contracts say "工作日在岗", 002 二;
    "按政府工作日安排", 004 四 (二) 2), a 7-day pattern every day. A post that states its pattern
    and seats on shift counts the same on both readings. A post that states its pattern but not its
    seats counts 1 seat on the narrow reading and, on the broad one, its persons × 40 ÷ the
    pattern's hours a week (at most its persons). A post that states no pattern counts nothing on
    the narrow reading and its persons × 40 hours a week on the broad one. A post with neither
    persons nor pattern counts on neither, and the basis says so."""
    days = _days(contract.service_period.start, contract.service_period.end)
    flags = [working_day(d) for d in days]
    working = sum(1 for w, _ in flags if w)
    weeks = Decimal(len(days)) / 7
    provisional, low, high, parts, neither = False, Decimal(0), Decimal(0), [], []
    for post in contract.posts:
        pattern, seats = post.shift_pattern.value, post.seats_on_shift.value
        persons, persons_zh = _persons(contract, post)
        if pattern is not None:
            if pattern.days_per_week == 7:
                covered, label = Decimal(len(days)), f"{len(days)} 天"
            elif pattern.days_per_week == 5:
                covered, label = Decimal(working), f"{working} 个工作日"
                provisional = provisional or any(p for _, p in flags)
            else:
                covered = Decimal(len(days)) * pattern.days_per_week / 7
                label = f"{len(days)} 天 × {pattern.days_per_week}/7"
            per_seat = pattern.hours_per_day * covered
            if seats is not None:
                hours = seats * per_seat
                low, high = low + hours, high + hours
                parts.append(
                    f"{post.name_zh} {seats} 座席 × {pattern.hours_per_day} 小时 × {label}"
                )
                continue
            week = pattern.days_per_week * pattern.hours_per_day
            broad = (
                min(Decimal(persons), Decimal(persons) * HOURS_PER_SEAT_WEEK / week)
                if persons
                else Decimal(1)
            )
            low, high = low + per_seat, high + broad * per_seat
            parts.append(
                f"{post.name_zh}（座席数未规定）窄读 1 座席、宽读 {persons_zh} × {HOURS_PER_SEAT_WEEK} ÷ {week} = "
                f"{broad:.2f} 座席，× {pattern.hours_per_day} 小时 × {label}"
            )
        elif persons is not None:
            hours = Decimal(persons) * HOURS_PER_SEAT_WEEK * weeks
            high += hours
            parts.append(
                f"{post.name_zh}（班次未规定）窄读不计、宽读 {persons_zh} × {HOURS_PER_SEAT_WEEK} 小时 × {len(days)}/7 周"
            )
        else:
            neither.append(post.name_zh)
    if not parts:
        return Cover(None, None, False, provisional, "合同未规定任何岗位的班次、座席或人数")
    basis = " + ".join(parts) + f" = 窄读 {low:,.0f}、宽读 {high:,.0f} 座席小时"
    if low == high:
        basis = " + ".join(parts) + f" = {low:,.0f} 座席小时"
    if neither:
        basis += f"；两种读法都未计：{'、'.join(neither)}（人数与班次均未规定）"
    if provisional:
        basis += f"；{PROVISIONAL_RULE_ZH}"
    complete = not neither and all(
        p.shift_pattern.value is not None and p.seats_on_shift.value is not None
        for p in contract.posts
    )
    return Cover(low, high, complete, provisional, basis)


# ---------------------------------------------------------------- prices


def read_price_index(path: Path | str) -> dict[int, Decimal]:
    """A price index by calendar year from a CSV with columns ``year`` and ``index`` (any base,
    e.g. the NBS consumer price index with 2022 = 100; other columns such as ``source`` are kept
    out). Raises :class:`ComparisonInputError` naming the file, row and column of a bad cell."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            missing = {"year", "index"} - set(reader.fieldnames or [])
            if missing:
                raise ComparisonInputError(
                    f"{path}: missing column(s) {', '.join(sorted(missing))}; "
                    "a price index file has columns year,index"
                )
            index: dict[int, Decimal] = {}
            for row_number, row in enumerate(reader, start=2):
                try:
                    year, value = int(row["year"]), Decimal(row["index"])
                except (ValueError, InvalidOperation):
                    raise ComparisonInputError(
                        f"{path}: row {row_number}: year {row['year']!r} and index "
                        f"{row['index']!r} must be a whole year and a number"
                    ) from None
                if value <= 0 or year in index:
                    raise ComparisonInputError(
                        f"{path}: row {row_number}: year {year} "
                        + ("appears twice" if year in index else "has an index that is not > 0")
                    )
                index[year] = value
    except OSError as exc:
        raise ComparisonInputError(f"{path}: cannot read the price index ({exc.strerror})") from exc
    if not index:
        raise ComparisonInputError(f"{path}: no rows")
    return index


def price_factor(contract: Contract, index: Mapping[int, Decimal], base_year: int) -> Decimal:
    """What one nominal CNY of the contract is worth in CNY of ``base_year``: the mean over its
    service months, weighted by served days, of ``index[base_year] / index[year of the month]``.

    Raises :class:`ComparisonInputError` for a year the index does not hold."""
    fees = nominal_monthly_fees(contract)
    years = sorted({int(m[:4]) for m in fees["month"]} | {base_year})
    absent = [y for y in years if y not in index]
    if absent:
        raise ComparisonInputError(
            f"the price index has no value for {', '.join(map(str, absent))} "
            f"(needed by {contract.contract_id} and base year {base_year}); add the year(s)"
        )
    weights = fees["month_weight"].to_list()
    adjusted = sum(
        (
            w * index[base_year] / index[int(m[:4])]
            for m, w in zip(fees["month"], weights, strict=True)
        ),
        Decimal(0),
    )
    return adjusted / sum(weights, Decimal(0))


# ---------------------------------------------------------------- the table


def _ratio(amount: Decimal | None, units: Decimal | int | None, factor: Decimal) -> Decimal | None:
    if amount is None or not units:
        return None
    return to_fen(amount * factor / Decimal(units))


def service_month_count(contract: Contract) -> Decimal:
    """Service months: Σ of each month's served days ÷ its days (12 for a one-year period)."""
    return sum(nominal_monthly_fees(contract)["month_weight"].to_list(), Decimal(0))


def unit_costs(contract: Contract, cover: Cover, factor: Decimal = Decimal(1)) -> dict:
    """``cost_per_seat_month_cny`` (amount ÷ service months ÷ seats, the seats of every report
    and the index: :func:`seatscore.compute.metrics.seat_basis`) and the cost per covered
    seat-hour: ``cost_per_covered_seat_hour_cny`` when the cover is stated in full, else
    ``_low_cny`` (amount ÷ the broad reading's seat-hours) and ``_high_cny`` (÷ the narrow
    reading's); CNY to the fen × ``factor``; None where the amount, the seats or the cover is not
    stated."""
    amount = contract.amount_cny.value
    seats, _ = seat_basis(contract)
    months = service_month_count(contract)
    return {
        "cost_per_seat_month_cny": _ratio(amount, months * seats if seats else None, factor),
        "cost_per_covered_seat_hour_cny": _ratio(amount, cover.seat_hours, factor),
        "cost_per_covered_seat_hour_low_cny": _ratio(amount, cover.high, factor),
        "cost_per_covered_seat_hour_high_cny": _ratio(amount, cover.low, factor),
    }


def _workload(
    seen: pl.DataFrame, staffing: pl.DataFrame, tickets: pl.DataFrame, reasons: dict[str, str]
) -> dict:
    """Seat-days present and tickets handled and resolved in the ``seen`` months, each with the
    nominal fees of the months that have them (None when a fee is not stated)."""
    months = set(seen["month"])
    fee_of = dict(zip(seen["month"], seen["nominal_fee_cny"], strict=True))

    def fees_of(frame: pl.DataFrame) -> Decimal | None:
        """The nominal fees of the months in which ``frame`` (with ``month``) has rows."""
        had = set(frame["month"])
        if not had or any(fee_of[m] is None for m in had):
            return None
        return sum((fee_of[m] for m in had), Decimal(0))

    in_months = pl.col("month").is_in(sorted(months))
    staffing = staffing.with_columns(month_of("service_date"))
    staffing = staffing.filter(in_months)
    present = int(staffing["present"].sum()) if staffing.height else 0
    if not present:
        reasons["cost_per_staffed_seat_day_cny"] = "没有考勤台账（实到人数）"
    tickets = tickets.with_columns(month_of("received_at"))
    tickets = tickets.filter(in_months)
    handled = tickets.height
    if not handled:
        reasons["cost_per_ticket_handled_cny"] = "没有工单台账"
    return {
        "present": present,
        "staffed_fees": fees_of(staffing),
        "handled": handled,
        "resolved": int(tickets.filter(pl.col("closed_at").is_not_null(), ~set_aside()).height),
        "ticket_fees": fees_of(tickets),
    }


def _recovered(
    seen: pl.DataFrame, amount: Decimal | None, reasons: dict[str, str]
) -> tuple[Decimal | None, Decimal | None, Decimal | None, float | None, bool | None]:
    """Nominal and payable over the ``seen`` months, what deductions recovered (CNY and share of
    nominal), and whether every month's payable was complete."""
    if seen.height and amount is not None:
        nominal = sum(seen["nominal_fee_cny"].to_list(), Decimal(0))
        payable = sum(seen["payable_cny"].to_list(), Decimal(0))
        recovered = nominal - payable
        share = float(recovered / nominal) if nominal else None
        return nominal, payable, recovered, share, bool(seen["payable_complete"].all())
    if not seen.height:
        reasons["payable_cny"] = "没有任何台账数据"
    return None, None, None, None, None


def _attainment(seen: pl.DataFrame, reasons: dict[str, str]) -> dict:
    """Each contract against its own targets, from the stored statements' verdicts: months with
    a verdict on at least one target (``months_judged``), months that met every target with one
    (``months_all_targets_met``) and their share; and target-months judged and met (one target
    in one month), which says how near the misses were."""
    out = {
        "months_judged": 0,
        "months_all_targets_met": 0,
        "all_targets_met_share": None,
        "target_months_judged": 0,
        "target_months_met": 0,
    }
    if "targets_met" not in seen.columns:
        reasons["all_targets_met_share"] = "没有已存的月度结算单"
        return out
    judged = seen["targets_met"].drop_nulls()
    if judged.is_empty():
        reasons["all_targets_met_share"] = "没有可判定是否达标的合同指标"
        return out
    met = int(judged.sum())
    return {
        "months_judged": judged.len(),
        "months_all_targets_met": met,
        "all_targets_met_share": met / judged.len(),
        "target_months_judged": int(seen["targets_judged"].sum()),
        "target_months_met": int(seen["targets_met_count"].sum()),
    }


def _cover(contract: Contract, reasons: dict[str, str]) -> Cover:
    """The contract's cover, noting in ``reasons`` why there is no single seat-hour cost."""
    cover = covered_seat_hours(contract)
    if cover.low is None:
        reasons["cost_per_covered_seat_hour_cny"] = cover.basis_zh
    elif cover.seat_hours is None:
        reasons["cost_per_covered_seat_hour_cny"] = (
            "部分岗位的覆盖合同未写全，按两种读法给出区间（见覆盖座席小时的计算）"
        )
    return cover


def compare_one(
    contract: Contract,
    metrics: MonthlyMetrics | StoredMonths,
    staffing: pl.DataFrame,
    tickets: pl.DataFrame,
    through: str | None,
    factor: Decimal = Decimal(1),
) -> dict:
    """One row of :data:`COMPARISON_SCHEMA` for ``contract``.

    ``metrics``: the stored statements (:class:`StoredMonths`, as :func:`load_comparison` reads
    them) or :func:`seatscore.compute.metrics.monthly_metrics`; ``staffing`` the staffing ledger
    (``service_date`` date, ``present`` int); ``tickets`` with ``received_at`` and ``closed_at``
    (datetime); ``through`` the latest month with data (YYYY-MM) or None; ``factor`` from
    :func:`price_factor` (1 = nominal)."""
    reasons: dict[str, str] = {}
    amount = contract.amount_cny.value
    if amount is None:
        reasons["amount_cny"] = "合同未规定金额"
    seats, seat_basis_zh = seat_basis(contract)
    if seats is None:
        reasons["cost_per_seat_month_cny"] = seat_basis_zh
    cover = _cover(contract, reasons)
    costs = unit_costs(contract, cover, factor)
    per_seat_month = costs["cost_per_seat_month_cny"]

    seen = (
        metrics.months.filter(pl.col("month") <= through)
        if through is not None
        else metrics.months.clear()
    )
    months = set(seen["month"])
    work = _workload(seen, staffing, tickets, reasons)
    present, handled, resolved = work["present"], work["handled"], work["resolved"]
    staffed_fees, ticket_fees = work["staffed_fees"], work["ticket_fees"]
    nominal, payable, recovered, share, complete = _recovered(seen, amount, reasons)
    attainment = _attainment(seen, reasons)
    money = lambda v: to_fen(v * factor) if v is not None else None  # noqa: E731
    return {
        "contract_id": contract.contract_id,
        "title_zh": contract.title_zh,
        "buyer_zh": contract.buyer.name,
        "vendor_zh": contract.vendor.name,
        "service_start": contract.service_period.start,
        "service_end": contract.service_period.end,
        "service_months": service_month_count(contract),
        "amount_cny": money(amount),
        "minimum_headcount": contract.seats,
        "cost_per_seat_month_cny": per_seat_month,
        "seat_basis_zh": seat_basis_zh,
        "covered_seat_hours": cover.seat_hours,
        "covered_seat_hours_low": cover.low,
        "covered_seat_hours_high": cover.high,
        "cover_complete": cover.complete,
        "cover_basis_zh": cover.basis_zh,
        "cost_per_covered_seat_hour_cny": costs["cost_per_covered_seat_hour_cny"],
        "cost_per_covered_seat_hour_low_cny": costs["cost_per_covered_seat_hour_low_cny"],
        "cost_per_covered_seat_hour_high_cny": costs["cost_per_covered_seat_hour_high_cny"],
        "observed_from": min(months) if months else None,
        "observed_through": max(months) if months else None,
        "staffed_seat_days": present,
        "cost_per_staffed_seat_day_cny": _ratio(staffed_fees, present, factor),
        "tickets_handled": handled,
        "tickets_resolved": resolved,
        "cost_per_ticket_handled_cny": _ratio(ticket_fees, handled, factor),
        "cost_per_ticket_resolved_cny": _ratio(ticket_fees, resolved, factor),
        "nominal_cny": money(nominal),
        "payable_cny": money(payable),
        "recovered_cny": money(recovered),
        "recovered_share": share,
        "payable_complete": complete,
        **attainment,
        "price_factor": factor,
        "not_assessable": "\n".join(f"{k}: {v}" for k, v in reasons.items()) or None,
    }


def seat_hour_cost_zh(row: dict) -> str:
    """The cost per covered seat-hour as a person reads it: one figure when the cover is stated in
    full, else the range on the two readings (broad reading first: the lower cost), or ``—``."""
    from seatscore.core.money import format_cny

    if row["cost_per_covered_seat_hour_cny"] is not None:
        return format_cny(row["cost_per_covered_seat_hour_cny"])
    low, high = (
        row["cost_per_covered_seat_hour_low_cny"],
        row["cost_per_covered_seat_hour_high_cny"],
    )
    if low is None or high is None:
        return "—"
    if low == high:
        return f"{format_cny(low)}（两种读法相同，部分岗位未计）"
    return f"{format_cny(low)}–{format_cny(high)}（宽读–窄读）"


def attainment_zh(row: dict) -> str:
    """``9/11 个月全部达标；指标·月 52/55`` or ``—``."""
    if row["all_targets_met_share"] is None:
        return "—"
    return (
        f"{row['months_all_targets_met']}/{row['months_judged']} 个月全部达标；"
        f"指标·月 {row['target_months_met']}/{row['target_months_judged']} 达标"
    )


def compare(rows: list[dict]) -> pl.DataFrame:
    """Rows of :func:`compare_one` as a frame of :data:`COMPARISON_SCHEMA`, by contract id."""
    return pl.DataFrame(rows, schema=COMPARISON_SCHEMA).sort("contract_id")


def load_comparison(
    db_path: Path | str,
    contract_ids: list[str] | None = None,
    price_index: Mapping[int, Decimal] | None = None,
    base_year: int | None = None,
) -> pl.DataFrame:
    """:func:`compare` for the contracts in the database (all, or ``contract_ids``), their
    ledgers up to each one's latest month with data.

    With ``price_index`` the money is in CNY of ``base_year`` (default: the index's latest year).
    Raises :class:`~seatscore.core.errors.UnknownContract` for an id not in the database."""
    from seatscore.compute import closing
    from seatscore.core.errors import UnknownContract
    from seatscore.ledgers import store as db

    rows = []
    with db.connect(db_path) as con:  # writes the statements it reads, if not stored yet
        contracts = db.load_contracts(con)
        ids = contract_ids or sorted(contracts)
        unknown = sorted(set(ids) - set(contracts))
        if unknown:
            raise UnknownContract(
                f"no contract {', '.join(unknown)} in {db_path}; "
                f"known contracts: {', '.join(sorted(contracts))}"
            )
        for cid in ids:
            contract = contracts[cid]
            ledgers = db.ledgers(con, cid)
            closing.refresh(con, contract, ledgers)
            metrics = _stored_months(con, contract)
            factor = Decimal(1)
            if price_index is not None:
                factor = price_factor(contract, price_index, base_year or max(price_index))
            rows.append(
                compare_one(
                    contract,
                    metrics,
                    ledgers["staffing"],
                    ledgers["tickets"],
                    _latest_stored(metrics.months, db.latest_month_with_data(con, cid)),
                    factor,
                )
            )
    return compare(rows)


@dataclass(frozen=True)
class StoredMonths:
    """The stored statements of a contract's ended months as :func:`compare_one` reads them
    (``months``: ``month``, ``nominal_fee_cny``, ``payable_cny``, ``payable_complete``,
    ``score``, ``targets_met``): the figures the reports and the index show, as known at each
    month's end."""

    months: pl.DataFrame


def _stored_months(con, contract: Contract) -> StoredMonths:
    from seatscore.compute import closing

    rows = []
    for r in closing.latest(con, contract.contract_id).iter_rows(named=True):
        doc = json.loads(r["document"])
        rows.append(
            {
                "month": r["month"],
                "nominal_fee_cny": _dec(doc["fee_nominal_cny"]),
                "payable_cny": _dec(doc["payable_cny"]),
                "payable_complete": doc["payable_complete"],
                "score": _dec(doc["score"]),
                "targets_met": _all_met(doc.get("targets")),
                "targets_judged": sum(t["met"] is not None for t in doc.get("targets", [])),
                "targets_met_count": sum(t["met"] is True for t in doc.get("targets", [])),
            }
        )
    return StoredMonths(
        pl.DataFrame(
            rows,
            schema={
                "month": pl.String,
                "nominal_fee_cny": MONEY,
                "payable_cny": MONEY,
                "payable_complete": pl.Boolean,
                "score": POINTS,
                "targets_met": pl.Boolean,
                "targets_judged": pl.Int64,
                "targets_met_count": pl.Int64,
            },
        )
    )


def _all_met(targets: list[dict] | None) -> bool | None:
    """True when every target with a verdict was met, False when one was missed, None when no
    target has a verdict (or the statement predates verdicts)."""
    judged = [t["met"] for t in targets or [] if t["met"] is not None]
    return all(judged) if judged else None


def _dec(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


def _latest_stored(months: pl.DataFrame, latest_with_data: str | None) -> str | None:
    """The latest month with data that has ended (has a stored statement)."""
    if latest_with_data is None or months.is_empty():
        return None
    ended = [m for m in months["month"].to_list() if m <= latest_with_data]
    return max(ended) if ended else None


def prices_zh(price_index: Mapping[int, Decimal] | None, base_year: int | None) -> str:
    """The sentence every comparison output carries about what its CNY are."""
    if price_index is None:
        return NOMINAL_ZH
    year = base_year or max(price_index)
    return f"金额已按价格指数折算为 {year} 年人民币（各月按当年指数，见所给价格指数文件）"


# ---------------------------------------------------------------- cost structure


COST_STRUCTURE_SCHEMA = {
    "contract_id": pl.String,
    "title_zh": pl.String,
    "name_zh": pl.String,
    "clause": pl.String,
    "amount_cny": MONEY,
    "share": pl.Float64,
    "per_seat_month_cny": MONEY,
}


def cost_structure(contracts: list[Contract]) -> pl.DataFrame:
    """The stated cost breakdown of each contract that has one (004 九): each line's amount, its
    share (0–1) of the amount and per seat-month on the minimum headcount (null without one).
    Contracts without a breakdown have no rows."""
    rows = []
    for c in contracts:
        months = service_month_count(c)
        for line in c.cost_breakdown:
            rows.append(
                {
                    "contract_id": c.contract_id,
                    "title_zh": c.title_zh,
                    "name_zh": line.name_zh,
                    "clause": line.clause,
                    "amount_cny": line.amount_cny,
                    "share": float(line.amount_cny / c.amount_cny.value),
                    "per_seat_month_cny": _ratio(
                        line.amount_cny, months * c.seats if c.seats else None, Decimal(1)
                    ),
                }
            )
    return pl.DataFrame(rows, schema=COST_STRUCTURE_SCHEMA)


# ---------------------------------------------------------------- market benchmarks


BENCHMARK_COLUMNS = ("city", "budget_cny", "award_cny", "term_months", "headcount", "seats")
BENCHMARK_SCHEMA = {
    "row": pl.Int64,
    "city": pl.String,
    "project": pl.String,
    "date_or_period": pl.String,
    "amount_cny": MONEY,
    "amount_basis_zh": pl.String,
    "term_months": pl.Int64,
    "seats": pl.Int64,
    "headcount": pl.Int64,
    "cost_per_seat_month_cny": MONEY,
    "cost_per_staff_month_cny": MONEY,
    "comparable": pl.Boolean,
    "reason_zh": pl.String,
    "source_url": pl.String,
}
_PLAIN_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def _fact(row: dict, column: str, problems: list[str]) -> Decimal | None:
    """A plain number, or None (empty); anything else is recorded as a problem, never guessed."""
    text = (row.get(column) or "").strip().replace(",", "")
    if not text:
        return None
    if not _PLAIN_NUMBER.match(text):
        problems.append(f"{column} 为“{row[column].strip()}”，不是单纯的数字")
        return None
    return Decimal(text)


def read_benchmarks(path: Path | str) -> pl.DataFrame:
    """Other published purchases per seat-month and per staff-month (:data:`BENCHMARK_SCHEMA`).

    The CSV (UTF-8) needs the columns ``city``, ``budget_cny``, ``award_cny``, ``term_months``,
    ``headcount``, ``seats``; ``project``, ``date_or_period`` and ``source_url`` are carried along
    where present. The amount is the award where published, else the budget (``amount_basis_zh``
    says which). A row is comparable when it has an amount, a term and seats or headcount, each a
    plain number; otherwise ``comparable`` is false and ``reason_zh`` lists what is missing or
    unclear (``12 (365日历天)`` is not read as 12). Every row of the file is kept, in file order
    (``row`` = line number). Raises :class:`ComparisonInputError` for an unreadable file or a
    missing column."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in BENCHMARK_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ComparisonInputError(
                    f"{path}: missing column(s) {', '.join(missing)}; a benchmark file needs "
                    f"{', '.join(BENCHMARK_COLUMNS)} (see docs/explanation/vendor-comparison.md)"
                )
            raw = list(reader)
    except OSError as exc:
        raise ComparisonInputError(f"{path}: cannot read the benchmarks ({exc.strerror})") from exc
    rows = []
    for number, row in enumerate(raw, start=2):
        problems: list[str] = []
        award, budget = _fact(row, "award_cny", problems), _fact(row, "budget_cny", problems)
        term = _fact(row, "term_months", problems)
        seats, headcount = _fact(row, "seats", problems), _fact(row, "headcount", problems)
        amount = award if award is not None else budget
        basis = "中标金额" if award is not None else ("预算金额" if budget is not None else None)
        lacking = [
            name for name, value in (("金额", amount), ("服务期（月）", term)) if value is None
        ]
        if seats is None and headcount is None:
            lacking.append("座席数或人数")
        if lacking:
            problems.insert(0, "缺少" + "、".join(lacking))
        comparable = not lacking
        rows.append(
            {
                "row": number,
                "city": row["city"],
                "project": row.get("project"),
                "date_or_period": row.get("date_or_period"),
                "amount_cny": to_fen(amount) if amount is not None else None,
                "amount_basis_zh": basis,
                "term_months": int(term) if term is not None and term == int(term) else None,
                "seats": int(seats) if seats is not None else None,
                "headcount": int(headcount) if headcount is not None else None,
                "cost_per_seat_month_cny": _ratio(amount, term * seats, Decimal(1))
                if comparable and seats
                else None,
                "cost_per_staff_month_cny": _ratio(amount, term * headcount, Decimal(1))
                if comparable and headcount
                else None,
                "comparable": comparable,
                "reason_zh": "；".join(problems) or None,
                "source_url": row.get("source_url"),
            }
        )
    return pl.DataFrame(rows, schema=BENCHMARK_SCHEMA)
