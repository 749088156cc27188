"""What the git-history scanner remembers between runs (in the result cache): read commits and blobs.

* ``commits``: every commit already read, keyed by its id, with what it added and removed
  (path, line, secret type and SHA-1; never a value). A nightly run reads only commits that are
  not in it; commits that are no longer reachable (a force-push, a deleted branch) are dropped.
* ``memo``: the secrets (SHA-1s) found in a path's blob at a tip, keyed by (path, blob id), so
  an unchanged branch is not read again.
* ``last``: the last complete walk (its window, tips and the blobs at the tips) with the
  signature of the references it saw (:mod:`secscan.scanners._history_refs`): while the
  references stay the same, the walk is reused and git does not even start.

Encoded as compressed JSON with a format number; anything that does not decode is no state at
all (the run is then cold).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FORMAT = 1
MAX_DECODED_BYTES = 512 * 1024 * 1024

Added = tuple[str, int, str, str]
"""A secret a commit added: path, line, secret type, SHA-1."""
Removed = tuple[str, str]
"""A known secret whose line a commit removed: path, SHA-1."""


@dataclass(frozen=True)
class CommitResult:
    """What one commit did to the secrets of the history."""

    added: tuple[Added, ...] = ()
    removed: tuple[Removed, ...] = ()
    capped: bool = False
    too_big: int = 0


EMPTY = CommitResult()


@dataclass(frozen=True)
class LastWalk:
    """What a complete walk saw, to be reused while the references do not change."""

    signature: str
    head: str | None
    prefix: str
    tips: Mapping[str, str]
    shallow: bool
    window: tuple[tuple[str, int], ...]
    cut: bool
    at: Mapping[tuple[str, str], str]  # (tip, path) -> blob


@dataclass(frozen=True)
class HistoryState:
    commits: Mapping[str, CommitResult] = field(default_factory=dict)
    memo: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    last: LastWalk | None = None


def _encode_last(last: LastWalk | None) -> object:
    if last is None:
        return None
    return {
        "s": last.signature,
        "h": last.head,
        "p": last.prefix,
        "t": dict(sorted(last.tips.items())),
        "sh": last.shallow,
        "w": [[sha, when] for sha, when in last.window],
        "c": last.cut,
        "a": [[tip, path, blob] for (tip, path), blob in sorted(last.at.items())],
    }


def _decode_last(data: Any) -> LastWalk | None:
    if data is None:
        return None
    head = data["h"]
    return LastWalk(
        signature=_str(data["s"]),
        head=None if head is None else _str(head),
        prefix=_str(data["p"]),
        tips={_str(k): _str(v) for k, v in data["t"].items()},
        shallow=bool(data["sh"]),
        window=tuple((_str(sha), _int(when)) for sha, when in data["w"]),
        cut=bool(data["c"]),
        at={(_str(t), _str(p)): _str(b) for t, p, b in data["a"]},
    )


def encode(state: HistoryState) -> bytes:
    empty = sorted(sha for sha, result in state.commits.items() if result == EMPTY)
    full = [
        [sha, [list(a) for a in r.added], [list(x) for x in r.removed], r.capped, r.too_big]
        for sha, r in sorted(state.commits.items())
        if r != EMPTY
    ]
    memo = [[path, blob, list(hashes)] for (path, blob), hashes in sorted(state.memo.items())]
    document = {"v": FORMAT, "e": "".join(empty), "c": full, "m": memo, "l": _encode_last(state.last)}
    text = json.dumps(document, separators=(",", ":"))
    return zlib.compress(text.encode("utf-8"), 1)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("expected an integer")
    return value


def decode(value: bytes) -> HistoryState:
    """The state in ``value``; ValueError when it is malformed or of another format."""
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(value, MAX_DECODED_BYTES)
        if inflater.unconsumed_tail:
            raise ValueError("state too large")
        data = json.loads(raw.decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a history state: {exc}") from None
    if not isinstance(data, dict) or data.get("v") != FORMAT:
        raise ValueError("another history state format")
    try:
        empty = _str(data["e"])
        if len(empty) % 40:
            raise ValueError("bad commit list")
        commits: dict[str, CommitResult] = {empty[i : i + 40]: EMPTY for i in range(0, len(empty), 40)}
        for sha, added, removed, capped, too_big in data["c"]:
            commits[_str(sha)] = CommitResult(
                added=tuple((_str(p), _int(n), _str(k), _str(h)) for p, n, k, h in added),
                removed=tuple((_str(p), _str(h)) for p, h in removed),
                capped=bool(capped),
                too_big=_int(too_big),
            )
        memo = {(_str(p), _str(b)): tuple(_str(h) for h in hashes) for p, b, hashes in data["m"]}
        last = _decode_last(data.get("l"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed history state: {exc}") from None
    return HistoryState(commits=commits, memo=memo, last=last)
