"""The catalogue of service-level measures: every metric key a contract's target, a KPI ledger row
or a report may name, with its Chinese name, unit and definition; and the ticket columns the
measures read. Computing them is :mod:`seatscore.compute.service_levels`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["share", "minutes", "hours", "seconds", "count"]


@dataclass(frozen=True)
class MetricInfo:
    """A metric key: its Chinese name, unit, definition, and whether tickets can yield it.

    ``deadline``: each ticket is held to a time limit (the target's ``limit_minutes``, the day's
    midnight or the ticket's own ``due_at``), so a target that states a limit but no share is
    missed by any ticket past it (000 附件二 第四章 一 1: 每超时一单扣0.5分).
    """

    key: str
    name_zh: str
    unit: Unit
    definition_zh: str
    from_tickets: bool = True
    needs_limit: bool = False
    deadline: bool = False
    miss_zh: str = "超过时限"
    """What a ticket that misses it did, in a sentence: ``3 件超过时限``."""
    handling: bool = False
    """A measure of how the hotline handled the call itself (dispatch, its accuracy, arrival):
    a ticket set aside later (:data:`SET_ASIDE_STATUSES`) is still held to it (000 附件二 第四章
    一 1: 每超时处理一个单据扣0.5分, whatever became of the ticket; 003's 错报 per case)."""


METRICS: dict[str, MetricInfo] = {
    m.key: m
    for m in (
        MetricInfo("tickets", "受理工单数", "count", "本期受理（按受理时间）的工单数"),
        MetricInfo(
            "set_aside",
            "不计入服务指标的工单数",
            "count",
            "本期受理的工单中重复的，以及已转出或已撤销（有办结时间）的：计入受理工单数和话务量，"
            "不计入回复、办结、解决、满意等比率与办结用时；派发时限、派单准确率与到场时限仍计入",
        ),
        MetricInfo(
            "dispatch_minutes",
            "限时派发率",
            "share",
            "受理后在时限内派发的工单 ÷ 已派发工单；未派发（如直接答复）的工单不计入",
            needs_limit=True,
            deadline=True,
            handling=True,
        ),
        MetricInfo(
            "dispatch_minutes_median", "派发用时中位数", "minutes", "受理到派发的分钟数的中位数"
        ),
        MetricInfo(
            "dispatch_minutes_p90", "派发用时90分位", "minutes", "90% 的工单在此分钟数内派发"
        ),
        MetricInfo(
            "closed_by_due_share",
            "按时办结率",
            "share",
            "办结时间不晚于工单自身办理时限的工单 ÷ 已办结或已过时限的工单；"
            "过时限仍未办结的计为超时，未到时限且未办结的不计入，无办理时限的工单不计入",
            deadline=True,
        ),
        MetricInfo(
            "close_hours_median", "办结用时中位数", "hours", "已办结工单受理到办结的小时数的中位数"
        ),
        MetricInfo(
            "close_hours_p90",
            "办结用时90分位",
            "hours",
            "90% 的已办结工单在此小时数内办结（线性插值，同派发用时90分位）",
        ),
        MetricInfo(
            "reply_minutes",
            "限时回复率",
            "share",
            "受理后在时限内回复的工单 ÷ 已回复或已超时的工单；未到期且未回复的不计入",
            needs_limit=True,
            deadline=True,
        ),
        MetricInfo(
            "reply_by_same_day_midnight",
            "当日24时前回复率",
            "share",
            "受理当日24时前回复的工单 ÷ 已回复或已过当日24时的工单",
            deadline=True,
        ),
        MetricInfo(
            "close_minutes",
            "限时办结率",
            "share",
            "受理后在时限内办结的工单 ÷ 已办结或已超时的工单；未到期且未办结的不计入",
            needs_limit=True,
            deadline=True,
        ),
        MetricInfo(
            "arrival_minutes",
            "限时到场率",
            "share",
            "受理后在时限内到场的工单 ÷ 有到场时间的工单（按距离分档）",
            needs_limit=True,
            deadline=True,
            handling=True,
        ),
        MetricInfo("response_rate", "响应率", "share", "已回复（联系诉求人）的工单 ÷ 受理工单"),
        MetricInfo(
            "resolution_rate",
            "解决率",
            "share",
            "回访中诉求人表示问题已解决的工单 ÷ 回访中作出是否解决评价的工单",
        ),
        MetricInfo(
            "satisfaction_rate",
            "满意率",
            "share",
            "回访中诉求人表示满意的工单 ÷ 回访中作出满意评价的工单",
        ),
        MetricInfo("callback_rate", "回访率", "share", "已回访的工单 ÷ 已办结的工单"),
        MetricInfo(
            "dispatch_accuracy",
            "派单准确率",
            "share",
            "派发正确的工单 ÷ 有派发正误判定的工单",
            handling=True,
        ),
        MetricInfo("processing_rate", "处理率", "share", "已回复或已办结的工单 ÷ 受理工单"),
        MetricInfo(
            "callback_unclosed_after_days",
            "超期未办结案件回访率",
            "share",
            "时限内未办结的工单中已回访的比例",
            needs_limit=True,
            deadline=True,
            miss_zh="超期未办结且未回访",
        ),
        # Figures no ticket ledger carries: delivered in the KPI ledger or not at all.
        MetricInfo("calls_answered", "接听量", "count", "本期接听的来电数", from_tickets=False),
        MetricInfo(
            "answered_within_60s_share",
            "60秒内接听率",
            "share",
            "60 秒内接听的来电 ÷ 接听来电（SF311 的 service level）",
            from_tickets=False,
        ),
        MetricInfo(
            "average_speed_of_answer_s",
            "平均应答时间",
            "seconds",
            "来电从排队到接听的平均秒数（ASA）",
            from_tickets=False,
        ),
        MetricInfo(
            "transferred_share", "转接率", "share", "被转接的来电 ÷ 接听来电", from_tickets=False
        ),
        MetricInfo(
            "answer_rings", "限定响铃内接通率", "share", "在规定响铃次数内接通的来电占比", False
        ),
        MetricInfo("report_minutes", "限时上报率", "share", "在时限内上报的紧急案件占比", False),
        MetricInfo(
            "chase_minutes", "限时督办率", "share", "承办单位未反馈时在时限内督办的占比", False
        ),
        MetricInfo("report_accuracy", "上报准确率", "share", "测评案件上报准确的占比", False),
        MetricInfo("content_quality", "工单内容质量", "share", "工单内容质量抽检合格率", False),
        MetricInfo(
            "satisfaction_data_users",
            "数据使用部门满意度",
            "share",
            "数据使用部门（甲方内部）的满意度",
            False,
        ),
        MetricInfo(
            "bachelor_degree_share", "本科及以上学历座席占比", "share", "座席员学历结构", False
        ),
        MetricInfo(
            "weibo_posts_per_week", "微博每周更新次数", "count", "每周微博信息更新次数", False
        ),
    )
}
THREE_RATES = ("response_rate", "resolution_rate", "satisfaction_rate")
"""The three 12345 rates (响应率、解决率、满意率) that 001 一 1 (6) asks the vendor to report."""
GENERAL = (
    *THREE_RATES,
    "callback_rate",
    "dispatch_accuracy",
    "processing_rate",
    "closed_by_due_share",
)
"""Rates computed for every contract, with a target where the contract states one."""
_PRIORITY_SUFFIXES = ("urgent", "ordinary")


def split_metric(metric: str) -> tuple[str, str | None]:
    """``'dispatch_minutes_urgent'`` → ``('dispatch_minutes', 'urgent')``; a key without a
    priority suffix comes back unchanged with ``None``."""
    for priority in _PRIORITY_SUFFIXES:
        base = metric.removesuffix(f"_{priority}")
        if base != metric and base in METRICS:
            return base, priority
    return metric, None


def known_metric(metric: str) -> bool:
    """Whether ``metric`` is a key of :data:`METRICS`, possibly with a priority suffix."""
    return split_metric(metric)[0] in METRICS


TICKET_STATUSES = ("open", "closed", "resolved", "duplicate", "transferred", "cancelled")
"""What a ticket's ``status`` may say: still open (办理中), closed (已办结), resolved (已解决), a
duplicate of another ticket (重复), transferred out of this service to another hotline or agency
(转出, not 12345's 转办 to a unit, which is its dispatch) or cancelled (撤销)."""
TICKET_STATUS_ZH = {
    "open": "办理中",
    "closed": "已办结",
    "resolved": "已解决",
    "duplicate": "重复",
    "transferred": "转出",
    "cancelled": "撤销",
}
"""How the reports name each status."""
SET_ASIDE_STATUSES = ("duplicate", "transferred", "cancelled")
"""Statuses of tickets that are no service of their own: counted as received (volumes, workload:
a duplicate call is still a call) but left out of the rates of what became of a ticket (reply,
close, deadline, resolution, satisfaction, callback) and of the close times, and counted apart
(``set_aside``); still held to the measures of how the call was handled (``handling``). 311
systems close a duplicate at once, which would flatter the time to close and count it as
resolved. A duplicate is set aside from receipt (it repeats a filing); a transfer or a
cancellation once the ticket is closed (until then it is open like any other, so a ticket
overdue in one month does not leave it when cancelled in the next)."""

TIME_COLUMNS = ("received_at", "dispatched_at", "replied_at", "closed_at", "arrived_at")
"""The times something happened to a ticket: the latest of them is when the data were cut."""
STATE_COLUMNS = (
    "contract_id",
    *TIME_COLUMNS,
    "due_at",
    "priority",
    "case_class",
    "category_group",
    "channel",
    "direct_dispatch",
    "distance_km",
    "callback_done",
    "dispatch_correct",
    "resolved",
    "satisfied",
    "status",
)
"""The ticket columns the measures read: all :func:`ticket_kpis` and :func:`portfolio_kpis`
need from a (possibly very large) tickets table."""
