"""How one run changes the git-history scanner's state (:mod:`secscan.scanners._history_state`):
a last walk reused as if it had just run (:func:`replay`), and the state after a walk
(:func:`next_state`).
"""

from __future__ import annotations

from secscan.scanners._history_records import WalkResult
from secscan.scanners._history_state import CommitResult, HistoryState, LastWalk


def replay(last: LastWalk) -> WalkResult:
    """The last walk as if it had just run (nothing new read)."""
    return WalkResult(
        head=last.head,
        prefix=last.prefix,
        tips=dict(last.tips),
        shallow=last.shallow,
        window=list(last.window),
        cut=last.cut,
        at=dict(last.at),
        ended=True,
    )


def next_state(previous: HistoryState | None, walk: WalkResult, signature: bytes | None) -> HistoryState:
    """The state after this run: the reachable commits read before (``previous``) or now, the
    memo of the blobs the tips hold now, and this walk when it may be reused (``signature`` is
    known and the walk has nothing to say)."""
    previous = previous or HistoryState()
    commits: dict[str, CommitResult] = {}
    for sha, _ in walk.window:
        result = walk.fresh.get(sha) or previous.commits.get(sha)
        if result is not None:
            commits[sha] = result
    found = {**previous.memo, **walk.blobs}
    current = {(path, blob) for (_, path), blob in walk.at.items()}
    memo = {key: found[key] for key in sorted(current) if key in found}
    last = None
    if signature is not None and not (walk.unreadable or walk.unread or walk.stopped or walk.notes):
        last = LastWalk(
            signature=signature.hex(),
            head=walk.head,
            prefix=walk.prefix,
            tips=dict(walk.tips),
            shallow=walk.shallow,
            window=tuple(walk.window),
            cut=walk.cut,
            at=dict(walk.at),
        )
    return HistoryState(commits=commits, memo=memo, last=last)
