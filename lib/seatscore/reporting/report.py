"""Building blocks of the monthly contract report, for ``notebooks/contract_report.ipynb``.

:func:`load_context` reads one contract-month from the database; the other functions each return one
displayable piece (HTML, a great_tables table or an Altair chart) with Chinese labels. Money is
shown as ``¥1,869,400.00``, points as ``98.2 分``, months as ``2026年6月``.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path

import altair as alt
import jinja2
import polars as pl
import vl_convert
from great_tables import GT
from IPython.display import HTML

from seatscore import __version__
from seatscore.compute import closing, findings, service_levels
from seatscore.compute.metrics import MonthlyMetrics, metrics_as_of, month_end
from seatscore.compute.payments import payment_schedule
from seatscore.compute.termination import breaches_on_record, termination_exposure
from seatscore.core.config import TIMEZONE
from seatscore.core.errors import SeatscoreError
from seatscore.core.money import format_cny, pts
from seatscore.core.privacy import mask_personal
from seatscore.ledgers import store as db
from seatscore.ledgers.kinds import KINDS, as_of
from seatscore.terms.contracts import Contract
from seatscore.terms.periods import PROVISIONAL_RULE_ZH, month_of, parse_month

BLUE = "#1d4ed8"
"""The reports' colour for figures."""
RED = "#dc2626"
"""The reports' colour for limits, targets and what breaks them."""
FONT_FAMILIES = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
]
"""The CJK fonts tried in turn, each its own family name (great_tables quotes a name whole)."""
FONT = ", ".join([*FONT_FAMILIES, "sans-serif"])
"""The same list as one CSS/Vega font string, for the charts."""
_SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")


def _use_system_fonts() -> None:
    """Let vl-convert measure Chinese labels with the machine's CJK fonts, where there are any."""
    for folder in _SYSTEM_FONT_DIRS:
        if Path(folder).is_dir():
            vl_convert.register_font_directory(folder)


_use_system_fonts()


@dataclass(frozen=True)
class ReportContext:
    """One contract-month: the contract as loaded, its metrics, and where the data came from."""

    contract: Contract
    month: str
    metrics: MonthlyMetrics
    staffing: pl.DataFrame
    tickets: pl.DataFrame
    kpis: pl.DataFrame
    simulated: bool
    loads: pl.DataFrame
    params_sha256: str
    db_path: str
    statement: dict | None = None
    """The stored statement of the month (:func:`seatscore.compute.closing.stored`): its status,
    version, adjustments and payable after them; None when none is stored."""
    cutoff: dt.date | None = None
    """The last day whose data the report uses: the month's last day, or today (Beijing time)
    for a month not yet over."""
    payments: pl.DataFrame | None = None
    calls: pl.DataFrame | None = None
    """The calls ledger (calls offered per interval) as known at the cut-off."""

    @property
    def month_open(self) -> bool:
        """True when the month had not ended when the report was made (本月未结束)."""
        return self.cutoff is not None and self.cutoff < month_end(self.month)

    @cached_property
    def month_tickets(self) -> pl.DataFrame:
        """The tickets received in the report's month (Beijing time)."""
        return self.tickets.filter(month_of("received_at") == self.month)

    @cached_property
    def kpi_table(self) -> pl.DataFrame:
        """Every month's service-level figures from tickets and the KPI ledger
        (:func:`seatscore.compute.service_levels.kpi_table`), deadlines judged at the end of the
        cut-off day (:func:`seatscore.compute.findings.judged_at`), computed once per report."""
        at = findings.judged_at(self.cutoff) if self.cutoff else None
        return service_levels.kpi_table(self.contract, self.tickets, self.kpis, at)

    @cached_property
    def verdicts(self) -> list[findings.Verdict]:
        """Each target's verdict in the month (:func:`seatscore.compute.findings.verdicts`)."""
        return findings.verdicts(
            self.contract, self.kpi_table.filter(pl.col("period") == self.month)
        )

    @cached_property
    def month_lines(self) -> pl.DataFrame:
        """The month's deductions and penalties with their CNY, largest first
        (:func:`seatscore.compute.findings.month_lines`), for the lines table and the appendix."""
        return findings.month_lines(self.metrics, self.month)

    @cached_property
    def findings(self) -> list[findings.Finding]:
        """The month's findings, most serious first, from the same function as the statement's
        (:func:`seatscore.compute.findings.month_findings`)."""
        return findings.month_findings(
            self.contract,
            self.metrics,
            self.month,
            self.kpi_table.filter(pl.col("period") == self.month),
            self.payments,
            self.cutoff,
        )

    @property
    def row(self) -> dict:
        return self.metrics.months.filter(pl.col("month") == self.month).row(0, named=True)

    @property
    def previous(self) -> dict | None:
        months = self.metrics.months["month"].to_list()
        i = months.index(self.month)
        return self.metrics.months.row(i - 1, named=True) if i > 0 else None


def load_context(db_path: str | Path, contract_id: str, month: str) -> ReportContext:
    """Read the contract and its ledgers from ``db_path`` and compute the month's metrics.

    Raises :class:`UnknownContract` for an id not in the database and :class:`SeatscoreError`
    for a month outside the service period (the message gives the period).
    """
    parse_month(month)
    with db.connect(db_path, read_only=True) as con:
        contract = db.load_contract(con, contract_id)
        params_sha = db.query(
            con, "SELECT params_sha256 FROM contracts WHERE contract_id = $cid", cid=contract_id
        )["params_sha256"][0]
        ledgers = db.ledgers(con, contract_id)
        statement = closing.stored(con, contract_id, month)
        if statement is not None and statement["status"] == "closed":
            ledgers = closing.rows_at_close(con, contract_id, ledgers, month)
        loads = db.query(
            con,
            "SELECT path, sheet, kind, sha256, rows, rows_rejected, source, loaded_at FROM loads "
            "WHERE list_contains(contract_ids, $cid) AND replaced_by IS NULL ORDER BY kind, path",
            cid=contract_id,
        )
    period = contract.service_period
    if not period.start.replace(day=1) <= parse_month(month) <= period.end:
        raise SeatscoreError(
            f"{month} is outside the service period of {contract_id} ({period.start} – {period.end})"
        )
    cutoff = min(month_end(month), dt.datetime.now(TIMEZONE).date())
    metrics = metrics_as_of(contract, ledgers, month, cutoff)
    return ReportContext(
        contract=contract,
        month=month,
        metrics=metrics,
        staffing=as_of("staffing", ledgers["staffing"], cutoff),
        tickets=as_of("tickets", ledgers["tickets"], cutoff),
        kpis=as_of("kpis", ledgers["kpis"], cutoff),
        cutoff=cutoff,
        payments=as_of("payments", ledgers["payments"], cutoff),
        calls=as_of("calls", ledgers["calls"], cutoff),
        statement=statement,
        simulated=any((f["source"] == db.DEMO_SOURCE).any() for f in ledgers.values()),
        loads=loads,
        params_sha256=params_sha,
        db_path=str(db_path),
    )


# ---------------------------------------------------------------- formats


def month_zh(month: str) -> str:
    """``'2026-06'`` → ``'2026年6月'``."""
    d = parse_month(month)
    return f"{d.year}年{d.month}月"


def points_zh(value: Decimal | None) -> str:
    """``Decimal('98.20')`` → ``'98.2 分'``; None → ``'—'``."""
    return "—" if value is None else f"{pts(value)} 分"


def escape_html(value: object) -> str:
    return html.escape(str(value))


def gt_table(
    frame: pl.DataFrame,
    title: str | None = None,
    note: str | None = None,
    money: dict[str, str] | None = None,
) -> GT:
    """A report table. Every text cell is masked (:func:`seatscore.core.privacy.mask_personal`): a
    phone number in any column, however spelled, is never shown whole. ``money`` maps Decimal CNY
    columns to the text shown where a value is missing; great_tables formats them (¥1,234.50)."""
    frame = frame.with_columns(
        pl.col(c).map_elements(mask_personal, return_dtype=pl.String)
        for c, dtype in frame.schema.items()
        if dtype == pl.String
    )
    table = GT(frame).opt_table_font(font=FONT_FAMILIES).opt_row_striping()
    for column, missing in (money or {}).items():
        table = table.fmt_currency(columns=column, currency="CNY", decimals=2).sub_missing(
            columns=column, missing_text=missing
        )
    if title:
        table = table.tab_header(title=title)
    if note:
        table = table.tab_source_note(note)
    return table


_FRAGMENTS = jinja2.Environment(
    loader=jinja2.PackageLoader("seatscore", "templates/report"), autoescape=True
)


FRAGMENT_CSS = (
    Path(__file__).resolve().parents[1] / "templates" / "nbconvert" / "seatscore" / "fragments.css"
)
"""The fragments' styles: one file for the HTML reports and JupyterLab."""


def fragment(name: str, **values: object) -> HTML:
    """The report fragment ``templates/report/<name>.html.j2`` filled with ``values`` (escaped;
    styles are the classes of the report's stylesheet, ``templates/nbconvert``)."""
    return HTML(_FRAGMENTS.get_template(f"{name}.html.j2").render(**values))


def paragraph(text: str) -> HTML:
    """One paragraph of plain text (escaped)."""
    return fragment("note", text=text)


CHART_RENDERERS = ("jupyter", "svg")
"""``jupyter``: interactive charts in JupyterLab, offline (Altair's ``JupyterChart`` widget with
its JavaScript bundled by vl-convert: no request to a CDN, tooltips and selections work);
``svg``: static charts drawn into the output, for the HTML reports (what ``seatscore render``
passes)."""


def use_renderer(name: str) -> None:
    """Draw the notebook's charts with ``name`` (:data:`CHART_RENDERERS`). Raises ``ValueError``
    for another name, saying which there are (``default`` asks JupyterLab for Vega 5 and fetches
    the rest from a CDN, which an intranet does not reach).

    With ``jupyter`` the fragments' stylesheet (``templates/nbconvert/seatscore/fragments.css``,
    which the HTML reports include) is shown once, so the tiles and marks look in JupyterLab as
    in the report."""
    if name not in CHART_RENDERERS:
        raise ValueError(
            f"chart_renderer {name!r}: use one of {', '.join(CHART_RENDERERS)} "
            "(jupyter: interactive and offline in JupyterLab; svg: static, for HTML reports)"
        )
    if name == "jupyter":
        alt.renderers.enable("jupyter", offline=True)
        # A JupyterChart made explicitly (to read its selections) is offline only when the class
        # is: the renderer's option covers the charts it draws itself.
        alt.JupyterChart.enable_offline()
        from IPython.display import display

        display(HTML(f"<style>{FRAGMENT_CSS.read_text(encoding='utf-8')}</style>"))
    else:
        alt.renderers.enable(name)


def chart_style(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return chart.configure(font=FONT).configure_view(strokeWidth=0)


# ---------------------------------------------------------------- sections


def title(ctx: ReportContext) -> HTML:
    """The heading (contract, month, parties, cut-off) and the banners: simulated data, a closed
    month, a month not yet over (``templates/report/title.html.j2``)."""
    c, st = ctx.contract, ctx.statement
    return fragment(
        "title",
        title=c.title_zh,
        month=month_zh(ctx.month),
        buyer=c.buyer.name,
        vendor=c.vendor.name,
        cutoff=ctx.cutoff.isoformat() if ctx.cutoff else None,
        simulated=ctx.simulated,
        closed=st if st is not None and st.get("status") == "closed" else None,
        month_open=ctx.month_open,
        public_source=c.kind == "public_source",
        source=c.data_source,
    )


def _to_the_line(ctx: ReportContext) -> list[dict]:
    """The score tile's note: the distance to the nearest termination line the score is above."""
    score = ctx.row["score"]
    lines = [t.threshold_points for t in ctx.contract.termination_triggers if t.threshold_points]
    if score is None or not lines:
        return []
    line = max(lines)
    if score < line:
        return [{"kind": "caution", "text": f"低于终止线 {line.normalize():f} 分"}]
    return [
        {
            "kind": "change",
            "text": f"高于终止线（{line.normalize():f} 分）{points_zh(score - line)}",
        }
    ]


def verdict(ctx: ReportContext) -> HTML:
    """The first screen: score, payable, change from last month, and what needs attention
    (需关注事项, :attr:`ReportContext.findings`), most serious first
    (``templates/report/verdict.html.j2``)."""
    row, prev = ctx.row, ctx.previous

    def change(key: str, fmt) -> list[dict]:
        if prev is None or row[key] is None or prev[key] is None:
            return []
        delta = row[key] - prev[key]
        arrow = "▲" if delta > 0 else ("▼" if delta < 0 else "＝")
        return [{"kind": "change", "text": f"较上月 {arrow} {fmt(abs(delta))}"}]

    score = points_zh(row["score"]) if row["score"] is not None else "合同无月度评分"
    payable, adjusted = payable_after_adjustments(ctx)
    deducted = (
        row["nominal_fee_cny"] - row["payable_cny"]
        if row["nominal_fee_cny"] is not None and row["payable_cny"] is not None
        else None
    )
    caution = [{"kind": "caution", "text": "含无法评估项，可能偏低"}]
    tiles = [
        {
            "label": "月度考核得分",
            "value": score,
            "notes": change("score", points_zh) + _to_the_line(ctx),
        },
        {
            "label": "本月应付",
            "value": format_cny(payable),
            "notes": change("payable_cny", format_cny)
            + (
                [{"kind": "caution", "text": f"含结账后调整 −{format_cny(adjusted)}"}]
                if adjusted
                else []
            ),
        },
        {"label": "名义月费", "value": format_cny(row["nominal_fee_cny"]), "notes": []},
        {
            "label": "扣款合计",
            "value": format_cny(deducted),
            "notes": [] if row["payable_complete"] else caution,
        },
    ]
    unstated = findings.unstated_rules(ctx.metrics, ctx.month)
    public = ctx.contract.kind == "public_source"
    return fragment(
        "verdict",
        tiles=_performance_tiles(ctx) if public else tiles,
        public_source=public,
        findings=ctx.findings,
        unstated=unstated,
        provisional=PROVISIONAL_RULE_ZH if row["provisional"] else None,
    )


def pct(value: float | None, digits: int = 2) -> str:
    """``0.98765`` → ``'98.77%'``; None → ``'—'``."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def unit_value(value: float | None, unit: str | None) -> str:
    """A KPI figure in its unit: a share as a percent, seconds and minutes with their unit,
    counts with thousands separators."""
    if value is None:
        return "—"
    if unit == "share":
        return pct(value)
    if unit == "seconds":
        return f"{value:,.0f} 秒"
    if unit == "minutes":
        return f"{value:,.1f} 分钟"
    if unit == "hours":
        return f"{value:,.1f} 小时"
    return f"{value:,.0f}"


def _performance_tiles(ctx: ReportContext) -> list[dict]:
    """A public source's first screen: the month's tickets and the figures it publishes (the KPI
    ledger: calls answered, service level, speed of answer …), each in its unit."""
    tiles = []
    if not ctx.month_tickets.is_empty():
        aside = ctx.month_tickets.filter(service_levels.set_aside()).height
        notes = [
            {"kind": "change", "text": f"其中 {aside:,} 张为重复、转出或撤销，不计入办结等比率"}
        ]
        tiles.append(
            {
                "label": "本月工单",
                "value": f"{ctx.month_tickets.height:,}",
                "notes": notes if aside else [],
            }
        )
    month = ctx.kpi_table.filter(pl.col("period") == ctx.month, pl.col("source") == "ledger")
    for r in month.iter_rows(named=True):
        tiles.append(
            {"label": r["name_zh"], "value": unit_value(r["value"], r["unit"]), "notes": []}
        )
    return tiles or [{"label": "本月数据", "value": "无", "notes": []}]


def payable_after_adjustments(ctx: ReportContext) -> tuple[Decimal | None, Decimal]:
    """(the month's payable after adjustments for closed months' late findings, the adjustments)
    from the stored statement (:mod:`seatscore.compute.closing`); without one, the computed payable."""
    st = ctx.statement
    if st is None or "adjustments_cny" not in st:
        return ctx.row["payable_cny"], Decimal(0)
    payable = Decimal(st["payable_cny"]) if st["payable_cny"] is not None else None
    return payable, Decimal(st["adjustments_cny"])


def adjustments(ctx: ReportContext) -> GT | HTML:
    """Late findings for closed months settled in this month: money only, each citing the
    original month, rule, clause and ledger rows."""
    found = (ctx.statement or {}).get("adjustments") or []
    if not found:
        return paragraph("本月无结账后调整。")
    frame = pl.DataFrame(
        [
            {
                "原月份": month_zh(a["original_month"]),
                "事项": a["detail_zh"],
                "条款": "；".join(a["clauses"]),
                "调整金额": f"−{format_cny(Decimal(a['amount_cny']))}",
                "台账行": _rows_text(a["rows"]),
            }
            for a in found
        ]
    )
    return gt_table(
        frame, "结账后调整", "已结账月份的得分与报告不变；其后发现的扣分扣款在本月应付中调整。"
    )


def facts(ctx: ReportContext) -> GT:
    c = ctx.contract
    period = c.service_period
    rows = [
        ("甲方（采购人）", c.buyer.name, c.buyer.clause),
        ("乙方（服务商）", c.vendor.name, c.vendor.clause),
        ("合同金额", _term_money(c.amount_cny), c.amount_cny.clause or ""),
        ("服务期限", f"{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}", period.clause),
        ("最低人数", _term_text(c.minimum_headcount, "人"), c.minimum_headcount.clause or ""),
        ("岗位与班次", "；".join(_post_text(p) for p in c.posts), "见各岗位"),
        ("考核扣款方式", _fee_text(c), c.fee_formula.clause),
        (
            "终止条件",
            "；".join(t.text_zh for t in c.termination_triggers) or "合同未规定",
            "；".join(t.clause for t in c.termination_triggers),
        ),
    ]
    frame = pl.DataFrame(rows, schema=["项目", "内容", "条款"], orient="row")
    return gt_table(frame, note="条款：合同原文中的出处。未规定的条款显示为“合同未规定”。")


def _term_money(term) -> str:
    return format_cny(term.value) if term.value is not None else f"合同未规定（{term.note}）"


def _term_text(term, unit: str) -> str:
    return f"{term.value} {unit}" if term.value is not None else f"合同未规定（{term.note}）"


def _post_text(post) -> str:
    head = f"{post.min_headcount.value}人" if post.min_headcount.value is not None else "人数未规定"
    shift = post.shift_pattern.value.label if post.shift_pattern.value else "班次未规定"
    return f"{post.name_zh}（{head}，{shift}）"


def _fee_text(c: Contract) -> str:
    f = c.fee_formula
    if f.kind == "cny_per_point":
        return f"每扣1分扣款 {format_cny(f.cny_per_point)}"
    if f.kind == "share_of_monthly_fee":
        return "月服务费 × 扣分%（每扣1分扣月费的1%）"
    if f.note and not f.note.startswith("无考核扣款公式"):
        return f"无考核扣款公式（{f.note}）"
    return f.note or "无考核扣款公式"


def money(ctx: ReportContext) -> GT:
    row = ctx.row
    staffing = (
        format_cny(row["staffing_penalty_cny"])
        if row["staffing_penalty_cny"] is not None
        else "无法评估"
    )
    rate = ctx.contract.nominal_fee
    amount = ctx.contract.amount_cny.value
    fee_text = (
        f"合同金额 {format_cny(amount)} ÷ {rate.days_per_year} 天 × 服务 {row['service_days']} 天"
        f"（{rate.clause}）"
        if rate is not None and amount is not None
        else f"服务 {row['service_days']}/{row['days_in_month']} 天；合同金额按月平均分摊，"
        "不足整月的按服务天数折算"
    )
    roster_rules = [r for r in ctx.contract.staffing_penalties if r.basis == "roster"]
    rows = [
        ("名义月费", format_cny(row["nominal_fee_cny"]), fee_text),
        (
            "考核得分",
            points_zh(row["score"]) if row["score"] is not None else "—",
            "100 − 扣分" if row["score"] is not None else "合同无月度百分制考核",
        ),
        ("考核扣款", format_cny(row["fee_deduction_cny"]), _fee_text(ctx.contract)),
        (
            "人员扣款",
            staffing,
            (
                f"空缺 {row['gap_person_days']} 人·天（按在册人数），宽限期后计扣 "
                if roster_rules
                else f"缺勤 {row['gap_person_days']} 人·天，计扣 "
            )
            + f"{row['penalised_person_days']} 人·天"
            + (f"（暂定：{PROVISIONAL_RULE_ZH}）" if row["provisional"] else ""),
        ),
        ("违约扣款", format_cny(row["incident_penalty_cny"]), "按合同违约条款"),
    ]
    payable, adjusted = payable_after_adjustments(ctx)
    if adjusted:
        rows.append(("结账后调整", f"−{format_cny(adjusted)}", "已结账月份其后发现的扣款，见下表"))
    rows.append(
        (
            "本月应付",
            format_cny(payable),
            "名义月费 − 各项扣款"
            + (" − 结账后调整" if adjusted else "")
            + ("" if row["payable_complete"] else "（含无法评估项）"),
        )
    )
    frame = pl.DataFrame(rows, schema=["项目", "金额/分值", "说明"], orient="row")
    return gt_table(frame, f"{month_zh(ctx.month)}")


def trend(ctx: ReportContext) -> alt.TopLevelMixin | HTML:
    """Score (where there is one) and payable against nominal over the service period; a line
    saying so where there is neither (a public source: no amount, no points sheet). A chart of
    nothing is not drawn (Vega sizes an empty band scale to infinity)."""
    m = ctx.metrics.months.select(
        "month",
        pl.col("month").map_elements(month_zh, return_dtype=pl.String).alias("月份"),
        pl.col("score").cast(pl.Float64).alias("得分"),
        (pl.col("nominal_fee_cny").cast(pl.Float64) / 10_000).alias("名义月费"),
        (pl.col("payable_cny").cast(pl.Float64) / 10_000).alias("应付"),
        (pl.col("month") == ctx.month).alias("本月"),
    )
    order = m["月份"].to_list()
    x = alt.X("月份:N", sort=order, title=None, axis=alt.Axis(labelAngle=-45))
    money_chart = (
        alt.Chart(m)
        .transform_fold(["名义月费", "应付"], as_=["类别", "金额"])
        .mark_bar()
        .encode(
            x=x,
            xOffset="类别:N",
            y=alt.Y("金额:Q", title="金额（万元）"),
            color=alt.Color("类别:N", title=None, scale=alt.Scale(range=["#c7d2fe", BLUE])),
            tooltip=["月份", "类别:N", alt.Tooltip("金额:Q", format=",.2f", title="金额（万元）")],
        )
        .properties(width=560, height=180, title="名义月费与应付")
    )
    has_money = m["名义月费"].is_not_null().any()
    if ctx.contract.assessment.value is None:
        if not has_money:
            return paragraph("无合同金额、无月度评分：没有名义月费、应付或得分的走势可画。")
        return chart_style(money_chart)
    lows = [t for t in ctx.contract.termination_triggers if t.threshold_points is not None]
    domain_low = min(70.0, float(m["得分"].min() or 100) - 5)
    score_line = (
        alt.Chart(m)
        .mark_line(point=True, color=BLUE)
        .encode(
            x=x,
            y=alt.Y("得分:Q", scale=alt.Scale(domain=[domain_low, 100]), title="得分（分）"),
            tooltip=["月份", alt.Tooltip("得分:Q", format=".1f")],
        )
    )
    current = (
        alt.Chart(m.filter(pl.col("本月")))
        .mark_point(size=160, color=RED, filled=True)
        .encode(x=x, y="得分:Q")
    )
    layers = [score_line, current]
    thresholds = pl.DataFrame(
        {
            "阈值": [float(t.threshold_points) for t in lows],
            "说明": [
                f"终止阈值 {t.threshold_points:.0f} 分：{t.text_zh}（{t.clause}）" for t in lows
            ],
        }
    ).unique("阈值")
    if thresholds.height:
        rule = (
            alt.Chart(thresholds)
            .mark_rule(color=RED, strokeDash=[6, 4])
            .encode(y="阈值:Q", tooltip=["说明"])
        )
        label = (
            alt.Chart(thresholds)
            .mark_text(align="left", dx=4, dy=-6, color=RED)
            .encode(y="阈值:Q", x=alt.value(0), text=alt.Text("阈值:Q", format=".0f"))
        )
        layers += [rule, label]
    score_chart = alt.layer(*layers).properties(
        width=560, height=200, title="月度考核得分与终止阈值"
    )
    if not has_money:
        return chart_style(score_chart)
    return chart_style(alt.vconcat(score_chart, money_chart))


def deductions_by_category(ctx: ReportContext) -> alt.TopLevelMixin | HTML:
    assessment = ctx.contract.assessment.value
    if assessment is None:
        return paragraph("本合同无月度百分制考核，没有扣分项目。")
    cats = ctx.metrics.categories.filter(pl.col("month") == ctx.month)
    roots = cats.filter(pl.col("parent").is_null())
    frame = roots.select(
        pl.col("name_zh").alias("类别"),
        pl.col("points").cast(pl.Float64).alias("扣分"),
        pl.col("cap_points").cast(pl.Float64).alias("上限"),
    )
    if frame["扣分"].sum() == 0:
        return paragraph(f"{month_zh(ctx.month)} 无扣分。")
    capped = frame["上限"].is_not_null().any()
    bars = (
        alt.Chart(frame)
        .mark_bar(color=BLUE)
        .encode(
            y=alt.Y("类别:N", sort="-x", title=None, axis=alt.Axis(labelLimit=240)),
            x=alt.X("扣分:Q", title="扣分（分）"),
            tooltip=["类别", "扣分", "上限"],
        )
        .properties(
            width=480,
            height=max(60, 28 * frame.height),
            title="按类别扣分（已按上限封顶）" if capped else "按类别扣分",
        )
    )
    return chart_style(bars)


def _rows_text(rows: list[dict] | None, limit: int = 6) -> str:
    """``[{file: a/deductions.csv, row: 12}, …]`` → ``deductions.csv 第12、14行``."""
    if not rows:
        return "—"
    by_file: dict[str, list[int]] = {}
    for ref in rows:
        by_file.setdefault(Path(ref["file"]).name, []).append(ref["row"])
    parts = []
    for name, numbers in by_file.items():
        shown = "、".join(str(n) for n in numbers[:limit])
        more = f" 等{len(numbers)}行" if len(numbers) > limit else ""
        parts.append(f"{name} 第{shown}行{more}")
    return "；".join(parts)


_LINE_KINDS = {"deduction": "考核扣分", "staffing_penalty": "缺岗扣款", "penalty": "违约扣款"}


def lines(ctx: ReportContext) -> GT | HTML:
    """Every deduction and penalty of the month, largest money first: rule, clause, count and
    unit, points and CNY per line (:func:`seatscore.compute.findings.month_lines`: the fee
    deduction split over the lines by points, to the fen). The ledger rows behind each line are in
    the appendix (:func:`line_rows`)."""
    month_lines = ctx.month_lines
    if month_lines.is_empty():
        return paragraph("本月没有扣分或扣款。")
    frame = month_lines.select(
        pl.col("kind").replace_strict(_LINE_KINDS).alias("类型"),
        pl.col("name_zh").alias("规则"),
        pl.col("clause").alias("条款"),
        pl.col("quantity").alias("数量"),
        pl.col("unit_zh").str.replace_all("每", "").fill_null("").alias("单位"),
        pl.col("points")
        .map_elements(lambda p: f"{pts(p)}", return_dtype=pl.String)
        .fill_null("—")
        .alias("扣分"),
        pl.col("cny").alias("金额"),
    )
    notes = [
        f"金额：本月考核扣款 {format_cny(ctx.row['fee_deduction_cny'])}（{_fee_text(ctx.contract)}）"
        "按各行扣分分摊，合计与上表一致；违约与缺岗扣款按合同金额。"
    ]
    capped = ctx.metrics.categories.filter(
        (pl.col("month") == ctx.month) & (pl.col("points_raw") > pl.col("points"))
    )
    if capped.height:
        notes.append(
            "封顶（扣完为止）："
            + "；".join(
                f"{r['name_zh']} 原扣 {points_zh(r['points_raw'])}，按上限计 {points_zh(r['points'])}"
                for r in capped.iter_rows(named=True)
            )
        )
    notes.append("每行对应的台账文件与行号见附录。")
    return gt_table(frame, month_zh(ctx.month), "".join(notes), money={"金额": "金额未规定"})


def line_rows(ctx: ReportContext) -> GT | HTML:
    """The ledger file and rows behind each of the month's lines, for the appendix."""
    month_lines = ctx.month_lines
    if month_lines.is_empty():
        return paragraph("本月没有扣分或扣款。")
    frame = month_lines.select(
        pl.col("name_zh").alias("规则"),
        pl.col("detail_zh").fill_null("").alias("计算"),
    ).with_columns(
        pl.Series("台账行", [_rows_text(r) for r in month_lines["rows"].to_list()], dtype=pl.String)
    )
    return gt_table(frame, f"{month_zh(ctx.month)}扣分扣款的台账行")


def payments(ctx: ReportContext) -> GT | HTML:
    """The payment milestones: amount, deductions absorbed, paid, carried, and whether a payment
    conditional on no breach (000 四 3 尾款) is at risk, with the breach."""
    breaches = breaches_on_record(ctx.contract, ctx.metrics, ctx.month)
    months = ctx.metrics.period if ctx.metrics.period is not None else ctx.metrics.months
    schedule = payment_schedule(ctx.contract, months, breaches, ctx.month, ctx.payments)
    if schedule.is_empty():
        return paragraph("合同未规定付款节点。")
    kept = ctx.payments is not None and not ctx.payments.is_empty()
    if not kept:  # no payments ledger: what fell due is known, what was paid is not
        schedule = schedule.with_columns(
            pl.when(pl.col("status").is_in(["待付", "部分已付"]))
            .then(pl.lit("已到期"))
            .otherwise(pl.col("status"))
            .alias("status")
        )
    upcoming = schedule.filter(~pl.col("status").is_in(["已付", "已到期"]))
    expected = schedule.with_row_index("_i").filter(pl.col("status") == "预计")
    later = expected.slice(1)  # beyond the next payment: terms only, not this month's business
    shown = schedule.with_row_index("_i").filter(~pl.col("_i").is_in(later["_i"].implode()))
    frame = shown.select(
        pl.col("label_zh").alias("付款"),
        pl.col("status").alias("状态"),
        pl.col("due_zh").alias("时间"),
        pl.when(pl.col("through").is_null())
        .then(pl.lit("—"))
        .when(pl.col("first_month") == pl.col("through"))
        .then(pl.col("through"))
        .otherwise(pl.format("{} 至 {}", pl.col("first_month").fill_null("—"), "through"))
        .alias("结算月份"),
        pl.col("nominal_cny").alias("应付金额"),
        pl.col("absorbed_cny").alias("抵扣扣款"),
        pl.col("paid_cny").alias("实付"),
        pl.col("carried_cny").alias("结转下期"),
        pl.col("recorded_cny").alias("付款台账已付"),
        pl.col("at_risk_zh").fill_null("").alias("风险"),
        pl.col("clause").alias("条款"),
        pl.col("note_zh").fill_null("").alias("说明"),
    )
    following = (
        f"下一笔：{upcoming['label_zh'][0]}（{upcoming['status'][0]}，{upcoming['due_zh'][0]}）。"
        if upcoming.height
        else ("各期均已付清。" if kept else "各期均已到期。")
    )
    if later.height:
        amounts = [v for v in later["nominal_cny"].to_list() if v is not None]
        total = sum(amounts, Decimal(0))
        following += (
            f"此后还有 {later.height} 期，按合同预计 {format_cny(total)}。"
            if amounts
            else f"此后还有 {later.height} 期，金额合同未规定（据实结算）。"
        )
    return gt_table(
        frame,
        f"截至{month_zh(ctx.month)}末",
        note=f"{following}"
        + (
            "状态按付款台账截至本月末的记录：已付、部分已付、待付（结算月份已到）、预计（以后的月份）；"
            if kept
            else "未载入付款台账：已到期（结算月份已到）的各期是否已付无从核对；预计为以后的月份；"
        )
        + "以后月份按名义月费预计，不预扣尚未发生的扣款。各期付款扣减其结算月份的"
        "考核扣款与违约扣款；“说明”列写明合同未写明时的理解。",
        money={
            "应付金额": "未规定",
            "抵扣扣款": "未规定",
            "实付": "未规定",
            "结转下期": "未规定",
            "付款台账已付": "—" if kept else "未载入",
        },
    )


STATE_ZH = {"clear": "未触发", "warning": "预警", "breach": "违约（纠正期内）", "fired": "已触发"}


def termination(ctx: ReportContext) -> list[GT | HTML]:
    """The termination triggers' states this month and, when one is in warning, breach or
    fired, what would move if the contract ended at the end of the month
    (:func:`seatscore.compute.termination.termination_exposure`)."""
    states = ctx.metrics.triggers.filter(pl.col("month") == ctx.month)
    if states.is_empty():
        return [paragraph("合同未规定可按台账评估的终止条件。")]
    table = states.select(
        pl.col("text_zh").alias("终止条件"),
        pl.col("state").replace_strict(STATE_ZH).alias("状态"),
        pl.col("since").fill_null("").alias("起始"),
        pl.col("clause").alias("条款"),
    )
    live = set(states.filter(pl.col("state") != "clear")["trigger_id"].to_list())
    if not live:
        return [
            paragraph(
                f"{states.height} 项可按台账评估的终止条件本月均未触发，也无预警"
                f"（{'、'.join(dict.fromkeys(states['clause'].to_list()))}）。"
            )
        ]
    parts: list[GT | HTML] = [gt_table(table, month_zh(ctx.month))]
    exposure = termination_exposure(ctx.contract, ctx.metrics, ctx.month)
    cases = [c for c in exposure["cases"] if live & {t["trigger_id"] for t in c["triggers"]}]
    if not cases:
        parts.append(paragraph("本月无终止条件处于预警、违约或触发状态。"))
        return parts
    rows = [
        {
            "情形": case["name_zh"],
            "项目": line["name_zh"],
            "金额": format_cny(Decimal(line["amount_cny"])) if line["amount_cny"] else "无法评估",
            "计算": line["detail_zh"],
            "条款": line["clause"],
            "说明": line["note"] or "",
        }
        for case in cases
        for line in case["lines"]
    ] or [
        {
            "情形": c["name_zh"],
            "项目": "—",
            "金额": "—",
            "计算": "",
            "条款": c["clause"],
            "说明": c["note"] or "",
        }
        for c in cases
    ]
    note = (
        f"若合同于{month_zh(ctx.month)}末解除：已完成服务应付 "
        f"{format_cny(Decimal(exposure['earned_cny'])) if exposure['earned_cny'] else '无法评估'}，"
        f"付款台账记录已付 {format_cny(Decimal(exposure['paid_cny']))}。正数为乙方损失或应付甲方的金额。"
    )
    parts.append(gt_table(pl.DataFrame(rows), "解约影响", note))
    return parts


def problem_tickets(ctx: ReportContext, limit: int = 12) -> GT | HTML:
    """The month's tickets dispatched late (past the contract's limit), to the wrong unit, on site
    late (003's emergency arrival limits), or not closed by their own deadline (``due_at``: closed
    later, or still open past it at the cut-off).

    Ledger text is shown masked (:func:`seatscore.core.privacy.mask_personal`) and escaped by the
    table library; at most ``limit`` rows, latest first.
    """
    limits = service_levels.dispatch_limits(ctx.contract)
    minutes = (pl.col("dispatched_at") - pl.col("received_at")).dt.total_seconds() / 60
    as_of = findings.judged_at(ctx.cutoff) if ctx.cutoff else None
    found = ctx.month_tickets.with_columns(
        minutes.alias("minutes"),
        service_levels.missed(ctx.contract, "dispatch_minutes").alias("late"),
        service_levels.missed(ctx.contract, "dispatch_accuracy").alias("wrong"),
        service_levels.missed(ctx.contract, "closed_by_due_share", as_of).alias("overdue"),
        service_levels.missed(ctx.contract, "arrival_minutes", as_of).alias("late_arrival"),
    )
    found = found.filter(
        pl.col("late") | pl.col("wrong") | pl.col("overdue") | pl.col("late_arrival")
    )
    if found.is_empty():
        return paragraph("本月没有超时派发、派发错误、超时到场或超过办理时限的工单。")
    shown = found.sort("received_at", descending=True).head(limit)
    frame = shown.select(
        pl.col("ticket_id").alias("工单编号"),
        pl.col("received_at").dt.strftime("%m-%d %H:%M").alias("受理时间"),
        pl.col("minutes").round(1).alias("派发用时（分钟）"),
        pl.concat_str(
            pl.when(pl.col("late")).then(pl.lit("超时派发")),
            pl.when(pl.col("wrong")).then(pl.lit("派发错误")),
            pl.when(pl.col("overdue")).then(pl.lit("超过办理时限")),
            pl.when(pl.col("late_arrival")).then(pl.lit("超时到场")),
            separator="、",
            ignore_nulls=True,
        ).alias("问题"),
        pl.col("category").alias("类别"),
        pl.col("district").alias("街道/区"),
    ).with_columns(
        pl.Series(
            "诉求内容", [mask_personal(t) for t in shown["summary"].to_list()], dtype=pl.String
        ),
        pl.Series(
            "来电号码", [mask_personal(t) for t in shown["caller_phone"].to_list()], dtype=pl.String
        ),
    )
    rule = (
        "；".join(
            f"{'紧急' if k == 'urgent' else '一般'}工单 {v} 分钟内派发" for k, v in limits.items()
        )
        or "合同未规定派发时限，只列派发错误"
    )
    note = f"共 {found.height} 张（显示最近 {shown.height} 张）。{rule}。号码与姓名已脱敏。"
    return gt_table(frame, month_zh(ctx.month), note)


def _post_names(ctx: ReportContext) -> dict[str, str]:
    names = {p.post_id: p.name_zh for p in ctx.contract.posts}
    names["__all__"] = "全部岗位（合计）"
    return names


def _vacancies(ctx: ReportContext) -> list[GT | HTML]:
    """The roster's vacancies open in the month, each with its grace, and unknown roster days;
    nothing for a contract that counts no roster and had no vacancy."""
    vac = ctx.metrics.vacancies
    assessment = ctx.contract.assessment.value
    uses_roster = any(r.basis == "roster" for r in ctx.contract.staffing_penalties) or any(
        getattr(i, "basis", None) == "roster"
        for i in (assessment.items if assessment is not None else [])
    )
    if vac is None or not (uses_roster or not vac.episodes.is_empty()):
        return []
    parts: list[GT | HTML] = []
    first = parse_month(ctx.month)
    last = ctx.row["last_day"]
    episodes = vac.episodes.filter((pl.col("opened") <= last) & (pl.col("last_day") >= first)).sort(
        "opened"
    )
    if episodes.is_empty():
        parts.append(paragraph("本月在册人数无空缺。"))
    else:
        names = _post_names(ctx)
        frame = episodes.select(
            pl.col("group").replace_strict(names, default=pl.col("group")).alias("岗位"),
            pl.col("opened").cast(pl.String).alias("空缺起始"),
            pl.col("grace_end").cast(pl.String).alias("宽限至"),
            pl.when(pl.col("still_open"))
            .then(pl.lit("未补齐"))
            .otherwise(pl.col("last_day").cast(pl.String))
            .alias("空缺至"),
        )
        parts.append(
            gt_table(
                frame,
                "在册人数空缺",
                "一人离岗即开一个空缺，补人先补最早的空缺；宽限期按国务院公布的工作日计（不含起始当日），"
                "宽限期后每个日历日计扣。",
            )
        )
    unknown = vac.unknown.filter(pl.col("month") == ctx.month)
    if unknown.height:
        parts.append(
            paragraph(f"在册人数缺 {int(unknown['days'].sum())} 天的记录，这些天的空缺无法计算。")
        )
    return parts


def _attendance(ctx: ReportContext, month_rows: pl.DataFrame) -> GT:
    """The month's attendance sheet per post (absences) and the contract's per-person-day rules."""
    names = _post_names(ctx)
    minimum = {p.post_id: p.min_headcount.value for p in ctx.contract.posts}
    frame = (
        month_rows.group_by("post_id")
        .agg(
            pl.len().alias("days"),
            pl.col("required").sum().alias("required"),
            pl.col("present").sum().alias("present"),
            (pl.col("required") - pl.col("present")).clip(lower_bound=0).sum().alias("gap"),
            ((pl.col("required") - pl.col("present")) > 0).sum().alias("gap_days"),
        )
        .sort("post_id")
        .select(
            pl.col("post_id").replace_strict(names, default=pl.col("post_id")).alias("岗位"),
            pl.col("post_id")
            .replace_strict(
                {k: ("未规定" if v is None else str(v)) for k, v in minimum.items()}, default="—"
            )
            .alias("合同最低人数"),
            pl.col("days").alias("台账天数"),
            pl.col("required").alias("应到（人·天）"),
            pl.col("present").alias("实到（人·天）"),
            pl.col("gap").alias("缺勤（人·天）"),
            pl.col("gap_days").alias("有缺勤的天数"),
        )
    )
    rules = "；".join(
        f"{r.name_zh}："
        + ("按在册人数空缺，" if r.basis == "roster" else "按出勤缺口，")
        + f"{format_cny(r.rate_cny.value) if r.rate_cny.value is not None else '金额未规定'}/人·天"
        + (f"，{r.grace_working_days} 个工作日内补齐不计" if r.grace_working_days else "")
        + f"（{r.clause}）"
        for r in ctx.contract.staffing_penalties
    )
    return gt_table(
        frame, f"{month_zh(ctx.month)}出勤", f"扣款规则：{rules or '合同无按人·天扣款条款'}"
    )


def staffing(ctx: ReportContext) -> list[GT | HTML]:
    """Vacancies on the roster open in the month (each with its own grace) and the month's
    attendance sheet per post (absences), kept apart (:mod:`seatscore.compute.staffing`)."""
    parts = _vacancies(ctx)
    month_rows = ctx.staffing.filter(month_of("service_date") == ctx.month)
    if month_rows.is_empty():
        parts.append(paragraph("本月没有考勤台账。"))
        return parts
    parts.append(_attendance(ctx, month_rows))
    return parts


def cost_per_seat(ctx: ReportContext) -> GT:
    row = ctx.row
    rows = [
        (
            "座席数",
            f"{row['seats']}" if row["seats"] is not None else "—",
            ctx.metrics.seat_basis_zh,
        ),
        (
            "每座席月成本（名义）",
            format_cny(row["cost_per_seat_month_nominal_cny"]),
            "名义月费 ÷（座席数 × 本月服务天数占比）",
        ),
        (
            "每座席月成本（应付）",
            format_cny(row["cost_per_seat_month_payable_cny"]),
            "应付 ÷（座席数 × 本月服务天数占比）",
        ),
        ("本月工单量", f"{row['tickets']:,}", "按受理时间计"),
    ]
    frame = pl.DataFrame(rows, schema=["指标", "数值", "口径"], orient="row")
    return gt_table(
        frame, month_zh(ctx.month), "金额为名义人民币（含税与否见合同），未做价格指数调整。"
    )


def not_assessable(ctx: ReportContext) -> GT | HTML:
    frame = ctx.metrics.not_assessable.filter(pl.col("month") == ctx.month)
    if frame.is_empty():
        return paragraph("本月所有规则均可评估。")
    return gt_table(
        frame.select(
            pl.col("rule")
            .map_elements(ctx.contract.rule_name_zh, return_dtype=pl.String)
            .alias("规则"),
            pl.col("clause").alias("条款"),
            pl.col("reason").alias("原因"),
        ),
        None,
        "合同未规定的指标值或标准不作推测；补充后重新生成报告即可评估。",
    )


def provenance(ctx: ReportContext) -> HTML:
    """Every ledger file loaded (path · sheet, kind, rows, quarantined, SHA-256), the params
    file's SHA-256, the version and when (``templates/report/provenance.html.j2``)."""
    return fragment(
        "provenance",
        simulated=ctx.simulated,
        loads=[
            {**r, "kind": KINDS[r["kind"]].name_zh if r["kind"] in KINDS else r["kind"]}
            for r in ctx.loads.iter_rows(named=True)
        ],
        contract_id=ctx.contract.contract_id,
        params_sha256=ctx.params_sha256,
        version=__version__,
        generated=f"{dt.datetime.now(TIMEZONE):%Y-%m-%d %H:%M}",
    )
