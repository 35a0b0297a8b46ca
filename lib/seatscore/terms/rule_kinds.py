"""The kinds of rule on a monthly points sheet: a registry with one module per kind.

A rule kind is one module in the package :data:`RULES_PACKAGE` (``seatscore.compute.rules``),
named after the kind, holding

- ``Params``: a subclass of :class:`RuleItem` with ``kind: Literal["<module name>"]`` and the
  fields the kind reads from the params file (its own validators included), and
- ``RECORDED = True`` where the kind's occurrences are recorded in the deductions ledger (the
  default: computed from tickets or staffing), and
- ``points(inputs, item)``: the points function (``inputs`` is a
  :class:`seatscore.compute.rule_inputs.RuleInputs`); it returns the item's points per month (a
  frame of :data:`seatscore.compute.rule_inputs.ITEM_SCHEMA`) and the months it could not assess.

The list of kinds is read from that package, never written by hand: a new kind is a new module
and nothing else. The registry lives here, with the contract schema, because validating a params
file needs it; the modules live with the engine because their points functions compute. Modules
are found by name at first use (like a plugin), so this layer imports nothing of the engine.

An item whose kind has no module fails validation naming the kinds there are; a kind whose module
has no ``points`` function is refused when a params file that uses it is loaded
(:func:`unevaluable`), so no rule can silently score nothing.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import PlainValidator, SerializeAsAny

from seatscore.terms.fields import Clause, Identifier, Model, Points

RULES_PACKAGE = "seatscore.compute.rules"
"""Where the rule kind modules are (a package of the engine)."""


class RuleItem(Model):
    """One deduction item of the monthly points sheet: what every kind has.

    ``kind`` names the rule kind module; its ``Params`` adds the kind's own fields. ``points`` is
    the points per unit where the kind has them (``None`` for discretionary items, whose points
    the buyer sets case by case).
    """

    item_id: Identifier
    category: Identifier
    name_zh: str
    kind: str
    unit_zh: str
    points: Points | None = None
    clause: Clause


PointsFunction = Callable[[Any, RuleItem], Any]
"""``points(inputs, item) -> (frame, not_assessable rows)``."""


@dataclass(frozen=True)
class RuleKind:
    """A registered kind: its name, params model, points function (None: missing) and module."""

    name: str
    params: type[RuleItem]
    points: PointsFunction | None
    module: str
    recorded: bool = False
    """Occurrences come from the deductions ledger (module constant ``RECORDED = True``);
    otherwise the points are computed from tickets or staffing and a ledger row is refused."""


class UnknownRuleKind(ValueError):
    """A params file names a rule kind that has no module in :data:`RULES_PACKAGE`."""


_lock = threading.Lock()
_kinds: dict[str, RuleKind] = {}


def _kind_of(module: Any) -> RuleKind:
    name = module.__name__.rsplit(".", 1)[1]
    params = getattr(module, "Params", None)
    if not (isinstance(params, type) and issubclass(params, RuleItem)):
        raise TypeError(f"{module.__name__}: a rule kind module defines Params(RuleItem)")
    declared = typing.get_args(params.model_fields["kind"].annotation)
    if declared != (name,):
        raise TypeError(
            f"{module.__name__}: Params.kind must be Literal[{name!r}] (the module's name)"
        )
    return RuleKind(
        name,
        params,
        getattr(module, "points", None),
        module.__name__,
        bool(getattr(module, "RECORDED", False)),
    )


def discover() -> dict[str, RuleKind]:
    """Import every module of :data:`RULES_PACKAGE` (again: a module added since is found) and
    return the kinds by name. Raises ``TypeError`` for a module that is not a valid kind."""
    package = importlib.import_module(RULES_PACKAGE)
    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{RULES_PACKAGE}.{info.name}")
        found[info.name] = _kind_of(module)
    with _lock:
        _kinds.clear()
        _kinds.update(found)
    return dict(found)


def kinds() -> dict[str, RuleKind]:
    """The registered kinds by name (discovered at first use)."""
    return dict(_kinds) if _kinds else discover()


def rule_kind(name: str) -> RuleKind:
    """The kind called ``name``. Raises :class:`UnknownRuleKind` naming the kinds there are."""
    known = kinds()
    if name not in known:
        known = discover()
    if name not in known:
        raise UnknownRuleKind(
            f"unknown rule kind {name!r}; the kinds are {', '.join(sorted(known))} (a new kind is "
            f"a module in {RULES_PACKAGE.replace('.', '/')}/)"
        )
    return known[name]


def _validate_item(value: Any) -> RuleItem:
    if isinstance(value, RuleItem):
        return value
    if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
        raise ValueError("a rule item is a mapping with a kind")
    return rule_kind(value["kind"]).params.model_validate(value)


RuleItemField = Annotated[SerializeAsAny[RuleItem], PlainValidator(_validate_item)]
"""The type of a points sheet's items: validated by the params model of each item's kind."""


def unevaluable(items: list[RuleItem]) -> list[str]:
    """Items whose kind has no points function, as ``"item <id>: kind <kind> …"``."""
    return [
        f"item {i.item_id}: kind {i.kind} has no points function "
        f"(define points(inputs, item) in {rule_kind(i.kind).module})"
        for i in items
        if rule_kind(i.kind).points is None
    ]
