"""The coverage map's classification table agrees with what every built-in scanner scans."""

from __future__ import annotations

from pathlib import Path

import pytest

from secscan.app.kinds import OTHER, SECRETS, ZIZMOR_KINDS, Kinds, classify, run_kinds
from secscan.config.policy import rules_dir
from secscan.config.settings import build_settings
from secscan.scanners import zizmor
from secscan.scanners.bandit import BanditScanner
from secscan.scanners.detect_secrets import DetectSecretsScanner
from secscan.scanners.interface import Scanner
from secscan.scanners.lockfile_audit import LockfileAuditScanner
from secscan.scanners.requirement_files import DEFAULT_REQUIREMENT_GLOBS, find_requirement_files
from secscan.scanners.semgrep import SemgrepScanner
from secscan.scanners.zizmor import ZizmorScanner

TESTS = Path(__file__).resolve().parents[1]
NAMES = (  # API: README "Coverage map" lists them
    "GitHub Actions workflow",
    "GitHub Actions action",
    "Dependabot configuration",
    "npm lockfile",
    "PyPI lockfile",
    "PyPI requirements",
    "Python",
    "JavaScript",
    "TypeScript",
    "Pine Script",
    "configuration and shell",
)
TRICKY = (
    ".github/workflows/ci.yml", ".github/workflows/ci.yaml", ".github/workflows/notes.txt",
    "svc/.github/workflows/ci.yml", "action.yml", "tools/action.yaml", "action.json",
    ".github/dependabot.yml", "svc/.github/dependabot.yml", "package-lock.json", "web/yarn.lock",
    "pnpm-lock.yaml", "npm-shrinkwrap.json", "poetry.lock", "uv.lock", "Pipfile.lock", "Pipfile",
    "pylock.toml", "pylock.dev.toml", "requirements.txt", "requirements/dev.txt",
    "dev-requirements.txt", "requirements.in", "a.py", "a.pyi", "b.js", "b.min.js", "c.ts", "c.d.ts",
    "d.tsx", "e.mjs", "f.cjs", "g.jsx", "s.pine", "package.json", ".npmrc", ".yarnrc.yml", ".env",
    "prod.env", ".env.local", "Dockerfile", "Dockerfile.dev", "a.dockerfile", "run.sh", "README.md",
    "setup.cfg", "Makefile", "a.PY", "JS", "-rf.py", "dir.js/x",
)  # fmt: skip


def _corpus() -> tuple[str, ...]:
    roots = [TESTS / "assets", TESTS / "scanners" / "lockfiles", rules_dir() / "semgrep-samples"]
    found = {p.relative_to(root).as_posix() for root in roots for p in root.rglob("*") if p.is_file()}
    return tuple(sorted(found | set(TRICKY)))


@pytest.fixture(scope="module")
def kinds() -> Kinds:
    return run_kinds(build_settings({}), [])


@pytest.mark.parametrize(
    "scanner", [BanditScanner(), ZizmorScanner(), SemgrepScanner(), LockfileAuditScanner()], ids=lambda s: s.name
)
def test_every_selective_scanner_scans_exactly_the_kinds_it_is_meant_for(
    kinds: Kinds, scanner: Scanner
) -> None:
    paths = _corpus()
    classify = kinds.classifier()
    meant = tuple(p for p in paths if scanner.name in kinds.analysers(classify(p) or OTHER))
    assert scanner.scannable(paths) == meant
    assert meant, f"the corpus has no file of {scanner.name}'s kinds"


def test_pip_audit_and_detect_secrets_agree_too(kinds: Kinds) -> None:
    paths = _corpus()
    classify = kinds.classifier()
    meant = sorted(p for p in paths if kinds.analysers(classify(p) or OTHER) == ("pip-audit",))
    assert find_requirement_files(paths, DEFAULT_REQUIREMENT_GLOBS) == meant and meant
    assert DetectSecretsScanner().scannable(paths) == paths  # every file: the "secrets" line
    assert kinds.analysers(SECRETS) == ("detect-secrets",)


def test_no_file_is_claimed_by_two_scanners(kinds: Kinds) -> None:
    selective = [BanditScanner(), ZizmorScanner(), SemgrepScanner(), LockfileAuditScanner()]
    paths = _corpus()
    claims = {p: [s.name for s in selective if s.scannable([p])] for p in paths}
    claims = {p: c + (["pip-audit"] if find_requirement_files([p]) else []) for p, c in claims.items()}
    assert {p: c for p, c in claims.items() if len(c) > 1} == {}


def test_the_kind_names_are_api(kinds: Kinds) -> None:
    assert kinds.names() == NAMES
    assert {zizmor.kind(p) for p in _corpus()} - {None} == set(ZIZMOR_KINDS)
    assert [classify(p, kinds) for p in ("x.pine", "svc/action.yml", "yarn.lock", "uv.lock", "x.md")] == [
        "Pine Script",
        "GitHub Actions action",
        "npm lockfile",
        "PyPI lockfile",
        None,
    ]


def test_configured_requirement_globs_name_the_requirement_files() -> None:
    settings = build_settings({"scanners": {"pip-audit": {"requirements": ["deps/*.in"]}}})
    kinds = run_kinds(settings, [])
    assert [classify(p, kinds) for p in ("deps/base.in", "requirements.txt")] == ["PyPI requirements", None]
