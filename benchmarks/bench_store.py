"""Benchmark: the lifecycle store's performance targets (issue "Finding lifecycle ... in SQLite").

Targets:
  * ingest a generated 100k-result SARIF log (read, parse, normalise, fingerprint, reconcile,
    commit) <= 10 s with peak RSS <= 1 GB (baseline: DefectDojo users report 10 min for 30k);
  * re-ingest the same log, nothing new, <= 5 s;
  * an SLA sweep over 1M findings <= 2 s, when nothing changes and when a realistic fraction
    changes status;
  * the database holding 1M findings <= 400 MB (after a checkpoint, WAL included).

The log is realistic: three tools (semgrep, CodeQL, trivy) with their own rules, levels and
security-severity scores, 100k results over ~5k source files that exist on disk (so
fingerprinting reads real lines), messages with arguments, full regions. The ingest path is
``secscan.app.ingest.ingest_file`` when it exists, else the same steps by hand:
bytes -> ``sarif_input.parse_sarif`` -> ``identity.assign_identities`` -> ``ScanRun`` ->
``tracking.record_run`` on a fresh SQLite file (``store.record_run`` in a version from before the
pure reconciliation, so ``--baseline`` compares across that change).

The 1M-finding database is built with ``record_run`` too: 10 targets x 100k findings (each target
its own paths and fingerprints). The sweeps are the real ``tracking.sla_sweep`` (``store.sla_sweep``
before).

Every phase runs in its own child process, so its peak RSS (``ru_maxrss``) is its own.

``--baseline DIR`` compares with another version of secscan (a tree holding its ``secscan``
package, e.g. ``git archive <rev> | tar -x -C DIR``): each side ingests and builds its own
databases (their schemas may differ), then the fresh ingest, the re-ingest and the 170k-change
sweep run ``--rounds`` times, baseline and candidate alternately, each from a fresh copy of its
database (or none). The host's speed drifts, so compare the per-round ratios (their median is
printed), not seconds from different minutes. CPU seconds are printed beside wall ones, and for
the ingests the CPU seconds of ``record_run`` alone.

``--backend both`` (or ``postgresql``) runs the same phases on PostgreSQL too, side by side, on
a throwaway server started from the machine's binaries (``tests/postgres.py``; fsync off, as in
the tests): a fresh database per phase, cloned with ``CREATE DATABASE ... TEMPLATE`` where a
phase starts from a built one. Targets on PostgreSQL (issue 16): ingest <= 15 s, re-ingest
<= 6 s, the sweep over 1M <= 3 s.

Usage: python benchmarks/bench_store.py [--results 100000] [--files 5000] [--big 1000000]
                                        [--skip-big] [--workdir DIR] [--keep]
                                        [--baseline DIR] [--rounds 3]
                                        [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BASELINE_RATE = 30_000 / 600  # DefectDojo: 30k findings in 10 minutes
BIG_TARGETS = 10
SEED = 20250301

# tool -> (share of the results, number of rules, level/security-severity mix)
TOOLS = {"semgrep": (0.5, 60), "codeql": (0.35, 40), "trivy": (0.15, 25)}
SEVERITY_SCORES = ("9.8", "8.1", "7.5", "6.1", "5.3", "4.3", "3.1", None, None, None)
MESSAGES = (
    "Detected user input flowing into {0}; use a parameterised query instead of string formatting.",
    "This expression depends on a [user-provided value](1) and reaches {0} without sanitising.",
    "Use of {0} with shell=True is unsafe; pass an argument list and shell=False.",
    "Hard-coded credential-like value assigned to '{0}'; load it from the environment or a vault.",
    "Insecure hash function {0} used for a security purpose; use hashlib.sha256 or better.",
    "Deserialisation of untrusted data with {0} can execute arbitrary code.",
    "Requests call without a timeout in {0}; a slow server can hang the process.",
    "The container runs as root ({0}); add a USER instruction with a non-root user.",
)


# -- generation -----------------------------------------------------------------------------


def source_paths(files: int, prefix: str = "") -> list[str]:
    return [f"{prefix}src/pkg{i // 100:03d}/module_{i:05d}.py" for i in range(files)]


def write_tree(root: Path, paths: list[str], lines: int) -> None:
    for n, path in enumerate(paths):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        body = [f"    value_{i} = compute_{n % 97}(arg_{i}, {i * 7 % 13})  # step {i}" for i in range(lines)]
        target.write_text(f"def handler_{n}(arg):\n" + "\n".join(body) + "\n")


def generate_sarif(results: int, paths: list[str], lines: int, rng: random.Random) -> dict[str, Any]:
    runs = []
    for tool, (share, rule_count) in TOOLS.items():
        rules: list[dict[str, Any]] = []
        for r in range(rule_count):
            score = SEVERITY_SCORES[r % len(SEVERITY_SCORES)]
            props: dict[str, Any] = {"tags": ["security", f"CWE-{80 + r}"]}
            if score is not None:
                props["security-severity"] = score
            rules.append(
                {
                    "id": f"{tool}.python.rule-{r:03d}",
                    "name": f"Rule{r}",
                    "shortDescription": {"text": f"{tool} rule {r}: {MESSAGES[r % len(MESSAGES)][:40]}"},
                    "fullDescription": {"text": f"Full description of {tool} rule {r}."},
                    "help": {"text": f"How to fix {tool} rule {r}."},
                    "defaultConfiguration": {"level": ("error", "warning", "note")[r % 3]},
                    "properties": props,
                }
            )
        out = []
        for _ in range(int(results * share)):
            r = rng.randrange(rule_count)
            line = rng.randrange(2, lines + 1)
            col = rng.randrange(1, 20)
            out.append(
                {
                    "ruleId": rules[r]["id"],
                    "ruleIndex": r,
                    "level": rules[r]["defaultConfiguration"]["level"],
                    "message": {"text": MESSAGES[r % len(MESSAGES)].format(f"name_{rng.randrange(400)}")},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": rng.choice(paths), "uriBaseId": "%SRCROOT%"},
                                "region": {
                                    "startLine": line,
                                    "startColumn": col,
                                    "endLine": line + rng.randrange(0, 3),
                                    "endColumn": col + rng.randrange(5, 40),
                                },
                            }
                        }
                    ],
                }
            )
        runs.append(
            {
                "tool": {"driver": {"name": tool, "semanticVersion": "1.2.3", "rules": rules}},
                "results": out,
            }
        )
    return {"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": runs}


# -- phases (each runs in a child process) -------------------------------------------------


def _mod(*names: str) -> Any:
    """The first module of ``names`` that exists: its path after issue 15's layout, then before it
    (``secscan.app.tracking``, ``secscan.tracking``), so ``--baseline`` may be either side. A name
    whose package is not a directory of this secscan is skipped without importing anything (the
    old ``secscan/app.py`` would load the whole scan pipeline inside a timed phase)."""
    import importlib

    import secscan

    root = Path(secscan.__file__).parent
    for name in names:
        parts = name.split(".")[1:-1]
        if parts and not root.joinpath(*parts).is_dir():
            continue
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(names[0])


def _tracking() -> Any:
    """The record/sweep use cases, or None in a version from before the pure reconciliation."""
    try:
        return _mod("secscan.app.tracking", "secscan.tracking")
    except ImportError:
        return None


def _model() -> Any:
    return _mod("secscan.core.model", "secscan.model")


def _load_policy() -> Any:
    return _mod("secscan.config.policy", "secscan.policy").load_policy()


def _load_sla_policy() -> Any:
    for name in ("secscan.config.policy", "secscan.core.sla", "secscan.sla"):  # where it lived, newest first
        try:
            module = _mod(name)
        except ImportError:
            continue
        if hasattr(module, "load_sla_policy"):
            return module.load_sla_policy()
    raise ImportError("load_sla_policy")


def _record(store: Any, run: Any, now: datetime, policy: Any) -> Any:
    """Record a run through the use case (``secscan.app.tracking``), or the store method before it."""
    tracking = _tracking()
    if tracking is None:  # a version from before the pure reconciliation (issue 15)
        return store.record_run(run, now, policy)
    return tracking.record_run(store, run, now, policy)


def _sweep(store: Any, now: datetime, policy: Any) -> Any:
    tracking = _tracking()
    if tracking is None:  # a version from before the pure reconciliation (issue 15)
        return store.sla_sweep(now, policy)
    return tracking.sla_sweep(store, now, policy)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ingest_by_hand(
    store: Any, sarif: Path, root: Path, target: str, run_id: str, now: datetime
) -> dict[str, float]:
    identity = _mod("secscan.core.identity", "secscan.identity")
    sarif_input = _mod("secscan.scanners.sarif_input", "secscan.sarif_input")
    model = _model()
    RunId, ScannerResult, ScannerStatus, ScanRun = (  # noqa: N806 - the model's class names
        model.RunId, model.ScannerResult, model.ScannerStatus, model.ScanRun
    )

    marks: dict[str, float] = {}
    start = time.perf_counter()
    data = sarif.read_bytes()
    marks["read_s"] = time.perf_counter() - start
    t = time.perf_counter()
    parsed = sarif_input.parse_sarif(data, tool=None, root=root, policy=_load_policy())
    del data
    marks["parse_s"] = time.perf_counter() - t
    t = time.perf_counter()
    reader = identity.source_reader(root)
    scanners = tuple(
        ScannerResult(
            name=p.tool,
            version=p.version,
            status=ScannerStatus.OK,
            duration_s=0.0,
            exit_code=0,
            findings=identity.assign_identities(p.findings, reader),
            rules=p.rules,
            notifications=p.notifications,
            scope=frozenset({"."}),
        )
        for p in parsed
    )
    del parsed
    marks["identity_s"] = time.perf_counter() - t
    run = ScanRun(RunId(run_id), str(root), target, now, now, scanners)
    t = time.perf_counter()
    outcome = _record(store, run, now, _load_sla_policy())
    marks["record_s"] = time.perf_counter() - t
    marks["new"] = len(outcome.new)
    marks["unchanged"] = len(outcome.unchanged)
    return marks


def _ingest(store: Any, sarif: Path, root: Path, target: str, run_id: str, now: datetime) -> dict[str, float]:
    """``secscan.app.ingest.ingest_file`` when it exists (record_run timed inside it), else by hand."""
    try:
        ingest = _mod("secscan.app.ingest", "secscan.ingest")
    except ImportError:
        return _ingest_by_hand(store, sarif, root, target, run_id, now)

    record_s = record_cpu = 0.0
    owner: Any = _tracking() or store  # ingest calls tracking.record_run(store, ...), or the store's
    real = owner.record_run

    def timed(*args: Any, **kwargs: Any) -> Any:
        nonlocal record_s, record_cpu
        t, c = time.perf_counter(), time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            record_s += time.perf_counter() - t
            record_cpu += time.process_time() - c

    owner.record_run = timed
    start = time.perf_counter()
    policy, sla_policy = _load_policy(), _load_sla_policy()
    outcome = ingest.ingest_file(store, sarif, target, None, now, policy, sla_policy, root=root)
    total = time.perf_counter() - start
    return {
        "via_ingest_file": 1,
        "build_s": total - record_s,
        "record_s": record_s,
        "record_cpu_s": record_cpu,
        "new": len(outcome.new),
        "unchanged": len(outcome.unchanged),
    }


def phase_ingest(args: dict[str, Any]) -> dict[str, Any]:
    from secscan.store import open_store

    base_rss = _rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    with open_store(args["db"]) as store:
        opened = time.perf_counter() - start
        marks = _ingest(
            store,
            Path(args["sarif"]),
            Path(args["root"]),
            "bench",
            args["run_id"],
            T0 + timedelta(hours=args["hours"]),
        )
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "total_s": total,
        "cpu_s": cpu,
        "open_s": opened,
        **marks,
        "import_rss_mb": base_rss,
        "peak_rss_mb": _rss_mb(),
    }


def _big_findings(target: int, count: int, rng: random.Random) -> list[Any]:
    model = _model()
    Finding, Location, Severity, ToolName = (  # noqa: N806 - the model's class names
        model.Finding, model.Location, model.Severity, model.ToolName
    )

    severities = [Severity.CRITICAL] * 2 + [Severity.HIGH] * 15 + [Severity.MEDIUM] * 40
    severities += [Severity.LOW] * 30 + [Severity.INFO] * 13
    paths = source_paths(5000, prefix=f"service{target:02d}/")
    tools = [(ToolName(t), share, rules) for t, (share, rules) in TOOLS.items()]
    out = []
    for n in range(count):
        tool, _, rules = tools[0] if n % 20 < 10 else tools[1] if n % 20 < 17 else tools[2]
        r = rng.randrange(rules)
        fp = hashlib.sha256(f"{target}/{n}".encode()).hexdigest()
        out.append(
            Finding(
                tool=tool,
                rule_id=f"{tool}.python.rule-{r:03d}",
                message=MESSAGES[r % len(MESSAGES)].format(f"name_{rng.randrange(400)}"),
                location=Location(rng.choice(paths), rng.randrange(2, 120), 5, None, None),
                severity=severities[n % 100],
                fingerprint=fp,
            )
        )
    return out


def phase_build(args: dict[str, Any]) -> dict[str, Any]:
    from secscan.store import open_store

    model = _model()
    RunId, ScannerResult, ScannerStatus, ScanRun = (  # noqa: N806 - the model's class names
        model.RunId, model.ScannerResult, model.ScannerStatus, model.ScanRun
    )
    policy = _load_sla_policy()
    rng = random.Random(SEED)
    per_target = args["big"] // BIG_TARGETS
    record_s = 0.0
    with open_store(args["db"]) as store:
        for k in range(BIG_TARGETS):
            findings = _big_findings(k, per_target, rng)
            by_tool: dict[str, list[Any]] = {}
            for f in findings:
                by_tool.setdefault(f.tool, []).append(f)
            scanners = tuple(
                ScannerResult(t, "1", ScannerStatus.OK, 0.0, 0, tuple(fs), scope=frozenset({"."}))  # type: ignore[arg-type]
                for t, fs in by_tool.items()
            )
            run = ScanRun(RunId(f"big-{k}"), f"/srv/service{k}", f"service{k:02d}", T0, T0, scanners)
            t = time.perf_counter()
            _record(store, run, T0, policy)
            record_s += time.perf_counter() - t
            del findings, by_tool, scanners, run
    return {"record_s": record_s, "per_target_s": record_s / BIG_TARGETS, "peak_rss_mb": _rss_mb()}


def phase_sweep(args: dict[str, Any]) -> dict[str, Any]:
    from secscan.store import open_store

    policy = _load_sla_policy()
    with open_store(args["db"]) as store:
        start, cpu = time.perf_counter(), time.process_time()
        result = _sweep(store, T0 + timedelta(hours=args["hours"]), policy)
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"sweep_s": took, "cpu_s": cpu, "changes": len(result.changes), "peak_rss_mb": _rss_mb()}


PHASES = {"ingest": phase_ingest, "build": phase_build, "sweep": phase_sweep}


def run_phase(name: str, code: Path | None = None, **args: Any) -> dict[str, Any]:
    """Run one phase in a fresh interpreter, with the ``secscan`` of ``code`` (default: this
    repository); returns its JSON result."""
    start = time.perf_counter()
    tree = code or REPO
    proc = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--phase-args", json.dumps(args), "--code", str(tree)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )
    if proc.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - start
    return result


# -- database size ----------------------------------------------------------------------------


def db_size(db: Path) -> tuple[int, list[tuple[str, int]], int]:
    """Bytes on disk after a checkpoint (db + WAL), bytes per table/index, finding count."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        parts = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
        count = conn.execute("SELECT count(*) FROM findings").fetchone()[0]
    finally:
        conn.close()
    total = sum(p.stat().st_size for p in (db, db.with_name(db.name + "-wal")) if p.exists())
    return total, parts, count


# -- main -----------------------------------------------------------------------------------


def _line(label: str, value: str, target: str = "") -> None:
    print(f"  {label:<44} {value:>16}  {target}")


def _fresh_copy(pristine: Path | None, work: Path) -> Path:
    """``pristine`` copied to ``work`` (a database whose WAL was checkpointed), caches settled;
    with ``None`` no database at all (``work`` removed)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    if pristine is not None:
        shutil.copyfile(pristine, work)
    os.sync()
    time.sleep(0.5)
    return work


def _checkpointed(db: Path) -> Path:
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return db


def alternate(
    label: str,
    sides: dict[str, Path | None],
    pristine: Mapping[str, Path | None],
    work: Path,
    rounds: int,
    phase: str,
    key: str,
    **args: Any,
) -> dict[str, list[dict[str, Any]]]:
    """``rounds`` of ``phase`` per side, alternating, each on a fresh copy of its database."""
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    print(f"\n{label}: {rounds} alternating rounds, each from a fresh copy of its database")
    for r in range(rounds):
        for name, code in sides.items():
            db = _fresh_copy(pristine[name], work / f"round-{name}.db")
            result = run_phase(phase, code=code, db=str(db), **args)
            results[name].append(result)
            part = f", record_run cpu {result['record_cpu_s']:.2f} s" if "record_cpu_s" in result else ""
            _line(f"round {r + 1} {name}", f"{result[key]:.2f} s", f"cpu {result['cpu_s']:.2f} s{part}")
    for name in sides:
        values = [x[key] for x in results[name]]
        _line(f"median {name}", f"{statistics.median(values):.2f} s", f"min {min(values):.2f} s")
    if "baseline" in sides:
        ratios = [c[key] / b[key] for b, c in zip(results["baseline"], results["candidate"], strict=True)]
        cpu = [
            c["cpu_s"] / b["cpu_s"] for b, c in zip(results["baseline"], results["candidate"], strict=True)
        ]
        _line("candidate / baseline, per round", " ".join(f"{x:.2f}" for x in ratios))
        _line(
            "median ratio (wall / cpu)", f"{statistics.median(ratios):.2f}x / {statistics.median(cpu):.2f}x"
        )
        if all("record_cpu_s" in x for side in results.values() for x in side):
            rec = [
                c["record_cpu_s"] / b["record_cpu_s"]
                for b, c in zip(results["baseline"], results["candidate"], strict=True)
            ]
            _line("record_run cpu ratio, per round", " ".join(f"{x:.2f}" for x in rec))
            _line("median record_run cpu ratio", f"{statistics.median(rec):.2f}x")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=5_000)
    parser.add_argument("--lines", type=int, default=120)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--baseline", type=Path, help="a tree with the secscan to compare with")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of the compared phases")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--phase-args", help=argparse.SUPPRESS)
    parser.add_argument("--code", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.phase:
        if ns.code:
            sys.path.insert(0, ns.code)
        print(json.dumps(PHASES[ns.phase](json.loads(ns.phase_args))))
        return 0
    if ns.baseline is not None and not (ns.baseline / "secscan" / "store").is_dir():
        parser.error(f"--baseline {ns.baseline}: no secscan package there; unpack one with git archive")

    work = Path(tempfile.mkdtemp(prefix="bench-store-", dir=ns.workdir))
    try:
        return _bench(ns, work)
    finally:
        if ns.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _bench(ns: argparse.Namespace, work: Path) -> int:
    rng = random.Random(SEED)
    summary: dict[str, dict[str, float]] = {"sqlite": {}, "postgresql": {}}
    root = work / "tree"
    paths = source_paths(ns.files)
    t = time.perf_counter()
    write_tree(root, paths, ns.lines)
    sarif = work / "log.sarif"
    sarif.write_text(json.dumps(generate_sarif(ns.results, paths, ns.lines, rng)))
    print(
        f"generated {ns.results} results over {ns.files} files ({sarif.stat().st_size / 1e6:.1f} MB SARIF)"
        f" in {time.perf_counter() - t:.1f} s; Python {sys.version.split()[0]},"
        f" SQLite {sqlite3.sqlite_version}"
    )
    if ns.backend == "postgresql":
        return _bench_postgres(ns, work, sarif, root, summary)
    sides: dict[str, Path | None] = {"candidate": None}
    if ns.baseline is not None:
        sides = {"baseline": ns.baseline.resolve(), "candidate": None}
        print(f"baseline: {sides['baseline']}; candidate: {REPO}")

    ingested: dict[str, Path] = {}
    for name, code in sides.items():
        db = work / f"ingest-{name}.db"
        first = run_phase(
            "ingest", code=code, db=str(db), sarif=str(sarif), root=str(root), run_id="r1", hours=0
        )
        ingested[name] = _checkpointed(db)
        if name == "candidate":
            _print_ingest(ns, first)
            candidate_first = first
    if "baseline" in sides:
        alternate(
            "ingest of a fresh log (target <= 10 s)", sides, dict.fromkeys(sides), work, ns.rounds, "ingest",
            "total_s", sarif=str(sarif), root=str(root), run_id="r1", hours=0,
        )  # fmt: skip
    again = run_phase(
        "ingest", db=str(_fresh_copy(ingested["candidate"], work / "again.db")), sarif=str(sarif),
        root=str(root), run_id="r2", hours=1,
    )  # fmt: skip
    _print_reingest(again, work / "again.db")
    reingests = alternate(
        "re-ingest, nothing new (target <= 5 s)", sides, ingested, work, ns.rounds, "ingest", "total_s",
        sarif=str(sarif), root=str(root), run_id="r2", hours=1,
    )  # fmt: skip
    summary["sqlite"]["reingest"] = statistics.median(x["total_s"] for x in reingests["candidate"])
    summary["sqlite"]["ingest"] = candidate_first["total_s"]

    if ns.skip_big:
        return _bench_postgres(ns, work, sarif, root, summary) if ns.backend == "both" else 0
    built: dict[str, Path] = {}
    for name, code in sides.items():
        big = work / f"big-{name}.db"
        result = run_phase("build", code=code, db=str(big), big=ns.big)
        built[name] = _checkpointed(big)
        if name == "candidate":
            _print_big(result, big)
    sweeps = alternate(
        "SLA sweep over 1M, 170k changes after 20 h of downtime (target <= 2 s)",
        sides, built, work, ns.rounds, "sweep", "sweep_s", hours=20,
    )  # fmt: skip
    summary["sqlite"]["sweep"] = statistics.median(x["sweep_s"] for x in sweeps["candidate"])
    print("\nSLA sweep over the 1M-finding database, one after another (tracking.sla_sweep)")
    big = _fresh_copy(built["candidate"], work / "sweeps.db")
    for label, hours in (
        ("nothing due (+1 min)", 1 / 60),
        ("criticals due soon (+1.6 h)", 1.6),
        ("criticals breached, highs due soon (+20 h)", 20),
        ("nothing new (+20 h, again)", 20),
    ):
        s = run_phase("sweep", db=str(big), hours=hours)
        _line(label, f"{s['sweep_s']:.2f} s", f"{s['changes']:,} changes, peak {s['peak_rss_mb']:.0f} MB")
    print("  target <= 2 s")
    if ns.backend == "both":
        return _bench_postgres(ns, work, sarif, root, summary)
    return 0


# -- PostgreSQL -----------------------------------------------------------------------------------


def _server_cpu_s(server: Any) -> float:
    """CPU seconds the server's processes used so far: the postmaster's own and its reaped
    children's, and the live children's (a busy host's wall seconds say little; client CPU plus
    server CPU is the work a phase did)."""
    pid = int((server.root / "data" / "postmaster.pid").read_text().split()[0])
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid:
            total += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
        elif int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _pg_phase(server: Any, name: str, **args: Any) -> dict[str, Any]:
    """A phase on PostgreSQL, with the server's CPU seconds during it (``server_cpu_s``) and the
    host's load average at its end (other processes' share of the 2 cores)."""
    before = _server_cpu_s(server)
    result = run_phase(name, **args)
    result["server_cpu_s"] = _server_cpu_s(server) - before
    result["load"] = os.getloadavg()[0]
    return result


def _work(result: dict[str, Any]) -> str:
    return (
        f"cpu {result.get('cpu_s', 0.0):.2f} s + server {result['server_cpu_s']:.2f} s,"
        f" load {result['load']:.1f}"
    )


def _bench_postgres(
    ns: argparse.Namespace, work: Path, sarif: Path, root: Path, summary: dict[str, dict[str, float]]
) -> int:
    """The same phases on a throwaway PostgreSQL server; then both backends side by side."""
    from tests.postgres import postgres_bin, start_server, stop_server

    bin_dir = postgres_bin()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL binaries (initdb, pg_ctl): apt-get install postgresql")
    pg_root = Path(tempfile.mkdtemp(prefix="bench-pg-"))  # beside /tmp: the server's user reaches it
    server = start_server(bin_dir, pg_root)
    try:
        version = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True)
        print(f"\nPostgreSQL: {version.stdout.strip()} (throwaway server, fsync off)")
        pg = summary["postgresql"]
        ingest_db = server.create_database()
        first = _pg_phase(
            server, "ingest", db=server.url(ingest_db), sarif=str(sarif), root=str(root), run_id="r1", hours=0
        )
        _print_ingest(ns, first)
        _line("  CPU: client + server", _work(first))
        times = [first["total_s"]]
        for r in range(1, ns.rounds):  # more rounds of the fresh ingest, each into a new database
            fresh = server.create_database()
            again = _pg_phase(
                server, "ingest", db=server.url(fresh), sarif=str(sarif), root=str(root), run_id="r1", hours=0
            )
            server.drop_database(fresh)
            times.append(again["total_s"])
            _line(f"  round {r + 1}", f"{again['total_s']:.2f} s", _work(again))
        pg["ingest"] = statistics.median(times)
        print(f"\nre-ingest, nothing new (target <= 6 s): {ns.rounds} rounds, each from a fresh clone")
        times = []
        for r in range(ns.rounds):
            clone = server.create_database(ingest_db)
            again = _pg_phase(
                server, "ingest", db=server.url(clone), sarif=str(sarif), root=str(root), run_id="r2", hours=1
            )
            server.drop_database(clone)
            times.append(again["total_s"])
            detail = f"record_run {again.get('record_s', 0):.2f} s, unchanged {again['unchanged']:,}"
            _line(f"round {r + 1}", f"{again['total_s']:.2f} s", f"{_work(again)}, {detail}")
        pg["reingest"] = statistics.median(times)
        if not ns.skip_big:
            big_db = server.create_database()
            built = _pg_phase(server, "build", db=server.url(big_db), big=ns.big)
            print(f"\ndatabase of {ns.big:,} findings built in {built['record_s']:.1f} s (record_run)")
            print(f"\nSLA sweep over 1M, 170k changes (target <= 3 s): {ns.rounds} rounds, fresh clones")
            times = []
            for r in range(ns.rounds):
                clone = server.create_database(big_db)
                swept = _pg_phase(server, "sweep", db=server.url(clone), hours=20)
                server.drop_database(clone)
                times.append(swept["sweep_s"])
                work = f"{swept['changes']:,} changes, {_work(swept)}"
                _line(f"round {r + 1}", f"{swept['sweep_s']:.2f} s", work)
            pg["sweep"] = statistics.median(times)
    finally:
        stop_server(server)
        shutil.rmtree(pg_root, ignore_errors=True)
    print("\nside by side (PostgreSQL: medians of the rounds)")
    _line("measure", "SQLite / PostgreSQL", "PostgreSQL target")
    for key, label, target in (
        ("ingest", "ingest of 100k results", "<= 15 s"),
        ("reingest", "re-ingest, nothing new", "<= 6 s"),
        ("sweep", "SLA sweep over 1M, 170k changes", "<= 3 s"),
    ):
        left = summary["sqlite"].get(key)
        right = summary["postgresql"].get(key)
        text = " / ".join("-" if v is None else f"{v:.2f} s" for v in (left, right))
        _line(label, text, target)
    return 0


def _print_ingest(ns: argparse.Namespace, first: dict[str, Any]) -> None:
    rate = ns.results / first["total_s"]
    print("\ningest of a fresh log (read + parse + fingerprint + reconcile + commit, fresh DB)")
    _line("total", f"{first['total_s']:.2f} s", "target <= 10 s")
    if "via_ingest_file" in first:
        print("  (secscan.app.ingest.ingest_file; build = read + parse + redact + fingerprint)")
    for key in ("open_s", "read_s", "parse_s", "identity_s", "build_s", "record_s"):
        if key in first:
            _line(f"  {key[:-2]}", f"{first[key]:.2f} s")
    _line("new findings", f"{first['new']:,}")
    _line("peak RSS", f"{first['peak_rss_mb']:.0f} MB", "target <= 1024 MB")
    _line("RSS after imports", f"{first['import_rss_mb']:.0f} MB")
    _line("findings/s", f"{rate:,.0f}", f"DefectDojo ~{BASELINE_RATE:.0f}/s")
    _line("speed-up vs 30k in 600 s", f"{rate / BASELINE_RATE:,.0f}x")


def _print_reingest(again: dict[str, Any], db: Path) -> None:
    print("\nre-ingest of the same log (nothing new)")
    _line("total", f"{again['total_s']:.2f} s", "target <= 5 s")
    for key in ("parse_s", "identity_s", "build_s", "record_s", "record_cpu_s"):
        if key in again:
            _line(f"  {key[:-2]}", f"{again[key]:.2f} s")
    _line("new / unchanged", f"{again['new']:,} / {again['unchanged']:,}")
    _line("peak RSS", f"{again['peak_rss_mb']:.0f} MB")
    size, _, count = db_size(db)
    _line("DB size after the two ingests", f"{size / 1e6:.1f} MB", f"{size / max(count, 1):.0f} B/finding")


def _print_big(built: dict[str, Any], big: Path) -> None:
    size, parts, count = db_size(big)
    print(f"\ndatabase of {count:,} findings ({BIG_TARGETS} targets, built with record_run)")
    _line("build (record_run total)", f"{built['record_s']:.1f} s", f"{built['per_target_s']:.2f} s per 100k")
    _line("build peak RSS", f"{built['peak_rss_mb']:.0f} MB")
    _line("size (db + WAL after checkpoint)", f"{size / 1e6:.1f} MB", "target <= 400 MB")
    _line("bytes per finding (all tables)", f"{size / count:.0f} B")
    for name, nbytes in parts[:8]:
        _line(f"  {name}", f"{nbytes / 1e6:.1f} MB")


if __name__ == "__main__":
    raise SystemExit(main())
