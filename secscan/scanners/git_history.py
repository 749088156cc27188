"""git-history: secrets that were ever committed, read from ``git log -p`` with detect-secrets.

The scan runs in a subprocess (:mod:`secscan.scanners._git_history_main`) under the runner's
deadline and process-group kill, with git hardened against the repository
(:mod:`secscan.scanners._history_git`). It reads every commit reachable from HEAD and, by
default, from every branch, tag and remote branch, oldest first, and feeds the lines each one
adds to detect-secrets' own diff scanning with the tree scan's plugins and filters
(:mod:`secscan.scanners._history_secrets`). Nothing is checked out and nothing of the repository
runs.

Incremental: the commits read and what they hold (types, paths, lines, SHA-1s; never a value)
stay in the result cache (:mod:`secscan.scanners._history_state`), so a nightly run reads only
new commits. Commits no longer reachable drop out. With ``--no-cache`` every commit is read.

A secret HEAD still holds is the tree scan's finding and is left out; every other one is a
finding of its own (:mod:`secscan.scanners._history_findings`, ``_history_report``). Their values
are recovered in memory only, from the commit that added them, so that every output can redact
them (:meth:`GitHistoryScanner.secret_values`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from secscan import __version__
from secscan.core.errors import ScannerError
from secscan.core.model import Extent, Finding, Notification, NotificationLevel, ToolName
from secscan.scanners._scanner_state import scanner_state
from secscan.scanners._versions import installed_version
from secscan.scanners.interface import Command, CommandResult, Plan, ScanJob, Scanner, ScanOutput

if TYPE_CHECKING:  # issue 18: the history's modules load only when a walk runs or is replayed
    from secscan.scanners._history_records import WalkResult
    from secscan.scanners._history_state import HistoryState

log = logging.getLogger(__name__)

MAIN = "secscan.scanners._git_history_main"
OUTPUT = "git-history.jsonl"
DEFAULT_MAX_COMMIT_BYTES = 100_000_000
DEFAULT_MAX_FILE_BYTES = 5_000_000
HISTORY_KIND = "git history"
"""The coverage map's pseudo-kind of this scanner (API, like the file kinds of :mod:`secscan.app.kinds`)."""


def in_git_work_tree(root: Path) -> bool:
    """Whether ``root`` is inside a git work tree (a ``.git`` folder or file above it), without git."""
    return any((folder / ".git").exists() for folder in (root, *root.parents))


def _previous(job: ScanJob) -> HistoryState:
    from secscan.scanners._history_state import HistoryState, decode

    state = scanner_state(job.options)
    value = state.get() if state is not None else None
    if value is None:
        return HistoryState()
    try:
        return decode(value)
    except ValueError as exc:
        log.warning("git-history: ignoring a damaged cached state (%s); reading the whole history", exc)
        return HistoryState()


def _walk_signature(root: Path, window: Mapping[str, object]) -> bytes | None:
    """What decides the walk: the references (read as files) and the window's settings."""
    from secscan.scanners._history_refs import refs_signature

    refs = refs_signature(root)
    if refs is None:
        return None
    return hashlib.sha256(refs + json.dumps(window, default=str, sort_keys=True).encode()).digest()


def _budget(job: ScanJob) -> float | None:
    from secscan.scanners._history_report import BUDGET_SHARE

    timeout = job.options.get("timeout_s")
    return timeout * BUDGET_SHARE if isinstance(timeout, int | float) and timeout > 0 else None


def _int_option(job: ScanJob, key: str, default: int | None) -> int | None:
    value = job.options.get(key, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _gap(walk: WalkResult, max_commits: int | None) -> str | None:
    """Why part of the history was not read (the coverage map's reason), or None."""
    parts = []
    if walk.shallow:
        parts.append("a shallow clone: the commits before its oldest one are not in it")
    if walk.cut:
        parts.append(f"only the newest {max_commits} commits are read ([scanners.git-history] max_commits)")
    if walk.unreadable or walk.unread:
        parts.append(f"{len(walk.unreadable) + walk.unread} commits could not be read (objects missing)")
    if walk.stopped:
        parts.append(f"{walk.stopped} commits left for the next run (the walk stopped at its time budget)")
    return "; ".join(parts) or None


class GitHistoryScanner(Scanner):
    """Adapter for secscan's own history wrapper (JSON lines on stdout)."""

    name = ToolName("git-history")  # _history_report.NAME (a test keeps the two equal)
    stateful = True

    def __init__(self) -> None:
        self._state: HistoryState | None = None  # the cached state, read by plan()
        self._signature: bytes | None = None
        self._reuse: WalkResult | None = None
        self._origins: dict[str, tuple[str, str, int, str]] = {}  # fingerprint material -> where added

    def version(self) -> str:
        return f"{__version__} (detect-secrets {installed_version('detect-secrets')})"

    def scannable(self, files: Sequence[str]) -> tuple[str, ...]:
        """None of the tree's files: the history is read from git's objects, not the work tree."""
        return ()

    def cache_material(self, job: ScanJob) -> Mapping[str, object]:
        return {
            "args": [*self._detect_secrets_args(job)],
            "max_commit_bytes": _int_option(job, "max_commit_bytes", DEFAULT_MAX_COMMIT_BYTES),
            "max_file_bytes": _int_option(job, "max_file_bytes", DEFAULT_MAX_FILE_BYTES),
        }

    @staticmethod
    def _detect_secrets_args(job: ScanJob) -> tuple[str, ...]:
        base = job.options.get("detect_secrets_args", ())
        return (*(str(a) for a in base), *job.args) if isinstance(base, tuple | list) else job.args

    def plan(self, job: ScanJob) -> Plan:
        if not in_git_work_tree(job.root):
            return Plan(skip_reason="not a git repository: there is no history to scan")
        if shutil.which("git") is None:
            return Plan(skip_reason="git is not installed, so the history cannot be read; install git")
        if importlib.util.find_spec("detect_secrets") is None:
            raise ScannerError(
                f"detect-secrets is not installed for {sys.executable}; "
                "run: pip install 'detect-secrets>=1.5,<2'"
            )
        option = job.options.get("since")
        all_branches = bool(job.options.get("all_branches", True))
        max_commits = _int_option(job, "max_commits", None)
        since = option if isinstance(option, date) else None
        window = {"all_branches": all_branches, "max_commits": max_commits, "since": since}
        self._state = _previous(job)
        self._signature = _walk_signature(job.root, window)
        last = self._state.last
        if last is not None and self._signature is not None and last.signature == self._signature.hex():
            from secscan.scanners._history_update import replay

            self._reuse = replay(last)
            return Plan()  # the references did not move: the last walk stands, nothing runs
        from secscan.scanners._history_spec import Spec

        pairs = {(p, h) for r in self._state.commits.values() for p, _, _, h in r.added}
        excludes = job.options.get("excludes", ())
        spec = Spec(
            root=job.root,
            all_branches=all_branches,
            max_commits=max_commits,
            since=since,
            max_commit_bytes=_int_option(job, "max_commit_bytes", DEFAULT_MAX_COMMIT_BYTES) or 1,
            max_file_bytes=_int_option(job, "max_file_bytes", DEFAULT_MAX_FILE_BYTES) or 1,
            detect_secrets_args=self._detect_secrets_args(job),
            excludes=tuple(str(e) for e in excludes) if isinstance(excludes, tuple | list) else (),
            processes=_int_option(job, "processes", None) or os.cpu_count() or 1,
            budget_s=_budget(job),
            known=frozenset(self._state.commits),
            pairs=frozenset(pairs),
            memo=frozenset(self._state.memo),
        )
        workdir = job.workdir.absolute()
        spec_path = workdir / "git-history-spec.json"
        spec_path.write_text(json.dumps(spec.to_json()), encoding="utf-8")
        argv = (sys.executable, "-P", "-m", MAIN, str(spec_path))
        return Plan(commands=(Command(argv=argv, cwd=workdir, stdout_path=workdir / OUTPUT),))

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code == 0

    def exit_code_for(self, job: ScanJob, findings: int) -> int | None:
        return 0

    def _walk(self, job: ScanJob, results: Sequence[CommandResult]) -> WalkResult:
        if self._reuse is not None:
            return self._reuse
        if len(results) != 1:
            raise ScannerError("git-history ran an unexpected number of commands; this is a secscan bug")
        from secscan.scanners._history_records import read_records

        walk = read_records(results[0].command.stdout_path)
        if walk.fatal is not None:
            raise ScannerError(f"git-history cannot read the history of {job.root}: {walk.fatal}")
        return walk

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        from secscan.scanners._history_findings import Presence, history_secrets
        from secscan.scanners._history_report import finding, notifications, rule
        from secscan.scanners._history_state import encode
        from secscan.scanners._history_update import next_state

        walk = self._walk(job, results)
        state = next_state(self._state, walk, self._signature)
        presence = Presence(walk.at, state.memo)
        rank = lambda kind: job.policy.secret(kind, False)  # noqa: E731
        secrets = history_secrets(walk.window, state.commits, presence, sorted(walk.tips), rank)
        findings = tuple(finding(s, job.policy) for s in secrets)
        self._origins = {
            f"{s.path}\0{s.digest}": (s.added.sha, walk.prefix + s.path, s.line, s.digest) for s in secrets
        }
        read = [(sha, state.commits[sha]) for sha, _ in walk.window if sha in state.commits]
        notes = [Notification(NotificationLevel(level), text) for level, text in walk.notes]
        notes += notifications(
            shallow=walk.shallow,
            cut=_int_option(job, "max_commits", None) if walk.cut else None,
            unreadable=len(walk.unreadable),
            unread=walk.unread,
            stopped=walk.stopped,
            read=read,
            max_commit_bytes=_int_option(job, "max_commit_bytes", DEFAULT_MAX_COMMIT_BYTES) or 0,
        )
        store = scanner_state(job.options)
        if store is not None:  # a reused walk changed nothing: no write
            value = None if self._reuse is not None else encode(state)
            store.put(value, hits=len(read) - len(walk.fresh), misses=len(walk.fresh))
        gap = _gap(walk, _int_option(job, "max_commits", None))
        # a commit with a file version over [scan] max_file_size was read in part: a secret may
        # be in what was left out, so it is not covered (the findings it holds still close)
        partial = sum(1 for _, r in read if r.too_big)
        size_gap = (
            f"{partial} commits hold file versions larger than [scan] max_file_size, not read"
            if partial else None
        )
        return ScanOutput(
            findings=findings,
            rules=tuple(rule(t) for t in sorted({f.rule_id for f in findings})),
            scope=frozenset(job.files),
            notifications=tuple(notes),
            exit_code=0,  # also when the last walk was reused and nothing ran
            # a history read in part is not a failure, but an absent secret may be in what was
            # not read: no history finding closes, not even on a file deleted since (the pipeline
            # would otherwise count deleted files as covered)
            closes_nothing=gap,
            extent=Extent(
                HISTORY_KIND, "commits", len(walk.window), len(read) - partial,
                "; ".join(g for g in (gap, size_gap) if g) or None,
            ),
        )

    def secret_values(self, job: ScanJob, findings: Sequence[Finding]) -> frozenset[str]:
        """The values of this run's findings, from the line that added each (in memory only)."""
        if not findings:
            return frozenset()
        from secscan.scanners._history_report import IDENTITY_PREFIX

        wanted = []
        for f in findings:
            if f.identity and f.identity.startswith(IDENTITY_PREFIX):
                origin = self._origins.get(f"{f.location.path}\0{f.identity[len(IDENTITY_PREFIX):]}")
                if origin is not None:
                    wanted.append(origin)
        if not wanted:
            return frozenset()
        from secscan.scanners._history_values import recover_values

        limit = _int_option(job, "max_file_bytes", DEFAULT_MAX_FILE_BYTES) or DEFAULT_MAX_FILE_BYTES
        return recover_values(job.root, wanted, limit)
