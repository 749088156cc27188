"""Third-party SARIF -> Findings: realistic fixtures, hostile input, redaction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.config.policy import load_policy
from secscan.core.errors import InputError
from secscan.core.model import Location, NotificationLevel, Severity, ToolName
from secscan.scanners._sarif_window import MAX_DEPTH, DepthGuard
from secscan.scanners.sarif_input import ParsedRun, parse_run, parse_sarif
from secscan.scanners.sarif_load import chunked, stream_runs
from tests.conftest import schema_errors

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "sarif"
ROOT = Path("/srv/checkout")
CANARY = "glcanary-7Qp2Vx9Lm4Rt8Zk1"
POLICY = load_policy()


def _parse(name: str, **kw: Any) -> list[ParsedRun]:
    kw.setdefault("tool", None)
    return parse_sarif((ASSETS / name).read_bytes(), root=ROOT, policy=POLICY, **kw)


def _redact(text: str) -> str:
    return text.replace(CANARY, "[REDACTED]")


def _sarif(results: list[Any], **run: Any) -> bytes:
    doc = {
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "t", "rules": []}}, "results": results, **run}],
    }
    return json.dumps(doc).encode()


def _result(uri: str, **extra: Any) -> dict[str, Any]:
    location = {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 3}}}
    return {"ruleId": "R1", "message": {"text": "m"}, "locations": [location], **extra}


@pytest.mark.parametrize("name", ["semgrep-like.sarif", "gitleaks-like.sarif", "codeql-like.sarif"])
def test_fixtures_are_valid_sarif(name: str, sarif_validator: Any) -> None:
    assert schema_errors(sarif_validator, json.loads((ASSETS / name).read_text())) == []


def test_semgrep_like_run() -> None:
    [run] = _parse("semgrep-like.sarif")
    assert (run.tool, run.version) == ("semgrep-oss", "1.185.0")
    shell = "python.lang.security.audit.subprocess-shell-true.subprocess-shell-true"
    md5 = "python.lang.security.insecure-hash-algorithms-md5.insecure-hash-algorithm-md5"
    assert [(f.rule_id, f.location, f.severity, f.tool_severity) for f in run.findings] == [
        (shell, Location("app/views.py", 12, 12, 12, 44), Severity.HIGH, "security-severity 7.5"),
        (md5, Location("app/models.py", 40, 9, 41, 2), Severity.MEDIUM, "warning"),  # file:// under the root
        (md5, Location("app/legacy code/old.py", 5), Severity.MEDIUM, "warning"),  # %-decoded
    ]
    assert all(f.identity is None and f.tool == "semgrep-oss" for f in run.findings)
    assert run.findings[0].message.startswith("Found 'subprocess' function 'call' with 'shell=True'.")
    rules = {r.id: r for r in run.rules}
    assert set(rules) == {shell, md5}  # only the rules results refer to
    assert rules[shell].help_text.startswith("Found 'subprocess' function with 'shell=True'. Use")
    assert rules[shell].help_uri is not None and rules[shell].help_uri.startswith("https://semgrep.dev/r/")
    assert rules[shell].tags == ("CWE-78: OS Command Injection", "HIGH CONFIDENCE", "security")
    skipped = [n.message for n in run.notifications if "skipped" in n.message]
    assert len(skipped) == 3 and all("outside the scanned root" in m for m in skipped)
    [syntax] = [n for n in run.notifications if n.level is NotificationLevel.ERROR]
    assert (syntax.path, syntax.line) == ("app/broken.py", 3)


def test_gitleaks_secret_never_leaves_with_redaction() -> None:
    runs = _parse("gitleaks-like.sarif", tool=ToolName("gitleaks"), redact=_redact)
    leaked = CANARY in repr(runs)
    assert not leaked, "the planted secret came out of parse_sarif"
    [run] = runs
    assert [(f.rule_id, f.location.path, f.location.start_line) for f in run.findings] == [
        ("generic-api-key", "config/settings.py", 7),
        ("aws-access-token", "deploy/env.sh", 2),
    ]
    assert run.findings[0].message.endswith('api_key = "[REDACTED]"')
    assert run.version == "v8.18.2"


def test_snippets_and_context_are_never_copied_even_without_redaction() -> None:
    [run] = _parse("gitleaks-like.sarif", tool=ToolName("gitleaks"))
    # The message itself carries the secret (only redaction removes it) ...
    assert sum(CANARY in f.message for f in run.findings) == 1
    # ... but the second result has it only in its snippet, which is never read.
    leaked = CANARY in repr(run.findings[1]) or "AKIA" in repr(run)
    assert not leaked


def test_codeql_like_run_with_extensions_message_strings_and_base_ids() -> None:
    [run] = _parse("codeql-like.sarif")
    assert run.tool == "codeql"
    assert [
        (f.rule_id, f.location.path, f.location.start_line, f.severity, f.message) for f in run.findings
    ] == [
        (
            "py/sql-injection",
            "app/db.py",
            31,
            Severity.CRITICAL,
            "This SQL query depends on a user-provided value.",
        ),
        (
            "py/clear-text-logging-sensitive-data",
            "src/auth.py",
            9,
            Severity.HIGH,
            "This expression logs [sensitive data (password)](1) as clear text.",
        ),
    ]
    assert {r.id: r.short_description for r in run.rules} == {
        "py/sql-injection": "SQL query built from user-controlled sources",
        "py/clear-text-logging-sensitive-data": "Clear-text logging of sensitive information",
    }
    messages = [n.message for n in run.notifications]
    assert "codeql: result skipped: it has no rule id" in messages
    assert "codeql: result of rule py/sql-injection skipped: it has no file location" in messages
    assert "codeql reported that its execution was not successful" in messages
    assert "codeql: Could not process some files due to syntax errors." in messages


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("src/a.py", "src/a.py"),
        ("./src/../src/a.py", "src/a.py"),
        ("file:///srv/checkout/src/a.py", "src/a.py"),
        ("file://localhost/srv/checkout/src/a.py", "src/a.py"),
        ("/srv/checkout/src/a.py", "src/a.py"),
        ("src/a%20b.py", "src/a b.py"),
        ("file:///srv/checkout", None),
        ("file:///srv/checkout2/a.py", None),
        ("file:///srv/checkout/../etc/passwd", None),
        ("file://otherhost/srv/checkout/a.py", None),
        ("../a.py", None),
        ("..", None),
        ("", None),
        ("https://example.invalid/a.py", None),
        ("/etc/passwd", None),
    ],
)
def test_uri_resolution(uri: str, path: str | None) -> None:
    [run] = parse_sarif(_sarif([_result(uri)]), tool=ToolName("t"), root=ROOT, policy=POLICY)
    assert [f.location.path for f in run.findings] == ([path] if path else [])
    assert len(run.notifications) == (0 if path else 1)


def test_symlinked_root_is_recognised(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    data = _sarif([_result((tmp_path / "real" / "a.py").as_uri())])
    [run] = parse_sarif(data, tool=ToolName("t"), root=tmp_path / "link", policy=POLICY)
    assert [f.location.path for f in run.findings] == ["a.py"]


def test_results_that_are_not_findings_are_skipped_silently() -> None:
    results = [
        _result("a.py", kind="pass"),
        _result("a.py", kind="notApplicable"),
        _result("a.py", baselineState="absent"),
        _result("a.py", suppressions=[{"kind": "external", "status": "accepted"}]),
        _result("b.py", suppressions=[{"kind": "external", "status": "rejected"}]),
        _result("c.py", kind="review", level="note"),
    ]
    [run] = parse_sarif(_sarif(results), tool=ToolName("t"), root=ROOT, policy=POLICY)
    assert [(f.location.path, f.severity) for f in run.findings] == [
        ("b.py", Severity.MEDIUM),
        ("c.py", Severity.LOW),
    ]
    assert run.notifications == ()


def test_garbage_fields_do_not_crash() -> None:
    results = [
        {"ruleId": 5, "message": "x", "locations": "nope"},
        {
            "ruleId": "R",
            "message": {"text": 3},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": 7}}}],
        },
        {
            "ruleId": "R",
            "ruleIndex": 99,
            "message": {"id": "missing", "arguments": "x"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "a.py"},
                        "region": {"startLine": 0, "startColumn": True, "endLine": -4},
                    }
                }
            ],
        },
        "not an object",
    ]
    [run] = parse_sarif(_sarif(results, invocations="x"), tool=None, root=ROOT, policy=POLICY)
    assert [(f.rule_id, f.location, f.message) for f in run.findings] == [("R", Location("a.py", 1), "R")]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"version": "2.1.0", "runs": [', "not valid JSON"),
        (b"[]", "no 'runs' list"),
        (b'{"version": "2.0.0", "runs": []}', "not supported"),
        (b'{"runs": []}', "not supported"),
        (
            b'{"version": "2.1.0", "runs": [' + b"[" * (MAX_DEPTH + 5) + b"]" * (MAX_DEPTH + 5) + b"]}",
            "nests deeper",
        ),
        (b'{"version": "2.1.0", "runs": [' + b"[" * 100_000, "nests deeper"),
        # a missing separator, in an object, in the list of runs and in a run's results
        (b'{"version": "2.1.0" "runs": []}', r"expected ',' or '\}' \(character 20\)"),
        (b'{"version": "2.1.0", "runs": [{"results": []} {}]}', r"expected ',' or '\]' \(character 46\)"),
        (b'{"version": "2.1.0", "runs": [{"results": [{"ruleId": "R"} {}]}]}',
         r"expected ',' or '\]' \(character 59\)"),
    ],
)
def test_malformed_logs_raise_input_error(data: bytes, match: str) -> None:
    with pytest.raises(InputError, match=match):
        parse_sarif(data, tool=None, root=ROOT, policy=POLICY)


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ('"' + "[" * 150 + '"', False),  # inside a string
        ('"\\\\"' + "[" * 150 + "]" * 150, True),  # an escaped backslash ends the string
        ('"\\"' + "[" * 150 + '"', False),  # an escaped quote does not
        ('"\\\\\\"' + "[" * 150 + '"', False),  # backslash, then escaped quote
        ('"a""' + "[" * 150 + '"', False),  # adjacent strings
    ],
)
def test_depth_is_counted_outside_strings(text: str, deep: bool) -> None:
    data = ("[" + text + "]").encode()
    for cut in range(len(data) + 1):  # the same verdict wherever a chunk ends
        guard = DepthGuard(limit=10_000)
        guard.feed(data[:cut])
        guard.feed(data[cut:])
        assert (guard.deepest > MAX_DEPTH) is deep, cut


@pytest.mark.parametrize("size", [1, 7, 64, 4096])
def test_the_log_reads_the_same_in_any_chunks(size: int) -> None:
    data = (ASSETS / "codeql-like.sarif").read_bytes()
    whole = parse_sarif(data, tool=None, root=ROOT, policy=POLICY, redact=_redact)
    runs = stream_runs(chunked(data, size), max_results=100_000)
    assert [parse_run(r, tool=None, root=ROOT, policy=POLICY, redact=_redact) for r in runs] == whole


def test_each_distinct_text_is_redacted_once() -> None:
    calls: list[str] = []

    def redact(text: str) -> str:
        calls.append(text)
        return text.replace("m", "[REDACTED]")

    results = [_result("a.py"), _result("a.py"), _result("b.py", message={"text": "n"})]
    [run] = parse_sarif(_sarif(results), tool=None, root=ROOT, policy=POLICY, redact=redact)
    assert [f.message for f in run.findings] == ["[REDACTED]", "[REDACTED]", "n"]
    assert sorted(calls) == sorted(set(calls))


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = "[" * (MAX_DEPTH * 2) + '\\"'
    [run] = parse_sarif(
        _sarif([_result("a.py", message={"text": text})]), tool=None, root=ROOT, policy=POLICY
    )
    assert run.findings[0].message.startswith("[[[")


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from(["", "a.py", "R", "error", "file:///x", "0"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "ruleId",
                    "message",
                    "text",
                    "locations",
                    "physicalLocation",
                    "artifactLocation",
                    "uri",
                    "region",
                    "startLine",
                    "index",
                    "rule",
                    "kind",
                    "level",
                    "id",
                    "arguments",
                    "uriBaseId",
                    "suppressions",
                    "toolComponent",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    results=st.lists(_json, max_size=4),
    run_extra=st.dictionaries(
        st.sampled_from(["artifacts", "originalUriBaseIds", "invocations", "tool"]), _json, max_size=2
    ),
)
def test_arbitrary_structures_never_crash(results: list[Any], run_extra: dict[str, Any]) -> None:
    runs = parse_sarif(_sarif(results, **run_extra), tool=None, root=ROOT, policy=POLICY)
    for finding in runs[0].findings:
        assert not finding.location.path.startswith(("/", "../")) and finding.location.start_line >= 1
