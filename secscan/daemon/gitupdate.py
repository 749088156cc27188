"""Bring a target's checkout up to date before its nightly scan: ``git fetch`` + checkout.

The remote and branch come from the trusted daemon configuration. The fetched content is not
trusted, so git runs with the hardened configuration of :mod:`secscan.fs.gitinfo` (no hooks, no
fsmonitor, no pager, no system or global config), without a shell, with a timeout. The checkout
is forced to the fetched commit: the daemon's checkout is a mirror, not a work space.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from secscan.core.errors import TargetError
from secscan.fs.gitinfo import SAFE_CONFIG, GitNotFoundError, run_git

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 600.0
# Fetching needs the transport (https, ssh) that gitinfo's read-only blame forbids.
_FETCH_CONFIG = tuple(c for c in SAFE_CONFIG if not c.startswith("protocol.allow="))


def _git(root: Path, *args: str, timeout: float) -> str:
    try:
        done = run_git(root, args, timeout=timeout, config=_FETCH_CONFIG)
    except GitNotFoundError:
        raise TargetError(
            f"cannot update {root}: git is not installed; install git or drop 'remote'"
        ) from None
    except subprocess.TimeoutExpired:
        raise TargetError(
            f"git {args[0]} in {root} took longer than {timeout:g} s; check the remote"
        ) from None
    except OSError as exc:
        raise TargetError(f"cannot run git in {root}: {exc.strerror}") from exc
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        last = lines[-1] if lines else f"exit code {done.returncode}"
        raise TargetError(f"git {args[0]} in {root} failed: {last}; check the remote and branch")
    return done.stdout.decode("utf-8", "replace").strip()


def update_checkout(root: Path, remote: str, branch: str, *, timeout: float = FETCH_TIMEOUT_S) -> str:
    """Fetch ``branch`` from ``remote`` and check it out (detached, forced); returns the commit."""
    tracking = f"refs/remotes/{remote}/{branch}"
    refspec = f"+refs/heads/{branch}:{tracking}"
    _git(root, "fetch", "--quiet", "--no-tags", "--prune", remote, refspec, timeout=timeout)
    _git(root, "checkout", "--quiet", "--force", "--detach", tracking, timeout=timeout)
    commit = _git(root, "rev-parse", "HEAD", timeout=timeout)
    log.info("updated %s to %s/%s at %s", root, remote, branch, commit[:12])
    return commit
