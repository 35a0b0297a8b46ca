"""``reports/index.html``: the portfolio of contracts, linking every report.

First what needs attention across the contracts in service (the findings of each one's latest
month, :mod:`seatscore.compute.findings`), then one row per contract (status, score against its
termination line, payable, paid to date against the contract amount, targets met, open findings,
a sparkline of the score — or, without a points sheet, of the payable fee — and days to the end of
the service period), then each contract's months one click down. Every figure comes from the
stored statements (:mod:`seatscore.compute.closing`), the same the reports show. A report that
failed to render is listed with its error. The page is self-contained: no script, inline SVG.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import jinja2
from markupsafe import Markup

from seatscore import __version__
from seatscore.compute import closing
from seatscore.compute.findings import ENDING_DAYS, NEAR_LINE_POINTS, rank
from seatscore.core.config import TIMEZONE
from seatscore.core.files import atomic_write
from seatscore.core.money import format_cny
from seatscore.ledgers import store as db
from seatscore.terms.contracts import Contract
from seatscore.terms.periods import service_months


def sparkline(values: list[float | None], width: int = 120, height: int = 28) -> Markup:
    """An inline SVG polyline of ``values`` (None leaves a gap); the last point is marked."""
    known = [v for v in values if v is not None]
    if len(known) < 1:
        return Markup("")
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)

    def point(i: int, v: float) -> tuple[float, float]:
        return round(i * step, 1), round(height - 3 - (v - low) / span * (height - 6), 1)

    segments, current = [], []
    for i, v in enumerate(values):
        if v is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(point(i, v))
    if current:
        segments.append(current)
    lines = "".join(
        f'<polyline fill="none" stroke="#1d4ed8" stroke-width="1.5" points="{" ".join(f"{x},{y}" for x, y in seg)}"/>'
        for seg in segments
    )
    last_i = max(i for i, v in enumerate(values) if v is not None)
    x, y = point(last_i, values[last_i])
    dot = f'<circle cx="{x}" cy="{y}" r="2.5" fill="#dc2626"/>'
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="-3 0 {width + 6} {height}" role="img">{lines}{dot}</svg>'
    )


def _rows(
    contract: Contract,
    docs: dict[str, dict],
    out_dir: Path,
    failures: dict,
    this_run: set[tuple[str, str]] = frozenset(),
) -> list[dict]:
    """One row per month with a report (or a failure), from the stored statements
    (:mod:`seatscore.compute.closing`: the figures the report shows), the sparkline up to the month."""
    cid = contract.contract_id
    has_score = contract.assessment.value is not None
    series_key = "score" if has_score else "payable_cny"
    rows = []
    series: list[float | None] = []
    for month in service_months(contract.service_period)["month"].to_list():
        doc = docs.get(month)
        value = doc.get(series_key) if doc else None
        series.append(float(value) if value is not None else None)
        path = out_dir / month / f"{cid}.html"
        error = failures.get((cid, month))
        if not path.exists() and error is None:
            continue
        if doc is None and (cid, month) not in this_run:
            continue  # a report of a month not over, left from an earlier run: not a statement
        if doc is None:  # a month rendered before it ended (--open-month): not a statement yet
            doc = {
                "version": 1,
                "status": "open",
                "score": None,
                "payable_cny": None,
            }
        earlier = [
            {"version": v, "href": f"{month}/{cid}.v{v}.html"}
            for v in range(1, doc["version"])
            if (out_dir / month / f"{cid}.v{v}.html").exists()
        ]
        found = doc.get("findings", [])
        targets = [t for t in doc.get("targets", []) if t["met"] is not None]
        status = "已结账" if doc["status"] == "closed" else ""
        if doc["version"] > 1:
            status += "·更正"
        rows.append(
            {
                "month": month,
                "contract_id": cid,
                "title": contract.title_zh,
                "href": f"{month}/{cid}.html" if path.exists() and error is None else None,
                "score": f"{Decimal(doc['score']):.1f}" if doc["score"] is not None else "—",
                "payable": format_cny(_money(doc["payable_cny"])),
                "score_value": Decimal(doc["score"]) if doc["score"] is not None else None,
                "findings": found,
                "open_findings": sum(f["level"] != "info" for f in found),
                "attention": doc.get("attention"),
                "targets_met": sum(t["met"] for t in targets),
                "targets_judged": len(targets),
                "trend": sparkline(list(series)),
                "trend_label": "得分" if has_score else "应付",
                "error": error,
                "status": status,
                "earlier": earlier,
            }
        )
    return rows


def _money(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


def _origins(con) -> dict[str, str]:
    """Per contract, where its ledger rows come from, in Chinese: 模拟数据 (the demo ledgers),
    公开数据 (a public source's params, ``params/public``), 实际台账 (ledgers ingested for a
    contract); joined when several."""
    loads = db.query(
        con,
        "SELECT DISTINCT unnest(contract_ids) AS contract_id, source FROM loads "
        "WHERE replaced_by IS NULL",
    )
    public = set(
        db.query(
            con, "SELECT contract_id FROM contracts WHERE params_file LIKE '%params/public/%'"
        )["contract_id"]
    )
    found: dict[str, set[str]] = {}
    for r in loads.iter_rows(named=True):
        cid = r["contract_id"]
        if r["source"] == db.DEMO_SOURCE:
            label = "模拟数据"
        else:
            label = "公开数据" if cid in public else "实际台账"
        found.setdefault(cid, set()).add(label)
    order = ("实际台账", "公开数据", "模拟数据")
    return {cid: "、".join(o for o in order if o in labels) for cid, labels in found.items()}


STATUS_ZH = {"red": "严重", "amber": "关注", "green": "正常"}
"""The portfolio's status words (compute.findings.status)."""


def _portfolio_row(
    contract: Contract, months: list[dict], paid: Decimal | None, today: dt.date
) -> dict:
    """One contract's row of the portfolio, from its latest month with a statement."""
    latest = next((r for r in reversed(months) if r.get("attention")), None)
    lines = [t.threshold_points for t in contract.termination_triggers if t.threshold_points]
    amount = contract.amount_cny.value
    end = contract.service_period.end
    row = {
        "title": contract.title_zh,
        "buyer": contract.buyer.name,
        "vendor": contract.vendor.name,
        "anchor": contract.contract_id,
        "line": f"{max(lines).normalize():f}" if lines else None,
        "amount": format_cny(amount) if amount is not None else "未规定",
        "paid": format_cny(paid) if paid is not None else "未载入付款台账",
        "paid_share": f"{paid / amount:.0%}" if paid is not None and amount else "",
        "end": end.isoformat(),
        "days_left": (end - today).days,
        "reports": sum(1 for r in months if r["href"]),
    }
    if latest is None:
        return {**row, "status": None, "month": None}
    score = latest["score_value"]
    near = score is not None and lines and score - max(lines) <= NEAR_LINE_POINTS
    return {
        **row,
        "status": latest["attention"],
        "status_zh": STATUS_ZH[latest["attention"]],
        "month": latest["month"],
        "href": latest["href"],
        "score": latest["score"],
        "near_line": bool(near),
        "payable": latest["payable"],
        "targets": f"{latest['targets_met']}/{latest['targets_judged']}"
        if latest["targets_judged"]
        else "—",
        "open_findings": latest["open_findings"],
        "trend": latest["trend"],
        "trend_label": latest["trend_label"],
    }


AMBER_PER_CONTRACT = 3
"""The attention list shows every red finding and at most this many amber ones per contract (the
largest money first); the rest are counted and left to the report."""


def _attention(portfolio: list[dict], by_contract: dict[str, list[dict]]) -> tuple[list, list]:
    """The red and amber findings of the latest month of each contract still in service (or ended
    within :data:`seatscore.compute.findings.ENDING_DAYS` days), most serious first; and per
    contract, how many amber findings were left to its report."""
    out, more = [], []
    for p in portfolio:
        if not p.get("month") or p["days_left"] < -ENDING_DAYS:
            continue
        latest = next(r for r in by_contract[p["anchor"]] if r["month"] == p["month"])
        amber = [f for f in latest["findings"] if f["level"] == "amber"]
        shown = [f for f in latest["findings"] if f["level"] == "red"] + amber[:AMBER_PER_CONTRACT]
        out += [{**f, "title": p["title"], "month": p["month"], "href": p["href"]} for f in shown]
        if len(amber) > AMBER_PER_CONTRACT:
            more.append({**p, "more": len(amber) - AMBER_PER_CONTRACT})
    return sorted(out, key=rank), more


def _paid(con, contract_id: str, today: dt.date) -> Decimal | None:
    """Paid to date according to the payments ledger; None when no payment is recorded."""
    frame = db.ledger(con, "payments", contract_id)
    if frame.is_empty():
        return None
    return sum(
        (r["amount_cny"] for r in frame.iter_rows(named=True) if r["paid_on"] <= today),
        Decimal("0.00"),
    )


def write_index(db_path: Path, out_dir: Path, results: list, today: dt.date | None = None) -> Path:
    """Write ``out_dir/index.html``: what needs attention across every contract, the portfolio
    (one row per contract: status, score against its termination line, payable, paid to date,
    targets met, open findings, trend, days to the end of the service period) and, one click
    down, each contract's months with every report on disk and every failure in ``results``."""
    today = today or dt.datetime.now(TIMEZONE).date()
    failures = {(r.job.contract_id, r.job.month): r.error for r in results if not r.ok}
    this_run = {(r.job.contract_id, r.job.month) for r in results}
    by_contract: dict[str, list[dict]] = {}
    portfolio: list[dict] = []
    with db.connect(db_path, read_only=True) as con:
        contracts = db.load_contracts(con)
        origins = _origins(con)
        for cid, contract in contracts.items():
            docs = {
                r["month"]: {
                    **json.loads(r["document"]),
                    "status": r["status"],
                    "version": r["version"],
                }
                for r in closing.latest(con, cid).iter_rows(named=True)
            }
            months = _rows(contract, docs, out_dir, failures, this_run)
            by_contract[cid] = months
            row = _portfolio_row(contract, months, _paid(con, cid, today), today)
            portfolio.append({**row, "origin": origins.get(cid, "")})
    for (cid, month), error in failures.items():
        if not any(r["month"] == month for r in by_contract.get(cid, [])):
            by_contract.setdefault(cid, []).append(
                _failure_row(contracts.get(cid), cid, month, error)
            )
    rank = {"red": 0, "amber": 1, "green": 2, None: 3}
    # Contracts in service first, most serious first; ended ones after, the latest ended first.
    portfolio.sort(key=lambda p: (p["days_left"] < 0, rank[p["status"]], -p["days_left"]))
    attention, more = _attention(portfolio, by_contract)
    simulated = any("模拟数据" in p["origin"] for p in portfolio)
    env = jinja2.Environment(loader=jinja2.PackageLoader("seatscore", "templates"), autoescape=True)
    text = env.get_template("index.html.j2").render(
        portfolio=portfolio,
        attention=attention,
        more=more,
        months={
            cid: sorted(rows, key=lambda r: r["month"], reverse=True)
            for cid, rows in by_contract.items()
        },
        simulated=simulated,
        comparison=(out_dir / "comparison.html").exists(),
        today=today.isoformat(),
        generated=dt.datetime.now(TIMEZONE).strftime("%Y-%m-%d %H:%M"),
        version=__version__,
    )
    target = out_dir / "index.html"
    atomic_write(target, text)
    return target


def _failure_row(contract: Contract | None, cid: str, month: str, error: str) -> dict:
    """A month that failed to render and has no row (e.g. outside the service period)."""
    return {
        "month": month,
        "contract_id": cid,
        "title": contract.title_zh if contract else cid,
        "href": None,
        "score": "—",
        "payable": "—",
        "findings": [],
        "open_findings": 0,
        "attention": None,
        "trend": Markup(""),
        "trend_label": "",
        "error": error,
        "status": "",
        "earlier": [],
    }
