"""Masking of personal data in anything a report shows.

Ledgers may carry callers' phone numbers and names (来电号码, 姓名); reports never show them in
full: every text cell of every report table goes through :func:`mask_personal`, whatever its
column (a number typed into the district or the ticket id column is masked too). Masked: mainland mobile numbers (``13812345678`` → ``138****5678``), landlines
(``010-68889925`` → ``010-****9925``), identity card numbers (first 6 and last 4 kept), and names after
a label (``姓名：张三`` → ``姓名：张*``). A name written without a label cannot be told from other
words and is not masked: keep names in their own ledger column, which reports never show.
"""

from __future__ import annotations

import re

_WIDE = str.maketrans("０１２３４５６７８９＋－—　", "0123456789+--" + " ")
"""Full-width digits, plus, dashes and the ideographic space, read as their ASCII forms."""
_SEP = r"[ \-]?"
_MOBILE = re.compile(rf"(?<![\d+])((?:\+?86{_SEP})?)(1[3-9]\d){_SEP}(\d{{4}}){_SEP}(\d{{4}})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})([- ]?)\d{3,4}(\d{4})(?!\d)")
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![\dA-Za-z])")
_LABELLED_NAME = re.compile(
    r"(姓名|联系人|来电人|反映人|诉求人|举报人)([:：]\s*)([\u4e00-\u9fff])([\u4e00-\u9fff]{1,3})"
)


def mask_personal(text: str | None) -> str | None:
    """Mask phone numbers, identity card numbers and labelled names in free text.

    Numbers are found however they are spelled: full-width digits (``１３８１２３４５６７８``), spaces
    or dashes between the groups (``138 1234 5678``, ``139-1234-5678``) and a ``+86``/``86`` prefix
    (``+8613912345678``, ``+86 139-1234-5678``) all become ``138****5678`` (prefix kept). Full-width
    digits are shown in ASCII afterwards.
    """
    if text is None:
        return None
    text = text.translate(_WIDE)
    text = _ID_CARD.sub(lambda m: f"{m[1]}********{m[2][-4:]}", text)
    text = _MOBILE.sub(lambda m: f"{m[1]}{m[2]}****{m[4]}", text)
    text = _LANDLINE.sub(r"\1\2****\3", text)
    return _LABELLED_NAME.sub(lambda m: f"{m[1]}{m[2]}{m[3]}{'*' * len(m[4])}", text)
