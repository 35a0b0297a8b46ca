"""Draft a contract's params from the contract's own text, for a person to confirm.

The text is usually a signed PDF converted to text, with the noise of that conversion: full-width
digits, spaces and line breaks inside numbers, page headers in the middle of a clause.
:func:`normalize` removes that noise; :func:`draft` extracts the commercial terms, each with the
clause it sits in and the exact text it came from, and lists every field it could not find as "not
found, confirm by hand". Nothing is guessed: a field is either read from the text or left open.

Chinese capital numerals (大写) are read with ``cn2an``; the amount in figures and in words are
cross-checked, and so are the signing dates (003 has two that disagree).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import cn2an

NOT_FOUND = "not found, confirm by hand"

_TOP = re.compile(r"^\s*(?:#+\s*)?(?:\*\*)?([一二三四五六七八九十]+)\s*、", re.M)
_SECOND = re.compile(r"^\s*(?:#+\s*)?[（(]\s*([一二三四五六七八九十]+)\s*[)）]", re.M)
_THIRD = re.compile(r"^\s*(?:[-#]+\s*)?(\d{1,2})\s*[.、．](?!\d)", re.M)
# An annex heading stands alone ("附件 1:") or is followed by its title ("附件一 服务外包…"); a list
# line "附件一：《…》" in the body is not one.
_ANNEX = re.compile(r"^\s*附件\s*([一二三四五六七八九十\d]+)\s*(?:[:：]\s*$|[ \t]+[^:：\s])", re.M)
_PAGE_LINE = re.compile(
    r"^\s*(?:第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|[-—–]+\s*\d+\s*[-—–]+|\d+\s*/\s*\d+|Page\s*\d+.*)\s*$",
    re.M | re.I,
)
_DATE = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
_CAPITAL = re.compile(
    r"(?:人民币)?([零壹贰叁肆伍陆柒捌玖拾佰仟万亿]+)[元圆](?:([零壹贰叁肆伍陆柒捌玖])角)?(?:([零壹贰叁肆伍陆柒捌玖])分)?整?"
)
_FIGURE = re.compile(r"([¥]?)\s*(?:[(（]\s*小写\s*[)）]\s*)?(\d+(?:\.\d{1,2})?)\s*(元?)")
_ORG = ("局", "委员会", "中心", "公司", "院", "所", "办公室", "政府")


def kw(word: str) -> str:
    """A regex for ``word`` that tolerates spaces and line breaks between its characters."""
    return r"\s*".join(re.escape(ch) for ch in word)


_FULL_WIDTH = {
    **{0xFF10 + i: ord("0") + i for i in range(10)},
    **{0xFF21 + i: ord("A") + i for i in range(26)},
    **{0xFF41 + i: ord("a") + i for i in range(26)},
    0x3000: ord(" "),
    0xFF0E: ord("."),
    0xFF05: ord("%"),
    0xFFE5: ord("¥"),
}
"""Full-width digits, letters, space, full stop, percent and yen to ASCII; Chinese punctuation stays,
so the text quoted back is the contract's own."""


def normalize(text: str) -> str:
    """Undo PDF-to-text noise: full-width digits and letters, page numbers and running headers on
    their own lines, thousands separators, and spaces or line breaks inside a number."""
    text = text.translate(_FULL_WIDTH).replace("\r\n", "\n")
    text = _PAGE_LINE.sub("", text)
    counts = Counter(line.strip() for line in text.splitlines() if len(line.strip()) >= 6)
    running = {line for line, n in counts.items() if n >= 3 and not re.search(r"[：:。；，]", line)}
    if running:
        text = "\n".join(line for line in text.splitlines() if line.strip() not in running)
    text = re.sub(r"(?<=\d)[ \t]*\n\s*(?=[\d,，])", "", text)
    text = re.sub(r"(?<=\d)[,，]\s*(?=\d{3}(?!\d))", "", text)
    return re.sub(r"(?<=\d)[ \t]*\n\s*(?=\d)", "", text)


@dataclass(frozen=True)
class Found:
    """A value read from the text: the value, its clause, and the exact text it came from."""

    value: object
    clause: str
    text: str

    def as_dict(self, **extra: object) -> dict:
        return {"value": self.value, "clause": self.clause, "text": self.text, **extra}


class _Clauses:
    """Where in the contract a position of the normalized text lies (``六 4``, ``附件2 二 (三)``)."""

    def __init__(self, text: str):
        marks = []
        for level, pattern in ((0, _ANNEX), (1, _TOP), (2, _SECOND), (3, _THIRD)):
            marks += [(m.start(), level, m.group(1)) for m in pattern.finditer(text)]
        self.marks = sorted(marks)

    def at(self, position: int) -> str:
        current: dict[int, str] = {}
        for start, level, label in self.marks:
            if start > position:
                break
            current[level] = label
            for deeper in range(level + 1, 4):
                current.pop(deeper, None)
        parts = []
        if 0 in current:
            parts.append(f"附件{current[0]}")
        if 1 in current:
            parts.append(current[1])
        if 2 in current:
            parts.append(f"({current[2]})")
        if 3 in current:
            parts.append(current[3])
        return " ".join(parts) or "首部"


def _sentence(text: str, start: int, end: int) -> str:
    left = max(text.rfind(sep, 0, start) for sep in "。；\n") + 1
    rights = [i for i in (text.find(sep, end) for sep in "。；\n") if i != -1]
    right = min(rights) + 1 if rights else len(text)
    return re.sub(r"\s+", " ", text[left:right]).strip()


def capital_to_decimal(integer: str, jiao: str | None = None, fen: str | None = None) -> Decimal:
    """``('壹佰壹拾壹万柒仟叁佰伍拾肆', '玖', '贰')`` → ``Decimal('1117354.92')``."""
    value = Decimal(int(cn2an.cn2an(integer, "normal")))
    digits = "零壹贰叁肆伍陆柒捌玖"
    if jiao:
        value += Decimal(digits.index(jiao)) / 10
    if fen:
        value += Decimal(digits.index(fen)) / 100
    return value.quantize(Decimal("0.01"))


def _party(text: str, clauses: _Clauses, side: str) -> Found | None:
    pattern = re.compile(kw(side) + r"\s*(?:[(（][^)）\n]*[)）])?\s*[:：]\s*([^\s(（:：,，。]+)")
    for m in pattern.finditer(text):
        name = m.group(1).strip("*")
        if name.endswith(_ORG):
            return Found(name, clauses.at(m.start()), _sentence(text, m.start(), m.end()))
    return None


def _amount(text: str, clauses: _Clauses) -> dict | None:
    for cap in _CAPITAL.finditer(text):
        before = text[max(0, cap.start() - 60) : cap.start()]
        if not re.search(r"金额|共计|总计|报价", before):
            continue
        in_words = capital_to_decimal(cap.group(1), cap.group(2), cap.group(3))
        window_start = max(0, cap.start() - 60)
        window = text[window_start : cap.end() + 40]
        figures = [
            (abs(window_start + f.start() - cap.start()), Decimal(f.group(2)))
            for f in _FIGURE.finditer(window)
            if (f.group(1) or f.group(3)) and Decimal(f.group(2)) >= 1000
        ]
        figure = min(figures)[1].quantize(Decimal("0.01")) if figures else None
        found = Found(
            f"{figure if figure is not None else in_words}",
            clauses.at(cap.start()),
            _sentence(text, cap.start(), cap.end()),
        )
        status = (
            "agrees"
            if figure == in_words
            else ("disagrees" if figure is not None else "no figures")
        )
        return found.as_dict(in_words=cap.group(0), in_words_value=f"{in_words}", check=status)
    return None


def _dates(fragment: str) -> list[date]:
    return [date(int(y), int(m), int(d)) for y, m, d in re.findall(_DATE, fragment)]


def _service_period(text: str, clauses: _Clauses) -> dict | None:
    for m in re.finditer(kw("服务期限") + "|" + kw("有效期限"), text):
        window = text[m.end() : m.end() + 80]
        found = _dates(window)
        if len(found) >= 2:
            return {
                "start": found[0].isoformat(),
                "end": found[1].isoformat(),
                "clause": clauses.at(m.start()),
                "text": _sentence(text, m.start(), m.end() + 40),
            }
    return None


def _signing_dates(text: str, clauses: _Clauses) -> list[dict]:
    out = []
    for m in re.finditer(r"签\s*[订约]\s*日\s*期\s*[:：]?", text):
        found = _dates(text[m.end() : m.end() + 24])
        out.append(
            {
                "date": found[0].isoformat() if found else None,
                "clause": clauses.at(m.start()),
                "text": _sentence(text, m.start(), m.end()),
                **({} if found else {"note": "日期空白"}),
            }
        )
    return out


_TOTAL_HEADCOUNT = [
    kw("人员共计") + r"\s*(\d+)\s*名",
    kw("配置人员不少于") + r"\s*(\d+)\s*人",
    kw("在岗人员须保证不少于") + r"\s*(\d+)\s*人",
    kw("提供") + r"\s*(\d+)\s*" + kw("名座席员"),
]
_POST_HEADCOUNT = r"(?:配\s*置|组\s*建)\s*不\s*少\s*于\s*(\d+)\s*人"


def _headcount(text: str, clauses: _Clauses) -> dict | None:
    for pattern in _TOTAL_HEADCOUNT:
        m = re.search(pattern, text)
        if m:
            return Found(
                int(m.group(1)), clauses.at(m.start()), _sentence(text, m.start(), m.end())
            ).as_dict()
    posts = list(re.finditer(_POST_HEADCOUNT, text))
    if len(posts) >= 2:
        return {
            "value": sum(int(m.group(1)) for m in posts),
            "clause": "; ".join(clauses.at(m.start()) for m in posts),
            "text": " | ".join(_sentence(text, m.start(), m.end()) for m in posts),
            "note": "各岗位最低人数之和",
        }
    return None


def _section(text: str, start: int) -> str:
    nxt = _TOP.search(text, start + 1)
    return text[start : nxt.start() if nxt else len(text)]


def _payments(text: str, clauses: _Clauses, total: Decimal | None) -> list[dict]:
    m = re.search(kw("付款方式") + "|" + kw("支付方式") + "|" + kw("服务费的支付"), text)
    if not m:
        return []
    section = _section(text, m.start())
    out = []
    for f in re.finditer(
        r"(?:计|即|合计|总额)[^¥\d\n]{0,40}?[(（]?\s*¥?\s*(\d+(?:\.\d{1,2})?)\s*元?|¥\s*(\d+(?:\.\d{1,2})?)",
        section,
    ):
        raw = f.group(1) or f.group(2)
        amount = Decimal(raw).quantize(Decimal("0.01"))
        if amount < 1000 or (total is not None and amount == total):
            continue
        start = m.start() + f.start()
        sentence = _sentence(text, start, m.start() + f.end())
        shares = re.findall(r"(\d+)\s*%", section[max(0, f.start() - 40) : f.start()])
        share = shares[-1] if shares else None
        out.append(
            {
                "amount_cny": f"{amount}",
                "share": f"{Decimal(share) / 100:.2f}" if share else None,
                "at_most": bool(re.search(r"不超出|不超过|上限", sentence)),
                "clause": clauses.at(start),
                "text": sentence,
            }
        )
    return out


def _sentences_with(
    text: str, clauses: _Clauses, pattern: str, also: str | None = None
) -> list[dict]:
    """Sentences matching ``pattern`` (and, if given, ``also`` anywhere in the same sentence)."""
    seen, out = set(), []
    for m in re.finditer(pattern, text):
        sentence = _sentence(text, m.start(), m.end())
        if sentence in seen or (also is not None and not re.search(also, sentence)):
            continue
        seen.add(sentence)
        out.append({"clause": clauses.at(m.start()), "text": sentence, "match": m.group(0)})
    return out


def draft(raw_text: str, source: str = "") -> dict:
    """Extract the commercial terms of a contract text.

    Returns a dict ready to dump as YAML: ``buyer``, ``vendor``, ``amount_cny`` (figures, words and
    the cross-check), ``service_period``, ``signing_dates`` (+ ``signing_dates_disagree``),
    ``minimum_headcount``, ``payments`` (+ ``payments_check``), ``fee_formula``, ``penalties``,
    ``termination_triggers``, ``service_level_targets`` (sentences with their clauses), and
    ``not_found``: every field it could not find, to confirm by hand.
    """
    text = normalize(raw_text)
    clauses = _Clauses(text)
    out: dict = {"draft_of": source, "status": "draft: confirm every value against the contract"}
    not_found = []
    for key, side in (("buyer", "甲方"), ("vendor", "乙方")):
        found = _party(text, clauses, side)
        out[key] = found.as_dict() if found else NOT_FOUND
        if not found:
            not_found.append(key)
    amount = _amount(text, clauses)
    out["amount_cny"] = amount or NOT_FOUND
    if amount is None:
        not_found.append("amount_cny")
    period = _service_period(text, clauses)
    out["service_period"] = period or NOT_FOUND
    if period is None:
        not_found.append("service_period")
    signing = _signing_dates(text, clauses)
    out["signing_dates"] = signing or NOT_FOUND
    stated = {s["date"] for s in signing if s["date"]}
    out["signing_dates_disagree"] = len(stated) > 1
    if not stated:
        not_found.append("signing_dates")
    headcount = _headcount(text, clauses)
    out["minimum_headcount"] = headcount or NOT_FOUND
    if headcount is None:
        not_found.append("minimum_headcount")
    total = Decimal(amount["value"]) if amount else None
    payments = _payments(text, clauses, total)
    out["payments"] = payments
    if payments and total is not None:
        paid = sum((Decimal(p["amount_cny"]) for p in payments), Decimal(0))
        out["payments_check"] = (
            "adds up to the amount" if paid == total else f"adds up to {paid}, not {total}"
        )
    if not payments:
        not_found.append("payments (no amounts)")
    out["fee_formula"] = _sentences_with(
        text, clauses, r"每少\s*[\d.]+\s*分|扣分\s*%|÷\s*12|/\s*12"
    )
    out["penalties"] = _sentences_with(
        text,
        clauses,
        r"\d+(?:\.\d+)?\s*(?:元|%|万元)",
        also=r"违约金|违约责任|扣除|扣减|扣款|核减|罚款",
    )
    out["termination_triggers"] = _sentences_with(
        text,
        clauses,
        r"连续\s*(?:\d+|两|二|三)\s*个月[^。；\n]{0,30}?\d+\s*分|\d+\s*个月之内有\s*\d+\s*个月",
    )
    out["service_level_targets"] = _sentences_with(
        text,
        clauses,
        r"\d+(?:\.\d+)?\s*(?:分钟|小时)内|(?:率|比例)[^。；\n]{0,16}?\d+(?:\.\d+)?\s*%",
    )
    for key in ("fee_formula", "penalties", "termination_triggers", "service_level_targets"):
        if not out[key]:
            not_found.append(key)
    out["not_found"] = [f"{field}: {NOT_FOUND}" for field in not_found]
    return out


def compare(draft_doc: dict, confirmed: dict) -> list[str]:
    """Where a draft and a confirmed params file differ, one line each (empty: they agree).

    Compared: parties, amount, service period, minimum headcount, stated payment amounts and the
    signing dates.
    """

    def value(field):
        return field.get("value") if isinstance(field, dict) else None

    lines = []
    pairs = [
        ("buyer", value(draft_doc["buyer"]), confirmed["buyer"]["name"]),
        ("vendor", value(draft_doc["vendor"]), confirmed["vendor"]["name"]),
        ("amount_cny", value(draft_doc["amount_cny"]), _money(confirmed["amount_cny"]["value"])),
        (
            "service_period",
            (draft_doc["service_period"] or {}).get("start")
            if isinstance(draft_doc["service_period"], dict)
            else None,
            str(confirmed["service_period"]["start"]),
        ),
        (
            "service_period.end",
            draft_doc["service_period"].get("end")
            if isinstance(draft_doc["service_period"], dict)
            else None,
            str(confirmed["service_period"]["end"]),
        ),
        (
            "minimum_headcount",
            value(draft_doc["minimum_headcount"]),
            confirmed["minimum_headcount"]["value"],
        ),
        (
            "payments",
            [p["amount_cny"] for p in draft_doc.get("payments") or []],
            [
                _money(p["amount_cny"])
                for p in confirmed.get("payments", [])
                if p.get("amount_cny") is not None
            ],
        ),
        (
            "signing_dates",
            sorted({s["date"] for s in draft_doc["signing_dates"] if s.get("date")})
            if isinstance(draft_doc["signing_dates"], list)
            else [],
            sorted({str(s["date"]) for s in confirmed.get("signing_dates", []) if s.get("date")}),
        ),
    ]
    for field, drafted, confirmed_value in pairs:
        if drafted != confirmed_value:
            lines.append(f"{field}: draft {drafted!r} ≠ confirmed {confirmed_value!r}")
    return lines


def _money(value: object) -> str | None:
    return None if value is None else f"{Decimal(str(value)):.2f}"
