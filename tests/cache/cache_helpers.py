"""Helpers of the result cache tests: runs of ``app.run`` and their outputs compared."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from secscan.app import run as app
from secscan.config.settings import build_settings
from secscan.scanners import _subprocess
from secscan.scanners.interface import Command

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "vulnerable-app"

VOLATILE = frozenset(
    {"run_id", "started_at", "finished_at", "duration_s", "duration-s", "startTimeUtc", "endTimeUtc", "cache",
     "sarif"}
)
"""Keys of the JSON document and the SARIF log that a warm run may change: times and the run id."""


def normalised(doc: Any) -> Any:
    """``doc`` without timestamps, durations and the run id (the automation id embeds it)."""
    if isinstance(doc, dict):
        out = {k: normalised(v) for k, v in doc.items() if k not in VOLATILE}
        if "automationDetails" in out:
            out["automationDetails"] = out["automationDetails"]["id"].rsplit("/", 1)[0]
        return out
    if isinstance(doc, list):
        return [normalised(v) for v in doc]
    return doc


@dataclass(frozen=True)
class Scan:
    document: Mapping[str, Any]
    sarif: Mapping[str, Any]
    commands: tuple[Command, ...]

    @property
    def cache(self) -> Mapping[str, Any]:
        return self.document["cache"]  # type: ignore[no-any-return]

    def comparable(self) -> tuple[Any, Any]:
        return normalised(self.document), normalised(self.sarif)


def settings_for(target: Path, cache_file: Path, raw: Mapping[str, Any] | None = None) -> Any:
    """Trusted settings for the example-like trees, the cache at ``cache_file``."""
    data: dict[str, Any] = {
        "scanners": {
            "bandit": {"timeout": 120},
            "detect-secrets": {"timeout": 120, "exclude": ["osv"]},
            "pip-audit": {"timeout": 120, "osv_db": str(target / "osv")},
        },
        "cache": {"path": str(cache_file)},
    }
    for key, value in (raw or {}).items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return build_settings(data)


class Runner:
    """Runs ``app.run`` on one target, each run into a fresh lifecycle database (so every finding
    is ``new`` and runs compare), recording the scanner commands that were started."""

    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp = tmp
        self.count = 0
        self.started: list[Command] = []
        real = _subprocess.run_commands

        def recording(commands: Sequence[Command], *args: Any, **kwargs: Any) -> Any:
            self.started.extend(commands)
            return real(commands, *args, **kwargs)

        monkeypatch.setattr(_subprocess, "run_commands", recording)

    def __call__(
        self, target: Path, settings: Any, *, use_cache: bool = True, only: Sequence[str] = (), **kw: Any
    ) -> Scan:
        self.count += 1
        before = len(self.started)
        sarif = self.tmp / f"run{self.count}.sarif"
        request = app.RunRequest(
            target=target,
            settings=settings,
            sarif_path=sarif,
            only=tuple(only),
            db=str(self.tmp / f"db{self.count}.sqlite"),
            target_name="target",
            use_cache=use_cache,
            **kw,
        )
        result = app.run(request)
        return Scan(
            document=json.loads(json.dumps(result.document)),
            sarif=json.loads(sarif.read_text(encoding="utf-8")),
            commands=tuple(self.started[before:]),
        )


def copy_example(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest)
    (dest / "secscan.toml").unlink()  # the tests pass their settings
    return dest


def entries(cache_file: Path) -> list[tuple[bytes, bytes]]:
    with sqlite3.connect(cache_file) as conn:
        return conn.execute("SELECT key, value FROM entries ORDER BY key").fetchall()


def rows(cache_file: Path) -> Iterator[tuple[Any, ...]]:
    with sqlite3.connect(cache_file) as conn:
        yield from conn.execute("SELECT key, value, digest FROM entries").fetchall()
