"""Contract terms as data: the schema of ``params/contracts/<contract_id>.yaml`` and its loader.

Every commercial term carries the clause it comes from (``clause: 附件二 第四章 一 1``). A term the
contract leaves unstated is written explicitly as ``value: null`` with a ``note`` saying so; the rule
it feeds is then reported as not assessable. Nothing here invents a number.

Units: money in CNY (``*_cny``, :class:`~decimal.Decimal`, tax included unless ``tax_included`` says
otherwise); points on the 100-point sheet; shares as 0–1 (``*_share``); durations in minutes.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from seatscore.core.config import TIMEZONE
from seatscore.terms.fields import (
    Clause,
    Identifier,
    Model,
    Money,
    Points,
    Share,
    StaffingBasis,
    Term,
    check_word,
)
from seatscore.terms.measures import METRICS, known_metric
from seatscore.terms.rule_kinds import RuleItem, RuleItemField


class Party(Model):
    name: str
    clause: Clause


class ServicePeriod(Model):
    """First and last day of service, both inclusive (Beijing time)."""

    start: date
    end: date
    clause: Clause

    @model_validator(mode="after")
    def _ordered(self) -> ServicePeriod:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class SampleCoverage(Model):
    """What part of its source's data a public dataset holds, when it is a sample."""

    covers_zh: str = Field(description="what the sample covers, in Chinese (期间、方式)")
    share: Decimal | None = Field(
        default=None, ge=0, le=1, description="its share of all the records (0–1), if known"
    )


class DataSource(Model):
    """How a public dataset's records are to be read (``kind: public_source`` only).

    ``call_channels``: the ``channel`` values that are telephone calls, for workload and Erlang C
    (instead of ``params/analysis.yaml``'s, which name a Chinese hotline's channels).
    ``timezone``: the IANA zone its times are written in; reports say so (default Beijing).
    ``sample``: set when the dataset is a sample: figures that assume a whole month (volumes,
    seats needed) are then labelled as the sample's or not shown."""

    call_channels: list[str] | None = None
    timezone: str = TIMEZONE.key
    sample: SampleCoverage | None = None

    @property
    def local_zone(self) -> str | None:
        """The zone its times are written in when that is not Beijing time, else None."""
        return self.timezone if self.timezone != TIMEZONE.key else None

    @model_validator(mode="after")
    def _known_zone(self) -> DataSource:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"timezone {self.timezone!r} is not an IANA time zone (e.g. America/New_York)"
            ) from exc
        return self


class SigningDate(Model):
    date: date | None
    clause: Clause
    note: str | None = None


class ShiftPattern(Model):
    """Days per week × hours per day a post must be covered (5×8, 7×24, 7×8)."""

    days_per_week: int = Field(ge=1, le=7)
    hours_per_day: int = Field(ge=1, le=24)

    @property
    def hours_per_week(self) -> int:
        return self.days_per_week * self.hours_per_day

    @property
    def label(self) -> str:
        return f"{self.days_per_week}×{self.hours_per_day}"


class Post(Model):
    """A staffed position (岗位/座席) with its minimum headcount and shift pattern.

    ``seats_on_shift`` is how many seats the post keeps staffed at once during the hours of its
    shift pattern: the cover the contract buys, as opposed to the people it employs (004 四 (二) 2
    "周一至周五每天提供48名座席员…每日8小时" = 48 seats on 5×8; 000 附件一 第三条: 1 leader + 1 duty
    officer per shift on 7×24 = 2). Where a contract requires only that a line "有人在岗" for its
    hours, one seat is the cover it states; where it names a team but not how many sit at once
    (003's 17 seat staff on 7×24), it is not stated.
    """

    post_id: Identifier
    name_zh: str
    min_headcount: Term[int]
    shift_pattern: Term[ShiftPattern]
    seats_on_shift: Term[Annotated[int, Field(ge=1)]]
    clause: Clause

    @property
    def seat_hours_per_week(self) -> int | None:
        """Seats on shift × the pattern's hours per week; None if either is not stated."""
        pattern, seats = self.shift_pattern.value, self.seats_on_shift.value
        if pattern is None or seats is None:
            return None
        return seats * pattern.hours_per_week


class PaymentMilestone(Model):
    """One payment: a share of the amount and/or a fixed amount, due as ``due_zh`` says.

    ``at_most`` marks an amount the contract states as a ceiling (004's final payment).
    ``through`` (YYYY-MM) is the last service month this payment settles: the deductions and
    penalties of the months after the previous payment's ``through`` up to this one come off it
    (000 附件二 第三章 二 "随项目支付进度，扣减前期累计扣除款项"). Without an amount, the payment is
    the nominal fees of those months (003's quarterly settlement). ``through_note`` says how the
    month was read where the contract gives no date.
    """

    label_zh: str
    share: Share | None = None
    amount_cny: Money | None = None
    at_most: bool = False
    due_zh: str
    through: Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")] | None = None
    through_note: str | None = None
    condition_zh: str | None = Field(
        default=None,
        description="A condition the payment depends on (000 尾款 如无违约事项): with a breach on "
        "record by the month, the payment is shown as at risk",
    )
    clause: Clause
    note: str | None = None


class CostLine(Model):
    """One line of a stated cost breakdown (004 九)."""

    name_zh: str
    amount_cny: Money
    clause: Clause


class Category(Model):
    """A section of the points sheet; ``cap_points`` is the most it can lose (扣完为止)."""

    category_id: Identifier
    name_zh: str
    cap_points: Points | None = None
    parent: Identifier | None = None
    clause: Clause


class Assessment(Model):
    """The monthly 100-point sheet: score = ``max_points`` − deductions, each category capped."""

    max_points: Points = Decimal(100)
    scoring_zh: str
    clause: Clause
    categories: list[Category]
    items: list[RuleItemField]

    @model_validator(mode="after")
    def _references(self) -> Assessment:
        ids = [c.category_id for c in self.categories]
        if len(set(ids)) != len(ids):
            raise ValueError("category ids repeat")
        for c in self.categories:
            if c.parent is not None and c.parent not in ids:
                raise ValueError(f"category {c.category_id}: parent {c.parent!r} is not a category")
        item_ids = [i.item_id for i in self.items]
        if len(set(item_ids)) != len(item_ids):
            raise ValueError("item ids repeat")
        for item in self.items:
            if item.category not in ids:
                raise ValueError(f"item {item.item_id}: category {item.category!r} is not defined")
        return self

    def item(self, item_id: str) -> RuleItem:
        for item in self.items:
            if item.item_id == item_id:
                return item
        raise KeyError(item_id)

    def category_chain(self, category_id: str) -> list[Category]:
        """The category and its ancestors, innermost first."""
        by_id = {c.category_id: c for c in self.categories}
        chain = []
        current: str | None = category_id
        while current is not None:
            chain.append(by_id[current])
            current = by_id[current].parent
        return chain


class FeeFormula(Model):
    """How lost points become money off the monthly fee.

    - ``cny_per_point``: ``cny_per_point`` CNY per point lost (000 附件二 第三章 二).
    - ``share_of_monthly_fee``: monthly fee × points lost / 100 (003 一 (四)).
    - ``none``: the contract has no points sheet; only penalties reduce the fee.
    """

    kind: Literal["cny_per_point", "share_of_monthly_fee", "none"]
    cny_per_point: Money | None = None
    clause: Clause
    note: str | None = None

    @model_validator(mode="after")
    def _rate(self) -> FeeFormula:
        if self.kind == "cny_per_point" and self.cny_per_point is None:
            raise ValueError("kind cny_per_point needs cny_per_point")
        return self


class StaffingPenalty(Model):
    """CNY per missing person per day, after an optional grace period.

    ``basis: roster``: each vacancy (a rise of a post's roster gap) is charged for every calendar
    day it stays open after its own grace of ``grace_working_days`` official working days, the day
    it opened not counted (000 六 4). ``basis: attendance``: each person-day short of the day's
    required staff is charged (004 三 (一) 5 "按缺口人次、按天计算"); a grace period does not apply.
    """

    rule_id: Identifier = "staffing_penalty"
    name_zh: str = "缺岗扣款"
    kind: Literal["cny_per_person_day"] = "cny_per_person_day"
    basis: StaffingBasis
    rate_cny: Term[Decimal]
    grace_working_days: int = Field(default=0, ge=0)
    clause: Clause
    note: str | None = None

    @model_validator(mode="after")
    def _grace_on_roster(self) -> StaffingPenalty:
        if self.basis == "attendance" and self.grace_working_days:
            raise ValueError("a grace period belongs to a vacancy: use basis roster")
        return self


class Penalty(Model):
    """A money penalty (违约金/扣款) for an incident, per ``unit_zh``.

    Exactly one way of sizing it: a fixed ``amount_cny``, a range ``amount_min_cny``–
    ``amount_max_cny`` the buyer chooses within, or ``share_of_amount`` of the contract amount.
    """

    penalty_id: Identifier
    name_zh: str
    unit_zh: str
    amount_cny: Money | None = None
    amount_min_cny: Money | None = None
    amount_max_cny: Money | None = None
    share_of_amount: Share | None = None
    clause: Clause
    note: str | None = None


class TerminationTrigger(Model):
    """When the buyer may end the contract.

    Kinds (each threshold with the contract's own word, :mod:`seatscore.terms.thresholds`):

    - ``consecutive_months_below``: ``months`` consecutive monthly scores "``threshold_word``
      ``threshold_points``" (000 六 6 低于 80; 003 四 (四) 85分以下, which includes 85).
    - ``months_below_within``: ``months`` such scores within ``window_months`` months.
    - ``staffing_gap``: on some day the roster is short by "``count_word`` ``min_persons``"
      persons in all (000 六 6 "人员缺岗5人（含）以上").
    - ``vacancies_overdue``: "``count_word`` ``min_persons``" vacancies at once each overdue (past
      its grace period) by ``overdue_working_days`` official working days or more (000 六 4
      "人员空缺达到5人及以上且逾期10个工作日及以上"). What it costs is in the termination case that
      names it: 六 4 ties its 20,000 CNY to the termination ("甲方有权解除本合同…乙方还应向甲方支付
      2万元违约金"), so it is not charged to the month.
    - ``other``: described by ``text_zh`` only; not evaluated.

    ``cure_days``: the days after the buyer's notice the vendor has to put things right before
    the buyer may terminate (000 六 6: 7 days); null where the contract gives none.
    """

    trigger_id: Identifier
    kind: Literal[
        "consecutive_months_below",
        "months_below_within",
        "staffing_gap",
        "vacancies_overdue",
        "other",
    ]
    threshold_points: Points | None = None
    threshold_word: str | None = None
    months: int | None = Field(default=None, ge=1)
    window_months: int | None = Field(default=None, ge=1)
    min_persons: int | None = Field(default=None, ge=1)
    count_word: str | None = None
    overdue_working_days: int | None = Field(default=None, ge=0)
    cure_days: int | None = Field(default=None, ge=0)
    text_zh: str
    clause: Clause

    @model_validator(mode="after")
    def _fields(self) -> TerminationTrigger:
        needs = {
            "consecutive_months_below": ["threshold_points", "threshold_word", "months"],
            "months_below_within": [
                "threshold_points",
                "threshold_word",
                "months",
                "window_months",
            ],
            "staffing_gap": ["min_persons", "count_word"],
            "vacancies_overdue": ["min_persons", "count_word", "overdue_working_days"],
            "other": [],
        }[self.kind]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"kind {self.kind} needs {', '.join(missing)}")
        check_word(self.threshold_word, "threshold_word")
        check_word(self.count_word, "count_word")
        return self


TerminationMoneyKind = Literal[
    "forfeit_unpaid",
    "refund_unserved",
    "refund_paid_multiple",
    "damages_share_of_amount",
    "damages_fixed",
]


class TerminationMoney(Model):
    """Money that moves if the contract ends this way, seen from the buyer (a positive amount is
    money the vendor loses or owes).

    - ``forfeit_unpaid``: fees earned but not yet paid are not paid (000 六 4, 六 6 "未向乙方支付的
      费用，不再支付").
    - ``refund_unserved``: fees paid beyond those earned for the time served are refunded
      (000 六 7 "退还已收的乙方尚未履行期间对应的服务费用").
    - ``refund_paid_multiple``: ``multiple`` × all fees paid (001 六 7 "双倍返还" = 2; 002 七 2
      "退还甲方已支付的全部费用" = 1).
    - ``damages_share_of_amount``: ``share`` × the contract amount (003 五 (二) 5 %).
    - ``damages_fixed``: ``amount_cny`` (000 六 4: 20,000).
    """

    kind: TerminationMoneyKind
    name_zh: str
    multiple: Decimal | None = Field(default=None, gt=0)
    share: Share | None = None
    amount_cny: Money | None = None
    clause: Clause
    note: str | None = None

    @model_validator(mode="after")
    def _sized(self) -> TerminationMoney:
        needs = {
            "refund_paid_multiple": "multiple",
            "damages_share_of_amount": "share",
            "damages_fixed": "amount_cny",
        }.get(self.kind)
        if needs is not None and getattr(self, needs) is None:
            raise ValueError(f"kind {self.kind} needs {needs}")
        return self


class TerminationCase(Model):
    """One way the contract can end early and the money that moves with it.

    ``triggers``: the termination triggers that open this case (empty for a case that no
    assessment fires, such as the vendor quitting, 001 六 7)."""

    case_id: Identifier
    name_zh: str
    triggers: list[Identifier] = []
    money: list[TerminationMoney]
    clause: Clause
    note: str | None = None


class NominalFee(Model):
    """How a month's nominal fee is obtained where the contract states it.

    ``day_rate``: the amount ÷ ``days_per_year`` per day served (000 五 1 "合同总金额/365天×项目
    实际执行天数"). Without this term a month is its share of the amount by the fraction of the
    month served (:func:`seatscore.terms.periods.nominal_monthly_fees`).
    """

    kind: Literal["day_rate"]
    days_per_year: int = Field(ge=1)
    clause: Clause
    note: str | None = None


class TicketScope(Model):
    """Which tickets a target applies to; every stated condition must hold (all when empty).

    Values are those of the tickets ledger: ``priority`` (urgent/ordinary), ``case_class``
    (city/district/special), ``category_group`` (e.g. ``6+N``), ``channel``, ``direct_dispatch``.
    Distances in km: over ``distance_km_over`` and up to ``distance_km_upto`` (inclusive).
    """

    priority: list[str] | None = None
    case_class: list[str] | None = None
    category_group: list[str] | None = None
    channel: list[str] | None = None
    direct_dispatch: bool | None = None
    distance_km_over: Decimal | None = None
    distance_km_upto: Decimal | None = None
    clause: Clause | None = None


class ServiceLevelTarget(Model):
    """A service-level target: a time limit, a rate target, or both.

    ``limit_minutes`` is the time limit (dispatch within 10 minutes, 以内: a dispatch at exactly
    10 minutes meets it); ``target_share`` the share that must meet it or the rate to reach (0–1),
    with the contract's ``word`` for meeting it (不低于 98 %: 98 % meets it). Either may be
    unstated. ``metric`` names a
    measure of :mod:`seatscore.compute.service_levels` (``dispatch_minutes``, ``reply_minutes``,
    ``callback_rate`` …); a suffix ``_urgent`` or ``_ordinary`` limits it to that priority.
    ``scope`` limits it to some tickets (000: district cases; 002: directly dispatched 6+N).
    ``item`` names the assessment item (``per_occurrence``) that deducts points for each ticket
    missing it (000 附件二 第四章 一 1: 超过10分钟未接收派发 0.5 分每单据), so a report can say
    what the contract would attach to misses the deductions ledger did not book.
    """

    target_id: Identifier
    name_zh: str
    metric: str
    limit_minutes: Term[Decimal] | None = None
    target_share: Term[Decimal] | None = None
    scope: TicketScope | None = None
    item: Identifier | None = None
    clause: Clause
    note: str | None = None

    @model_validator(mode="after")
    def _target_word(self) -> ServiceLevelTarget:
        if (
            self.target_share is not None
            and self.target_share.stated
            and not self.target_share.word
        ):
            raise ValueError(
                "target_share: add the contract's word for meeting it (word: 不低于, 达到, ≥ …)"
            )
        return self


class Contract(Model):
    """One outsourced service contract, as its params file states it; or, with ``kind:
    public_source``, a public dataset (SF311's published call metrics, TipDM's messages) read
    through the same terms, which reports as a service-performance report: no money, no score,
    no parties."""

    contract_id: Identifier
    kind: Literal["contract", "public_source"] = "contract"
    title_zh: str
    source_seed: str
    buyer: Party
    vendor: Party
    amount_cny: Term[Decimal]
    amount_in_words: Term[str]
    tax_included: Term[bool]
    settled_at_actual_cost: Term[bool]
    service_period: ServicePeriod
    signing_dates: list[SigningDate]
    minimum_headcount: Term[int]
    posts: list[Post]
    payments: list[PaymentMilestone]
    cost_breakdown: list[CostLine] = []
    assessment: Term[Assessment]
    fee_formula: FeeFormula
    staffing_penalties: list[StaffingPenalty]
    penalties: list[Penalty]
    termination_triggers: list[TerminationTrigger]
    termination_cases: list[TerminationCase] = []
    service_level_targets: list[ServiceLevelTarget]
    nominal_fee: NominalFee | None = None
    data_source: DataSource | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        throughs = [m.through for m in self.payments if m.through is not None]
        if throughs != sorted(throughs):
            raise ValueError("payments: through months must not go backwards")
        post_ids = [p.post_id for p in self.posts]
        if len(set(post_ids)) != len(post_ids):
            raise ValueError("post ids repeat")
        amount = self.amount_cny.value
        if amount is not None:
            paid = [m.amount_cny for m in self.payments]
            if paid and all(a is not None for a in paid) and sum(paid, Decimal(0)) != amount:
                raise ValueError(f"payments add up to {sum(paid)} CNY, not the amount {amount}")
            if self.cost_breakdown:
                total = sum((c.amount_cny for c in self.cost_breakdown), Decimal(0))
                if total != amount:
                    raise ValueError(f"cost breakdown adds up to {total} CNY, not {amount}")
        trigger_ids = {t.trigger_id for t in self.termination_triggers}
        for case in self.termination_cases:
            for tid in case.triggers:
                if tid not in trigger_ids:
                    raise ValueError(f"termination case {case.case_id}: no trigger {tid!r}")
        for t in self.termination_triggers:
            if t.kind == "vacancies_overdue" and not any(
                s.basis == "roster" for s in self.staffing_penalties
            ):
                raise ValueError(
                    f"trigger {t.trigger_id}: vacancies_overdue needs a staffing penalty on the "
                    "roster (its grace period says when a vacancy is overdue)"
                )
        rule_ids = [s.rule_id for s in self.staffing_penalties]
        if len(set(rule_ids)) != len(rule_ids):
            raise ValueError("staffing_penalties: give each rule its own rule_id")
        if self.data_source is not None and self.kind != "public_source":
            raise ValueError("data_source describes a public dataset: set kind: public_source")
        if self.nominal_fee is not None and amount is None:
            raise ValueError("nominal_fee needs a stated amount_cny")
        if self.fee_formula.kind != "none" and not self.assessment.stated:
            raise ValueError(f"fee formula {self.fee_formula.kind} needs an assessment")
        if self.fee_formula.kind == "share_of_monthly_fee" and amount is None:
            raise ValueError("fee formula share_of_monthly_fee needs a stated amount_cny")
        for t in self.service_level_targets:
            if t.metric != "three_rates" and not known_metric(t.metric):
                raise ValueError(
                    f"service_level_targets {t.target_id}: unknown metric {t.metric!r}; "
                    f"use one of {', '.join(METRICS)} (or three_rates)"
                )
        items = {i.item_id: i for i in self.assessment.value.items} if self.assessment.value else {}
        for t in self.service_level_targets:
            if t.item is not None and getattr(items.get(t.item), "kind", None) != "per_occurrence":
                raise ValueError(
                    f"service_level_targets {t.target_id}: item {t.item!r} must name a "
                    "per_occurrence item of the assessment (points for each ticket that misses it)"
                )
        return self

    @property
    def seats(self) -> int | None:
        """The minimum headcount, if the contract states one."""
        return self.minimum_headcount.value

    @property
    def covered_seat_hours_per_week(self) -> int | None:
        """Σ over posts of seats on shift × hours per week (:attr:`Post.seat_hours_per_week`);
        None if any post's cover is not stated."""
        hours = [p.seat_hours_per_week for p in self.posts]
        if not hours or any(h is None for h in hours):
            return None
        return sum(h for h in hours if h is not None)

    def rule_name_zh(self, rule_id: str) -> str:
        """The Chinese name a person reads for a rule id (assessment item, staffing rule or money
        penalty); the id itself only when the contract has no such rule."""
        names = {p.penalty_id: p.name_zh for p in self.penalties}
        names |= {r.rule_id: r.name_zh for r in self.staffing_penalties}
        if self.assessment.value is not None:
            names |= {i.item_id: i.name_zh for i in self.assessment.value.items}
        return names.get(rule_id, rule_id)

    def post(self, post_id: str) -> Post:
        for p in self.posts:
            if p.post_id == post_id:
                return p
        raise KeyError(post_id)


def params_sha256(path: Path | str) -> str:
    """SHA-256 of a params file's bytes, for provenance."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
