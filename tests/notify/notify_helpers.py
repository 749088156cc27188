"""Fake PagerDuty and Slack servers on 127.0.0.1 that check requests against the published specs
(their contracts are transcribed into the checks below: ../shared/specs/pagerduty-events-v2.md,
slack-incoming-webhooks.md and sentry.md), and builders of settings, runs and SLA changes for
the paging tests."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import http.server as http_server
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from secscan.app.tracking import record_run
from secscan.config.settings import Settings, build_settings
from secscan.core.model import (
    Finding,
    Location,
    RunId,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    Severity,
    ToolName,
)
from secscan.core.sla import SlaPolicy
from secscan.delivery.loop import DeliveryReport
from secscan.delivery.notify import events
from secscan.delivery.notify.outbox import deliver
from secscan.store import Store

ROUTING_KEY = "e93facc04764012d7bfb002500d5d1a6"  # 32 characters, as the spec's example
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
SLA = SlaPolicy(
    windows={
        Severity.CRITICAL: 2 * H,
        Severity.HIGH: 24 * H,
        Severity.MEDIUM: 7 * 24 * H,
        Severity.LOW: 30 * 24 * H,
        Severity.INFO: None,
    }
)
BANDIT = ToolName("bandit")

SLACK_ERRORS = {  # slack-incoming-webhooks.md: status -> the plain-text error body
    400: b"invalid_payload",
    403: b"action_prohibited",
    404: b"channel_not_found",
    410: b"channel_is_archived",
    429: b"rate limited",
    500: b"rollup_error",
}
PD_ACTIONS = {"trigger", "acknowledge", "resolve"}
PD_SEVERITIES = {"critical", "error", "warning", "info"}


def pagerduty_errors(body: dict[str, Any], raw: bytes) -> list[str]:
    """What the PagerDuty Events API v2 spec (pagerduty-events-v2.md) says is wrong with a request."""
    errors = []
    if len(raw) > 512 * 1024:
        errors.append("request over 512 KB")
    if not isinstance(body.get("routing_key"), str) or len(body["routing_key"]) != 32:
        errors.append("routing_key must be the 32-character integration key")
    action = body.get("event_action")
    if action not in PD_ACTIONS:
        errors.append(f"event_action {action!r}")
    key = body.get("dedup_key")
    if action in ("acknowledge", "resolve") and not key:
        errors.append("dedup_key required for ack/resolve")
    if key is not None and (not isinstance(key, str) or len(key) > 255):
        errors.append("dedup_key must be a string of at most 255 characters")
    if action == "trigger":
        payload = body.get("payload")
        if not isinstance(payload, dict):
            errors.append("trigger needs payload")
        else:
            for name in ("summary", "source", "severity"):
                if not isinstance(payload.get(name), str) or not payload[name]:
                    errors.append(f"payload.{name} required")
            if len(payload.get("summary", "")) > 1024:
                errors.append("payload.summary over 1024 characters")
            if payload.get("severity") not in PD_SEVERITIES:
                errors.append(f"payload.severity {payload.get('severity')!r}")
            if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
                errors.append("payload.custom_details must be an object")
    return errors


def slack_errors(body: dict[str, Any]) -> list[str]:
    """What slack-incoming-webhooks.md says is wrong: text fallback beside blocks, text objects."""
    errors = []
    if not isinstance(body.get("text"), str) or not body["text"]:
        errors.append("text (the fallback) is required")
    for block in body.get("blocks", []):
        if block.get("type") not in {"section", "header", "context", "divider", "actions"}:
            errors.append(f"block type {block.get('type')!r}")
        texts = [block["text"]] if "text" in block else block.get("elements", [])
        for t in texts:
            if t.get("type") not in {"mrkdwn", "plain_text"} or not isinstance(t.get("text"), str):
                errors.append("bad text object")
    return errors


def webhook_errors(headers: dict[str, str], raw: bytes, secret: str, now: float) -> list[str]:
    """What a receiver following the webhook docs (secscan/delivery/notify/webhook.py) rejects: a missing
    or wrong ``X-Secscan-Signature`` (HMAC-SHA256 over ``<timestamp>.<body>``), a timestamp more
    than five minutes away, a body that is not the documented JSON object."""
    stamp, sig = headers.get("x-secscan-timestamp", ""), headers.get("x-secscan-signature", "")
    if not stamp.isdigit():
        return ["X-Secscan-Timestamp missing"]
    expected = "sha256=" + hmac.new(secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sig, expected):
        return ["bad signature"]
    if abs(now - int(stamp)) > 300:
        return ["stale timestamp"]
    body = json.loads(raw)
    missing = {"version", "action", "event", "dedup_key", "target", "summary", "at", "details"} - set(body)
    return [f"body lacks {sorted(missing)}"] if missing else []


def sentry_envelope(path: str, headers: dict[str, str], raw: bytes) -> tuple[dict[str, Any], list[str]]:
    """The event of an envelope request, decoded as sentry.md (section 2) describes, and what
    is wrong with the request."""
    errors = []
    if not re.fullmatch(r"/api/\d+/envelope/", path):
        errors.append(f"path {path}")
    if headers.get("content-type") != "application/x-sentry-envelope":
        errors.append("Content-Type must be application/x-sentry-envelope")
    auth = headers.get("x-sentry-auth", "")
    if not auth.startswith("Sentry ") or "sentry_version=7" not in auth or "sentry_key=" not in auth:
        errors.append(f"X-Sentry-Auth {auth!r}")
    if headers.get("content-encoding") == "gzip":
        raw = gzip.decompress(raw)
    header_line, item_line, rest = raw.split(b"\n", 2)
    header, item = json.loads(header_line), json.loads(item_line)
    if not re.fullmatch(r"[0-9a-f]{32}", str(header.get("event_id"))):
        errors.append("envelope header needs a 32-hex event_id")
    if item.get("type") != "event":
        errors.append(f"item type {item.get('type')!r}")
    payload = rest[: item["length"]] if "length" in item else rest.split(b"\n", 1)[0]
    event: dict[str, Any] = json.loads(payload)
    if event.get("event_id") != header.get("event_id"):
        errors.append("event_id differs between the envelope and its event")
    if event.get("level") not in {"fatal", "error", "warning", "info", "debug"}:
        errors.append(f"level {event.get('level')!r}")
    return event, errors


@dataclass
class FakeServer:
    """A loopback HTTP server answering from a script of statuses (then ``default``)."""

    kind: str  # pagerduty | slack | webhook | sentry | any
    secret: str = ""  # webhook: the shared HMAC secret
    events: list[dict[str, Any]] = field(default_factory=list)  # sentry: decoded events
    script: list[int] = field(default_factory=list)
    default: int = 202
    requests: list[tuple[str, dict[str, str], bytes, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for _, _, raw, _ in self.requests if raw.startswith(b"{")]

    def accepted(self) -> list[dict[str, Any]]:
        """Bodies of the requests that got a 2xx."""
        return [
            json.loads(raw)
            for (path, headers, raw, _) in self.requests
            if headers.get("x-status", "").startswith("2")
        ]

    def handle(self, path: str, headers: dict[str, str], raw: bytes, now: float) -> tuple[int, bytes]:
        with self.lock:
            status = self.script.pop(0) if self.script else self.default
            headers = {**headers, "x-status": str(status)}
            self.requests.append((path, headers, raw, now))
        if self.kind == "pagerduty":
            try:
                body = json.loads(raw)
            except ValueError:
                self.errors.append("body is not JSON")
                return 400, b'{"status":"invalid event","message":"Event object is invalid"}'
            problems = pagerduty_errors(body, raw)
            if headers.get("content-type") != "application/json":
                problems.append("Content-Type must be application/json")
            self.errors += problems
            if problems:
                return 400, json.dumps({"status": "invalid event", "errors": problems}).encode()
            if status == 202:
                reply = {
                    "status": "success",
                    "message": "Event processed",
                    "dedup_key": body.get("dedup_key"),
                }
                return 202, json.dumps(reply).encode()
            return status, b'{"status":"error","message":"scripted","errors":["scripted"]}'
        if self.kind == "slack":
            body = json.loads(raw)
            self.errors += slack_errors(body)
            if status == 200:
                return 200, b"ok"
            return status, SLACK_ERRORS.get(status, b"rollup_error")
        if self.kind == "webhook":
            problems = webhook_errors(headers, raw, self.secret, time.time())
            self.errors += problems
            return (401, b"bad signature") if problems else (status, b"{}")
        if self.kind == "sentry":
            event, problems = sentry_envelope(path, headers, raw)
            self.errors += problems
            self.events.append(event)
            return (400, b'{"detail":"bad envelope"}') if problems else (status, b"{}")
        return status, b"{}"


@contextmanager
def serve(fake: FakeServer) -> Iterator[FakeServer]:
    class Handler(http_server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, reply = fake.handle(self.path, headers, raw, time.monotonic())
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    srv = http_server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.port = srv.server_address[1]
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        srv.shutdown()
        srv.server_close()


def settings_for(notify: dict[str, Any], tmp_path: Path, routing: str | None = None) -> Settings:
    raw: dict[str, Any] = {"allow_hosts": ["127.0.0.1"], **notify}
    if routing is not None:
        path = tmp_path / "routing.toml"
        path.write_text(routing, encoding="utf-8")
        raw["routing"] = str(path)
    return build_settings({"notify": raw}, source=tmp_path / "secscan.toml")


def finding(n: int, sev: Severity = Severity.CRITICAL, rule: str | None = None, message: str = "") -> Finding:
    return Finding(
        tool=BANDIT,
        rule_id=rule or f"B{600 + n % 3}",
        message=message or f"issue {n}",
        location=Location(f"src/m{n}.py", n + 1),
        severity=sev,
        fingerprint=f"{n:08x}" + "ab" * 28,
    )


def scan(
    run_id: str, findings: list[Finding], at: datetime, *, target: str = "shop", failed: bool = False
) -> ScanRun:
    status = ScannerStatus.FAILED if failed else ScannerStatus.OK
    bandit = ScannerResult(
        BANDIT, "1.9", status, 1.0, 0 if not failed else 2, () if failed else tuple(findings),
        scope=frozenset() if failed else frozenset({"."}), reason="exit 2" if failed else None,
    )  # fmt: skip
    return ScanRun(RunId(run_id), f"/srv/{target}", target, at, at + timedelta(seconds=1), (bandit,))


def canary_free(text: str, canary: str) -> bool:
    return canary not in text and re.sub(r"\s", "", canary) not in text


def record(store: Store, settings: Settings, findings: list[Finding], at: datetime, run_id: str) -> int:
    """Record a run of ``findings`` on target ``shop`` and queue its alerts; returns how many."""
    run = scan(run_id, findings, at)
    return events.on_run(store, run, record_run(store, run, at, SLA, ()), settings, at)


def send(store: Store, settings: Settings, at: datetime) -> DeliveryReport:
    """Deliver the due alerts at ``at`` without waiting for rate limits."""
    return deliver(store, settings, lambda: at, sleep=lambda s: None)
