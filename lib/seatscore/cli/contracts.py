"""`seatscore contracts`: draft and compare contract params files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seatscore.core.errors import SeatscoreError

MAX_CONTRACT_TEXT_BYTES = 5 * 1024 * 1024
"""The largest contract text `contracts draft` reads."""


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


def register(sub: argparse._SubParsersAction) -> None:
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
