"""The report page as a file: what is done to nbconvert's HTML before it is written.

:func:`lighten` writes each table stylesheet once per page. great_tables puts a copy of its
stylesheet (about 9 KB) in every table, scoped to the table's random id; a month's report has
14 tables. Each copy is rescoped to a class named after its content and only the first copy of
each is kept, so the page carries one stylesheet per table style.
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

    return _TABLE.sub(once, page)
