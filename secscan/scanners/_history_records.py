"""The history wrapper's output (JSON lines, see :mod:`secscan.scanners._history_walk`) as one value.

Every record is checked; anything malformed is a one-line ScannerError (the scanner then
fails: a history that cannot be read is never taken for a clean one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secscan.core.errors import ScannerError
from secscan.scanners._history_state import CommitResult

MAX_OUTPUT_BYTES = 1024 * 1024 * 1024
_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
_SHA1 = re.compile(r"[0-9a-f]{40}")


@dataclass
class WalkResult:
    """What one run of the wrapper found."""

    head: str | None = None
    prefix: str = ""
    tips: dict[str, str] = field(default_factory=dict)
    shallow: bool = False
    window: list[tuple[str, int]] = field(default_factory=list)
    cut: bool = False
    fresh: dict[str, CommitResult] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    unread: int = 0
    stopped: int = 0
    at: dict[tuple[str, str], str] = field(default_factory=dict)  # (tip, path) -> blob
    blobs: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)  # (path, blob) -> SHA-1s
    notes: list[tuple[str, str]] = field(default_factory=list)
    fatal: str | None = None
    ended: bool = False


def _bad(path: Path, number: int, what: str) -> ScannerError:
    return ScannerError(
        f"git-history output {path} line {number} is malformed: {what}; "
        "this is a secscan bug, please report it"
    )


def _sha(value: Any) -> str:
    if not isinstance(value, str) or not _SHA.fullmatch(value):
        raise ValueError("not a commit id")
    return value


def _digest(value: Any) -> str:
    if not isinstance(value, str) or not _SHA1.fullmatch(value):
        raise ValueError("not a SHA-1")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("not a count")
    return value


def _commit(record: dict[str, Any]) -> CommitResult:
    return CommitResult(
        added=tuple(
            (_text(p), _count(n), _text(k), _digest(h)) for p, n, k, h in record.get("added", ())
        ),
        removed=tuple((_text(p), _digest(h)) for p, h in record.get("removed", ())),
        capped=bool(record.get("capped", False)),
        too_big=_count(record.get("too_big", 0)),
    )


def _apply(result: WalkResult, record: dict[str, Any]) -> None:
    kind = record.get("t")
    if kind == "repo":
        head = record.get("head")
        result.head = None if head is None else _sha(head)
        result.prefix = _text(record.get("prefix", ""))
        result.tips = {_text(k): _sha(v) for k, v in record["tips"].items()}
        result.shallow = bool(record.get("shallow", False))
    elif kind == "window":
        result.window = [(_sha(sha), _count(when)) for sha, when in record["commits"]]
        result.cut = bool(record.get("cut", False))
    elif kind == "commit":
        result.fresh[_sha(record["sha"])] = _commit(record)
    elif kind == "unreadable":
        result.unreadable.append(_sha(record["sha"]))
    elif kind == "unread":
        result.unread += _count(record["count"])
    elif kind == "stopped":
        result.stopped += _count(record["count"])
    elif kind == "at":
        result.at[(_text(record["tip"]), _text(record["path"]))] = _sha(record["blob"])
    elif kind == "blob":
        hashes = tuple(_digest(h) for h in record["hashes"])
        result.blobs[(_text(record["path"]), _sha(record["blob"]))] = hashes
    elif kind == "note":
        result.notes.append((_text(record.get("level", "warning")), _text(record["message"])))
    elif kind == "fatal":
        result.fatal = _text(record["message"])
    elif kind == "end":
        result.ended = True
    else:
        raise ValueError(f"unknown record {kind!r}")


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    total = 0
    try:
        with path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                total += len(line)
                if total > MAX_OUTPUT_BYTES:
                    raise ScannerError(f"git-history output {path} is larger than {MAX_OUTPUT_BYTES} bytes")
                yield number, line
    except OSError as exc:
        raise ScannerError(f"git-history wrote no readable output at {path} ({exc.strerror})") from None


def read_records(path: Path) -> WalkResult:
    """The wrapper's output at ``path``."""
    result = WalkResult()
    for number, line in _lines(path):
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not an object")
            _apply(result, record)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise _bad(path, number, str(exc)) from None
    if not result.ended:
        raise ScannerError(f"git-history output {path} ends early; this is a secscan bug, please report it")
    return result
