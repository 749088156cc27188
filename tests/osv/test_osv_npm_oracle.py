"""secscan's npm matches equal an independent SemVer implementation's: npm's own ``semver``.

``semver_oracle.js`` evaluates every (record, package, version) with node-semver, written from
the OSV specification's pseudocode; the Python side is the real engine
(:meth:`OsvDatabase.matches`). The probes are every version a record mentions plus their
neighbours (each of major, minor and patch one up and one down, pre-releases below and around
them, build metadata, ``v`` prefixes, partial versions) and the packages of the lockfile
fixtures.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from secscan.scanners.osv import OsvDatabase
from secscan.scanners.osv.versions import parse_semver
from tests.conftest import shared_path
from tests.osv.conftest import NPM_RECORDS

ORACLE = Path(__file__).resolve().parent / "semver_oracle.js"
LOCKFILES = Path(__file__).resolve().parents[1] / "scanners" / "lockfiles"


def load_records(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def _mentioned(record: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(npm package, version string) for every version a record's npm entries mention."""
    for affected in record.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") != "npm":
            continue
        texts = [v for v in affected.get("versions", []) if isinstance(v, str)]
        for found in affected.get("ranges", []):
            for event in found.get("events", []):
                texts += [v for v in event.values() if isinstance(v, str) and v not in ("0", "*")]
        for text in texts:
            yield package["name"], text


def neighbours(text: str) -> set[str]:
    """``text`` and versions just around it in SemVer order."""
    out = {text, f"v{text}", f"{text}+build.1"}
    parsed = parse_semver(text)
    if parsed is None:
        return out
    major, minor, patch = parsed.major, parsed.minor, parsed.patch
    cores = {(major, minor, patch)}
    for m, n, p in ((1, 0, 0), (0, 1, 0), (0, 0, 1)):
        cores.add((major + m, minor + n, patch + p))
        if major - m >= 0 and minor - n >= 0 and patch - p >= 0:
            cores.add((major - m, minor - n, patch - p))
    for core in cores:
        base = ".".join(map(str, core))
        out |= {base, f"{base}-0", f"{base}-alpha", f"{base}-alpha.1", f"{base}-beta.2", f"{base}-rc.1"}
        out |= {f"{core[0]}.{core[1]}", f"{core[0]}"}
    if parsed.prerelease:
        base = f"{major}.{minor}.{patch}"
        parts = str(parsed.prerelease).split(".")
        out |= {f"{base}-{parsed.prerelease}.0", f"{base}-{parts[0]}", f"{base}-{parsed.prerelease}+b"}
        if parts[-1].isdigit():
            for step in (-1, 1):
                if int(parts[-1]) + step >= 0:
                    out.add(f"{base}-{'.'.join([*parts[:-1], str(int(parts[-1]) + step)])}")
    return out


def probes(
    records: Iterable[Mapping[str, Any]], extra: Iterable[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """Every (package, version) to compare: each package with the neighbours of all its versions."""
    by_package: dict[str, set[str]] = {}
    for record in records:
        for name, text in _mentioned(record):
            by_package.setdefault(name, set()).update(neighbours(text))
    for name, text in extra:
        by_package.setdefault(name, set()).update(neighbours(text))
    for versions in by_package.values():
        versions |= {"0.0.0", "0.0.1", "999.0.0", "latest", "", "1.2.3.4", "01.2.3", "1.2.3-01"}
    return sorted((name, v) for name, versions in by_package.items() for v in versions)


def oracle(
    node_semver: Path, records: list[dict[str, Any]], queries: list[tuple[str, str]]
) -> list[list[str]]:
    body = json.dumps({"records": records, "queries": queries})
    proc = subprocess.run(
        ["node", str(ORACLE), str(node_semver)], input=body, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    answers: list[list[str]] = json.loads(proc.stdout)["answers"]
    assert len(answers) == len(queries)
    return answers


def engine(records: list[dict[str, Any]], queries: list[tuple[str, str]]) -> list[list[str]]:
    database = OsvDatabase.from_records(records)
    return [sorted(m.record["id"] for m in database.matches("npm", name, v)) for name, v in queries]


def differences(
    node_semver: Path, records: list[dict[str, Any]], queries: list[tuple[str, str]]
) -> list[str]:
    expected = oracle(node_semver, records, queries)
    found = engine(records, queries)
    return [
        f"{name}@{version!r}: node-semver {want}, secscan {got}"
        for (name, version), want, got in zip(queries, expected, found, strict=True)
        if want != got
    ]


def lockfile_packages() -> list[tuple[str, str]]:
    """(name, version) of every npm package in the lockfile fixtures, as secscan parses them."""
    from secscan.scanners.lockfiles import parse_lockfile, recognise

    found = []
    for path in sorted(LOCKFILES.rglob("*")):
        kind = recognise(path.name) if path.is_file() else None
        if kind is None:
            continue
        parsed = parse_lockfile(kind, path.read_bytes())
        found += [(p.name, p.version) for p in parsed.packages if p.ecosystem == "npm"]
    return found


def fixture_records() -> list[dict[str, Any]]:
    """The handmade npm records: the engine's edge cases and the lockfile-audit fixtures'."""
    return load_records(NPM_RECORDS) + load_records(LOCKFILES / "osv" / "npm")


def test_fixture_records_match_like_node_semver(node_semver: Path) -> None:
    records = fixture_records()
    queries = probes(records, lockfile_packages())
    assert len(queries) > 500
    assert differences(node_semver, records, queries) == []


def test_the_oracle_sees_what_the_fixtures_plant(node_semver: Path) -> None:
    """The comparison is not vacuous: both sides find the planted hits and misses."""
    records = load_records(NPM_RECORDS)
    queries = [
        ("@acme/widget", "2.4.0"),  # introduced 0, fixed 2.4.1 (events unsorted)
        ("@acme/widget", "3.0.0-beta.1"),  # below the pre-release bound
        ("@acme/widget", "3.0.0"),
        ("@acme/widget", "3.1.0-rc.1"),  # the fix itself
        ("tiny-lib", "1.4.2+local"),  # last_affected is inclusive; build metadata ignored
        ("tiny-lib", "2.8.9"),  # below the limit
        ("tiny-lib", "2.9.0"),
        ("tiny-lib", "5.1.9"),  # padded bounds 5 .. 5.2
        ("tiny-lib", "0.8.0"),  # listed as v0.8.0
        ("tiny-lib", "0.7.1"),  # re-introduced
        ("tiny-lib", "9.9.9"),  # only the unusable range and the withdrawn record
        ("JSONStream", "1.3.4"),
        ("jsonstream", "1.3.4"),  # npm names are case-sensitive
    ]
    expected = [
        ["x_NPMT-0001"],
        [],
        ["x_NPMT-0001"],
        [],
        ["x_NPMT-0002"],
        ["x_NPMT-0002"],
        [],
        ["x_NPMT-0002"],
        ["x_NPMT-0002"],
        ["x_NPMT-0003"],
        [],
        ["x_NPMT-0005"],
        [],
    ]
    assert oracle(node_semver, records, queries) == expected
    assert engine(records, queries) == expected


def test_shared_npm_advisories_match_like_node_semver(node_semver: Path) -> None:
    records = load_records(shared_path("data", "osv-npm")) + fixture_records()
    assert len(records) >= 55
    queries = probes(records, lockfile_packages())
    assert len(queries) > 3000
    assert differences(node_semver, records, queries) == []
