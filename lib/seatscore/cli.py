"""The ``seatscore`` command: ``demo-data``, ``build``, ``render``, ``rules``, ``score``, ``kpis``
and ``contracts draft`` / ``contracts diff``.

Exit status: 0 on success, 1 when any report failed to render, 2 for bad input (the message says
what was wrong and what to do).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from seatscore import __version__, config
from seatscore.errors import SeatscoreError


def _demo_data(args: argparse.Namespace) -> int:
    from seatscore.contracts import load_contracts

    if args.scale is not None:
        from seatscore.scale import SCALE_DIR, write_scale_data

        out = args.out or SCALE_DIR
        started = time.monotonic()
        params, tickets = write_scale_data(
            args.scale,
            out,
            n_contracts=args.contracts,
            first_year=args.first_year,
            years=args.years,
            seed=args.seed,
            progress=not args.quiet,
        )
        print(
            f"wrote {args.scale:,} simulated tickets of {len(params)} synthetic contracts to "
            f"{tickets} and their params to {params[0].parent} "
            f"(seed {args.seed}, {time.monotonic() - started:.1f} s)\n"
            f"load them: seatscore build --db data/scale.duckdb --contracts-dir {params[0].parent} "
            f"--demo-dir {out}"
        )
        return 0
    from seatscore.demo import write_demo_data

    out = args.out or config.DEMO_DIR
    paths = write_demo_data(load_contracts(), seed=args.seed, out_dir=out)
    print(f"wrote {len(paths)} simulated ledger files to {out} (seed {args.seed})")
    return 0


def _positive(text: str) -> int:
    value = int(text.replace("_", "").replace(",", ""))
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be at least 1")
    return value


def _build(args: argparse.Namespace) -> int:
    from seatscore import db
    from seatscore.contracts import load_contracts

    counts = db.build(
        args.db,
        load_contracts(args.contracts_dir),
        demo_dir=None if args.no_demo else args.demo_dir,
        contracts_dir=args.contracts_dir,
    )
    print(f"built {args.db}: " + ", ".join(f"{table} {n:,}" for table, n in counts.items()))
    return 0


def _render(args: argparse.Namespace) -> int:
    from seatscore import render

    if not Path(args.db).exists():
        raise SeatscoreError(f"{args.db}: no database; run `seatscore build` first")
    jobs = render.plan_jobs(Path(args.db), args.month, args.contract)
    if not jobs:
        print("nothing to render: no contract has that month in its service period")
        return 0
    started = time.monotonic()
    results = render.render_all(
        jobs, Path(args.db), args.out, progress=not args.quiet, workers=args.workers
    )
    print(render.summarise(results))
    print(f"index: {args.out / 'index.html'} ({time.monotonic() - started:.0f} s)")
    return 0 if all(r.ok for r in results) else 1


def _rules(args: argparse.Namespace) -> int:
    from seatscore.contracts import get_contract
    from seatscore.statement import rule_catalogue

    contract = get_contract(args.contract)
    rules = rule_catalogue(contract)
    if args.json:
        print(
            json.dumps(
                {"contract_id": contract.contract_id, "rules": rules}, ensure_ascii=False, indent=2
            )
        )
        return 0
    print(f"{contract.contract_id} {contract.title_zh}: {len(rules)} rules")
    for r in rules:
        size = r.get("points") or r.get("amount_cny") or _range(r) or "—"
        unit = "分" if "points" in r or "points_min" in r else "元"
        cap = (
            f" [{r['category']} ≤ {r['category_cap']}]"
            if r.get("category_cap")
            else (f" [{r['category']}]" if r.get("category") else "")
        )
        open_ = f" (未规定: {r['not_stated']})" if r.get("not_stated") else ""
        print(
            f"  {r['rule_id']:<34} {r['kind']:<18} {size} {unit}/{r.get('unit_zh', '')}{cap}  {r['clause']}  {r['name_zh']}{open_}"
        )
    return 0


def _range(rule: dict) -> str | None:
    for low, high in (("points_min", "points_max"), ("amount_min_cny", "amount_max_cny")):
        if low in rule or high in rule:
            return f"{rule.get(low, '?')}–{rule.get(high, '?')}"
    if "share_of_amount" in rule:
        return f"合同金额×{rule['share_of_amount']}"
    return None


def _check_month_and_db(args: argparse.Namespace) -> None:
    from seatscore.periods import parse_month

    parse_month(args.month)
    if not Path(args.db).exists():
        raise SeatscoreError(f"{args.db}: no database; run `seatscore build` first")


def _score(args: argparse.Namespace) -> int:
    from seatscore import db
    from seatscore.metrics import monthly_metrics
    from seatscore.statement import month_statement

    _check_month_and_db(args)
    with db.connect(args.db, read_only=True) as con:
        contract = db.load_contract(con, args.contract)
        metrics = monthly_metrics(contract, **db.ledgers(con, args.contract))
    try:
        doc = month_statement(contract, metrics, args.month)
    except KeyError as exc:
        raise SeatscoreError(f"{args.contract}: {exc.args[0]}") from exc
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    print(f"{doc['contract_id']} {doc['month']}")
    print(f"  score {doc['score'] or '—'} (points lost {doc['points_lost'] or '—'})")
    print(
        f"  nominal fee {doc['fee_nominal_cny']}  fee deduction {doc['fee_deduction_cny']}  "
        f"penalties {doc['penalties_cny']}  payable {doc['payable_cny']}"
    )
    for line in doc["lines"]:
        size = (
            f"{line['points']} 分"
            if line["points"] is not None
            else f"{line['amount_cny'] or '未评估'} 元"
        )
        rows = ", ".join(f"{r['file']}:{r['row']}" for r in line["rows"][:3])
        more = f" … +{len(line['rows']) - 3}" if len(line["rows"]) > 3 else ""
        print(
            f"  - {line['rule_id']} ×{line['quantity']} = {size}  ({line['clause']})  {rows}{more}"
        )
    for flag in doc["flags"]:
        print(f"  ! {flag}")
    return 0


def _contracts_draft(args: argparse.Namespace) -> int:
    import yaml

    from seatscore.drafting import draft

    try:
        text = args.file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = args.file.read_text(encoding="gb18030")
    doc = draft(text, source=args.file.name)
    dumped = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
    header = f"# Draft params drafted from {args.file.name} by `seatscore contracts draft`.\n# Confirm every value against the contract before use.\n"
    if args.output is None:
        print(header + dumped)
    else:
        from seatscore.files import atomic_write

        atomic_write(args.output, header + dumped)
        print(f"wrote {args.output}; {len(doc['not_found'])} field(s) to confirm by hand")
    for line in doc["not_found"]:
        print(f"  - {line}", file=sys.stderr)
    if isinstance(doc["amount_cny"], dict) and doc["amount_cny"]["check"] == "disagrees":
        print("  ! the amount in figures and in words disagree", file=sys.stderr)
    if doc["signing_dates_disagree"]:
        print("  ! the signing dates disagree", file=sys.stderr)
    return 0


def _kpis(args: argparse.Namespace) -> int:
    from seatscore import db
    from seatscore.service_levels import month_kpis

    _check_month_and_db(args)
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


def _contracts_diff(args: argparse.Namespace) -> int:
    import yaml

    from seatscore.drafting import compare

    drafted = yaml.safe_load(args.draft.read_text(encoding="utf-8"))
    confirmed = yaml.safe_load(args.confirmed.read_text(encoding="utf-8"))
    differences = compare(drafted, confirmed)
    for line in differences:
        print(line)
    if not differences:
        print(
            "the draft agrees with the confirmed file on parties, amount, service period, headcount, payments and signing dates"
        )
    return 1 if differences else 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="seatscore",
        description="Monthly scores, money and reports for outsourced citizen-hotline contracts.",
    )
    top.add_argument("--version", action="version", version=f"seatscore {__version__}")
    sub = top.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo-data", help="write deterministic simulated ledgers to data/demo/")
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    demo.add_argument(
        "--out", type=Path, default=None, help="output folder (default data/demo, data/scale)"
    )
    demo.add_argument(
        "--scale",
        type=_positive,
        metavar="N",
        help="instead: N tickets over many synthetic contracts and years, to data/scale/",
    )
    demo.add_argument(
        "--contracts", type=_positive, default=200, help="with --scale: contracts (default 200)"
    )
    demo.add_argument(
        "--years", type=_positive, default=5, help="with --scale: years of tenders (default 5)"
    )
    demo.add_argument(
        "--first-year", type=int, default=2021, help="with --scale: first year (default 2021)"
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(run=_demo_data)

    build = sub.add_parser("build", help="load contracts and ledgers into DuckDB")
    build.add_argument("--db", type=Path, default=config.DEFAULT_DB, help="database path")
    build.add_argument("--no-demo", action="store_true", help="contracts only, no demo ledgers")
    build.add_argument(
        "--demo-dir",
        type=Path,
        default=config.DEMO_DIR,
        help="folder of simulated ledgers (default data/demo)",
    )
    build.add_argument(
        "--contracts-dir",
        type=Path,
        default=config.CONTRACTS_DIR,
        help="folder of contract params files (default params/contracts)",
    )
    build.set_defaults(run=_build)

    rend = sub.add_parser("render", help="render HTML reports with papermill")
    rend.add_argument("--db", type=Path, default=config.DEFAULT_DB, help="database path")
    rend.add_argument(
        "--month",
        default=None,
        help="YYYY-MM, 'all' (every service month), or 'last' (previous month, Beijing time); "
        "default: each contract's latest month with data",
    )
    rend.add_argument("--contract", nargs="+", metavar="ID", help="contract ids (default: all)")
    rend.add_argument("--out", type=Path, default=config.REPORTS_DIR, help="reports folder")
    rend.add_argument("--quiet", action="store_true", help="no progress bar")
    rend.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="reports rendered at once, each in its own process (default: one per core)",
    )
    rend.set_defaults(run=_render)

    rules = sub.add_parser("rules", help="print a contract's rule catalogue with clauses")
    rules.add_argument("contract", metavar="CONTRACT", help="contract id")
    rules.add_argument("--json", action="store_true", help="JSON instead of text")
    rules.set_defaults(run=_rules)

    score = sub.add_parser("score", help="print one month's assessment, deductions and penalties")
    score.add_argument("contract", metavar="CONTRACT", help="contract id")
    score.add_argument("--month", required=True, help="YYYY-MM")
    score.add_argument("--db", type=Path, default=config.DEFAULT_DB, help="database path")
    score.add_argument("--json", action="store_true", help="JSON instead of text")
    score.set_defaults(run=_score)

    kpis = sub.add_parser(
        "kpis", help="print one month's service-level figures: value, target, tickets, source"
    )
    kpis.add_argument("contract", metavar="CONTRACT", help="contract id")
    kpis.add_argument("--month", required=True, help="YYYY-MM")
    kpis.add_argument("--db", type=Path, default=config.DEFAULT_DB, help="database path")
    kpis.add_argument("--json", action="store_true", help="JSON instead of text")
    kpis.set_defaults(run=_kpis)

    contracts = sub.add_parser("contracts", help="draft and compare contract params files")
    contracts_sub = contracts.add_subparsers(dest="contracts_command", required=True)
    drafting = contracts_sub.add_parser("draft", help="draft a params file from a contract's text")
    drafting.add_argument(
        "file", type=Path, metavar="FILE.txt", help="the contract as text (UTF-8 or GB18030)"
    )
    drafting.add_argument(
        "-o", "--output", type=Path, help="write the draft here (default: print it)"
    )
    drafting.set_defaults(run=_contracts_draft)
    diff = contracts_sub.add_parser("diff", help="where a draft and a confirmed params file differ")
    diff.add_argument("draft", type=Path, metavar="DRAFT.yaml")
    diff.add_argument("confirmed", type=Path, metavar="CONFIRMED.yaml")
    diff.set_defaults(run=_contracts_diff)
    return top


def main(argv: list[str] | None = None) -> int:
    import duckdb

    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (SeatscoreError, OSError, ValueError) as exc:
        print(f"seatscore {args.command}: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(
            f"seatscore {args.command}: the database could not answer: {exc}\n"
            "If it was built by an older Seatscore, run `seatscore build` again.",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
