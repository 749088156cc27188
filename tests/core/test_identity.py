"""Finding identity: fingerprints survive moved code, and GitHub line hashes are filled."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.core.identity import (
    FINGERPRINT_VERSION,
    ReadText,
    _order_key,
    assign_identities,
    code_context,
    fingerprint,
)
from secscan.core.linehash import line_hashes
from secscan.core.model import Finding, Location, Severity, ToolName
from secscan.fs.source_reader import source_reader

APP = """import subprocess

def run(cmd):
    return subprocess.call(cmd, shell=True)

def again(cmd):
    return   subprocess.call(cmd,\tshell=True)
"""
SHIFTED = "# a new header\n\n\nimport os\n" + APP


def _reader(files: Mapping[str, str]) -> ReadText:
    calls: Counter[str] = Counter()

    def read(path: str) -> str | None:
        calls[path] += 1
        assert calls[path] == 1, f"{path} read twice"
        return files.get(path)

    return read


def _finding(line: int, *, path: str = "app.py", rule: str = "B602", tool: str = "bandit",
             column: int | None = 12, identity: str | None = None, message: str = "shell=True") -> Finding:
    return Finding(
        tool=ToolName(tool),
        rule_id=rule,
        message=message,
        location=Location(path=path, start_line=line, start_column=column),
        severity=Severity.HIGH,
        identity=identity,
    )


def test_context_is_normalised_source_lines() -> None:
    lines = APP.split("\n")
    assert code_context(lines, Location("app.py", 7)) == "return subprocess.call(cmd, shell=True)"
    assert code_context(lines, Location("app.py", 3, end_line=4)) == (
        "def run(cmd):\nreturn subprocess.call(cmd, shell=True)"
    )
    assert code_context(lines, Location("app.py", 500)) == ""


def test_identical_code_twice_gets_distinct_fingerprints_in_position_order() -> None:
    result = assign_identities([_finding(7), _finding(4)], _reader({"app.py": APP}))
    context = "return subprocess.call(cmd, shell=True)"
    assert result[1].fingerprint == fingerprint("bandit", "B602", "app.py", context, 0)
    assert result[0].fingerprint == fingerprint("bandit", "B602", "app.py", context, 1)
    assert len(result[0].fingerprint) == 64
    assert result[0].id == result[0].fingerprint[:16]


def test_moved_code_keeps_fingerprint_and_line_hash() -> None:
    old = [_finding(4), _finding(7), _finding(1, rule="B404")]
    new = [_finding(8), _finding(11), _finding(5, rule="B404")]  # four lines inserted above
    before = assign_identities(old, _reader({"app.py": APP}))
    after = assign_identities(new, _reader({"app.py": SHIFTED}))
    assert [f.fingerprint for f in before] == [f.fingerprint for f in after]
    assert [f.line_hash for f in before] == [f.line_hash for f in after]
    assert before[0].line_hash == line_hashes(APP)[3]


def test_message_column_and_line_do_not_change_the_fingerprint() -> None:
    base = assign_identities([_finding(4)], _reader({"app.py": APP}))[0]
    other = assign_identities([_finding(4, message="reworded", column=None)], _reader({"app.py": APP}))[0]
    assert base.fingerprint == other.fingerprint


def test_path_rule_tool_and_code_are_part_of_the_identity() -> None:
    files = {"app.py": APP, "lib/app.py": APP}
    prints = {
        f.fingerprint
        for f in assign_identities(
            [
                _finding(4),
                _finding(4, path="lib/app.py"),
                _finding(4, rule="B603"),
                _finding(4, tool="other"),
                _finding(3),
            ],
            _reader(files),
        )
    }
    assert len(prints) == 5


def test_scanner_identity_replaces_the_code_context() -> None:
    secret_hash = "25910f981e85ca04baf359199dd0bd4a3ae738b6"
    before = assign_identities(
        [_finding(1, tool="detect-secrets", rule="AWS Access Key", identity=secret_hash)],
        _reader({"app.py": APP}),
    )[0]
    after = assign_identities(
        [_finding(30, tool="detect-secrets", rule="AWS Access Key", identity=secret_hash)],
        _reader({"app.py": APP * 5}),
    )[0]
    assert before.fingerprint == after.fingerprint
    assert before.fingerprint == fingerprint("detect-secrets", "AWS Access Key", "app.py", secret_hash, 0)


def test_unreadable_file_or_line_outside_it_gets_no_line_hash() -> None:
    findings = [_finding(4, path="gone.py"), _finding(99), _finding(0)]
    result = assign_identities(findings, _reader({"app.py": APP}))
    assert [f.line_hash for f in result] == [None, None, None]
    assert result[0].fingerprint == fingerprint("bandit", "B602", "gone.py", "", 0)
    assert all(f.fingerprint for f in result)


def test_reader_exceptions_count_as_unreadable() -> None:
    def broken(path: str) -> str | None:
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    assert assign_identities([_finding(4)], broken)[0].line_hash is None


def test_fingerprint_encoding_is_versioned_and_unambiguous() -> None:
    assert FINGERPRINT_VERSION == "secscan/v1"
    assert fingerprint("a", "b:c", "p", "x", 0) != fingerprint("a:b", "c", "p", "x", 0)
    assert fingerprint("a", "b", "p", "x", 1) != fingerprint("a", "b", "p", "x", 0)


def test_source_reader_keeps_line_ends_and_stays_under_root(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_bytes(b"x = 1\r\ny = '\xff'\r")
    (tmp_path.parent / "outside.py").write_text("secret")
    read = source_reader(tmp_path)
    assert read("src/a.py") == "x = 1\r\ny = '\ufffd'\r"
    assert read("missing.py") is None
    assert read("src") is None
    assert read("../outside.py") is None


_files = st.fixed_dictionaries(
    {
        "a.py": st.lists(st.sampled_from(["x = 1", "  x =  1", "y()", "", "# c"]), max_size=12).map(
            "\n".join
        ),
        "b.py": st.just(APP),
    }
)
_findings = st.lists(
    st.builds(
        _finding,
        st.integers(min_value=0, max_value=14),
        path=st.sampled_from(["a.py", "b.py", "c.py"]),
        rule=st.sampled_from(["B1", "B2"]),
        column=st.none() | st.integers(min_value=1, max_value=3),
        message=st.sampled_from(["m", "n"]),
    ),
    max_size=20,
)


@settings(max_examples=150, deadline=None)
@given(files=_files, findings=_findings, seed=st.integers())
def test_input_order_does_not_change_identities(
    files: dict[str, str], findings: list[Finding], seed: int
) -> None:
    shuffled = list(findings)
    random.Random(seed).shuffle(shuffled)
    first = assign_identities(findings, _reader(files))
    second = assign_identities(shuffled, _reader(files))
    assert Counter(first) == Counter(second)
    assert [replace(f, fingerprint="", line_hash=None) for f in first] == findings
    # Every finding gets its own fingerprint, exact duplicates included (occurrence index).
    assert len({f.fingerprint for f in first}) == len(first)


_text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)


@settings(max_examples=200, deadline=None)
@given(tool=_text, rule=_text, path=_text, context=_text, occurrence=st.integers(0, 10**6))
def test_fingerprint_material_is_the_json_list(
    tool: str, rule: str, path: str, context: str, occurrence: int
) -> None:
    material = json.dumps([FINGERPRINT_VERSION, tool, rule, path, context, occurrence])
    assert fingerprint(tool, rule, path, context, occurrence) == hashlib.sha256(material.encode()).hexdigest()
    found = assign_identities([_finding(1, path=path, rule=rule, tool=tool)], lambda _p: None)
    empty = json.dumps([FINGERPRINT_VERSION, tool, rule, path, "", 0])
    assert found[0].fingerprint == hashlib.sha256(empty.encode()).hexdigest()


def test_line_hashes_can_be_left_out() -> None:
    with_hashes = assign_identities([_finding(4), _finding(7)], _reader({"app.py": APP}))
    without = assign_identities([_finding(4), _finding(7)], _reader({"app.py": APP}), line_hashes=False)
    assert [f.fingerprint for f in without] == [f.fingerprint for f in with_hashes]
    assert [f.line_hash for f in without] == [None, None]
    assert all(f.line_hash for f in with_hashes)


def test_source_reader_follows_symlinks_only_inside_the_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "src").mkdir(parents=True)
    outside.mkdir()
    (root / "src" / "a.py").write_text("inside")
    (outside / "b.py").write_text("secret")
    (root / "src" / "link.py").symlink_to(root / "src" / "a.py")
    (root / "src" / "out.py").symlink_to(outside / "b.py")
    (root / "dirlink").symlink_to(outside)
    (root / "inner").symlink_to(root / "src")
    read = source_reader(root)
    assert [read(p) for p in ("src/a.py", "src/link.py", "inner/a.py", "src/../src/a.py")] == ["inside"] * 4
    assert [read(p) for p in ("src/out.py", "dirlink/b.py", "src/..", "..", "/etc/passwd")] == [None] * 5


def _reference(findings: list[Finding], files: Mapping[str, str]) -> list[Finding]:
    """The first implementation of assign_identities (one pass per concern), as an oracle."""
    lines = {path: text.replace("\r\n", "\n").replace("\r", "\n").split("\n") for path, text in files.items()}
    contexts = [
        f.identity if f.identity is not None else code_context(lines.get(f.location.path, []), f.location)
        for f in findings
    ]
    groups: dict[tuple[str, str, str, str], list[int]] = {}
    for index, (f, context) in enumerate(zip(findings, contexts, strict=True)):
        groups.setdefault((f.tool, f.rule_id, f.location.path, context), []).append(index)
    fingerprints: dict[int, str] = {}
    for (tool, rule, path, context), members in groups.items():
        ordered = sorted(members, key=lambda i: _order_key(findings[i]))
        for occurrence, index in enumerate(ordered):
            fingerprints[index] = fingerprint(tool, rule, path, context, occurrence)
    out = []
    for index, f in enumerate(findings):
        text = files.get(f.location.path)
        hashes = dict(enumerate(line_hashes(text), start=1)) if text is not None else {}
        out.append(replace(f, fingerprint=fingerprints[index], line_hash=hashes.get(f.location.start_line)))
    return out


@settings(max_examples=150, deadline=None)
@given(files=_files, findings=_findings)
def test_identities_equal_the_reference(files: dict[str, str], findings: list[Finding]) -> None:
    assert list(assign_identities(findings, _reader(files))) == _reference(findings, files)


def test_in_place_is_said_only_of_paths_read_where_they_stand(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("a\n")
    (root / "pkg" / "sub" / "b.py").write_text("b\n")
    (tmp_path / "outside.py").write_text("o\n")
    (root / "linked").symlink_to(root / "pkg")  # a folder link
    (root / "pkg" / "link.py").symlink_to(root / "pkg" / "a.py")
    (root / "pkg" / "out.py").symlink_to(tmp_path / "outside.py")
    reader = source_reader(root)
    plain = {"pkg/a.py", "pkg/sub/b.py", "pkg/missing.py"}
    others = {"linked/a.py", "pkg/link.py", "pkg/out.py", "pkg/../pkg/a.py", "pkg/./a.py", "pkg//a.py",
              "../outside.py", "/etc/passwd", "", "pkg/"}  # fmt: skip
    assert {p for p in plain | others if reader.in_place(p)} == plain
    for path in plain:  # where it stands: the reader reads root/path itself
        assert reader(path) == ((root / path).read_text() if (root / path).exists() else None)
