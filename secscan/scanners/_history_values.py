"""The values of git-history findings, recovered in memory only, so that every output can redact
them: each from the line of the commit that added it (the blob ``commit:path``, read from git's
objects), and kept only when its SHA-1 is the finding's (:func:`secscan.scanners.recover.recover_secret`).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

from secscan.scanners._history_git import GitError, open_repository
from secscan.scanners._history_presence import read_blobs
from secscan.scanners.recover import recover_secret

log = logging.getLogger("secscan.scanners.git_history")  # the adapter's: its warning keeps its name

Origin = tuple[str, str, int, str]
"""Where a secret was added: (commit, repository path, line, SHA-1 of the value)."""


def recover_values(root: Path, wanted: Sequence[Origin], limit: int) -> frozenset[str]:
    """The values added at ``wanted`` in the repository of ``root`` (blobs over ``limit`` bytes
    are not read). A repository git cannot read gives what was recovered so far, with a warning."""
    values: set[str] = set()
    try:
        with tempfile.TemporaryDirectory(prefix="secscan-history-") as empty:
            repo = open_repository(root, Path(empty))
            wanted = [w for w in wanted if "\n" not in w[1]]
            names = [f"{sha}:{path}" for sha, path, _, _ in wanted]
            blobs = read_blobs(repo, names, limit)
            for (_, _, line, digest), (_, content) in zip(wanted, blobs, strict=True):
                lines = content.decode("utf-8", "replace").splitlines() if content else []
                if 1 <= line <= len(lines) and (value := recover_secret(lines[line - 1], digest)):
                    values.add(value)
    except (GitError, OSError) as exc:
        log.warning("git-history: secret values not recovered for redaction (%s)", exc)
    return frozenset(values)
