"""git-history on real repositories: what it reports, what it leaves to the tree scan, how it
stays incremental, and what a hostile or incomplete repository cannot do to it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from secscan.core.model import ScannerStatus
from secscan.scanners import _subprocess
from secscan.scanners._history_state import decode
from tests import gitrepo
from tests.scanners.history_helpers import AWS, SECRET_A, SECRET_B, SECRET_C, MemoryState, keyed, scan

DAY = 86_400
T0 = 1_700_000_000


@pytest.fixture
def history(tmp_path: Path) -> dict[str, Any]:
    """A repository whose history holds a removed secret, a kept one and one on a side branch."""
    repo = gitrepo.init(tmp_path / "repo")
    ids = {"clean": gitrepo.commit(repo, {"app.py": "x = 1\n"}, when=T0)}
    ids["added"] = gitrepo.commit(repo, {"app.py": "x = 1\n" + SECRET_A, "keep.py": SECRET_B}, when=T0 + DAY)
    ids["removed"] = gitrepo.commit(repo, {"app.py": "x = 2\n"}, when=T0 + 2 * DAY)
    gitrepo.git(repo, "checkout", "-q", "-b", "feature")
    ids["side"] = gitrepo.commit(repo, {"side.py": SECRET_C}, when=T0 + 3 * DAY)
    gitrepo.git(repo, "checkout", "-q", "main")
    return {"repo": repo, **ids}


def test_reports_what_only_the_history_holds(history: dict[str, Any], tmp_path: Path) -> None:
    result = scan(history["repo"], tmp_path)
    assert result.status is ScannerStatus.OK, result.reason
    by_path = {f.location.path: f for f in result.findings}
    assert set(by_path) == {"app.py", "side.py"}  # keep.py's secret is in HEAD: the tree scan's
    removed = by_path["app.py"]
    assert (removed.rule_id, removed.location.start_line) == ("Secret Keyword", 2)
    assert removed.message == (
        f"Secret Keyword committed in {history['added'][:12]} (2023-11-15), removed in "
        f"{history['removed'][:12]} (2023-11-16), is still in the git history: rotate it"
    )
    assert removed.identity is not None and removed.identity.startswith("history-sha1:")
    assert removed.line_hash is not None and removed.line_hash.endswith(":1")
    side = by_path["side.py"]
    assert "is not in HEAD but still on branch feature: rotate it" in side.message
    assert {r.id for r in result.rules} == {"Secret Keyword"}
    assert result.scope == frozenset(("app.py", "keep.py"))  # complete: closes what it no longer finds


def test_a_moved_secret_that_head_still_holds_is_left_to_the_tree_scan(tmp_path: Path) -> None:
    repo = gitrepo.init(tmp_path / "repo")
    gitrepo.commit(repo, {"old/config.py": SECRET_A}, when=T0)
    gitrepo.git(repo, "mv", "old/config.py", "config.py")
    gitrepo.commit(repo, {}, when=T0 + DAY)
    assert scan(repo, tmp_path).findings == ()


def test_only_head_when_all_branches_is_off(history: dict[str, Any], tmp_path: Path) -> None:
    result = scan(history["repo"], tmp_path, all_branches=False)
    assert {f.location.path for f in result.findings} == {"app.py"}


def test_an_unchanged_rerun_reads_nothing_and_a_new_commit_is_read_alone(
    history: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    real = _subprocess.run_commands

    def recording(commands: Any, *args: Any, **kwargs: Any) -> Any:
        started.extend(commands)
        return real(commands, *args, **kwargs)

    monkeypatch.setattr(_subprocess, "run_commands", recording)
    state = MemoryState()
    cold = scan(history["repo"], tmp_path, state)
    assert state.counts[-1] == (0, 4) and len(started) == 1
    warm = scan(history["repo"], tmp_path, state)
    assert state.counts[-1] == (4, 0) and len(started) == 1  # the references did not move: no process
    assert [(f.fingerprint, f.message) for f in warm.findings] == [
        (f.fingerprint, f.message) for f in cold.findings
    ]
    gitrepo.commit(history["repo"], {"new.py": AWS}, when=T0 + 4 * DAY)
    gitrepo.commit(history["repo"], {"new.py": "gone = True\n"}, when=T0 + 5 * DAY)
    after = scan(history["repo"], tmp_path, state)
    assert state.counts[-1] == (4, 2) and len(started) == 2
    assert keyed(after) == keyed(cold) | {("AWS Access Key", "new.py", 1)}
    assert keyed(scan(history["repo"], tmp_path)) == keyed(after)  # a cold run agrees


def test_rewritten_history_drops_its_commits(history: dict[str, Any], tmp_path: Path) -> None:
    repo = history["repo"]
    state = MemoryState()
    assert {f.location.path for f in scan(repo, tmp_path, state).findings} == {"app.py", "side.py"}
    gitrepo.git(repo, "reset", "-q", "--hard", history["clean"])  # a force-push that drops two commits
    gitrepo.git(repo, "branch", "-q", "-D", "feature")
    result = scan(repo, tmp_path, state)
    assert result.findings == ()
    assert state.value is not None and set(decode(state.value).commits) == {history["clean"]}


def test_commits_are_read_oldest_first_on_any_number_of_processes(
    history: dict[str, Any], tmp_path: Path
) -> None:
    one = scan(history["repo"], tmp_path, processes=1)
    two = scan(history["repo"], tmp_path, processes=2)
    assert [(f.location, f.message, f.identity) for f in one.findings] == [
        (f.location, f.message, f.identity) for f in two.findings
    ]


def test_a_subfolder_target_sees_its_own_history(tmp_path: Path) -> None:
    repo = gitrepo.init(tmp_path / "repo")
    gitrepo.commit(repo, {"svc/api.py": SECRET_A, "other/x.py": SECRET_B, "svc/keep.py": "ok = 1\n"}, when=T0)
    gitrepo.commit(repo, {"svc/api.py": None, "other/x.py": None}, when=T0 + DAY)
    result = scan(repo / "svc", tmp_path)
    assert keyed(result) == {("Secret Keyword", "api.py", 1)}


def test_excludes_and_the_tree_scans_detect_secrets_arguments_apply(
    history: dict[str, Any], tmp_path: Path
) -> None:
    assert scan(history["repo"], tmp_path, excludes=(".git", "side.py")).findings[0].location.path == "app.py"
    result = scan(history["repo"], tmp_path, detect_secrets_args=("--exclude-lines", "hist-A-"))
    assert {f.location.path for f in result.findings} == {"side.py"}


def test_max_commits_cuts_the_walk_and_closes_nothing(history: dict[str, Any], tmp_path: Path) -> None:
    result = scan(history["repo"], tmp_path, max_commits=2)
    assert result.status is ScannerStatus.OK and result.scope == frozenset()
    [note] = [n for n in result.notifications if "max_commits" in n.message]
    assert "only the newest 2 commits were read" in note.message


def test_a_huge_commit_is_read_up_to_its_cap(tmp_path: Path) -> None:
    repo = gitrepo.init(tmp_path / "repo")
    big = "".join(f"value_{i} = {i}\n" for i in range(3000))
    gitrepo.commit(repo, {"a.py": SECRET_A, "b.py": big}, when=T0)
    gitrepo.commit(repo, {"a.py": None, "b.py": None}, when=T0 + DAY)
    result = scan(repo, tmp_path, max_commit_bytes=5000)
    assert keyed(result) == {("Secret Keyword", "a.py", 1)}
    assert any("larger than max_commit_bytes (5000)" in n.message for n in result.notifications)


def test_a_file_version_over_max_file_size_is_never_loaded_and_is_reported(tmp_path: Path) -> None:
    """git log -p loads an added or deleted blob whole even to call it binary (a 3 GB file of
    zeros ever committed cost 3 GB): versions over the limit are left out of its pathspec, named
    in a warning, and their commits are not counted as covered; other commits are read as ever."""
    repo = gitrepo.init(tmp_path / "repo")
    with open(repo / "big.bin", "wb") as sparse:
        sparse.truncate(200_000)  # zeros: compresses to almost nothing in .git
    (repo / "big.txt").write_text(SECRET_C * 2000, encoding="utf-8")  # a secret git must not load either
    added = gitrepo.commit(repo, {"a.py": SECRET_A}, when=T0)
    (repo / "big.bin").unlink()
    removed = gitrepo.commit(repo, {"a.py": None, "big.txt": None, "b.py": SECRET_B}, when=T0 + DAY)
    gitrepo.commit(repo, {"b.py": None, "c.py": "x = 1\n"}, when=T0 + 2 * DAY)
    result = scan(repo, tmp_path, max_file_bytes=50_000)
    assert result.status is ScannerStatus.OK, result.reason
    assert keyed(result) == {("Secret Keyword", "a.py", 1), ("Secret Keyword", "b.py", 1)}
    [note] = [n for n in result.notifications if "were not read" in n.message]
    assert note.level.value == "warning"
    assert "4 file versions larger than [scan] max_file_size (50000 bytes)" in note.message
    for path, sha in (("big.bin", added), ("big.txt", added), ("big.bin", removed), ("big.txt", removed)):
        assert f"{path} in {sha[:12]}" in note.message
    extent = result.extent
    assert extent is not None and (extent.total, extent.covered) == (3, 1)
    assert extent.gap is not None
    assert "2 commits hold file versions larger than [scan] max_file_size" in extent.gap
    assert not result.closes_nothing  # what was read closes as ever


def test_not_a_repository_or_no_git_is_skipped_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, history: dict[str, Any]
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.py").write_text(SECRET_A)
    result = scan(plain, tmp_path)
    assert (
        result.status is ScannerStatus.SKIPPED
        and result.reason is not None
        and "not a git repository" in result.reason
    )
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = scan(history["repo"], tmp_path)
    assert (
        result.status is ScannerStatus.SKIPPED
        and result.reason is not None
        and "git is not installed" in result.reason
    )


def test_a_shallow_clone_is_scanned_as_far_as_it_goes(history: dict[str, Any], tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    gitrepo.git(tmp_path, "clone", "-q", "--depth", "1", f"file://{history['repo']}", str(clone))
    result = scan(clone, tmp_path)
    assert result.status is ScannerStatus.OK and result.findings == ()
    assert any("shallow clone" in n.message for n in result.notifications)


def test_a_partial_clone_is_scanned_as_far_as_it_goes(history: dict[str, Any], tmp_path: Path) -> None:
    gitrepo.git(history["repo"], "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "partial"
    gitrepo.git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{history['repo']}", str(clone))
    result = scan(clone, tmp_path)
    assert result.status is ScannerStatus.OK, result.reason
    assert result.scope == frozenset()  # incomplete: closes nothing
    assert any("objects are missing" in n.message for n in result.notifications)


def _marker_script(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "ran.txt"
    script = tmp_path / "evil.sh"
    script.write_text(f'#!/bin/sh\necho "$0 $*" >> {marker}\ncat\n')
    script.chmod(0o755)
    return script, marker


def _sign(repo: Path) -> None:
    """Rewrite HEAD as a commit carrying a (fake) signature, so log.showSignature would run gpg."""
    raw = gitrepo.git(repo, "cat-file", "commit", "HEAD")
    head, _, message = raw.partition("\n\n")
    sig = "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----"
    data = f"{head}\n{sig}\n\n{message}".encode()
    proc = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin"],
        cwd=repo,
        input=data,
        capture_output=True,
        check=True,
    )
    gitrepo.git(repo, "update-ref", "refs/heads/main", proc.stdout.decode().strip())


def test_a_hostile_repository_runs_nothing_and_hides_nothing(tmp_path: Path) -> None:
    script, marker = _marker_script(tmp_path)
    repo = gitrepo.init(tmp_path / "repo")
    gitrepo.commit(repo, {".gitattributes": "* diff=evil -diff binary\n", "a.py": SECRET_A}, when=T0)
    gitrepo.commit(repo, {"a.py": "fine = 1\n"}, when=T0 + DAY)
    _sign(repo)
    with (repo / ".git" / "config").open("a") as config:
        config.write(
            f"[core]\n\tfsmonitor = {script}\n\tpager = {script}\n\thooksPath = {tmp_path}\n"
            "\tbigFileThreshold = 1\n\tquotePath = true\n"
            f"[diff]\n\texternal = {script}\n\tnoprefix = true\n\tmnemonicPrefix = true\n"
            "\tsuppressBlankEmpty = true\n\trenames = copies\n\trelative = true\n"
            f'[diff "evil"]\n\ttextconv = {script}\n\tbinary = true\n'
            f"[log]\n\tshowSignature = true\n[gpg]\n\tprogram = {script}\n[color]\n\tui = always\n"
        )
    result = scan(repo, tmp_path)
    assert result.status is ScannerStatus.OK, result.reason
    assert keyed(result) == {("Secret Keyword", "a.py", 1)}
    assert not marker.exists(), marker.read_text()


def test_local_attributes_are_read_around_with_text_diffs(tmp_path: Path) -> None:
    repo = gitrepo.init(tmp_path / "repo")
    gitrepo.commit(repo, {"a.py": SECRET_A, "blob.bin": "\x00\x01binary " + SECRET_B}, when=T0)
    gitrepo.commit(repo, {"a.py": None, "blob.bin": None}, when=T0 + DAY)
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "attributes").write_text("* -diff\n")
    assert keyed(scan(repo, tmp_path)) == {("Secret Keyword", "a.py", 1)}


def test_the_value_is_recovered_in_memory_for_redaction(history: dict[str, Any], tmp_path: Path) -> None:
    result = scan(history["repo"], tmp_path)
    scanner, job = result.__dict__["scanner"], result.__dict__["job"]
    values = scanner.secret_values(job, result.findings)
    assert values == {"hist-A-7Gq2mZ9xWv", "hist-C-Kw4jV6yHc1"}
    output = (job.workdir / "git-history.jsonl").read_text() + (
        job.workdir / "git-history-spec.json"
    ).read_text()
    assert all(v not in output for v in values)  # the scanner process never wrote a value


def test_findings_equal_detect_secrets_own_diff_scanning(tmp_path: Path) -> None:
    """Each commit's secrets are what ``detect_secrets.core.scan.scan_diff`` finds in its patch."""
    from detect_secrets.core.scan import scan_diff

    from secscan.scanners._history_spec import Spec
    from secscan.scanners._history_walk import walk

    repo = gitrepo.init(tmp_path / "repo")
    commits = [
        {"a.py": "x = 1\n" + SECRET_A + AWS, "conf.yaml": "db:\n  password: hist-Y-9dKq2LmZ\n"},
        {
            "a.py": "x = 2\n"
            + SECRET_A
            + "# pragma: allowlist secret\ntoken = 'hist-D-Pq8rT2wX'  # pragma: allowlist secret\n",
            "package-lock.json": '{"integrity": "sha512-' + "Qx9" * 20 + '"}\n',
            "b.js": 'const key = "AIza' + "B" * 35 + '";\n',
        },
        {
            "b.js": None,
            "notes.md": "Use `password = hunter2isnotok` locally\nhttps://user:s3cr3tPassw0rd@example.com/x\n",
        },
    ]
    shas = [gitrepo.commit(repo, files, when=T0 + i * DAY) for i, files in enumerate(commits)]
    records: list[dict[str, Any]] = []
    empty = tmp_path / "empty"
    empty.mkdir()
    spec = Spec(
        root=repo,
        all_branches=True,
        max_commits=None,
        since=None,
        max_commit_bytes=10**8,
        max_file_bytes=10**7,
        detect_secrets_args=(),
        excludes=(".git",),
        processes=1,
        budget_s=None,
        known=frozenset(),
        pairs=frozenset(),
        memo=frozenset(),
    )
    walk(spec, empty, records.append)
    ours = {r["sha"]: {(p, n, k, h) for p, n, k, h in r["added"]} for r in records if r["t"] == "commit"}
    found_any = False
    for sha in shas:
        patch = gitrepo.git(repo, "show", "--format=", "-p", "--no-renames", "--no-color", sha)
        theirs = {(s.filename, s.line_number, s.type, s.secret_hash) for s in scan_diff(patch)}
        assert ours[sha] == theirs, sha
        found_any = found_any or bool(theirs)
    assert found_any


def test_spec_and_output_never_hold_values(history: dict[str, Any], tmp_path: Path) -> None:
    state = MemoryState()
    result = scan(history["repo"], tmp_path, state)
    job = result.__dict__["job"]
    texts = [(job.workdir / name).read_bytes() for name in ("git-history.jsonl", "git-history-spec.json")]
    assert state.value is not None
    texts.append(state.value)
    import zlib

    texts.append(zlib.decompress(state.value))
    for value in ("hist-A-7Gq2mZ9xWv", "hist-B-Rt5nQ8sLp3", "hist-C-Kw4jV6yHc1"):
        assert all(value.encode() not in t for t in texts)
    records = [json.loads(line) for line in texts[0].splitlines()]
    assert {r["t"] for r in records} >= {"repo", "window", "commit", "at", "blob", "end"}


def test_the_wrapper_runs_with_the_runners_environment_only(history: dict[str, Any], tmp_path: Path) -> None:
    os.environ["GIT_DIR"] = str(tmp_path / "elsewhere")  # an inherited GIT_* must not redirect git
    try:
        result = scan(history["repo"], tmp_path)
    finally:
        del os.environ["GIT_DIR"]
    assert {f.location.path for f in result.findings} == {"app.py", "side.py"}


def test_a_history_too_long_for_one_run_is_read_over_several(history: dict[str, Any], tmp_path: Path) -> None:
    state = MemoryState()
    runs = []
    for _ in range(6):
        result = scan(history["repo"], tmp_path, state, timeout_s=1e-6)  # the budget runs out at once
        assert result.status is ScannerStatus.OK, result.reason
        runs.append(result)
        if not any("left for the next run" in n.message for n in result.notifications):
            break
    assert 2 <= len(runs) <= 5  # at least one commit per run, never stuck
    assert all(r.scope == frozenset() for r in runs[:-1])  # incomplete runs close nothing
    assert keyed(runs[-1]) == keyed(scan(history["repo"], tmp_path)) and runs[-1].scope


def test_since_leaves_older_commits_out(history: dict[str, Any], tmp_path: Path) -> None:
    from datetime import date

    result = scan(history["repo"], tmp_path, since=date(2023, 11, 17))  # only the side branch's commit
    assert {f.location.path for f in result.findings} == {"side.py"}


def test_config_keys_are_validated() -> None:
    from secscan.config.settings import GitHistoryConfig, build_settings
    from secscan.core.errors import ConfigError

    settings = build_settings({"scanners": {"git-history": {"since": "2024-01-01", "max_commits": 10}}})
    config = settings.scanner("git-history")
    assert (
        isinstance(config, GitHistoryConfig)
        and str(config.since) == "2024-01-01"
        and config.max_commits == 10
    )
    with pytest.raises(ConfigError, match=r"scanners\.git-history\.max_commits"):
        build_settings({"scanners": {"git-history": {"max_commits": 0}}})
    with pytest.raises(ConfigError, match=r"unknown key 'scanners\.git-history\.branches'"):
        build_settings({"scanners": {"git-history": {"branches": ["main"]}}})


def test_a_changed_window_is_walked_again(history: dict[str, Any], tmp_path: Path) -> None:
    state = MemoryState()
    assert {f.location.path for f in scan(history["repo"], tmp_path, state).findings} == {"app.py", "side.py"}
    head_only = scan(history["repo"], tmp_path, state, all_branches=False)  # same refs, other window
    assert {f.location.path for f in head_only.findings} == {"app.py"}
    assert state.counts[-1] == (3, 0)  # HEAD's three commits, all known already


def test_a_secret_added_twice_is_located_at_its_first_line(tmp_path: Path) -> None:
    repo = gitrepo.init(tmp_path / "repo")
    gitrepo.commit(repo, {"a.py": "x = 1\n"}, when=T0)
    gitrepo.commit(repo, {"a.py": SECRET_A + "y = 2\n" + SECRET_A}, when=T0 + DAY)
    gitrepo.commit(repo, {"a.py": "x = 1\n"}, when=T0 + 2 * DAY)
    assert keyed(scan(repo, tmp_path)) == {("Secret Keyword", "a.py", 1)}


def test_a_damaged_state_means_a_cold_walk(
    history: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import zlib

    from secscan.scanners._history_state import HistoryState, decode, encode

    assert decode(encode(HistoryState())) == HistoryState()
    for garbage in (b"not zlib", zlib.compress(b'{"v": 99}'), zlib.compress(b'{"v": 1, "e": "abc"}')):
        with pytest.raises(ValueError):
            decode(garbage)
        state = MemoryState(value=garbage)
        result = scan(history["repo"], tmp_path, state)
        assert {f.location.path for f in result.findings} == {"app.py", "side.py"}
        assert state.counts[-1] == (0, 4)
    assert "ignoring a damaged cached state" in caplog.text


@pytest.mark.parametrize("incomplete", ["max_commits", "partial clone"])
def test_an_incomplete_walk_closes_no_history_finding_on_a_deleted_file(tmp_path: Path, incomplete: str) -> None:
    """A secret committed in a file deleted since is a history finding on a path that no longer
    exists. The pipeline counts deleted files as covered by every scanner that finished ok; a walk
    that read only part of the history (cut at max_commits, objects missing) must not close it."""
    from secscan.app.run import RunRequest, run
    from secscan.config.settings import build_settings

    repo = gitrepo.init(tmp_path / "repo")
    gitrepo.commit(repo, {"app.py": "x = 1\n", "old/config.py": SECRET_A}, when=T0)
    gitrepo.commit(repo, {"old/config.py": None}, when=T0 + DAY)
    gitrepo.commit(repo, {"app.py": "x = 2\n"}, when=T0 + 2 * DAY)
    db = str(tmp_path / "secscan.db")

    def scan_with(root: Path, **history: Any) -> Any:
        settings = build_settings({"scanners": {"git-history": history}})
        request = RunRequest(root, settings, sarif_path=tmp_path / "out.sarif", only=("git-history",), db=db,
                             target_name="repo", use_cache=False)  # fmt: skip
        return run(request).run

    first = scan_with(repo)
    [found] = first.findings
    assert found.location.path == "old/config.py" and not (repo / "old" / "config.py").exists()
    if incomplete == "max_commits":
        second = scan_with(repo, max_commits=1)
    else:
        gitrepo.git(repo, "config", "uploadpack.allowFilter", "true")
        clone = tmp_path / "partial"
        gitrepo.git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{repo}", str(clone))
        second = scan_with(clone)
    [result] = second.scanners
    assert result.status is ScannerStatus.OK and result.closes_nothing, result.reason
    assert result.scope == frozenset() and second.fixed == ()
    assert result.extent is not None and result.extent.gap
    third = scan_with(repo)  # the whole history again: the finding is still there, never closed
    assert [f.state.value for f in third.findings] == ["unchanged"]
