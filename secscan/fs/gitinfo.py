"""When did a line of code arrive? ``git blame`` of committed lines, safe on an untrusted repository.

This feeds MTTD (:func:`secscan.core.metrics.mttd`): a finding's ``introduced_at`` is the committer
time of the commit that last changed its line, as ``git blame HEAD`` sees it.

The scanned repository is untrusted, and its ``.git/config`` and ``.gitattributes`` can name
programs for git to run. What can run during a blame, and how each is neutralised:

* ``core.fsmonitor`` (a hook run on every index refresh): ``-c core.fsmonitor=false``, and the
  index is never refreshed anyway because only ``HEAD`` is blamed.
* ``filter.<driver>.clean``/``process`` (via ``.gitattributes``): run when git reads a
  *working-tree* file; blaming the committed revision ``HEAD`` never reads the working tree.
* ``diff.<driver>.textconv`` (via ``.gitattributes``): ``--no-textconv``; ``diff.external``
  is emptied too.
* hooks, pager: ``core.hooksPath=/dev/null``, ``core.pager=cat`` (output is a pipe anyway).
* lazy fetches of a partial clone (remote helpers, ``core.sshCommand``, ``ext::`` URLs):
  ``protocol.allow=never`` and ``GIT_NO_LAZY_FETCH=1``.
* a bare repository planted in the tree: ``safe.bareRepository=explicit``.
* ``blame.ignoreRevsFile`` pointing at a missing file (would fail the blame): ``--no-ignore-revs-file``.
* system and global configuration, inherited ``GIT_*`` variables: a fresh environment with
  ``GIT_CONFIG_NOSYSTEM=1``, ``GIT_CONFIG_GLOBAL=/dev/null``, no prompts, no optional locks.

A repository owned by another user is refused by git ("dubious ownership") unless the caller
passes ``trust_other_owner=True`` (then ``-c safe.directory=<root>``, which git honours from the
command line). git runs without a shell, with an argv list and a timeout. Anything that goes
wrong (git missing, not a repository, untracked file, timeout) gives ``None``: MTTD is optional.
Lines changed but not committed are blamed as in ``HEAD`` (a CI checkout has none).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 30.0
_MERGE_GAP = 8  # blame a few unwanted lines rather than start another range
_HAS_ONLY = re.compile(r"has only (\d+) lines?")
_HEADER = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64}) (\d+) (\d+)(?: \d+)?$")
SAFE_CONFIG = (
    "core.fsmonitor=false",
    "core.untrackedCache=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "diff.external=",
    "protocol.allow=never",
    "safe.bareRepository=explicit",
    "gc.auto=0",
    "maintenance.auto=false",
    "log.showSignature=false",
)


@dataclass(frozen=True)
class LineOrigin:
    """The commit that last changed a line, as of ``HEAD``."""

    line: int
    commit: str
    author_time: datetime
    committed_at: datetime  # when the code arrived on the branch: what MTTD measures from


def git_env() -> dict[str, str]:
    """A minimal environment: no inherited ``GIT_*``, no system or global config, no prompts."""
    keep = ("PATH", "HOME", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL="/dev/null",
        GIT_TERMINAL_PROMPT="0",
        GIT_OPTIONAL_LOCKS="0",
        GIT_NO_LAZY_FETCH="1",
        GIT_NO_REPLACE_OBJECTS="1",
        GIT_ATTR_NOSYSTEM="1",
        GIT_PAGER="cat",
        LC_ALL="C",
    )
    return env


def ranges(lines: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted, merged ``(start, end)`` ranges (inclusive) covering ``lines`` (positive only)."""
    out: list[tuple[int, int]] = []
    for line in sorted({n for n in lines if n >= 1}):
        if out and line <= out[-1][1] + _MERGE_GAP:
            out[-1] = (out[-1][0], line)
        else:
            out.append((line, line))
    return out


class GitNotFoundError(OSError):
    """The git executable is not on PATH."""


def run_git(
    root: Path,
    args: Sequence[str],
    *,
    timeout: float,
    config: Sequence[str] = SAFE_CONFIG,
    git: str = "git",
) -> subprocess.CompletedProcess[bytes]:
    """``git -c <config>... <args>`` in ``root``: an argv list (no shell), no stdin, the minimal
    environment of :func:`git_env`, output captured. Shared by blame, the upload's commit and ref
    detection and the daemon's checkout update, so every git secscan runs is hardened alike.

    Raises GitNotFoundError when ``git`` is not installed, OSError when it cannot start (``root``
    missing, say), and ``subprocess.TimeoutExpired``; a non-zero exit is the caller's to read.
    """
    executable = shutil.which(git)
    if executable is None:
        raise GitNotFoundError(f"{git} is not installed")
    argv = [executable]
    for item in config:
        argv += ["-c", item]
    return subprocess.run(  # argv list, no shell, hardened config (module doc)
        [*argv, *args],
        cwd=root,
        env=git_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def work_tree(
    root: Path, *, timeout: float = DEFAULT_TIMEOUT_S, git: str = "git", trust_other_owner: bool = False
) -> tuple[Path, str] | None:
    """The top of the git work tree that holds ``root``, and ``root``'s path inside it (``""`` for
    the top itself, else a POSIX path such as ``services/api``). ``None`` when git is missing,
    ``root`` is in no work tree (or one git refuses), or git fails or times out."""
    try:
        root = root.resolve()
        argv = ["-c", f"safe.directory={root}"] if trust_other_owner else []
        proc = run_git(root, [*argv, "rev-parse", "--show-toplevel"], timeout=timeout, git=git)
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.info("git rev-parse in %s failed: %s", root, exc)
        return None
    out = os.fsdecode(proc.stdout).strip()
    if proc.returncode != 0 or not out:
        return None
    top = Path(out).resolve()
    try:
        inside = root.relative_to(top)
    except ValueError:
        return None
    return top, "" if inside == Path() else inside.as_posix()


def _blame_args(root: Path, path: str, spans: Sequence[tuple[int, int]], trust: bool) -> list[str]:
    argv = ["-c", f"safe.directory={root}"] if trust else []
    argv += ["blame", "--porcelain", "--no-textconv", "--no-ignore-revs-file"]
    for start, end in spans:
        argv += ["-L", f"{start},{end}"]
    return [*argv, "HEAD", "--", path]


def parse_porcelain(text: str) -> dict[int, LineOrigin]:
    """Final line number -> origin, from ``git blame --porcelain`` output."""
    commits: dict[str, dict[str, int]] = {}
    out: dict[int, str] = {}
    current: str | None = None
    for raw in text.splitlines():
        if raw.startswith("\t"):
            continue
        match = _HEADER.match(raw)
        if match is not None:
            current = match.group(1)
            commits.setdefault(current, {})
            out[int(match.group(3))] = current
            continue
        key, _, value = raw.partition(" ")
        if current is not None and key in ("author-time", "committer-time") and value.isdigit():
            commits[current][key] = int(value)
    result: dict[int, LineOrigin] = {}
    for line, sha in out.items():
        times = commits.get(sha, {})
        if "committer-time" in times:
            author = times.get("author-time", times["committer-time"])
            result[line] = LineOrigin(
                line,
                sha,
                datetime.fromtimestamp(author, UTC),
                datetime.fromtimestamp(times["committer-time"], UTC),
            )
    return result


def blame_lines(
    root: Path,
    path: str,
    lines: Iterable[int],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    git: str = "git",
    trust_other_owner: bool = False,
) -> dict[int, LineOrigin] | None:
    """The origin of each wanted line of ``path`` (repo-relative to ``root``) in one blame.

    Lines past the end of the file are left out. ``None`` when git is missing, ``root`` is not
    in a repository (or one git refuses), ``path`` is not committed, or git fails or times out.
    """
    wanted = {n for n in lines if n >= 1}
    spans = ranges(wanted)
    if not spans or "\0" in path or Path(path).is_absolute():
        return None
    for _ in range(2):  # a second try with the ranges clamped to the file's length
        try:
            args = _blame_args(root, path, spans, trust_other_owner)
            proc = run_git(root, args, timeout=timeout, git=git)
        except (OSError, subprocess.TimeoutExpired) as exc:
            logger.info("git blame of %s in %s failed: %s", path, root, exc)
            return None
        if proc.returncode == 0:
            found = parse_porcelain(proc.stdout.decode("utf-8", "replace"))
            return {n: o for n, o in found.items() if n in wanted}
        error = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        match = _HAS_ONLY.search(error[-1] if error else "")
        if match is None:
            logger.info("git blame of %s in %s: %s", path, root, error[-1] if error else proc.returncode)
            return None
        length = int(match.group(1))
        spans = [(s, min(e, length)) for s, e in spans if s <= length]
        if not spans:
            return {}
    return None


def line_origins(
    root: Path,
    wanted: Mapping[str, Iterable[int]],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    trust_other_owner: bool = False,
) -> dict[tuple[str, int], LineOrigin]:
    """Origins of many ``(path, line)``s: one blame per file; files git cannot blame are left out."""
    out: dict[tuple[str, int], LineOrigin] = {}
    for path, lines in wanted.items():
        found = blame_lines(root, path, lines, timeout=timeout, trust_other_owner=trust_other_owner)
        for line, origin in (found or {}).items():
            out[(path, line)] = origin
    return out
