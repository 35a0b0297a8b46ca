"""Parameters without editing code: a notebook's contract, month and grouping as widgets.

Each notebook keeps its ``parameters`` cell (what papermill fills, so batch runs are unchanged);
the cell after it shows :func:`parameters`, tagged ``remove_cell`` so no report carries it.
The widgets start at the parameters' values. Choosing a contract, month or grouping sets the
notebook's variable of that name (``contract_id``, ``month``, ``contract_ids``, ``group_by`` …);
the cells below use it when they are run again (JupyterLab: 运行 › 运行所选单元格及以下), and a
line under the widgets says so.

Contracts are listed by their Chinese title and buyer, never by id; months are those of the
contract's service period that have ended (Beijing time), newest first, as the reports offer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path

from seatscore.core.config import TIMEZONE
from seatscore.ledgers import store as db
from seatscore.terms.periods import month_key, service_months

LATEST = "latest"
"""The month value that means "the latest month with data" (``service_levels.ipynb``)."""
_RERUN = "已选：{chosen}。运行下方单元格（运行 › 运行所选单元格及以下）即按所选重算。"
_WIDE = {"layout": {"width": "44em"}, "style": {"description_width": "3em"}}


def contract_options(db_path: str | Path) -> list[tuple[str, str]]:
    """``(label, contract id)`` for every contract in the database, labelled 合同名称（采购人）
    and sorted by label. Raises :class:`~seatscore.core.errors.SeatscoreError` for a database
    an older Seatscore made."""
    with db.connect(db_path, read_only=True) as con:
        contracts = db.load_contracts(con)
    return sorted((f"{c.title_zh}（{c.buyer.name}）", cid) for cid, c in contracts.items())


def month_options(
    db_path: str | Path, contract_id: str, today: dt.date | None = None
) -> list[tuple[str, str]]:
    """``(label, YYYY-MM)`` for the months of the contract's service period that ended by
    ``today`` (default: today in Beijing), newest first, labelled 2025年3月."""
    today = today or dt.datetime.now(TIMEZONE).date()
    with db.connect(db_path, read_only=True) as con:
        period = db.load_contract(con, contract_id).service_period
    months = [m for m in service_months(period)["month"].to_list() if m < month_key(today)]
    return [(f"{m[:4]}年{int(m[5:])}月", m) for m in reversed(months)]


class _Panel:
    """The widgets being built, the note under them, and where choices are written."""

    def __init__(self, namespace: MutableMapping[str, object]) -> None:
        import ipywidgets as widgets

        self.widgets = widgets
        self.namespace = namespace
        self.note = widgets.HTML()
        self.rows: list = []
        self.shown: dict[str, str] = {}  # what the note says is chosen, by parameter

    def changed(self, name: str, value: object, label: str) -> None:
        self.namespace[name] = value
        self.shown[name] = label
        self.note.value = _RERUN.format(chosen="，".join(self.shown.values()))

    def one_contract(
        self, db_path: str | Path, contract_id: str, month: str | None, today: dt.date | None
    ) -> None:
        widgets = self.widgets
        options = contract_options(db_path)
        known = contract_id in {cid for _, cid in options}
        picked = widgets.Dropdown(
            options=options, value=contract_id if known else None, description="合同", **_WIDE
        )
        if not known:
            self.note.value = f"参数中的合同 {contract_id} 不在数据库中，请从列表选择。"
        months = widgets.Dropdown(description="月份", **_WIDE)

        def fill_months(selected: str, keep: str | None) -> None:
            options = month_options(db_path, selected, today)
            if keep == LATEST:
                options = [("最近有数据的月份", LATEST), *options]
            values = [v for _, v in options]
            months.options = options
            months.value = keep if keep in values else (values[0] if values else None)

        if known:
            fill_months(contract_id, month)

        def on_contract(change) -> None:
            self.changed("contract_id", change["new"], f"合同 {_label(picked)}")
            fill_months(change["new"], months.value)

        picked.observe(on_contract, names="value")
        self.rows.append(picked)
        if month is not None:
            months.observe(
                lambda change: self.changed("month", change["new"], f"月份 {_label(months)}"),
                names="value",
            )
            self.rows.append(months)

    def several(self, db_path: str | Path, contract_ids: Sequence[str]) -> None:
        options = contract_options(db_path)
        several = self.widgets.SelectMultiple(
            options=options,
            value=tuple(c for c in contract_ids if c in {cid for _, cid in options}),
            description="合同",
            rows=min(len(options), 8) or 1,
            **_WIDE,
        )
        several.observe(
            lambda change: self.changed(
                "contract_ids", list(change["new"]), f"合同 {len(change['new']) or '全部'} 份"
            ),
            "value",
        )
        self.rows.append(several)
        self.rows.append(self.widgets.HTML("<small>不选 = 全部合同；按住 Ctrl 或 ⌘ 多选。</small>"))

    def grouping(self, value: str, groupings: Mapping[str, str], name: str) -> None:
        buttons = self.widgets.ToggleButtons(
            options=[(label, key) for key, label in groupings.items()], value=value
        )
        buttons.observe(
            lambda change: self.changed(name, change["new"], groupings[change["new"]]),
            names="value",
        )
        self.rows.append(buttons)


def _label(widget) -> str:
    return str(widget.label) if widget.label is not None else "—"


def parameters(
    db_path: str | Path,
    namespace: MutableMapping[str, object] | None = None,
    *,
    contract_id: str | None = None,
    month: str | None = None,
    contract_ids: Sequence[str] | None = None,
    grouping: str | None = None,
    groupings: Mapping[str, str] | None = None,
    grouping_name: str = "group_by",
    today: dt.date | None = None,
):
    """Widgets for the parameters a notebook passes (those left ``None`` are not shown): one
    contract (a dropdown) and its month (a dropdown that follows the contract), or several
    contracts (a list; none chosen = every contract), and a grouping (buttons over
    ``groupings``: value → Chinese label; the chosen value goes to ``grouping_name``).

    ``namespace`` is where the chosen values are written: the notebook's variables (default:
    the running IPython's user namespace). Returns an ``ipywidgets.VBox``."""
    if namespace is None:
        from IPython import get_ipython

        namespace = get_ipython().user_ns
    panel = _Panel(namespace)
    if contract_id is not None:
        panel.one_contract(db_path, contract_id, month, today)
    if contract_ids is not None:
        panel.several(db_path, contract_ids)
    if grouping is not None and groupings:
        panel.grouping(grouping, groupings, grouping_name)
    return panel.widgets.VBox([*panel.rows, panel.note])
