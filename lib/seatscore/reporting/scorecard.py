"""``reports/index.html``: a scorecard of every contract, month by month, linking the reports.

Per contract and month: score, payable, cost per seat-month, flags, and a sparkline of the score
(or, without a points sheet, of the payable fee) over the service period up to that month. A report
that failed to render is listed with its error. The page is self-contained: no script, inline SVG.
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
                "flags": ["本月未结束：报告数据截至生成之日"],
            }
        earlier = [
            {"version": v, "href": f"{month}/{cid}.v{v}.html"}
            for v in range(1, doc["version"])
            if (out_dir / month / f"{cid}.v{v}.html").exists()
        ]
        status = "已结账" if doc["status"] == "closed" else ""
        if doc["version"] > 1:
            status += "·更正"
        rows.append(
            {
                "month": month,
                "contract_id": cid,
                "title": contract.title_zh,
                "vendor": contract.vendor.name,
                "href": f"{month}/{cid}.html" if path.exists() and error is None else None,
                "score": f"{Decimal(doc['score']):.1f}" if doc["score"] is not None else "—",
                "payable": format_cny(_money(doc["payable_cny"])),
                "cost_per_seat": format_cny(_money(doc.get("cost_per_seat_month_payable_cny"))),
                "flags": doc["flags"],
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


def write_index(db_path: Path, out_dir: Path, results: list) -> Path:
    """Write ``out_dir/index.html`` for every report on disk and every failure in ``results``."""
    failures = {(r.job.contract_id, r.job.month): r.error for r in results if not r.ok}
    this_run = {(r.job.contract_id, r.job.month) for r in results}
    rows: list[dict] = []
    simulated = False
    with db.connect(db_path, read_only=True) as con:
        contracts = db.load_contracts(con)
        for cid, contract in contracts.items():
            docs = {
                r["month"]: {
                    **json.loads(r["document"]),
                    "status": r["status"],
                    "version": r["version"],
                }
                for r in closing.latest(con, cid).iter_rows(named=True)
            }
            rows += _rows(contract, docs, out_dir, failures, this_run)
        origins = _origins(con)
        for r in rows:
            r["origin"] = origins.get(r["contract_id"], "")
        simulated = any("模拟数据" in o for o in origins.values())
    listed = {(r["contract_id"], r["month"]) for r in rows}
    for (cid, month), error in failures.items():
        if (cid, month) not in listed:  # e.g. a month outside the service period
            contract = contracts.get(cid)
            rows.append(
                {
                    "month": month,
                    "contract_id": cid,
                    "title": contract.title_zh if contract else cid,
                    "vendor": contract.vendor.name if contract else "—",
                    "href": None,
                    "score": "—",
                    "payable": "—",
                    "cost_per_seat": "—",
                    "flags": [],
                    "trend": Markup(""),
                    "trend_label": "",
                    "error": error,
                    "status": "",
                    "earlier": [],
                }
            )
    rows.sort(key=lambda r: (r["month"], r["contract_id"]), reverse=True)
    by_month: dict[str, list[dict]] = {}
    for r in rows:
        by_month.setdefault(r["month"], []).append(r)
    env = jinja2.Environment(loader=jinja2.PackageLoader("seatscore", "templates"), autoescape=True)
    text = env.get_template("index.html.j2").render(
        by_month=by_month,
        simulated=simulated,
        comparison=(out_dir / "comparison.html").exists(),
        generated=dt.datetime.now(TIMEZONE).strftime("%Y-%m-%d %H:%M"),
        version=__version__,
    )
    target = out_dir / "index.html"
    atomic_write(target, text)
    return target
