"""A city's worth of simulated tickets: many contracts over several years, for measuring scale.

``seatscore demo-data --scale N`` writes, under ``data/scale/``:

- ``contracts/<contract_id>.yaml``: synthetic contracts, each a copy of one of the five real
  contracts (``params/contracts/``) re-tendered for another year: the same terms, targets and
  assessment, the service period moved by whole years. Their titles say 合成 (synthetic).
- ``tickets.parquet``: exactly N tickets in the canonical tickets ledger columns
  (:data:`seatscore.ledgers.kinds.TICKETS`), ordered by contract and receipt time.

Volumes: each contract draws a share of the N tickets proportional to its template's
``tickets_per_day`` (``params/demo.yaml``) times a lognormal size factor (σ 0.5: some buyers are
busier than others) times its days. Within a contract, days are weighted by the official calendar
(working day 1, weekend or holiday ``weekend_factor``) and a summer peak (+20 % in July, hot-weather
complaints about water, power and noise); hours follow the demo's hourly profile. Every other field
comes from the demo's own simulation of the template (:func:`seatscore.simulation.demo.simulate_tickets`),
without the free text and phone numbers, which a scale test does not need.

Deterministic: the same N, contracts, years and seed give the same frames.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import polars as pl
import yaml
from tqdm import tqdm  # the terminal bar: tqdm.auto warns in a kernel without ipywidgets

from seatscore.core import config
from seatscore.ledgers.kinds import TICKETS
from seatscore.simulation.demo import load_demo_params, simulate_ticket_details, simulate_tickets
from seatscore.terms.contracts import Contract
from seatscore.terms.periods import working_day

SCALE_DIR = config.DATA_DIR / "scale"
SYNTHETIC_MARK = "（合成）"
_SIZE_SIGMA = 0.5
_SUMMER_PEAK = 0.2
# Fields a scale run leaves empty: free text and personal data, and the instant-prompt flag (its
# simulation walks the repeated reports location by location, which is not what is measured).
_LEFT_EMPTY = {"summary", "caller_phone", "repeat_prompted"}


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def _add_years_to_month(month: str, years: int) -> str:
    year, mon = month.split("-")
    return f"{int(year) + years}-{mon}"


def retendered(template: Contract, contract_id: str, years: int, label: str) -> Contract:
    """``template`` moved by ``years`` whole years under a new id: the service period, signing
    dates and payment months move; every other term is the template's."""
    data = template.model_dump()
    data["contract_id"] = contract_id
    data["title_zh"] = f"{SYNTHETIC_MARK}{template.title_zh}（{label}）"
    period = data["service_period"]
    period["start"] = _add_years(period["start"], years)
    period["end"] = _add_years(period["end"], years)
    for signing in data["signing_dates"]:
        if signing["date"] is not None:
            signing["date"] = _add_years(signing["date"], years)
    for payment in data["payments"]:
        if payment["through"] is not None:
            payment["through"] = _add_years_to_month(payment["through"], years)
    return Contract.model_validate(data)


def synthetic_contracts(
    templates: dict[str, Contract], n_contracts: int = 200, first_year: int = 2021, years: int = 5
) -> dict[str, Contract]:
    """``n_contracts`` synthetic contracts: service lines that each re-tender one template (in
    turn) every year from ``first_year`` for ``years`` years. Ids are the template's id with its
    year replaced by the line number and the start year: ``haidian-hotline-007-2023``.

    Raises :class:`ValueError` when ``n_contracts`` or ``years`` is below 1.
    """
    if n_contracts < 1 or years < 1:
        raise ValueError("need at least one contract and one year")
    ids = sorted(templates)
    out: dict[str, Contract] = {}
    line = 0
    while len(out) < n_contracts:
        template = templates[ids[line % len(ids)]]
        base = re.sub(r"-\d{4}$", "", template.contract_id)
        for k in range(years):
            if len(out) == n_contracts:
                break
            year = first_year + k
            cid = f"{base}-{line + 1:03d}-{year}"
            shift = year - template.service_period.start.year
            out[cid] = retendered(template, cid, shift, f"第{line + 1}线 {year}年起")
        line += 1
    return out


def template_of(contract: Contract, templates: dict[str, Contract]) -> str:
    """The id of the real contract a synthetic one copies (by its id's stem)."""
    stem = re.sub(r"-\d{3}-\d{4}$", "", contract.contract_id)
    for tid in templates:
        if re.sub(r"-\d{4}$", "", tid) == stem:
            return tid
    raise KeyError(f"{contract.contract_id} copies none of {', '.join(sorted(templates))}")


def _day_weights(contract: Contract, weekend_factor: float) -> np.ndarray:
    period = contract.service_period
    days = [
        period.start + dt.timedelta(days=i) for i in range((period.end - period.start).days + 1)
    ]
    working = np.array([working_day(d)[0] for d in days])
    month = np.array([d.month for d in days])
    summer = 1 + _SUMMER_PEAK * np.cos((month - 7) * np.pi / 6).clip(0)
    return np.where(working, 1.0, weekend_factor) * summer


def simulate_scale_tickets(
    contracts: dict[str, Contract],
    templates: dict[str, Contract],
    n_tickets: int,
    seed: int = 1,
    progress: bool = False,
) -> pl.DataFrame:
    """Exactly ``n_tickets`` tickets spread over ``contracts`` (see the module text), in the
    tickets ledger's columns and dtypes, ordered by contract id and receipt time."""
    settings = load_demo_params()
    ids = sorted(contracts)
    rng = np.random.default_rng([seed, n_tickets])
    tmpl = [template_of(contracts[c], templates) for c in ids]
    days = np.array(
        [
            (contracts[c].service_period.end - contracts[c].service_period.start).days + 1
            for c in ids
        ]
    )
    size = rng.lognormal(0, _SIZE_SIGMA, len(ids))
    weight = np.array([settings[t]["tickets_per_day"] for t in tmpl]) * size * days
    per_contract = rng.multinomial(n_tickets, weight / weight.sum())
    frames = []
    for i, cid in enumerate(tqdm(ids, desc="模拟工单", unit="合同", disable=not progress)):
        template_settings = {
            k: v for k, v in settings[tmpl[i]].items() if k != "repeat_prompted_share"
        }
        contract_rng = np.random.default_rng([seed, n_tickets, i])
        w = _day_weights(contracts[cid], template_settings["weekend_factor"])
        counts = contract_rng.multinomial(per_contract[i], w / w.sum())
        tickets = simulate_tickets(contracts[cid], template_settings, contract_rng, counts)
        tickets = simulate_ticket_details(contracts[cid], template_settings, tickets, contract_rng)
        frames.append(tickets)
    out = pl.concat(frames, how="diagonal_relaxed")
    return TICKETS.conform(out.drop(_LEFT_EMPTY, strict=False))


def write_scale_data(
    n_tickets: int,
    out_dir: Path = SCALE_DIR,
    n_contracts: int = 200,
    first_year: int = 2021,
    years: int = 5,
    seed: int = 1,
    progress: bool = True,
    templates: dict[str, Contract] | None = None,
) -> tuple[list[Path], Path]:
    """Write the synthetic contracts and ``tickets.parquet`` under ``out_dir``.

    Earlier synthetic contract files there are removed first, so the folder holds one run.
    Returns the params files and the tickets file.
    """
    from seatscore.terms.contract_files import load_contracts

    templates = templates if templates is not None else load_contracts()
    contracts = synthetic_contracts(templates, n_contracts, first_year, years)
    params_dir = out_dir / "contracts"
    params_dir.mkdir(parents=True, exist_ok=True)
    for old in params_dir.glob("*.yaml"):
        old.unlink()
    written = []
    for cid, contract in contracts.items():
        path = params_dir / f"{cid}.yaml"
        doc = contract.model_dump(mode="json", exclude_defaults=False)
        path.write_text(
            "# Synthetic contract for scale tests (seatscore demo-data --scale): a real contract's "
            "terms, moved in time.\n"
            + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100),
            encoding="utf-8",
        )
        written.append(path)
    tickets = simulate_scale_tickets(contracts, templates, n_tickets, seed, progress)
    tickets_path = out_dir / TICKETS.file_name.replace(".csv", ".parquet")
    tickets.write_parquet(tickets_path, statistics=True, row_group_size=122_880)
    return written, tickets_path
