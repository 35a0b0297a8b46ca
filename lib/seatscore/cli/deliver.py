"""`seatscore deliver`: email each manager their reports."""

from __future__ import annotations

import argparse
from pathlib import Path

from seatscore.cli.common import (
    add_db,
    add_month,
)
from seatscore.core import config


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


def register(sub: argparse._SubParsersAction) -> None:
    send = sub.add_parser("deliver", help="email each manager their contracts' reports")
    add_month(send)
    send.add_argument(
        "--recipients",
        type=Path,
        default=config.PARAMS_DIR / "recipients.yaml",
        help="who gets which contracts (default params/recipients.yaml)",
    )
    add_db(send)
    send.add_argument("--out", type=Path, default=config.REPORTS_DIR, help="reports folder")
    send.add_argument("--dry-run", action="store_true", help="build the emails, send none")
    send.set_defaults(run=_deliver)
