"""``secscan ingest``: third-party SARIF into the store, all or nothing, never a secret."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import sqlite3
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lifecycle_helpers import ASSETS, SLA, dump, result, run_cli, sarif_doc, sarif_run, write_sarif

from secscan.app import ingest, ingest_log
from secscan.core.errors import InputError, StoreError
from secscan.core.model import FindingState, ScannerStatus, ToolName
from secscan.core.policy import SeverityPolicy
from secscan.store import FindingQuery, RunOutcome, RunStatus, Store, TrackedFinding

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CANARY = "glcanary-7Qp2Vx9Lm4Rt8Zk1"


def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _ids(findings: Iterable[TrackedFinding]) -> set[str]:
    return {f.id for f in findings}


Put = Callable[..., RunOutcome]


@pytest.fixture
def put(tmp_path: Path, store: Store, policy: SeverityPolicy) -> Put:
    """Ingest a log (a file, or a document written to a new file) into target ``app``."""
    names = itertools.count()

    def put(
        log: dict[str, Any] | Path, at: datetime = T0, *, tool: str | None = None, root: Path | None = None
    ) -> RunOutcome:
        path = log if isinstance(log, Path) else write_sarif(tmp_path / f"{next(names)}.sarif", log)
        name = None if tool is None else ToolName(tool)
        return ingest.ingest_file(store, path, "app", name, at, policy, SLA, root=root)

    return put


# -- realistic fixtures ------------------------------------------------------------------------------


def test_semgrep_log_is_recorded_as_one_complete_run(store: Store, put: Put) -> None:
    outcome = put(ASSETS / "semgrep-like.sarif")
    assert outcome.run.status is RunStatus.COMPLETE
    assert [s.tool for s in outcome.run.scanners] == ["semgrep-oss"]
    tracked = store.list_findings(FindingQuery(target="app"))
    assert {(t.tool, t.path) for t in tracked} == {
        ("semgrep-oss", "app/views.py"),
        ("semgrep-oss", "app/legacy code/old.py"),
    }
    assert {t.id for t in tracked} == _ids(outcome.new)
    assert all(t.state is FindingState.NEW for t in tracked)


def test_same_log_twice_is_all_unchanged(put: Put) -> None:
    first = put(ASSETS / "semgrep-like.sarif")
    second = put(ASSETS / "semgrep-like.sarif", T0 + timedelta(hours=1))
    assert second.new == () and second.fixed == () and second.reopened == ()
    assert _ids(second.unchanged) == _ids(first.new) and len(first.new) == 2
    assert first.run.run_id != second.run.run_id


def test_results_missing_from_a_later_log_are_fixed(store: Store, put: Put) -> None:
    full = [result("r1", "a.py", 3), result("r2", "b.py", 7), result("r3", "c/d.py", 1)]
    first = put(sarif_doc(sarif_run("semgrep", full)))
    second = put(sarif_doc(sarif_run("semgrep", full[:1])), T0 + timedelta(hours=2))
    gone = {f.id for f in first.new if f.path != "a.py"}
    assert _ids(second.fixed) == gone and len(gone) == 2
    fixed = store.list_findings(FindingQuery(target="app", states=frozenset({FindingState.FIXED})))
    assert {t.path for t in fixed} == {"b.py", "c/d.py"}


def test_a_run_the_log_says_failed_closes_nothing(store: Store, put: Put) -> None:
    put(sarif_doc(sarif_run("codeql", [result("r1", "a.py", 3), result("r2", "b.py", 7)])))
    outcome = put(sarif_doc(sarif_run("codeql", [], ok=False)), T0 + timedelta(hours=1))
    assert outcome.fixed == ()
    assert outcome.run.status is RunStatus.PARTIAL
    assert outcome.run.scanners[0].status == ScannerStatus.FAILED.value
    assert all(t.is_open for t in store.list_findings(FindingQuery(target="app")))


def test_a_run_without_results_array_closes_nothing(put: Put) -> None:
    put(sarif_doc(sarif_run("t", [result("r", "a.py", 1)])))
    outcome = put(sarif_doc(sarif_run("t", None)))
    assert outcome.fixed == () and outcome.run.status is RunStatus.PARTIAL


def test_an_empty_results_array_means_nothing_found(put: Put) -> None:
    put(sarif_doc(sarif_run("t", [result("r", "a.py", 1)])))
    outcome = put(sarif_doc(sarif_run("t", [])))
    assert len(outcome.fixed) == 1


def test_a_failed_run_of_a_tool_is_not_closed_by_its_ok_run(put: Put) -> None:
    # CodeQL writes one run per language: the python run failing must keep python's findings open.
    put(
        sarif_doc(
            sarif_run("codeql", [result("py/x", "a.py", 1)]), sarif_run("codeql", [result("js/y", "b.js", 1)])
        )
    )
    outcome = put(sarif_doc(sarif_run("codeql", [], ok=False), sarif_run("codeql", [])))
    assert outcome.fixed == ()
    assert [s.tool for s in outcome.run.scanners] == ["codeql"]


def test_codeql_log_with_unsuccessful_execution_is_partial(put: Put) -> None:
    outcome = put(ASSETS / "codeql-like.sarif")
    assert outcome.run.status is RunStatus.PARTIAL
    assert {f.rule_id for f in outcome.new} == {"py/sql-injection", "py/clear-text-logging-sensitive-data"}
    assert {f.path for f in outcome.new} == {"app/db.py", "src/auth.py"}


def test_tool_name_can_be_given(store: Store, put: Put) -> None:
    put(ASSETS / "semgrep-like.sarif", tool="semgrep")
    assert {t.tool for t in store.list_findings()} == {"semgrep"}


def test_gitleaks_secret_never_reaches_the_database(db_path: Path, store: Store, put: Put) -> None:
    put(ASSETS / "gitleaks-like.sarif")
    messages = [t.message for t in store.list_findings()]
    assert len(messages) == 2 and any("[REDACTED]" in m for m in messages)
    assert not any(CANARY in line for line in dump(db_path))
    for name in (db_path, db_path.with_name(db_path.name + "-wal")):
        if name.exists():
            assert CANARY.encode() not in name.read_bytes()


def test_a_snippet_key_spelled_with_escapes_is_still_found(
    tmp_path: Path, db_path: Path, store: Store, put: Put
) -> None:
    escaped = (ASSETS / "gitleaks-like.sarif").read_text().replace('"snippet"', '"\\u0073nippet"')
    assert "snippet" not in escaped
    put(write_text(tmp_path / "escaped.sarif", escaped))
    assert any("[REDACTED]" in t.message for t in store.list_findings())
    assert not any(CANARY in line for line in dump(db_path))


def test_gzip_log_gives_the_same_findings(tmp_path: Path, put: Put) -> None:
    plain = (ASSETS / "semgrep-like.sarif").read_bytes()
    first = put(write_sarif(tmp_path / "x.sarif.gz", plain, gz=True))
    second = put(ASSETS / "semgrep-like.sarif")
    assert len(first.new) == 2 and _ids(second.unchanged) == _ids(first.new)


def test_identities_survive_moved_code_with_root(tmp_path: Path, store: Store, put: Put) -> None:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    code = "import os\n\ndef run(cmd):\n    os.system(cmd)\n"
    (root / "src/app.py").write_text(code)
    first = put(sarif_doc(sarif_run("semgrep", [result("os-system", "src/app.py", 4)])), root=root)
    (root / "src/app.py").write_text("# a\n# b\n# c\n" + code)
    moved = sarif_doc(sarif_run("semgrep", [result("os-system", "src/app.py", 7)]))
    second = put(moved, T0 + timedelta(days=1), root=root)
    assert second.new == () and second.fixed == ()
    assert _ids(second.unchanged) == _ids(first.new)
    [tracked] = store.list_findings()
    assert tracked.line == 7 and tracked.first_seen == T0


def test_suppressions_file_of_the_root_applies(tmp_path: Path, store: Store, put: Put) -> None:
    root = tmp_path / "repo"
    (root / ".secscan").mkdir(parents=True)
    (root / ".secscan/suppressions.toml").write_text(
        '[[suppression]]\nrule = "r1"\nreason = "reviewed"\nstatus = "false-positive"\n'
    )
    put(sarif_doc(sarif_run("semgrep", [result("r1", "a.py", 1), result("r2", "a.py", 2)])), root=root)
    states = {t.rule_id: t.state for t in store.list_findings()}
    assert states == {"r1": FindingState.TRIAGED, "r2": FindingState.NEW}


def test_a_suppression_that_never_expires_is_recorded_like_any_other(tmp_path: Path, store: Store, put: Put) -> None:
    """9999-12-31 has no next day: the file's "never" must not overflow (it crashed the run)."""
    root = tmp_path / "repo"
    (root / ".secscan").mkdir(parents=True)
    (root / ".secscan/suppressions.toml").write_text(
        '[[suppression]]\nrule = "r1"\nreason = "reviewed"\nexpires = 9999-12-31\n'
    )
    put(sarif_doc(sarif_run("semgrep", [result("r1", "a.py", 1)])), root=root)
    [tracked] = store.list_findings()
    assert tracked.state is FindingState.TRIAGED
    assert tracked.triage is not None and tracked.triage.until == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


# -- hostile input: one clear error, nothing written ------------------------------------------------


DEEP = b'{"version": "2.1.0", "runs": [' + b"[" * 200 + b"]" * 200 + b"]}"
HOSTILE: dict[str, tuple[bytes, str]] = {
    "malformed": (b'{"version": "2.1.0", "runs": [', "not valid JSON"),
    "non-utf8": (b'{"version": "2.1.0", "runs": [], "x": "\xff\xfe"}', "not UTF-8"),
    "deep": (DEEP, "nests deeper"),
    "old-version": (json.dumps({"version": "2.0.0", "runs": []}).encode(), "not supported"),
    "not-sarif": (b'{"hello": "world"}', "no 'runs' list"),
    "no-runs": (b'{"version": "2.1.0", "runs": []}', "no runs"),
    "bad-gzip": (b"\x1f\x8b\x08\x00garbage", "not a valid gzip file"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_file_is_one_line_error_and_nothing_is_written(tmp_path: Path, kind: str) -> None:
    data, expected = HOSTILE[kind]
    path = tmp_path / f"{kind}.sarif"
    path.write_bytes(data)
    db = tmp_path / "db" / "secscan.db"
    res = run_cli("ingest", path, "--target", "app", "--db", db)
    assert res.code == 2
    assert res.err.count("\n") == 1 and expected in res.err and str(path) in res.err
    assert res.out == ""
    assert not db.exists()  # the input is checked before the database is opened


def test_hostile_file_leaves_an_existing_database_untouched(
    tmp_path: Path, db_path: Path, store: Store, policy: SeverityPolicy, put: Put
) -> None:
    put(ASSETS / "semgrep-like.sarif")
    before = dump(db_path)
    bad = write_sarif(tmp_path / "bad.sarif", b'{"version": "2.1.0", "runs": [' + b"{" * 150)
    with pytest.raises(InputError, match=r"bad\.sarif"):
        ingest.ingest_file(store, bad, "app", None, T0, policy, SLA)
    assert dump(db_path) == before


def test_oversized_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: SeverityPolicy
) -> None:
    monkeypatch.setattr(ingest, "MAX_INGEST_BYTES", 1000)
    results = [result("r", "a.py", i) for i in range(50)]
    path = write_sarif(tmp_path / "big.sarif", sarif_doc(sarif_run("t", results)))
    with pytest.raises(InputError, match=r"big\.sarif is larger than 1000 bytes") as info:
        ingest.build_run(ingest.IngestRequest(path, "app"), T0, policy)
    assert "\n" not in str(info.value)


def test_gzip_bomb_stops_at_the_decompressed_cap(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.sarif.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        for _ in range(64):
            fh.write(b" " * (1024 * 1024))  # 64 MiB of spaces, about 64 KiB on disk
    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(InputError, match="larger than 2097152 bytes once decompressed"):
        b"".join(ingest_log.log_chunks(bomb, 2 * 1024 * 1024))


def test_gzip_under_the_cap_is_read(tmp_path: Path) -> None:
    path = write_sarif(tmp_path / "x.sarif.gz", b"{}" * 1000, gz=True)
    assert b"".join(ingest_log.log_chunks(path, 2000)) == b"{}" * 1000
    with pytest.raises(InputError):
        b"".join(ingest_log.log_chunks(path, 1999))


def test_missing_file_and_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        b"".join(ingest_log.log_chunks(tmp_path / "nope.sarif"))
    with pytest.raises(InputError, match="is a directory; it must be a regular file"):
        b"".join(ingest_log.log_chunks(tmp_path))
    os.mkfifo(tmp_path / "fifo.sarif")  # opened without blocking: refused at once, never waited on
    with pytest.raises(InputError, match=r"fifo\.sarif is a FIFO; it must be a regular file"):
        b"".join(ingest_log.log_chunks(tmp_path / "fifo.sarif"))
    with pytest.raises(InputError, match="/dev/zero is a device; it must be a regular file"):
        b"".join(ingest_log.log_chunks(Path("/dev/zero")))


def test_a_failure_inside_the_transaction_writes_nothing(
    db_path: Path, put: Put, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(ASSETS / "semgrep-like.sarif")
    before = dump(db_path)
    from secscan.store.sqlite import bulk as _bulk

    def disk_full(*_args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(_bulk, "insert_history", disk_full)
    later = sarif_doc(sarif_run("semgrep-oss", [result("new-rule", "z.py", 1)]))
    with pytest.raises(StoreError, match="disk is full"):
        put(later, T0 + timedelta(hours=1))
    assert dump(db_path) == before


# -- the command -----------------------------------------------------------------------------------------


def test_ingest_command_table_and_json(tmp_path: Path) -> None:
    db = tmp_path / "secscan.db"
    res = run_cli("ingest", ASSETS / "semgrep-like.sarif", "--target", "app", "--db", db)
    assert res.code == 0, res.err
    assert "semgrep-oss" in res.out and "2 new, 0 unchanged, 0 reopened, 0 fixed" in res.out
    again = run_cli(
        "ingest", ASSETS / "semgrep-like.sarif", "--target", "app", "--db", db, "--format", "json"
    )
    assert again.code == 0, again.err
    doc = again.json()
    assert doc["new"] == [] and len(doc["unchanged"]) == 2 and doc["status"] == "complete"
    assert doc["scanners"][0]["status"] == "ok"
    quiet = run_cli("ingest", ASSETS / "semgrep-like.sarif", "--target", "app", "--db", db, "-q")
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "")  # as `secscan run -q`: the exit code tells


def test_ingest_command_exits_3_when_the_log_says_the_tool_failed(tmp_path: Path) -> None:
    res = run_cli("ingest", ASSETS / "codeql-like.sarif", "--target", "app", "--db", tmp_path / "s.db")
    assert res.code == 3 and "failed" in res.out


def test_ingest_command_output_never_holds_the_secret(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    for fmt in ("table", "json"):
        res = run_cli(
            "ingest", ASSETS / "gitleaks-like.sarif", "--target", "app", "--db", db, "--format", fmt
        )
        assert res.code == 0 and CANARY not in res.out + res.err
    listed = run_cli("findings", "--db", db, "--format", "json")
    assert CANARY not in listed.out and len(listed.json()["findings"]) == 2


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--tool", "Bad Name"], "tool name"),
        (["--root", "/nonexistent/x"], "does not exist"),
        (["--target", ""], "target name"),
    ],
)
def test_ingest_command_usage_errors(tmp_path: Path, argv: list[str], expected: str) -> None:
    db = tmp_path / "s.db"
    base = ["ingest", str(ASSETS / "semgrep-like.sarif"), "--db", str(db)]
    res = run_cli(*base, *(argv if "--target" in argv else ["--target", "app", *argv]))
    assert res.code == 2 and expected in res.err and res.err.count("\n") == 1
    assert not db.exists()


def test_without_root_the_suppressions_file_decisions_stand(
    tmp_path: Path, store: Store, put: Put, policy: SeverityPolicy
) -> None:
    root = tmp_path / "repo"
    (root / ".secscan").mkdir(parents=True)
    (root / ".secscan/suppressions.toml").write_text(
        '[[suppression]]\nrule = "r1"\nreason = "reviewed"\nexpires = 2099-01-01\n'
    )
    put(sarif_doc(sarif_run("semgrep", [result("r1", "a.py", 1)])), root=root)
    [before] = store.list_findings()
    # Another tool's log, ingested without the checkout at hand.
    put(sarif_doc(sarif_run("gitleaks", [result("k", "b.py", 1)])), T0 + timedelta(hours=1))
    after = {t.rule_id: t for t in store.list_findings()}
    assert after["r1"].state is FindingState.TRIAGED and after["r1"].triage == before.triage
    assert [e.event.value for e in store.history(before.fingerprint)] == ["opened", "triaged"]
    # With the checkout, the file is the truth: removing the entry lifts the decision.
    (root / ".secscan/suppressions.toml").write_text("")
    put(sarif_doc(sarif_run("semgrep", [result("r1", "a.py", 1)])), T0 + timedelta(hours=2), root=root)
    assert store.get_finding(before.fingerprint).state is FindingState.UNCHANGED


def test_a_word_snippet_is_redacted_as_its_quoted_span_and_rule_texts_stay(
    tmp_path: Path, policy: SeverityPolicy
) -> None:
    """gitleaks' shape with a weak password that is a word: the quoted value goes whole; the
    rule text, which shares the word, is the tool's own and is never altered."""
    word = "passwords"
    help_text = "Hardcoded passwords in the source: rotate them and keep them in a passwords vault."
    run = sarif_run("gitleaks", [result("generic", "a.py", 3, f'found secret: db = "{word}"', snippet=word)])
    run["tool"]["driver"]["rules"] = [{"id": "generic", "help": {"text": help_text}}]
    path = write_sarif(tmp_path / "words.sarif", sarif_doc(run))
    scan = ingest.build_run(ingest.IngestRequest(path, "app"), T0, policy)
    [tool] = scan.scanners
    assert [f.message for f in tool.findings] == ['found secret: db = "[REDACTED]"']
    assert [r.help_text for r in tool.rules] == [help_text]
