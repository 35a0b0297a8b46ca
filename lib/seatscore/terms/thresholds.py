"""Thresholds in the contract's own words: which Chinese word includes the number and which does not.

民法典 第一千二百五十九条: "民法所称的'以上''以下''以内''届满'，包括本数；所称的'不满''超过''以外'，
不包括本数。" Contracts follow the same drafting, so each threshold in the params carries the word
the contract wrote, and this table is the one place that turns a word into a comparison. The
article names 以上, 以下, 以内, 届满, 不满 and 超过; the other words (低于, 不足, 高于, 不低于, 不少于,
至少, 达到, 保证, 不超过, ≥, ≤) are read by their ordinary meaning, which agrees with it (低于 80
excludes 80 as 不满 80 does):

======  =====  =====================================================================
word    op     example
======  =====  =====================================================================
以下    ≤      003 四 (四) "85分以下" — a score of exactly 85 counts
以内    ≤      "10分钟以内" — 10 minutes is within
不超过  ≤      "不超过10分钟"
低于    <      000 六 6 "低于80分" — a score of exactly 80 does not count
不足    <      "不足98%"
不满    <      民法典 1259
以上    ≥      000 六 4 "5人及以上" — 5 counts
不低于  ≥      003 附件2 二 (一) "不得低于98%" — 98 % is enough
不少于  ≥      "每周不少于3次"
至少    ≥      "至少3次"
达到    ≥      "达到5人"
保证    ≥      002 四 22 (1) "处理率应保证 100%"
≥       ≥      002 四 22 (3) "回访的比例 ≥ 20%"
≤       ≤      as written
届满    ≥      民法典 1259
超过    >      "超过10分钟" — 10 minutes is not over
高于    >      "高于"
======  =====  =====================================================================

"（含）" after a number includes it ("5人（含）以上"): write ``以上``. A word not in the table is
refused when the params are loaded (:func:`operator_of`), never guessed.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal

WORDS: dict[str, str] = {
    "以下": "<=",
    "以内": "<=",
    "不超过": "<=",
    "低于": "<",
    "不足": "<",
    "不满": "<",
    "以上": ">=",
    "不低于": ">=",
    "不少于": ">=",
    "至少": ">=",
    "达到": ">=",
    "保证": ">=",
    "≥": ">=",
    "≤": "<=",
    "届满": ">=",
    "超过": ">",
    "高于": ">",
}
"""The contract's word → the comparison ``value <op> threshold`` it means (民法典 第一千二百五十九条)."""

_OPS: dict[str, Callable[[object, object], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}


def operator_of(word: str) -> str:
    """``'以下'`` → ``'<='``. Raises ``ValueError`` naming the known words for any other word."""
    try:
        return WORDS[word]
    except KeyError:
        known = "、".join(WORDS)
        raise ValueError(
            f"threshold word {word!r} is not one this table knows ({known}); write the contract's "
            "own word, or add it to seatscore.terms.thresholds.WORDS with the rule it follows"
        ) from None


def holds(value: Decimal | int, word: str, threshold: Decimal | int) -> bool:
    """Whether ``value`` is "``word`` ``threshold``": ``holds(85, '以下', 85)`` is True,
    ``holds(80, '低于', 80)`` is False."""
    return _OPS[operator_of(word)](value, threshold)


def includes_number(word: str) -> bool:
    """True when the word includes the number itself (以上, 以下, 以内, 届满, 不低于 …)."""
    return operator_of(word) in ("<=", ">=")
