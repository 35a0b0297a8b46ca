"""`seatscore kpis`: one month's service-level figures."""

from __future__ import annotations

import argparse
import json

from seatscore.cli.common import (
    add_contract,
    add_db,
    add_json,
    add_month,
    check_month_and_db,
)
from seatscore.core.errors import SeatscoreError


def _kpis(args: argparse.Namespace) -> int:
    from seatscore.compute.service_levels import month_kpis
    from seatscore.ledgers import store as db

    check_month_and_db(args)
    with db.connect(args.db, read_only=True) as con:
        contract = db.load_contract(con, args.contract)
        # Only the month's tickets (the zone maps skip the rest) and the contract's as-of time.
        tickets = db.read_tickets(con, [args.contract], month=args.month)
        as_of = db.tickets_as_of(con, args.contract)
        kpi_ledger = db.ledger(con, "kpis", args.contract)
    try:
        figures = month_kpis(contract, tickets, kpi_ledger, args.month, as_of)
    except KeyError as exc:
        raise SeatscoreError(f"{args.contract}: {exc.args[0]}") from exc
    if args.json:
        doc = {"contract_id": args.contract, "month": args.month, "metrics": figures}
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    print(f"{args.contract} {args.month}")
    for f in figures:
        print("  " + _kpi_line(f))
    return 0


def _kpi_line(f: dict) -> str:
    value = f["value"]
    if value is None:
        shown = "—"
    elif f["unit"] == "share":
        shown = f"{value:.4f}"
    elif f["unit"] == "count":
        shown = f"{value:,.0f}"
    else:
        shown = f"{value:.1f} {f['unit']}"
    target = f" target ≥ {f['target_share']:.2f}" if f["target_share"] is not None else ""
    verdict = {True: " met", False: " MISSED", None: ""}[f["met_target"]]
    basis = f" ({f['numerator']}/{f['tickets']})" if f["numerator"] is not None else ""
    if f["numerator"] is None and f["tickets"] is not None and f["unit"] != "count":
        basis = f" (n={f['tickets']})"
    note = f"  [{f['note']}]" if f["note"] and value is None else ""
    return (
        f"{f['key']:<30} {f['source']:<7} {shown:>10}{basis}{target}{verdict}  {f['name_zh']}{note}"
    )


def register(sub: argparse._SubParsersAction) -> None:
    kpis = sub.add_parser(
        "kpis", help="print one month's service-level figures: value, target, tickets, source"
    )
    add_contract(kpis)
    add_month(kpis)
    add_db(kpis)
    add_json(kpis)
    kpis.set_defaults(run=_kpis)
