"""What the git-history adapter asks its history scan for: the :class:`Spec` written as JSON by
:mod:`secscan.scanners.git_history` and read back by the scan's process
(:mod:`secscan.scanners._git_history_main`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Spec:
    """What the adapter asks for (the wrapper's input file)."""

    root: Path
    all_branches: bool
    max_commits: int | None
    since: date | None
    max_commit_bytes: int
    max_file_bytes: int
    detect_secrets_args: tuple[str, ...]
    excludes: tuple[str, ...]
    processes: int
    budget_s: float | None
    known: frozenset[str]
    pairs: frozenset[tuple[str, str]]
    memo: frozenset[tuple[str, str]]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Spec:
        since = data.get("since")
        return cls(
            root=Path(data["root"]),
            all_branches=bool(data["all_branches"]),
            max_commits=data.get("max_commits"),
            since=date.fromisoformat(since) if since else None,
            max_commit_bytes=int(data["max_commit_bytes"]),
            max_file_bytes=int(data["max_file_bytes"]),
            detect_secrets_args=tuple(data.get("detect_secrets_args", ())),
            excludes=tuple(data.get("excludes", ())),
            processes=max(1, int(data.get("processes") or 1)),
            budget_s=float(data["budget_s"]) if data.get("budget_s") else None,
            known=frozenset(data.get("known", ())),
            pairs=frozenset((p, h) for p, h in data.get("pairs", ())),
            memo=frozenset((p, b) for p, b in data.get("memo", ())),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "all_branches": self.all_branches,
            "max_commits": self.max_commits,
            "since": self.since.isoformat() if self.since else None,
            "max_commit_bytes": self.max_commit_bytes,
            "max_file_bytes": self.max_file_bytes,
            "detect_secrets_args": list(self.detect_secrets_args),
            "excludes": list(self.excludes),
            "processes": self.processes,
            "budget_s": self.budget_s,
            "known": sorted(self.known),
            "pairs": sorted(self.pairs),
            "memo": sorted(self.memo),
        }
