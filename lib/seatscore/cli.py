"""The ``seatscore`` command: ``demo-data``, ``build``, ``render``, ``rules``, ``score``, ``kpis``
and ``contracts draft`` / ``contracts diff``.

Exit status: 0 done, 1 when rows were rejected or a report failed (the rest done), 2 when nothing
was written (the message says what was wrong and what to do), 130 when interrupted. ``--debug``
prints the traceback of an error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

from seatscore import __version__
from seatscore.core import config
from seatscore.core.errors import SeatscoreError


def _demo_data(args: argparse.Namespace) -> int:
    from seatscore.terms.contract_files import load_contracts

    if args.scale is not None:
        from seatscore.simulation.scale import SCALE_DIR, write_scale_data

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
    from seatscore.simulation.demo import write_demo_data

    out = args.out or config.DEMO_DIR
    as_of = args.as_of or _today()
    paths = write_demo_data(load_contracts(), seed=args.seed, out_dir=out, as_of=as_of)
    print(
        f"wrote {len(paths)} simulated ledger files to {out} (seed {args.seed}, "
        f"as of {as_of.isoformat()})"
    )
    return 0


def _today():
    import datetime as dt

    return dt.datetime.now(config.TIMEZONE).date()


def _day(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from exc


MAX_CONTRACT_TEXT_BYTES = 5 * 1024 * 1024
"""The largest contract text `contracts draft` reads."""


def _positive(text: str) -> int:
    value = int(text.replace("_", "").replace(",", ""))
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be at least 1")
    return value


def _build(args: argparse.Namespace) -> int:
    from seatscore.ledgers import store as db
    from seatscore.terms.contract_files import load_contracts

    if args.check:
        if not Path(args.db).exists():
            print(f"{args.db}: no database yet; run `seatscore build`")
            return 1
        with db.connect(args.db, read_only=True) as con:
            reasons = db.rebuild_reasons(
                con, load_contracts(args.contracts_dir), args.contracts_dir
            )
        if not reasons:
            print(f"{args.db} is current: no need to run `seatscore build` again")
            return 0
        print(f"run `seatscore build` again: {args.db} was built by another Seatscore or params:")
        for reason in reasons:
            print(f"  - {reason}")
        return 1
    counts = db.build(
        args.db,
        load_contracts(args.contracts_dir),
        demo_dir=None if args.no_demo else args.demo_dir,
        contracts_dir=args.contracts_dir,
    )
    print(f"built {args.db}: " + ", ".join(f"{table} {n:,}" for table, n in counts.items()))
    return 0


def _render(args: argparse.Namespace) -> int:
    from seatscore.batch import render

    if not Path(args.db).exists():
        raise SeatscoreError(f"{args.db}: no database; run `seatscore build` first")
    if args.comparison:
        started = time.monotonic()
        result = render.render_comparison(
            Path(args.db),
            args.out,
            args.benchmarks,
            args.price_index,
            args.base_year,
            args.scenario,
        )
        if not result.ok:
            print(f"comparison failed: {result.error} (notebook kept beside the target)")
            return 1
        print(f"comparison: {result.path} ({time.monotonic() - started:.0f} s)")
        return 0
    jobs = render.plan_jobs(Path(args.db), args.month, args.contract, args.open_month)
    if not jobs:
        print(
            "nothing to render: no contract has that month in its service period, or the month "
            "has not ended (Beijing time; --open-month renders it anyway)",
            file=sys.stderr,
        )
        return 2
    started = time.monotonic()
    command = f"render --month {args.month or 'latest'}"
    command += f" --contract {' '.join(args.contract)}" if args.contract else ""
    command += " --force" if args.force else ""

    def stop(signum, frame):  # SIGTERM (systemd, kill) stops like Ctrl-C
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        results = render.render_all(
            jobs,
            Path(args.db),
            args.out,
            progress=not args.quiet,
            workers=args.workers,
            force=args.force,
        )
    except render.RenderInterrupted as stopped:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # finish the record, then go
        render.append_run_log(
            args.out, command + " (interrupted)", stopped.results, time.monotonic() - started
        )
        print(render.summarise(stopped.results))
        print(
            f"render: interrupted after {len(stopped.results)} of {len(jobs)} report(s); the "
            "manifest, the index and reports/render.log record them; run again to render the rest",
            file=sys.stderr,
        )
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    render.append_run_log(args.out, command, results, time.monotonic() - started)
    print(render.summarise(results))
    print(f"index: {args.out / 'index.html'} ({time.monotonic() - started:.0f} s)")
    return 0 if all(r.ok for r in results) else 1


def _compare(args: argparse.Namespace) -> int:
    from seatscore.compute import comparison
    from seatscore.ledgers import store as db

    if not Path(args.db).exists():
        raise SeatscoreError(f"{args.db}: no database; run `seatscore build` first")
    index = comparison.read_price_index(args.price_index) if args.price_index else None
    if args.base_year and index is None:
        raise SeatscoreError("--base-year needs --price-index FILE.csv")
    table = comparison.load_comparison(args.db, args.contract, index, args.base_year)
    market = comparison.read_benchmarks(args.benchmarks) if args.benchmarks else None
    with db.connect(args.db, read_only=True) as con:
        contracts = db.load_contracts(con)
        what_if = _what_if(con, args.scenario, contracts) if args.scenario else None
    structure = comparison.cost_structure([contracts[c] for c in table["contract_id"]])
    prices = comparison.prices_zh(index, args.base_year)
    if args.json:
        document = {
            "prices": "nominal" if index is None else f"CNY of {args.base_year or max(index)}",
            "prices_zh": prices,
            "contracts": _records(table, split="not_assessable"),
            "cost_structure": _records(structure),
        }
        if market is not None:
            document["benchmarks"] = _records(market)
        if what_if is not None:
            document["scenario"] = {
                "scenario_id": what_if.scenario.scenario_id,
                "name_zh": what_if.scenario.name_zh,
                "costs": _records(what_if.costs),
                "adequacy": _records(what_if.adequacy),
                "basis_zh": what_if.basis_zh,
            }
        print(json.dumps(document, ensure_ascii=False, indent=2, default=str))
        return 0
    print(_compare_text(table, structure, market, what_if, prices))
    return 0


def _what_if(con, scenario_path: Path, contracts: dict):
    from seatscore.compute import scenarios
    from seatscore.compute.service_levels import load_analysis_settings
    from seatscore.core.errors import UnknownContract
    from seatscore.ledgers import store as db

    scenario = scenarios.load_scenario(scenario_path)
    if scenario.contract not in contracts:
        raise UnknownContract(
            f"{scenario_path}: contract {scenario.contract!r} is not in the database; "
            f"known contracts: {', '.join(sorted(contracts))}"
        )
    tickets = db.read_tickets(con, [scenario.contract], ["received_at"])
    settings = load_analysis_settings().staffing_adequacy
    return scenarios.what_if(contracts[scenario.contract], scenario, tickets, settings)


def _records(frame, split: str | None = None) -> list[dict]:
    """Rows as JSON-ready dicts: Decimal and dates as strings (exact), ``split`` column's
    ``key: reason`` lines as a mapping."""
    rows = []
    for row in frame.iter_rows(named=True):
        if split is not None:
            text = row[split] or ""
            row[split] = dict(line.split(": ", 1) for line in text.splitlines() if line)
        rows.append(
            {
                k: (
                    str(v)
                    if v is not None and not isinstance(v, (int, float, bool, str, dict))
                    else v
                )
                for k, v in row.items()
            }
        )
    return rows


def _compare_text(table, structure, market, what_if, prices: str) -> str:
    import polars as pl

    from seatscore.compute.comparison import LABELS_ZH
    from seatscore.core.money import format_cny

    lines = [f"供应商成本对比（{prices}）", ""]
    for r in table.iter_rows(named=True):
        lines.append(
            f"{r['contract_id']}  {r['vendor_zh']}  {r['service_start']}—{r['service_end']}  "
            f"{r['service_months'].normalize()} 个月  {format_cny(r['amount_cny'])}"
        )
        bound = "" if r["cover_complete"] else "（上限：部分岗位未计）"
        seats = r["minimum_headcount"]
        figures = [
            (
                f"每座席·月（最低 {seats} 人）" if seats else "每座席·月",
                r["cost_per_seat_month_cny"],
                "",
            ),
            ("每覆盖座席小时", r["cost_per_covered_seat_hour_cny"], bound),
            (
                f"每实到人·天（{r['staffed_seat_days']:,} 人·天）",
                r["cost_per_staffed_seat_day_cny"],
                "",
            ),
            (f"每受理工单（{r['tickets_handled']:,} 张）", r["cost_per_ticket_handled_cny"], ""),
            (f"每办结工单（{r['tickets_resolved']:,} 张）", r["cost_per_ticket_resolved_cny"], ""),
            (
                "考核扣回",
                r["recovered_cny"],
                f"（名义 {format_cny(r['nominal_cny'])} 的 {r['recovered_share']:.2%}"
                + ("；有未能评估的规则，应付可能更低）" if not r["payable_complete"] else "）")
                if r["recovered_share"] is not None
                else "",
            ),
            (
                "质量调整每座席·月",
                r["quality_adjusted_cost_per_seat_month_cny"],
                f"（平均 {r['mean_score']} 分）" if r["mean_score"] is not None else "",
            ),
        ]
        for label, value, note in figures:
            lines.append(f"  {label}: {format_cny(value)}{note}")
        for line in (r["not_assessable"] or "").splitlines():
            key, reason = line.split(": ", 1)
            lines.append(f"  — {LABELS_ZH.get(key, key)} 无法计算：{reason}")
        lines.append("")
    if structure.height:
        lines.append("成本构成（合同列明者）")
        for r in structure.iter_rows(named=True):
            lines.append(
                f"  {r['contract_id']}  {r['name_zh']}（{r['clause']}）: {format_cny(r['amount_cny'])} "
                f"= {r['share']:.2%}，每座席·月 {format_cny(r['per_seat_month_cny'])}"
            )
        lines.append("")
    if market is not None:
        lines.append("市场参照（其他公开采购）")
        for r in market.iter_rows(named=True):
            if r["comparable"]:
                lines.append(
                    f"  第{r['row']}行 {r['city']} {r['date_or_period']}: {r['amount_basis_zh']} "
                    f"{format_cny(r['amount_cny'])} / {r['term_months']} 个月 → 每座席·月 "
                    f"{format_cny(r['cost_per_seat_month_cny'])}，每人·月 "
                    f"{format_cny(r['cost_per_staff_month_cny'])}"
                )
            else:
                lines.append(f"  第{r['row']}行 {r['city']}: 不可比：{r['reason_zh']}")
        lines.append("")
    if what_if is not None:
        lines.append(f"下期招标情景：{what_if.scenario.name_zh}（假设，非合同条款）")
        for r in what_if.costs.iter_rows(named=True):
            bound = "" if r["cover_complete"] else "（上限）"
            lines.append(
                f"  {r['case_zh']}: 总价 {format_cny(r['amount_cny'])}，每覆盖座席小时 "
                f"{format_cny(r['cost_per_covered_seat_hour_cny'])}{bound}，每座席·月 "
                f"{format_cny(r['cost_per_seat_month_cny'])}"
            )
        short = what_if.adequacy.group_by("case_zh", maintain_order=True).agg(
            pl.col("hours_short").max(), pl.col("short_seat_hours_week").max()
        )
        for r in short.iter_rows(named=True):
            if r["hours_short"] is None:
                lines.append(f"  {r['case_zh']}: 未规定人数，无法比较 Erlang C 需求")
            else:
                lines.append(
                    f"  {r['case_zh']}: 近十二个月最多每周 {r['hours_short']} 个小时在岗座席不足，"
                    f"缺口最多 {r['short_seat_hours_week']:.1f} 座席小时/周"
                )
        lines.append(f"  {what_if.basis_zh}")
    return "\n".join(lines).rstrip()


def _deliver(args: argparse.Namespace) -> int:
    from seatscore.batch.deliver import deliver
    from seatscore.terms.periods import parse_month

    parse_month(args.month)
    done = deliver(args.recipients, args.month, Path(args.db), args.out, dry_run=args.dry_run)
    verbs = {"sent": "sent", "already": "already delivered, not sent again:", "failed": "NOT SENT"}
    for d in done:
        verb = "would send" if args.dry_run and d.status == "sent" else verbs[d.status]
        line = f"{verb} {d.recipient.email}: {len(d.attached)} report(s) {' '.join(d.attached)}"
        if d.missing:
            line += f"; not rendered: {' '.join(d.missing)}"
        if d.error:
            line += f" ({d.error}; run deliver again to retry)"
        print(line)
    return 1 if any(d.missing or d.status == "failed" for d in done) else 0


def _rules(args: argparse.Namespace) -> int:
    from seatscore.compute.statement import rule_catalogue
    from seatscore.terms.contract_files import get_contract

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
    from seatscore.terms.periods import parse_month

    parse_month(args.month)
    if not Path(args.db).exists():
        raise SeatscoreError(f"{args.db}: no database; run `seatscore build` first")


def _score(args: argparse.Namespace) -> int:
    from seatscore.compute import closing
    from seatscore.compute.statement import statement_as_of
    from seatscore.ledgers import store as db

    _check_month_and_db(args)
    with db.connect(args.db) as con:
        contract = db.load_contract(con, args.contract)
        ledgers = db.ledgers(con, args.contract)
        closing.refresh(con, contract, ledgers)
        doc = closing.stored(con, args.contract, args.month)
    if doc is None:  # a month not yet over (not stored): computed as of today
        try:
            doc = statement_as_of(contract, ledgers, args.month)
        except KeyError as exc:
            raise SeatscoreError(f"{args.contract}: {exc.args[0]}") from exc
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    print(f"{doc['contract_id']} {doc['month']}")
    print(f"  score {doc['score'] or '—'} (points lost {doc['points_lost'] or '—'})")
    print(
        f"  nominal fee {doc['fee_nominal_cny'] or '— (amount not stated)'}  "
        f"fee deduction {doc['fee_deduction_cny']}  "
        f"penalties {doc['penalties_cny']}  payable {doc['payable_cny'] or '—'}"
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

    from seatscore.terms.drafting import draft

    size = args.file.stat().st_size
    if size > MAX_CONTRACT_TEXT_BYTES:
        raise SeatscoreError(
            f"{args.file}: {size:,} bytes; a contract's text is at most "
            f"{MAX_CONTRACT_TEXT_BYTES:,} (the five seeds are under 100 KB): is this the contract?"
        )
    data = args.file.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise SeatscoreError(
                f"{args.file}: neither UTF-8 nor GB18030 text; convert the contract to text first"
            ) from exc
    doc = draft(text, source=args.file.name)
    dumped = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
    header = f"# Draft params drafted from {args.file.name} by `seatscore contracts draft`.\n# Confirm every value against the contract before use.\n"
    if args.output is None:
        print(header + dumped)
    else:
        from seatscore.core.files import atomic_write

        atomic_write(args.output, header + dumped)
        print(f"wrote {args.output}; {len(doc['not_found'])} field(s) to confirm by hand")
    for line in doc["not_found"]:
        print(f"  - {line}", file=sys.stderr)
    if isinstance(doc["amount_cny"], dict) and doc["amount_cny"]["check"] == "disagrees":
        print("  ! the amount in figures and in words disagree", file=sys.stderr)
    if doc["signing_dates_disagree"]:
        print("  ! the signing dates disagree", file=sys.stderr)
    return 0


def _close(args: argparse.Namespace) -> int:
    from seatscore.compute import closing
    from seatscore.ledgers import store as db

    _check_month_and_db(args)
    with db.connect(args.db) as con:
        contract = db.load_contract(con, args.contract)
        doc = closing.close(con, contract, db.ledgers(con, args.contract), args.month)
    print(
        f"{args.contract} {args.month} closed: score {doc['score'] or '—'}, payable "
        f"{doc['payable_cny'] or '—'}; later findings for it will be settled in the first open month"
    )
    return 0


def _statements(args: argparse.Namespace) -> int:
    from seatscore.compute import closing
    from seatscore.ledgers import store as db

    if not Path(args.db).exists():
        raise SeatscoreError(f"{args.db}: no database; run `seatscore build` first")
    with db.connect(args.db) as con:
        contract = db.load_contract(con, args.contract)
        closing.refresh(con, contract, db.ledgers(con, args.contract))
        rows = closing.listing(con, args.contract)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"{args.contract}: {len(rows)} month(s)")
    for r in rows:
        print(
            f"  {r['month']}  {r['status']:<6} v{r['version']}  score {r['score'] or '—':>5}  "
            f"payable {r['payable_cny'] or '—':>12}  adjustments {r['adjustments_cny']:>10}"
            + (f"  closed {r['closed_at']}" if r["closed_at"] else "")
        )
    return 0


def _kpis(args: argparse.Namespace) -> int:
    from seatscore.compute.service_levels import month_kpis
    from seatscore.ledgers import store as db

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
    from seatscore.core.files import read_yaml_document
    from seatscore.terms.drafting import compare

    drafted = read_yaml_document(args.draft, SeatscoreError)
    confirmed = read_yaml_document(args.confirmed, SeatscoreError)
    for path, doc in ((args.draft, drafted), (args.confirmed, confirmed)):
        if not isinstance(doc, dict):
            raise SeatscoreError(f"{path}: expected a mapping of contract terms at the top level")
    try:
        differences = compare(drafted, confirmed)
    except (KeyError, TypeError, AttributeError) as exc:
        raise SeatscoreError(
            f"{args.draft} or {args.confirmed}: a key the comparison needs is missing or not "
            f"of its form ({exc}); `seatscore contracts draft` writes every key a draft has"
        ) from exc
    for line in differences:
        print(line)
    if not differences:
        print(
            "the draft agrees with the confirmed file on parties, amount, service period, headcount, payments and signing dates"
        )
    return 1 if differences else 0


def _comparison_inputs(
    command: argparse.ArgumentParser,
    scenario_default: Path | None = config.EXAMPLE_SCENARIO,
) -> None:
    command.add_argument(
        "--benchmarks",
        type=Path,
        metavar="FILE.csv",
        help="other published purchases to place beside",
    )
    command.add_argument(
        "--price-index",
        type=Path,
        metavar="FILE.csv",
        help="CSV year,index: money in CNY of one year",
    )
    command.add_argument(
        "--base-year", type=int, help="with --price-index: the year of CNY (default its latest)"
    )
    command.add_argument(
        "--scenario",
        type=Path,
        default=scenario_default,
        metavar="FILE.yaml",
        help="what-if for the next tender (params/scenarios/)",
    )


def _lab(args: argparse.Namespace) -> int:
    """JupyterLab from this environment, in notebooks/: its python3 kernel is this
    environment's interpreter, so the notebooks import this Seatscore. Does not return."""
    import os

    if not config.DEFAULT_DB.exists():
        print(f"note: {config.DEFAULT_DB} does not exist yet; `make build` writes the demo data")
    command = [sys.executable, "-m", "jupyter", "lab", *args.lab_args]
    os.chdir(config.NOTEBOOKS_DIR)
    os.execv(command[0], command)
    return 0  # not reached


def _ingest(args: argparse.Namespace) -> int:
    """Load ledger files; print what happened to each sheet and the totals. Exit 1 when any row
    was rejected (the good rows are loaded), 2 when a file could not be ingested (nothing was)."""
    from seatscore.ledgers.ingest import ingest

    results = ingest(
        args.files,
        db_path=args.db,
        kind=args.kind,
        contract_id=args.contract,
        profile_path=args.profile,
        sheet=args.sheet,
        quarantine_dir=args.quarantine_dir,
        replaces=args.replaces,
    )
    for result in results:
        print("\n".join(result.lines()))
    read = sum(r.rows_read for r in results if r.status != "unchanged")
    loaded = sum(r.loaded for r in results)
    rejected = sum(r.rejected for r in results)
    reasons = sum((r.reasons for r in results), Counter())
    by_reason = ", ".join(f"{code} {n:,}" for code, n in sorted(reasons.items()))
    print(
        f"total: {read:,} row(s) read, {loaded:,} loaded, "
        f"{sum(r.already for r in results):,} already in the database, {rejected:,} rejected"
        + (f" ({by_reason})" if by_reason else "")
        + f", {sum(r.status == 'unchanged' for r in results)} file(s) unchanged"
    )
    return 1 if rejected else 0


def _loads(args: argparse.Namespace) -> int:
    """List the loads: what each file brought and whether a later load replaced it."""
    from seatscore.ledgers import store as db

    if not Path(args.db).exists():
        raise SeatscoreError(f"{args.db}: no database; run `seatscore build` first")
    with db.connect(args.db, read_only=True) as con:
        frame = db.query(
            con,
            """SELECT load_id, path, sheet, kind, source, contract_ids, contract_option, rows_read,
                      rows, rows_already, rows_rejected, loaded_at, replaced_by, sha256
               FROM loads ORDER BY load_id""",
        )
    loads = [
        {
            **{k: v for k, v in r.items() if k != "loaded_at"},
            "loaded_at": r["loaded_at"].isoformat(timespec="seconds"),
            "state": "active" if r["replaced_by"] is None else "replaced",
        }
        for r in frame.iter_rows(named=True)
    ]
    if args.json:
        print(json.dumps(loads, ensure_ascii=False, indent=2))
        return 0
    for r in loads:
        where = r["path"] + (f" [{r['sheet']}]" if r["sheet"] else "")
        state = "active" if r["replaced_by"] is None else f"replaced by load {r['replaced_by']}"
        print(
            f"{r['load_id']:>5}  {r['kind']:<10} {where}  rows {r['rows']:,} loaded, "
            f"{r['rows_already']:,} already, {r['rows_rejected']:,} rejected  "
            f"{r['loaded_at']}  {state}"
        )
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="seatscore",
        description="Monthly scores, money and reports for outsourced citizen-hotline contracts.",
    )
    top.add_argument("--version", action="version", version=f"seatscore {__version__}")
    top.add_argument(
        "--debug", action="store_true", help="on an error, print the Python traceback too"
    )
    sub = top.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo-data", help="write deterministic simulated ledgers to data/demo/")
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    demo.add_argument(
        "--as-of",
        type=_day,
        default=None,
        metavar="YYYY-MM-DD",
        help="simulate the ledgers only up to the end of this day (default: today, Beijing time)",
    )
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
        "--check",
        action="store_true",
        help="build nothing; say whether the database needs a build (exit 1 if it does)",
    )
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

    ing = sub.add_parser(
        "ingest",
        help="load ledgers from CSV or Excel; bad rows go to quarantine, good ones load",
    )
    ing.add_argument("files", nargs="+", type=Path, metavar="FILE", help="CSV or XLSX files")
    ing.add_argument("--db", type=Path, default=config.DEFAULT_DB, help="database path")
    ing.add_argument(
        "--kind",
        choices=["deductions", "kpis", "payments", "penalties", "roster", "staffing", "tickets"],
        help="which ledger (seatscore.ledgers.kinds.KINDS; or give --profile)",
    )
    ing.add_argument("--contract", metavar="ID", help="contract id for rows that give none")
    ing.add_argument(
        "--profile", type=Path, metavar="PROFILE.yaml", help="import profile for another layout"
    )
    ing.add_argument("--sheet", help="only this sheet of a workbook (default: every sheet)")
    ing.add_argument(
        "--quarantine-dir",
        type=Path,
        default=None,
        help="where rejected-row reports go (default: quarantine/ next to the database)",
    )
    ing.add_argument(
        "--replaces",
        type=int,
        metavar="LOAD_ID",
        help="this file corrects that earlier load (see `seatscore loads`): its rows are "
        "replaced, except rows another load also holds",
    )
    ing.set_defaults(run=_ingest)

    loads = sub.add_parser("loads", help="list the loads: files, rows, and what replaced what")
    loads.add_argument("--db", type=Path, default=config.DEFAULT_DB, help="database path")
    loads.add_argument("--json", action="store_true", help="JSON instead of text")
    loads.set_defaults(run=_loads)

    rend = sub.add_parser("render", help="render HTML reports with papermill")
    rend.add_argument("--db", type=Path, default=config.DEFAULT_DB, help="database path")
    rend.add_argument(
        "--month",
        default=None,
        help="YYYY-MM, 'all' (every service month), or 'last' (previous month, Beijing time); "
        "default: each contract's latest month with data",
    )
    rend.add_argument("--contract", nargs="+", metavar="ID", help="contract ids (default: all)")
    rend.add_argument(
        "--open-month",
        action="store_true",
        help="also render a month that has not ended (the report says 本月未结束 and its cut-off)",
    )
    rend.add_argument("--out", type=Path, default=config.REPORTS_DIR, help="reports folder")
    rend.add_argument("--quiet", action="store_true", help="no progress bar")
    rend.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="processes rendering at once, each on one warm kernel (default: one per core)",
    )
    rend.add_argument(
        "--force",
        action="store_true",
        help="render every report, also those whose inputs did not change (reports/manifest.json)",
    )
    rend.add_argument(
        "--comparison",
        action="store_true",
        help="instead: the vendor comparison of every contract, to <out>/comparison.html",
    )
    _comparison_inputs(rend)
    rend.set_defaults(run=_render)

    compare = sub.add_parser(
        "compare", help="cost per seat-month, covered seat-hour, staffed day and ticket"
    )
    compare.add_argument("--db", type=Path, default=config.DEFAULT_DB, help="database path")
    compare.add_argument("--contract", nargs="+", metavar="ID", help="contract ids (default: all)")
    compare.add_argument("--json", action="store_true", help="JSON instead of text")
    _comparison_inputs(compare, scenario_default=None)
    compare.set_defaults(run=_compare)

    send = sub.add_parser("deliver", help="email each manager their contracts' reports")
    send.add_argument("--month", required=True, help="YYYY-MM")
    send.add_argument(
        "--recipients",
        type=Path,
        default=config.PARAMS_DIR / "recipients.yaml",
        help="who gets which contracts (default params/recipients.yaml)",
    )
    send.add_argument("--db", type=Path, default=config.DEFAULT_DB, help="database path")
    send.add_argument("--out", type=Path, default=config.REPORTS_DIR, help="reports folder")
    send.add_argument("--dry-run", action="store_true", help="build the emails, send none")
    send.set_defaults(run=_deliver)

    lab = sub.add_parser("lab", help="open JupyterLab on the notebooks with this environment")
    lab.add_argument("lab_args", nargs="*", help="passed on to `jupyter lab` (e.g. --no-browser)")
    lab.set_defaults(run=_lab)

    rules = sub.add_parser("rules", help="print a contract's rule catalogue with clauses")
    rules.add_argument("contract", metavar="CONTRACT", help="contract id")
    rules.add_argument("--json", action="store_true", help="JSON instead of text")
    rules.set_defaults(run=_rules)

    close = sub.add_parser("close", help="close a month: its statement and report never change")
    close.add_argument("contract", metavar="CONTRACT", help="contract id")
    close.add_argument("--month", required=True, help="YYYY-MM (months close in order)")
    close.add_argument("--db", type=Path, default=config.DEFAULT_DB, help="database path")
    close.set_defaults(run=_close)

    listing = sub.add_parser("statements", help="list a contract's monthly statements")
    listing.add_argument("contract", metavar="CONTRACT", help="contract id")
    listing.add_argument("--db", type=Path, default=config.DEFAULT_DB, help="database path")
    listing.add_argument("--json", action="store_true", help="JSON instead of text")
    listing.set_defaults(run=_statements)

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
    """Run one command. Exit status: 0 done, 1 some rows rejected or reports failed (the rest
    done), 2 nothing written (the message says what was wrong and what to do), 130 interrupted.
    A traceback is printed only with ``--debug``."""
    import duckdb

    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    passed_on: list[str] = []
    if command == "lab":  # everything after `lab` goes to `jupyter lab` unchanged, in order
        at = argv.index("lab")
        argv, passed_on = argv[: at + 1], argv[at + 1 :]
    args = parser().parse_args(argv)
    if args.command == "lab":
        args.lab_args = passed_on
    name = f"seatscore {args.command}"
    try:
        return args.run(args)
    except BrokenPipeError:  # `seatscore score … | head`: the reader has what it wanted
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(
            f"{name}: interrupted. A load or build that was under way was rolled back (the "
            "database is as it was); reports already written are whole. Run the command again.",
            file=sys.stderr,
        )
        return 130
    except (SeatscoreError, OSError, ValueError) as exc:
        if args.debug:
            raise
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        if args.debug:
            raise
        text = str(exc)
        if "lock" in text.lower():
            hint = (
                "another process is using the database (a render, an ingest or JupyterLab); "
                "wait for it to finish, then run the command again"
            )
        else:
            hint = (
                "the database could not answer; if an older Seatscore made it, `seatscore "
                "build` updates it; if the file is damaged, restore it from a copy"
            )
        print(
            f"{name}: {hint}.\n  ({text.splitlines()[0] if text else type(exc).__name__})",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:  # a bug: say so, rather than dress it as the user's error
        if args.debug:
            raise
        print(
            f"{name}: internal error ({type(exc).__name__}: {exc}). Nothing was left half-written; "
            "run it again with --debug for the traceback and report it.",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
