"""Service-level sections of the reports: tables and charts with Chinese labels.

Two layers:

- on a tickets frame alone (any source, with or without a contract — the analysts' notebook uses
  them on the TipDM messages): :func:`volume_chart`, :func:`elapsed_chart`, :func:`heatmap_chart`,
  :func:`top_table`;
- on one contract-month (:class:`seatscore.reporting.report.ReportContext`): :func:`targets_table`,
  :func:`targets_trend`, :func:`dispatch`, :func:`hotspots`, :func:`repeats`, :func:`adequacy`.

Figures come from :mod:`seatscore.compute.service_levels`; shares are shown as percentages with the
ticket counts behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import altair as alt
import polars as pl
from great_tables import GT
from IPython.display import HTML

from seatscore.compute import findings
from seatscore.compute import service_levels as sl
from seatscore.compute.workload import Adequacy, staffing_adequacy
from seatscore.core.errors import SeatscoreError
from seatscore.core.privacy import mask_personal
from seatscore.ledgers import store as db
from seatscore.ledgers.sources import read_tipdm_messages
from seatscore.reporting.report import (
    BLUE,
    RED,
    ReportContext,
    chart_style,
    gt_table,
    load_context,
    month_zh,
    paragraph,
    pct,
    unit_value,
)
from seatscore.terms.measures import METRICS, SET_ASIDE_STATUSES, TICKET_STATUS_ZH
from seatscore.terms.periods import month_of

DIMENSIONS_ZH = {
    "channel": "来源渠道",
    "category": "问题类别",
    "district": "街道/区",
    "location": "点位",
}
"""Chinese labels of the ticket columns the volumes and hotspots are broken down by."""


# ---------------------------------------------------------------- on any tickets frame


def volume_chart(
    tickets: pl.DataFrame, by: str = "channel", grain: sl.Grain = "month", top: int = 8
) -> alt.TopLevelMixin | HTML:
    """Stacked bars of tickets per period by ``by`` (the ``top`` largest values, the rest as
    其他)."""
    if tickets.is_empty():
        return paragraph("没有工单。")
    counts = sl.volumes(tickets, by, grain)
    leaders = counts.group_by(by).agg(pl.col("tickets").sum()).sort("tickets", descending=True)[by]
    keep = leaders.head(top).to_list()
    frame = (
        counts.with_columns(
            pl.when(pl.col(by).is_in(keep)).then(pl.col(by)).otherwise(pl.lit("其他")).alias(by)
        )
        .group_by("period", by)
        .agg(pl.col("tickets").sum())
        .rename({"period": "期间", by: "分类", "tickets": "工单数"})
    )
    if grain == "month":
        frame = frame.with_columns(pl.format("{}-01", "期间").str.to_date().alias("期间"))
        x = alt.X("yearmonth(期间):T", title=None, axis=alt.Axis(format="%Y-%m", labelAngle=-45))
    else:
        x = alt.X("期间:N", title=None, axis=alt.Axis(labelAngle=-45))
    label = DIMENSIONS_ZH.get(by, by)
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("工单数:Q", title="工单数"),
            color=alt.Color("分类:N", title=label, sort=[*keep, "其他"]),
            tooltip=[alt.Tooltip("期间", title="期间"), "分类", "工单数"],
        )
        .properties(width=600, height=220, title=f"工单量（按{label}）")
    )
    return chart_style(chart)


def elapsed_chart(
    tickets: pl.DataFrame,
    column: str = "dispatched_at",
    edges_minutes: tuple[float, ...] = sl.DISPATCH_BINS,
    limit_minutes: float | None = None,
    title: str = "派发用时分布",
) -> alt.TopLevelMixin | HTML:
    """Bars of tickets by time from receipt to ``column``, in bins up to each edge (minutes,
    inclusive); bins beyond ``limit_minutes`` are red."""
    dist = sl.elapsed_distribution(tickets, column, edges_minutes)
    total = int(dist["tickets"].sum())
    if total == 0:
        return paragraph("没有可计算用时的工单。")
    frame = dist.with_columns(
        (
            pl.col("lower_minutes") >= limit_minutes if limit_minutes is not None else pl.lit(False)
        ).alias("超时"),
        (pl.col("share") * 100).round(1).alias("占比%"),
    ).rename({"bin": "用时", "tickets": "工单数"})
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("用时:N", sort=frame["用时"].to_list(), title=None),
            y=alt.Y("工单数:Q"),
            color=alt.condition(alt.datum["超时"], alt.value(RED), alt.value(BLUE)),
            tooltip=["用时", "工单数", "占比%"],
        )
    )
    text = bars.mark_text(dy=-6, color="#333").encode(
        text=alt.Text("占比%:Q", format=".1f"), color=alt.value("#333")
    )
    limit = f"（红色：超过 {sl.duration_zh(limit_minutes)} 时限）" if limit_minutes else ""
    chart = alt.layer(bars, text).properties(
        width=560, height=170, title=f"{title}：{total:,} 张工单{limit}，数字为占比%"
    )
    return chart_style(chart)


REPLY_BINS = (60, 240, 1440, 3 * 1440, 7 * 1440, 15 * 1440, 30 * 1440)
"""Bins for reply and close times: 1 h, 4 h, 1 day, 3, 7, 15 and 30 days."""


def heatmap_chart(tickets: pl.DataFrame, title: str = "受理时段分布") -> alt.TopLevelMixin | HTML:
    """Tickets by weekday × hour of receipt (高发时段)."""
    if tickets.is_empty():
        return paragraph("没有工单。")
    frame = sl.heatmap(tickets).rename({"weekday_zh": "星期", "hour": "时", "tickets": "工单数"})
    chart = (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("时:O", title="受理时刻（时）"),
            y=alt.Y("星期:N", sort=list(sl.WEEKDAYS_ZH), title=None),
            color=alt.Color("工单数:Q", scale=alt.Scale(scheme="blues"), title="工单数"),
            tooltip=["星期", "时", "工单数"],
        )
        .properties(width=560, height=180, title=title)
    )
    return chart_style(chart)


def top_table(tickets: pl.DataFrame, by: str, month: str, n: int = 10) -> GT | HTML:
    """The ``n`` largest values of ``by`` in ``month``, with change against the month before and
    the same month a year earlier (高发区域/点位/类别)."""
    top = sl.top_changes(tickets, by, month, n)
    if top.is_empty():
        return paragraph(f"{month_zh(month)} 没有工单。")

    def change(col: str) -> pl.Expr:
        return (
            pl.when(pl.col(col).is_null())
            .then(pl.lit("无数据"))
            .when(pl.col(col) > 0)
            .then(pl.format("▲{}", pl.col(col)))
            .when(pl.col(col) < 0)
            .then(pl.format("▼{}", -pl.col(col)))
            .otherwise(pl.lit("＝"))
        )

    label = DIMENSIONS_ZH.get(by, by)
    frame = top.select(
        pl.col(by).fill_null("（未填）").alias(label),
        pl.col("tickets").alias("本月"),
        pl.col("previous_month").cast(pl.String).fill_null("—").alias("上月"),
        change("change_previous").alias("环比"),
        pl.col("year_before").cast(pl.String).fill_null("—").alias("去年同月"),
        change("change_year").alias("同比"),
    )
    if by == "location":
        frame = frame.with_columns(
            pl.col(label).map_elements(mask_personal, return_dtype=pl.String)
        )
    return gt_table(
        frame, f"{label}前 {n}（{month_zh(month)}）", "无数据：该月没有任何工单，不按 0 计。"
    )


# ---------------------------------------------------------------- one contract-month


def _verdict_text(v: findings.Verdict | None) -> str:
    """The 达标 cell: met, missed with the tickets past the limit, or why there is no verdict."""
    if v is None:
        return "—（通用指标，无目标）"
    told = "（据乙方报告）" if v.source == "ledger" else ""
    if v.met is True:
        return "✓ 达标" + told
    if v.met is False:
        if v.by_share or v.missed is None:
            return "✗ 未达标" + told
        return f"✗ 未达标：{v.missed:,} 件{v.miss_zh}"
    return f"—（{v.reason_zh}）" if v.reason_zh else "—"


def targets_table(ctx: ReportContext) -> GT:
    """The month's service-level figures: each target of the contract and the general rates, the
    tickets behind them, the target, and whether it was met; figures the vendor reported in the
    KPI ledger beside the computed ones, with the difference."""
    table = ctx.kpi_table.filter(pl.col("period") == ctx.month)
    computed = table.filter(pl.col("source") == "tickets", pl.col("unit") == "share")
    reported = {
        r["key"]: r["value"]
        for r in table.filter(pl.col("source") == "ledger").iter_rows(named=True)
    }
    verdicts = {v.key: v for v in ctx.verdicts}
    measures = {m.key: m for m in sl.contract_measures(ctx.contract)}
    rows = []
    public = ctx.contract.kind == "public_source"
    if public and ctx.month_tickets.is_empty():  # only published figures: no rate to compute
        computed = computed.clear()
    unrecorded = []  # general rates no ticket carries the field for: one line, not a row each
    for r in computed.iter_rows(named=True):
        if _unrecorded(r):
            unrecorded.append(r["name_zh"])
            continue
        basis = f"{r['numerator']:,}/{r['denominator']:,}" if r["denominator"] else ""
        extra = []
        if r["pending"]:
            extra.append(f"{r['pending']} 张未到期")
        if r["unmeasured"]:
            extra.append(f"{r['unmeasured']} 张缺数据")
        v = verdicts.get(r["key"])
        ledger_value = reported.get(r["key"])
        rows.append(
            (
                r["name_zh"],
                pct(r["value"]) if r["value"] is not None else (r["note"] or "—"),
                basis + (f"（{'；'.join(extra)}）" if extra else ""),
                findings.limit_text(measures[r["key"]]),
                _verdict_text(v) if r["target_id"] is not None else "—（通用指标）",
                pct(ledger_value) if ledger_value is not None else "",
                f"{(ledger_value - r['value']) * 100:+.2f} 个百分点"
                if ledger_value is not None and r["value"] is not None
                else "",
                r["clause"] or "通用口径",
            )
        )
    rows += _ledger_only_rows(table, set(computed["key"].to_list()), measures)
    frame = pl.DataFrame(
        rows,
        schema=[
            "指标",
            "本月（工单计算）",
            "工单数",
            "目标/时限",
            "达标",
            "公布值" if public else "乙方报告",
            "差异",
            "条款",
        ],
        orient="row",
    )
    note = (
        "比率 = 达到要求的工单 ÷ 计入的工单；未到期（时限未过且尚未发生）与缺少所需字段的工单不计入。"
        "时限含端点（“10分钟内”即不超过10分钟）。本月没有适用工单时比率无定义，不按 0 计。"
        "乙方报告取自月度指标台账（公开数据则为其公布值）；差异 = 乙方报告 − 工单计算。"
    )
    if unrecorded:
        note += f"工单未记录所需字段、无从计算（无定义，不是 0）：{'、'.join(unrecorded)}。"
    note += set_aside_note(ctx)
    return gt_table(frame, f"服务指标（{month_zh(ctx.month)}）", note)


def set_aside_note(ctx: ReportContext) -> str:
    """The sentence saying how many of the month's tickets were set aside
    (:func:`seatscore.compute.service_levels.set_aside`: counted as received and held to the
    dispatch measures, not in the other rates and the close times), by status; empty when none
    was."""
    aside = ctx.month_tickets.filter(sl.set_aside())
    if aside.is_empty():
        return ""
    counts = aside.group_by("status").len().rows()
    counts.sort(key=lambda r: (-r[1], SET_ASIDE_STATUSES.index(r[0])))  # most first
    parts = "、".join(f"{TICKET_STATUS_ZH[s]} {n:,} 张" for s, n in counts)
    return (
        f"本月受理的 {ctx.month_tickets.height:,} 张工单中 {aside.height:,} 张标为重复、转出或撤销"
        f"（{parts}），计入受理量、话务量与派发考核，不计入回复、办结、解决、满意等比率和办结用时。"
    )


def _unrecorded(r: dict) -> bool:
    """A general rate (no target of the contract's) that no ticket has the field for."""
    return (
        r["value"] is None
        and r["target_id"] is None
        and not r["denominator"]
        and not r["pending"]
        and bool(r["unmeasured"])
    )


def _ledger_only_rows(table: pl.DataFrame, computed: set[str], measures: dict) -> list[tuple]:
    """Figures only the KPI ledger gives (SF311's calls answered, ASA …), with their source."""
    return [
        (
            r["name_zh"],
            "—（工单不含此项）",
            f"{r['denominator']:,}" if r["denominator"] else "",
            findings.limit_text(measures[r["key"]]) if r["key"] in measures else "—",
            {True: "✓ 达标", False: "✗ 未达标", None: "—"}[r["met_target"]],
            unit_value(r["value"], r["unit"]),
            "",
            r["clause"] or "月度指标台账",
        )
        for r in table.filter(
            pl.col("source") == "ledger", ~pl.col("key").is_in(sorted(computed))
        ).iter_rows(named=True)
    ]


def definitions(ctx: ReportContext) -> GT:
    """How each figure in :func:`targets_table` is defined (口径)."""
    keys = {m.metric for m in sl.contract_measures(ctx.contract)}
    rows = [
        (
            METRICS[k].name_zh,
            METRICS[k].definition_zh,
            "工单" if METRICS[k].from_tickets else "月度指标台账",
        )
        for k in METRICS
        if k in keys
    ]
    return gt_table(pl.DataFrame(rows, schema=["指标", "口径", "数据来源"], orient="row"))


def targets_trend(ctx: ReportContext) -> alt.TopLevelMixin | HTML:
    """Each target rate over the service period, with its target line where one is stated (100 %
    for a time limit that holds every ticket)."""
    kpis = ctx.kpi_table.filter(
        pl.col("source") == "tickets",
        pl.col("unit") == "share",
        pl.col("target_id").is_not_null(),
        pl.col("value").is_not_null(),
    )
    if kpis.is_empty():
        public = ctx.contract.kind == "public_source"
        return paragraph(
            "本数据来源没有可由工单计算、有目标的服务指标，不画趋势。"
            if public
            else "本合同没有可由工单计算的服务指标。"
        )
    # A time limit without a share holds every ticket to it: its target is 100 %.
    every = [m.key for m in sl.contract_measures(ctx.contract) if m.every_ticket]
    frame = kpis.sort("period").select(
        pl.col("period").map_elements(month_zh, return_dtype=pl.String).alias("月份"),
        pl.col("name_zh").alias("指标"),
        (pl.col("value") * 100).alias("比率%"),
        pl.when(pl.col("key").is_in(every))
        .then(pl.lit(100.0))
        .otherwise(pl.col("target_share") * 100)
        .alias("目标%"),
    )
    order = list(dict.fromkeys(frame["月份"].to_list()))
    x = alt.X("月份:N", sort=order, title=None, axis=alt.Axis(labelAngle=-45))
    lines = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("比率%:Q", scale=alt.Scale(zero=False), title="比率（%）"),
            color=alt.Color(
                "指标:N", legend=alt.Legend(orient="bottom", columns=2, labelLimit=320)
            ),
            tooltip=["月份", "指标", alt.Tooltip("比率%:Q", format=".2f"), "目标%"],
        )
    )
    targets = (
        alt.Chart(frame.filter(pl.col("目标%").is_not_null()).unique(["指标", "目标%"]))
        .mark_rule(strokeDash=[6, 4], color=RED)
        .encode(y="目标%:Q", tooltip=["指标", "目标%"])
    )
    chart = alt.layer(lines, targets).properties(
        width=560, height=220, title="服务指标趋势（虚线：合同目标）"
    )
    return chart_style(chart)


def dispatch(ctx: ReportContext) -> alt.TopLevelMixin | HTML:
    """The month's dispatch-time distribution against the limit for ordinary tickets (the one
    most tickets are held to), or the urgent one where only that is stated."""
    limits = sl.dispatch_limits(ctx.contract)
    limit = float(limits.get("ordinary") or limits.get("urgent") or 0) or None
    return elapsed_chart(
        ctx.month_tickets, "dispatched_at", sl.DISPATCH_BINS, limit, "派发用时分布"
    )


def reply_times(ctx: ReportContext) -> alt.TopLevelMixin | HTML:
    """The month's time from receipt to reply."""
    return elapsed_chart(ctx.month_tickets, "replied_at", REPLY_BINS, None, "回复用时分布")


def close_times(ctx: ReportContext) -> alt.TopLevelMixin | HTML:
    """The month's time from receipt to close, the median and 90th percentile beside it (the
    figures of ``seatscore kpis``: ``close_hours_median``, ``close_hours_p90``)."""
    figures = {
        r["key"]: r["value"]
        for r in ctx.kpi_table.filter(
            pl.col("period") == ctx.month, pl.col("source") == "tickets"
        ).iter_rows(named=True)
    }
    median, p90 = figures.get("close_hours_median"), figures.get("close_hours_p90")
    title = "办结用时分布"
    if median is not None and p90 is not None:
        title += f"（中位数 {median:,.1f} 小时，90分位 {p90:,.1f} 小时）"
    return elapsed_chart(ctx.month_tickets, "closed_at", REPLY_BINS, None, title)


def hotspots(ctx: ReportContext) -> list:
    """Peak hours, then the top districts, locations and categories (高发时段/区域/点位/类别)."""
    return [
        heatmap_chart(ctx.month_tickets, f"受理时段分布（{month_zh(ctx.month)}）"),
        top_table(ctx.tickets, "district", ctx.month, 8),
        top_table(ctx.tickets, "location", ctx.month, 8),
        top_table(ctx.tickets, "category", ctx.month, 8),
    ]


def repeats(ctx: ReportContext, limit: int = 10) -> GT | HTML:
    """Locations reported 3+ times within the contract's window (or the analysis window when the
    contract states none, said so) in the month, with their tickets."""
    item = next(
        (
            i
            for i in (ctx.contract.assessment.value.items if ctx.contract.assessment.value else [])
            if i.kind == "repeat_reports"
        ),
        None,
    )
    if item is None:
        min_reports, window = 3, None
    else:
        min_reports, window = item.min_reports, item.window_hours.value
    if window is None:
        window_used = sl.load_analysis_settings().repeat_reports.window_hours_when_unstated
        basis = (
            f"合同未规定时间窗口（{item.window_hours.note}），按分析设置 {window_used:g} 小时列出，"
            "不据此扣分"
            if item is not None
            else f"按分析设置 {window_used:g} 小时列出"
        )
    else:
        window_used = float(window)
        basis = f"合同窗口 {window_used:g} 小时（{item.clause}）"
    episodes = sl.repeated_reports(ctx.tickets, min_reports, window_used).filter(
        pl.col("month") == ctx.month
    )
    if episodes.is_empty():
        return paragraph(
            f"本月没有 {window_used:g} 小时内被反映 {min_reports} 次及以上的点位（{basis}）。"
        )
    shown = episodes.sort("reports", "first_at", descending=[True, False]).head(limit)
    frame = shown.select(
        pl.col("location").map_elements(mask_personal, return_dtype=pl.String).alias("点位"),
        pl.col("first_at").dt.strftime("%m-%d %H:%M").alias("首次"),
        pl.col("last_at").dt.strftime("%m-%d %H:%M").alias("末次"),
        pl.col("reports").alias("次数"),
        pl.col("prompted")
        .replace_strict({True: "已提示", False: "未提示"}, default="未记录", return_dtype=pl.String)
        .alias("即时提示"),
        pl.col("ticket_ids").list.join("、").alias("工单"),
    )
    not_prompted = episodes.filter(pl.col("prompted").not_()).height
    note = f"共 {episodes.height} 处（显示 {shown.height} 处），其中未提示 {not_prompted} 处。{basis}。"
    if episodes["prompted"].is_null().all():  # the tickets do not record prompts at all
        frame = frame.drop("即时提示")
        note = f"共 {episodes.height} 处（显示 {shown.height} 处）；工单未记录即时提示。{basis}。"
    return gt_table(frame, f"重复举报点位（{month_zh(ctx.month)}）", note)


def adequacy(ctx: ReportContext) -> list:
    """Erlang C seats needed per interval of the week from the month's calls (a lower bound:
    :mod:`seatscore.compute.workload`), against the seats the contract's headcount keeps on duty
    on average; the inputs with their sources, and the sensitivity to the handle time."""
    source = ctx.contract.data_source
    if source is not None and source.sample is not None:
        return [
            paragraph(
                f"数据为样本（{source.sample.covers_zh}），不是整月的来电，不据以估算座席需求。"
            )
        ]
    settings = sl.load_analysis_settings().staffing_adequacy
    result = staffing_adequacy(ctx.contract, ctx.tickets, ctx.month, settings, ctx.calls)
    if not result.calls:
        held = (
            f"本月工单中没有来电渠道的工单（{result.tickets_left_out:,} 张均来自其他渠道）"
            if result.tickets_left_out
            else "本月没有工单，也没有来电台账"
        )
        return [paragraph(f"{held}，无法估算座席需求；需要来电台账（话务系统导出）。")]
    frame = result.intervals.with_columns(
        (
            pl.col("weekday_zh")
            + " "
            + pl.col("hour").cast(pl.String).str.zfill(2)
            + ":"
            + pl.col("minute").cast(pl.String).str.zfill(2)
        ).alias("时段"),
        (
            (pl.col("weekday").cast(pl.Float64) - 1) * 24
            + pl.col("hour").cast(pl.Float64)
            + pl.col("minute").cast(pl.Float64) / 60
        ).alias("周内小时"),
    ).rename({"seats_needed": "所需座席", "calls_per_hour": "每小时来电"})
    needed = (
        alt.Chart(frame)
        .mark_line(interpolate="step-after", color=BLUE)
        .encode(
            x=alt.X(
                "周内小时:Q",
                title="一周中的小时（0 = 周一 0 时）",
                scale=alt.Scale(domain=[0, 168]),
                axis=alt.Axis(values=list(range(0, 169, 24))),
            ),
            y=alt.Y("所需座席:Q", title="座席数"),
            tooltip=["时段", alt.Tooltip("每小时来电:Q", format=".1f"), "所需座席"],
        )
    )
    layers = [needed]
    if result.seats_on_duty is not None:
        layers.append(
            alt.Chart(pl.DataFrame({"在岗座席": [result.seats_on_duty]}))
            .mark_rule(color=RED, strokeDash=[6, 4])
            .encode(y="在岗座席:Q", tooltip=[alt.Tooltip("在岗座席:Q", format=".1f")])
        )
    chart = chart_style(
        alt.layer(*layers).properties(
            width=600,
            height=200,
            title="Erlang C 所需座席（蓝"
            + ("，下限" if result.lower_bound else "")
            + "）与合同人数折算的平均在岗座席（红虚线）",
        )
    )
    return [chart, paragraph(_adequacy_summary(result))]


def _adequacy_summary(result: Adequacy) -> str:
    """The sentence under the Erlang C chart: the calls, seat-hours (with the handle-time
    sensitivity), the peak, and the contract's person-hours against them."""
    low, high = (result.sensitivity[f] for f in (0.8, 1.2))
    summary = (
        f"{result.basis_zh}。本月 {result.calls:,} 张来电工单"
        + (
            f"（另有 {result.tickets_left_out:,} 张来自其他渠道，未计）"
            if result.tickets_left_out
            else ""
        )
        + f"；所需座席小时至少 {result.needed_seat_hours_week:,} /周（处理时长 −20%：{low:,}，"
        f"+20%：{high:,}），计入缺勤与非话务时间需排班 {result.scheduled_seat_hours_week:,} /周，"
        f"峰值 {result.peak_seats_needed} 个座席"
    )
    if result.contracted_person_hours_week is not None:
        summary += f"；合同人数可提供 {result.contracted_person_hours_week:,.0f} 人·小时/周，" + (
            f"每周有 {result.hours_short:g} 小时所需座席超过平均在岗座席"
            if result.hours_short
            else "没有任何时段所需座席超过平均在岗座席"
        )
    summary += "。合同未规定各岗位的具体班次时段，在岗座席按全周平均。"
    return summary


# ---------------------------------------------------------------- the analysts' notebook


@dataclass(frozen=True)
class Analysis:
    """What ``notebooks/service_levels.ipynb`` works on: tickets, and the contract-month context
    when the tickets belong to a contract (None for a public dataset such as TipDM)."""

    label: str
    tickets: pl.DataFrame
    month: str
    ctx: ReportContext | None


def load_analysis(
    source: str, db_path: str, contract_id: str, month: str, real_data_dir: str
) -> Analysis:
    """``source='db'``: one contract's tickets from the database; ``month`` ``latest`` (or empty)
    = the latest month with data, as the reports default to. ``source='tipdm'``: the TipDM messages from ``real_data_dir``.

    Raises :class:`~seatscore.core.errors.SeatscoreError` for an unknown source, and
    ``FileNotFoundError`` naming the TipDM file when it is absent.
    """
    if source == "tipdm":
        folder = Path(real_data_dir)
        messages = folder / "tipdm2020C_fujian4_messages_with_replies.xlsx"
        if not messages.exists():
            raise FileNotFoundError(f"{messages}: the TipDM messages are not there")
        tickets = read_tipdm_messages(messages)
        if month in ("", "latest"):
            month = _latest_full_month(tickets)
        return Analysis("TipDM 2020 留言板（真实公开数据）", tickets, month, None)
    if source != "db":
        raise SeatscoreError(f"unknown source {source!r}: use 'db' or 'tipdm'")
    if month in ("", "latest"):
        with db.connect(db_path, read_only=True) as con:
            found = db.latest_month_with_data(con, contract_id)
        if found is None:
            raise SeatscoreError(f"{contract_id} has no ledger rows in {db_path}; give a month")
        month = found
    ctx = load_context(db_path, contract_id, month)
    return Analysis(ctx.contract.title_zh, ctx.tickets, month, ctx)


def _latest_full_month(tickets: pl.DataFrame) -> str:
    """The latest month with at least half the median monthly volume of the last twelve: a
    dataset often ends a few days into a month, which makes a poor default."""
    month = month_of("received_at").alias("period")
    recent = tickets.group_by(month).len("tickets").sort("period").tail(12)
    floor = recent["tickets"].median() / 2
    return recent.filter(pl.col("tickets") >= floor)["period"].max()


def kpi_grid(ctx: ReportContext, grain: sl.Grain = "week", last: int = 12) -> GT:
    """The contract's rates per day or week (the ``last`` periods up to the month's end), one
    column per measure, as percentages."""
    table = sl.ticket_kpis(ctx.contract, ctx.tickets, grain).filter(pl.col("unit") == "share")
    end = ctx.metrics.months.filter(pl.col("month") == ctx.month)["last_day"][0]
    table = table.filter(
        pl.col("period") <= end.strftime(sl.PERIOD_FORMATS[grain]), pl.col("note").is_null()
    )
    periods = sorted(table["period"].unique().to_list())[-last:]
    wide = (
        table.filter(pl.col("period").is_in(periods))
        .with_columns((pl.col("value") * 100).round(2))
        .pivot(on="name_zh", index="period", values="value")
        .sort("period")
        .rename({"period": "周" if grain == "week" else "日"})
    )
    return gt_table(wide, f"按{'周' if grain == 'week' else '日'}的服务指标（%）")
