"""Email each manager the month's reports of the contracts assigned to them, and only those.

The recipients file (``params/recipients.yaml``; real addresses stay out of git, see
``params/recipients.example.yaml``) names the SMTP server and who gets which contracts. Credentials
come from the environment (``SEATSCORE_SMTP_USER``, ``SEATSCORE_SMTP_PASSWORD``), never from a file.
Each email carries an email-safe summary in its body (tables with inline CSS, no scripts, no
images) and the full reports attached; a report that was not rendered is named in the body and not
attached. The standard library's ``smtplib`` and ``email`` do the sending.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import smtplib
import ssl
from dataclasses import dataclass
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import Annotated, Literal

import css_inline
import jinja2
from pydantic import Field

from seatscore.batch.manifest import report_key
from seatscore.compute import closing
from seatscore.compute.statement import statement_as_of
from seatscore.core.config import TIMEZONE
from seatscore.core.errors import SeatscoreError
from seatscore.core.files import atomic_write, read_yaml_model
from seatscore.core.model import Model
from seatscore.core.money import format_cny
from seatscore.ledgers import store as db
from seatscore.terms.periods import parse_month

USER_ENV, PASSWORD_ENV = "SEATSCORE_SMTP_USER", "SEATSCORE_SMTP_PASSWORD"
LOOPBACK = {"localhost", "127.0.0.1", "::1"}
Address = Annotated[str, Field(pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")]


class DeliveryError(SeatscoreError):
    """A recipients file or an SMTP server that cannot be used; the message says what to fix."""


class Smtp(Model):
    """``security``: ``ssl`` (SMTPS, usually port 465), ``starttls`` (usually 587), or ``none``,
    allowed only to a server on this machine (loopback), for tests and local relays."""

    host: str
    port: int = Field(gt=0, lt=65536)
    security: Literal["ssl", "starttls", "none"]
    sender: Address
    sender_name: str = "Seatscore 合同月度报告"
    timeout_s: float = Field(default=30, gt=0)


class Recipient(Model):
    name: str
    email: Address
    contracts: list[str] = Field(min_length=1)


class Recipients(Model):
    smtp: Smtp
    recipients: list[Recipient] = Field(min_length=1)


def load_recipients(path: Path | str) -> Recipients:
    """Read a recipients file. Raises :class:`DeliveryError` naming the file and each bad field,
    or refusing plain SMTP to a server that is not on this machine."""
    path = Path(path)
    hint = "; copy params/recipients.example.yaml to params/recipients.yaml and fill it in"
    parsed = read_yaml_model(path, Recipients, DeliveryError, hint)
    if parsed.smtp.security == "none" and parsed.smtp.host not in LOOPBACK:
        raise DeliveryError(
            f"{path}: smtp.security none sends reports unencrypted; use ssl or starttls for "
            f"{parsed.smtp.host} (none is for a server on this machine only)"
        )
    return parsed


@dataclass
class Delivery:
    """What happened for one recipient: the contracts attached and those without a report;
    ``status`` ``sent``, ``already`` (the same reports were delivered before: not sent again) or
    ``failed`` (``error`` says why; a rerun sends it)."""

    recipient: Recipient
    attached: list[str]
    missing: list[str]
    status: str = "sent"
    error: str | None = None
    fingerprint: str = ""


RECORD = "delivered.json"
"""``reports/<month>/delivered.json``: each message delivered, so a rerun sends only the rest."""


def _fingerprint(recipient: Recipient, rows: list[dict]) -> str:
    """What a recipient's message carries: the contracts and the bytes of each report."""
    digest = hashlib.sha256(recipient.email.encode("utf-8"))
    for r in rows:
        digest.update(r["contract_id"].encode("utf-8"))
        if r["report"] is not None:
            digest.update(Path(r["report"]).read_bytes())
    return digest.hexdigest()


def _record(reports_dir: Path, month: str) -> dict:
    try:
        return json.loads((reports_dir / month / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _remember(reports_dir: Path, month: str, delivery: Delivery) -> None:
    record = _record(reports_dir, month)
    record[delivery.recipient.email] = {
        "fingerprint": delivery.fingerprint,
        "contracts": delivery.attached,
        "sent_at": dt.datetime.now(TIMEZONE).isoformat(timespec="seconds"),
    }
    atomic_write(
        reports_dir / month / RECORD, json.dumps(record, ensure_ascii=False, indent=1) + "\n"
    )


_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("seatscore", "templates"),
    autoescape=True,
    keep_trailing_newline=True,
)


def summary_html(recipient: Recipient, month: str, rows: list[dict]) -> str:
    """The email body: one row per contract (score, payable, nominal, what needs attention), from the template
    ``templates/email.html.j2``; its stylesheet is inlined into each element (css-inline), since
    mail clients drop ``<style>`` blocks."""
    year, mon = month.split("-")
    page = _TEMPLATES.get_template("email.html.j2").render(
        name=recipient.name, year=year, month=int(mon), rows=rows
    )
    return css_inline.inline(page)


def _rows(db_path: Path, reports_dir: Path, month: str, contract_ids: list[str]) -> dict[str, dict]:
    """The summary row of each contract for ``month`` (each computed once, however many
    recipients share the contract), by contract id."""
    rows = {}
    with db.connect(db_path, read_only=True) as con:
        contracts = db.load_contracts(con)
        for cid in contract_ids:
            if cid not in contracts:
                raise DeliveryError(
                    f"recipients file names contract {cid!r}, which is not in {db_path}"
                )
            contract = contracts[cid]
            period = contract.service_period
            in_period = period.start.replace(day=1) <= parse_month(month) <= period.end
            # The stored statement (what the report shows); else the month as known at its end.
            doc = closing.stored(con, cid, month) if in_period else None
            if doc is None and in_period:
                doc = statement_as_of(contract, db.ledgers(con, cid), month)
            report = reports_dir / report_key(cid, month)
            rendered = report.exists()
            doc = doc or {}
            rows[cid] = {
                "contract_id": cid,
                "title": contract.title_zh,
                "score": f"{Decimal(doc['score']):.1f} 分" if doc.get("score") else "—",
                "payable": format_cny(
                    Decimal(doc["payable_cny"]) if doc.get("payable_cny") else None
                ),
                "nominal": format_cny(
                    Decimal(doc["fee_nominal_cny"]) if doc.get("fee_nominal_cny") else None
                ),
                "attention": _attention(doc) if in_period else ["不在服务期内"],
                "report": report if rendered else None,
                "attached": rendered,
            }
    return rows


def _attention(doc: dict) -> list[str]:
    """What needs attention, as the report's first screen says it (the red and amber findings,
    :mod:`seatscore.compute.findings`); a statement stored by an earlier version has only its
    flags."""
    if "findings" not in doc:
        return doc.get("flags", [])
    return [f["text_zh"] for f in doc["findings"] if f["level"] != "info"]


def message(
    recipients: Recipients, recipient: Recipient, month: str, rows: list[dict]
) -> EmailMessage:
    msg = EmailMessage()
    year, mon = month.split("-")
    msg["Subject"] = f"{year}年{int(mon)}月合同月度报告（{len(rows)} 份合同）"
    msg["From"] = formataddr((recipients.smtp.sender_name, recipients.smtp.sender))
    msg["To"] = formataddr((recipient.name, recipient.email))
    plain = [f"{recipient.name}：{year}年{int(mon)}月合同月度报告，完整报告见附件。"]
    plain += [
        f"- {r['title']}：得分 {r['score']}，本月应付 {r['payable']}"
        + ("" if r["attached"] else "（报告未生成）")
        for r in rows
    ]
    msg.set_content("\n".join(plain))
    msg.add_alternative(summary_html(recipient, month, rows), subtype="html")
    for r in rows:
        if r["report"] is not None:
            msg.add_attachment(
                r["report"].read_bytes(),
                maintype="text",
                subtype="html",
                filename=f"{r['contract_id']}-{month}.html",
            )
    return msg


def _connect(smtp: Smtp) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if smtp.security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=smtp.timeout_s, context=context
        )
    else:
        server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
        if smtp.security == "starttls":
            server.starttls(context=context)
    user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
    if user:
        if password is None:
            raise DeliveryError(f"{USER_ENV} is set but {PASSWORD_ENV} is not")
        server.login(user, password)
    return server


def deliver(
    recipients_path: Path | str,
    month: str,
    db_path: Path,
    reports_dir: Path,
    dry_run: bool = False,
) -> list[Delivery]:
    """Send each recipient one email for ``month`` (YYYY-MM) with their contracts' reports.

    Raises :class:`DeliveryError` for a bad recipients file, an unknown contract, or an SMTP
    server that refuses the connection or the login (nothing is sent to anyone when the
    connection cannot be made). Each message sent is recorded in
    ``reports/<month>/delivered.json`` at once; a message the server refuses is reported as
    ``failed`` and the others still go; a rerun sends only what was not delivered (or whose
    reports changed since). ``dry_run`` builds every message and sends none."""
    recipients = load_recipients(recipients_path)
    wanted = sorted({cid for person in recipients.recipients for cid in person.contracts})
    by_contract = _rows(db_path, reports_dir, month, wanted)
    messages = []
    done = _record(reports_dir, month)
    for person in recipients.recipients:
        rows = [by_contract[cid] for cid in person.contracts]
        delivery = Delivery(
            person,
            [r["contract_id"] for r in rows if r["attached"]],
            [r["contract_id"] for r in rows if not r["attached"]],
            fingerprint=_fingerprint(person, rows),
        )
        if done.get(person.email, {}).get("fingerprint") == delivery.fingerprint:
            delivery.status = "already"
        messages.append((person, message(recipients, person, month, rows), delivery))
    if dry_run:
        return [d for _, _, d in messages]
    to_send = [m for m in messages if m[2].status != "already"]
    if not to_send:
        return [d for _, _, d in messages]
    try:
        server = _connect(recipients.smtp)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(
            f"SMTP {recipients.smtp.host}:{recipients.smtp.port} ({recipients.smtp.security}): "
            f"{exc}; nothing was sent"
        ) from exc
    try:
        for _person, msg, delivery in to_send:
            try:
                server.send_message(msg)
            except (OSError, smtplib.SMTPException) as exc:  # this one failed; go on
                delivery.status, delivery.error = "failed", f"{type(exc).__name__}: {exc}"
                if isinstance(exc, smtplib.SMTPServerDisconnected):
                    try:  # the server hung up: one new connection for the rest
                        server = _connect(recipients.smtp)
                    except (OSError, smtplib.SMTPException):
                        pass
                continue
            _remember(reports_dir, month, delivery)
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()
    return [d for _, _, d in messages]
