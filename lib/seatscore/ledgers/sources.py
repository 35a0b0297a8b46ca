"""Readers for public datasets that are not a contract's ledgers, into the canonical ticket columns.

- :func:`read_tipdm_messages`: the 2020 TipDM Cup (problem C) citizen messages with official
  replies (``tipdm2020C_fujian4_messages_with_replies.xlsx``) with the categories of its
  three-level tree (``tipdm2020C_fujian1_category_taxonomy.xlsx``, in the same folder), through
  the import profile ``params/profiles/tipdm-messages.yaml`` (:mod:`seatscore.ledgers.ingest`).
- :func:`categories_from_taxonomy`: topics matched to such a tree, for import profiles.

These files are never copied into the repository; tests and notebooks read them from
``../shared/data/real/`` when it is there.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from seatscore.core import config
from seatscore.ledgers.ingest import read_with_profile

TIPDM_PROFILE = config.PROFILES_DIR / "tipdm-messages.yaml"


def read_tipdm_messages(messages: Path | str) -> pl.DataFrame:
    """The TipDM messages as a tickets frame (:data:`seatscore.ledgers.kinds.TICKETS` columns plus
    ``source_file`` and ``source_row``), read through ``params/profiles/tipdm-messages.yaml``
    (the mapping is documented there; the category tree is read from the same folder).

    Raises :class:`~seatscore.core.errors.IngestError` naming the Excel rows (header = row 1) whose
    times cannot be read, whose reply precedes the message, or whose number repeats: nothing is
    dropped silently.
    """
    return read_with_profile(messages, TIPDM_PROFILE)
