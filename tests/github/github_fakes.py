"""A fake GitHub code scanning API on 127.0.0.1 that checks every request against the published
contract, plus builders of scans for the upload tests.

Uploads are validated against the OpenAPI excerpt in ``tests/assets/schemas`` (request body schema, path,
headers); the SARIF is decoded (base64, gzip) and validated against the official SARIF 2.1.0
schema and GitHub's "one run per tool and category" rule. The alert endpoints are not in the
excerpt: their request schema below is transcribed from GitHub's REST reference
(``code-scanning/update-alert``: ``state``, ``dismissed_reason``, ``dismissed_comment`` <= 280).
Accepted analyses turn into alerts the way GitHub documents it: one alert per (category, rule,
``primaryLocationLineHash``); a result missing from a newer analysis of its category is fixed.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft4Validator, Draft7Validator, FormatChecker

from secscan.core.model import (
    Finding,
    Location,
    Rule,
    RunId,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    Severity,
    ToolName,
)

OWNER, REPO = "octo", "hello"
T0 = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # when the scans start (here: conftest is not importable)
CANARY = "ghp_CANARY0123456789abcdefCANARYtoken42"
UPDATE_ALERT_SCHEMA = {
    "type": "object",
    "properties": {
        "state": {"type": "string", "enum": ["open", "dismissed"]},
        "dismissed_reason": {"enum": [None, "false positive", "won't fix", "used in tests"]},
        "dismissed_comment": {"type": "string", "maxLength": 280},
        "create_request": {"type": "boolean"},
    },
    "required": ["state"],
    "additionalProperties": False,
}
_STARTED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class FakeGithub:
    """The fake server. ``script`` queues canned replies; ``errors`` lists contract violations."""

    def __init__(self, schemas: Path) -> None:
        api = json.loads((schemas / "github-code-scanning-upload.json").read_text(encoding="utf-8"))
        post = api["paths"]["/repos/{owner}/{repo}/code-scanning/sarifs"]["post"]
        self.upload_schema = Draft7Validator(
            post["requestBody"]["content"]["application/json"]["schema"], format_checker=FormatChecker()
        )
        self.sarif_schema = Draft4Validator(
            json.loads((schemas / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
        )
        self.alert_schema = Draft7Validator(UPDATE_ALERT_SCHEMA)
        self.token = CANARY
        self.requests: list[Recorded] = []
        self.errors: list[str] = []
        self.replies: dict[str, deque[Reply]] = {}
        self.processing: deque[str] = deque()  # statuses returned by GET sarifs/{id}, then "complete"
        self.processing_errors: list[str] = []
        self.analyses: list[dict[str, Any]] = []  # accepted uploads, decoded
        self.alerts: dict[int, dict[str, Any]] = {}
        self._alert_keys: dict[tuple[str, str, str], int] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def script(self, endpoint: str, *replies: Reply) -> None:
        """Queue replies for ``upload``, ``status``, ``alerts`` or ``patch`` (then the defaults)."""
        self.replies.setdefault(endpoint, deque()).extend(replies)

    def calls(self, method: str, suffix: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.split("?")[0].endswith(suffix)]

    @property
    def accepted(self) -> list[dict[str, Any]]:
        return self.analyses

    # -- request checks ----------------------------------------------------------------------

    def _check_headers(self, headers: dict[str, str]) -> None:
        if headers.get("authorization") != f"Bearer {self.token}":
            self.errors.append("missing or wrong Authorization header")
        if headers.get("accept") != "application/vnd.github+json":
            self.errors.append(f"Accept is {headers.get('accept')!r}")
        if not headers.get("x-github-api-version"):
            self.errors.append("no X-GitHub-Api-Version header")

    def _check_upload(self, body: Any) -> dict[str, Any] | None:
        problems = [e.message for e in self.upload_schema.iter_errors(body)]
        if isinstance(body, dict) and "started_at" in body and not _STARTED_AT.match(str(body["started_at"])):
            problems.append("started_at is not YYYY-MM-DDTHH:MM:SSZ")
        if problems:
            self.errors.extend(f"upload body: {p}" for p in problems)
            return None
        try:
            sarif = json.loads(gzip.decompress(base64.b64decode(body["sarif"], validate=True)))
        except Exception as exc:
            self.errors.append(f"sarif is not gzip+base64 JSON: {exc}")
            return None
        self.errors.extend(f"SARIF schema: {e.message}" for e in self.sarif_schema.iter_errors(sarif))
        configs = [
            (r["tool"]["driver"]["name"], r.get("automationDetails", {}).get("id", "").rsplit("/", 1)[0])
            for r in sarif.get("runs", [])
        ]
        if len(configs) != len(set(configs)):
            self.errors.append(f"several runs of one tool and category in a file: {configs}")
        if len(sarif.get("runs", [])) > 20:
            self.errors.append("more than 20 runs in a file")
        for run in sarif.get("runs", []):
            if len(run.get("results", [])) > 25_000:
                self.errors.append("more than 25,000 results in a run")
        return {"body": body, "sarif": sarif}

    # -- the analysis -> alerts model --------------------------------------------------------

    def _ingest(self, analysis: dict[str, Any]) -> None:
        body = analysis["body"]
        for run in analysis["sarif"]["runs"]:
            category = run.get("automationDetails", {}).get("id", "").rsplit("/", 1)[0]
            tool = run["tool"]["driver"]["name"]
            seen: set[int] = set()
            for result in run.get("results", []):
                loc = result["locations"][0]["physicalLocation"]
                fps = result.get("partialFingerprints", {})
                line_hash = fps.get("primaryLocationLineHash") or fps.get("secscan/v1", "")
                key = (category, result["ruleId"], line_hash)
                number = self._alert_keys.get(key)
                if number is None:
                    number = len(self.alerts) + 1
                    self._alert_keys[key] = number
                    self.alerts[number] = {
                        "number": number, "state": "open", "dismissed_by": None, "dismissed_at": None,
                        "dismissed_reason": None, "dismissed_comment": None, "fixed_at": None,
                        "created_at": _now(), "url": f"{self.url}/alerts/{number}",
                        "rule": {"id": result["ruleId"]}, "tool": {"name": tool, "guid": None},
                    }  # fmt: skip
                alert = self.alerts[number]
                if alert["state"] == "fixed":
                    alert["state"] = "open"
                alert["most_recent_instance"] = {
                    "ref": body["ref"], "analysis_key": "API", "environment": "{}", "category": category,
                    "state": "open", "commit_sha": body["commit_sha"],
                    "message": {"text": result["message"]["text"]},
                    "location": {"path": loc["artifactLocation"]["uri"],
                                 "start_line": loc.get("region", {}).get("startLine", 1)},
                    "classifications": [],
                }  # fmt: skip
                seen.add(number)
            for (cat, _rule, _hash), number in self._alert_keys.items():
                alert = self.alerts[number]
                if cat == category and number not in seen and alert["state"] == "open":
                    alert["state"], alert["fixed_at"] = "fixed", _now()

    def dismiss(self, number: int, reason: str, comment: str = "", login: str = "octocat") -> None:
        """A person dismisses an alert in GitHub's UI."""
        alert = self.alerts[number]
        alert.update(state="dismissed", dismissed_reason=reason, dismissed_comment=comment,
                     dismissed_at=_now(), dismissed_by={"login": login})  # fmt: skip

    def reopen(self, number: int) -> None:
        self.alerts[number].update(state="open", dismissed_reason=None, dismissed_comment=None,
                                   dismissed_at=None, dismissed_by=None)  # fmt: skip

    # -- HTTP --------------------------------------------------------------------------------

    def _route(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply:
        prefix = f"/repos/{OWNER}/{REPO}/code-scanning"
        if not path.startswith(prefix):
            self.errors.append(f"unexpected path {path}")
            return Reply(404, body={"message": "Not Found"})
        rest = path[len(prefix) :]
        route = urlsplit(rest).path
        if method == "POST" and route == "/sarifs":
            return self._upload(body)
        if method == "GET" and route.startswith("/sarifs/"):
            return self._scripted("status") or self._status(route.rsplit("/", 1)[1])
        if method == "GET" and route == "/alerts":
            return self._scripted("alerts") or self._list(parse_qs(urlsplit(rest).query))
        if method == "PATCH" and re.fullmatch(r"/alerts/\d+", route):
            return self._scripted("patch") or self._patch(int(route.rsplit("/", 1)[1]), body)
        self.errors.append(f"unexpected request {method} {path}")
        return Reply(404, body={"message": "Not Found"})

    def _scripted(self, endpoint: str) -> Reply | None:
        queue = self.replies.get(endpoint)
        return queue.popleft() if queue else None

    def _upload(self, body: Any) -> Reply:
        checked = self._check_upload(body)
        scripted = self._scripted("upload")
        if scripted is not None:
            return scripted
        if checked is None:
            return Reply(400, body={"message": "Invalid request"})
        sarif_id = str(uuid.uuid4())
        self.analyses.append(checked | {"id": sarif_id})
        self._ingest(checked)
        url = f"https://api.github.com/repos/{OWNER}/{REPO}/code-scanning/sarifs/{sarif_id}"
        return Reply(202, body={"id": sarif_id, "url": url})

    def _status(self, sarif_id: str) -> Reply:
        if sarif_id not in {a["id"] for a in self.analyses}:
            return Reply(404, body={"message": "Not Found"})
        status = self.processing.popleft() if self.processing else "complete"
        analyses = f"https://api.github.com/repos/{OWNER}/{REPO}/code-scanning/analyses?sarif_id={sarif_id}"
        errors = self.processing_errors if status == "failed" else None
        return Reply(200, body={"processing_status": status, "analyses_url": analyses, "errors": errors})

    def _list(self, query: dict[str, list[str]]) -> Reply:
        per_page = int(query.get("per_page", ["30"])[0])
        page = int(query.get("page", ["1"])[0])
        if not 1 <= per_page <= 100:
            self.errors.append(f"per_page {per_page} out of 1..100")
        alerts = [self.alerts[n] for n in sorted(self.alerts)]
        return Reply(200, body=alerts[(page - 1) * per_page : page * per_page])

    def _patch(self, number: int, body: Any) -> Reply:
        problems = [e.message for e in self.alert_schema.iter_errors(body)]
        if isinstance(body, dict) and body.get("state") == "dismissed" and not body.get("dismissed_reason"):
            problems.append("dismissed_reason is required when dismissing")
        if problems:
            self.errors.extend(f"update-alert body: {p}" for p in problems)
            return Reply(422, body={"message": "Validation Failed"})
        if number not in self.alerts:
            return Reply(404, body={"message": "Not Found"})
        if body["state"] == "dismissed":
            self.dismiss(number, body["dismissed_reason"], body.get("dismissed_comment", ""), "secscan-bot")
        else:
            self.reopen(number)
        return Reply(200, body=self.alerts[number])

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                body: Any = None
                if raw:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        fake.errors.append(f"{self.command} {self.path}: body is not JSON")
                with fake.lock:
                    fake.requests.append(Recorded(self.command, self.path, headers, body))
                    fake._check_headers(headers)
                    if raw and headers.get("content-type") != "application/json":
                        fake.errors.append("a JSON body without Content-Type: application/json")
                    reply = fake._route(self.command, self.path, headers, body)
                data = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = _serve  # noqa: N815 - http.server's naming

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> FakeGithub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock:
    """A settable clock: delivery retries become due by moving it, not by sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# -- scans --------------------------------------------------------------------------------------

BANDIT, SECRETS, PIP_AUDIT = ToolName("bandit"), ToolName("detect-secrets"), ToolName("pip-audit")


def finding(tool: ToolName, rule: str, path: str, line: int, severity: Severity, n: int = 0) -> Finding:
    fp = hashlib.sha256(f"{tool}|{rule}|{path}|{n}".encode()).hexdigest()
    return Finding(
        tool=tool, rule_id=rule, message=f"{rule} problem number {n}.", location=Location(path, line),
        severity=severity, fingerprint=fp, line_hash=f"{fp[:16]}:1",
    )  # fmt: skip


def rule(rid: str) -> Rule:
    return Rule(rid, rid, f"{rid} short", f"{rid} full description", f"{rid} help")


def scanner(
    tool: ToolName, findings: list[Finding], status: ScannerStatus = ScannerStatus.OK
) -> ScannerResult:
    ok = status is ScannerStatus.OK
    return ScannerResult(
        tool, "1.0", status, 0.5, 0 if ok else 2, tuple(findings) if ok else (),
        tuple(rule(r) for r in sorted({f.rule_id for f in findings})),
        scope=frozenset({"."}) if ok else frozenset(), reason=None if ok else "exit 2: crashed",
    )  # fmt: skip


def scan(root: Path, scanners: tuple[ScannerResult, ...], run_id: str, at: datetime) -> ScanRun:
    return ScanRun(RunId(run_id), str(root), "demo", at, at + timedelta(seconds=3), scanners)


def iter_results(upload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for run in upload["sarif"]["runs"]:
        yield from run.get("results", [])
