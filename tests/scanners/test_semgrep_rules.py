"""secscan's semgrep rule packs (rules/semgrep/): every rule is complete, has positive and negative
samples, and real semgrep finds exactly what the samples' annotations say.

Annotation convention (rules/semgrep/README.md): a comment line holding ``ruleid: <id>`` says the
next code line must be reported by rule ``<id>``; ``ok: <id>`` says it must not be. Every finding
on a sample must be annotated, so a rule that fires where it should not fails here too.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

from secscan.config.policy import load_policy, rules_dir
from secscan.core.errors import ScannerError
from secscan.core.model import ScannerStatus
from secscan.scanners._semgrep_rules import load_pack
from secscan.scanners.interface import ScanJob
from secscan.scanners.runner import run_scanner
from secscan.scanners.semgrep import SemgrepScanner

PACKS = rules_dir() / "semgrep"
SAMPLE_ROOT = rules_dir() / "semgrep-samples"
_ANNOTATION = re.compile(r"^\s*(?://|#|;|/\*|\{/\*)\s*(ruleid|ok):\s*([\w.-]+)")

Expected = set[tuple[str, int, str]]


def annotations(path: Path, name: str) -> tuple[Expected, Expected]:
    """(``ruleid`` marks, ``ok`` marks) of one sample as (file, line, rule id)."""
    found: Expected = set()
    fine: Expected = set()
    pending: list[tuple[str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = _ANNOTATION.match(line)
        if match:
            pending.append((match.group(1), match.group(2)))
            continue
        if not line.strip():
            continue
        for kind, rule_id in pending:
            (found if kind == "ruleid" else fine).add((name, number, rule_id))
        pending = []
    assert not pending, f"{name}: annotation at the end of the file annotates nothing"
    return found, fine


def samples() -> list[str]:
    return sorted(p.relative_to(SAMPLE_ROOT).as_posix() for p in SAMPLE_ROOT.rglob("*") if p.is_file())


def test_the_annotation_reader_follows_the_convention(tmp_path: Path) -> None:
    sample = tmp_path / "s.js"
    sample.write_text("// ruleid: a.b\n// ok: a.c\n\nrun(x);\n# ruleid: a.d\nother();\n")
    assert annotations(sample, "s.js") == ({("s.js", 4, "a.b"), ("s.js", 6, "a.d")}, {("s.js", 4, "a.c")})


def test_every_rule_is_complete_and_has_positive_and_negative_samples() -> None:
    pack = load_pack([PACKS])
    ids = {rule.id for rule in pack.rules}
    assert len(ids) >= 12
    folders = {p.name for p in SAMPLE_ROOT.iterdir() if p.is_dir()}
    assert folders == ids, "every rule has a semgrep-samples/<id>/ folder and every folder a rule"
    for rule in pack.rules:
        assert rule.title and rule.description and rule.remediation and rule.cwe.startswith("CWE-")
        for kind in ("positive", "negative"):
            files = [p for p in (SAMPLE_ROOT / rule.id / kind).glob("*") if p.is_file()]
            assert files, f"{rule.id} has no {kind} sample"
            for path in files:
                name = path.relative_to(SAMPLE_ROOT).as_posix()
                assert rule.applies_to(name), f"{name}: the rule does not apply to this file name"
                found, fine = annotations(path, name)
                if kind == "positive":
                    assert any(r == rule.id for _, _, r in found), f"{name} marks no 'ruleid: {rule.id}'"
                else:
                    assert not found, f"{name} is a negative sample with 'ruleid' marks"
                    assert any(r == rule.id for _, _, r in fine), f"{name} marks no 'ok: {rule.id}'"


def test_the_samples_produce_exactly_the_annotated_findings(tmp_path: Path) -> None:
    """All samples in one real semgrep run through the adapter: findings == ruleid marks."""
    files = tuple(samples())
    job = ScanJob(root=SAMPLE_ROOT, files=files, workdir=tmp_path, policy=load_policy())
    result = run_scanner(SemgrepScanner(), job, timeout_s=300)
    assert result.status is ScannerStatus.OK, result.reason
    assert result.scope == frozenset(files), "semgrep scanned every sample"
    assert result.notifications == ()
    expected: Expected = set()
    forbidden: Expected = set()
    for name in files:
        found, fine = annotations(SAMPLE_ROOT / name, name)
        expected |= found
        forbidden |= fine
    got = [(f.location.path, f.location.start_line, f.rule_id) for f in result.findings]
    assert len(got) == len(set(got)), "one finding per marked line and rule"
    assert set(got) - expected == set(), "findings without a 'ruleid' mark"
    assert expected - set(got) == set(), "'ruleid' marks without a finding"
    assert not forbidden & set(got)
    assert {f.rule_id for f in result.findings} == {r.id for r in load_pack([PACKS]).rules}


def _pack(tmp_path: Path, folder: str, name: str, text: str) -> Path:
    root = tmp_path / "packs"
    (root / folder).mkdir(parents=True, exist_ok=True)
    (root / folder / f"{name}.yml").write_text(textwrap.dedent(text))
    return root


_GOOD = """\
    rules:
      - id: js.demo
        languages: [javascript]
        severity: HIGH
        message: A demo.
        metadata: {title: Demo, description: A demo., remediation: Fix it., cwe: CWE-78, confidence: HIGH}
        pattern: eval($X)
"""


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (("id: js.demo", "id: js.other"), "its id must be 'js.demo'"),
        (("cwe: CWE-78", "cwe: injection"), "metadata.cwe must look like 'CWE-78'"),
        (("cwe: CWE-78, ", ""), "metadata.cwe is missing"),
        (("message: A demo.", "message: Found $X."), "may not interpolate metavariables"),
        (("severity: HIGH", "severity: SEVERE"), "'severity' must be one of"),
        (("confidence: HIGH", "confidence: SURE"), "metadata.confidence must be one of"),
        (("languages: [javascript]", "languages: [python]"), "language 'python' is not supported"),
        (("languages: [javascript]", "languages: [generic]"), "needs 'paths: include:'"),
    ],
)
def test_an_incomplete_rule_is_refused_with_the_file_and_the_reason(
    tmp_path: Path, change: tuple[str, str], needle: str
) -> None:
    root = _pack(tmp_path, "js", "demo", _GOOD.replace(*change))
    with pytest.raises(ScannerError) as info:
        load_pack([root])
    assert needle in str(info.value)
    assert str(root / "js" / "demo.yml") in str(info.value)


def test_a_generic_rule_needs_base_name_globs_and_a_file_kind(tmp_path: Path) -> None:
    generic = _GOOD.replace("languages: [javascript]", "languages: [generic]").replace(
        "pattern: eval($X)", "pattern-regex: secret\n        paths: {include: ['conf/*.ini']}"
    )
    with pytest.raises(ScannerError, match="not a base-name glob"):
        load_pack([_pack(tmp_path, "js", "demo", generic)])
    fixed = generic.replace("conf/*.ini", "*.ini")
    with pytest.raises(ScannerError, match=r"metadata\.file-kind is missing"):
        load_pack([_pack(tmp_path, "js", "demo", fixed)])
    named = fixed.replace("confidence: HIGH}", "confidence: HIGH, file-kind: INI}")
    pack = load_pack([_pack(tmp_path, "js", "demo", named)])
    assert pack.scannable(["a/b.ini", "b.js", "c.ini.bak"]) == ("a/b.ini",)
    assert pack.kinds(["a/b.ini", "x.ini"]) == {"INI": 2}


def test_scannable_is_decided_by_file_name_as_semgrep_decides_it() -> None:
    pack = load_pack([PACKS])
    files = [
        "src/a.js", "src/b.jsx", "c.mjs", "d.cjs", "e.ts", "f.tsx", "g.mts", "h.py", "dist/app.min.js",
        "types/index.d.ts",
        "strategies/bot.pine", "deploy/.npmrc", "Dockerfile", "ops/start.sh", "README.md", "x.json",
    ]  # fmt: skip
    assert pack.scannable(files) == (
        "src/a.js", "src/b.jsx", "c.mjs", "d.cjs", "e.ts", "f.tsx",
        "strategies/bot.pine", "deploy/.npmrc", "Dockerfile", "ops/start.sh",
    )  # fmt: skip
    assert pack.kinds(files) == {
        "JavaScript": 4,
        "TypeScript": 2,
        "Pine Script": 1,
        "configuration and shell": 3,
    }


def test_the_pack_digest_follows_the_rules(tmp_path: Path) -> None:
    copy = tmp_path / "semgrep"
    shutil.copytree(PACKS, copy)
    before = load_pack([copy]).digest
    assert before == load_pack([PACKS]).digest
    rule = copy / "js" / "code-injection.yml"
    rule.write_text(rule.read_text().replace("severity: HIGH", "severity: MEDIUM"))
    assert load_pack([copy]).digest != before
