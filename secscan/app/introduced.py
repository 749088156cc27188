"""When did a finding's code arrive? Git commit times of new findings' lines (for MTTD).

Only for a target in a git work tree (its top or any folder below it: a service in a monorepo),
only for findings seen for the first time, at most ``max_files`` files per run (one ``git blame``
each, a few at a time). A target in a sub-folder is blamed from the work tree's top, each path
prefixed with the sub-folder's, and only paths inside the sub-folder are blamed.
``secscan.fs.gitinfo`` runs git so that the untrusted repository's configuration cannot execute
anything.
"""

from __future__ import annotations

import logging
import posixpath
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from secscan.core.ports.store import TrackedFinding

log = logging.getLogger(__name__)

NOT_BLAMED = frozenset({"git-history"})
"""Tools whose findings' lines are not the current file's (a secret of the history): blaming the
current line would date something else, so their introduction time is left unknown."""
MAX_FILES = 500
WORKERS = 4


def introduced_times(
    root: Path, findings: Sequence[TrackedFinding], *, max_files: int = MAX_FILES, workers: int = WORKERS
) -> dict[str, datetime]:
    """fingerprint -> commit time of the finding's line, where git knows it."""
    if not findings:
        return {}
    from concurrent.futures import ThreadPoolExecutor

    from secscan.fs.gitinfo import blame_lines, work_tree  # git: only for a run with new findings

    tree = work_tree(root)
    if tree is None:
        return {}
    top, prefix = tree
    by_path: dict[str, list[TrackedFinding]] = defaultdict(list)
    for finding in findings:
        if finding.tool in NOT_BLAMED:
            continue
        path = posixpath.normpath(finding.path)
        if path.startswith(("/", "../")) or path in ("..", "."):
            continue  # never outside the target's own folder
        by_path[path].append(finding)
    paths = sorted(by_path)
    if len(paths) > max_files:
        log.info("MTTD: blaming %d of %d files with new findings", max_files, len(paths))
        paths = paths[:max_files]

    def blame(path: str) -> dict[int, datetime]:
        inside = f"{prefix}/{path}" if prefix else path
        origins = blame_lines(top, inside, {f.line for f in by_path[path]})
        return {line: o.committed_at for line, o in (origins or {}).items()}

    times: dict[str, datetime] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="blame") as pool:
        for path, lines in zip(paths, pool.map(blame, paths), strict=True):
            for finding in by_path[path]:
                if finding.line in lines:
                    times[finding.fingerprint] = lines[finding.line]
    return times
