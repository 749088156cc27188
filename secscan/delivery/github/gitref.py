"""The commit, ref and repository root of a target's git checkout, read safely.

The target is untrusted: git runs with the hardened configuration and environment of
:mod:`secscan.fs.gitinfo` (no hooks, fsmonitor, pager, lazy fetches, system or global config), with
an argv list, no shell and a timeout. Only plumbing commands that read refs are used
(``rev-parse``, ``symbolic-ref``); none of them reads working-tree files through filters.
"""

from __future__ import annotations

import logging
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from secscan.config.github import GithubConfig
from secscan.core.errors import ConfigError
from secscan.fs.gitinfo import run_git

log = logging.getLogger(__name__)

TIMEOUT_S = 15.0
_SHA = re.compile(r"^[0-9a-f]{40}$")
_REF = re.compile(r"^refs/(heads|tags|pull)/.+$")


@dataclass(frozen=True)
class Checkout:
    """Where an analysis belongs on GitHub."""

    commit_sha: str
    ref: str
    root: Path  # the repository's top level (the target itself when it is not in git)
    subdir: str = ""  # the target's path below ``root`` ("" when the target is the root)


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = run_git(root, args, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.info("git %s in %s failed: %s", args[0], root, exc)
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8", "replace").strip()


def detect(target: Path, config: GithubConfig) -> Checkout:
    """The checkout of ``target``; configured ``commit_sha``/``ref`` win. Raises ConfigError."""
    target = target.resolve()
    top = _git(target, "rev-parse", "--show-toplevel")
    root = Path(top).resolve() if top else target
    try:
        subdir = target.relative_to(root).as_posix()
    except ValueError:
        subdir = ""
    subdir = "" if subdir == "." else subdir
    commit = config.commit_sha or _git(target, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if not commit or not _SHA.match(commit.lower()):
        raise ConfigError(
            f"cannot tell the commit of {target} (not a git checkout, or no commits); set [github] commit_sha"
        )
    ref = config.ref or _git(target, "symbolic-ref", "--quiet", "HEAD")
    if not ref or not _REF.match(ref):
        raise ConfigError(
            f"cannot tell the branch of {target} (a detached HEAD?); set [github] ref, "
            "e.g. refs/heads/main or refs/pull/42/merge"
        )
    return Checkout(commit.lower(), ref, root, subdir)
