"""Readers for public datasets that are not a contract's ledgers, into the canonical ticket columns.

- :func:`read_tipdm_messages`: the 2020 TipDM Cup (problem C) citizen messages with official
  replies (``tipdm2020C_fujian4_messages_with_replies.xlsx``) and, optionally, its three-level
  category tree (``tipdm2020C_fujian1_category_taxonomy.xlsx``). Excel is read with
  ``polars.read_excel`` (the calamine engine, package ``fastexcel``).

These files are never copied into the repository; tests and notebooks read them from
``../shared/data/real/`` when it is there.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from seatscore.errors import LedgerError
from seatscore.ledgers import TICKETS

TIPDM_CONTRACT_ID = "tipdm-messages"
"""The ``contract_id`` given to the TipDM messages: they belong to no contract."""
_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")
_DISTRICT = r"([A-Z]\d*[区县市])"
_GENERIC = ("管理", "服务", "问题", "处理", "建设", "保障", "工作", "事务")


def _parse_time(column: str) -> pl.Expr:
    text = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.coalesce(
        [text.str.to_datetime(f, strict=False, time_unit="us") for f in _TIME_FORMATS]
    )


def _categories(topics: pl.Series, taxonomy: pl.DataFrame) -> pl.Series:
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


def read_tipdm_messages(messages: Path | str, taxonomy: Path | str | None = None) -> pl.DataFrame:
    """The TipDM messages as a tickets frame (:data:`seatscore.ledgers.TICKETS` columns).

    Mapping: ``ticket_id`` = 留言编号; ``received_at`` = 留言时间; ``replied_at`` = 答复时间;
    ``summary`` = 留言主题 (the topic only: the user id 留言用户 and the free text 留言详情 / 答复意见
    are left out as they may identify people); ``district`` = the first masked place name such as
    ``A2区`` in the topic; ``category`` = the 一级分类 whose second- or third-level term the topic
    contains, ``（未匹配）`` when none does; ``priority`` = ``ordinary`` (the board has no urgency);
    ``channel`` = ``留言板``. Times are read as written (local time).

    Raises :class:`~seatscore.errors.LedgerError` naming the Excel rows (header = row 1) whose
    times cannot be read or whose reply precedes the message: nothing is dropped silently.
    """
    raw = pl.read_excel(messages, infer_schema_length=0)
    expected = {"留言编号", "留言主题", "留言时间", "答复时间"}
    missing = expected - set(raw.columns)
    if missing:
        raise LedgerError(f"{messages}: not the TipDM messages file; missing {sorted(missing)}")
    frame = raw.with_row_index("_row", offset=2).select(
        "_row",
        pl.col("留言编号").cast(pl.String).str.strip_chars().alias("ticket_id"),
        _parse_time("留言时间").alias("received_at"),
        _parse_time("答复时间").alias("replied_at"),
        pl.col("答复时间").alias("_replied_raw"),
        pl.col("留言主题").str.strip_chars().alias("summary"),
    )
    problems = [
        f"row {r}, column 留言时间: cannot read as a time"
        for r in frame.filter(pl.col("received_at").is_null())["_row"]
    ]
    problems += [
        f"row {r}, column 答复时间: cannot read as a time"
        for r in frame.filter(
            pl.col("replied_at").is_null() & pl.col("_replied_raw").str.strip_chars().ne("")
        )["_row"]
    ]
    problems += [
        f"row {r}, column 答复时间: before 留言时间"
        for r in frame.filter(pl.col("replied_at") < pl.col("received_at"))["_row"]
    ]
    problems += [
        f"row {r}, column 留言编号: repeats an earlier message"
        for r in frame.filter(pl.col("ticket_id").is_duplicated())["_row"]
    ]
    if problems:
        raise LedgerError(
            f"{messages}: {len(problems)} problem(s); nothing was read.\n"
            + "\n".join(f"  - {p}" for p in problems[:10])
        )
    categories = (
        _categories(frame["summary"], pl.read_excel(taxonomy))
        if taxonomy is not None
        else pl.Series("category", [None] * frame.height, dtype=pl.String)
    )
    out = frame.with_columns(
        categories.fill_null("（未匹配）").alias("category"),
        pl.col("summary").str.extract(_DISTRICT).alias("district"),
        pl.lit(TIPDM_CONTRACT_ID).alias("contract_id"),
        pl.lit("ordinary").alias("priority"),
        pl.lit("留言板").alias("channel"),
        pl.lit(str(Path(messages).name)).alias("source_file"),
        pl.col("_row").cast(pl.Int32).alias("source_row"),
    )
    return pl.concat(
        [TICKETS.conform(out), out.select("source_file", "source_row")], how="horizontal"
    )
