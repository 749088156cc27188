"""Shared fixtures: the published specs, SARIF validators, the bundled example."""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO.parent / "shared" / "specs"
EXAMPLE = REPO / "examples" / "vulnerable-app"
TOOLS = REPO / "tests" / "tools"


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """``cli.main`` installs a handler on the root logger writing to this test's captured stderr;
    left there, a later record (a background thread's) would hit a closed stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def specs() -> Path:
    if not SPECS.is_dir():
        pytest.fail(f"the published specs are missing: expected {SPECS} (shared/ beside the repo)")
    return SPECS


@pytest.fixture(scope="session")
def sarif_validator(specs: Path) -> Any:
    """A draft-04 validator for the official SARIF 2.1.0 schema."""
    from jsonschema import Draft4Validator

    schema = json.loads((specs / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return Draft4Validator(schema)


def schema_errors(validator: Any, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture(scope="session")
def multitool() -> Path:
    """Microsoft's SARIF Multitool, installed from the npm registry into tests/tools."""
    binary = TOOLS / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool"
    with (TOOLS / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers share one install
        if not binary.exists():
            npm = shutil.which("npm")
            if npm is None:
                pytest.fail("npm is needed to install @microsoft/sarif-multitool for the GitHub-rule check")
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                cwd=TOOLS,
                check=True,
                timeout=600,
            )
        binary.chmod(0o755)
    return binary


def multitool_errors(binary: Path, sarif_path: Path, tmp_path: Path) -> list[str]:
    """Errors of `validate --rule-kind "Gh;Sarif"` (GitHub ingestion rules + SARIF rules)."""
    out = tmp_path / "multitool-result.sarif"
    proc = subprocess.run(
        [
            str(binary),
            "validate",
            "--rule-kind",
            "Gh;Sarif",
            str(sarif_path),
            "-o",
            str(out),
            "--log",
            "ForceOverwrite",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if not out.exists():
        raise AssertionError(f"multitool produced no result (exit {proc.returncode}): {proc.stdout[-2000:]}")
    log = json.loads(out.read_text(encoding="utf-8"))
    errors = []
    for run in log["runs"]:
        for result in run.get("results", []):
            if result.get("level", "warning") == "error":
                errors.append(f"{result.get('ruleId')}: {result['message'].get('text') or result['message']}")
        for inv in run.get("invocations", []):
            for note in inv.get("toolExecutionNotifications", []) or []:
                if note.get("level") == "error":
                    errors.append(f"tool: {note['message'].get('text')}")
    return errors
