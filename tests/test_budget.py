"""The payment calendar (`seatscore budget`), quarter by quarter from the contracts' payment
clauses, with no ledger (nothing deducted) unless a test adds one.

000 四 2–3 (1,869,400.00): 首付款 40 % 747,760.00 settles June 2026 and is paid "合同签订后一个月内"
(by 2026-07-11) → 2026-Q3; 中期款 40 % 747,760.00 settles through December 2026, paid "服务满七个月后"
(after 2027-01-16) → 2027-Q1; 尾款 20 % 373,880.00 "服务期满后" (after 2027-06-16) → 2027-Q3.
004 九 (6,695,568.00): four periods of 1,641,000.00 and a final payment of at most 131,568.00. The
first is paid "双方签订合同后", and the signing date is blank (首部), so it is placed in the first
service month, 2022-04 → 2022-Q2; the others take off the previous quarter's deductions and fall
in the month after it: 2022-07, 2022-10, 2023-01 and, after the service ends on 2023-03-31, 2023-04.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from seatscore.cli import main
from seatscore.compute.budget import fiscal_years, payment_calendar

from helpers import ledger, run

D000, D004 = "haidian-dispatch-2026", "haidian-hotline-2022"


def calendar(contract, payments=None):
    metrics = run(contract)
    paid = payments if payments is not None else ledger("payments")
    return payment_calendar(contract, metrics.months, paid)


def money(text: str) -> Decimal:
    return Decimal(text)


def test_000_quarter_by_quarter_adds_up_to_the_contract_amount(contracts):
    quarters = calendar(contracts[D000])
    assert quarters.select("quarter", "due_cny").rows() == [
        ("2026-Q3", money("747760.00")),
        ("2027-Q1", money("747760.00")),
        ("2027-Q3", money("373880.00")),
    ]
    assert sum(quarters["due_cny"]) == contracts[D000].amount_cny.value == money("1869400.00")
    assert set(quarters["deducted_cny"]) == {Decimal("0.00")}  # no ledger: nothing deducted


def test_004_quarter_by_quarter_with_a_blank_signing_date(contracts):
    quarters = calendar(contracts[D004])
    assert quarters.select("quarter", "due_cny").rows() == [
        ("2022-Q2", money("1641000.00")),
        ("2022-Q3", money("1641000.00")),
        ("2022-Q4", money("1641000.00")),
        ("2023-Q1", money("1641000.00")),
        ("2023-Q2", money("131568.00")),
    ]
    assert sum(quarters["due_cny"]) == contracts[D004].amount_cny.value == money("6695568.00")
    years = fiscal_years(quarters)
    # 2022: three periods, 4,923,000.00; 2023: the fourth and the final payment, 1,772,568.00.
    assert years.select("fiscal_year", "due_cny").rows() == [
        ("2022", money("4923000.00")),
        ("2023", money("1772568.00")),
    ]


def test_a_payment_on_record_is_paid_in_its_quarter(contracts):
    # 000's 首付款 paid in full on 2026-07-10: 2026-Q3 has nothing remaining.
    paid = ledger(
        "payments",
        [
            {
                "contract_id": D000,
                "paid_on": dt.date(2026, 7, 10),
                "amount_cny": Decimal("747760.00"),
            }
        ],
    )
    q3 = calendar(contracts[D000], paid).row(0, named=True)
    assert (q3["quarter"], q3["paid_cny"], q3["remaining_cny"]) == (
        "2026-Q3",
        money("747760.00"),
        money("0.00"),
    )


def test_budget_json_gives_quarters_and_fiscal_years_as_two_decimal_strings(empty_db, capsys):
    assert main(["budget", "--db", str(empty_db), "--json", "--fiscal-year", "2027"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["quarters"] == [
        {
            "contract_id": D000,
            "quarter": "2027-Q1",
            "due_cny": "747760.00",
            "paid_cny": "0.00",
            "deducted_cny": "0.00",
            "at_risk_cny": "0.00",
            "remaining_cny": "747760.00",
        },
        {
            "contract_id": D000,
            "quarter": "2027-Q3",
            "due_cny": "373880.00",
            "paid_cny": "0.00",
            "deducted_cny": "0.00",
            "at_risk_cny": "0.00",
            "remaining_cny": "373880.00",
        },
    ]
    assert doc["fiscal_years"][0]["due_cny"] == "1121640.00"
    # 001 states neither the amount nor the month of its monthly payments: not placed, and said.
    assert {u["contract_id"] for u in doc["unplaced"]} == {"shijingshan-hotline-2024"}
