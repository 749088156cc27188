"""secscan never scans its own outputs, and skips what git ignores (``[scan] include_ignored``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from secscan.app import run as app
from secscan.config.settings import DEFAULT_EXCLUDES, load_settings
from secscan.fs import gitinfo
from secscan.fs.exclusions import GitIgnored, Skips, build_skips, git_ignored
from secscan.fs.inventory import build_inventory

SECRET = 'API_TOKEN = "9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a"\n'  # a hex high-entropy string
git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _run(repo: Path, **kw: object) -> app.RunResult:
    request = app.RunRequest(
        target=repo,
        settings=kw.pop("settings", None) or load_settings(None),  # type: ignore[arg-type]
        sarif_path=kw.pop("sarif_path", repo / "secscan.sarif"),  # type: ignore[arg-type]
        only=("detect-secrets",),
        db=str(kw.pop("db", repo / "secscan.db")),
        **kw,  # type: ignore[arg-type]
    )
    return app.run(request)


def test_repeated_runs_inside_the_target_never_scan_their_own_outputs(tmp_path: Path) -> None:
    """``cd repo && secscan run .`` three times: the same findings each time (was 25 -> 71 -> 309)."""
    repo = tmp_path / "repo"
    _write(repo, {"settings.py": SECRET})
    counts = []
    for _ in range(3):
        result = _run(repo)
        counts.append(len(result.run.findings))
        assert {f.location.path for f in result.run.findings} == {"settings.py"}
    assert counts == [1, 1, 1]
    written = {p.name for p in repo.iterdir()}
    assert {"secscan.sarif", "secscan.db", "secscan-cache.db"} <= written  # they were there to be scanned


def test_findings_once_reported_in_a_file_secscan_now_writes_are_closed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _write(repo, {"settings.py": SECRET, "report.sarif": SECRET})
    first = _run(repo, sarif_path=tmp_path / "elsewhere.sarif")
    assert {f.location.path for f in first.run.findings} == {"settings.py", "report.sarif"}
    second = _run(repo, sarif_path=repo / "report.sarif")
    assert {f.location.path for f in second.run.findings} == {"settings.py"}
    assert {f.location.path for f in second.run.fixed} == {"report.sarif"}


@pytest.mark.parametrize(
    ("name", "skipped"),
    [
        ("secscan.db", True),
        ("secscan.db-wal", True),
        ("secscan.db-shm", True),
        ("secscan.db-journal", True),
        ("secscan.db.locks", True),
        (".out.sarif.x1y2.tmp", True),
        ("out.sarif", True),
        ("secscan.dbx", False),
        ("out.sarif2", False),
        ("sub/secscan.db", False),
    ],
)
def test_the_family_of_an_output_is_skipped(name: str, skipped: bool) -> None:
    assert Skips(outputs=frozenset({"secscan.db", "out.sarif"})).is_output(name) is skipped


@git
def test_files_git_ignores_are_skipped_and_counted_but_tracked_ones_are_scanned(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _write(repo, {
        ".gitignore": "build/\n*.log\n.env\nconfig.py\n",
        "settings.py": SECRET,
        "config.py": SECRET,  # ignored by a pattern but tracked: still scanned
        ".env": SECRET,
        "debug.log": SECRET,
        "build/lib/a.py": SECRET,
        "build/lib/b.py": SECRET,
    })  # fmt: skip
    _git(repo, "init", "-q")
    _git(repo, "add", "-f", ".gitignore", "settings.py", "config.py")
    _git(repo, "commit", "-qm", "init")
    result = _run(repo, sarif_path=tmp_path / "o.sarif", db=tmp_path / "db.sqlite")
    assert {f.location.path for f in result.run.findings} == {"settings.py", "config.py"}
    notes = [n.message for n in result.run.notifications]
    assert notes == [
        "not scanned: 2 file(s) and 1 folder(s) that git ignores ([scan] include_ignored = true scans them)"
    ]
    settings = load_settings(None, overrides=[("scan.include_ignored", True)])
    everything = _run(repo, sarif_path=tmp_path / "o.sarif", db=tmp_path / "db2.sqlite", settings=settings)
    assert {f.location.path for f in everything.run.findings} == {
        "settings.py", "config.py", ".env", "debug.log", "build/lib/a.py", "build/lib/b.py",
    }  # fmt: skip
    assert everything.run.notifications == ()


@git
def test_a_folder_outside_git_skips_nothing(tmp_path: Path) -> None:
    _write(tmp_path, {".gitignore": "*.log\n", "a.log": "x"})
    assert git_ignored(tmp_path) is None
    skips, unknown = build_skips(tmp_path.resolve(), [], include_ignored=False)
    assert unknown is None
    assert build_inventory(tmp_path, DEFAULT_EXCLUDES, 10**6, skips).files == (".gitignore", "a.log")


def test_outside_any_repository_git_is_not_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[object] = []

    def run_git(*args: object, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        started.append(args)
        return subprocess.CompletedProcess(args, 128, b"", b"fatal: not a git repository")

    monkeypatch.setattr(gitinfo, "run_git", run_git)  # exclusions imports it where git runs
    assert git_ignored(tmp_path / "a") is None and started == []
    (tmp_path / "HEAD").write_text("ref: refs/heads/main\n")  # a bare repository's folder: git may say more
    git_ignored(tmp_path / "a")
    (tmp_path / "HEAD").unlink()
    (tmp_path / ".git").write_text("gitdir: elsewhere\n")  # a linked work tree or submodule
    git_ignored(tmp_path / "a")
    assert len(started) == 2


def test_when_git_cannot_tell_everything_is_scanned_and_the_run_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def timeout(*args: object, **kwargs: object) -> None:
        raise subprocess.TimeoutExpired("git", 1)

    monkeypatch.setattr(gitinfo, "run_git", timeout)
    (tmp_path / ".git").mkdir()
    skips, unknown = build_skips(tmp_path, [], include_ignored=False)
    assert skips.ignored == GitIgnored() and unknown is not None
    [note] = skips.notifications(unknown)
    assert note.message.startswith("files git ignores were scanned: git did not list the ignored files")


@git
def test_the_repository_cannot_make_git_run_code_or_hang(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _write(repo, {".gitignore": "*.log\n", "a.log": "x", "b.py": "y"})
    _git(repo, "init", "-q")
    marker = tmp_path / "ran"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with (repo / ".git" / "config").open("a") as config:
        config.write(f'[core]\n\tfsmonitor = "touch {marker}"\n\texcludesFile = {fifo}\n')
        config.write(f'[core]\n\thooksPath = {tmp_path}\n')
    found = git_ignored(repo, timeout=20)
    assert found == GitIgnored(files=frozenset({"a.log"}))
    assert not marker.exists()


def test_without_git_a_work_tree_is_scanned_whole_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no git on PATH
    assert git_ignored(tmp_path) is None  # not a work tree: nothing to say
    (tmp_path / ".git").mkdir()
    assert git_ignored(tmp_path) == "git is not installed"


@git
def test_a_path_longer_than_path_max_is_skipped_and_the_run_completes(tmp_path: Path) -> None:
    """2,100 nested folders (a path over 4096 bytes) crashed the run with ENAMETOOLONG, nothing
    recorded: the walk, git's ignore handling and the closing of findings on deleted files
    (an open finding on a path too long to look up) now go on; the entry counts as not scanned."""
    from tests.core.test_inventory import deep_tree, remove_deep

    repo = tmp_path / "repo"
    _write(repo, {"settings.py": SECRET, ".gitignore": "ignored.py\n"})
    _git(repo, "init", "-q")
    _git(repo, "add", "settings.py", ".gitignore")
    _git(repo, "commit", "-qm", "init")
    deep = deep_tree(repo)
    try:
        _check_deep_run(repo, deep)
    finally:
        remove_deep(repo)


def _check_deep_run(repo: Path, deep: str) -> None:
    from secscan.app.pipeline import run_scan

    result = _run(repo)
    assert [s.status.value for s in result.run.scanners] == ["ok"]
    assert {f.location.path for f in result.run.findings} == {"settings.py"}
    [note] = [n for n in result.run.notifications if n.message.startswith("not scanned: cannot be read")]
    assert deep.startswith(f"{note.path}/")
    secrets = next(e for e in result.run.coverage if e.kind == "secrets")
    assert secrets.covered < secrets.files and "could not be read" in (secrets.reason or "")
    outcome = run_scan(repo, load_settings(None), only=["detect-secrets"], tracked_paths=(deep, "gone.py"))
    [detect] = outcome.run.scanners
    assert "gone.py" in detect.scope and deep not in detect.scope  # too long to look up: not known deleted
