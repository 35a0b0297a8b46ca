"""``repeat_reports``: ``points`` per location reported ``min_reports`` or more times within
``window_hours`` without an instant prompt to the unit on the ground (000 附件二 第四章 一 2);
computed from the tickets' ``location`` and ``repeat_prompted``. An unstated window makes the item
not assessable."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Literal

import polars as pl
from pydantic import Field

from seatscore.compute.rule_inputs import ITEM_SCHEMA, RuleInputs, unassessable
from seatscore.compute.service_levels import repeated_reports
from seatscore.ledgers.kinds import with_refs
from seatscore.terms.fields import Points, Term
from seatscore.terms.rule_kinds import RuleItem


class Params(RuleItem):
    kind: Literal["repeat_reports"]
    points: Points
    min_reports: int = Field(ge=2)
    window_hours: Term[Decimal]


def points(inputs: RuleInputs, item: Params) -> tuple[pl.DataFrame, list[dict]]:
    """000 附件二 第四章 一 2: ``item.points`` per location reported ``min_reports``+ times within
    the window without an instant prompt (:func:`seatscore.compute.service_levels.repeated_reports`).
    Not assessable while the window is unstated, and for locations whose tickets do not record
    whether a prompt was made."""
    tickets, months = inputs.tickets, inputs.months

    reason = partial(unassessable, item)

    window = item.window_hours.value
    if window is None:
        note = item.window_hours.note or "合同未写明"
        return pl.DataFrame(schema=ITEM_SCHEMA), [
            reason(m, f"时间窗口未规定：{note}", "terms") for m in months
        ]
    episodes = repeated_reports(tickets, item.min_reports, float(window))
    refs = with_refs(tickets).select("ticket_id", "ref")
    rows, missing = [], []
    for m in months:
        month = episodes.filter(pl.col("month") == m)
        unknown = month.filter(pl.col("prompted").is_null()).height
        if unknown:
            missing.append(reason(m, f"{unknown} 处重复举报点位的工单未记录是否即时提示"))
        failed = month.filter(pl.col("prompted").not_(), pl.col("prompted").is_not_null())
        if failed.is_empty():
            continue
        ids = failed.explode("ticket_ids")["ticket_ids"]
        evidence = refs.filter(pl.col("ticket_id").is_in(ids.implode()))["ref"]
        rows.append(
            {
                "month": m,
                "item_id": item.item_id,
                "occurrences": failed.height,
                "points": item.points * failed.height,
                "detail_zh": "、".join(failed["location"].to_list()[:5])
                + (" 等" if failed.height > 5 else "")
                + f"（{float(window):g} 小时内 {item.min_reports} 次及以上）",
                "rows": [r for r in evidence.to_list() if r["row"] is not None],
            }
        )
    return pl.DataFrame(rows, schema=ITEM_SCHEMA), missing
