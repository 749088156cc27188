"""The email channel against a real SMTP server (aiosmtpd) on 127.0.0.1 with STARTTLS and AUTH."""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from secscan.config.settings import build_settings
from secscan.core.errors import ConfigError
from secscan.delivery.notify.email import EmailChannel
from secscan.delivery.notify.interface import Action, Alert, EventKind
from secscan.delivery.verdicts import Dead, Delivered, Retry

pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

ALERT = Alert("mail", Action.TRIGGER, EventKind.FINDING, "secscan/finding/shop/ab", "shop",
              "[secscan] new critical bandit B602 at app.py:3", datetime(2026, 3, 1, tzinfo=UTC),
              details={"finding": "abababababababab"})  # fmt: skip


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.content)
        return "250 OK"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    """Accept secscan / s3cret-pass. ``handled=False`` makes aiosmtpd itself answer a refusal with
    ``535 5.7.8``: its default (``handled=True``) means "the authenticator already replied", so
    a refused client would wait, unanswered, until its own timeout."""
    ok = isinstance(data, LoginPassword) and data.login == b"secscan" and data.password == b"s3cret-pass"
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[int, _Inbox, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a throwaway certificate for STARTTLS")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = _Inbox()
    with socket.socket() as probe:  # aiosmtpd's controller needs a real port to check itself
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=_auth, auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    try:
        yield port, inbox, cert
    finally:
        controller.stop()


def _channel(port: int, cert: Path, password: str = "s3cret-pass") -> EmailChannel:  # noqa: S107
    return EmailChannel("mail", "127.0.0.1", port, "secscan@example.com", ("oncall@example.com",),
                        username="secscan", password=password, ca_file=cert, timeout_s=10)  # fmt: skip


def test_an_alert_is_mailed_over_starttls_with_auth(smtp: tuple[int, _Inbox, Path]) -> None:
    port, inbox, cert = smtp
    assert isinstance(_channel(port, cert).send(ALERT), Delivered)
    (message,) = inbox.messages
    assert b"Subject: [secscan] new critical bandit B602" in message and b"abababababababab" in message
    assert b"s3cret-pass" not in message


def test_an_untrusted_certificate_or_no_server_is_retried(
    smtp: tuple[int, _Inbox, Path], tmp_path: Path
) -> None:
    port, _, _ = smtp
    other = tmp_path / "none.pem"
    other.write_text("", encoding="utf-8")
    untrusted = EmailChannel("mail", "127.0.0.1", port, "a@example.com", ("b@example.com",), timeout_s=5)
    assert isinstance(untrusted.send(ALERT), Retry)
    closed = EmailChannel("mail", "127.0.0.1", 1, "a@example.com", ("b@example.com",), timeout_s=5)
    assert isinstance(closed.send(ALERT), Retry)


def test_a_refused_login_is_a_dead_letter_without_the_password(smtp: tuple[int, _Inbox, Path]) -> None:
    """535 (bad credentials) will not heal by retrying: a dead letter, and the fallback is told."""
    port, inbox, cert = smtp
    verdict = _channel(port, cert, password="wrong-pass-4711").send(ALERT)
    assert isinstance(verdict, Dead)
    assert "535" in verdict.error and "wrong-pass-4711" not in verdict.error
    assert inbox.messages == []


# -- permanent faults are dead letters, passing ones are retried (issue 13) -------------------------


class _Refusing(_Inbox):
    """Answers every RCPT TO with ``reply``."""

    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          options: Any) -> str:  # fmt: skip
        return self.reply


@pytest.fixture
def plain_smtp() -> Iterator[Callable[[_Inbox], int]]:
    """A plain SMTP server (no STARTTLS, no AUTH) with the given handler; returns its port."""
    controllers: list[Controller] = []

    def start(handler: _Inbox) -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return int(port)

    yield start
    for controller in controllers:
        controller.stop()


def test_a_server_without_starttls_is_a_dead_letter(plain_smtp: Callable[[_Inbox], int]) -> None:
    """``starttls = true`` against a relay that does not offer it will not heal by waiting (it
    was retried for ever)."""
    inbox = _Inbox()
    port = plain_smtp(inbox)
    verdict = EmailChannel("mail", "127.0.0.1", port, "a@example.com", ("b@example.com",), timeout_s=5).send(ALERT)
    assert isinstance(verdict, Dead) and "STARTTLS" in verdict.error and inbox.messages == []


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("450 4.2.1 mailbox busy, try later", Retry), ("550 5.1.1 no such user", Dead)],
    ids=["450-retry", "550-dead"],
)
def test_refused_recipients_are_retried_only_when_the_refusal_is_temporary(
    reply: str, expected: type, plain_smtp: Callable[[_Inbox], int]
) -> None:
    port = plain_smtp(_Refusing(reply))
    channel = EmailChannel("mail", "127.0.0.1", port, "a@example.com", ("b@example.com",),
                           starttls=False, timeout_s=5)  # fmt: skip
    verdict = channel.send(ALERT)
    assert isinstance(verdict, expected) and reply[:3] in verdict.error  # type: ignore[union-attr]


def test_a_missing_ca_file_is_a_config_error_before_any_delivery(tmp_path: Path) -> None:
    from secscan.delivery.notify.channels import check_channels

    settings = build_settings(
        {"notify": {"mail": {"type": "email", "smtp_host": "127.0.0.1", "from": "a@example.com",
                             "to": ["b@example.com"], "ca_file": "no-such-ca.pem"}}},
        source=tmp_path / "secscan.toml",
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"ca_file .*no-such-ca\.pem is not a file"):
        check_channels(settings, deliver=True)


def _misbehaving_smtp(reply: Callable[[socket.socket], None]) -> Iterator[int]:
    """A raw TCP peer on 127.0.0.1 that plays ``reply`` on the first connection (it stops by
    itself after a bounded number of bytes, or when the client hangs up)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, contextlib.suppress(OSError):
            reply(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    thread.join(10)
    listener.close()


def _trickled_greeting(conn: socket.socket) -> None:
    for byte in b"220-" + b"x" * 200:  # never a whole line: each byte within the read timeout
        conn.sendall(bytes([byte]))
        time.sleep(0.05)


def _endless_ehlo(conn: socket.socket) -> None:
    conn.sendall(b"220 relay ESMTP\r\n")
    conn.recv(1024)
    line = b"250-" + b"x" * 1000 + b"\r\n"
    for _ in range(20_000):  # 20 MB of continuation lines, and more would come
        conn.sendall(line)


@pytest.mark.parametrize(("reply", "error"), [
    (_trickled_greeting, "timed out: the session did not end in 0.6 s"),
    (_endless_ehlo, "replies exceed 1048576 bytes"),
])  # fmt: skip
def test_a_server_that_trickles_or_never_ends_its_reply_is_cut_and_retried(
    reply: Callable[[socket.socket], None], error: str
) -> None:
    for port in _misbehaving_smtp(reply):
        channel = EmailChannel("mail", "127.0.0.1", port, "secscan@example.com", ("ops@example.com",),
                               starttls=False, timeout_s=0.2)  # fmt: skip
        verdict = channel.send(ALERT)
        assert isinstance(verdict, Retry) and error in verdict.error, verdict


class _RefusingOne(_Inbox):
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          options: Any) -> str:  # fmt: skip
        if address.startswith("gone@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_recipient_refused_among_accepted_ones_is_logged_not_silently_dropped(
    plain_smtp: Callable[[_Inbox], int], caplog: pytest.LogCaptureFixture
) -> None:
    """smtplib returns a partial refusal instead of raising: the alert is delivered to the
    others (a retry would mail them twice), and the recipient who missed it is named."""
    inbox = _RefusingOne()
    port = plain_smtp(inbox)
    channel = EmailChannel("mail", "127.0.0.1", port, "a@example.com", ("ops@example.com", "gone@example.com"),
                           starttls=False, timeout_s=5)  # fmt: skip
    with caplog.at_level(logging.WARNING):
        assert isinstance(channel.send(ALERT), Delivered)
    assert len(inbox.messages) == 1
    assert "gone@example.com 550" in caplog.text and "ops@example.com" not in caplog.text
