from __future__ import annotations

import os
from pathlib import Path

import pytest

from secscan.errors import TargetError
from secscan.inventory import build_inventory, check_target, is_excluded
from secscan.settings import DEFAULT_EXCLUDES


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
