"""Displayable pieces of the vendor comparison (``notebooks/vendor_comparison.ipynb``): tables with
Chinese labels and Altair charts, from the frames of :mod:`seatscore.compute.comparison` and
:mod:`seatscore.compute.scenarios`. Money as ``¥11,624.25``; "—" where a figure is not assessable."""

from __future__ import annotations

import altair as alt
import polars as pl
from great_tables import GT
from IPython.display import HTML

from seatscore.compute.comparison import (
    BROAD_ZH,
    LABELS_ZH,
    NARROW_ZH,
    attainment_zh,
    seat_hour_cost_zh,
)
from seatscore.compute.scenarios import WhatIf
from seatscore.core.money import format_cny
from seatscore.reporting.report import (
    BLUE,
    RED,
    chart_style,
    escape_html,
    gt_table,
    paragraph,
)


def _cny(column: str) -> pl.Expr:
    return pl.col(column).map_elements(format_cny, return_dtype=pl.String, skip_nulls=False)


def _count(column: str) -> pl.Expr:
    return pl.col(column).map_elements(
        lambda v: f"{v:,}" if v else "—", return_dtype=pl.String, skip_nulls=False
    )


def _share(column: str) -> pl.Expr:
    return pl.col(column).map_elements(
        lambda v: f"{v:.2%}" if v is not None else "—", return_dtype=pl.String, skip_nulls=False
    )


def _range(frame: pl.DataFrame) -> pl.Series:
    """The cost per covered seat-hour of each row as a person reads it (one figure or the range
    on the two readings, :func:`seatscore.compute.comparison.seat_hour_cost_zh`)."""
    return pl.Series([seat_hour_cost_zh(r) for r in frame.iter_rows(named=True)], dtype=pl.String)


def _names(frame: pl.DataFrame) -> list[pl.Expr]:
    """A contract as a planner names it: its title and the buyer (the district's office)."""
    return [pl.col("title_zh").alias("合同"), pl.col("buyer_zh").alias("甲方")]


def heading(prices_zh: str, contracts: int) -> HTML:
    return HTML(
        f"<h1>供应商成本对比</h1><p>{contracts} 份合同 · {escape_html(prices_zh)}。"
        "“—”表示合同未规定所需条款或没有台账数据，原因见文末。</p>"
    )


def unit_costs(frame: pl.DataFrame) -> GT:
    """The unit costs per contract (:data:`seatscore.compute.comparison.COMPARISON_SCHEMA`)."""
    table = frame.select(
        *_names(frame),
        pl.col("vendor_zh").alias("乙方"),
        pl.format("{} 至 {}", "service_start", "service_end").alias("服务期"),
        _cny("amount_cny").alias("合同金额"),
        _cny("cost_per_seat_month_cny").alias("每座席·月"),
        _cny("cost_per_staffed_seat_day_cny").alias("每实到人·天"),
        _cny("cost_per_ticket_handled_cny").alias("每受理工单"),
        _cny("cost_per_ticket_resolved_cny").alias("每办结工单"),
    ).with_columns(
        _range(frame).alias("每覆盖座席小时"),
        pl.Series([attainment_zh(r) for r in frame.iter_rows(named=True)]).alias("指标达标"),
    )
    return gt_table(
        table,
        "单位成本",
        "每座席·月 = 合同金额 ÷ 服务月数 ÷ 座席数（合同最低人数；未规定人数的按班次折算为每周40小时的"
        "座席当量，与各月报告相同）；每覆盖座席小时 = 合同金额 ÷ 覆盖座席小时，合同未写全各岗位的"
        "班次或在岗座席数时按宽读与窄读给出区间（见下节）；每实到人·天、每工单按有台账月份的名义月费计；"
        "指标达标 = 各合同按其自己的指标：有结论的月份中全部达标的月数，以及指标·月（一个指标在一个月）"
        "达标的个数；限时类指标每件都须在时限内，一件超时即该月未达标。各合同的百分制考核标准不同，"
        "得分不作跨合同比较。",
    )


def cover(frame: pl.DataFrame) -> GT:
    """How each contract's covered seat-hours were counted, on both readings."""

    def hours(row: dict) -> str:
        low, high = row["covered_seat_hours_low"], row["covered_seat_hours_high"]
        if low is None:
            return "—"
        return f"{low:,.0f}" if low == high else f"窄读 {low:,.0f}，宽读 {high:,.0f}"

    table = frame.select(*_names(frame)).with_columns(
        pl.Series([hours(r) for r in frame.iter_rows(named=True)]).alias("覆盖座席小时"),
        frame["cover_basis_zh"].alias("计算"),
    )
    return gt_table(
        table,
        "覆盖座席小时的计算",
        f"5天班次按国务院公布的工作日计，7天班次按日历天计。{NARROW_ZH}。{BROAD_ZH}。",
    )


def recovered(frame: pl.DataFrame) -> GT:
    """Payable against nominal over the months with data."""
    table = frame.select(
        *_names(frame),
        pl.format("{} 至 {}", "observed_from", "observed_through").alias("有数据的月份"),
        _cny("nominal_cny").alias("名义费用"),
        _cny("payable_cny").alias("应付"),
        _cny("recovered_cny").alias("扣回"),
        _share("recovered_share").alias("扣回比例"),
        pl.when(pl.col("payable_complete").not_())
        .then(pl.lit("有未能评估的规则，应付可能更低"))
        .otherwise(pl.lit(""))
        .alias("说明"),
    )
    return gt_table(table, "应付与名义：考核扣回了多少")


def cost_chart(frame: pl.DataFrame) -> alt.TopLevelMixin:
    """Cost per seat-month (bars) and per covered seat-hour (a point, or a line from the broad
    to the narrow reading where the cover is not stated in full), contracts by name."""
    data = frame.select(
        pl.col("title_zh").alias("合同"),
        pl.col("cost_per_seat_month_cny").cast(pl.Float64).alias("每座席·月"),
        pl.col("cost_per_covered_seat_hour_low_cny").cast(pl.Float64).alias("宽读"),
        pl.col("cost_per_covered_seat_hour_high_cny").cast(pl.Float64).alias("窄读"),
    )
    y = alt.Y("合同:N", title=None, sort=None, axis=alt.Axis(labelLimit=220))
    per_month = (
        alt.Chart(data)
        .mark_bar(color=BLUE)
        .encode(
            y=y,
            x=alt.X("每座席·月:Q", title="元 / 座席·月"),
            tooltip=["合同", alt.Tooltip("每座席·月:Q", format=",.2f")],
        )
        .properties(width=260, height=170, title="每座席·月")
    )
    hours = alt.Chart(data).encode(y=y)
    per_hour = alt.layer(
        hours.mark_rule(color=BLUE, strokeWidth=3).encode(
            x=alt.X("宽读:Q", title="元 / 覆盖座席小时"), x2="窄读:Q"
        ),
        hours.mark_point(color=BLUE, filled=True).encode(x="宽读:Q"),
        hours.mark_point(color=RED, filled=True).encode(
            x="窄读:Q",
            tooltip=[
                "合同",
                alt.Tooltip("宽读:Q", format=",.2f"),
                alt.Tooltip("窄读:Q", format=",.2f"),
            ],
        ),
    ).properties(width=260, height=170, title="每覆盖座席小时（蓝：宽读，红：窄读）")
    return chart_style(alt.hconcat(per_month, per_hour))


def structure(frame: pl.DataFrame) -> GT | HTML:
    """The stated cost breakdowns (:func:`seatscore.compute.comparison.cost_structure`)."""
    if frame.is_empty():
        return paragraph("没有合同列明成本构成。")
    table = frame.select(
        pl.col("title_zh").alias("合同"),
        pl.col("name_zh").alias("构成"),
        pl.col("clause").alias("条款"),
        _cny("amount_cny").alias("金额"),
        _share("share").alias("占比"),
        _cny("per_seat_month_cny").alias("每座席·月"),
    )
    return gt_table(table, "成本构成（合同列明者）")


def benchmarks(ours: pl.DataFrame, market: pl.DataFrame) -> GT:
    """Our contracts per staff-month beside other published purchases
    (:func:`seatscore.compute.comparison.read_benchmarks`); rows without enough facts listed apart."""
    mine = ours.select(
        pl.lit("本项目").alias("来源"),
        pl.col("title_zh").alias("项目"),
        pl.format("{}—{}", "service_start", "service_end").alias("时间"),
        _cny("amount_cny").alias("金额"),
        pl.lit("—").alias("每座席·月"),
        _cny("cost_per_seat_month_cny").alias("每人·月"),
        pl.col("seat_basis_zh").alias("说明"),
    )
    theirs = market.select(
        pl.col("city").alias("来源"),
        pl.col("project").fill_null("").str.slice(0, 24).alias("项目"),
        pl.col("date_or_period").fill_null("").alias("时间"),
        _cny("amount_cny").alias("金额"),
        _cny("cost_per_seat_month_cny").alias("每座席·月"),
        _cny("cost_per_staff_month_cny").alias("每人·月"),
        pl.when(pl.col("comparable"))
        .then(pl.col("amount_basis_zh"))
        .otherwise(pl.lit("不可比：") + pl.col("reason_zh"))
        .alias("说明"),
    )
    return gt_table(
        pl.concat([mine, theirs]),
        "市场参照：其他公开采购",
        "每座席·月 = 金额 ÷ 月数 ÷ 座席数；每人·月 = 金额 ÷ 月数 ÷ 人数。缺少金额、期限或人数（座席数）"
        "的记录列为不可比，不作推算。各采购口径（含税、服务范围）不一，仅供参照。",
    )


def scenario_costs(result: WhatIf) -> GT:
    table = result.costs.select(
        pl.col("case_zh").alias("方案"),
        _cny("amount_cny").alias("总价"),
        _count("minimum_headcount").alias("最低人数"),
        _cny("cost_per_seat_month_cny").alias("每座席·月"),
        pl.col("cover_basis_zh").alias("覆盖计算"),
    ).insert_column(3, _range(result.costs).alias("每覆盖座席小时"))
    note = result.scenario.note or ""
    return gt_table(
        table,
        f"下期招标情景：{result.scenario.name_zh}",
        f"情景条款均为假设，不是合同条款。{note}",
    )


def scenario_adequacy(result: WhatIf) -> alt.TopLevelMixin | HTML:
    """Needed seat-hours a week (Erlang C) per month against what each case keeps on duty."""
    if not result.adequacy["calls"].sum():
        return paragraph(
            "近十二个月的工单中没有来电渠道的工单，也没有来电台账：无法由话务量估算所需座席，"
            "也就无法比较两种方案的在岗座席是否足够。"
        )
    data = result.adequacy.filter(pl.col("seats_on_duty").is_not_null())
    if data.is_empty():
        return paragraph("合同与情景都未规定人数，无法比较在岗座席与 Erlang C 需求。")
    frame = data.select(
        pl.col("month").alias("月份"),
        pl.col("case_zh").alias("方案"),
        pl.col("needed_seat_hours_week").alias("每周所需座席小时"),
        (pl.col("seats_on_duty") * 168).alias("每周在岗座席小时"),
        pl.col("short_seat_hours_week").alias("每周缺口座席小时"),
        pl.col("hours_short").alias("不足的小时数"),
    )
    needed = (
        alt.Chart(frame.filter(pl.col("方案") == "现行合同"))
        .mark_bar(color="#c7d2fe")
        .encode(
            x=alt.X("月份:N", title=None),
            y=alt.Y("每周所需座席小时:Q", title="座席小时 / 周"),
            tooltip=["月份", "每周所需座席小时"],
        )
    )
    on_duty = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x="月份:N",
            y="每周在岗座席小时:Q",
            color=alt.Color("方案:N", scale=alt.Scale(range=[BLUE, RED]), title=None),
            tooltip=[
                "月份",
                "方案",
                alt.Tooltip("每周在岗座席小时:Q", format=",.0f"),
                "每周缺口座席小时",
                "不足的小时数",
            ],
        )
    )
    return chart_style(
        alt.layer(needed, on_duty).properties(
            width=620,
            height=220,
            title="Erlang C 所需座席小时（柱）与人数可保持的在岗座席小时（线）",
        )
    )


def scenario_gap(result: WhatIf) -> GT | HTML:
    """The months with a shortfall (Erlang C need above what the headcount keeps on duty); one
    line when no month has one."""
    if not result.adequacy["calls"].sum():
        return paragraph("没有来电数据，不列配置缺口。")
    short = result.adequacy.filter(pl.col("hours_short") > 0)
    if short.is_empty():
        cases = "、".join(dict.fromkeys(result.adequacy["case_zh"].to_list()))
        return paragraph(
            f"{cases}：近十二个月每周每个小时的在岗座席均不少于 Erlang C 所需，没有缺口。"
        )
    table = short.select(
        pl.col("month").alias("月份"),
        pl.col("case_zh").alias("方案"),
        _count("tickets").alias("工单"),
        pl.col("needed_seat_hours_week").alias("每周所需座席小时"),
        pl.col("seats_on_duty").round(1).alias("平均在岗座席"),
        pl.col("hours_short").alias("不足的小时数（每周168小时中）"),
        pl.col("short_seat_hours_week").round(1).alias("每周缺口座席小时"),
    )
    return gt_table(table, "有缺口的月份（近十二个月的工单）", result.basis_zh)


def not_assessable(frame: pl.DataFrame) -> GT | HTML:
    rows = (
        frame.filter(pl.col("not_assessable").is_not_null())
        .select("title_zh", pl.col("not_assessable").str.split("\n"))
        .explode("not_assessable")
        .select(
            pl.col("title_zh").alias("合同"),
            pl.col("not_assessable")
            .str.extract(r"^([a-z_]+):", 1)
            .replace_strict(LABELS_ZH)
            .alias("指标"),
            pl.col("not_assessable").str.replace(r"^[a-z_]+: ", "").alias("原因"),
        )
    )
    if rows.is_empty():
        return paragraph("所有指标均可计算。")
    return gt_table(rows, "未能计算的指标")


_CALENDAR_COLUMNS = {
    "due_cny": "应付",
    "deducted_cny": "扣减",
    "at_risk_cny": "有风险",
    "paid_cny": "已付",
    "remaining_cny": "余额",
}


def payment_calendar(quarters: pl.DataFrame, contracts: dict) -> GT:
    """The payment calendar (:func:`seatscore.compute.budget.payment_calendar` of every contract):
    one row per contract and quarter, contracts by their Chinese names, money in CNY."""
    names = {cid: c.title_zh for cid, c in contracts.items()}
    frame = quarters.sort("quarter", "contract_id").select(
        pl.col("quarter").str.replace("-Q", " 年第 ").add(" 季度").alias("季度"),
        pl.col("contract_id").replace_strict(names, default=pl.col("contract_id")).alias("合同"),
        *(pl.col(c).alias(label) for c, label in _CALENDAR_COLUMNS.items()),
    )
    return gt_table(
        frame,
        "付款日历",
        "季度按各期付款的到期月：结算月份的次月；首期按签订当月（签订日期空白时按服务开始月）。"
        "余额 = 应付 − 扣减 − 已付；已付取自付款台账。",
        money={label: "—" for label in _CALENDAR_COLUMNS.values()},
    )


def fiscal_year_totals(years: pl.DataFrame) -> GT:
    """Due, deducted, at risk, paid and remaining per fiscal (calendar) year, all contracts."""
    totals = (
        years.group_by("fiscal_year")
        .agg(pl.col(c).sum() for c in _CALENDAR_COLUMNS)
        .sort("fiscal_year")
        .select(
            pl.col("fiscal_year").add(" 年").alias("财政年度"),
            *(pl.col(c).alias(label) for c, label in _CALENDAR_COLUMNS.items()),
        )
    )
    return gt_table(
        totals, "各财政年度合计", money={label: "—" for label in _CALENDAR_COLUMNS.values()}
    )


def payment_calendar_chart(quarters: pl.DataFrame, contracts: dict) -> alt.TopLevelMixin:
    """Due per quarter, stacked by contract, in 万元 (ten thousand CNY)."""
    names = {cid: c.title_zh for cid, c in contracts.items()}
    data = quarters.select(
        pl.col("quarter").str.replace("-Q", " Q").alias("季度"),
        pl.col("contract_id").replace_strict(names, default=pl.col("contract_id")).alias("合同"),
        (pl.col("due_cny").cast(pl.Float64) / 10_000).alias("应付（万元）"),
    )
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("季度:N", title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("sum(应付（万元）):Q", title="应付（万元）"),
            color=alt.Color("合同:N", title=None, legend=alt.Legend(orient="bottom", columns=1)),
            tooltip=["季度", "合同", alt.Tooltip("应付（万元）:Q", format=",.2f")],
        )
        .properties(width=560, height=220, title="各季度应付（按合同）")
    )
    return chart_style(chart)
