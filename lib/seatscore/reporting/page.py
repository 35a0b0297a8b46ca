"""The report page as a file: what is done to nbconvert's HTML before it is written.

:func:`lighten` writes each table stylesheet once per page. great_tables puts a copy of its
stylesheet (about 9 KB) in every table, scoped to the table's random id; a month's report has
14 tables. Each copy is rescoped to a class named after its content and only the first copy of
each is kept, so the page carries one stylesheet per table style. It also gives the ids inside
each inline chart (Vega's ``gradient_0``, ``clip1`` …) a prefix of their own chart, so that one
chart never draws with another's gradient or clip path, and rounds the chart's coordinates to two
decimals (Vega writes ``23.333333333333332``; a hundredth of a pixel is invisible and the heat map
loses a fifth of its weight).
"""

from __future__ import annotations

import hashlib
import re

_TABLE = re.compile(
    r'<div id="(?P<id>[a-z]{10})" style="(?P<style>[^"]*)">\s*<style>(?P<css>.*?)</style>', re.S
)


def lighten(page: str) -> str:
    """``page`` with every great_tables stylesheet rescoped from its table's id to a class
    (``gt-<hash>``, the same for the same rules) and written once."""
    seen: set[str] = set()

    def once(m: re.Match) -> str:
        scoped = m["css"].replace(f"#{m['id']}", ".gt-scope")
        name = "gt-" + hashlib.sha1(scoped.encode("utf-8")).hexdigest()[:8]
        css = "" if name in seen else f"<style>{scoped.replace('.gt-scope', '.' + name)}</style>"
        seen.add(name)
        return f'<div id="{m["id"]}" class="{name}" style="{m["style"]}">{css}'

    return _own_ids(_TABLE.sub(once, page))


_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
_ID = re.compile(r'\bid="([^"]+)"')
_LONG_DECIMAL = re.compile(r"(?<![\d.])(\d+\.\d{3,})(?![\d.])")


def _rounded(match: re.Match) -> str:
    return f"{float(match.group(1)):.2f}".rstrip("0").rstrip(".")


def _own_ids(page: str) -> str:
    """Every id inside the n-th inline ``<svg>`` prefixed ``cN-``, with its references."""
    count = 0

    def prefix(m: re.Match) -> str:
        nonlocal count
        count += 1
        svg = _LONG_DECIMAL.sub(_rounded, m.group(0))
        for name in set(_ID.findall(svg)):
            new = f"c{count}-{name}"
            svg = (
                svg.replace(f'id="{name}"', f'id="{new}"')
                .replace(f"url(#{name})", f"url(#{new})")
                .replace(f'href="#{name}"', f'href="#{new}"')
            )
        return svg

    return _SVG.sub(prefix, page)
