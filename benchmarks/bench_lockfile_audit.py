"""Benchmark: lockfile-audit on a 1,500-package lockfile against a 50,000-record OSV database.

Issue 14 asks that matching a lockfile of about 1,500 packages against a 50k-record database be
quick. The data is generated (seeded, so every run sees the same bytes) under
``.bench/lockfile-audit/``: 50,000 OSV JSON records (40,000 npm and 10,000 PyPI, 15,000 npm
packages, each record about 1.5 KB with real-looking summaries, CVSS vectors, references and
1 to 3 ranges, some with pre-release bounds, ``last_affected`` or ``versions`` lists), as a
folder and as an osv.dev-style ``all.zip``, and a ``package-lock.json`` v3 of 1,500 packages
(some nested), 1,200 of which have records.

Printed, medians of ``--repeat`` rounds, as wall time and CPU time (user + system; on a busy
shared machine the CPU time is the figure that compares between runs):
- in-process steps: parsing the lockfile, loading the whole database, loading only the records
  of the lockfile's packages (what the scanner does), matching the 1,500 packages;
- whole ``secscan run --scanner lockfile-audit`` processes: cold (``--no-cache``) from the folder
  and from the zip, a first run with the result cache and an unchanged re-run; wall and CPU
  time (children included) and peak RSS of the whole process tree.

Usage: python benchmarks/bench_lockfile_audit.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

from bench_run import REPO, measure

sys.path.insert(0, str(REPO))

from secscan.scanners.lockfiles import LockfileKind, parse_lockfile
from secscan.scanners.osv.database import OsvDatabase
from secscan.scanners.osv.matching import package_key

WORK = REPO / ".bench" / "lockfile-audit"
RECORDS, NPM_RECORDS, NPM_PACKAGES, LOCKED, LOCKED_WITH_RECORDS = 50_000, 40_000, 15_000, 1_500, 1_200
WORDS = ["attacker", "crafted", "request", "header", "parser", "allows", "denial", "service", "memory", "exhaustion", "remote", "code", "execution", "prototype", "pollution", "path", "traversal", "sandbox", "escape", "cross", "site", "scripting", "validation", "bypass", "regular", "expression", "backtracking", "upgrade", "version", "affected", "users", "untrusted", "input", "token", "leak", "redirect", "cookie", "session", "template", "injection", "deserialization", "buffer", "library", "function"]


def _version(rng: random.Random) -> str:
    return f"{rng.randint(0, 20)}.{rng.randint(0, 30)}.{rng.randint(0, 40)}"


def _ranges(rng: random.Random) -> list[dict[str, object]]:
    ranges = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        low = rng.choice(["0", _version(rng), f"{_version(rng)}-beta.{rng.randint(0, 9)}"])
        kind = "last_affected" if rng.random() < 0.05 else "fixed"
        ranges.append({"type": "ECOSYSTEM", "events": [{"introduced": low}, {kind: _version(rng)}]})
    return ranges


def _record(rng: random.Random, index: int, ecosystem: str, name: str) -> dict[str, object]:
    affected: dict[str, object] = {"package": {"ecosystem": ecosystem, "name": name}, "ranges": _ranges(rng)}
    if rng.random() < 0.1:
        affected["versions"] = [_version(rng) for _ in range(rng.randint(1, 6))]
    return {
        "schema_version": "1.4.0",
        "id": f"GHSA-{index:04x}-{rng.randrange(16**4):04x}-{rng.randrange(16**4):04x}",
        "modified": "2025-06-01T00:00:00Z",
        "published": "2025-05-01T00:00:00Z",
        "aliases": [f"CVE-2025-{index:05d}"],
        "summary": " ".join(rng.choices(WORDS, k=8)).capitalize(),
        "details": " ".join(rng.choices(WORDS, k=160)),
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
        "affected": [affected],
        "references": [{"type": "WEB", "url": f"https://example.invalid/{index}/{n}"} for n in range(3)],
        "database_specific": {"severity": rng.choice(["LOW", "MODERATE", "HIGH"]), "cwe_ids": ["CWE-400"]},
    }


def npm_name(index: int) -> str:
    return f"@scope{index % 40}/lib-{index}" if index % 7 == 0 else f"package-{index}"


def generate() -> tuple[Path, Path, Path]:
    """The database folder, its zip and the repository with the lockfile (made once)."""
    folder, archive, repo = WORK / "db", WORK / "all.zip", WORK / "repo"
    if archive.exists() and (repo / "package-lock.json").exists():
        return folder, archive, repo
    shutil.rmtree(WORK, ignore_errors=True)
    rng = random.Random(14)
    (folder / "npm").mkdir(parents=True)
    (folder / "PyPI").mkdir()
    for index in range(RECORDS):
        npm = index < NPM_RECORDS
        name = npm_name(index % NPM_PACKAGES) if npm else f"pypi-package-{index % 4000}"
        record = _record(rng, index, "npm" if npm else "PyPI", name)
        (folder / ("npm" if npm else "PyPI") / f"{record['id']}.json").write_text(json.dumps(record, indent=2))
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*.json")):
            zf.write(path, path.relative_to(folder).as_posix())
    packages: dict[str, object] = {"": {"name": "bench", "version": "1.0.0"}}
    for n in range(LOCKED):
        index = n if n < LOCKED_WITH_RECORDS else NPM_PACKAGES + n  # the last 300 have no record
        name = npm_name(index)
        where = f"node_modules/{name}" if n % 10 else f"node_modules/package-{n + 1}/node_modules/{name}"
        packages[where] = {
            "version": _version(rng),
            "resolved": f"https://registry.npmjs.org/{name}/-/{name.rsplit('/', 1)[-1]}-1.0.0.tgz",
            "integrity": "sha512-" + "A" * 86 + "==",
            "dev": n % 5 == 0,
        }
    repo.mkdir()
    doc = {"name": "bench", "version": "1.0.0", "lockfileVersion": 3, "requires": True, "packages": packages}
    (repo / "package-lock.json").write_text(json.dumps(doc, indent=2) + "\n")
    return folder, archive, repo


def timed(function: object, *args: object, **kwargs: object) -> tuple[float, float, object]:
    started, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)  # type: ignore[operator]
    return time.perf_counter() - started, time.process_time() - cpu, result


def in_process(folder: Path, repo: Path) -> dict[str, float]:
    data = (repo / "package-lock.json").read_bytes()
    parse_s, parse_cpu, lockfile = timed(parse_lockfile, LockfileKind.PACKAGE_LOCK, data)
    wanted = {package_key(p.ecosystem, p.name) for p in lockfile.packages}  # type: ignore[attr-defined]
    full_s, full_cpu, full = timed(OsvDatabase.load, folder)
    del full
    filtered_s, filtered_cpu, database = timed(OsvDatabase.load, folder, packages=wanted)
    tracemalloc.start()  # memory apart: tracing slows every allocation down
    full = OsvDatabase.load(folder)
    full_mb = tracemalloc.get_traced_memory()[0] / 1e6
    del full
    tracemalloc.stop()
    tracemalloc.start()
    kept = OsvDatabase.load(folder, packages=wanted)
    filtered_mb = tracemalloc.get_traced_memory()[0] / 1e6
    del kept
    tracemalloc.stop()
    zip_s, zip_cpu, _ = timed(OsvDatabase.load, folder.parent / "all.zip", packages=wanted)

    def match() -> int:
        return sum(bool(database.matches("npm", p.name, p.version)) for p in lockfile.packages)  # type: ignore[attr-defined,union-attr]

    match_s, match_cpu, hits = timed(match)
    return {
        "parse_ms": parse_s * 1000,
        "parse_cpu_ms": parse_cpu * 1000,
        "load_full_s": full_s,
        "load_full_cpu_s": full_cpu,
        "load_full_mb": full_mb,
        "load_filtered_s": filtered_s,
        "load_filtered_cpu_s": filtered_cpu,
        "load_filtered_mb": filtered_mb,
        "load_filtered_zip_s": zip_s,
        "load_filtered_zip_cpu_s": zip_cpu,
        "records_kept": len(database),
        "match_ms": match_s * 1000,
        "match_cpu_ms": match_cpu * 1000,
        "vulnerable": float(hits),  # type: ignore[arg-type]
    }


def run(repo: Path, database: Path, out: Path, name: str, *extra: str) -> tuple[float, float, float, int]:
    doc = out / f"{name}.json"
    argv = [sys.executable, "-m", "secscan", "run", str(repo), "--scanner", "lockfile-audit", "--osv-db",
            str(database), "--format", "json", "--fail-on", "none", "--db", str(out / f"{name}.sqlite"),
            "--sarif", str(out / f"{name}.sarif"), *extra]
    sample = measure(argv, repo, stdout=doc)
    findings = len(json.loads(doc.read_text())["findings"])
    return sample.wall_s, sample.cpu_s, sample.tree_rss_mb, findings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder, archive, repo = generate()
    print(f"database: {RECORDS} records ({sum(1 for _ in folder.rglob('*.json'))} files, "
          f"{sum(p.stat().st_size for p in folder.rglob('*.json')) / 1e6:.0f} MB; zip {archive.stat().st_size / 1e6:.0f} MB)")
    rounds: dict[str, list[float]] = {}
    findings = set()
    for round_ in range(args.repeat):
        out = WORK / f"round{round_}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        for key, value in in_process(folder, repo).items():
            rounds.setdefault(key, []).append(value)
        cache = out / "cache.toml"
        cache.write_text(f'[cache]\npath = "{out / "cache.db"}"\n')
        for name, database, extra in (
            ("cold-folder", folder, ("--no-cache",)),
            ("cold-zip", archive, ("--no-cache",)),
            ("cached-first", folder, ("--config", str(cache))),
            ("cached-rerun", folder, ("--config", str(cache))),
        ):
            wall, cpu, rss, found = run(repo, database, out, name, *extra)
            rounds.setdefault(f"{name}_s", []).append(wall)
            rounds.setdefault(f"{name}_cpu_s", []).append(cpu)
            rounds.setdefault(f"{name}_rss_mb", []).append(rss)
            findings.add(found)
    print(f"findings per run: {sorted(findings)} (equal in every run)")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for key, values in rounds.items():
        print(f"{key:>22}: {statistics.median(values):10.3f}   (rounds: {', '.join(f'{v:.3f}' for v in values)})")


if __name__ == "__main__":
    main()
