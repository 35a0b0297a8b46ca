"""Rule kinds are a registry: one module per kind, found by name (seatscore.terms.rule_kinds).

A kind added as one module (its params model and its points function) is scored from a params
file with nothing else changed; without its points function the params file is refused at load.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from decimal import Decimal

import polars as pl
import pytest
import yaml

import seatscore.compute.rules as rules_package
from seatscore.core.errors import ContractFileError
from seatscore.terms import rule_kinds
from seatscore.terms.contract_files import load_contract

from helpers import run

KIND = "monthly_report_late"
MODULE = f"seatscore.compute.rules.{KIND}"
PARAMS = '''
from typing import Literal

import polars as pl

from seatscore.compute.rule_inputs import ITEM_SCHEMA
from seatscore.terms.fields import Points
from seatscore.terms.rule_kinds import RuleItem


class Params(RuleItem):
    """A monthly report handed in after the day the contract names: points per day late."""

    kind: Literal["monthly_report_late"]
    points: Points
    due_day: int
'''
POINTS = """

def points(inputs, item):
    # Test kind: every month's report was 2 days late (no ledger records hand-in dates yet).
    rows = [
        {"month": m, "item_id": item.item_id, "occurrences": 2, "points": item.points * 2,
         "detail_zh": f"月报晚于每月{item.due_day}日2天", "rows": []}
        for m in inputs.months
    ]
    return pl.DataFrame(rows, schema=ITEM_SCHEMA), []
"""


@pytest.fixture
def kind_module(tmp_path, monkeypatch):
    """Write the kind's module where the registry looks (a folder added to the rules package)."""
    folder = tmp_path / "kinds"
    folder.mkdir()
    monkeypatch.setattr(rules_package, "__path__", [*rules_package.__path__, str(folder)])

    def write(text: str) -> None:
        (folder / f"{KIND}.py").write_text(textwrap.dedent(text), encoding="utf-8")
        sys.modules.pop(MODULE, None)
        importlib.invalidate_caches()

    yield write
    sys.modules.pop(MODULE, None)
    monkeypatch.undo()
    rule_kinds.discover()


def params_with_new_item(tmp_path):
    # 004 (Karamay) with one more item on its logistics category (cap 10 points, 附件2 (三)).
    source = yaml.safe_load(open("params/contracts/karamay-grid-2024.yaml", encoding="utf-8"))
    source["assessment"]["value"]["items"].append(
        {
            "item_id": "report_late",
            "category": "logistics",
            "name_zh": "月报迟交",
            "kind": KIND,
            "points": "0.5",
            "due_day": 5,
            "unit_zh": "每天",
            "clause": "测试条款",
        }
    )
    path = tmp_path / "karamay-grid-2024.yaml"
    path.write_text(yaml.safe_dump(source, allow_unicode=True), encoding="utf-8")
    return path


def test_a_new_kind_in_one_module_is_scored_from_a_params_file(kind_module, tmp_path):
    kind_module(PARAMS + POINTS)
    contract = load_contract(params_with_new_item(tmp_path))
    item = contract.assessment.value.item("report_late")
    assert type(item).__module__ == MODULE and item.due_day == 5
    metrics = run(contract)
    lines = metrics.lines.filter(pl.col("rule_id") == "report_late")
    # Every month of 004's service period: 2 days late × 0.5 points = 1.0 point.
    assert lines.height == metrics.months.height
    assert set(lines["points"].to_list()) == {Decimal("1.00")}
    assert lines["quantity"][0] == 2 and lines["unit_zh"][0] == "每天"


def test_a_kind_without_its_points_function_is_refused_at_load(kind_module, tmp_path):
    kind_module(PARAMS)
    with pytest.raises(ContractFileError) as error:
        load_contract(params_with_new_item(tmp_path))
    message = str(error.value)
    assert "karamay-grid-2024.yaml" in message
    assert (
        f"item report_late: kind {KIND} has no points function "
        f"(define points(inputs, item) in {MODULE})"
    ) in message


def test_an_unknown_kind_names_the_kinds_there_are(tmp_path):
    path = params_with_new_item(tmp_path)  # no module written: the kind does not exist
    with pytest.raises(ContractFileError) as error:
        load_contract(path)
    message = str(error.value)
    assert f"unknown rule kind '{KIND}'" in message
    assert (
        "below_target, discretionary, linear, per_occurrence, repeat_reports, staffing_daily"
        in (message)
    )


def test_the_kinds_are_the_modules_of_the_rules_package():
    assert sorted(rule_kinds.kinds()) == [
        "below_target",
        "discretionary",
        "linear",
        "per_occurrence",
        "repeat_reports",
        "staffing_daily",
    ]
    assert all(k.points is not None for k in rule_kinds.kinds().values())
