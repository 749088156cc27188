"""Which commits a history scan reads: the ref tips it walks from (HEAD, and every branch, tag and
remote branch when asked) and the window of commits reachable from them, newest first, within
the spec's ``max_commits`` and ``since``.
"""

from __future__ import annotations

from secscan.scanners._history_git import GitError, Repository, sha_lines
from secscan.scanners._history_spec import Spec


def ref_tips(repo: Repository, all_branches: bool) -> tuple[str | None, dict[str, str]]:
    """HEAD's commit (None when unborn) and every ref tip to walk (``HEAD`` included)."""
    tips: dict[str, str] = {}
    head: str | None = None
    try:
        head = repo.run("rev-parse", "--verify", "-q", "HEAD^{commit}").decode().strip() or None
    except GitError:
        head = None
    if head:
        tips["HEAD"] = head
    if all_branches:
        fields = "%(objectname)%00%(*objectname)%00%(objecttype)%00%(*objecttype)%00%(refname)"
        out = repo.run("for-each-ref", f"--format={fields}", "refs/heads", "refs/remotes", "refs/tags")
        for line in out.decode("utf-8", "replace").splitlines():
            parts = line.split("\0")
            if len(parts) != 5:
                continue
            obj, peeled, kind, peeled_kind, name = parts
            commit = obj if kind == "commit" else peeled if peeled_kind == "commit" else None
            if commit:
                tips[name] = commit
    return head, tips


def window(repo: Repository, spec: Spec, tips: dict[str, str]) -> tuple[list[tuple[str, int]], bool]:
    args = ["rev-list", "--topo-order", "--timestamp", "--stdin"]
    if spec.max_commits is not None:
        args.append(f"--max-count={spec.max_commits + 1}")
    if spec.since is not None:
        args.append(f"--since={spec.since.isoformat()}T00:00:00+00:00")
    if repo.prefix:
        args += ["--", f":(top,literal){repo.prefix.rstrip('/')}"]
    out = repo.run(*args, stdin=sha_lines(sorted(set(tips.values()))))
    commits = []
    for line in out.decode("ascii", "replace").splitlines():
        when, _, sha = line.partition(" ")
        if sha and when.isdigit():
            commits.append((sha, int(when)))
    cut = spec.max_commits is not None and len(commits) > spec.max_commits
    return (commits[: spec.max_commits] if cut else commits), cut
