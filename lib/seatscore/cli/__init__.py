"""The ``seatscore`` command line: one module per command in this package, each with a
``register(sub)`` that adds its parser (found by name, like the rule kinds); shared options in
:mod:`seatscore.cli.common`.

Exit status: 0 done, 1 when rows were rejected or a report failed (the rest done), 2 when nothing
was written (the message says what was wrong and what to do), 130 when interrupted. ``--debug``
prints the traceback of an error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys

from seatscore import __version__
from seatscore.core.errors import SeatscoreError


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
    for info in pkgutil.iter_modules(__path__):
        if info.name not in ("common", "__main__"):
            importlib.import_module(f"{__name__}.{info.name}").register(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit status: 0 done, 1 some rows rejected or reports failed (the rest
    done), 2 nothing written (the message says what was wrong and what to do), 130 interrupted.
    A traceback is printed only with ``--debug``."""
    import duckdb
    from pydantic import ValidationError

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
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
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
    except (SeatscoreError, OSError, ValidationError) as exc:  # the user's input or files
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
