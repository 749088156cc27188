"""Benchmark: the dashboard over 1M findings and a year of runs (issue 8), on a small database,
and the installed footprint (issue 19).

Targets: ``secscan report --format html`` over a database of 1M findings and 1 year of nightly
runs takes <= 5 s, and the HTML is <= 2 MB (issue 8); on a small database (``--small``) the whole
``secscan report`` process takes <= 1 s, and ``pip install .`` takes < 180 MB (``--install``,
issue 19).

``--small`` records 4 targets x 10 nightly runs (about 640 findings of 8 tools, with rule names,
packages, triage and suppressions) through ``Store.record_run`` of the interpreter measured, then
times ``python -m secscan report`` as a whole process (wall and CPU of the child). With
``--baseline-python PATH`` the same is measured with another installation's interpreter (an
older secscan) and the ratio printed beside it. ``--install DIR`` creates a venv in DIR, runs
``pip install`` of this repository and prints its size and largest packages.

The database is generated straight into the store's own schema (``open_store`` creates it; rows
go in with ``executemany``, like ``bench_store.py``'s bulk paths), because recording 3,650 runs
through ``record_run`` would take an hour: 10 targets x 365 nightly runs (3 scanners each, about
1 in 30 partial), 1M findings with first sightings spread over the year, worst severities rare,
about 65% fixed (MTTR from minutes to weeks), 5% triaged, 5% reopened, the rest open; a
consistent history (opened, fixed, reopened, triaged, sla-breached) of about 2M entries, triage
decisions, ``introduced_at`` for 30% (MTTD) and a few upload outbox rows.

Measured, each in a fresh process: ``secscan report`` end to end through ``cli.main`` for html,
md and json (imports included), the in-process ``build_dashboard`` alone, and the compliance
evidence of the last month (``--period``).

Usage: python benchmarks/bench_report.py [--findings 1000000] [--targets 10] [--days 365]
                                         [--workdir DIR] [--keep] [--repeat 3]
       python benchmarks/bench_report.py --small [--baseline-python OLD/bin/python] [--repeat 5]
       python benchmarks/bench_report.py --install /tmp/secscan-venv [--baseline-python ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
SEED = 20261126
SEVERITIES = ["critical"] * 2 + ["high"] * 15 + ["medium"] * 40 + ["low"] * 30 + ["info"] * 13
WINDOWS = {"critical": 2 * 3600, "high": 24 * 3600, "medium": 7 * 86400, "low": 30 * 86400, "info": None}
TOOLS = {"semgrep": 60, "codeql": 40, "trivy": 25}
_FINDINGS_INSERT = (
    "INSERT INTO findings (id, target_id, fingerprint, tool_ref, rule_ref, path_ref, line, message_ref, "
    "severity, state, first_seen, last_seen, fixed_at, last_run_id, sla_started_at, sla_paused_at, "
    "sla_paused_s, triage_status, triage_reason, triage_actor, triage_at, triage_until, baseline_sig, "
    "introduced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _texts(cur: sqlite3.Cursor, values: list[str]) -> dict[str, int]:
    from secscan.store.sqlite.texts import text_hash

    ids = {}
    for v in values:
        cur.execute("INSERT INTO texts (hash, value) VALUES (?, ?)", (text_hash(v), v))
        ids[v] = int(cur.lastrowid or 0)
    return ids


def generate(db: Path, findings: int, targets: int, days: int) -> dict[str, float]:
    from secscan.store import open_store

    start = time.perf_counter()
    open_store(db).close()  # the schema, migrated to head
    rng = random.Random(SEED)
    now = int(NOW.timestamp())
    year_ago = now - days * 86400
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA journal_mode = WAL")
    cur = conn.cursor()
    cur.execute("BEGIN")
    tools = _texts(cur, list(TOOLS))
    rules = _texts(cur, [f"{t}.python.rule-{r:03d}" for t, n in TOOLS.items() for r in range(n)])
    rule_list = [(tools[t], rules[f"{t}.python.rule-{r:03d}"]) for t, n in TOOLS.items() for r in range(n)]
    messages = list(
        _texts(cur, [f"Detected a problem of kind {k} in this code." for k in range(100)]).values()
    )
    run_pks: list[list[int]] = []
    for t in range(targets):
        cur.execute(
            "INSERT INTO targets (name, root, created_at) VALUES (?, ?, ?)",
            (f"service{t:02d}", f"/srv/service{t:02d}", year_ago),
        )
        mine = []
        for d in range(days):
            at = year_ago + d * 86400 + 7200 + t * 60
            status = "partial" if rng.random() < 1 / 30 else "complete"
            cur.execute(
                "INSERT INTO runs (run_id, target_id, status, started_at, finished_at, new, unchanged, "
                "reopened, fixed) VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0)",
                (
                    f"{datetime.fromtimestamp(at, UTC):%Y%m%dT%H%M%SZ}-{t:02d}{d:06d}",
                    t + 1,
                    status,
                    at,
                    at + 600,
                ),
            )
            pk = int(cur.lastrowid or 0)
            mine.append(pk)
            cur.executemany(
                "INSERT INTO scanner_runs (run_id, tool, version, status, duration_s, exit_code, findings, "
                "reason) "
                "VALUES (?, ?, '1.0', ?, 60.0, ?, 0, ?)",
                [
                    (
                        pk,
                        tool,
                        "failed" if status == "partial" and i == 2 else "ok",
                        2 if status == "partial" and i == 2 else 0,
                        "exit 2" if status == "partial" and i == 2 else None,
                    )
                    for i, tool in enumerate(TOOLS)
                ],
            )
        run_pks.append(mine)
    paths = {
        t: list(
            _texts(
                cur, [f"service{t:02d}/src/pkg{i // 100:03d}/module_{i:05d}.py" for i in range(5000)]
            ).values()
        )
        for t in range(targets)
    }
    rows, history, decisions, sla_rows = [], [], [], []
    for n in range(findings):
        t = n % targets
        sev = SEVERITIES[rng.randrange(100)]
        first = year_ago + rng.randrange(days * 86400 - 3600)
        tool, rule = rule_list[rng.randrange(len(rule_list))]
        roll = rng.random()
        fixed_at = paused = triage = None
        state, fid = "unchanged", n + 1
        history.append((fid, first, "opened", None, "new", "secscan", ""))
        if roll < 0.65:
            fixed_at = min(now - 60, first + int(rng.expovariate(1 / (WINDOWS[sev] or 86400 * 20))) + 60)
            state, paused = "fixed", fixed_at
            history.append((fid, fixed_at, "fixed", "new", "fixed", "secscan", ""))
        elif roll < 0.70:
            state = "triaged"
            paused = min(now - 60, first + rng.randrange(3 * 86400))
            triage = (
                "accepted-risk" if rng.random() < 0.6 else "false-positive",
                "reviewed",
                "alice",
                paused,
                None,
            )
            history.append((fid, paused, "triaged", "new", "triaged", "alice", "reviewed"))
            decisions.append((fid, *triage))
        elif roll < 0.75:
            state = "reopened"
            gone = min(now - 120, first + rng.randrange(5 * 86400))
            back = min(now - 60, gone + rng.randrange(20 * 86400))
            history.append((fid, gone, "fixed", "new", "fixed", "secscan", ""))
            history.append((fid, back, "reopened", "fixed", "reopened", "secscan", ""))
        window = WINDOWS[sev]
        due = None if window is None else first + window
        if due is not None and due < now and (paused is None or paused > due):
            history.append((fid, due + 1, "sla-breached", state, state, "secscan", "SLA within -> breached"))
        fp = hashlib.sha256(f"{t}/{n}".encode()).digest()
        intro = first - rng.randrange(30 * 86400) if rng.random() < 0.3 else None
        last_run = run_pks[t][min(len(run_pks[t]) - 1, (first - year_ago) // 86400)]
        rows.append(
            (
                fid,
                t + 1,
                fp,
                tool,
                rule,
                paths[t][rng.randrange(5000)],
                rng.randrange(2, 400),
                messages[rng.randrange(100)],
                sev,
                state,
                first,
                fixed_at or now,
                fixed_at,
                last_run,
                first,
                paused,
                0,
                *(triage[:4] if triage else (None,) * 4),
                None,
                None,
                intro,
            )
        )
        sla_rows.append((fid, due, "within"))
    cur.executemany(
        _FINDINGS_INSERT,
        rows,
    )
    # the derived SLA columns (revision 0002 keeps them in their own table); the report never reads them
    cur.executemany("INSERT INTO finding_sla (finding_id, due_at, sla_status) VALUES (?, ?, ?)", sla_rows)
    cur.executemany(
        "INSERT INTO history (finding_id, at, event, from_state, to_state, actor, reason) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        history,
    )
    cur.executemany(
        "INSERT INTO triage_decisions (finding_id, status, reason, actor, decided_at, until) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        decisions,
    )
    cur.executemany(
        "INSERT INTO outbox_uploads (kind, key, payload, status, attempts, next_attempt_at, last_error, "
        "created_at, "
        "delivered_at) VALUES ('sarif', ?, '{}', ?, ?, ?, ?, ?, ?)",
        [
            (
                f"upload-{i}",
                "delivered" if i % 50 else "dead",
                1 if i % 50 else 8,
                now,
                None if i % 50 else "HTTP 422",
                now - i * 3600,
                now - i * 3600 + 60 if i % 50 else None,
            )
            for i in range(200)
        ],
    )
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    return {
        "generate_s": time.perf_counter() - start,
        "history_rows": len(history),
        "db_mb": db.stat().st_size / 1e6,
    }


def _child(code: str) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def measure_cli(db: Path, fmt: str, out: Path, extra: list[str]) -> dict[str, float]:
    """``secscan report`` through ``cli.main`` in a fresh interpreter (imports included)."""
    code = f"""
import json, resource, time
t = time.perf_counter()
from secscan.cli.main import main
code = main(["report", "--db", {str(db)!r}, "--format", {fmt!r}, "--output", {str(out)!r}, *{extra!r}])
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"total_s": time.perf_counter() - t, "cpu_s": use.ru_utime + use.ru_stime, "code": code}}))
"""
    result = _child(code)
    result["bytes"] = out.stat().st_size
    return result


def measure_build(db: Path) -> dict[str, float]:
    code = f"""
import json, time
from datetime import datetime, UTC
from secscan.store import open_store
from secscan.report import api
now = datetime.fromisoformat({NOW.isoformat()!r})
with open_store({str(db)!r}) as store:
    t = time.perf_counter(); c = time.process_time(); report = api.build_dashboard(store, now)
    build, build_cpu = time.perf_counter() - t, time.process_time() - c
    t = time.perf_counter(); c = time.process_time(); text = api.render(report, "html")
    render, render_cpu = time.perf_counter() - t, time.process_time() - c
print(json.dumps({{"build_s": build, "build_cpu_s": build_cpu, "render_html_s": render,
                  "render_html_cpu_s": render_cpu, "open": report.open, "total": report.total}}))
"""
    return _child(code)


SMALL = Path(__file__).resolve().parent / "report_small_db.py"


def whole_process(python: str, args: list[str], repeat: int) -> list[tuple[float, float]]:
    """(wall s, CPU s) of ``python -m secscan ARGS`` as a whole process, ``repeat`` times."""
    import resource

    found = []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([python, "-m", "secscan", *args], check=True, capture_output=True, cwd="/")
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        found.append((wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime))
    return found


def small(work: Path, pythons: dict[str, str], repeat: int) -> None:
    """The whole ``secscan report`` process on a small database, per interpreter."""
    medians: dict[str, float] = {}
    for label, python in pythons.items():
        db = work / f"small-{label}.db"
        if not db.exists():
            subprocess.run([python, str(SMALL), str(db)], check=True, cwd="/")
        for fmt in ("html", "md", "json"):
            out = work / f"small-{label}.{fmt}"
            runs = whole_process(
                python, ["report", "--db", str(db), "--format", fmt, "--output", str(out)], repeat
            )
            wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
            medians[f"{label} {fmt}"] = wall
            ratio = ""
            if label != "candidate" and f"candidate {fmt}" in medians:
                ratio = f", candidate/{label} {medians[f'candidate {fmt}'] / wall:.2f}x"
            print(
                f"small db, {label:<9} secscan report --format {fmt:<4}: wall median {wall:.2f} s "
                f"(min {min(w for w, _ in runs):.2f}), CPU {cpu:.2f} s, "
                f"{out.stat().st_size / 1e3:.0f} kB{ratio}",
                flush=True,
            )
    html = medians["candidate html"]
    print(
        f"target: small db html <= 1 s: {'met' if html <= 1 else 'MISSED'} ({html:.2f} s wall, whole process)"
    )


def install(folder: Path) -> None:
    """``pip install`` of this repository into a fresh venv in ``folder``: its size on disk."""
    if folder.exists():
        shutil.rmtree(folder)
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    subprocess.run([str(folder / "bin" / "pip"), "install", "-q", str(REPO)], check=True)

    def size(path: Path) -> int:
        return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())

    total = size(folder)
    site = next((folder / "lib").glob("python3*/site-packages"))
    biggest = sorted(((size(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)[:8]
    verdict = "met" if total < 180e6 else "MISSED"
    print(f"pip install . into {folder}: {total / 1e6:.0f} MB (target < 180 MB: {verdict})")
    for n, name in biggest:
        print(f"  {n / 1e6:6.1f} MB  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--targets", type=int, default=10)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--small", action="store_true", help="time secscan report on a small database")
    parser.add_argument(
        "--baseline-python", help="also measure --small with this interpreter (an older secscan)"
    )
    parser.add_argument(
        "--install", type=Path, metavar="DIR", help="measure pip install . into a venv in DIR"
    )
    args = parser.parse_args()
    if args.install is not None:
        install(args.install)
        return 0
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-report-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "report.db"
    if args.small:
        pythons = {"candidate": sys.executable}
        if args.baseline_python:
            pythons["baseline"] = args.baseline_python
        try:
            small(work, pythons, args.repeat)
        finally:
            if not args.keep and args.workdir is None:
                shutil.rmtree(work, ignore_errors=True)
        return 0
    try:
        if not db.exists():
            print(
                f"generating {args.findings:,} findings, {args.targets} targets x {args.days} days ...",
                flush=True,
            )
            print(json.dumps(generate(db, args.findings, args.targets, args.days)), flush=True)
        print(json.dumps(measure_build(db)), flush=True)
        for fmt, extra in (("html", []), ("md", []), ("json", []), ("md", ["--period", f"{NOW:%Y-%m}"])):
            runs = [measure_cli(db, fmt, work / f"report.{fmt}", extra) for _ in range(args.repeat)]
            times = [r["total_s"] for r in runs]
            cpu = statistics.median(r["cpu_s"] for r in runs)
            label = fmt + (" --period" if extra else "")
            print(
                f"secscan report {label:<12} wall median {statistics.median(times):.2f} s "
                f"(min {min(times):.2f}, max {max(times):.2f}), CPU {cpu:.2f} s, "
                f"{runs[-1]['bytes'] / 1e6:.2f} MB, exit {runs[-1]['code']:.0f}",
                flush=True,
            )
        html = measure_cli(db, "html", work / "report.html", [])
        print(
            f"target: html <= 5 s: {'met' if html['total_s'] <= 5 else 'MISSED'} "
            f"({html['total_s']:.2f} s wall, "
            f"{html['cpu_s']:.2f} s CPU); "
            f"html <= 2 MB: {'met' if html['bytes'] <= 2e6 else 'MISSED'} ({html['bytes'] / 1e6:.2f} MB)"
        )
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
