"""Statements as of their month: a month's figures use only what was known by its end.

Contract facts: 000 (haidian-dispatch-2026) serves 2026-06-17 – 2027-06-16 (七 1); its payments
(四 3) are 首付款 747,760.00 settling June 2026, 中期款 747,760.00 settling through December 2026,
尾款 373,880.00 at the end; 附件二 第三章 二: 1,000 CNY a point.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from seatscore.compute.metrics import metrics_as_of
from seatscore.compute.payments import payment_schedule
from seatscore.compute.statement import statement_as_of
from seatscore.ledgers.kinds import read_ledger
from seatscore.simulation.demo import write_demo_data

from conftest import FIRST_MONTHS
from helpers import ledger, ticket

HAIDIAN = "haidian-dispatch-2026"


def ledgers(**frames: pl.DataFrame) -> dict[str, pl.DataFrame]:
    kinds = ("staffing", "roster", "deductions", "penalties", "tickets", "payments")
    return {k: frames.get(k, ledger(k)) for k in kinds}


def test_a_later_deduction_does_not_reach_an_earlier_month(contracts):
    # Dress code 0.1 × 5 on 2026-07-03 (附件二 第四章 二 3): July loses 0.5 points, 500 CNY;
    # June's statement, made at the end of June, knows nothing of it and its trend ends in June.
    c = contracts[HAIDIAN]
    events = ledger(
        "deductions",
        [
            {
                "contract_id": HAIDIAN,
                "event_date": dt.date(2026, 7, 3),
                "item_id": "dress_code",
                "occurrences": 5,
            }
        ],
    )
    june = statement_as_of(c, ledgers(deductions=events), "2026-06", today=dt.date(2026, 11, 30))
    july = statement_as_of(c, ledgers(deductions=events), "2026-07", today=dt.date(2026, 11, 30))
    assert (june["score"], june["fee_deduction_cny"], june["as_of"]) == (
        "100.0",
        "0.00",
        "2026-06-30",
    )
    assert (july["score"], july["fee_deduction_cny"]) == ("99.5", "500.00")
    assert june["month_open"] is False
    metrics = metrics_as_of(c, ledgers(deductions=events), "2026-06")
    assert metrics.months["month"].to_list() == ["2026-06"]
    assert metrics.triggers["month"].unique().to_list() == ["2026-06"]


def test_a_ticket_closed_next_month_is_open_at_the_months_end(contracts):
    # A ticket received 2026-06-30 23:00, dispatched 2026-07-01 00:30 and closed 07-02: at the
    # end of June it is counted in June but has been neither dispatched nor closed yet.
    c = contracts[HAIDIAN]
    t = ledger(
        "tickets",
        [
            ticket(
                HAIDIAN,
                "T1",
                "2026-06-30 23:00",
                dispatched_at="2026-07-01 00:30",
                closed_at="2026-07-02 09:00",
            )
        ],
    )
    june = metrics_as_of(c, ledgers(tickets=t), "2026-06")
    assert june.months["tickets"].to_list() == [1]
    from seatscore.ledgers.kinds import as_of

    cut = as_of("tickets", t, dt.date(2026, 6, 30)).row(0, named=True)
    assert cut["dispatched_at"] is None and cut["closed_at"] is None


def test_an_open_month_is_flagged_with_its_cutoff(contracts):
    c = contracts[HAIDIAN]
    doc = statement_as_of(c, ledgers(), "2026-11", today=dt.date(2026, 11, 20))
    assert (doc["as_of"], doc["month_open"]) == ("2026-11-20", True)


def test_payment_status_at_the_end_of_each_month(contracts):
    # 四 3: 首付款 within a month of signing. The payments ledger records it paid on 2026-07-10.
    # At the end of June it settles June and is due (待付); at the end of July it is paid (已付);
    # 中期款 settles through December: expected (预计) in both. Later months are projected at
    # their nominal fees, nothing deducted in advance.
    c = contracts[HAIDIAN]
    paid = ledger(
        "payments",
        [
            {
                "contract_id": HAIDIAN,
                "paid_on": dt.date(2026, 7, 10),
                "amount_cny": Decimal("747760.00"),
                "milestone": "首付款",
                "voucher_no": "V1",
            }
        ],
    )
    for month, first in (("2026-06", "待付"), ("2026-07", "已付")):
        metrics = metrics_as_of(c, ledgers(payments=paid), month)
        from seatscore.ledgers.kinds import as_of

        cut = as_of("payments", paid, metrics.months["last_day"][-1])
        schedule = payment_schedule(c, metrics.period, [], month, cut)
        assert schedule["status"].to_list() == [first, "预计", "预计"], month
        assert schedule["absorbed_cny"].to_list()[1:] == [Decimal("0.00"), Decimal("0.00")]
    assert schedule["recorded_cny"][0] == Decimal("747760.00")
    assert schedule["paid_on"][0] == dt.date(2026, 7, 10)


def test_demo_as_of_a_date_is_a_prefix(contracts, tmp_path):
    # The demo simulated as of 2026-08-31 has nothing after that day, and is the same as the
    # whole simulation cut at that day (same seed).
    one = {HAIDIAN: contracts[HAIDIAN]}
    write_demo_data(one, seed=2, out_dir=tmp_path / "cut", as_of=dt.date(2026, 8, 31))
    write_demo_data(one, seed=2, out_dir=tmp_path / "whole")
    cut = read_ledger(tmp_path / "cut" / HAIDIAN / "tickets.csv", "tickets")
    whole = read_ledger(tmp_path / "whole" / HAIDIAN / "tickets.csv", "tickets")
    end = dt.datetime(2026, 9, 1)
    assert cut["received_at"].max() < end
    assert all(v is None or v < end for v in cut["closed_at"].to_list())
    assert cut.height == whole.filter(pl.col("received_at") < end).height
    roster = read_ledger(tmp_path / "cut" / HAIDIAN / "roster.csv", "roster")
    assert roster["service_date"].max() == dt.date(2026, 8, 31)


def test_first_month_report_shows_no_later_month(rendered):
    # 000's June 2026 report, rendered from data that run to 2027: no later month in its trend
    # or tables; the payment table shows the payment due (首付款) and the next one (中期款, whose
    # terms name December 2026), not the 尾款 of 2027.
    out, results = rendered
    month = FIRST_MONTHS[HAIDIAN][0]
    assert results[(HAIDIAN, month)].ok
    page = (out / month / f"{HAIDIAN}.html").read_text(encoding="utf-8")
    later = ["2026年7月", "2026年8月", "2027年6月", "尾款"]
    assert not [m for m in later if m in page]
    assert "数据截至 2026-06-30" in page


def test_index_and_report_show_the_same_stored_figures(rendered, demo_db):
    # One source: the index row and the report of each first month show the stored statement's
    # payable and score.
    import json as _json

    from seatscore.compute import closing
    from seatscore.core.money import format_cny
    from seatscore.ledgers import store as db

    out, _ = rendered
    index = (out / "index.html").read_text(encoding="utf-8")
    with db.connect(demo_db, read_only=True) as con:
        for cid, (month, _fee, _buyer) in FIRST_MONTHS.items():
            doc = _json.loads(
                closing.latest(con, cid).filter(pl.col("month") == month)["document"][0]
            )
            payable = format_cny(Decimal(doc["payable_cny"]))
            page = (out / month / f"{cid}.html").read_text(encoding="utf-8")
            assert payable in page and payable in index, (cid, payable)
            if doc["score"] is not None:
                assert f"{Decimal(doc['score']):.1f}" in index
            # The demo ledgers, said per contract, named as the contract names itself.
            title = db.load_contract(con, cid).title_zh
            assert title in index and "· 模拟数据" in index
