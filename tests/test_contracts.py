"""The five params files validate, hold their seeds' terms, and bad files fail clearly."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from seatscore.core import config
from seatscore.core.errors import ContractFileError
from seatscore.terms.contract_files import load_contract

SEEDS = Path(config.ROOT).parent / "shared" / "seeds"


def test_five_contracts(contracts):
    assert sorted(contracts) == [
        "beijing-enforcement-2025",
        "haidian-dispatch-2026",
        "haidian-hotline-2022",
        "karamay-grid-2024",
        "shijingshan-hotline-2024",
    ]


def test_terms_from_domain_table(contracts):
    c = contracts["haidian-dispatch-2026"]
    assert c.amount_cny.value == Decimal("1869400.00") and c.amount_cny.clause == "四 2"
    assert (str(c.service_period.start), str(c.service_period.end)) == ("2026-06-17", "2027-06-16")
    assert c.minimum_headcount.value == 16
    assert c.fee_formula.cny_per_point == Decimal("1000.00")  # 100 CNY per 0.1 point
    k = contracts["karamay-grid-2024"]
    caps = {cat.category_id: cat.cap_points for cat in k.assessment.value.categories}
    assert caps["staffing"] == 20 and caps["seat"] == 40 and caps["ticket_quality"] == 30
    assert [p.min_headcount.value for p in k.posts] == [3, 4, 17]
    assert len(k.signing_dates) == 2 and k.signing_dates[0].date != k.signing_dates[1].date
    assert contracts["haidian-hotline-2022"].minimum_headcount.value == 48
    assert contracts["shijingshan-hotline-2024"].minimum_headcount.value == 12


def test_unstated_terms_stay_unstated(contracts):
    c = contracts["beijing-enforcement-2025"]
    assert c.minimum_headcount.value is None and c.minimum_headcount.note
    assert c.staffing_penalties[0].rate_cny.value is None  # 四 3 names no rate
    k = contracts["karamay-grid-2024"].assessment.value
    assert k.item("callback_rate_below_target").target_share.value is None
    assert k.item("content_quality_below_target").target_share.value is None
    assert k.item("dispatch_accuracy_below_target").target_share.value == Decimal("0.98")


def test_payments_add_up(contracts):
    # 002 五 2: 1,117,354.92 + 744,903.28 + 169,241.80 = 2,031,500.00
    c = contracts["beijing-enforcement-2025"]
    assert sum(p.amount_cny for p in c.payments) == Decimal("2031500.00")
    # 004 九: four quarters of 1,641,000 and at most 131,568
    d = contracts["haidian-hotline-2022"]
    assert sum(p.amount_cny for p in d.payments) == Decimal("6695568.00")


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside the checkout")
def test_000_catalogue_covers_every_point_value_in_the_seed(contracts):
    # Every "扣 X 分" of 附件二 第四章 appears as an item with those points.
    text = (SEEDS / "000_55e0b5755a2a5f32.txt").read_text(encoding="utf-8", errors="ignore")
    chapter = text[text.index("第四章 评分细则") :]
    in_seed = {Decimal(x) for x in re.findall(r"扣\s*([0-9.]+)\s*分", chapter)}
    items = contracts["haidian-dispatch-2026"].assessment.value.items
    in_params = {i.points for i in items if i.points is not None}
    assert in_seed <= in_params
    assert len(items) >= 30


def test_no_personal_or_bank_data_in_params():
    for path in sorted(config.CONTRACTS_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\d{11,}", text), f"{path.name}: a long digit run (account or phone?)"
        assert not re.search(r"\(010\)|010-\d", text), f"{path.name}: a phone number"
        for word in ("账号", "开户", "纳税人识别号", "法定代表人"):
            assert word not in text, f"{path.name}: {word}"


def _broken_copy(tmp_path: Path, edit) -> Path:
    source = config.CONTRACTS_DIR / "karamay-grid-2024.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    edit(data)
    target = tmp_path / "karamay-grid-2024.yaml"
    target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def test_typo_names_file_and_field(tmp_path):
    def typo(d):
        d["amount_cny"]["valeu"] = d["amount_cny"].pop("value")

    path = _broken_copy(tmp_path, typo)
    with pytest.raises(ContractFileError) as err:
        load_contract(path)
    assert "karamay-grid-2024.yaml" in str(err.value)
    assert "amount_cny.value" in str(err.value) and "amount_cny.valeu" in str(err.value)


def test_missing_field_names_file_and_field(tmp_path):
    path = _broken_copy(tmp_path, lambda d: d.pop("service_period"))
    with pytest.raises(
        ContractFileError,
        match=r"karamay-grid-2024\.yaml.*\n.*field service_period: Field required",
    ):
        load_contract(path)


def test_null_without_note_is_rejected(tmp_path):
    def unexplained(d):
        d["minimum_headcount"] = {"value": None}

    with pytest.raises(ContractFileError, match=r"minimum_headcount.*note"):
        load_contract(_broken_copy(tmp_path, unexplained))


def test_unknown_service_level_metric_is_rejected(tmp_path):
    def typo(d):
        d["service_level_targets"][1]["metric"] = "dispatch_acuracy"

    with pytest.raises(
        ContractFileError, match=r"dispatch_accuracy: unknown metric 'dispatch_acuracy'; use one of"
    ):
        load_contract(_broken_copy(tmp_path, typo))


def test_payments_that_do_not_add_up_are_rejected(tmp_path):
    source = config.CONTRACTS_DIR / "beijing-enforcement-2025.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["payments"][0]["amount_cny"] = "1117354.93"
    path = tmp_path / "beijing-enforcement-2025.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContractFileError, match=r"payments add up to 2031500\.01"):
        load_contract(path)


def test_file_name_must_match_id(tmp_path):
    target = tmp_path / "other-name.yaml"
    shutil.copy(config.CONTRACTS_DIR / "karamay-grid-2024.yaml", target)
    with pytest.raises(ContractFileError, match="contract_id is 'karamay-grid-2024'"):
        load_contract(target)


def test_rules_knows_the_public_sources_as_kpis_does(capsys):
    # params/public/sf311-call-centre.yaml is a source, not a contract: no rule, and said so.
    import json

    from seatscore.cli import main

    assert main(["rules", "sf311-call-centre", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == {"contract_id": "sf311-call-centre", "rules": []}
    assert main(["rules", "no-such-source"]) == 2
    assert "sf311-call-centre, tipdm-messages" in capsys.readouterr().err
