"""The rule kinds of the points sheet, one module each (registry: :mod:`seatscore.terms.rule_kinds`).

A module named after its kind defines ``Params`` (a :class:`~seatscore.terms.rule_kinds.RuleItem`
with ``kind: Literal["<module name>"]`` and the kind's fields) and ``points(inputs, item)``
(:mod:`seatscore.compute.rule_inputs`). Adding a kind is adding a module here; nothing else lists
the kinds.
"""
