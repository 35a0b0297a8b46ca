"""Drafting params from a contract's text: the five seeds, and noisy copies of one."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from seatscore.cli import main
from seatscore.core import config
from seatscore.terms.drafting import NOT_FOUND, capital_to_decimal, compare, draft, normalize

SEEDS = Path(config.ROOT).parent / "shared" / "seeds"
SEED_IDS = {
    "000_55e0b5755a2a5f32.txt": "haidian-dispatch-2026",
    "001_746b521541bc22ab.txt": "shijingshan-hotline-2024",
    "002_76c5cb0a20d11a4c.txt": "beijing-enforcement-2025",
    "003_d459192bc9152959.txt": "karamay-grid-2024",
    "004_6ff55634f16d0cfa.txt": "haidian-hotline-2022",
}
needs_seeds = pytest.mark.skipif(
    not SEEDS.is_dir(), reason="../shared/seeds is not beside the checkout"
)


def seed_text(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8", errors="replace")


def confirmed(contract_id: str) -> dict:
    return yaml.safe_load(
        (config.CONTRACTS_DIR / f"{contract_id}.yaml").read_text(encoding="utf-8")
    )


@needs_seeds
@pytest.mark.parametrize("seed", sorted(SEED_IDS))
def test_draft_agrees_with_the_confirmed_params(seed):
    # Parties, amount, service period, headcount, payment amounts and signing dates.
    doc = draft(seed_text(seed), seed)
    assert compare(doc, confirmed(SEED_IDS[seed])) == []
    assert doc["amount_cny"]["check"] == "agrees"  # figures and capital numerals agree in all five


@needs_seeds
def test_003_signing_dates_are_flagged():
    doc = draft(seed_text("003_d459192bc9152959.txt"))
    assert doc["signing_dates_disagree"] is True
    assert {s["date"] for s in doc["signing_dates"]} == {"2024-09-20", "2024-12-20"}


@needs_seeds
def test_values_carry_clause_and_text():
    doc = draft(seed_text("000_55e0b5755a2a5f32.txt"))
    assert doc["amount_cny"]["clause"] == "四 2"
    assert "壹佰捌拾陆万玖仟肆佰元整" in doc["amount_cny"]["text"]
    assert doc["service_period"]["clause"] == "七 1"
    assert [p["share"] for p in doc["payments"]] == ["0.40", "0.40", "0.20"]
    assert doc["payments_check"] == "adds up to the amount"
    assert any("连续两个月" in t["text"] and "80" in t["text"] for t in doc["termination_triggers"])
    assert any("每少0.1分" in f["text"] for f in doc["fee_formula"])


@needs_seeds
def test_unstated_headcount_is_not_found():
    doc = draft(seed_text("002_76c5cb0a20d11a4c.txt"))
    assert doc["minimum_headcount"] == NOT_FOUND
    assert f"minimum_headcount: {NOT_FOUND}" in doc["not_found"]


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@needs_seeds
def test_noisy_text_still_gives_amount_and_period():
    text = seed_text("000_55e0b5755a2a5f32.txt")
    text = text.translate(FULL_WIDTH)  # full-width digits
    text = text.replace("１８６９４００元", "１８６９\n４００元")  # a line break inside the amount
    text = text.replace(  # a page header in the middle of the service-period clause
        "６ 月 １７ 日 ０ 时起，",
        "６ 月 １７ 日 ０ 时起，\n— ７ —\n第 ７ 页 共 １２ 页\n",
    )
    doc = draft(text)
    assert doc["amount_cny"]["value"] == "1869400.00" and doc["amount_cny"]["check"] == "agrees"
    assert (doc["service_period"]["start"], doc["service_period"]["end"]) == (
        "2026-06-17",
        "2027-06-16",
    )
    assert "— ７ —" not in doc["service_period"]["text"]


@needs_seeds
def test_mangled_amount_is_reported_not_guessed():
    text = seed_text("003_d459192bc9152959.txt")
    text = text.replace("2020000 元（大写：人民币贰佰零贰万元整）", "（金额见附表）")
    doc = draft(text)
    assert doc["amount_cny"] == NOT_FOUND
    assert f"amount_cny: {NOT_FOUND}" in doc["not_found"]


def test_figures_and_words_that_disagree_are_flagged():
    doc = draft(
        "甲方：某某市政务服务中心\n乙方：某某服务有限公司\n一、合同金额：¥1869401元（大写：壹佰捌拾陆万玖仟肆佰元整）"
    )
    assert doc["amount_cny"]["check"] == "disagrees"
    assert (doc["amount_cny"]["value"], doc["amount_cny"]["in_words_value"]) == (
        "1869401.00",
        "1869400.00",
    )


def test_capital_numerals():
    # 002 五 2: 壹佰壹拾壹万柒仟叁佰伍拾肆元玖角贰分 = 1,117,354.92
    assert capital_to_decimal("壹佰壹拾壹万柒仟叁佰伍拾肆", "玖", "贰") == Decimal("1117354.92")
    assert capital_to_decimal("陆佰陆拾玖万伍仟伍佰陆拾捌") == Decimal("6695568.00")


def test_normalize():
    assert normalize("金额：１，８６９，\n４００元") == "金额：1869400元"
    assert "第 3 页" not in normalize("服务期限\n第 3 页 共 9 页\n自 2024 年")


@needs_seeds
def test_cli_draft_and_diff(tmp_path, capsys):
    out = tmp_path / "draft.yaml"
    assert (
        main(["contracts", "draft", str(SEEDS / "003_d459192bc9152959.txt"), "-o", str(out)]) == 0
    )
    assert "signing dates disagree" in capsys.readouterr().err
    same = config.CONTRACTS_DIR / "karamay-grid-2024.yaml"
    other = config.CONTRACTS_DIR / "haidian-hotline-2022.yaml"
    assert main(["contracts", "diff", str(out), str(same)]) == 0
    assert main(["contracts", "diff", str(out), str(other)]) == 1
    assert "amount_cny: draft '2020000.00' ≠ confirmed '6695568.00'" in capsys.readouterr().out
