"""Write the reference pages from the code at build time (mkdocs-gen-files runs this), so they
cannot fall behind it: the commands from the parser, the ledger schemas from the ledger kinds, the
params files from the pydantic models and the rule kinds from their registry."""

from __future__ import annotations

import argparse
import json

import mkdocs_gen_files

from seatscore.cli import parser
from seatscore.compute.frames import LineFrame, MonthFrame, markdown
from seatscore.ledgers.kinds import schema_markdown
from seatscore.terms.contracts import Contract
from seatscore.terms.rule_kinds import RuleItem, kinds


def _subcommands(top: argparse.ArgumentParser, prefix: str = "seatscore"):
    for action in top._actions:  # argparse keeps its subparsers here; there is no public API
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
                if nested:
                    yield from _subcommands(sub, f"{prefix} {name}")
                else:
                    yield f"{prefix} {name}", sub


def commands_page() -> str:
    lines = [
        "# Commands",
        "",
        "Every command's options, as `seatscore COMMAND --help` prints them (generated from the",
        "parser). What the commands do together: [Render reports](../how-to/render-reports.md).",
        "",
    ]
    for name, sub in _subcommands(parser()):
        sub.prog = name
        lines += [f"## `{name}`", "", "```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(lines)


def ledgers_page() -> str:
    return (
        "# Ledger schemas\n\n"
        "The canonical columns of each ledger kind (generated from `seatscore.ledgers.kinds.KINDS`; "
        "how to load them: [Load ledgers](../how-to/load-ledgers.md)).\n\n" + schema_markdown()
    )


def _type_of(prop: dict) -> str:
    """A JSON-schema property's type in words: a decimal is "number (or text)", a reference its
    model's name, a union its members joined by "or"."""
    if "const" in prop:
        return f"`{prop['const']}`"
    if "anyOf" in prop:
        names = [_type_of(p) for p in prop["anyOf"]]
        if set(names) >= {"number", "string"}:  # pydantic's Decimal: a number or its text
            names = ["decimal" if n == "number" else n for n in names if n != "string"]
        return " or ".join(dict.fromkeys(names))
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    return prop.get("type", "object")


def _field_rows(model: type, skip: set[str] = frozenset()) -> list[str]:
    rows = ["| field | type | required | description |", "|---|---|---|---|"]
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        if name in skip:
            continue
        kind = _type_of(prop)
        text = (prop.get("description") or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{name}` | {kind} | {'yes' if name in required else ''} | {text} |")
    return rows


def params_page() -> str:
    common = set(RuleItem.model_fields)
    lines = [
        "# Contract params files",
        "",
        "The schema of `params/contracts/<contract_id>.yaml` (generated from",
        "`seatscore.terms.contracts.Contract`). Why the files look as they do:",
        "[Contracts as data](../explanation/contracts-as-data.md).",
        "",
        "## Rule kinds of the points sheet",
        "",
        "Every item of `assessment.value.items` has the fields of every kind:",
        "",
        *_field_rows(RuleItem),
        "",
        "and those of its kind (one module each in `lib/seatscore/compute/rules/`):",
        "",
    ]
    for name, kind in sorted(kinds().items()):
        doc = (__import__(kind.module, fromlist=["_"]).__doc__ or "").strip()
        lines += [f"### `{name}`", "", doc, "", *_field_rows(kind.params, common - {"points"}), ""]
    lines += [
        "## The whole schema (JSON Schema)",
        "",
        "```json",
        json.dumps(Contract.model_json_schema(), ensure_ascii=False, indent=1),
        "```",
    ]
    return "\n".join(lines)


def frames_page() -> str:
    return (
        "# Output frames\n\n"
        "The frames `seatscore.compute.metrics.monthly_metrics` returns, as declared (dataframely "
        "schemas in `seatscore.compute.frames`, checked every time they are built).\n\n"
        f"## Months (`MonthlyMetrics.months`)\n\n{MonthFrame.__doc__}\n\n{markdown(MonthFrame)}\n\n"
        f"## Lines (`MonthlyMetrics.lines`)\n\n{LineFrame.__doc__}\n\n{markdown(LineFrame)}\n"
    )


for path, text in {
    "reference/frames.md": frames_page(),
    "reference/commands.md": commands_page(),
    "reference/ledgers.md": ledgers_page(),
    "reference/params.md": params_page(),
}.items():
    with mkdocs_gen_files.open(path, "w") as f:
        f.write(text + "\n")
