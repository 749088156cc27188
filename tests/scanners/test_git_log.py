"""The ``git log -p`` reader: hunks, paths as git quotes them, binary files, caps."""

from __future__ import annotations

from pathlib import Path

from secscan.scanners._git_log import CommitInfo, FilePatch, header_path, read_log, unquote_path
from secscan.scanners._history_git import LOG_OPTIONS, open_repository
from tests import gitrepo

HEAD_A = "a" * 40
HEAD_B = "b" * 40


def log(text: str, **options: object) -> list[tuple[CommitInfo, list[FilePatch]]]:
    lines = [line.encode() + b"\n" for line in text.split("\n")]
    defaults: dict[str, object] = {
        "max_file_bytes": 10**6,
        "max_commit_bytes": 10**7,
        "keep_removed": lambda _: True,
    }
    return read_log(lines, **{**defaults, **options})


def test_added_and_removed_lines_with_their_numbers() -> None:
    [(commit, [file])] = log(
        f"\x01{HEAD_A} 1700000000\n"
        "diff --git a/app.py b/app.py\n"
        "index 1..2 100644\n"
        "--- a/app.py\n"
        "+++ b/app.py\n"
        "@@ -3,2 +3,0 @@ def f():\n"
        "-old = 1\n"
        "-older = 2\n"
        "@@ -10 +8,2 @@\n"
        "-x\n"
        "+token = 'abc'\n"
        "+y"
    )
    assert (commit.sha, commit.time) == (HEAD_A, 1_700_000_000)
    assert file.old == file.new == "app.py"
    assert file.removed == [(3, "old = 1\n"), (4, "older = 2\n"), (10, "x\n")]
    assert file.added == [(8, "token = 'abc'\n"), (9, "y\n")]


def test_content_that_looks_like_headers_stays_content() -> None:
    commits = log(
        f"\x01{HEAD_A} 1\n"
        "diff --git a/a.txt b/a.txt\n"
        "--- /dev/null\n"
        "+++ b/a.txt\n"
        "@@ -0,0 +1,4 @@\n"
        "++++ b/evil.txt\n"
        "+diff --git a/x b/x\n"
        f"+\x01{HEAD_B} 2\n"
        "+@@ -1 +1 @@\n"
        f"\x01{HEAD_B} 2\n"
    )
    assert [c.sha for c, _ in commits] == [HEAD_A, HEAD_B]
    [file] = commits[0][1]
    assert file.old is None and file.new == "a.txt"
    assert [t for _, t in file.added] == [
        "+++ b/evil.txt\n",
        "diff --git a/x b/x\n",
        f"\x01{HEAD_B} 2\n",
        "@@ -1 +1 @@\n",
    ]


def test_no_newline_marker_and_blank_context_lines() -> None:
    [(_, [file])] = log(
        f"\x01{HEAD_A} 1\n"
        "diff --git a/a b/a\n--- a/a\n+++ b/a\n"
        "@@ -1,3 +1,3 @@\n"
        " keep\n"
        "\n"  # a blank context line that lost its space (diff.suppressBlankEmpty)
        "-last\n"
        "\\ No newline at end of file\n"
        "+last = 1\n"
        "\\ No newline at end of file"
    )
    assert file.added == [(3, "last = 1\n")] and file.removed == [(3, "last\n")]


def test_binary_deleted_and_mode_only_changes() -> None:
    [(_, files)] = log(
        f"\x01{HEAD_A} 1\n"
        "diff --git a/img.png b/img.png\nnew file mode 100644\nindex 0..1\n"
        "Binary files /dev/null and b/img.png differ\n"
        "diff --git a/gone.py b/gone.py\ndeleted file mode 100644\n--- a/gone.py\n+++ /dev/null\n"
        "@@ -1 +0,0 @@\n-secret = 1\n"
        "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n"
    )
    png, gone, mode = files
    assert png.binary and not png.added
    assert gone.new is None and gone.removed == [(1, "secret = 1\n")]
    assert not mode.added and not mode.removed and not mode.binary


def test_quoted_and_spaced_paths() -> None:
    assert unquote_path(b'"a/tab\\there"') == "a/tab\there"
    assert unquote_path(b'"a/q\\"uote\\\\"') == 'a/q"uote\\'
    assert unquote_path(b'"a/caf\\303\\251"') == "a/café"
    assert unquote_path(b"a/plain") == "a/plain"
    assert header_path(b"+++ b/with space.py\t\n", "b/") == "with space.py"
    assert header_path(b'--- "a/new\\nline"\n', "a/") == "new\nline"
    assert header_path(b"--- /dev/null\n", "a/") is None


def test_callbacks_decide_which_lines_are_kept() -> None:
    text = (
        f"\x01{HEAD_A} 1\n"
        "diff --git a/keep.py b/keep.py\n--- a/keep.py\n+++ b/keep.py\n@@ -1 +1 @@\n-a\n+b\n"
        "diff --git a/skip.py b/skip.py\n--- a/skip.py\n+++ b/skip.py\n@@ -1 +1 @@\n-c\n+d"
    )
    [(_, [keep, skip])] = log(text, keep_added=lambda p: p == "keep.py", keep_removed=lambda p: False)
    assert keep.added == [(1, "b\n")] and keep.removed == []
    assert skip.added == [] and skip.removed == []


def test_a_file_over_its_limit_is_dropped_and_a_commit_over_its_limit_is_capped() -> None:
    body = "".join(f"+line {i}\n" for i in range(10))
    text = (
        f"\x01{HEAD_A} 1\n"
        "diff --git a/big b/big\n--- /dev/null\n+++ b/big\n@@ -0,0 +1,10 @@\n"
        + body
        + "diff --git a/small b/small\n--- /dev/null\n+++ b/small\n@@ -0,0 +1,1 @@\n+ok"
    )
    [(commit, [big, small])] = log(text, max_file_bytes=40)
    assert big.too_big and big.added == []
    assert small.added == [(1, "ok\n")] and not commit.capped
    [(capped, [first, second])] = log(text, max_commit_bytes=40)
    assert capped.capped and len(first.added) < 10 and second.added == []


def test_reads_what_the_hardened_git_prints(tmp_path: Path) -> None:
    repo = gitrepo.init(tmp_path / "r")
    gitrepo.commit(repo, {"dir/with space.py": "a = 1\nb = 2\n", 'odd"name.txt': "x\n"}, when=1_700_000_000)
    gitrepo.commit(repo, {"dir/with space.py": "a = 1\nb = 3\n", 'odd"name.txt': None}, when=1_700_000_100)
    empty = tmp_path / "empty"
    empty.mkdir()
    opened = open_repository(repo, empty)
    out = opened.run("log", "-p", *LOG_OPTIONS, "--reverse", "HEAD")
    commits = read_log(
        out.splitlines(keepends=True),
        max_file_bytes=10**6,
        max_commit_bytes=10**7,
        keep_removed=lambda _: True,
    )
    (first, added), (second, changed) = commits
    assert (first.time, second.time) == (1_700_000_000, 1_700_000_100)
    assert {f.new: f.added for f in added} == {
        "dir/with space.py": [(1, "a = 1\n"), (2, "b = 2\n")],
        'odd"name.txt': [(1, "x\n")],
    }
    assert {f.old: (f.new, f.removed, f.added) for f in changed} == {
        "dir/with space.py": ("dir/with space.py", [(2, "b = 2\n")], [(2, "b = 3\n")]),
        'odd"name.txt': (None, [(1, "x\n")], []),
    }
