"""Recovering the values behind detect-secrets' hashes costs one pass per flagged line."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from secscan.app import pipeline
from secscan.core.model import Finding, Location, Severity, ToolName
from secscan.scanners.recover import FULL_SEARCH_MAX_LINE, recover_secrets


def _sha1(value: str) -> str:
    return hashlib.sha1(value.encode(), usedforsecurity=False).hexdigest()


def _counting_sha1(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real: Callable[..., Any] = hashlib.sha1

    def sha1(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "sha1", sha1)
    return calls


def _hashes_file(root: Path, count: int) -> tuple[str, list[str]]:
    """A one-line JSON file of ``count`` SHA-1 hex strings (the shape that took 51 s)."""
    values = [_sha1(str(i)) for i in range(count)]
    line = json.dumps({"hashes": {f"k{i}": v for i, v in enumerate(values)}})
    (root / "data.json").write_text(line)
    return line, values


def test_many_secrets_on_one_line_are_recovered_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line, values = _hashes_file(tmp_path, 150)
    findings = [
        Finding(ToolName("detect-secrets"), "Hex High Entropy String", "m", Location("data.json", 1),
                Severity.HIGH, identity=f"sha1:{_sha1(v)}")
        for v in values
    ]
    calls = _counting_sha1(monkeypatch)
    assert pipeline._secret_values(tmp_path, findings) == set(values)
    tokens = len(line.split('"'))
    # one hash per token of the line, not one pass over the line per finding (was ~200k)
    assert calls[0] <= 2 * tokens, f"{calls[0]} hashes for {len(values)} values on a {len(line)}-char line"


def test_values_spanning_delimiters_and_short_lines_are_still_found() -> None:
    line = 'password = "correct horse battery staple"; token=xyz; glued=abcSECRETdef'
    wanted = {_sha1(v): v for v in ("correct horse battery staple", "xyz", "SECRET", "battery")}
    assert recover_secrets(line, [*wanted, "not-a-sha1", _sha1("absent")]) == wanted
    assert len(line) <= FULL_SEARCH_MAX_LINE  # "SECRET" is found by the exhaustive search


def test_the_search_of_a_long_line_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    line, absent = "a " * 50_000, _sha1("absent")  # 100k tokens, none of them the secret
    calls = _counting_sha1(monkeypatch)
    assert recover_secrets(line, [absent]) == {}
    assert calls[0] <= 20_000
