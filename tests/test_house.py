"""The house rules that no linter checks for us: no module reaches into another's private names, and
no function outside the tests runs over 80 lines (`make lint` runs import-linter for the layers
and the absence of import cycles)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = sorted((ROOT / "lib" / "seatscore").rglob("*.py"))
MAX_FUNCTION_LINES = 80


def _seatscore_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name → the seatscore module it is bound to (``from seatscore.x import y as z``)."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("seatscore"):
            for name in node.names:
                aliases[name.asname or name.name] = f"{node.module}.{name.name}"
        elif isinstance(node, ast.Import):
            for name in node.names:
                if name.name.startswith("seatscore"):
                    aliases[name.asname or name.name] = name.name
    return aliases


def private_uses(path: Path) -> list[str]:
    """``file:line name`` for each private name of another seatscore module the file uses."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = ".".join(path.relative_to(ROOT / "lib").with_suffix("").parts)
    package = module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("seatscore"):
            own_package = node.module.startswith(package + ".") or node.module == package
            for name in node.names:
                private = name.name.startswith("_") and not name.name.startswith("__")
                if private and not own_package:
                    found.append(f"{path.name}:{node.lineno} {node.module}.{name.name}")
    aliases = _seatscore_aliases(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{path.name}:{node.lineno} {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    # A private module of a package (compute/rules/_share.py) serves its own package only.
    assert [use for path in CODE for use in private_uses(path)] == []


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


def test_no_function_outside_the_tests_runs_over_80_lines():
    assert [f for path in CODE for f in long_functions(path)] == []
