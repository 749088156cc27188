"""From what each commit did to the secrets in the history where they stand now. Pure.

A secret is identified by its SHA-1. One that HEAD still holds at any path where it was ever
added is the tree scan's to report, so it is left out here entirely. Every other one is reported
once per (path, SHA-1): where and when it was first added (the oldest commit in topological
order, its line there), and either the tips that still hold it ("still on branch x") or the
newest commit that removed its line without adding it back ("removed in y").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from secscan.core.model import Severity
from secscan.scanners._history_state import CommitResult

HEAD = "HEAD"


@dataclass(frozen=True)
class Event:
    """A commit, its position in the window (0 = newest) and its committer time."""

    sha: str
    order: int
    time: int


@dataclass(frozen=True)
class HistorySecret:
    """A secret that exists only in the history (or on branches other than HEAD)."""

    path: str
    digest: str
    secret_type: str
    line: int
    added: Event
    removed: Event | None
    still_on: tuple[str, ...]


@dataclass(frozen=True)
class Presence:
    """Which blob each path with a secret has at each tip, and what each blob holds."""

    blobs: Mapping[tuple[str, str], str]  # (tip, path) -> blob id
    found: Mapping[tuple[str, str], tuple[str, ...]]  # (path, blob id) -> SHA-1s in it

    def holds(self, tip: str, path: str, digest: str) -> bool:
        blob = self.blobs.get((tip, path))
        return blob is not None and digest in self.found.get((path, blob), ())


def ref_label(name: str) -> str:
    """``refs/heads/main`` -> ``branch main``; tags and remote branches alike."""
    kinds = (("refs/heads/", "branch "), ("refs/tags/", "tag "), ("refs/remotes/", "remote branch "))
    for prefix, kind in kinds:
        if name.startswith(prefix):
            return kind + name[len(prefix) :]
    return name


def history_secrets(
    window: Sequence[tuple[str, int]],
    commits: Mapping[str, CommitResult],
    presence: Presence,
    tips: Sequence[str],
    rank: Callable[[str], Severity],
) -> list[HistorySecret]:
    """The secrets of the history not held by HEAD, sorted by path, line and SHA-1.

    ``window`` lists the commits considered (newest first, with committer times); ``commits``
    must hold a result for each one read. ``rank`` gives a secret type's severity: when several
    detectors flagged one value, the most severe type names it.
    """
    order = {sha: Event(sha, i, when) for i, (sha, when) in enumerate(window)}
    first: dict[tuple[str, str], tuple[Event, int]] = {}
    types: dict[tuple[str, str], set[str]] = {}
    last_removed: dict[tuple[str, str], Event] = {}
    paths: dict[str, set[str]] = {}
    for sha, event in order.items():
        result = commits.get(sha)
        if result is None:
            continue
        added_here = set()
        for path, line, kind, digest in result.added:
            key = (path, digest)
            added_here.add(key)
            types.setdefault(key, set()).add(kind)
            paths.setdefault(digest, set()).add(path)
            known = first.get(key)
            if known is None or (event.order, -line) > (known[0].order, -known[1]):
                first[key] = (event, line)  # a larger order is older; then the first line
        for path, digest in result.removed:
            key = (path, digest)
            if key in added_here:
                continue  # the line changed, the secret stayed
            known_removal = last_removed.get(key)
            if known_removal is None or event.order < known_removal.order:
                last_removed[key] = event
    out = []
    for (path, digest), (event, line) in first.items():
        places = paths[digest]
        if any(presence.holds(HEAD, p, digest) for p in places):
            continue
        holding = [t for t in tips if t != HEAD and any(presence.holds(t, p, digest) for p in places)]
        still = tuple(sorted(ref_label(t) for t in holding))
        removed = last_removed.get((path, digest))
        if removed is not None and removed.order > event.order:
            removed = None  # removed before the oldest addition we know of: not its removal
        kind = max(sorted(types[(path, digest)]), key=lambda k: rank(k).rank)
        out.append(HistorySecret(path, digest, kind, line, event, removed, still))
    out.sort(key=lambda s: (s.path, s.line, s.digest))
    return out
