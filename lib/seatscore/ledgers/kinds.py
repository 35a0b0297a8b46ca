"""Ledger (台账) kinds, their canonical columns, and a strict CSV reader.

Every ledger is a UTF-8 CSV with a header row. Times are Beijing wall-clock time (Asia/Shanghai)
written ``YYYY-MM-DD HH:MM[:SS]`` (also ``2025/10/1 8:05`` or ``2025年10月1日``); dates likewise;
money in CNY with at most two decimals.

A bad row is never dropped: :func:`read_ledger` raises :class:`~seatscore.core.errors.LedgerError` naming
the file, the row (the header is row 1) and the column of every problem it finds. The checks are
also available one by one as :class:`Problem` lists (:func:`parse_values`, :func:`rule_problems`,
:func:`key_problems`, :func:`reference_problems`) for :mod:`seatscore.ledgers.ingest`, which quarantines
the rows instead of refusing the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from seatscore.core import config
from seatscore.core.errors import LedgerError
from seatscore.core.money import MONEY, POINTS
from seatscore.terms.contracts import Contract
from seatscore.terms.measures import METRICS, TICKET_STATUSES, known_metric
from seatscore.terms.rule_kinds import rule_kind


@dataclass(frozen=True)
class Column:
    """One canonical column: name, Polars dtype, whether every row needs it, what it holds (with
    its unit), the Chinese headers read as this column (:mod:`seatscore.ledgers.ingest`), and whether it
    is personal data (never shown unmasked in a report)."""

    name: str
    dtype: pl.DataType
    required: bool
    doc: str
    aliases: tuple[str, ...] = ()
    personal: bool = False
    hashed_when_set: bool = False
    """Added after rows were first hashed: joined to the text a row's hash is taken of
    (:func:`row_text`) only when the row has a value, so every row without one keeps its hash
    (what ties a row to its load and to a closed month)."""


@dataclass(frozen=True)
class Problem:
    """A problem with one row: ``index`` is its 0-based position in the frame checked,
    ``column`` the canonical column, ``code`` a stable reason key (``unreadable``, ``required``,
    ``rule``, ``duplicate``, ``unknown_contract``, ``outside_period``, ``reference`` …) and
    ``reason`` the sentence shown to people."""

    index: int
    column: str
    code: str
    reason: str

    def line(self, offset: int = 2) -> str:
        """``row N, column C: reason`` with the header as row 1 (``offset`` 2)."""
        return f"row {self.index + offset}, column {self.column}: {self.reason}"


Check = tuple[pl.Expr, str, str]
"""A row check: the rows where the expression holds break it, named by column and message."""


def _no_checks() -> list[Check]:
    return []


@dataclass(frozen=True)
class LedgerKind:
    """A ledger kind: its file name in a ledger folder, its table, its columns, and the columns
    that identify a row (``natural_key``: a second row with the same values is a duplicate; empty
    where two identical rows can both be true, e.g. two deductions of the same item on a day)."""

    name: str
    file_name: str
    table: str
    columns: tuple[Column, ...]
    doc: str
    natural_key: tuple[str, ...] = ()
    checks: Callable[[], list[Check]] = _no_checks
    date_column: str = "event_date"
    """The column that dates a row (what :func:`as_of` cuts at)."""
    name_zh: str = ""
    """What a person calls the ledger (考勤台账 …), for the reports."""

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}

    def conform(self, frame: pl.DataFrame, strict: bool = True) -> pl.DataFrame:
        """``frame`` as this kind's columns, in order and cast to their dtypes; a column the frame
        lacks comes as nulls, other columns are left out. ``strict=False`` turns a value that
        cannot be cast into null (for the caller to report) instead of raising Polars'
        ``InvalidOperationError``."""
        return frame.select(
            pl.col(c.name).cast(c.dtype, strict=strict)
            if c.name in frame.columns
            else pl.lit(None, dtype=c.dtype).alias(c.name)
            for c in self.columns
        )


def _staffing_checks() -> list[Check]:
    """Attendance: counts not negative, present not more than twice required."""
    return [
        (pl.col("required") < 0, "required", "must not be negative"),
        (pl.col("present") < 0, "present", "must not be negative"),
        (
            (pl.col("required") > 0) & (pl.col("present") > 2 * pl.col("required")),
            "present",
            "is more than twice required: not plausible for one post (a typo, 80 for 8?)",
        ),
    ]


def _roster_checks() -> list[Check]:
    """Roster: a row is a daily headcount or a person, never both or neither; dates in order."""
    daily = pl.col("service_date").is_not_null() | pl.col("on_roster").is_not_null()
    person = pl.any_horizontal(
        pl.col(c).is_not_null() for c in ("staff_id", "start_date", "end_date", "listed_on")
    )
    return [
        (
            daily & person,
            "service_date",
            "mixes the two forms: a daily row has service_date and on_roster, a person row "
            "staff_id, start_date and end_date",
        ),
        (
            ~daily & ~person,
            "service_date",
            "is neither form: give service_date and on_roster, or staff_id and start_date",
        ),
        (
            daily & (pl.col("service_date").is_null() | pl.col("on_roster").is_null()),
            "on_roster",
            "a daily row needs both service_date and on_roster",
        ),
        (
            person & (pl.col("staff_id").is_null() | pl.col("start_date").is_null()),
            "start_date",
            "a person row needs staff_id and start_date",
        ),
        (pl.col("on_roster") < 0, "on_roster", "must not be negative"),
        (pl.col("end_date") < pl.col("start_date"), "end_date", "is before start_date"),
        (pl.col("listed_on") < pl.col("start_date"), "listed_on", "is before start_date"),
    ]


def _events_checks() -> list[Check]:
    """Deductions and penalties: at least one occurrence."""
    return [(pl.col("occurrences") < 1, "occurrences", "must be at least 1")]


def _payments_checks() -> list[Check]:
    """Payments: a positive amount."""
    return [(pl.col("amount_cny") <= 0, "amount_cny", "must be more than zero")]


def _calls_checks() -> list[Check]:
    """Calls: counts not negative, no more answered than offered, a handle time above zero."""
    return [
        (pl.col("offered") < 0, "offered", "must not be negative"),
        (pl.col("answered") < 0, "answered", "must not be negative"),
        (pl.col("answered") > pl.col("offered"), "answered", "is more than offered"),
        (pl.col("handle_seconds") <= 0, "handle_seconds", "must be more than zero"),
        (
            ~pl.col("interval_minutes").is_in([15, 30, 60]),
            "interval_minutes",
            "must be 15, 30 or 60",
        ),
    ]


def _tickets_checks() -> list[Check]:
    """Tickets: a known priority, times in order, a distance not negative."""
    return [
        (
            ~pl.col("priority").is_in(["urgent", "ordinary"]),
            "priority",
            "must be urgent or ordinary",
        ),
        (
            pl.col("dispatched_at") < pl.col("received_at"),
            "dispatched_at",
            "is before received_at",
        ),
        (pl.col("replied_at") < pl.col("received_at"), "replied_at", "is before received_at"),
        (pl.col("closed_at") < pl.col("received_at"), "closed_at", "is before received_at"),
        (
            pl.col("closed_at") < pl.col("dispatched_at"),
            "closed_at",
            "is before dispatched_at",
        ),
        (pl.col("arrived_at") < pl.col("received_at"), "arrived_at", "is before received_at"),
        (pl.col("due_at") < pl.col("received_at"), "due_at", "is before received_at"),
        (pl.col("distance_km") < 0, "distance_km", "must not be negative"),
        (
            pl.col("status").is_not_null() & ~pl.col("status").is_in(TICKET_STATUSES),
            "status",
            f"must be one of {', '.join(TICKET_STATUSES)} (办理中、已办结、已解决、重复、转出、撤销 "
            "and the English words are read as such; map others in an import profile's values:)",
        ),
    ]


def _kpis_checks() -> list[Check]:
    """KPIs: a month written YYYY-MM, a share 0–1, tickets not negative."""
    share = pl.col("metric").is_in(sorted(SHARE_METRICS))
    return [
        (~pl.col("month").str.contains(r"^\d{4}-(0[1-9]|1[0-2])$"), "month", "must be YYYY-MM"),
        (
            share & ((pl.col("value") < 0) | (pl.col("value") > 1)),
            "value",
            "a share must be 0–1 (43.7% is 0.437)",
        ),
        (pl.col("tickets") < 0, "tickets", "must not be negative"),
    ]


CONTRACT_ID = Column("contract_id", pl.String(), True, "contract id", ("合同编号", "合同"))
NOTE = Column("note", pl.String(), False, "free text", ("备注", "说明"))
POST_ID = Column(
    "post_id",
    pl.String(),
    True,
    "post id from the contract params (or the post's Chinese name)",
    ("岗位", "岗位编号", "岗位名称"),
)

STAFFING = LedgerKind(
    name="staffing",
    name_zh="考勤台账",
    file_name="staffing_daily.csv",
    table="staffing_daily",
    doc="The daily attendance sheet (应到/实到): one row per post per day, staff required that day "
    "and staff present. It measures absence; a vacancy on the roster is the `roster` ledger's.",
    natural_key=("contract_id", "service_date", "post_id"),
    columns=(
        CONTRACT_ID,
        Column("service_date", pl.Date(), True, "the day, Beijing time", ("日期", "考勤日期")),
        POST_ID,
        Column("required", pl.Int32(), True, "persons required that day", ("应到人数", "应到")),
        Column("present", pl.Int32(), True, "persons present that day", ("实到人数", "实到")),
        NOTE,
    ),
    checks=_staffing_checks,
    date_column="service_date",
)

ROSTER = LedgerKind(
    name="roster",
    name_zh="在册人员台账",
    file_name="roster.csv",
    table="roster",
    doc="Persons on the roster (在册/实有人数), in either of two forms: a daily headcount per post "
    "(service_date, post_id, on_roster) or the person list vendors keep (staff_id, post_id, "
    "start_date, end_date; no names), from which the daily headcount is derived. Vacancies are "
    "measured against it.",
    natural_key=("contract_id", "service_date", "post_id"),
    columns=(
        CONTRACT_ID,
        POST_ID,
        Column("service_date", pl.Date(), False, "daily form: the day", ("日期", "统计日期")),
        Column(
            "on_roster",
            pl.Int32(),
            False,
            "daily form: persons on the roster of the post that day",
            ("在册人数", "实有人数"),
        ),
        Column("staff_id", pl.String(), False, "person list: staff number", ("人员编号", "工号")),
        Column(
            "start_date",
            pl.Date(),
            False,
            "person list: first day on the post",
            ("到岗日期", "入职日期", "上岗日期"),
        ),
        Column(
            "end_date",
            pl.Date(),
            False,
            "person list: last day on the post (empty while still there)",
            ("离岗日期", "离职日期"),
        ),
        Column(
            "listed_on",
            pl.Date(),
            False,
            "person list: the day the list is true for (its export date); the roster is known "
            "through it",
            ("名单日期", "截至日期", "统计截止日期"),
        ),
        NOTE,
    ),
    checks=_roster_checks,
    date_column="service_date",
)

DEDUCTIONS = LedgerKind(
    name="deductions",
    name_zh="考核扣分台账",
    file_name="deductions.csv",
    table="deduction_events",
    doc="Assessment deduction events (扣分): a rule item, how often, and the points the buyer set "
    "where the item is discretionary.",
    columns=(
        CONTRACT_ID,
        Column(
            "event_date", pl.Date(), True, "the day it happened", ("日期", "发生日期", "考核日期")
        ),
        Column(
            "item_id",
            pl.String(),
            True,
            "rule item id from the contract's assessment (or the item's Chinese name)",
            ("考核项目", "考核项目编号", "扣分项目"),
        ),
        Column(
            "occurrences",
            pl.Int32(),
            True,
            "how many tickets, persons or times",
            ("次数", "扣分次数"),
        ),
        Column(
            "assessed_points",
            POINTS,
            False,
            "points per occurrence the buyer set, for discretionary items only (points)",
            ("扣分", "扣分值", "每次扣分"),
        ),
        NOTE,
    ),
    checks=_events_checks,
)

PENALTIES = LedgerKind(
    name="penalties",
    name_zh="违约台账",
    file_name="penalties.csv",
    table="penalty_events",
    doc="Money penalty events (扣款/违约金) under the contract's penalty clauses.",
    columns=(
        CONTRACT_ID,
        Column("event_date", pl.Date(), True, "the day it happened", ("日期", "发生日期")),
        Column(
            "penalty_id",
            pl.String(),
            True,
            "penalty id from the contract params (or the penalty's Chinese name)",
            ("违约事项", "扣款项目", "违约金项目"),
        ),
        Column("occurrences", pl.Int32(), True, "how many times", ("次数",)),
        Column(
            "assessed_amount_cny",
            MONEY,
            False,
            "CNY per occurrence the buyer set, for penalties stated as a range or a minimum",
            ("扣款金额", "违约金额", "金额"),
        ),
        NOTE,
    ),
    checks=_events_checks,
)

TICKETS = LedgerKind(
    name="tickets",
    name_zh="工单台账",
    file_name="tickets.csv",
    table="tickets",
    doc="Work orders (工单): one row per ticket, with its times in Beijing time.",
    natural_key=("contract_id", "ticket_id"),
    columns=(
        CONTRACT_ID,
        Column(
            "ticket_id",
            pl.String(),
            True,
            "ticket number, unique per contract",
            ("工单编号", "工单号", "单号"),
        ),
        Column(
            "received_at",
            pl.Datetime("us"),
            True,
            "time received",
            ("受理时间", "来电时间", "登记时间"),
        ),
        Column(
            "dispatched_at", pl.Datetime("us"), False, "time dispatched", ("派发时间", "派单时间")
        ),
        Column(
            "replied_at", pl.Datetime("us"), False, "time of the reply", ("回复时间", "答复时间")
        ),
        Column("closed_at", pl.Datetime("us"), False, "time closed", ("办结时间", "结案时间")),
        Column(
            "due_at",
            pl.Datetime("us"),
            False,
            "the ticket's own deadline to close, as the dispatcher set it",
            ("办理时限", "截止时间", "应办结时间", "办结时限", "DueDate"),
        ),
        Column(
            "priority",
            pl.String(),
            True,
            "urgent or ordinary (紧急 / 一般 are read as such)",
            ("紧急程度", "优先级"),
        ),
        Column(
            "category", pl.String(), True, "problem category", ("问题类别", "诉求类别", "问题分类")
        ),
        Column(
            "district", pl.String(), False, "street or district", ("所属街道", "所属区域", "街道")
        ),
        Column("channel", pl.String(), False, "where it came in", ("来源渠道", "渠道")),
        Column("callback_done", pl.Boolean(), False, "a callback (回访) was made", ("是否回访",)),
        Column(
            "satisfied",
            pl.Boolean(),
            False,
            "the citizen said satisfied at callback",
            ("是否满意", "满意"),
        ),
        Column(
            "dispatch_correct",
            pl.Boolean(),
            False,
            "dispatched to the right unit",
            ("派单准确", "是否派单准确"),
        ),
        Column(
            "summary",
            pl.String(),
            False,
            "what was asked, free text; may hold personal data",
            ("诉求内容", "工单内容"),
            personal=True,
        ),
        Column(
            "caller_phone",
            pl.String(),
            False,
            "caller's number; masked in reports",
            ("来电号码", "联系电话"),
            personal=True,
        ),
        Column(
            "location",
            pl.String(),
            False,
            "where the problem is, for hotspots",
            ("点位/地址", "点位", "地址"),
        ),
        Column(
            "case_class",
            pl.String(),
            False,
            "city, district or special (市局/区局/特殊案件), for 000's reply limits",
            ("案件类型", "案件级别"),
        ),
        Column(
            "category_group",
            pl.String(),
            False,
            "a group of categories, e.g. 6+N (002)",
            ("类别组",),
        ),
        Column(
            "direct_dispatch",
            pl.Boolean(),
            False,
            "dispatched directly to a street",
            ("是否直派", "直派"),
        ),
        Column(
            "resolved", pl.Boolean(), False, "the citizen said resolved at callback", ("是否解决",)
        ),
        Column("arrived_at", pl.Datetime("us"), False, "on site, for emergencies", ("到场时间",)),
        Column(
            "distance_km", pl.Float64(), False, "distance to the site (km)", ("到场距离", "距离")
        ),
        Column(
            "repeat_prompted",
            pl.Boolean(),
            False,
            "a repeated report here was prompted to the unit on the ground (000)",
            ("即时提示",),
        ),
        Column(
            "status",
            pl.String(),
            False,
            "open, closed, resolved, duplicate, transferred (out of this service) or cancelled; "
            "duplicate, transferred and cancelled tickets count as received but not in the "
            "service rates and times (seatscore.terms.measures.SET_ASIDE_STATUSES)",
            ("工单状态", "办理状态"),
            hashed_when_set=True,
        ),
    ),
    checks=_tickets_checks,
    date_column="received_at",
)

KPIS = LedgerKind(
    name="kpis",
    name_zh="月度指标台账",
    file_name="kpis_monthly.csv",
    table="kpi_monthly",
    doc="Monthly figures delivered without tickets (a vendor's monthly report, a city's "
    "published call metrics): one row per contract, month and metric.",
    natural_key=("contract_id", "month", "metric"),
    columns=(
        CONTRACT_ID,
        Column("month", pl.String(), True, "calendar month YYYY-MM", ("月份", "统计月份")),
        Column(
            "metric",
            pl.String(),
            True,
            "metric key of seatscore.terms.measures.METRICS",
            ("指标", "指标名称"),
        ),
        Column(
            "value",
            pl.Float64(),
            True,
            "shares as 0–1 (43.7% is read as 0.437); minutes, seconds or counts per unit",
            ("数值", "指标值"),
        ),
        Column(
            "tickets",
            pl.Int64(),
            False,
            "tickets or calls the figure is based on",
            ("样本量", "工单量"),
        ),
        NOTE,
    ),
    checks=_kpis_checks,
    date_column="month",
)

PAYMENTS = LedgerKind(
    name="payments",
    name_zh="付款台账",
    file_name="payments.csv",
    table="payments_made",
    doc="Payments the buyer made to the vendor (付款记录), to set against the payable each "
    "milestone should have paid.",
    natural_key=("contract_id", "voucher_no"),
    columns=(
        CONTRACT_ID,
        Column("paid_on", pl.Date(), True, "the day paid", ("付款日期", "支付日期")),
        Column("amount_cny", MONEY, True, "CNY paid, to the fen", ("付款金额", "支付金额", "金额")),
        Column(
            "milestone",
            pl.String(),
            False,
            "which payment of the contract (label_zh of its payments), free text",
            ("付款节点", "期次"),
        ),
        Column("voucher_no", pl.String(), False, "voucher or invoice number", ("凭证号", "发票号")),
        NOTE,
    ),
    checks=_payments_checks,
    date_column="paid_on",
)

CALLS = LedgerKind(
    name="calls",
    name_zh="来电台账",
    file_name="calls.csv",
    table="calls_offered",
    doc="Calls offered to the seats per interval (话务量), from the switch or ACD export: the "
    "workload Erlang C staffs for; tickets hold only the calls that became tickets.",
    natural_key=("contract_id", "interval_start"),
    columns=(
        CONTRACT_ID,
        Column(
            "interval_start",
            pl.Datetime("us"),
            True,
            "start of the interval, Beijing time",
            ("时段开始", "时段", "开始时间"),
        ),
        Column(
            "interval_minutes",
            pl.Int64(),
            True,
            "length of the interval: 15, 30 or 60 minutes",
            ("时段长度", "时长（分钟）"),
        ),
        Column("offered", pl.Int64(), True, "calls offered (呼入量)", ("呼入量", "来电量")),
        Column("answered", pl.Int64(), False, "calls answered (接通量)", ("接通量", "接听量")),
        Column(
            "handle_seconds",
            pl.Float64(),
            False,
            "mean handle time of the answered calls, talk plus after-call work, seconds",
            ("平均处理时长", "平均处理时长（秒）"),
        ),
        NOTE,
    ),
    checks=_calls_checks,
    date_column="interval_start",
)

SHARE_METRICS = frozenset(k for k, m in METRICS.items() if m.unit == "share")
"""Metric keys whose values are shares 0–1 (a KPI row's ``value`` is checked against 0–1)."""

KINDS: dict[str, LedgerKind] = {
    k.name: k for k in (STAFFING, ROSTER, DEDUCTIONS, PENALTIES, TICKETS, KPIS, PAYMENTS, CALLS)
}

_MAX_LISTED = 10
_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M")
_OFFSET_FORMATS = ("%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M%:z")
"""ISO 8601 with an offset (``2024-04-16T03:03:15Z``, ``…+08:00``): converted to Beijing
wall-clock time. Without an offset a time is taken as written (Beijing time)."""
"""A time needs its time of day: a bare date is not read as 00:00 (an import profile may say it
is, with ``formats``)."""
_MIDNIGHT = r"\s+0{1,2}:00(?::00(?:\.0+)?)?$"
"""A date column also takes a date with a zero time (spreadsheets store dates as midnight)."""
# 2025/10/1, 2025.10.01, 2025年10月1日, optionally followed by a time; rewritten YYYY-MM-DD first.
_DATE_PARTS = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_TRUE = ["true", "1", "是", "yes", "y", "√", "✓", "有"]
_FALSE = ["false", "0", "否", "no", "n", "×", "✗", "无"]
_VALUES = {
    "priority": {"紧急": "urgent", "特急": "urgent", "一般": "ordinary", "普通": "ordinary"},
    "case_class": {"市局": "city", "区局": "district", "特殊案件": "special"},
    # Yes/no columns as 12345 systems write them. 基本满意 is left unread on purpose: whether it
    # counts as satisfied is the contract's call (an import profile's values: says so).
    "satisfied": {"满意": "true", "不满意": "false", "非常满意": "true"},
    "resolved": {"已解决": "true", "未解决": "false", "解决": "true"},
    "callback_done": {"已回访": "true", "未回访": "false"},
    "dispatch_correct": {"准确": "true", "不准确": "false"},
    "status": {
        # 退回 (a unit sends it back), 挂起, 延期, 重办: still being handled. 转办 is 12345's
        # dispatch to a unit, not a transfer out; 移交 (000, 004: handed on for a site check),
        # 作废 (a wrong report voided: 003 charges it) and 取消 (取消督办 …) are left to a
        # profile's values:, since setting them aside would hide misses.
        **dict.fromkeys(
            (
                *("办理中", "处理中", "待处理", "待办理", "未办结", "已受理", "待签收", "已签收"),
                *("已派发", "已转办", "退回", "已退回", "挂起", "延期", "重办"),
            ),
            "open",
        ),
        **dict.fromkeys(("in progress", "assigned", "pending", "started"), "open"),
        **dict.fromkeys(
            ("已办结", "办结", "已结案", "结案", "已关闭", "已完成", "待回访", "已归档"), "closed"
        ),
        "已解决": "resolved",
        **dict.fromkeys(
            ("重复", "重复件", "重复工单", "重复诉求", "合并", "已合并", "并案"), "duplicate"
        ),
        **dict.fromkeys(("转出", "已转出"), "transferred"),
        **dict.fromkeys(("撤销", "已撤销", "撤单"), "cancelled"),
        "canceled": "cancelled",
    },
}
"""Chinese values read as the canonical ones, per column (an import profile can add more). A
text column's values are also read whatever their case (``Closed``, ``URGENT``)."""


def _caseless(words: dict[str, str], canonical: tuple[str, ...]) -> dict[str, str]:
    """``words`` and the canonical values as written in lower, upper, title and sentence case
    (a lookup, not a lowercasing of every value: that was a tenth of parsing a large file)."""
    out = {}
    for word, value in [*((v, v) for v in canonical), *words.items()]:
        for form in (word, word.lower(), word.upper(), word.title(), word.capitalize()):
            out.setdefault(form, value)
    return out


_CASELESS = {
    "priority": _caseless(_VALUES["priority"], ("urgent", "ordinary")),
    "case_class": _caseless(_VALUES["case_class"], ("city", "district", "special")),
    "status": _caseless(_VALUES["status"], TICKET_STATUSES),
    **{
        k: _caseless(v, ())
        for k, v in _VALUES.items()
        if k not in ("priority", "case_class", "status")
    },
}
""":data:`_VALUES` as read: every column's words in any common case."""
_CASELESS_TRUE = sorted(_caseless({}, tuple(_TRUE)))
_CASELESS_FALSE = sorted(_caseless({}, tuple(_FALSE)))
_CANONICAL_TIME = "%Y-%m-%d %H:%M:%S"
"""How most exports write a time: parsed first, in one vectorised pass; only the values it does
not read go through the slower normalisation (:func:`_cast`), which gives the same for these."""


def _text(raw: pl.Expr) -> pl.Expr:
    """Stripped text (also full-width and no-break spaces); empty → null."""
    return raw.str.strip_chars().replace("", None)  # Unicode white space: U+3000, U+00A0 too


def _normal_date(text: pl.Expr) -> pl.Expr:
    """``2025/10/1 8:05`` → ``2025-10-01 8:05``; other text unchanged."""
    parts = text.str.extract_groups(_DATE_PARTS)
    day = pl.format(
        "{}-{}-{}",
        parts.struct.field("1"),
        parts.struct.field("2").str.zfill(2),
        parts.struct.field("3").str.zfill(2),
    )
    rest = (
        text.str.replace(_DATE_PARTS, "")
        .str.strip_chars()
        .str.replace(r"^T", "")  # ISO 8601: 2024-04-16T03:03:15.000
        .str.replace(r"^(\d):", "0$1:")
    )
    joined = pl.when(rest == "").then(day).otherwise(pl.format("{} {}", day, rest))
    return pl.when(parts.struct.field("1").is_not_null()).then(joined).otherwise(text)


def _number(text: pl.Expr) -> pl.Expr:
    """``1,234.50``, ``¥1234.5``, ``1234.5元`` → ``1234.50`` as text for an exact cast."""
    return text.str.replace_all(r"[,，¥￥\s]", "").str.replace(r"元$", "")


def _cast(column: Column, raw: pl.Expr) -> pl.Expr:
    return _cast_text(column, _text(raw))


def _cast_text(column: Column, text: pl.Expr) -> pl.Expr:
    """:func:`_cast` of text already stripped by :func:`_text`."""
    if column.dtype == pl.Date():
        return _normal_date(text).str.replace(_MIDNIGHT, "").str.to_date("%Y-%m-%d", strict=False)
    if isinstance(column.dtype, pl.Datetime):
        text = _normal_date(text)
        parsed = [text.str.to_datetime(f, strict=False, time_unit="us") for f in _DATETIME_FORMATS]
        utc = text.str.replace(r"Z$", "+00:00")
        parsed += [
            utc.str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC")
            .dt.convert_time_zone(config.TIMEZONE.key)
            .dt.replace_time_zone(None)
            for f in _OFFSET_FORMATS
        ]
        return pl.coalesce(parsed)
    if column.dtype == pl.Boolean():
        if column.name in _VALUES:
            text = text.replace(_CASELESS[column.name])
        return (
            pl.when(text.is_in(_CASELESS_TRUE))
            .then(True)
            .when(text.is_in(_CASELESS_FALSE))
            .then(False)
            .otherwise(None)
        )
    if column.dtype in (pl.Int32(), pl.Int64()):
        # Whole numbers only; a spreadsheet may store 3 as 3.0. 2.5 stays unreadable.
        number = _number(text).str.replace(r"\.0+$", "")
        return number.cast(column.dtype, strict=False)
    if isinstance(column.dtype, pl.Decimal) or column.dtype == pl.Float64():
        number = _number(text)
        if isinstance(column.dtype, pl.Decimal):  # more decimals than the scale → unreadable
            number = (
                pl.when(number.str.contains(rf"\.\d{{{column.dtype.scale + 1},}}$"))
                .then(None)
                .otherwise(number)
            )
        return number.cast(column.dtype, strict=False)
    if column.name in _VALUES:  # a closed set of words: Urgent, CLOSED, In Progress read too
        return text.replace(_CASELESS[column.name])
    return text


def _dated(column: Column) -> bool:
    return column.dtype == pl.Date() or isinstance(column.dtype, pl.Datetime)


def _typed_columns(columns: tuple[Column, ...], texts: pl.DataFrame) -> pl.DataFrame:
    """``texts`` (stripped by :func:`_text`) cast as :func:`_cast` does, every column in one
    pass (Polars runs them side by side). Times and dates written the canonical way (most of a
    large export) are parsed at once; only the rest take the regular expressions (3 µs a value:
    10 million tickets' five times would take minutes)."""
    first = texts.select(
        pl.col(c.name).str.to_date("%Y-%m-%d", strict=False)
        if c.dtype == pl.Date()
        else pl.col(c.name).str.to_datetime(_CANONICAL_TIME, strict=False, time_unit="us")
        if _dated(c)
        else _cast_text(c, pl.col(c.name)).alias(c.name)
        for c in columns
    )
    for c in columns:
        if not _dated(c):
            continue
        fast = first[c.name]
        rest = (fast.is_null() & texts[c.name].is_not_null()).arg_true()
        if rest.len():
            slow = texts[rest].select(_cast_text(c, pl.col(c.name))).to_series()
            first = first.with_columns(fast.scatter(rest, slow))
    return first


def type_name(dtype: pl.DataType) -> str:
    """How a value of ``dtype`` must be written, for messages."""
    if dtype == pl.Date():
        return "a date (2025-10-01, 2025/10/1 or 2025年10月1日)"
    if isinstance(dtype, pl.Datetime):
        return "a time (2025-10-01 08:05[:00], 2025/10/1 8:05, 2025-10-01T08:05:00[.000][+08:00])"
    if dtype == pl.Boolean():
        return "yes or no (是/否, true/false, 1/0)"
    if dtype in (pl.Int32(), pl.Int64()):
        return "a whole number"
    if isinstance(dtype, pl.Decimal):
        return f"a number with at most {dtype.scale} decimals"
    if dtype == pl.Float64():
        return "a number"
    return str(dtype)


def _problems(
    frame: pl.DataFrame, mask: pl.Expr | pl.Series, column: str, message: str, code: str = "rule"
) -> list[Problem]:
    if isinstance(mask, pl.Series):  # no copy of the frame for a mask already computed
        rows = mask.fill_null(False).arg_true().to_list()
    else:
        rows = frame.with_row_index("_index").filter(mask)["_index"].to_list()
    return [Problem(row, column, code, message) for row in rows]


_DATE_ONLY = (
    "a date without a time of day: write the time (2025-10-01 08:05), or state in an import "
    "profile what a bare date means (formats: {column: '%Y/%m/%d'} reads it as 00:00)"
)


_WHOLE_COLUMN = (
    "; no value of this column could be read: if the file writes them another way, say how in "
    "an import profile, e.g. formats: {{{column}: '%d/%m/%Y %H:%M'}} (Polars/chrono format codes, "
    "docs/how-to/write-a-profile.md)"
)


_WHOLE_COLUMN_VALUES = (
    "; no value of this column could be read: if the file writes them another way, say what "
    "each means in an import profile, e.g. values: {{{column}: {{基本满意: 是}}}} "
    "(docs/how-to/write-a-profile.md)"
)


def parse_values(kind: LedgerKind, raw: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
    """Text columns (``raw``, one per canonical column, all ``pl.String``; a missing optional
    column may be absent) → the kind's typed frame, and a :class:`Problem` for every value that
    cannot be read as its type (code ``unreadable``; fractional counts and money with more than
    two decimals are unreadable; a bare date where a time is due, code ``date_only``: no time of
    day is assumed) or is empty where required (code ``required``)."""
    raw = raw.with_columns(
        pl.lit(None, dtype=pl.String).alias(c.name) for c in kind.columns if c.name not in raw
    )
    texts = raw.select(_text(pl.col(c.name)).alias(c.name) for c in kind.columns)
    typed = _typed_columns(kind.columns, texts)
    problems: list[Problem] = []
    for c in kind.columns:
        present = texts[c.name].is_not_null()
        unreadable = (present & typed[c.name].is_null()).fill_null(False)
        if not unreadable.any() and (not c.required or present.all()):
            continue
        if isinstance(c.dtype, pl.Datetime) and unreadable.any():
            # Only the unreadable values go through the date pattern (a regular expression over
            # a whole column of a large file is what parsing them one pass avoided).
            at = unreadable.arg_true()
            bare = (
                texts[at]
                .select(_normal_date(pl.col(c.name)).str.contains(r"^\d{4}-\d{2}-\d{2}$"))
                .to_series()
                .fill_null(False)
            )
            date_only = pl.repeat(False, raw.height, eager=True).scatter(at, bare)
            problems += _problems(raw, unreadable & date_only, c.name, _DATE_ONLY, "date_only")
            unreadable = unreadable & ~date_only
        if c.dtype == pl.Boolean() or c.name in _VALUES:
            hint = _WHOLE_COLUMN_VALUES.format(column=c.name)
        else:
            hint = _WHOLE_COLUMN.format(column=c.name)
        message = f"cannot read as {type_name(c.dtype)}"
        if unreadable.sum() > 1 and unreadable.sum() == present.sum():
            message += hint
        problems += _problems(raw, unreadable, c.name, message, "unreadable")
        if c.required:
            problems += _problems(raw, ~present, c.name, "required value is empty", "required")
    return typed, problems


def read_ledger(path: Path | str, kind: LedgerKind | str) -> pl.DataFrame:
    """Read one ledger file into a frame with the kind's canonical columns and dtypes.

    A ``.csv`` file is read as text and each value parsed; a ``.parquet`` file (for ledgers of
    millions of rows, e.g. ``seatscore demo-data --scale``) keeps its typed columns, cast to the
    canonical dtypes. Optional columns missing from the file are added as nulls. Raises
    :class:`LedgerError` when the file is unreadable, a required column is missing, a column is
    unknown, or any value cannot be read as its type, is missing where required, or breaks a basic
    rule (negative counts, a ticket closed before it was received); the message lists the rows
    (the header of a CSV is row 1; Parquet rows count from 2 alike) and columns.
    """
    kind = KINDS[kind] if isinstance(kind, str) else kind
    path = Path(path)
    if path.suffix == ".parquet":
        return _read_parquet_ledger(path, kind)
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (OSError, pl.exceptions.ComputeError) as exc:
        raise LedgerError(f"{path}: cannot read the {kind.name} ledger: {exc}") from exc
    _check_columns(path, kind, raw.columns)
    typed, problems = parse_values(kind, raw)
    problems += rule_problems(kind, typed) + key_problems(kind, typed)
    _raise_problems(path, kind, problems)
    return typed


def _check_columns(path: Path, kind: LedgerKind, columns: list[str]) -> None:
    known = {c.name for c in kind.columns}
    missing = [c.name for c in kind.columns if c.required and c.name not in columns]
    unknown = [c for c in columns if c not in known]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing required column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        expected = ", ".join(c.name for c in kind.columns)
        raise LedgerError(
            f"{path}: {'; '.join(parts)}. A {kind.name} ledger has the columns: {expected}"
        )


def _raise_problems(path: Path, kind: LedgerKind, problems: list[Problem]) -> None:
    if problems:
        problems = sorted(problems, key=lambda p: p.index)
        shown = problems[:_MAX_LISTED]
        more = len(problems) - len(shown)
        raise LedgerError(
            f"{path}: {len(problems)} problem(s) in the {kind.name} ledger; nothing was loaded.\n"
            + "\n".join(f"  - {p.line()}" for p in shown)
            + (f"\n  - … and {more} more" if more else "")
            + "\nCorrect the rows and load the file again."
        )


def _read_parquet_ledger(path: Path, kind: LedgerKind) -> pl.DataFrame:
    try:
        raw = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise LedgerError(f"{path}: cannot read the {kind.name} ledger: {exc}") from exc
    _check_columns(path, kind, raw.columns)
    typed = kind.conform(raw, strict=False)
    problems: list[Problem] = []
    for c in kind.columns:
        if c.name in raw.columns:
            lost = raw[c.name].is_not_null() & typed[c.name].is_null()
            problems += _problems(
                raw, lost, c.name, f"cannot read as {type_name(c.dtype)}", "unreadable"
            )
        if c.required:
            problems += _problems(
                typed, typed[c.name].is_null(), c.name, "required value is empty", "required"
            )
    problems += rule_problems(kind, typed) + key_problems(kind, typed)
    _raise_problems(path, kind, problems)
    return typed


def rule_problems(kind: LedgerKind, frame: pl.DataFrame) -> list[Problem]:
    """Rows of a typed frame that break a rule of their kind (code ``rule``): negative or zero
    counts, an unknown priority, times out of order (closed before received …), a month not
    written YYYY-MM, a share outside 0–1."""
    checks: list[Check] = [
        (~pl.col(c.name).is_finite(), c.name, "is not a finite number (1e400, inf, nan)")
        for c in kind.columns
        if c.dtype == pl.Float64()
    ]
    checks += kind.checks()
    if not checks or frame.is_empty():
        return []
    # Every check in one pass (Polars evaluates them side by side).
    masks = frame.select(
        mask.fill_null(False).alias(f"_{i}") for i, (mask, _, _) in enumerate(checks)
    )
    problems = []
    for i, (_, column, message) in enumerate(checks):
        problems += _problems(frame, masks[f"_{i}"], column, message)
    return problems


def key_problems(kind: LedgerKind, frame: pl.DataFrame) -> list[Problem]:
    """Rows that repeat an earlier row's natural key (code ``duplicate``). A row whose key has
    an empty part is not compared (a payment without a voucher number)."""
    if not kind.natural_key:
        return []
    key = pl.struct(*kind.natural_key)
    complete = pl.all_horizontal(pl.col(c).is_not_null() for c in kind.natural_key)
    later = frame.select(key.is_duplicated() & ~key.is_first_distinct() & complete).to_series()
    message = {
        "tickets": ("ticket_id", "repeats an earlier ticket of the contract"),
        "kpis": ("metric", "repeats another row for the same month"),
    }.get(
        kind.name, (kind.natural_key[-1], f"repeats an earlier row's {', '.join(kind.natural_key)}")
    )
    return _problems(frame, later, message[0], message[1], "duplicate")


_DATE_COLUMN = {
    "staffing": "service_date",
    "roster": "service_date",
    "deductions": "event_date",
    "penalties": "event_date",
    "tickets": "received_at",
    "kpis": "month",
}
"""The column that must fall inside the contract's service period (payments may come after)."""


def reference_problems(
    kind: LedgerKind,
    frame: pl.DataFrame,
    contracts: dict[str, Contract],
    limit: int | None = None,
) -> list[Problem]:
    """Check every row of a typed frame against the contract params it names.

    The contract must exist (code ``unknown_contract``), the date (``received_at`` for tickets,
    the month for KPIs) must fall in its service period (``outside_period``), and the post, rule
    item, penalty or KPI metric must be one the contract has (``reference``). Discretionary items
    need ``assessed_points`` within the item's range; penalties stated as a range need
    ``assessed_amount_cny`` within it. ``limit`` stops early once that many are found (for a
    message that lists the first few)."""
    problems: list[Problem] = []
    indexed = frame.with_row_index("_index")
    date_col = _DATE_COLUMN.get(kind.name)
    if kind is KPIS:
        day = pl.format("{}-01", "month").str.to_date(strict=False)
    elif kind is TICKETS:
        day = pl.col("received_at").dt.date()
    elif date_col:
        day = pl.col(date_col)
    else:
        day = pl.lit(None, dtype=pl.Date)
    # One join against the service periods, not one pass per contract (ledgers of millions of
    # rows over hundreds of contracts).
    periods = pl.DataFrame(
        {
            "contract_id": list(contracts),
            "_start": [
                c.service_period.start.replace(day=1) if kind is KPIS else c.service_period.start
                for c in contracts.values()
            ],
            "_end": [c.service_period.end for c in contracts.values()],
        },
        schema={"contract_id": pl.String, "_start": pl.Date, "_end": pl.Date},
    )
    checked = indexed.select("_index", "contract_id", day.alias("_day")).join(
        periods, on="contract_id", how="left"
    )
    unknown = checked.filter(pl.col("_start").is_null() & pl.col("contract_id").is_not_null())
    if limit is not None:
        unknown = unknown.head(limit)
    for i, cid in unknown.select("_index", "contract_id").rows():
        problems.append(Problem(i, "contract_id", "unknown_contract", f"unknown contract {cid!r}"))
    outside = checked.filter(
        (pl.col("_day") < pl.col("_start")) | (pl.col("_day") > pl.col("_end"))
    )
    if limit is not None:
        outside = outside.head(limit)
    for i, cid in outside.select("_index", "contract_id").rows():
        period = contracts[cid].service_period
        problems.append(
            Problem(
                i,
                date_col or "",
                "outside_period",
                f"outside {cid}'s service period {period.start}–{period.end}",
            )
        )
    if kind is not TICKETS:
        for row in indexed.iter_rows(named=True):
            contract = contracts.get(row["contract_id"])
            if contract is not None:
                problems += [
                    Problem(row["_index"], column, "reference", message)
                    for column, message in _row_reference_problems(kind, row, contract)
                ]
            if limit is not None and len(problems) > limit:
                break
    return sorted(problems, key=lambda p: p.index)


def check_references(
    path: Path | str, kind: LedgerKind, frame: pl.DataFrame, contracts: dict[str, Contract]
) -> None:
    """:func:`reference_problems`, raised as one :class:`LedgerError` listing the first rows."""
    problems = reference_problems(kind, frame, contracts, limit=_MAX_LISTED)
    if problems:
        more = len(problems) - _MAX_LISTED
        raise LedgerError(
            f"{path}: rows that do not match the contract params; nothing was loaded.\n"
            + "\n".join(f"  - {p.line()}" for p in problems[:_MAX_LISTED])
            + (f"\n  - … and more ({more}+)" if more > 0 else "")
            + "\nCorrect the rows (or the params file) and load again."
        )


def _row_reference_problems(
    kind: LedgerKind, row: dict, contract: Contract
) -> Iterable[tuple[str, str]]:
    """(column, message) for each way ``row`` does not match ``contract``."""
    cid = contract.contract_id
    if kind in (STAFFING, ROSTER):
        if row["post_id"] not in {p.post_id for p in contract.posts}:
            yield "post_id", f"{cid} has no post {row['post_id']!r}"
    elif kind is DEDUCTIONS:
        assessment = contract.assessment.value
        if assessment is None:
            yield "item_id", f"{cid} has no points sheet"
            return
        try:
            item = assessment.item(row["item_id"])
        except KeyError:
            yield "item_id", f"{cid} has no rule item {row['item_id']!r}"
            return
        points = row["assessed_points"]
        if item.kind == "discretionary":
            if points is None:
                yield (
                    "assessed_points",
                    f"{item.item_id} is discretionary; record the points the buyer set",
                )
            elif (item.points_min is not None and points < item.points_min) or (
                item.points_max is not None and points > item.points_max
            ):
                yield (
                    "assessed_points",
                    f"{points} is outside {item.points_min}–{item.points_max} ({item.clause})",
                )
        elif not rule_kind(item.kind).recorded:
            yield "item_id", f"{item.item_id} is computed from tickets or staffing, not recorded"
        elif points is not None:
            yield "assessed_points", f"{item.item_id} has fixed points; leave it empty"
    elif kind is KPIS:
        targets = {t.target_id for t in contract.service_level_targets}
        if not known_metric(row["metric"]) and row["metric"] not in targets:
            yield (
                "metric",
                f"{row['metric']!r} is neither a metric key of "
                f"seatscore.terms.measures.METRICS nor a target id of {cid} "
                f"({', '.join(sorted(targets)) or 'none'})",
            )
    elif kind is PENALTIES:
        penalty = next((p for p in contract.penalties if p.penalty_id == row["penalty_id"]), None)
        if penalty is None:
            yield "penalty_id", f"{cid} has no penalty {row['penalty_id']!r}"
            return
        amount = row["assessed_amount_cny"]
        ranged = penalty.amount_cny is None and penalty.share_of_amount is None
        if ranged and amount is None:
            yield (
                "assessed_amount_cny",
                f"{penalty.penalty_id} is set by the buyer; record the amount",
            )
        if ranged and amount is not None:
            low, high = penalty.amount_min_cny, penalty.amount_max_cny
            if (low is not None and amount < low) or (high is not None and amount > high):
                yield "assessed_amount_cny", f"{amount} is outside {low}–{high} ({penalty.clause})"
        if not ranged and amount is not None:
            yield "assessed_amount_cny", f"{penalty.penalty_id} has a fixed amount; leave it empty"


REF = pl.Struct({"file": pl.String, "row": pl.Int32})
"""A ledger row: the file it was loaded from and its row number there (header = row 1)."""
ROWS = pl.List(REF)


def with_refs(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``ref`` (file, row) from ``source_file``/``source_row``, null where a frame has none."""
    for column, dtype in (("source_file", pl.String), ("source_row", pl.Int32)):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(column))
    ref = pl.struct(file=pl.col("source_file"), row=pl.col("source_row").cast(pl.Int32))
    return frame.with_columns(ref.alias("ref"))


def known_refs() -> pl.Expr:
    """In an aggregation: the ``ref`` of each row that has one, as ``rows``."""
    return pl.col("ref").filter(pl.col("ref").struct.field("row").is_not_null()).alias("rows")


def row_sha1(kind: LedgerKind | str, frame: pl.DataFrame) -> list[str]:
    """SHA-1 of each row's canonical values (provenance columns left out), in row order: what
    identifies a ledger row across loads and closings, whatever file it came from."""
    kind = KINDS[kind] if isinstance(kind, str) else kind
    if frame.is_empty():
        return []
    text = frame.select(row_text(kind).alias("t"))["t"]
    return [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in text]


def row_text(kind: LedgerKind) -> pl.Expr:
    """The text :func:`row_sha1` hashes: the canonical values as text, ``\\N`` for empty, joined
    by the unit separator; then each column added later (:attr:`Column.hashed_when_set`) as
    ``<unit separator>name=value`` where the row has a value. A large load writes the same text in DuckDB
    (:func:`seatscore.ledgers.ingest._row_text_sql`); a test checks they agree."""
    text = pl.concat_str(
        [
            pl.col(c.name).cast(pl.String).fill_null("\\N")
            for c in kind.columns
            if not c.hashed_when_set
        ],
        separator="\x1f",
    )
    for c in kind.columns:
        if c.hashed_when_set:  # only when set: rows without it hash as before it existed
            value = pl.lit(f"\x1f{c.name}=") + pl.col(c.name).cast(pl.String)
            text = text + value.fill_null("")
    return text


def as_of(kind: LedgerKind | str, frame: pl.DataFrame, cutoff: dt.date) -> pl.DataFrame:
    """``frame`` as it was known at the end of ``cutoff`` (Beijing time): rows dated after it are
    left out, and what happened after it is not yet known.

    - attendance, deductions, penalties: rows dated on or before ``cutoff``;
    - roster: daily rows on or before it; a person list keeps the persons who started by then, an
      end date after it is not known yet (empty), and the list is taken as true through
      ``cutoff`` at the latest (``listed_on``);
    - tickets: received on or before it; a dispatch, reply, close or arrival after it has not
      happened yet (empty), nor has a callback of a ticket closed after it (a transfer or a
      cancellation counts once closed, so one closed after it is not yet one);
    - KPIs: months that ended by ``cutoff``; payments: paid on or before it; calls: intervals
      that started by its end.

    Extra columns (``source_file`` …) are kept. Used so that every figure for a month uses only
    what was known by the end of that month.
    """
    kind = KINDS[kind] if isinstance(kind, str) else kind
    if frame.is_empty():
        return frame
    end = dt.datetime.combine(cutoff + dt.timedelta(days=1), dt.time())
    if kind is ROSTER:
        daily = pl.col("service_date").is_not_null()
        keep = (
            pl.when(daily)
            .then(pl.col("service_date") <= cutoff)
            .otherwise(pl.col("start_date") <= cutoff)
        )
        return frame.filter(keep).with_columns(
            pl.when(pl.col("end_date") > cutoff)
            .then(None)
            .otherwise(pl.col("end_date"))
            .alias("end_date"),
            pl.when(pl.col("service_date").is_null() & pl.col("start_date").is_not_null())
            .then(pl.min_horizontal(pl.col("listed_on").fill_null(cutoff), pl.lit(cutoff)))
            .otherwise(pl.col("listed_on"))
            .alias("listed_on"),
        )
    if kind is TICKETS:
        later = [c for c in ("dispatched_at", "replied_at", "closed_at", "arrived_at")]
        closed_later = pl.col("closed_at") >= end
        return frame.filter(pl.col("received_at") < end).with_columns(
            *(pl.when(pl.col(c) >= end).then(None).otherwise(pl.col(c)).alias(c) for c in later),
            *(
                pl.when(closed_later).then(None).otherwise(pl.col(c)).alias(c)
                for c in ("callback_done", "satisfied", "resolved")
            ),
        )
    if kind is CALLS:
        return frame.filter(pl.col("interval_start") < end)
    if kind is KPIS:  # a month's figures exist once the month is over
        after = cutoff + dt.timedelta(days=1)
        return frame.filter(pl.col("month") < f"{after.year:04d}-{after.month:02d}")
    return frame.filter(pl.col(kind.date_column) <= cutoff)


def _type_label(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return "CNY, 2 decimals" if dtype.precision == 14 else "points, 2 decimals"
    if isinstance(dtype, pl.Datetime):
        return "time"
    return {
        pl.String: "text",
        pl.Date: "date",
        pl.Int32: "whole number",
        pl.Int64: "whole number",
        pl.Float64: "number",
        pl.Boolean: "yes/no",
    }[dtype.base_type()]


def schema_markdown() -> str:
    """The canonical schema of every ledger kind as Markdown tables: the page
    ``docs/reference/ledgers.md``, generated from it at ``make docs``."""
    parts = []
    for kind in KINDS.values():
        key = ", ".join(kind.natural_key) if kind.natural_key else "none (every row is an event)"
        parts.append(
            f"#### `{kind.name}` — `{kind.file_name}` → table `{kind.table}`\n\n"
            f"{kind.doc} Natural key: {key}.\n\n"
            "| column | type | required | personal | Chinese headers read | what |\n"
            "|---|---|---|---|---|---|"
        )
        for c in kind.columns:
            parts.append(
                f"| `{c.name}` | {_type_label(c.dtype)} | {'**yes**' if c.required else 'no'} | "
                f"{'**yes**' if c.personal else ''} | {'、'.join(c.aliases)} | {c.doc} |"
            )
        parts.append("")
    return "\n".join(parts)
