"""The health endpoint: ``/healthz`` (a dead man's switch), ``/metrics`` and ``/report``.

``/healthz`` answers 200 only while the scheduler is alive (its heartbeat job ran recently), the
nightly run is not overdue (the first nightly slot after the last completed one must have
completed within the catch-up grace) and no target failed in its last nightly scan (its path
was missing, its scan raised, its checkout could not be updated or a scanner failed). Otherwise
503, with the status (``failing``, or ``degraded`` when only targets failed), the reason and the
failing targets in the JSON body.
The server listens on loopback by default and serves nothing else.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from secscan.config.schedule import next_fire
from secscan.core.errors import ConfigError

log = logging.getLogger(__name__)

_REPORT_TYPES = {".html": "text/html; charset=utf-8", ".md": "text/markdown; charset=utf-8",
                 ".json": "application/json"}  # fmt: skip


@dataclass(frozen=True)
class Health:
    ok: bool
    reason: str
    last_nightly: datetime | None  # slot of the last completed nightly run
    expected: datetime | None  # the nightly slot that must complete next
    overdue_at: datetime | None  # when it counts as missed (expected + grace)
    failing: Mapping[str, str] = field(default_factory=dict)  # target -> why its last scan failed
    degraded: bool = False  # not ok only because targets failed: the daemon itself works

    @property
    def status(self) -> str:
        """``ok``; ``degraded`` (the daemon works, but targets failed); ``failing`` (it does not
        run its jobs, or the nightly run is overdue)."""
        return "ok" if self.ok else "degraded" if self.degraded else "failing"

    def document(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "status": self.status,
            "reason": self.reason,
            "last_nightly": iso(self.last_nightly),
            "expected": iso(self.expected),
            "overdue_at": iso(self.overdue_at),
            "failing_targets": dict(sorted(self.failing.items())),
        }


def overdue_slot(
    trigger: CronTrigger, last_done: datetime | None, since: datetime, grace: timedelta, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """The nightly slot that must complete next and the moment it counts as missed.

    ``last_done`` is the slot of the last completed nightly run; ``since`` (the daemon's first
    start on this database) stands in for it before the first run.
    """
    expected = next_fire(trigger, last_done or since)
    return expected, (expected + grace if expected else None)


def evaluate(
    *,
    now: datetime,
    beat_at: datetime | None,
    beat_every: timedelta,
    trigger: CronTrigger,
    last_done: datetime | None,
    since: datetime,
    grace: timedelta,
    failing: Mapping[str, str] | None = None,
) -> Health:
    """The health verdict (pure). ``failing``: the targets whose last nightly scan failed."""
    expected, overdue_at = overdue_slot(trigger, last_done, since, grace, now)
    failed = dict(failing or {})
    if beat_at is None or now - beat_at > 3 * beat_every + timedelta(seconds=5):
        return Health(False, "the scheduler is not running its jobs", last_done, expected, overdue_at, failed)
    if overdue_at is not None and now > overdue_at:
        assert expected is not None  # noqa: S101 - overdue_at implies expected
        reason = f"the nightly run due at {expected.isoformat()} has not completed"
        return Health(False, reason, last_done, expected, overdue_at, failed)
    if failed:
        reason = f"the last nightly scan failed for {', '.join(sorted(failed))}"
        return Health(False, reason, last_done, expected, overdue_at, failed, degraded=True)
    return Health(True, "ok", last_done, expected, overdue_at)


def _handler(
    health: Callable[[], Health], registry: CollectorRegistry, report: Callable[[], Path | None]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "secscan"
        sys_version = ""

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            try:
                if path == "/healthz":
                    verdict = health()
                    body = json.dumps(verdict.document()).encode()
                    self._send(200 if verdict.ok else 503, "application/json", body)
                elif path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(registry))
                elif path == "/report" and (file := report()) is not None and file.is_file():
                    kind = _REPORT_TYPES.get(file.suffix, "application/octet-stream")
                    self._send(200, kind, file.read_bytes())
                else:
                    self._send(404, "text/plain", b"not found\n")
            except Exception:
                log.exception("health endpoint failed on %s", path)
                self._send(500, "text/plain", b"internal error\n")

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("health endpoint: " + format, *args)

    return Handler


class HealthServer:
    """The loopback HTTP server, in a daemon thread."""

    def __init__(
        self,
        address: tuple[str, int],
        health: Callable[[], Health],
        registry: CollectorRegistry,
        report: Callable[[], Path | None],
    ) -> None:
        try:
            self._server = ThreadingHTTPServer(address, _handler(health, registry, report))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {address[0]}:{address[1]} for /healthz: {exc.strerror}; "
                "change [daemon] health_listen or stop what uses the port"
            ) from exc
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="secscan-health", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()
        log.info("health endpoint on http://%s:%d/healthz (and /metrics)", *self.address)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
