"""Readers for public datasets that are not a contract's ledgers, into the canonical ticket columns.

- :func:`read_tipdm_messages`: the 2020 TipDM Cup (problem C) citizen messages with official
  replies (``tipdm2020C_fujian4_messages_with_replies.xlsx``) with the categories of its
  three-level tree (``tipdm2020C_fujian1_category_taxonomy.xlsx``, in the same folder), through
  the import profile ``params/profiles/tipdm-messages.yaml`` (:mod:`seatscore.ingest`).
- :func:`categories_from_taxonomy`: topics matched to such a tree, for import profiles.

These files are never copied into the repository; tests and notebooks read them from
``../shared/data/real/`` when it is there.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from seatscore import config

TIPDM_PROFILE = config.PROFILES_DIR / "tipdm-messages.yaml"
_GENERIC = ("管理", "服务", "问题", "处理", "建设", "保障", "工作", "事务")


def categories_from_taxonomy(topics: pl.Series, taxonomy: pl.DataFrame) -> pl.Series:
    """The first-level category (一级分类) of each topic, by keyword: the longest second- or
    third-level term of the tree (or the term without a generic ending such as 管理/服务) that
    the topic contains; null when none does. A keyword match, not a classifier: the share left
    unmatched is shown wherever the categories are."""
    terms = []
    for level in ("三级分类", "二级分类"):
        pairs = taxonomy.select(pl.col(level).alias("term"), "一级分类").unique("term")
        for term, top in pairs.iter_rows():
            if not term or term.startswith(("其他", "其它")):
                continue
            terms.append((term, top))
            stem = term.removesuffix(next((s for s in _GENERIC if term.endswith(s)), ""))
            if stem != term and len(stem) >= 2:
                terms.append((stem, top))  # 物业服务 → 物业, so that 物业管理 matches
    terms = list(dict.fromkeys(terms))
    terms.sort(key=lambda p: -len(p[0]))  # the most specific (longest) term wins
    out = []
    for topic in topics.to_list():
        found = next((top for term, top in terms if topic and term in topic), None)
        out.append(found)
    return pl.Series("category", out, dtype=pl.String)


def read_tipdm_messages(messages: Path | str) -> pl.DataFrame:
    """The TipDM messages as a tickets frame (:data:`seatscore.ledgers.TICKETS` columns plus
    ``source_file`` and ``source_row``), read through ``params/profiles/tipdm-messages.yaml``
    (the mapping is documented there; the category tree is read from the same folder).

    Raises :class:`~seatscore.errors.IngestError` naming the Excel rows (header = row 1) whose
    times cannot be read, whose reply precedes the message, or whose number repeats: nothing is
    dropped silently.
    """
    from seatscore.ingest import read_with_profile

    return read_with_profile(messages, TIPDM_PROFILE)
