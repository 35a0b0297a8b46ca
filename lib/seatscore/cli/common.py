"""What the commands share: argument types, shared options and checks."""

from __future__ import annotations

import argparse
from pathlib import Path

from seatscore.core import config
from seatscore.core.errors import SeatscoreError


def today():
    import datetime as dt

    return dt.datetime.now(config.TIMEZONE).date()


def day(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from exc


def positive(text: str) -> int:
    value = int(text.replace("_", "").replace(",", ""))
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be at least 1")
    return value


def check_month_and_db(args: argparse.Namespace) -> None:
    from seatscore.terms.periods import parse_month

    parse_month(args.month)
    if not Path(args.db).exists():
        raise SeatscoreError(f"{args.db}: no database; run `seatscore build` first")


def comparison_inputs(
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


def add_db(parser: argparse.ArgumentParser) -> None:
    """``--db PATH`` (default ``data/seatscore.duckdb``)."""
    parser.add_argument("--db", type=Path, default=config.DEFAULT_DB, help="database path")


def add_json(parser: argparse.ArgumentParser) -> None:
    """``--json``: JSON instead of text."""
    parser.add_argument("--json", action="store_true", help="JSON instead of text")


def add_contract(parser: argparse.ArgumentParser) -> None:
    """The positional ``CONTRACT`` (a contract id)."""
    parser.add_argument("contract", metavar="CONTRACT", help="contract id")


def add_month(parser: argparse.ArgumentParser, note: str = "") -> None:
    """The required ``--month YYYY-MM``."""
    parser.add_argument("--month", required=True, help=f"YYYY-MM{note}")


def add_contract_ids(parser: argparse.ArgumentParser) -> None:
    """``--contract ID ...`` (default: every contract)."""
    parser.add_argument("--contract", nargs="+", metavar="ID", help="contract ids (default: all)")
