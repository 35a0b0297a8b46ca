"""Interactive exploration for analysts (``notebooks/explore.ipynb``): one cross-filtered Altair view
of the tickets in the database — brush months, click contracts, categories and districts — over a
small cube DuckDB aggregates, so it stays quick on a city's tickets.

The notebook shows the view as Altair's ``JupyterChart`` (offline:
:func:`seatscore.reporting.report.use_renderer`), whose selections Python reads
(:func:`selection_values`): :func:`selected_tickets` lists the tickets behind them and
:func:`measures` their rates and medians.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import altair as alt
import duckdb
import polars as pl

from seatscore.compute.service_levels import set_aside_sql
from seatscore.core.config import TIMEZONE
from seatscore.core.privacy import mask_personal
from seatscore.ledgers import store as db
from seatscore.reporting.report import BLUE, FONT, gt_table
from seatscore.terms.measures import METRICS, TICKET_STATUS_ZH
from seatscore.terms.periods import month_key, parse_month, shift_month

DISTRICT_SQL = "coalesce(nullif(trim(district), ''), '未填')"
"""A ticket's district as the view shows it: 未填 where the ledger leaves it empty."""
CUBE_SCHEMA = {
    "contract_id": pl.String,
    "month": pl.Date,
    "category": pl.String,
    "district": pl.String,
    "tickets": pl.Int64,
    "closed": pl.Int64,
    "replied": pl.Int64,
    "reply_hours": pl.Float64,
}
"""One row per contract, month (its first day), category and district (未填 where empty):
``tickets`` received, ``closed`` (closed_at recorded), ``replied`` (replied_at recorded) and
``reply_hours``, the sum of hours from receipt to reply of the replied ones (divide by ``replied``
for the mean, so any selection re-aggregates exactly)."""


def ticket_cube(
    con: duckdb.DuckDBPyConnection, contract_ids: Sequence[str] | None = None
) -> pl.DataFrame:
    """:data:`CUBE_SCHEMA` for ``contract_ids`` (default: every contract in the database)."""
    ids = list(contract_ids) if contract_ids else sorted(db.load_contracts(con))
    if not ids:
        return pl.DataFrame(schema=CUBE_SCHEMA)
    sql, params = db.tickets_query(
        ids, ["contract_id", "received_at", "replied_at", "closed_at", "category", "district"]
    )
    cube = db.query(
        con,
        f"""SELECT contract_id, date_trunc('month', received_at)::DATE AS month, category,
                   {DISTRICT_SQL} AS district,
                   count(*) AS tickets, count(closed_at) AS closed, count(replied_at) AS replied,
                   coalesce(sum(epoch(replied_at - received_at)) / 3600, 0) AS reply_hours
            FROM ({sql}) GROUP BY ALL ORDER BY ALL""",
        **params,
    )
    return cube.cast(CUBE_SCHEMA).select(list(CUBE_SCHEMA))


MAX_CUBE_ROWS = 60_000
"""The most cube rows :func:`explorer` puts inline in a notebook (about 6 MB of JSON)."""


def _filtered(chart: alt.Chart, *selections) -> alt.Chart:
    for s in selections:
        chart = chart.transform_filter(s)
    return chart


def _ranked(base: alt.Chart, field: str, title: str, selection, others, top: int) -> alt.Chart:
    """The ``top`` values of ``field`` by tickets, filtered by ``others``; click selects."""
    return (
        _filtered(base, *others)
        .transform_aggregate(tickets="sum(tickets)", groupby=[field])
        .transform_window(rank="rank()", sort=[alt.SortField("tickets", order="descending")])
        .transform_filter(alt.datum.rank <= top)
        .mark_bar()
        .encode(
            y=alt.Y(f"{field}:N", sort="-x", title=None),
            x=alt.X("tickets:Q", title="工单"),
            color=alt.condition(selection, alt.value(BLUE), alt.value("#c7d2fe")),
            tooltip=[
                alt.Tooltip(f"{field}:N", title=title),
                alt.Tooltip("tickets:Q", title="工单", format=","),
            ],
        )
        .add_params(selection)
        .properties(width=300, height=220, title=f"{title}（点击筛选）")
    )


def _reply_hours(base: alt.Chart, *selections) -> alt.Chart:
    """Mean hours to reply per month and contract, over the tickets the selections leave."""
    return (
        _filtered(base, *selections)
        .transform_aggregate(
            hours="sum(reply_hours)", replied="sum(replied)", groupby=["month", "contract_id"]
        )
        .transform_calculate(mean_hours="datum.replied > 0 ? datum.hours / datum.replied : null")
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonth(month):T", title="受理月份", axis=alt.Axis(format="%Y-%m")),
            y=alt.Y("mean_hours:Q", title="平均回复用时（小时）"),
            color=alt.Color("contract_id:N", title="合同"),
            tooltip=[
                alt.Tooltip("contract_id:N", title="合同"),
                alt.Tooltip("yearmonth(month):T", title="月份"),
                alt.Tooltip("mean_hours:Q", title="平均回复用时（小时）", format=".1f"),
            ],
        )
        .properties(width=640, height=180, title="平均回复用时（随类别、街道、合同筛选）")
    )


def explorer(cube: pl.DataFrame, top: int = 12) -> alt.VConcatChart:
    """The cross-filtered view of :func:`ticket_cube`: tickets per month (drag to brush a range),
    per contract, the ``top`` categories and districts (click; shift-click for several), and the
    mean hours to reply per month and contract. Each chart is filtered by every selection but
    its own.

    Raises ``ValueError`` for a cube over :data:`MAX_CUBE_ROWS` rows: choose fewer contracts."""
    if cube.height > MAX_CUBE_ROWS:
        raise ValueError(
            f"{cube.height:,} cube rows is more than the {MAX_CUBE_ROWS:,} the browser view holds; "
            "pass fewer contract ids (parameter contract_ids)"
        )
    brush = alt.selection_interval(encodings=["x"], name="months")
    contract = alt.selection_point(fields=["contract_id"], name="contract")
    category = alt.selection_point(fields=["category"], name="category")
    district = alt.selection_point(fields=["district"], name="district")
    values = cube.with_columns(pl.col("month").cast(pl.String)).to_dicts()
    base = alt.Chart(alt.Data(values=values))
    months = (
        _filtered(base, contract, category, district)
        .mark_bar(color=BLUE)
        .encode(
            x=alt.X("yearmonth(month):T", title="受理月份", axis=alt.Axis(format="%Y-%m")),
            y=alt.Y("sum(tickets):Q", title="工单"),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title="月份"),
                alt.Tooltip("sum(tickets):Q", title="工单", format=","),
            ],
        )
        .add_params(brush)
        .properties(width=640, height=140, title="每月工单（拖动选择月份）")
    )
    contracts = _ranked(base, "contract_id", "合同", contract, (brush, category, district), top)
    categories = _ranked(base, "category", "问题类别", category, (brush, contract, district), top)
    districts = _ranked(base, "district", "所属街道", district, (brush, contract, category), top)
    reply = _reply_hours(base, category, district, contract)
    return (
        alt.vconcat(months, alt.hconcat(contracts, categories), alt.hconcat(districts), reply)
        .configure(font=FONT)
        .configure_view(strokeWidth=0)
    )


# ---------------------------------------------------------------- from a selection to the tickets

SELECTIONS = ("months", "contract", "category", "district")
"""The selections of :func:`explorer`, by name."""
SELECTED_COLUMNS = {
    "ticket_id": "工单编号",
    "contract_id": "合同",
    "received_at": "受理时间",
    "category": "问题类别",
    "district": "所属街道",
    "replied_at": "回复时间",
    "closed_at": "办结时间",
    "status": "工单状态",
    "summary": "诉求内容",
    "caller_phone": "来电号码",
}
"""The columns of :func:`selected_tickets`, with their Chinese headings."""


def selection_values(view: alt.JupyterChart) -> dict[str, object]:
    """The selections of a :func:`explorer` view shown as ``alt.JupyterChart`` in JupyterLab, as
    plain values: ``months`` → ``{field: [start, end]}`` (epoch milliseconds, the brush's ends),
    ``contract`` / ``category`` / ``district`` → ``[{field: value}, …]`` (empty: no selection)."""
    return {name: getattr(view.selections, name).value for name in SELECTIONS}


def _month_start(day: dt.date, months_on: int = 0) -> dt.date:
    """The first day of ``day``'s month, ``months_on`` months on."""
    return parse_month(shift_month(month_key(day), months_on))


def _instant(value: object) -> dt.datetime:
    """A brush end: epoch milliseconds (what Vega gives) or an ISO string."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt.datetime.fromtimestamp(float(value) / 1000, dt.UTC)


def _month_range(brush: object) -> tuple[dt.date, dt.date] | None:
    """The first days of the first and last month a brush covers, or None without a brush. A
    month counts when its bar's position lies within the brush: its first day at midnight in the
    browser's time, taken as Beijing time (where the analysts are; the cube's months are dates)."""
    if not brush:
        return None
    (ends,) = brush.values() if isinstance(brush, dict) else (brush,)
    low, high = (_instant(v).astimezone(TIMEZONE) for v in ends)
    first = low.date() if (low.day, low.time()) == (1, dt.time()) else _month_start(low.date(), 1)
    return first, _month_start(high.date())


def _selected(
    con: duckdb.DuckDBPyConnection,
    selections: dict[str, object],
    contract_ids: Sequence[str] | None,
    columns: Sequence[str],
) -> tuple[str, dict[str, object]]:
    """The SQL (and its parameters) of the tickets behind a selection, with ``columns``."""
    ids = list(contract_ids) if contract_ids else sorted(db.load_contracts(con))
    sql, params = db.tickets_query(ids, list(columns))
    where = []
    months = _month_range(selections.get("months"))
    if months is not None:
        params |= {"first": months[0], "after": _month_start(months[1], 1)}
        where.append("received_at >= $first AND received_at < $after")
    for name, field in (
        ("contract", "contract_id"),
        ("category", "category"),
        ("district", "district"),
    ):
        picked = [v[field] for v in selections.get(name) or [] if field in v]
        if picked:
            params[name] = picked
            column = DISTRICT_SQL if field == "district" else field
            where.append(f"list_contains(${name}, {column})")
    return f"SELECT * FROM ({sql})" + (f" WHERE {' AND '.join(where)}" if where else ""), params


def selected_tickets(
    con: duckdb.DuckDBPyConnection,
    selections: dict[str, object],
    contract_ids: Sequence[str] | None = None,
) -> pl.DataFrame:
    """The tickets behind a selection of :func:`explorer` (:func:`selection_values`): received in
    the brushed months, of the clicked contracts, categories and districts (each: all when
    nothing is clicked), newest first, with Chinese headings (:data:`SELECTED_COLUMNS`) and every
    text masked as in the reports (:func:`seatscore.core.privacy.mask_personal`)."""
    sql, params = _selected(con, selections, contract_ids, list(SELECTED_COLUMNS))
    frame = db.query(con, sql + " ORDER BY received_at DESC", **params)
    return frame.with_columns(
        *(
            pl.col(c).map_elements(mask_personal, return_dtype=pl.String)
            for c in ("summary", "caller_phone")
        ),
        pl.col("status").replace(TICKET_STATUS_ZH),
    ).rename(SELECTED_COLUMNS)


GROUPINGS = {
    "month": "strftime(received_at, '%Y-%m')",
    "contract": "contract_id",
    "category": "category",
    "district": DISTRICT_SQL,
}
"""What :func:`measures` groups by."""
GROUPINGS_ZH = {"month": "月份", "contract": "合同", "category": "问题类别", "district": "所属街道"}
MEASURES = (
    "tickets",
    "dispatch_minutes_median",
    "close_hours_median",
    "closed_by_due_share",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
)
"""The figures of :func:`measures`, keys of :data:`seatscore.terms.measures.METRICS`."""


def measures(
    con: duckdb.DuckDBPyConnection,
    selections: dict[str, object],
    contract_ids: Sequence[str] | None = None,
    by: str = "month",
) -> pl.DataFrame:
    """Rates and medians of the tickets behind a selection, per ``by`` (:data:`GROUPINGS`): the
    figures of :data:`MEASURES` as :data:`seatscore.terms.measures.METRICS` defines them — medians
    of minutes to dispatch and hours to close; shares 0–1 of closed by the ticket's own deadline
    (closed at or before it ÷ closed or past it, judged at the data's last receipt), replied ÷
    received, said resolved and said satisfied ÷ those with a verdict. Medians rounded to 0.1,
    shares to 0.0001. A share with no ticket to count is null (undefined, not zero). Tickets set
    aside (a duplicate; a transfer or cancellation once closed) count in ``tickets`` and the
    dispatch time only. Columns in
    Chinese (the metrics' names); raises ``ValueError`` for another grouping."""
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}, not {by!r}")
    columns = ["contract_id", "received_at", "dispatched_at", "replied_at", "closed_at", "due_at"]
    columns += ["category", "district", "resolved", "satisfied", "status"]
    sql, params = _selected(con, selections, contract_ids, columns)
    judged = "(closed_at IS NOT NULL OR due_at < (SELECT max(received_at) FROM tickets))"
    held = f"NOT {set_aside_sql()}"  # a duplicate, a transfer or cancellation closed
    frame = db.query(
        con,
        f"""SELECT {GROUPINGS[by]} AS group_key,
                   count(*) AS tickets,
                   round(median(epoch(dispatched_at - received_at) / 60), 1)
                     AS dispatch_minutes_median,
                   round(median(epoch(closed_at - received_at) / 3600) FILTER ({held}), 1)
                     AS close_hours_median,
                   round(count(*) FILTER (WHERE {held} AND closed_at <= due_at)
                     / nullif(count(*) FILTER (
                         WHERE {held} AND due_at IS NOT NULL AND {judged}), 0), 4)
                     AS closed_by_due_share,
                   round(count(replied_at) FILTER ({held})
                     / nullif(count(*) FILTER ({held}), 0), 4) AS response_rate,
                   round(avg(resolved::INTEGER) FILTER ({held}), 4) AS resolution_rate,
                   round(avg(satisfied::INTEGER) FILTER ({held}), 4) AS satisfaction_rate
            FROM ({sql}) GROUP BY group_key ORDER BY group_key""",
        **params,
    )
    names = {k: METRICS[k].name_zh for k in MEASURES}
    heading = {"month": "月份", "contract": "合同", "category": "问题类别", "district": "所属街道"}[
        by
    ]
    return frame.rename({"group_key": heading, **names})


def definitions() -> pl.DataFrame:
    """How each figure of :func:`measures` is defined (口径), to show beside it."""
    return pl.DataFrame(
        {
            "指标": [METRICS[k].name_zh for k in MEASURES],
            "口径": [METRICS[k].definition_zh for k in MEASURES],
        }
    )


def export(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` to ``path``: ``.csv`` (UTF-8 with a byte-order mark, so Excel reads the
    Chinese) or ``.xlsx``. Raises ``ValueError`` for another suffix."""
    target = Path(path)
    if target.suffix == ".csv":
        frame.write_csv(target, include_bom=True)
    elif target.suffix == ".xlsx":
        frame.write_excel(target, worksheet="选中的工单", autofit=True)
    else:
        raise ValueError(f"{target.name}: export to .csv or .xlsx")
    return target


def measures_panel(
    db_path: str | Path,
    view: alt.JupyterChart,
    contract_ids: Sequence[str] | None = None,
    by: str = "month",
):
    """A widget for JupyterLab: buttons to group by (:data:`GROUPINGS`, starting at ``by``, the
    notebook's parameter) above the :func:`measures` of the tickets behind ``view``'s selection,
    recomputed when the grouping or the selection changes, with the definitions below."""
    import ipywidgets as widgets
    from IPython.display import display

    grouping = widgets.ToggleButtons(
        options=[(label, key) for key, label in GROUPINGS_ZH.items()], value=by
    )
    out = widgets.Output()

    shares = [METRICS[k].name_zh for k in MEASURES if METRICS[k].unit == "share"]

    def show(_change=None) -> None:
        with db.connect(db_path, read_only=True) as con:
            table = measures(con, selection_values(view), contract_ids, grouping.value)
        shown = (
            gt_table(table)
            .fmt_percent(columns=shares, decimals=1)
            .fmt_number(columns=[METRICS[k].name_zh for k in MEASURES[1:3]], decimals=1)
            .sub_missing(missing_text="—")
        )
        out.clear_output(wait=True)
        with out:
            display(shown)

    grouping.observe(show, names="value")
    view.selections.observe(show, names=list(SELECTIONS))  # a brush or a click in the view
    show()
    notes = gt_table(definitions(), "指标口径", "比率无可计的工单时为“—”：无定义，不是 0。")
    return widgets.VBox([grouping, out, widgets.HTML(notes.as_raw_html())])
