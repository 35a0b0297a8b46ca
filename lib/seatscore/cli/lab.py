"""`seatscore lab`: open JupyterLab on the notebooks."""

from __future__ import annotations

import argparse
import os
import sys

from seatscore.core import config


def _lab(args: argparse.Namespace) -> int:
    """JupyterLab from this environment, in notebooks/: its python3 kernel is this
    environment's interpreter, so the notebooks import this Seatscore. Does not return."""

    if not config.DEFAULT_DB.exists():
        print(f"note: {config.DEFAULT_DB} does not exist yet; `make build` writes the demo data")
    command = [sys.executable, "-m", "jupyter", "lab", *args.lab_args]
    os.chdir(config.NOTEBOOKS_DIR)
    os.execv(command[0], command)
    return 0  # not reached


def register(sub: argparse._SubParsersAction) -> None:
    lab = sub.add_parser("lab", help="open JupyterLab on the notebooks with this environment")
    lab.add_argument("lab_args", nargs="*", help="passed on to `jupyter lab` (e.g. --no-browser)")
    lab.set_defaults(run=_lab)
