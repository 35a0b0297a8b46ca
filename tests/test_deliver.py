"""Delivery by email: a real SMTP server on loopback (aiosmtpd) receives what each manager should
get, and nothing else."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

from seatscore import cli
from seatscore.batch.deliver import DeliveryError, load_recipients


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls it by this name
        self.envelopes.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def recipients_file(tmp_path, port: int, security: str = "none", host: str = "127.0.0.1"):
    path = tmp_path / "recipients.yaml"
    path.write_text(
        f"""smtp: {{host: {host}, port: {port}, security: {security}, sender: seatscore@example.org}}
recipients:
  - {{name: 甲, email: a@example.org, contracts: [karamay-grid-2024]}}
  - {{name: 乙, email: b@example.org, contracts: [shijingshan-hotline-2024, haidian-hotline-2022]}}
""",
        encoding="utf-8",
    )
    return path


def test_each_manager_gets_their_contracts_and_only_those(
    smtp_server, demo_db, tmp_path, monkeypatch, capsys
):
    controller, inbox = smtp_server
    monkeypatch.delenv("SEATSCORE_SMTP_USER", raising=False)
    reports = tmp_path / "reports"
    (reports / "2024-10").mkdir(parents=True)
    (reports / "2024-10" / "karamay-grid-2024.html").write_text("<p>karamay</p>", encoding="utf-8")
    (reports / "2024-10" / "shijingshan-hotline-2024.html").write_text(
        "<p>sjs</p>", encoding="utf-8"
    )
    path = recipients_file(tmp_path, controller.port)
    status = cli.main(
        [
            "deliver",
            "--month",
            "2024-10",
            "--recipients",
            str(path),
            "--db",
            str(demo_db),
            "--out",
            str(reports),
        ]
    )
    # 乙's haidian-hotline-2022 has no October 2024 report: named, not attached, exit status 1.
    assert status == 1
    out = capsys.readouterr().out
    assert "sent a@example.org: 1 report(s) karamay-grid-2024" in out
    assert "not rendered: haidian-hotline-2022" in out
    assert [e.rcpt_tos for e in inbox.envelopes] == [["a@example.org"], ["b@example.org"]]
    first, second = (
        email.message_from_bytes(e.content, policy=email.policy.default) for e in inbox.envelopes
    )
    attached = [
        [(p.get_filename(), p.get_content()) for p in m.iter_attachments()] for m in (first, second)
    ]
    assert attached[0] == [("karamay-grid-2024-2024-10.html", "<p>karamay</p>")]
    assert attached[1] == [("shijingshan-hotline-2024-2024-10.html", "<p>sjs</p>")]
    body = first.get_body(("html",)).get_content()
    assert "城市运维服务项目" in body and "见附件" in body and "¥" in body
    assert (
        "<script" not in body and "<style" not in body and 'style="' in body
    )  # CSS inlined (css-inline)
    assert "综合调度" not in body and "石景山" not in body  # no one else's contract
    assert "报告未生成" in second.get_body(("html",)).get_content()
    assert first["Subject"] == "2024年10月合同月度报告（1 份合同）"


def test_a_dry_run_sends_nothing(smtp_server, demo_db, tmp_path):
    controller, inbox = smtp_server
    path = recipients_file(tmp_path, controller.port)
    assert (
        cli.main(
            [
                "deliver",
                "--month",
                "2024-10",
                "--recipients",
                str(path),
                "--db",
                str(demo_db),
                "--out",
                str(tmp_path),
                "--dry-run",
            ]
        )
        == 1
    )
    assert inbox.envelopes == []


def test_plain_smtp_to_another_machine_is_refused(tmp_path):
    path = recipients_file(tmp_path, 25, host="smtp.example.gov.cn")
    with pytest.raises(DeliveryError, match="use ssl or starttls"):
        load_recipients(path)


def test_a_login_without_a_password_is_refused_before_anything_is_sent(
    smtp_server, demo_db, tmp_path, monkeypatch, capsys
):
    controller, inbox = smtp_server
    monkeypatch.setenv("SEATSCORE_SMTP_USER", "seatscore")
    monkeypatch.delenv("SEATSCORE_SMTP_PASSWORD", raising=False)
    path = recipients_file(tmp_path, controller.port)
    assert (
        cli.main(
            [
                "deliver",
                "--month",
                "2024-10",
                "--recipients",
                str(path),
                "--db",
                str(demo_db),
                "--out",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "SEATSCORE_SMTP_PASSWORD is not" in capsys.readouterr().err
    assert inbox.envelopes == []


def test_the_example_recipients_file_is_valid_and_holds_no_real_address():
    from seatscore.core import config

    example = load_recipients(config.PARAMS_DIR / "recipients.example.yaml")
    assert {r.email.split("@")[1] for r in example.recipients} == {"example.gov.cn"}


class RefusesTheSecond(Inbox):
    """A server that refuses the second message it is given (554), then accepts again."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    async def handle_DATA(self, server, session, envelope):
        self.calls += 1
        if self.calls == 2:
            return "554 5.7.1 refused for the test"
        self.envelopes.append(envelope)
        return "250 OK"


def three_recipients(tmp_path, port: int):
    path = tmp_path / "recipients.yaml"
    path.write_text(
        f"""smtp: {{host: 127.0.0.1, port: {port}, security: none, sender: seatscore@example.org}}
recipients:
  - {{name: 甲, email: a@example.org, contracts: [karamay-grid-2024]}}
  - {{name: 乙, email: b@example.org, contracts: [karamay-grid-2024]}}
  - {{name: 丙, email: c@example.org, contracts: [karamay-grid-2024]}}
""",
        encoding="utf-8",
    )
    return path


def test_a_refused_message_is_recorded_and_only_it_is_sent_again(
    demo_db, tmp_path, monkeypatch, capsys
):
    # The server refuses the second of three messages. 甲 and 丙 get theirs and are recorded in
    # reports/2024-10/delivered.json; 乙 is reported NOT SENT, exit 1. The rerun sends 乙's only.
    import json

    monkeypatch.delenv("SEATSCORE_SMTP_USER", raising=False)
    reports = tmp_path / "reports"
    (reports / "2024-10").mkdir(parents=True)
    (reports / "2024-10" / "karamay-grid-2024.html").write_text("<p>k</p>", encoding="utf-8")
    inbox = RefusesTheSecond()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        args = [
            "deliver",
            "--month",
            "2024-10",
            "--recipients",
            str(three_recipients(tmp_path, controller.port)),
            "--db",
            str(demo_db),
            "--out",
            str(reports),
        ]
        assert cli.main(args) == 1
        out = capsys.readouterr().out
        assert "sent a@example.org" in out and "sent c@example.org" in out
        assert "NOT SENT b@example.org" in out and "554" in out
        record = json.loads((reports / "2024-10" / "delivered.json").read_text(encoding="utf-8"))
        assert sorted(record) == ["a@example.org", "c@example.org"]
        first = [e.rcpt_tos for e in inbox.envelopes]
        assert first == [["a@example.org"], ["c@example.org"]]
        assert cli.main(args) == 0
        out = capsys.readouterr().out
        assert "already delivered, not sent again: a@example.org" in out
        assert "sent b@example.org" in out
        assert [e.rcpt_tos for e in inbox.envelopes][2:] == [["b@example.org"]]
    finally:
        controller.stop()
