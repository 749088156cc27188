"""Helpers of the lifecycle command tests: SARIF builders, a database dump, the CLI as main runs it."""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from secscan.cli.parser import build_parser
from secscan.core.errors import SecscanError
from secscan.core.model import Severity
from secscan.core.sla import SlaPolicy

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "sarif"
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


def result(rule: str, path: str, line: int, message: str = "", level: str = "warning",
           snippet: str | None = None) -> dict[str, Any]:  # fmt: skip
    """One SARIF result; ``level`` maps to severity: error high, warning medium, note low, none info."""
    region: dict[str, Any] = {"startLine": line}
    if snippet is not None:
        region["snippet"] = {"text": snippet}
    return {
        "ruleId": rule,
        "level": level,
        "message": {"text": message or f"{rule} at {path}"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": path}, "region": region}}],
    }


def sarif_run(tool: str, results: Sequence[dict[str, Any]] | None, *, ok: bool = True) -> dict[str, Any]:
    run: dict[str, Any] = {
        "tool": {"driver": {"name": tool, "version": "1.0"}},
        "invocations": [{"executionSuccessful": ok}],
    }
    if results is not None:
        run["results"] = list(results)
    return run


def sarif_doc(*runs: dict[str, Any]) -> dict[str, Any]:
    return {"version": "2.1.0", "runs": list(runs)}


def write_sarif(path: Path, doc: dict[str, Any] | bytes, *, gz: bool = False) -> Path:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def dump(db_path: Path) -> list[str]:
    """Every row of every table of the database, as SQL (the WAL is read through sqlite)."""
    with sqlite3.connect(db_path) as conn:
        return list(conn.iterdump())


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(*argv: str | Path) -> CliResult:
    """Parse, dispatch and map errors exactly as ``cli.main`` does."""
    out, err = io.StringIO(), io.StringIO()
    stdout = Console(file=out, width=250, color_system=None)
    stderr = Console(file=err, width=250, color_system=None)
    try:
        args = build_parser().parse_args([str(a) for a in argv])
        code = args.handler(args, stdout, stderr)
    except SecscanError as exc:
        err.write(f"secscan: error: {exc}\n")
        code = int(exc.exit_code)
    return CliResult(code, out.getvalue(), err.getvalue())


def ago(**kw: float) -> datetime:
    return datetime.now(UTC) - timedelta(**kw)


@dataclass(frozen=True)
class Seeded:
    """Ids of the seeded findings (see :func:`seed`)."""

    a: str  # app, semgrep, high, a.py: open, breached 6 h after its 24 h window
    b: str  # app, semgrep, medium, b.py: fixed at t0 + 30 h
    c: str  # app, semgrep, low, c.py: open, within its 30 d window
    d: str  # app, semgrep, info, d.py: open, no window
    e: str  # app, gitleaks, high, e.py: open, breached
    f: str  # web, semgrep, high, f.py: open, breached


def seed(store: Any, policy: Any, t0: datetime, tmp: Path) -> Seeded:
    """Two targets through the real ingest path; ``now`` is meant to be ``t0 + 30 h``."""
    from secscan.app.ingest import ingest_file
    from secscan.core.model import ToolName

    def put(name: str, target: str, doc: dict[str, Any], at: datetime) -> Any:
        return ingest_file(store, write_sarif(tmp / name, doc), target, None, at, policy, SLA)

    semgrep = [
        result("ra", "a.py", 1, level="error"),
        result("rb", "b.py", 2, level="warning"),
        result("rc", "c.py", 3, level="note"),
        result("rd", "d.py", 4, level="none"),
    ]
    first = put("1.sarif", "app", sarif_doc(sarif_run("semgrep", semgrep)), t0)
    leaks = put(
        "2.sarif", "app", sarif_doc(sarif_run("gitleaks", [result("re", "e.py", 5, level="error")])), t0
    )
    web = put("3.sarif", "web", sarif_doc(sarif_run("semgrep", [result("rf", "f.py", 1, level="error")])), t0)
    later = [r for r in semgrep if r["ruleId"] != "rb"]
    put("4.sarif", "app", sarif_doc(sarif_run("semgrep", later)), t0 + 30 * H)
    ids = {f.rule_id: f.id for f in (*first.new, *leaks.new, *web.new)}
    assert {f.tool for f in leaks.new} == {ToolName("gitleaks")}
    return Seeded(*(ids[f"r{k}"] for k in "abcdef"))
