"""A public source states how its records are read: which channels are calls, its time zone,
and that it is a sample (params/public/nyc311-sample.yaml: NYC 311, PHONE the calls, US Eastern,
1,000 requests of a few hours).

The Erlang C figure checked here is the published example the workload test uses (1,000 calls an
hour × 120 s = 33.33 Erlangs → 40 agents at 80 % in 20 s).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from pydantic import ValidationError

from seatscore.compute import workload
from seatscore.terms.contract_files import load_contract
from seatscore.terms.contracts import DataSource

from helpers import ledger, published_erlang_settings, ticket

ROOT = Path(__file__).resolve().parents[1]
NYC = "nyc311-sample"
MONDAYS = (1, 8, 15, 22, 29)


def nyc():
    return load_contract(ROOT / "params" / "public" / "nyc311-sample.yaml")


def test_the_sources_own_call_channels_choose_the_calls():
    # Each Monday of April 2024 (1, 8, 15, 22, 29), 10:00–10:29: 500 PHONE requests, and 300
    # ONLINE ones that are not calls. params/analysis.yaml names Chinese channels (热线电话 …):
    # with them no NYC request would count; the source's own [PHONE] counts the 2,500 calls,
    # 1,000 an hour on a Monday at 10:00.
    rows = [
        ticket(NYC, f"P{d}-{i}", f"2024-04-{d:02d} 10:{i % 30:02d}", channel="PHONE")
        for d in MONDAYS
        for i in range(500)
    ]
    rows += [
        ticket(NYC, f"O{d}-{i}", f"2024-04-{d:02d} 10:{i % 30:02d}", channel="ONLINE")
        for d in MONDAYS
        for i in range(300)
    ]
    settings = published_erlang_settings(call_channels=["热线电话"])
    result = workload.staffing_adequacy(nyc(), ledger("tickets", rows), "2024-04", settings)
    assert (result.calls, result.tickets_left_out) == (2500, 1500)
    assert "只计来电渠道（PHONE）的工单" in result.basis_zh
    cell = result.intervals.filter(
        pl.col("weekday") == 1, pl.col("hour") == 10, pl.col("minute") == 0
    ).row(0, named=True)
    assert (cell["calls_per_hour"], cell["seats_needed"]) == (1000, 40)


def test_a_source_states_a_real_time_zone_and_only_a_public_source_has_one():
    source = nyc().data_source
    assert source.timezone == "America/New_York" and source.call_channels == ["PHONE"]
    assert "不是整月" in source.sample.covers_zh
    with pytest.raises(ValidationError, match="not an IANA time zone"):
        DataSource(timezone="Eastern")
    terms = nyc().model_dump()
    terms["kind"] = "contract"
    with pytest.raises(ValidationError, match="set kind: public_source"):
        type(nyc()).model_validate(terms)
