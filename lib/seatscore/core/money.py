"""Money in CNY, exact to the fen (0.01). The one place rounding is decided.

No float touches money: amounts are :class:`decimal.Decimal`; a result is rounded once, half up to
the fen (the usual Chinese accounting convention, 四舍五入), when a formula produces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

MONEY = pl.Decimal(14, 2)
"""The dtype of money in frames and tables: CNY to the fen."""
POINTS = pl.Decimal(7, 2)
"""The dtype of points on the 100-point sheet (two decimals)."""

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def to_fen(value: Decimal | int | str) -> Decimal:
    """Round a CNY amount half up to the fen.

    Raises ``TypeError`` for a float: a float has already lost the fen.
    """
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a Decimal, an int or a string")
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` CNY in proportion to ``weights``; the parts add up to ``total`` exactly.

    Every part but the last is ``total * w / sum(weights)`` rounded half up to the fen; the last
    part takes the balance (as a contract's final settlement does), so it differs from its exact
    share by at most a few fen.

    Raises ``ValueError`` when there are no weights or they sum to zero.
    """
    if not weights:
        raise ValueError("allocate() needs at least one weight")
    weight_sum = sum(weights, Decimal(0))
    if weight_sum <= 0:
        raise ValueError("allocate() weights must sum to more than zero")
    parts = [to_fen(total * w / weight_sum) for w in weights[:-1]]
    parts.append(to_fen(total) - sum(parts, ZERO))
    return parts


def format_cny(value: Decimal | None) -> str:
    """``Decimal('1869400')`` → ``'¥1,869,400.00'``; ``None`` → ``'—'`` (not assessable)."""
    if value is None:
        return "—"
    amount = to_fen(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def cny(value: Decimal | None) -> str | None:
    """``Decimal('160758.333')`` → ``'160758.33'``; None stays None (not assessable)."""
    return None if value is None else f"{to_fen(value):.2f}"


def pts(value: Decimal | None) -> str | None:
    """Points without trailing zeros beyond one decimal: ``Decimal('98.20')`` → ``'98.2'``."""
    if value is None:
        return None
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text
