"""Properties that must hold on any ledgers, for all five contracts (hypothesis).

- the months' nominal fees add up to the contract amount;
- every month's payable = nominal fee − fee deduction − staffing penalties − money penalties, and
  each of those is the sum of its lines;
- scores stay within [0, 100] and no category loses more than its cap;
- the order of rows, splitting a ledger into two files, or loading the same file twice change
  nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seatscore.compute.metrics import METRICS_LEDGERS, monthly_metrics
from seatscore.ledgers import store as db
from seatscore.ledgers.ingest import ingest
from seatscore.terms.contract_files import load_contracts

from helpers import ledger

pytestmark = pytest.mark.slow

CONTRACTS = load_contracts()
IDS = sorted(CONTRACTS)


def _days(contract) -> list[dt.date]:
    p = contract.service_period
    return [p.start + dt.timedelta(days=i) for i in range((p.end - p.start).days + 1)]


@st.composite
def ledgers(draw, contract_id: str) -> dict[str, pl.DataFrame]:
    """Random but valid ledgers of one contract: deductions of its fixed and discretionary items,
    money penalties, a roster over a random stretch with random vacancies, an attendance sheet."""
    c = CONTRACTS[contract_id]
    days = _days(c)
    day = st.sampled_from(days)
    deductions = []
    assessment = c.assessment.value
    if assessment is not None:
        recorded = [i for i in assessment.items if i.kind in ("per_occurrence", "discretionary")]
        for _ in range(draw(st.integers(0, 25))):
            item = draw(st.sampled_from(recorded))
            points = None
            if item.kind == "discretionary":
                low = item.points_min or Decimal("0.5")
                high = item.points_max or Decimal(5)
                points = Decimal(draw(st.integers(int(low * 2), int(high * 2)))) / 2
            deductions.append(
                {
                    "contract_id": contract_id,
                    "event_date": draw(day),
                    "item_id": item.item_id,
                    "occurrences": draw(st.integers(1, 12)),
                    "assessed_points": points,
                }
            )
    penalties = []
    choices = list(c.penalties)
    for _ in range(draw(st.integers(0, 3)) if choices else 0):
        p = draw(st.sampled_from(choices))
        amount = None
        if p.amount_cny is None and p.share_of_amount is None:
            amount = p.amount_min_cny or Decimal("1000.00")
        penalties.append(
            {
                "contract_id": contract_id,
                "event_date": draw(day),
                "penalty_id": p.penalty_id,
                "occurrences": 1,
                "assessed_amount_cny": amount,
            }
        )
    start = draw(st.integers(0, len(days) - 1))
    span = days[start : start + draw(st.integers(1, 120))]
    roster, attendance = [], []
    for post in c.posts:
        base = post.min_headcount.value or 8
        for d in span:
            on = base - draw(st.integers(0, 2)) if draw(st.booleans()) else base
            roster.append(
                {
                    "contract_id": contract_id,
                    "post_id": post.post_id,
                    "service_date": d,
                    "on_roster": on,
                }
            )
            attendance.append(
                {
                    "contract_id": contract_id,
                    "service_date": d,
                    "post_id": post.post_id,
                    "required": base,
                    "present": max(on - draw(st.integers(0, 1)), 0),
                }
            )
    return {
        "staffing": ledger("staffing", attendance),
        "deductions": ledger("deductions", deductions),
        "penalties": ledger("penalties", penalties),
        "tickets": ledger("tickets"),
        "roster": ledger("roster", roster),
    }


def run(contract_id: str, frames: dict[str, pl.DataFrame]):
    return monthly_metrics(CONTRACTS[contract_id], **frames)


def zero(value: Decimal | None) -> Decimal:
    return value if value is not None else Decimal(0)


FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("contract_id", IDS)
@FAST
@given(data=st.data())
def test_money_adds_up_and_scores_stay_in_bounds(contract_id, data):
    frames = data.draw(ledgers(contract_id))
    c = CONTRACTS[contract_id]
    metrics = run(contract_id, frames)
    months = metrics.months
    assert sum(months["nominal_fee_cny"].to_list(), Decimal(0)) == c.amount_cny.value
    for r in months.iter_rows(named=True):
        lines = metrics.lines.filter(pl.col("month") == r["month"])
        staffing = lines.filter(pl.col("kind") == "staffing_penalty")["amount_cny"].to_list()
        money = lines.filter(pl.col("kind") == "penalty")["amount_cny"].to_list()
        assert r["incident_penalty_cny"] == sum(money, Decimal("0.00"))
        if r["staffing_penalty_cny"] is not None:
            assert r["staffing_penalty_cny"] == sum((zero(v) for v in staffing), Decimal("0.00"))
            assert r["payable_cny"] == (
                r["nominal_fee_cny"]
                - r["fee_deduction_cny"]
                - r["staffing_penalty_cny"]
                - r["incident_penalty_cny"]
            )
        if r["score"] is not None:
            assert Decimal(0) <= r["score"] <= Decimal(100)
    capped = metrics.categories.filter(pl.col("cap_points").is_not_null())
    assert (capped["points"] <= capped["cap_points"]).all()


@pytest.mark.parametrize("contract_id", IDS)
@FAST
@given(data=st.data())
def test_row_order_and_split_files_change_nothing(contract_id, data):
    frames = data.draw(ledgers(contract_id))
    seed = data.draw(st.integers(0, 2**16))
    shuffled = {k: f.sample(fraction=1.0, shuffle=True, seed=seed) for k, f in frames.items()}
    split = {
        k: pl.concat([f.slice(0, f.height // 2), f.slice(f.height // 2)]) for k, f in frames.items()
    }
    expected = run(contract_id, frames)
    for variant in (shuffled, split):
        got = run(contract_id, variant)
        assert got.months.equals(expected.months)
        assert got.triggers.equals(expected.triggers)
        assert got.lines.drop("rows").equals(expected.lines.drop("rows"))


def test_loading_the_same_files_twice_changes_nothing(tmp_path):
    # Through `seatscore ingest` into a fresh database: the second load of the same files is
    # recognised and adds no row; the month's figures are the same.
    cid = "haidian-dispatch-2026"
    path = tmp_path / "seatscore.duckdb"
    db.build(path, CONTRACTS, demo_dir=None)
    start = dt.date(2026, 7, 1)
    roster = tmp_path / "roster.csv"
    lines = ["合同编号,岗位,日期,在册人数"]
    for i in range(31):
        day = start + dt.timedelta(days=i)
        lines.append(f"{cid},emergency_duty,{day},{7 if i < 20 else 8}")
        lines.append(f"{cid},dispatch_analysis,{day},8")
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    deductions = tmp_path / "deductions.csv"
    deductions.write_text(
        f"合同编号,日期,考核项目,次数\n{cid},2026-07-03,dress_code,2\n", encoding="utf-8"
    )

    def figures():
        with db.connect(path, read_only=True) as con:
            ledgers = db.ledgers(con, cid)
            read = {k: ledgers[k] for k in METRICS_LEDGERS}  # not the KPIs or the calls
            return monthly_metrics(CONTRACTS[cid], **read).months

    ingest([roster], path, kind="roster", quarantine_dir=tmp_path / "q")
    ingest([deductions], path, kind="deductions", quarantine_dir=tmp_path / "q")
    once = figures()
    ingest([roster], path, kind="roster", quarantine_dir=tmp_path / "q")
    ingest([deductions], path, kind="deductions", quarantine_dir=tmp_path / "q")
    assert figures().equals(once)
    # and the vacancy was read: one person 07-01..07-20, charged after 07-08 → 12 × 300
    july = once.filter(pl.col("month") == "2026-07").row(0, named=True)
    assert july["staffing_penalty_cny"] == Decimal("3600.00")
