"""Email over SMTP with STARTTLS and authentication (:mod:`smtplib`).

SMTP 4xx replies and connection failures are retried; 5xx replies (a refused sender, recipient or
login) are dead letters, as is a server that cannot do what the config requires (STARTTLS or
AUTH not offered): waiting will not change it. Recipients refused only with 4xx replies are
retried. The SMTP host is the administrator's own relay, named in a trusted config, so it is not
subject to the HTTP channels' public-address rule. Its replies are still bounded: each socket
read waits at most ``timeout_s``, the whole session at most three times that (a watchdog shuts
the socket down), and the replies of one session at most :data:`MAX_REPLY_BYTES` (the greeting
and EHLO come before STARTTLS, so anyone on the path could send an endless reply).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from secscan.delivery.notify.interface import Alert, Channel
from secscan.delivery.notify.transport import scrub_verdict
from secscan.delivery.verdicts import Dead, Delivered, Retry, Verdict
from secscan.delivery.watchdog import TOTAL_FACTOR, Watchdog

log = logging.getLogger(__name__)

MAX_REPLY_BYTES = 1024 * 1024  # of all the server's replies in one session


class _Budget:
    """The server's reply stream, failing once more than ``smtp.budget`` bytes were read."""

    def __init__(self, file: Any, smtp: _BoundedSMTP) -> None:
        self._file, self._smtp = file, smtp

    def readline(self, limit: int = -1) -> bytes:
        line: bytes = self._file.readline(limit)
        self._smtp.budget -= len(line)
        if self._smtp.budget < 0:
            raise smtplib.SMTPServerDisconnected(f"the server's replies exceed {MAX_REPLY_BYTES} bytes")
        return line

    def close(self) -> None:
        self._file.close()


class _BoundedSMTP(smtplib.SMTP):
    """smtplib.SMTP with a byte budget on the replies, its TCP socket watched by the session's
    :class:`~secscan.delivery.watchdog.Watchdog`."""

    budget = MAX_REPLY_BYTES

    def __init__(self, host: str, timeout: float, watchdog: Watchdog) -> None:
        super().__init__(timeout=timeout)  # not connected yet: the watchdog starts first
        self._host = host  # the name STARTTLS checks the certificate for
        self._watchdog = watchdog
        self._watched = False

    def getreply(self) -> tuple[int, bytes]:
        if self.file is None and self.sock is not None:  # the greeting (and again after STARTTLS)
            if not self._watched:  # the TCP socket, before STARTTLS wraps it: what is cut
                self._watchdog.watch(self.sock)
                self._watched = True
            self.file = _Budget(self.sock.makefile("rb"), self)
        return super().getreply()


def compose(alert: Alert, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = alert.summary[:200]
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    lines = [alert.summary, "", f"action: {alert.action.value}", f"dedup key: {alert.dedup_key}"]
    lines += [f"{k}: {v}" for k, v in alert.facts().items() if k != "text"]
    if alert.details.get("text"):
        lines += ["", str(alert.details["text"])]
    msg.set_content("\n".join(lines) + "\n")
    return msg


class EmailChannel(Channel):
    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        sender: str,
        recipients: tuple[str, ...],
        *,
        starttls: bool = True,
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.name = name
        self._host, self._port = host, port
        self._sender, self._recipients = sender, recipients
        self._starttls, self._username, self._password = starttls, username, password
        self._ca_file = ca_file
        self._timeout = timeout_s

    def secrets(self) -> tuple[str, ...]:
        return (self._password,) if self._password else ()

    def send(self, alert: Alert) -> Verdict:
        where = f"[notify.{self.name}] SMTP {self._host}:{self._port}"
        with Watchdog(TOTAL_FACTOR * self._timeout) as watchdog:
            smtp = _BoundedSMTP(self._host, self._timeout, watchdog)
            try:
                verdict = self._session(smtp, alert, where)
            finally:
                smtp.close()
        if watchdog.fired and not isinstance(verdict, Delivered):
            limit = TOTAL_FACTOR * self._timeout
            return Retry(f"{where}: timed out: the session did not end in {limit:g} s")
        return verdict

    def _session(self, smtp: _BoundedSMTP, alert: Alert, where: str) -> Verdict:
        try:
            with smtp:
                smtp.connect(self._host, self._port)
                smtp.ehlo()
                if self._starttls:
                    context = ssl.create_default_context(cafile=str(self._ca_file) if self._ca_file else None)
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if self._username is not None:
                    smtp.login(self._username, self._password or "")
                refused = smtp.send_message(compose(alert, self._sender, self._recipients))
            if refused:  # the others have it: a retry would mail them twice, so the loss is told
                told = ", ".join(f"{rcpt} {code}" for rcpt, (code, _) in sorted(refused.items()))
                log.warning("%s: recipient(s) refused, who do not get this alert: %s", where, told)
        except smtplib.SMTPResponseException as exc:
            raw = exc.smtp_error
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            error = f"{where}: {exc.smtp_code} {text}"[:500]
            verdict: Verdict = Retry(error) if 400 <= exc.smtp_code < 500 else Dead(error)
            return scrub_verdict(verdict, self.secrets())
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            error = f"{where}: recipients refused ({len(exc.recipients)}; {', '.join(map(str, codes))})"
            return Retry(error) if all(400 <= c < 500 for c in codes) else Dead(error)
        except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS or AUTH: a config fault
            return scrub_verdict(Dead(f"{where}: {exc}; check starttls and username"[:500]), self.secrets())
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            return scrub_verdict(Retry(f"{where}: {type(exc).__name__}: {exc}"[:500]), self.secrets())
        return Delivered()
