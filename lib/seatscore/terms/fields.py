"""The building blocks of the contract schema: a term with its clause, and the value types.

One home for the pydantic base (:class:`Model`: unknown keys refused, values frozen), the
:class:`Term` that carries a value and the clause it comes from (or ``null`` and why), and the
typed values: :data:`Clause`, :data:`Identifier`, :data:`Share` (0–1, not a percent),
:data:`Money` (CNY to the fen), :data:`Points` (on the 100-point sheet).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import Field, model_validator

from seatscore.core.model import Model
from seatscore.terms.thresholds import operator_of

T = TypeVar("T")

Clause = Annotated[
    str, Field(min_length=1, description="Where in the contract, e.g. 附件二 第四章 一 1")
]
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Share = Annotated[Decimal, Field(ge=0, le=1, description="A share 0–1, not a percent")]
Money = Annotated[Decimal, Field(ge=0, decimal_places=2, description="CNY, to the fen")]
Points = Annotated[Decimal, Field(ge=0, le=100, description="Points on the 100-point sheet")]
StaffingBasis = Literal["roster", "attendance"]
"""What a staffing rule counts: ``roster`` — persons on the roster (在册/实有人数) against the
contract's minimum, as vacancies that run on calendar days until filled (000 六 4, 003 附件2 一);
``attendance`` — persons present against persons required that day (应到/实到), as absences
(004 三 (一) 5 "缺口人次", 002 四 3 "缺勤…按实际缺员人数和天数")."""


def check_word(word: str | None, field: str) -> None:
    if word is not None:
        try:
            operator_of(word)
        except ValueError as exc:
            raise ValueError(f"{field}: {exc}") from None


class Term(Model, Generic[T]):
    """One contract term: its value and the clause it comes from, or ``null`` and why.

    ``value`` must be written out (a missing key is an error, so "not stated" is always a decision
    someone made). A stated value needs ``clause``; an unstated one needs ``note``.
    """

    value: T | None
    clause: str | None = None
    note: str | None = None
    word: str | None = Field(
        default=None,
        description="For a threshold: the contract's own word (不低于, 低于, 以下, ≥ …), read by "
        "seatscore.terms.thresholds",
    )

    @model_validator(mode="after")
    def _stated_or_explained(self) -> Term[T]:
        if self.value is None and not self.note:
            raise ValueError("value is null: add a note saying the contract does not state it")
        if self.value is not None and not self.clause:
            raise ValueError("value is stated: add the clause it comes from")
        check_word(self.word, "word")
        return self

    @property
    def stated(self) -> bool:
        return self.value is not None
