"""The report page file: one stylesheet per table style, and ids private to each chart."""

from __future__ import annotations

import re

import polars as pl

from seatscore.reporting.page import lighten
from seatscore.reporting.report import gt_table


def test_each_table_style_is_written_once_and_every_table_keeps_it():
    tables = [gt_table(pl.DataFrame({"项目": [f"第{i}行"]}), f"表{i}") for i in range(3)]
    raw = "".join(t.as_raw_html() for t in tables)
    assert raw.count("<style>") == 3
    page = lighten(raw)
    assert page.count("<style>") == 1
    classes = set(re.findall(r'<div id="[a-z]{10}" class="(gt-[0-9a-f]{8})"', page))
    assert len(classes) == 1  # the same rules, the same class on all three tables
    (name,) = classes
    assert (
        f".{name} .gt_table" in page
        and "#" + re.findall(r'<div id="([a-z]{10})"', raw)[0] not in page
    )
    assert len(page) < len(raw) - 2 * 5_000  # two copies of a ~9 KB stylesheet gone


def test_ids_inside_each_chart_are_its_own():
    chart = (
        '<svg><defs><linearGradient id="gradient_0"/></defs><rect fill="url(#gradient_0)"/></svg>'
    )
    page = lighten(chart + chart)
    assert page.count('id="c1-gradient_0"') == 1 and page.count('id="c2-gradient_0"') == 1
    assert "url(#c1-gradient_0)" in page and "url(#c2-gradient_0)" in page


def test_chart_coordinates_are_rounded_to_hundredths_and_nothing_else_changes():
    chart = (
        '<svg><path d="M23.333333333333332,0h25.714285714285715v180"/>'
        "<text>1.2345 平均 3.5</text></svg>"
    )
    page = lighten("<p>工单 1.23456</p>" + chart)
    assert 'd="M23.33,0h25.71v180"' in page
    assert "<text>1.23 平均 3.5</text>" in page  # inside a chart: a label's long decimal too
    assert "<p>工单 1.23456</p>" in page  # outside a chart nothing is touched
