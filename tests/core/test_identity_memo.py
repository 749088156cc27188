"""The memo of identities (issue 18): an answer comes back only for the same question.

A run re-uses a path's fingerprints and line hashes when the file's text and its findings are
what they were; anything the answer depends on that changes must be a miss, and a damaged entry
must be ignored. The oracles are the reference implementation of test_identity and a run
without the memo.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.config.cache import CacheConfig
from secscan.core import identity
from secscan.core.identity import assign_identities, memo_key
from secscan.core.identity_memo import memo_slot
from secscan.core.model import Finding, Severity
from secscan.fs.source_reader import source_reader
from secscan.scanners.cache import stamps
from secscan.scanners.cache.db import ResultCache
from secscan.scanners.cache.identities import IdentityEntries
from secscan.scanners.cache.session import CacheSession
from tests.core.test_identity import APP, SHIFTED, _files, _finding, _findings, _reader, _reference


@contextlib.contextmanager
def identity_memo(path: Path | None, config: CacheConfig, scope: str) -> Iterator[IdentityEntries | None]:
    """The memo as a run gets it: from its cache session (None: no cache, or one that cannot open)."""
    session = CacheSession.open(path, config) if path is not None else None
    if session is None:
        yield None
        return
    with session:
        yield session.identities(scope)


class DictMemo:
    """An in-memory memo that counts what it was asked and told."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[bytes, str]] = {}
        self.hits = 0
        self.puts = 0

    def recall(self, questions: Sequence[tuple[str, bytes]]) -> Mapping[str, str]:
        found = {s: self.entries[s][1] for s, k in questions if s in self.entries and self.entries[s][0] == k}
        self.hits += len(found)
        return found

    def remember(self, answers: Sequence[tuple[str, bytes, str]]) -> None:
        self.puts += len(answers)
        self.entries.update((slot, (key, value)) for slot, key, value in answers)


CHANGES = [
    "message", "end_line", "column", "tool_severity", "aliases", "identity", "line_hash", "rule", "severity",
]  # fmt: skip


def _changed(finding: Finding, what: str) -> Finding:
    loc = finding.location
    changes: dict[str, Finding] = {
        "message": replace(finding, message="~" + finding.message),  # orders equal contexts (after)
        "end_line": replace(finding, location=replace(loc, end_line=loc.start_line + 1)),  # the context
        "column": replace(finding, location=replace(loc, start_column=(loc.start_column or 0) + 1)),
        "tool_severity": replace(finding, tool_severity="HIGH/LOW"),
        "aliases": replace(finding, aliases=("CVE-1",)),
        "identity": replace(finding, identity="scanner's own"),
        "line_hash": replace(finding, line_hash="0:1"),
        "rule": replace(finding, rule_id=finding.rule_id + "x"),
        "severity": replace(finding, severity=Severity.LOW),
    }
    return changes[what]


@settings(max_examples=150, deadline=None)
@given(
    files=_files,
    edited=_files,
    findings=_findings,
    what=st.sampled_from(CHANGES),
    which=st.integers(min_value=0),
)
def test_a_memo_answers_as_the_reference_whatever_changed(
    files: dict[str, str], edited: dict[str, str], findings: list[Finding], what: str, which: int
) -> None:
    memo = DictMemo()
    assert list(assign_identities(findings, _reader(files), memo=memo)) == _reference(findings, files)
    assert list(assign_identities(findings, _reader(files), memo=memo)) == _reference(findings, files)
    # the file edited, then a finding's field changed: each a new question
    assert list(assign_identities(findings, _reader(edited), memo=memo)) == _reference(findings, edited)
    if findings:
        changed = list(findings)
        changed[which % len(changed)] = _changed(changed[which % len(changed)], what)
        fresh = assign_identities(changed, _reader(files))  # the reference keeps no scanner's line hash
        assert assign_identities(changed, _reader(files), memo=memo) == fresh


@pytest.mark.parametrize("what", CHANGES)
def test_a_change_to_what_an_answer_depends_on_is_a_new_question(what: str) -> None:
    # two equal findings: the first is occurrence 0; each change either alters the answer of the
    # one changed (context, rule, scanner's line hash) or orders it after the other
    findings = [_finding(4), _finding(4), _finding(7)]
    memo = DictMemo()
    assign_identities(findings, _reader({"app.py": APP}), memo=memo)
    changed = [_changed(findings[0], what), *findings[1:]]
    fresh = assign_identities(changed, _reader({"app.py": APP}))
    assert fresh != assign_identities(findings, _reader({"app.py": APP}))  # the change matters
    assert assign_identities(changed, _reader({"app.py": APP}), memo=memo) == fresh


def test_an_unchanged_path_is_answered_from_the_memo_and_a_changed_one_is_not() -> None:
    findings = [_finding(4), _finding(7), _finding(2, path="a.py")]
    files = {"app.py": APP, "a.py": "x = 1\ny()\n"}
    memo = DictMemo()
    first = assign_identities(findings, _reader(files), memo=memo)
    assert (memo.hits, memo.puts) == (0, 2)  # one answer per path
    assert assign_identities(findings, _reader(files), memo=memo) == first
    assert (memo.hits, memo.puts) == (2, 2)
    edited = {**files, "a.py": "x = 1\nz()\n"}  # same lines, other code
    again = assign_identities(findings, _reader(edited), memo=memo)
    assert (memo.hits, memo.puts) == (3, 3)
    assert again[:2] == first[:2] and again[2].fingerprint != first[2].fingerprint


def test_a_remembered_answer_is_given_back_as_it_was_stored() -> None:
    # what proves that the memo is used at all: a forged entry under the question's key wins
    findings = [_finding(4)]
    memo = DictMemo()
    forged = json.dumps([["f" * 64, "ab:1"]])
    memo.entries[memo_slot("app.py", findings)] = (memo_key("app.py", findings, APP, True), forged)
    (answer,) = assign_identities(findings, _reader({"app.py": APP}), memo=memo)
    assert (answer.fingerprint, answer.line_hash) == ("f" * 64, "ab:1")
    # without line hashes it is another question
    (other,) = assign_identities(findings, _reader({"app.py": APP}), memo=memo, line_hashes=False)
    assert other.fingerprint != "f" * 64 and other.line_hash is None


def test_a_damaged_or_foreign_entry_is_worked_out_again() -> None:
    findings = [_finding(4), _finding(7)]
    files = {"app.py": APP}
    slot, key = memo_slot("app.py", findings), memo_key("app.py", findings, APP, True)
    damaged = ("not json", "[]", '[["a", null]]', '[["a", null], ["b", 3]]', '{"a": 1}', "[[1, 2], [3, 4]]")
    for value in damaged:
        memo = DictMemo()
        memo.entries[slot] = (key, value)
        assert list(assign_identities(findings, _reader(files), memo=memo)) == _reference(findings, files)
        assert memo.entries[slot][1] != value  # and the good answer replaces it


def test_the_memo_lives_in_the_result_cache_one_answer_per_target_tool_and_path(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    findings = [_finding(4)]
    with identity_memo(path, CacheConfig(), "/src/a") as memo:
        assert memo is not None
        first = assign_identities(findings, _reader({"app.py": APP}), memo=memo)
        assign_identities(findings, _reader({"app.py": SHIFTED}), memo=memo)  # replaces the answer
    with ResultCache(path, CacheConfig().max_bytes) as cache:
        assert cache.stats().entries == 0  # not among the scanners' results (their count, eviction)
        assert cache._conn.execute("SELECT COUNT(*) FROM memo").fetchone()[0] == 1
    question = [(memo_slot("app.py", findings), memo_key("app.py", findings, SHIFTED, True))]
    with identity_memo(path, CacheConfig(), "/src/a") as memo:
        assert memo is not None and memo.recall(question)
        assert assign_identities(findings, _reader({"app.py": APP}), memo=memo) == first
    with identity_memo(path, CacheConfig(), "/src/b") as memo:  # another target's answers are its own
        assert memo is not None and not memo.recall(question)
    with identity_memo(None, CacheConfig(), "/src/a") as memo:  # a run without the cache
        assert memo is None
    (tmp_path / "folder.db").mkdir()
    with identity_memo(tmp_path / "folder.db", CacheConfig(), "/src/a") as memo:  # cannot be opened
        assert memo is None


def test_a_name_that_is_not_utf8_is_kept_too(tmp_path: Path) -> None:
    # undecodable bytes arrive as surrogates, in the target's folder and in the file's path
    findings = [_finding(4, path="b\udcff.py")]
    files = {"b\udcff.py": APP}
    with identity_memo(tmp_path / "cache.db", CacheConfig(), "/src/\udcfe") as memo:
        first = assign_identities(findings, _reader(files), memo=memo)
    with identity_memo(tmp_path / "cache.db", CacheConfig(), "/src/\udcfe") as memo:
        question = (memo_slot("b\udcff.py", findings), memo_key("b\udcff.py", findings, APP, True))
        assert memo is not None and memo.recall([question])
        assert assign_identities(findings, _reader(files), memo=memo) == first


@pytest.mark.parametrize(("paths", "chars"), [(1, 10**9), (2, 10**9), (256, 1)])
def test_answers_are_the_same_however_the_paths_are_chunked(
    monkeypatch: pytest.MonkeyPatch, paths: int, chars: int
) -> None:
    # a chunk (one look-up) ends after so many paths or so much text: its answers stay in order
    monkeypatch.setattr(identity, "_MEMO_CHUNK", paths)
    monkeypatch.setattr(identity, "_MEMO_CHUNK_CHARS", chars)
    files = {"app.py": APP, "a.py": "x = 1\ny()\n", "b.py": SHIFTED}
    findings = [_finding(4), _finding(2, path="a.py"), _finding(8, path="b.py"), _finding(7)]
    findings.append(_finding(9, path="c.py"))  # cannot be read
    memo = DictMemo()
    expected = assign_identities(findings, _reader(files))
    assert assign_identities(findings, _reader(files), memo=memo) == expected
    assert assign_identities(findings, _reader(files), memo=memo) == expected
    assert (memo.puts, memo.hits) == (4, 4)


def _digests(files: Mapping[str, str | bytes]) -> identity.TextDigests:
    """Digests as the result cache's stamps give them: of the files' bytes (UTF-8 for a str)."""

    def digests(paths: Sequence[str]) -> dict[str, str]:
        out = {}
        for p in paths:
            if p in files:
                data = files[p]
                out[p] = hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()
        return out

    return digests


def _counting_reader(files: Mapping[str, str | bytes], reads: list[str]) -> identity.ReadText:
    def read(path: str) -> str | None:
        reads.append(path)
        data = files.get(path)
        return data.decode("utf-8", "replace") if isinstance(data, bytes) else data

    return read


def test_a_path_whose_digest_is_known_is_answered_without_reading_it() -> None:
    findings = [_finding(4), _finding(2, path="a.py"), _finding(9, path="c.py")]  # c.py cannot be read
    files: dict[str, str | bytes] = {"app.py": APP, "a.py": "x = 1\ny()\n"}
    memo = DictMemo()
    reads: list[str] = []

    def run() -> list[Finding]:
        reads.clear()
        digests = _digests(files)
        return list(assign_identities(findings, _counting_reader(files, reads), memo=memo, digests=digests))

    expected = _reference(findings, {k: str(v) for k, v in files.items()})
    assert run() == expected and sorted(reads) == ["a.py", "app.py", "c.py"]  # nothing remembered yet
    assert run() == expected and reads == ["c.py"]  # the digests answered for the others
    files["a.py"] = "x = 1\nz()\n"  # the digest changes with the text: read, worked out afresh
    assert run() == _reference(findings, {k: str(v) for k, v in files.items()})
    assert sorted(reads) == ["a.py", "c.py"]


def test_a_file_that_is_not_utf8_is_answered_from_its_text() -> None:
    # its bytes' digest is not its text's: the memo never answers it from the digest, so it is read
    findings = [_finding(1, path="bad.py")]
    files: dict[str, str | bytes] = {"bad.py": b"x = '\xff'\n"}
    memo = DictMemo()
    expected = list(assign_identities(findings, _reader({"bad.py": "x = '\ufffd'\n"})))
    for _ in range(2):
        reads: list[str] = []
        digests = _digests(files)
        got = assign_identities(findings, _counting_reader(files, reads), memo=memo, digests=digests)
        assert list(got) == expected and reads == ["bad.py"]


@settings(max_examples=80, deadline=None)
@given(files=_files, edited=_files, findings=_findings)
def test_with_digests_the_memo_still_answers_as_the_reference(
    files: dict[str, str], edited: dict[str, str], findings: list[Finding]
) -> None:
    memo = DictMemo()
    for tree in (files, edited, files):
        got = assign_identities(findings, _reader(tree), memo=memo, digests=_digests(dict(tree)))
        assert list(got) == _reference(findings, tree)


def test_through_the_result_cache_a_rewritten_file_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the digests of the pipeline: the files' stamps, each trusted once taken (a clock an hour
    # ahead); an edit that keeps the size and the mtime must still be seen
    monkeypatch.setattr(stamps, "_clock", lambda: time.time_ns() + 3600 * 10**9)
    root = tmp_path / "src"
    root.mkdir()
    (root / "app.py").write_text(APP)
    (root / "link.py").symlink_to(root / "app.py")
    findings = [_finding(4), _finding(4, path="link.py")]
    reads: list[str] = []

    def run() -> list[Finding]:
        reader = source_reader(root)

        def read(path: str) -> str | None:
            reads.append(path)
            return reader(path)

        with identity_memo(tmp_path / "cache.db", CacheConfig(), str(root)) as memo:
            assert memo is not None
            digests = memo.text_digests(reader.base, reader.in_place)
            return list(assign_identities(findings, read, memo=memo, digests=digests))

    first = run()
    reads.clear()
    assert run() == first and reads == ["link.py"]  # a link is always read (it may lead elsewhere)
    time.sleep(0.03)  # a later tick of the file system's clock
    before = (root / "app.py").stat()
    (root / "app.py").write_text(APP.replace("cmd", "arg"))  # the same size
    os.utime(root / "app.py", ns=(before.st_atime_ns, before.st_mtime_ns))
    reads.clear()
    changed = run()
    assert sorted(reads) == ["app.py", "link.py"]
    edited = APP.replace("cmd", "arg")
    assert changed == _reference(findings, {"app.py": edited, "link.py": edited})
