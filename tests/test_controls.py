"""The notebooks' parameter widgets: contracts by name, a contract's ended months, and each
choice written to the notebook's variable of the same name.

Contract facts (params/contracts/): karamay-grid-2024 serves 2024-09-20 – 2025-09-19 (一 (二));
shijingshan-hotline-2024 serves 2024-02-01 – 2024-12-31 (二).
"""

from __future__ import annotations

import datetime as dt

from seatscore.ledgers import store as db
from seatscore.reporting import controls

K = "karamay-grid-2024"
S = "shijingshan-hotline-2024"


def test_contracts_by_name_and_months_that_have_ended(tmp_path, contracts):
    path = tmp_path / "c.duckdb"
    db.build(path, contracts, demo_dir=None)
    labels = dict((cid, label) for label, cid in controls.contract_options(path))
    assert labels[K] == f"{contracts[K].title_zh}（{contracts[K].buyer.name}）"
    assert K not in labels[K]  # a person picks a name, not an id
    # On 2025-03-15 (Beijing) the months of 004's period that have ended are 2024-09 … 2025-02,
    # newest first; March 2025 is not over.
    months = controls.month_options(path, K, today=dt.date(2025, 3, 15))
    assert months[0] == ("2025年2月", "2025-02") and months[-1] == ("2024年9月", "2024-09")
    assert len(months) == 6


def test_each_choice_sets_the_notebooks_variable(tmp_path, contracts):
    path = tmp_path / "c.duckdb"
    db.build(path, contracts, demo_dir=None)
    names: dict = {"contract_id": K, "month": "2024-10", "grain": "week"}
    box = controls.parameters(
        path,
        names,
        contract_id=K,
        month="2024-10",
        grouping="week",
        groupings={"week": "按周", "day": "按日"},
        grouping_name="grain",
        today=dt.date(2025, 3, 15),
    )
    contract, month, grouping, note = box.children
    assert (contract.value, month.value, grouping.value) == (K, "2024-10", "week")
    grouping.value = "day"
    assert names["grain"] == "day" and "按日" in note.value
    # Another contract: its own months (石景山 ended 2024-12), the month kept where it exists.
    contract.value = S
    assert names["contract_id"] == S and month.value == "2024-10"
    assert contracts[S].title_zh in note.value  # the note names the choice in Chinese
    assert [v for _, v in month.options][:2] == ["2024-12", "2024-11"]
    month.value = "2024-12"
    assert names["month"] == "2024-12"
    # Several contracts: none chosen means every contract.
    names = {"contract_ids": []}
    [several, _hint, _note] = controls.parameters(path, names, contract_ids=[]).children
    several.value = (K, S)
    assert names["contract_ids"] == [K, S]
