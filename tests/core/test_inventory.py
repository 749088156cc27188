from __future__ import annotations

import contextlib
import errno
import fnmatch
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.config.settings import DEFAULT_EXCLUDES
from secscan.core.errors import TargetError
from secscan.fs.inventory import build_inventory, check_target, is_excluded


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_walk_lists_regular_files_and_skips_defaults(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "a.py": "x",
            "pkg/b.py": "y",
            ".git/config": "z",
            "node_modules/m/index.js": "j",
            "env1/pyvenv.cfg": "home=/usr",
            "env1/lib/site.py": "v",
        },
    )
    inv = build_inventory(tmp_path, DEFAULT_EXCLUDES, 1_000_000)
    assert inv.files == ("a.py", "pkg/b.py")


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _tree(outside, {"secret.py": "password = 'x'"})
    root = tmp_path / "repo"
    _tree(root, {"main.py": "print(1)"})
    os.symlink(outside, root / "linked_dir")
    os.symlink(outside / "secret.py", root / "linked_file.py")
    inv = build_inventory(root.resolve(), DEFAULT_EXCLUDES, 1_000_000)
    assert inv.files == ("main.py",)


def test_large_files_are_left_out_with_a_note(tmp_path: Path) -> None:
    _tree(tmp_path, {"big.py": "x" * 100, "small.py": "x"})
    inv = build_inventory(tmp_path, (), 50)
    assert inv.files == ("small.py",)
    assert inv.notifications[0].path == "big.py"
    assert "max_file_size" in inv.notifications[0].message


def deep_tree(root: Path, depth: int = 2100) -> str:
    """``depth`` nested folders ``a`` with ``x.py`` at the bottom: a path over PATH_MAX (4096),
    made through folder descriptors as no absolute path can reach it. Returns its relative path."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir("a", dir_fd=fd)
        below = os.open("a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = below
    out = os.open("x.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(out, b"x = 1\n")
    os.close(out)
    os.close(fd)
    return "a/" * depth + "x.py"


def remove_deep(root: Path) -> None:
    """Remove what :func:`deep_tree` made (shutil.rmtree recurses once per level, past Python's
    limit, and pytest's clean-up of old temporary folders would fail on it)."""
    fds = [os.open(root, os.O_RDONLY | os.O_DIRECTORY)]
    while True:
        try:
            fds.append(os.open("a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fds[-1]))
        except FileNotFoundError:
            break
    with contextlib.suppress(FileNotFoundError):
        os.unlink("x.py", dir_fd=fds[-1])
    for depth in range(len(fds) - 1, 0, -1):
        os.close(fds[depth])
        os.rmdir("a", dir_fd=fds[depth - 1])
    os.close(fds[0])


def test_a_path_too_long_for_the_system_is_left_out_with_a_warning(tmp_path: Path) -> None:
    """It crashed the run (ENAMETOOLONG from a stat); now the entry is skipped and counted."""
    deep = deep_tree(tmp_path)
    (tmp_path / "top.py").write_text("x = 1\n")
    try:
        inv = build_inventory(tmp_path.resolve(), (), 1_000_000)
    finally:
        remove_deep(tmp_path)
    assert "top.py" in inv.files and deep not in inv.files
    [skipped] = inv.unreadable
    assert deep.startswith(skipped + "/") and all(f.startswith("a/") or f == "top.py" for f in inv.files)
    [note] = inv.notifications
    assert note.level.value == "warning" and note.path == skipped
    assert note.message == f"not scanned: cannot be read ({os.strerror(errno.ENAMETOOLONG)})"


def test_an_unreadable_folder_is_counted_as_not_scanned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user without the right to list ``locked`` (root, which CI runs as, may read any
    folder, so the refusal is the kernel's answer put in place of it)."""
    _tree(tmp_path, {"ok.py": "x", "locked/a.py": "x"})
    real = os.scandir

    def scandir(path: Any) -> Any:
        if Path(path).name == "locked":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    inv = build_inventory(tmp_path, (), 1_000)
    assert inv.files == ("ok.py",) and inv.unreadable == ("locked",)
    [note] = inv.notifications
    assert note.path == "locked" and note.message == f"not scanned: unreadable folder ({os.strerror(errno.EACCES)})"


@pytest.mark.parametrize(
    ("path", "patterns", "expected"),
    [
        ("a/node_modules/x.js", ["node_modules"], True),
        ("tests/fixtures/x.py", ["tests/fixtures"], True),
        ("tests/fixtures/x.py", ["tests/*"], True),
        ("src/tests/x.py", ["tests/*"], False),
        ("src/app.min.js", ["*.min.js"], True),
        ("src/app.py", ["*.min.js", "docs"], False),
    ],
)
def test_exclude_patterns(path: str, patterns: list[str], expected: bool) -> None:
    assert is_excluded(path, patterns) is expected


def _reference(relpath: str, patterns: list[str]) -> bool:
    """The documented rule, one fnmatch per pattern and folder (the compiled matcher must agree)."""
    parts = relpath.split("/")
    for pattern in (p.strip("/") for p in patterns):
        if not pattern:
            continue
        if "/" in pattern:
            if any(fnmatch.fnmatchcase("/".join(parts[:d]), pattern) for d in range(1, len(parts) + 1)):
                return True
        elif any(fnmatch.fnmatchcase(part, pattern) for part in parts):
            return True
    return False


_NAMES = st.sampled_from(["a", "b", "tests", "node_modules", "x.py", "app.min.js", ".git", "[x]", "a*b"])
_PATHS = st.lists(_NAMES, min_size=1, max_size=4).map("/".join)
_PATTERNS = st.lists(
    st.sampled_from(["a", "tests/*", "*.min.js", "node_modules", "/tests/", "a/b", "*/x.py", "[!a]",
                     "?", "a*", "", "/", "**/b", "[x]", "b/*/x.py"]),
    max_size=4,
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(_PATHS, _PATTERNS)
def test_compiled_excludes_match_the_documented_rule(relpath: str, patterns: list[str]) -> None:
    assert is_excluded(relpath, patterns) is _reference(relpath, patterns)


@settings(max_examples=30, deadline=None)
@given(st.lists(_PATHS, min_size=1, max_size=8, unique=True), _PATTERNS)
def test_the_walk_skips_exactly_the_excluded_paths(paths: list[str], patterns: list[str]) -> None:
    import tempfile

    files = {p for p in paths if not any(q != p and q.startswith(p + "/") for q in paths)}  # leaves only
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _tree(root, dict.fromkeys(files, "x"))
        walked = build_inventory(root, patterns, 100).files
    assert walked == tuple(sorted(f for f in files if not _reference(f, patterns)))


def test_scanner_excludes_apply_on_top(tmp_path: Path) -> None:
    _tree(tmp_path, {"src/a.py": "", "tests/t.py": ""})
    inv = build_inventory(tmp_path, (), 100)
    assert inv.without(["tests"]) == ("src/a.py",)


def test_bad_targets(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="does not exist"):
        check_target(tmp_path / "nope")
    (tmp_path / "f").write_text("")
    with pytest.raises(TargetError, match="not a directory"):
        check_target(tmp_path / "f")
    (tmp_path / "loop1").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop1")
    for link in ("loop1", "f"):  # a loop, then a link to a missing path
        if link == "f":
            (tmp_path / "f").unlink()
            (tmp_path / "dangling").symlink_to("f")
            link = "dangling"
        with pytest.raises(TargetError, match="is a symbolic link that leads nowhere"):
            check_target(tmp_path / link)
