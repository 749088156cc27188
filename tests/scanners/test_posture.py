"""posture: every rule against its good and bad sample trees, and the adapter around the rules."""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.config.policy import load_policy
from secscan.config.posture_rules import bundled_rules, load_rules
from secscan.config.settings import build_settings
from secscan.core.errors import ConfigError
from secscan.core.model import ScannerStatus, Severity
from secscan.fs.inventory import build_inventory
from secscan.scanners._posture_checks import Hit, Note, Tree, _name_matches, evaluate
from secscan.scanners.interface import ScanJob
from secscan.scanners.posture import PostureScanner
from secscan.scanners.runner import run_scanner

SAMPLES = Path(__file__).resolve().parents[1] / "assets" / "posture"
RULE_IDS = sorted(r.id for r in bundled_rules())


def sample_tree(tmp_path: Path, rule_id: str | None = None, kind: str = "bad") -> Path:
    """The compliant base tree, plus the sample's files, minus the paths its ``.remove`` lists."""
    root = tmp_path / f"{rule_id or 'base'}-{kind}"
    shutil.copytree(SAMPLES / "base", root)
    if rule_id is not None:
        overlay = SAMPLES / rule_id / kind
        for path in sorted(overlay.rglob("*")):
            rel = path.relative_to(overlay)
            if path.is_file() and rel.as_posix() != ".remove":
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, root / rel)
        remove = overlay / ".remove"
        for line in remove.read_text().splitlines() if remove.exists() else []:
            (root / line.strip()).unlink()
    return root


def hits(root: Path, *, repository: bool = True, **settings: tuple[str, ...]) -> dict[str, set[str]]:
    files = build_inventory(root, (".git",), 5_000_000).files
    out: dict[str, set[str]] = {}
    for rule, item in evaluate(bundled_rules(), Tree(root, files, settings), repository):
        if isinstance(item, Hit):
            out.setdefault(rule.id, set()).add(item.path)
    return out


def test_every_rule_has_a_good_and_a_bad_sample() -> None:
    assert len(RULE_IDS) >= 7
    for rule_id in RULE_IDS:
        for kind in ("good", "bad"):
            assert (SAMPLES / rule_id / kind).is_dir(), f"{rule_id} has no {kind} sample"
    assert {p.name for p in SAMPLES.iterdir() if p.is_dir()} == {*RULE_IDS, "base"}


def test_the_base_tree_passes_every_rule(tmp_path: Path) -> None:
    assert hits(sample_tree(tmp_path)) == {}


EXPECTED = {
    "security-policy-missing": {"SECURITY.md"},
    "dependency-updates-missing": {".github/dependabot.yml"},
    "codeowners-missing": {".github/CODEOWNERS"},
    "codeowners-workflows-uncovered": {".github/workflows/ci.yml"},
    "committed-binary": {"tools/helper", "tools/setup.dat", "vendor/lib.zip"},
    "committed-secret-file": {".env", "deploy/id_ed25519", "certs/server.pem"},
    "workflow-permissions-missing": {".github/workflows/release.yml"},
}


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_a_bad_sample_yields_exactly_its_rule(tmp_path: Path, rule_id: str) -> None:
    assert hits(sample_tree(tmp_path, rule_id, "bad")) == {rule_id: EXPECTED[rule_id]}


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_a_good_sample_yields_nothing(tmp_path: Path, rule_id: str) -> None:
    assert hits(sample_tree(tmp_path, rule_id, "good")) == {}


def test_binaries_under_declared_paths_are_allowed(tmp_path: Path) -> None:
    root = sample_tree(tmp_path, "committed-binary", "bad")
    assert hits(root, binary_paths=("tools/*",)) == {"committed-binary": {"vendor/lib.zip"}}
    assert hits(root, binary_paths=("tools", "vendor")) == {}


def test_repository_rules_run_only_at_a_repositorys_top(tmp_path: Path) -> None:
    root = sample_tree(tmp_path, "committed-secret-file", "bad")
    for name in ("SECURITY.md", ".github/dependabot.yml", ".github/CODEOWNERS"):
        (root / name).unlink()
    assert set(hits(root, repository=False)) == {"committed-secret-file"}


def test_a_workflow_that_is_not_yaml_is_a_notification(tmp_path: Path) -> None:
    root = sample_tree(tmp_path)
    (root / ".github" / "workflows" / "broken.yml").write_text("on: [push\npermissions: {")
    (root / ".github" / "workflows" / "deep.yml").write_text("[" * 5000 + "]" * 5000)
    files = build_inventory(root, (".git",), 5_000_000).files
    items = evaluate(bundled_rules(), Tree(root, files, {}), True)
    notes = {i.path for _, i in items if isinstance(i, Note)}
    assert notes == {".github/workflows/broken.yml", ".github/workflows/deep.yml"}
    assert not [i for _, i in items if isinstance(i, Hit)]


def job_for(root: Path, tmp_path: Path, **options: object) -> ScanJob:
    files = build_inventory(root, (".git",), 5_000_000).files
    return ScanJob(root=root, files=files, workdir=tmp_path / "work", policy=load_policy(), options=options)


def test_the_adapter_reports_missing_files_where_they_belong(tmp_path: Path) -> None:
    root = sample_tree(tmp_path, "security-policy-missing", "bad")
    (root / ".git").mkdir()  # the top of a repository
    job = job_for(root, tmp_path)
    result = run_scanner(PostureScanner(), job, 60)
    assert result.status is ScannerStatus.OK, result.reason
    [finding] = result.findings
    assert (finding.tool, finding.rule_id, finding.location.path) == (
        "posture",
        "security-policy-missing",
        "SECURITY.md",
    )
    assert finding.severity is Severity.LOW and "No security policy" in finding.message
    assert finding.identity == "posture" and finding.line_hash and finding.line_hash.endswith(":1")
    assert "SECURITY.md" in result.scope  # adding the file closes the finding
    assert [r.id for r in result.rules] == ["security-policy-missing"]
    assert result.exit_code is None  # nothing ran: the rules are evaluated in process


def test_disabled_rules_and_unknown_ones(tmp_path: Path) -> None:
    root = sample_tree(tmp_path, "committed-secret-file", "bad")
    result = run_scanner(PostureScanner(), job_for(root, tmp_path, disable=("committed-secret-file",)), 60)
    assert result.status is ScannerStatus.OK and result.findings == ()
    with pytest.raises(ConfigError, match=r"scanners\.posture\.disable.*no posture rule .committed-secrets."):
        build_settings({"scanners": {"posture": {"disable": ["committed-secrets"]}}})


def test_an_empty_target_is_skipped(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_scanner(PostureScanner(), job_for(empty, tmp_path), 60)
    assert result.status is ScannerStatus.SKIPPED and result.reason == "no files to scan"


def test_rule_files_are_validated(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    good = (SAMPLES.parents[2] / "rules" / "posture" / "security-policy.toml").read_text()
    (folder / "a.toml").write_text(good.replace('severity = "low"', 'severity = "urgent"'))
    with pytest.raises(ConfigError, match="severity 'urgent' is not a secscan severity"):
        load_rules(folder)
    (folder / "a.toml").write_text(good)
    (folder / "b.toml").write_text(good)
    with pytest.raises(ConfigError, match="used twice"):
        load_rules(folder)


_GLOB_CHARS = "aAbB.*?[]!-_~"


@given(
    name=st.text(alphabet=_GLOB_CHARS + "\n/ é", max_size=12),
    globs=st.lists(st.text(alphabet=_GLOB_CHARS, min_size=1, max_size=8), max_size=4),
)
@settings(max_examples=400, deadline=None)
def test_a_name_matches_the_first_glob_fnmatch_matches_ignoring_case(name: str, globs: list[str]) -> None:
    # the rules' globs are tested with one combined regex first; the answer is fnmatch's, glob by glob
    expected = next((g for g in globs if fnmatch.fnmatchcase(name.lower(), g.lower())), None)
    assert _name_matches(name, globs) == expected
