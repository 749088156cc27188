"""lockfile-audit end to end: the real scanner process over real lockfiles and a handmade OSV
database of several ecosystems (tests/scanners/lockfiles/osv, folder or zip)."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from secscan.app import run as app
from secscan.app.pipeline import run_scan
from secscan.config.settings import Settings, build_settings
from secscan.core.errors import InputError
from secscan.core.model import Finding, NotificationLevel, ScannerResult, ScannerStatus, Severity
from secscan.scanners._lockfile_audit_main import read_capped
from tests.conftest import multitool_errors, schema_errors

FIXTURES = Path(__file__).resolve().parent / "lockfiles"
DB = FIXTURES / "osv"
ONLY = ("lockfile-audit",)

SHOP = {  # the npm project of every npm fixture but npm-v1
    ("@octokit/request-error", "5.0.0", "x_NPM-OCTO-1"),
    ("multer", "1.4.4-lts.1", "x_NPM-MULTER-1"),
    ("prismjs", "1.29.0", "x_NPM-PRISM-1"),
    ("string-width", "4.2.0", "x_NPM-SW-1"),
    ("tmp", "0.2.1", "x_NPM-TMP-1"),
    ("tmp", "0.2.3", "x_NPM-TMP-1"),
}
LEGACY = {  # npm-v1
    ("@octokit/request-error", "2.1.0", "x_NPM-OCTO-1"),
    ("multer", "1.4.2", "x_NPM-MULTER-2"),
    ("prismjs", "1.27.0", "x_NPM-PRISM-1"),
    ("string-width", "4.2.0", "x_NPM-SW-1"),
}
BILLING = {  # the PyPI project
    ("jinja2", "2.10", "x_PYSEC-JINJA-1"),
    ("urllib3", "1.26.4", "x_GHSA-URLLIB3-1"),
    ("pyyaml", "5.3", "x_PYSEC-PYYAML-1"),
}
EXPECTED = {
    "npm-v3/package-lock.json": SHOP,
    "npm-shrinkwrap/npm-shrinkwrap.json": SHOP,
    "npm-v1/package-lock.json": LEGACY,
    "yarn-v1/yarn.lock": SHOP,
    "yarn-berry/yarn.lock": SHOP,
    "pnpm-v9/pnpm-lock.yaml": SHOP,
    "pnpm-v6/pnpm-lock.yaml": SHOP,
    "pnpm-v5/pnpm-lock.yaml": SHOP,
    "poetry/poetry.lock": BILLING,
    "uv/uv.lock": BILLING,
    "pylock/pylock.toml": BILLING,
    "pipenv/Pipfile.lock": BILLING,
}


@pytest.fixture
def target(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES, root, ignore=shutil.ignore_patterns("osv", "README.md"))
    return root


def settings(raw: dict[str, Any] | None = None) -> Settings:
    return build_settings(raw or {})


def scan(target: Path, *, osv_db: Path | None = DB, raw: dict[str, Any] | None = None) -> ScannerResult:
    outcome = run_scan(target, settings(raw), only=ONLY, osv_db=osv_db)
    (result,) = outcome.run.scanners
    return result


def triples(findings: Sequence[Finding]) -> dict[str, set[tuple[str, str, str]]]:
    out: dict[str, set[tuple[str, str, str]]] = {}
    for f in findings:
        assert f.package is not None
        out.setdefault(f.location.path, set()).add((f.package.name, f.package.version, f.rule_id))
    return out


def test_every_format_finds_its_planted_advisories(target: Path) -> None:
    result = scan(target)
    assert result.status is ScannerStatus.OK, result.reason
    assert triples(result.findings) == EXPECTED
    assert result.scope == frozenset(EXPECTED)
    for finding in result.findings:  # the location is the package's entry in the lockfile
        text = (target / finding.location.path).read_text(encoding="utf-8").splitlines()
        line = text[finding.location.start_line - 1]
        assert finding.package is not None
        assert finding.package.name in line or "string-width-cjs" in line, (finding, line)


def test_findings_carry_package_fixes_aliases_and_severity(target: Path) -> None:
    result = scan(target)
    found = {(f.location.path, f.rule_id, f.package.version if f.package else ""): f for f in result.findings}
    octo = found[("npm-v3/package-lock.json", "x_NPM-OCTO-1", "5.0.0")]
    assert octo.package is not None and octo.package.fixed == ("5.1.1",)  # the fix of the range it is in
    assert octo.aliases == ("CVE-2099-1004",)
    assert octo.identity == "@octokit/request-error|x_NPM-OCTO-1"
    assert "@octokit/request-error 5.0.0 is affected by x_NPM-OCTO-1" in octo.message
    urllib3 = found[("uv/uv.lock", "x_GHSA-URLLIB3-1", "1.26.4")]  # two records, one vulnerability
    assert urllib3.aliases == ("CVE-2099-2002", "x_PYSEC-URLLIB3-1")
    assert urllib3.severity is Severity.HIGH and urllib3.tool_severity == "CVSS 7.5"
    pyyaml = found[("poetry/poetry.lock", "x_PYSEC-PYYAML-1", "5.3")]
    assert pyyaml.severity is Severity.CRITICAL and "development dependency" in pyyaml.message
    prism = found[("npm-v3/package-lock.json", "x_NPM-PRISM-1", "1.29.0")]  # last_affected: no fix
    assert (
        prism.package is not None and prism.package.fixed == () and "no fixed version known" in prism.message
    )
    alias = found[("yarn-v1/yarn.lock", "x_NPM-SW-1", "4.2.0")]
    assert "installed as string-width-cjs" in alias.message
    assert {r.id for r in result.rules} == {rule for expected in EXPECTED.values() for _, _, rule in expected}


def test_skipped_entries_are_counted_in_a_note(target: Path) -> None:
    notes = {(n.path, n.level, n.message) for n in scan(target).notifications}
    assert (
        "npm-v3/package-lock.json",
        NotificationLevel.NOTE,
        "4 entries not audited, not from a package registry: 1 link, 1 workspace package, "
        "1 git dependency, 1 local file or folder",
    ) in notes
    assert (
        "yarn-v1/yarn.lock",
        NotificationLevel.NOTE,
        "2 entries not audited, not from a package registry: 1 git dependency, 1 local file or folder",
    ) in notes


def test_identity_survives_line_moves_and_two_versions_are_two_findings(target: Path) -> None:
    lockfile = target / "npm-v3" / "package-lock.json"
    before = {
        f.fingerprint: f for f in scan(target).findings if f.location.path == "npm-v3/package-lock.json"
    }
    tmp = [f for f in before.values() if f.rule_id == "x_NPM-TMP-1"]
    assert len(tmp) == 2 and len({f.fingerprint for f in tmp}) == 2  # 0.2.1 and 0.2.3
    doc = json.loads(lockfile.read_text(encoding="utf-8"))
    doc["packages"] = {"node_modules/aaa-new": {"version": "1.0.0"}, **doc["packages"]}
    lockfile.write_text(json.dumps(doc, indent=4), encoding="utf-8")  # every line moves
    after = {f.fingerprint: f for f in scan(target).findings if f.location.path == "npm-v3/package-lock.json"}
    assert after.keys() == before.keys()
    assert all(after[k].location.start_line != before[k].location.start_line for k in after)


def test_skip_reasons(target: Path, tmp_path: Path) -> None:
    without = scan(target, osv_db=None)
    assert without.status is ScannerStatus.SKIPPED
    assert without.reason == (
        "no offline OSV database, so 12 lockfile(s) were not audited; set --osv-db or "
        "[scanners.lockfile-audit] osv_db"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "app.py").write_text("print('hi')\n")
    nothing = scan(empty)
    assert nothing.status is ScannerStatus.SKIPPED and nothing.reason is not None
    assert nothing.reason.startswith("no lockfiles found (package-lock.json, npm-shrinkwrap.json, yarn.lock")


def test_a_missing_database_is_an_input_error_before_any_scanner(target: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"OSV database .*nowhere does not exist; check --osv-db"):
        scan(target, osv_db=tmp_path / "nowhere")


def test_database_settings(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "secscan.toml"
    config.parent.mkdir()
    config.write_text('[scanners.pip-audit]\nosv_db = "pypa"\n', encoding="utf-8")
    from secscan.config.settings import load_settings

    loaded = load_settings(config)
    assert loaded.osv_db("lockfile-audit") == config.parent.resolve() / "pypa"  # pip-audit's is shared
    assert loaded.osv_db("lockfile-audit", tmp_path / "cli") == tmp_path / "cli"  # --osv-db wins
    config.write_text('[scanners.lockfile-audit]\nosv_db = "all.zip"\ntimeout = 30\n', encoding="utf-8")
    assert load_settings(config).osv_db("lockfile-audit") == config.parent.resolve() / "all.zip"
    assert load_settings(config).osv_db("pip-audit") is None


def test_a_database_without_the_ecosystem_audits_nothing_of_it(target: Path, tmp_path: Path) -> None:
    pypi_only = tmp_path / "pypi-only"
    shutil.copytree(DB / "PyPI", pypi_only)
    result = scan(target, osv_db=pypi_only)
    assert result.status is ScannerStatus.INCOMPLETE  # not audited is never clean: it closes nothing
    assert result.reason is not None and result.reason.startswith(
        "the OSV database holds no npm advisories, so 8 lockfile(s) were not audited; point --osv-db"
    )
    assert set(triples(result.findings)) == {
        "poetry/poetry.lock",
        "uv/uv.lock",
        "pylock/pylock.toml",
        "pipenv/Pipfile.lock",
    }
    warnings = {n.path: n.message for n in result.notifications if n.level is NotificationLevel.WARNING}
    assert warnings["npm-v3/package-lock.json"].startswith(
        "not audited: the OSV database holds no npm advisories; point --osv-db"
    )
    assert result.scope == frozenset()


def test_every_lockfile_unreadable_is_incomplete(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "web").mkdir(parents=True)
    (root / "web" / "package-lock.json").write_text('{"lockfileVersion": 3,\n')
    (root / "poetry.lock").write_text("[[package]\n")
    result = scan(root)
    assert result.status is ScannerStatus.INCOMPLETE and result.scope == frozenset()
    assert result.reason is not None and result.reason.startswith(
        "none of the 2 lockfile(s) could be read (first: "
    )
    assert len([n for n in result.notifications if n.level is NotificationLevel.WARNING]) == 2


def test_a_malformed_lockfile_is_a_warning_on_that_file(target: Path) -> None:
    (target / "npm-v1" / "package-lock.json").write_text('{"lockfileVersion": 1,\n "dependencies": {\n')
    (target / "pnpm-v9" / "pnpm-lock.yaml").write_bytes(b"lockfileVersion: '9.0'\npackages: [\n")
    result = scan(target)
    assert result.status is ScannerStatus.OK
    warnings = {n.path: n.message for n in result.notifications if n.level is NotificationLevel.WARNING}
    assert warnings == {
        "npm-v1/package-lock.json": "not audited: package-lock.json is not valid JSON "
        "(line 3: Expecting property name enclosed in double quotes)",
        "pnpm-v9/pnpm-lock.yaml": warnings["pnpm-v9/pnpm-lock.yaml"],
    }
    assert warnings["pnpm-v9/pnpm-lock.yaml"].startswith(
        "not audited: pnpm-lock.yaml is not valid YAML (line"
    )
    assert set(triples(result.findings)) == set(EXPECTED) - {
        "npm-v1/package-lock.json",
        "pnpm-v9/pnpm-lock.yaml",
    }
    assert result.scope == frozenset(EXPECTED) - {"npm-v1/package-lock.json", "pnpm-v9/pnpm-lock.yaml"}


def test_a_zip_database_gives_the_same_findings(target: Path, tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(DB.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(DB).as_posix())
    assert triples(scan(target, osv_db=archive).findings) == EXPECTED


def test_a_broken_database_fails_the_scanner_with_its_reason(target: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(DB, broken)
    (broken / "npm" / "x_NPM-BAD.json").write_text(
        '{"id": "x_NPM-BAD", "affected": [{"package": {"ecosystem": "npm"'
    )
    result = scan(target, osv_db=broken)
    assert result.status is ScannerStatus.FAILED and result.findings == ()
    assert result.reason is not None and "x_NPM-BAD.json is not valid JSON (line 1" in result.reason


def test_the_scanner_times_out_like_any_tool(target: Path) -> None:
    result = scan(target, raw={"scanners": {"lockfile-audit": {"timeout": 0.001}}})
    assert result.status is ScannerStatus.TIMEOUT and result.findings == ()


def test_target_code_never_runs(target: Path, tmp_path: Path) -> None:
    """A target that shadows secscan's modules or Python's start-up hooks is only ever read."""
    marker = tmp_path / "ran"
    payload = f"open({str(marker)!r}, 'w').write('x')\n"
    (target / "secscan").mkdir()
    (target / "secscan" / "__init__.py").write_text(payload)
    (target / "sitecustomize.py").write_text(payload)
    (target / "npm-v3" / "package.json").write_text(
        json.dumps({"scripts": {"preinstall": f"touch {marker}"}})
    )
    assert scan(target).status is ScannerStatus.OK
    assert not marker.exists()


def test_read_capped_reads_only_regular_files_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "ok.lock").write_bytes(b"12345")
    assert read_capped(root, "ok.lock", 5) == b"12345"
    with pytest.raises(Exception, match="larger than 4 bytes"):
        read_capped(root, "ok.lock", 4)
    (tmp_path / "secret.lock").write_text("outside")
    (root / "link.lock").symlink_to(tmp_path / "secret.lock")
    with pytest.raises(Exception, match="cannot be opened"):
        read_capped(root, "link.lock", 100)
    (root / "dir").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(Exception, match="outside the scanned folder"):
        read_capped(root, "dir/secret.lock", 100)
    os.mkfifo(root / "fifo.lock")
    with pytest.raises(Exception, match="not a regular file"):
        read_capped(root, "fifo.lock", 100)


def test_json_and_sarif_carry_the_package(
    target: Path, tmp_path: Path, sarif_validator: Any, multitool: Path
) -> None:
    sarif_path = tmp_path / "out.sarif"
    request = app.RunRequest(
        target=target,
        settings=settings(),
        sarif_path=sarif_path,
        only=ONLY,
        osv_db=DB,
        db=str(tmp_path / "db.sqlite"),
        use_cache=False,
    )
    doc = app.run(request).document
    octo = next(f for f in doc["findings"] if f["rule"] == "x_NPM-OCTO-1" and f["path"].startswith("npm-v3/"))
    assert octo["package"] == {
        "ecosystem": "npm",
        "name": "@octokit/request-error",
        "version": "5.0.0",
        "fixed": ["5.1.1"],
        "purl": "pkg:npm/%40octokit/request-error@5.0.0",
    }
    sarif = json.loads(sarif_path.read_text(encoding="utf-8"))
    assert schema_errors(sarif_validator, sarif) == []
    assert multitool_errors(multitool, sarif_path, tmp_path) == []
    (run,) = sarif["runs"]
    assert run["tool"]["driver"]["name"] == "lockfile-audit"
    packages = [r["properties"]["package"] for r in run["results"]]
    assert octo["package"] in packages and len(packages) == len(doc["findings"])


def test_result_cache_per_lockfile_keyed_by_the_database(
    target: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.cache.cache_helpers import Runner

    database = tmp_path / "osv"
    shutil.copytree(DB, database)
    run = Runner(tmp_path, monkeypatch)
    cached = build_settings({"cache": {"path": str(tmp_path / "cache.db")}})
    no_cache = run(target, cached, use_cache=False, only=ONLY, osv_db=database)
    cold = run(target, cached, only=ONLY, osv_db=database)
    warm = run(target, cached, only=ONLY, osv_db=database)
    assert cold.cache == {"enabled": True, "hits": 0, "misses": 12}
    assert warm.cache == {"enabled": True, "hits": 12, "misses": 0}
    assert warm.commands == ()  # no process, and the database is not loaded
    assert cold.comparable() == no_cache.comparable() and warm.comparable() == cold.comparable()

    os.utime(database / "npm" / "x_NPM-TMP-1.json")  # same content: the hash is the same
    assert run(target, cached, only=ONLY, osv_db=database).cache["hits"] == 12

    (target / "uv" / "uv.lock").write_text((target / "uv" / "uv.lock").read_text() + "\n")
    edited = run(target, cached, only=ONLY, osv_db=database)
    assert edited.cache == {"enabled": True, "hits": 11, "misses": 1}

    record = json.loads((database / "npm" / "x_NPM-TMP-1.json").read_text())
    record["id"], record["affected"][0]["package"]["name"] = "x_NPM-XTEND-1", "xtend"
    record["affected"][0]["ranges"][0]["events"] = [{"introduced": "0"}]
    (database / "npm" / "x_NPM-XTEND-1.json").write_text(json.dumps(record))
    newer = run(target, cached, only=ONLY, osv_db=database)
    assert newer.cache["hits"] == 0  # a new advisory is seen at once
    rules = {f["rule"] for f in newer.document["findings"]}
    assert "x_NPM-XTEND-1" in rules


def test_any_folder_name_is_audited(tmp_path: Path) -> None:
    """A hostile folder name (a newline, bytes that are not UTF-8) neither breaks nor hides a lockfile."""
    root = tmp_path / "repo"
    odd = root / "line\nbreak" / os.fsdecode(b"caf\xe9")
    odd.mkdir(parents=True)
    shutil.copy(FIXTURES / "uv" / "uv.lock", odd / "uv.lock")
    result = scan(root)
    assert result.status is ScannerStatus.OK, result.reason
    assert list(triples(result.findings).values()) == [BILLING]
