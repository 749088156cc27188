"""Shared fixtures: the vendored schemas, ``../shared`` data, SARIF validators, the bundled example."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.postgres import (  # noqa: F401 - the session's PostgreSQL server, for every test package
    BACKENDS,
    backend_url,
    postgres_empty_url,
    postgres_server,
    postgres_template,
    postgres_url,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SCHEMAS = REPO / "tests" / "assets" / "schemas"
EXAMPLE = REPO / "examples" / "vulnerable-app"
TOOLS = REPO / "tests" / "tools"
REQUIRE_SHARED = "SECSCAN_REQUIRE_SHARED"


# ../shared (the published specs and real data sets beside the repository) is not part of a
# clone. shared_path() is the one way a test reaches it: when it is absent the test skips with
# the reason, except where SECSCAN_REQUIRE_SHARED=1 (.ci/run sets it when ../shared exists), where the test fails, so
# CI never passes by skipping. Schemas the tests need are vendored in tests/assets/schemas.
def shared_path(*parts: str) -> Path:
    """``../shared/<parts>``; skips the calling test when it is missing (fails under
    ``SECSCAN_REQUIRE_SHARED=1``)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"{path} is missing (../shared is not beside this checkout)"
        if os.environ.get(REQUIRE_SHARED) == "1":
            pytest.fail(f"{reason}; {REQUIRE_SHARED}=1 requires it", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def shared() -> Callable[..., Path]:
    """The fixture form of :func:`shared_path`: ``shared("data", "osv-pypi")``."""
    return shared_path


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """``cli.main`` installs a handler on the root logger writing to this test's captured stderr;
    left there, a later record (a background thread's) would hit a closed stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _session_cache_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Node-local derived state (the compiled OSV indexes) goes to a folder of the test session,
    never to the user's ``~/.cache``; tests that look at it set their own folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store location of each backend (the contract tests take it: same tests, both
    backends): an SQLite file, or a database of the session's PostgreSQL server."""
    with backend_url(request, request.param, tmp_path / "state") as url:
        yield url


@pytest.fixture(scope="session")
def schemas() -> Path:
    """The vendored public schemas (SARIF 2.1.0, OSV, GitHub's upload API excerpt)."""
    return SCHEMAS


@pytest.fixture(scope="session")
def specs() -> Path:
    """``../shared/specs``: the published specs, for a test that reads more than the schemas."""
    return shared_path("specs")


@pytest.fixture(scope="session")
def sarif_validator(schemas: Path) -> Any:
    """A draft-04 validator for the official SARIF 2.1.0 schema."""
    from jsonschema import Draft4Validator

    schema = json.loads((schemas / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return Draft4Validator(schema)


def schema_errors(validator: Any, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


NPM_TOOLS = (
    Path("@microsoft") / "sarif-multitool-linux" / "Sarif.Multitool",  # GitHub-rule SARIF checks
    Path("semver") / "package.json",  # npm's own SemVer: the independent oracle of the OSV engine
)


def npm_tool(relative: Path) -> Path:
    """A package of ``tests/tools/package.json`` installed from the npm registry (once for every
    xdist worker). All of them are installed together whenever one is missing: ``npm ci`` empties
    ``node_modules`` first, so installing one package alone would pull another from under a
    worker that is running it."""
    with (TOOLS / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers share one install
        if not all((TOOLS / "node_modules" / tool).exists() for tool in NPM_TOOLS):
            npm = shutil.which("npm")
            if npm is None:
                pytest.fail("npm is needed to install the test tools of tests/tools/package.json")
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                cwd=TOOLS,
                check=True,
                timeout=600,
            )
        binary = TOOLS / "node_modules" / NPM_TOOLS[0]
        binary.chmod(0o755)
    return TOOLS / "node_modules" / relative


@pytest.fixture(scope="session")
def multitool() -> Path:
    """Microsoft's SARIF Multitool, installed from the npm registry into tests/tools."""
    return npm_tool(NPM_TOOLS[0])


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
