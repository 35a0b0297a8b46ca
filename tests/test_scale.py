"""A city's tickets: synthetic contracts and tickets at scale, the clustered layout, and every
contract's monthly figures at once (``portfolio_kpis``) agreeing with one contract at a time.

Speed and memory are measured by ``benchmarks/metrics.py``, not here.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from seatscore.cli import main
from seatscore.compute import service_levels as sl
from seatscore.core.errors import LedgerError
from seatscore.ledgers import store as db
from seatscore.ledgers.kinds import TICKETS, check_references, read_ledger
from seatscore.simulation import scale
from seatscore.terms.contract_files import load_contracts
from seatscore.terms.measures import STATE_COLUMNS
from seatscore.terms.periods import working_day

from helpers import figure, ledger, ticket

pytestmark = pytest.mark.slow

HH, D001 = "haidian-hotline-2022", "shijingshan-hotline-2024"


@pytest.fixture(scope="module")
def scale_data(tmp_path_factory, contracts):
    """600,000 tickets over 20 synthetic contracts in 2021–2022 (five row groups and more), built
    into a database."""
    root = tmp_path_factory.mktemp("scale")
    params, tickets_file = scale.write_scale_data(
        600_000, root, n_contracts=20, first_year=2021, years=2, seed=3, progress=False
    )
    synthetic = load_contracts(params[0].parent)  # the params files load like real ones
    path = root / "scale.duckdb"
    db.build(path, synthetic, demo_dir=root, contracts_dir=params[0].parent)
    return synthetic, tickets_file, path


# ---------------------------------------------------------------- synthetic contracts


def test_synthetic_contracts_retender_the_real_ones(contracts):
    synthetic = scale.synthetic_contracts(contracts, 7, first_year=2021, years=2)
    # Lines take the five templates in id order; each line re-tenders its template every year.
    assert list(synthetic) == [
        "beijing-enforcement-001-2021",
        "beijing-enforcement-001-2022",
        "haidian-dispatch-002-2021",
        "haidian-dispatch-002-2022",
        "haidian-hotline-003-2021",
        "haidian-hotline-003-2022",
        "karamay-grid-004-2021",
    ]
    moved = synthetic["haidian-hotline-003-2021"]
    template = contracts[HH]
    # 004 七: 2022-04-01 – 2023-03-31, moved back one year; payments settle one year earlier.
    assert (moved.service_period.start, moved.service_period.end) == (
        dt.date(2021, 4, 1),
        dt.date(2022, 3, 31),
    )
    # The first payment is in advance (no service months); the others settle a quarter each.
    assert [p.through for p in moved.payments] == [None, "2021-06", "2021-09", "2021-12", "2022-03"]
    assert moved.title_zh.startswith("（合成）") and moved.amount_cny == template.amount_cny
    assert moved.assessment == template.assessment
    assert moved.service_level_targets == template.service_level_targets
    assert scale.template_of(moved, contracts) == HH


# ---------------------------------------------------------------- synthetic tickets


def test_scale_tickets_are_exactly_n_valid_and_ordered(scale_data):
    synthetic, tickets_file, _ = scale_data
    tickets = read_ledger(tickets_file, TICKETS)  # every type and basic rule checked
    check_references(tickets_file, TICKETS, tickets, synthetic)  # inside each service period
    assert tickets.height == 600_000
    assert tickets["contract_id"].n_unique() == 20
    assert not tickets.select(pl.struct("contract_id", "ticket_id").is_duplicated().any()).item()
    assert tickets.select(
        pl.col("summary").is_null().all(), pl.col("caller_phone").is_null().all()
    ).row(0) == (True, True)
    ordered = tickets.sort("contract_id", "received_at", maintain_order=True)
    assert_frame_equal(tickets, ordered)


def test_scale_tickets_are_deterministic(contracts):
    synthetic = scale.synthetic_contracts(contracts, 3, years=1)
    first = scale.simulate_scale_tickets(synthetic, contracts, 5_000, seed=11)
    assert first.height == 5_000
    assert_frame_equal(first, scale.simulate_scale_tickets(synthetic, contracts, 5_000, seed=11))
    assert not first.equals(scale.simulate_scale_tickets(synthetic, contracts, 5_000, seed=12))


def test_scale_tickets_follow_the_day_and_the_hour(scale_data):
    _, tickets_file, _ = scale_data
    tickets = pl.read_parquet(tickets_file)
    by_hour = tickets.group_by(pl.col("received_at").dt.hour().alias("h")).len()
    hour = dict(by_hour.iter_rows())
    # The demo's hourly profile: 10:00 weighs 7, 03:00 weighs 0.3 (about 23 times fewer).
    assert 15 < hour[10] / hour[3] < 35
    # haidian-hotline lines: a non-working day carries weekend_factor 0.6 of a working day's
    # tickets (params/demo.yaml); the summer peak falls on both alike.
    hotline = tickets.filter(pl.col("contract_id").str.starts_with("haidian-hotline"))
    per_day = hotline.group_by(pl.col("received_at").dt.date().alias("d"), "contract_id").len()
    per_day = per_day.with_columns(
        pl.col("d").map_elements(lambda d: working_day(d)[0], return_dtype=pl.Boolean).alias("w")
    )
    means = dict(per_day.group_by("w").agg(pl.col("len").mean()).iter_rows())
    assert means[False] / means[True] == pytest.approx(0.6, abs=0.06)


def test_parquet_ledger_names_bad_rows(tmp_path):
    frame = ledger(
        "tickets",
        [
            ticket(D001, "A", "2024-05-06 09:00", priority="high"),
            ticket(D001, "B", "2024-05-06 09:00", closed_at="2024-05-06 08:00"),
        ],
    )
    path = tmp_path / "tickets.parquet"
    frame.write_parquet(path)
    with pytest.raises(LedgerError) as caught:
        read_ledger(path, TICKETS)
    message = str(caught.value)
    assert "row 2, column priority: must be urgent or ordinary" in message
    assert "row 3, column closed_at: is before received_at" in message


# ---------------------------------------------------------------- layout


def test_contract_month_reads_one_or_two_row_groups(scale_data):
    _, _, path = scale_data
    cid = "haidian-hotline-003-2021"
    with db.connect(path, read_only=True) as con:
        sql, params = db.tickets_query([cid], month="2021-07")
        plan = con.sql("EXPLAIN ANALYZE " + sql, params=params).fetchall()[0][1]
        month = db.read_tickets(con, [cid], STATE_COLUMNS, month="2021-07")
        whole = db.ledger(con, "tickets", cid)
    scanned, total = map(int, re.search(r"Row Groups Scanned: (\d+) / (\d+)", plan).groups())
    assert total >= 5 and scanned <= 2, plan
    expected = whole.filter(pl.col("received_at").dt.strftime("%Y-%m") == "2021-07")
    assert month.height == expected.height > 0
    assert_frame_equal(
        month.sort("received_at"), expected.select(STATE_COLUMNS).sort("received_at")
    )


def test_contract_key_is_stable():
    # `printf haidian-hotline-2022 | sha256sum` begins f6e98e8c55937c8e; that number halved
    # (0xf6e98e8c55937c8e // 2) is the key, fixed here so that no release changes it.
    assert db.contract_key(HH) == 8_895_954_268_143_074_887
    assert db.contract_key("haidian-hotline-003-2022") != db.contract_key(HH)


# ---------------------------------------------------------------- every contract at once


def _reader(frame: pl.DataFrame):
    return lambda ids, columns: frame.filter(pl.col("contract_id").is_in(ids)).select(columns)


def test_portfolio_judges_each_contract_at_its_own_time(contracts):
    # 001 一 3 (4): ordinary cases closed within 7 days (10,080 minutes). The same terms re-tendered
    # a year later. Each contract's open tickets are judged at its own latest time.
    later = scale.retendered(contracts[D001], "shijingshan-hotline-001-2025", 1, "test")
    a, b = D001, later.contract_id
    rows = [
        # A: closed in 2 days (met); open, due 05-25 09:00 after A's latest time 05-20 12:00
        # (pending, not missed — it would be missed if judged at B's time in 2025); closed same day.
        ticket(
            a, "A1", "2024-05-06 09:00", replied_at="2024-05-06 10:00", closed_at="2024-05-08 09:00"
        ),
        ticket(a, "A2", "2024-05-18 09:00"),
        ticket(
            a, "A3", "2024-05-20 10:00", replied_at="2024-05-20 11:00", closed_at="2024-05-20 12:00"
        ),
        # B: open, due 2025-05-13, B's latest time 2025-05-07 12:00 (pending); closed same day.
        ticket(b, "B1", "2025-05-06 09:00"),
        ticket(
            b, "B2", "2025-05-07 09:00", replied_at="2025-05-07 10:00", closed_at="2025-05-07 12:00"
        ),
    ]
    tickets = ledger("tickets", rows)
    both = sl.portfolio_kpis({a: contracts[D001], b: later}, _reader(tickets))
    of_a = both.filter(pl.col("contract_id") == a).drop("contract_id")
    of_b = both.filter(pl.col("contract_id") == b).drop("contract_id")
    close_a, close_b = (
        figure(of_a, "2024-05", "close_ordinary_7d"),
        figure(of_b, "2025-05", "close_ordinary_7d"),
    )
    assert (close_a["numerator"], close_a["denominator"], close_a["pending"], close_a["value"]) == (
        2,
        2,
        1,
        1.0,
    )
    assert (close_b["numerator"], close_b["denominator"], close_b["pending"], close_b["value"]) == (
        1,
        1,
        1,
        1.0,
    )
    # 响应率: replied / received: A 2 of 3, B 1 of 2.
    assert figure(of_a, "2024-05", "response_rate")["value"] == pytest.approx(2 / 3)
    assert figure(of_b, "2025-05", "response_rate")["value"] == 0.5
    # Every service month is there (001 二: February – December), months without tickets too.
    assert of_a["period"].unique().sort().to_list() == [f"2024-{m:02d}" for m in range(2, 13)]
    assert figure(of_a, "2024-06", "tickets")["value"] == 0
    # Row for row what each contract alone gives.
    assert_frame_equal(
        of_a, sl.ticket_kpis(contracts[D001], tickets.filter(pl.col("contract_id") == a))
    )
    assert_frame_equal(of_b, sl.ticket_kpis(later, tickets.filter(pl.col("contract_id") == b)))


def test_portfolio_equals_each_contract_on_the_demo(demo_db):
    with db.connect(demo_db, read_only=True) as con:
        contracts = db.load_contracts(con)
        every = sl.portfolio_kpis(contracts, lambda ids, cols: db.read_tickets(con, ids, cols))
        for cid, contract in contracts.items():
            alone = sl.ticket_kpis(contract, db.ledger(con, "tickets", cid))
            assert_frame_equal(
                every.filter(pl.col("contract_id") == cid).drop("contract_id"), alone
            )
    assert every["contract_id"].n_unique() == 5


def test_kpis_command_reads_one_month_and_agrees(demo_db, capsys):
    # The last service month of 001 (December 2024) has tickets still open and not yet due: they
    # are pending only when judged at the contract's latest time, not the month's.
    with db.connect(demo_db, read_only=True) as con:
        contract = db.load_contract(con, D001)
        whole = sl.month_kpis(
            contract, db.ledger(con, "tickets", D001), db.ledger(con, "kpis", D001), "2024-12"
        )
    assert main(["kpis", D001, "--month", "2024-12", "--db", str(demo_db), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["metrics"] == whole
    close = next(m for m in whole if m["key"] == "close_ordinary_7d" and m["source"] == "tickets")
    assert close["pending"] > 0


def test_demo_data_scale_command_then_build(tmp_path, capsys):
    out = tmp_path / "scale"
    assert (
        main(
            [
                "demo-data",
                "--scale",
                "3_000",
                "--contracts",
                "4",
                "--years",
                "2",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    assert "3,000 simulated tickets of 4 synthetic contracts" in capsys.readouterr().out
    assert sorted(p.name for p in (out / "contracts").iterdir()) == [
        "beijing-enforcement-001-2021.yaml",
        "beijing-enforcement-001-2022.yaml",
        "haidian-dispatch-002-2021.yaml",
        "haidian-dispatch-002-2022.yaml",
    ]
    path = tmp_path / "scale.duckdb"
    args = [
        "build",
        "--db",
        str(path),
        "--contracts-dir",
        str(out / "contracts"),
        "--demo-dir",
        str(out),
    ]
    assert main(args) == 0
    with db.connect(path, read_only=True) as con:
        assert con.sql("SELECT count(*) FROM tickets").fetchall()[0][0] == 3_000
        files = con.sql("SELECT DISTINCT params_file FROM contracts").fetchall()
    assert all(f[0].endswith(".yaml") and "contracts" in f[0] for f in files)
    with pytest.raises(SystemExit) as refused:
        main(["demo-data", "--scale", "0"])
    assert refused.value.code == 2


def test_database_of_an_older_seatscore_asks_for_a_build(demo_db, tmp_path, capsys):
    import shutil

    old = tmp_path / "old.duckdb"
    shutil.copy(demo_db, old)
    with db.connect(old) as con:  # tickets as an older Seatscore wrote them: no contract_key
        con.execute("ALTER TABLE tickets DROP COLUMN contract_key")
    assert main(["kpis", D001, "--month", "2024-05", "--db", str(old)]) == 2
    assert "`seatscore build` updates it" in capsys.readouterr().err
