"""Fleet rounds (issue 17): repositories per hour with 1 and 2 worker processes, cold and warm.

    python benchmarks/bench_fleet.py [--repos 200] [--scanners detect-secrets,posture]

A throwaway PostgreSQL server (``tests/postgres.py``; fsync off) holds the store and the queue;
``--repos`` small git repositories (a few Python files, a requirements file, one fake secret
each) are the targets. For 1 and then 2 worker processes (``secscan fleet worker``,
concurrency 1 each) on a fresh database and a fresh result cache, two rounds are enqueued with
``secscan fleet scan-now`` and timed from the enqueue to the last target done: the cold round
(empty cache) and the warm round (same repositories, cache kept). CPU seconds are the workers'
(their scanners included) and the PostgreSQL server's, read from /proc (psutil).

Printed: repositories per hour, the scaling ratio (2 workers over 1), per-repository costs, the
queue overhead per job (the gap on one worker between a job's row finishing and its next job's
row starting: fetch, lock and bookkeeping, no scanning), the enqueue cost per job, and the paper
extrapolation to 5,000 repositories in a 4-hour night.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ALL_SCANNERS = ("bandit", "detect-secrets", "pip-audit", "lockfile-audit", "zizmor", "semgrep", "git-history",
                "posture")  # fmt: skip
NIGHT_S = 4 * 3600
FLEET_REPOS = 5000
ROUND_TIMEOUT_S = 3600


def make_repos(root: Path, count: int) -> list[str]:
    from tests import gitrepo

    names = []
    for i in range(count):
        name = f"svc{i:04d}"
        repo = gitrepo.init(root / name)
        for j in range(5):
            (repo / f"mod{j}.py").write_text(
                f'"""Module {j} of {name}."""\n\n\ndef handler_{j}(event):\n    return {{"id": {i * 10 + j}, '
                f'"ok": True}}\n'
            )
        (repo / "settings.py").write_text(f'API_KEY = "AKIA{i:016d}"\nDEBUG = False\n')
        (repo / "requirements.txt").write_text("requests==2.31.0\nflask==3.0.0\n")
        gitrepo.git(repo, "add", "-A")
        gitrepo.git(repo, "commit", "-q", "-m", "init", when=1_700_000_000 + i)
        names.append(name)
    return names


def write_config(path: Path, repos: Path, names: list[str], scanners: list[str]) -> None:
    off = "".join(f"[scanners.{s}]\nenabled = false\n" for s in ALL_SCANNERS if s not in scanners)
    targets = "".join(f'[[daemon.targets]]\npath = "{repos / n}"\nname = "{n}"\n' for n in names)
    path.write_text(
        f'[scan]\nfail_on = "none"\n{off}[daemon]\nhealth_listen = "127.0.0.1:0"\n'
        f'[fleet]\ntick = "*/2 * * * * *"\nheartbeat_every = 2\nstalled_after = 30\n{targets}'
    )


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process, its live children and its reaped children."""
    try:
        proc = psutil.Process(pid)
        t = proc.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in proc.children(recursive=True):
            try:
                c = child.cpu_times()
                total += c.user + c.system
            except psutil.Error:
                pass
        return total
    except psutil.Error:
        return 0.0


def postmaster_pid(data: Path) -> int:
    return int((data / "postmaster.pid").read_text().splitlines()[0])


def query(conninfo: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(conninfo) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]  # type: ignore[arg-type]


def run_round(
    env: dict[str, str],
    config: Path,
    db: str,
    conninfo: str,
    key: str,
    workers: list[int],
    server: int,
    n: int,
) -> dict[str, Any]:
    cpu0 = sum(tree_cpu(p) for p in workers)
    srv0 = tree_cpu(server)
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "secscan", "fleet", "scan-now", "--config", str(config), "--db", db,
         "--round", key, "--format", "json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    enqueue_s = time.monotonic() - start
    if len(json.loads(out.stdout)["enqueued"]) != n:
        raise SystemExit(f"round {key} was not enqueued whole: {out.stdout}")
    connections = 0
    while True:
        connections = max(
            connections,
            query(conninfo, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")[0][0]
            - 1,
        )
        rows = query(conninfo, f"SELECT count(*) FROM secscan_fleet_targets WHERE round_key = '{key}' "  # noqa: S608
                     "AND state IN ('complete', 'partial', 'failed')")  # fmt: skip
        if rows[0][0] >= n:
            break
        if time.monotonic() - start > ROUND_TIMEOUT_S:
            logs = "".join(p.read_text(errors="replace")[-2000:] for p in config.parent.glob("worker*.log"))
            raise SystemExit(f"round {key} not done after {ROUND_TIMEOUT_S} s; worker logs:\n{logs}")
        time.sleep(0.25)
    wall = time.monotonic() - start
    cpu = sum(tree_cpu(p) for p in workers) - cpu0
    srv = tree_cpu(server) - srv0
    spans = query(
        conninfo,
        "SELECT worker, started_at, finished_at, state FROM secscan_fleet_targets "  # noqa: S608
        f"WHERE round_key = '{key}' ORDER BY worker, started_at",
    )
    scans = [(f - s).total_seconds() for _w, s, f, _st in spans]
    gaps = [
        (b[1] - a[2]).total_seconds() for a, b in itertools.pairwise(spans) if a[0] == b[0]
    ]  # fmt: skip
    states = sorted({str(r[3]) for r in spans})
    return {"wall_s": wall, "cpu_s": cpu, "server_cpu_s": srv, "enqueue_s": enqueue_s, "scan_s": scans,
            "gaps_s": gaps, "states": states, "connections": connections}  # fmt: skip


def noop_jobs(conninfo: str, names: list[str], workers: list[int], server: int) -> dict[str, float]:
    """The queue's own cost per job: one more scan job per target of the done round "cold" (each
    takes its target's lock and row, finds it complete, scans nothing), timed to the last one."""
    from secscan.daemon.fleet.enqueue import defer_app, defer_scan

    cpu0, srv0 = sum(tree_cpu(p) for p in workers), tree_cpu(server)
    start = time.monotonic()
    with defer_app(conninfo) as app:
        ids = [defer_scan(app, "cold", name, "scans") for name in names]
    deferred = time.monotonic() - start
    listed = ",".join(str(i) for i in ids)
    while query(conninfo, f"SELECT count(*) FROM procrastinate_jobs WHERE id IN ({listed}) "  # noqa: S608
                "AND status IN ('succeeded', 'failed')")[0][0] < len(ids):  # fmt: skip
        time.sleep(0.05)
    wall = time.monotonic() - start
    return {"wall_s": wall, "defer_s": deferred, "cpu_s": sum(tree_cpu(p) for p in workers) - cpu0,
            "server_cpu_s": tree_cpu(server) - srv0}  # fmt: skip


def bench(
    workers: int, names: list[str], repos: Path, scanners: list[str], server: Any, work: Path
) -> dict[str, Any]:
    dbname = server.create_database()
    db, conninfo = server.url(dbname), server.conninfo(dbname)
    home = work / f"w{workers}"
    config = home / "fleet.toml"
    home.mkdir()
    write_config(config, repos, names, scanners)
    env = {**os.environ, "XDG_STATE_HOME": str(home / "state"), "XDG_CACHE_HOME": str(home / "cache")}
    subprocess.run([sys.executable, "-m", "secscan", "fleet", "migrate", "--db", db], env=env, check=True,
                   capture_output=True)  # fmt: skip
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "secscan", "fleet", "worker", "-q", "--config", str(config), "--db", db],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(home / f"worker{i}.log").open("wb"),
        )
        for i in range(workers)
    ]
    time.sleep(3)  # started and registered
    pm = postmaster_pid(server.root / "data")
    try:
        cold = run_round(env, config, db, conninfo, "cold", [p.pid for p in procs], pm, len(names))
        warm = run_round(env, config, db, conninfo, "warm", [p.pid for p in procs], pm, len(names))
        noop = noop_jobs(conninfo, names, [p.pid for p in procs], pm)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
        server.drop_database(dbname)
    return {"cold": cold, "warm": warm, "noop": noop}


def report(results: dict[int, dict[str, Any]], n: int) -> None:
    print(f"\n{'workers':>7} {'round':>5} {'wall s':>8} {'repos/h':>8} {'CPU s':>8} {'srv CPU s':>9} "
          f"{'scan s/repo':>11} {'gap s p50':>9} {'gap s p95':>9} {'enqueue s/job':>13}")  # fmt: skip
    for w, rounds in results.items():
        for name, r in rounds.items():
            if name == "noop":
                continue
            gaps = sorted(r["gaps_s"]) or [0.0]
            p95 = gaps[min(len(gaps) - 1, int(0.95 * len(gaps)))]
            print(f"{w:>7} {name:>5} {r['wall_s']:>8.1f} {3600 * n / r['wall_s']:>8.0f} {r['cpu_s']:>8.1f} "
                  f"{r['server_cpu_s']:>9.1f} {statistics.mean(r['scan_s']):>11.2f} "
                  f"{statistics.median(gaps):>9.3f} {p95:>9.3f} {r['enqueue_s'] / n:>13.4f}  "
                  f"{r['states']}, up to {r['connections']} connections")  # fmt: skip
    for w, rounds in results.items():
        noop = rounds["noop"]
        print(f"no-op job path, {w} worker(s): {n} jobs in {noop['wall_s']:.2f} s wall = "
              f"{noop['wall_s'] / n:.3f} s per job ({noop['wall_s'] * w / n:.3f} s of a worker's time), "
              f"defer {noop['defer_s'] / n * 1000:.1f} ms per job; CPU {noop['cpu_s'] / n * 1000:.0f} ms "
              f"worker + {noop['server_cpu_s'] / n * 1000:.0f} ms server per job")  # fmt: skip
    if 1 in results and 2 in results:
        for name in ("cold", "warm"):
            ratio = results[1][name]["wall_s"] / results[2][name]["wall_s"]
            print(f"scaling 1 -> 2 workers, {name}: {ratio:.2f}x (2.00x is linear)")
    print(f"\npaper extrapolation: {FLEET_REPOS} repositories in a {NIGHT_S // 3600}-hour night")
    one = results.get(1) or next(iter(results.values()))
    for name in ("cold", "warm"):
        r = one[name]
        per_repo_wall = r["wall_s"] / n  # one worker, concurrency 1: the wall time a repository costs it
        per_repo_cpu = (r["cpu_s"] + r["server_cpu_s"]) / n
        workers = FLEET_REPOS * per_repo_wall / NIGHT_S
        cores = FLEET_REPOS * per_repo_cpu / NIGHT_S
        print(
            f"  {name}: {per_repo_wall:.2f} s wall and {per_repo_cpu:.2f} CPU s per repository -> "
            f"{workers:.2f} worker(s) of concurrency 1 busy all night, {cores:.2f} core(s) of CPU"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=200)
    parser.add_argument("--scanners", default="detect-secrets,posture")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure (comma-separated)")
    ns = parser.parse_args()
    from tests.postgres import postgres_bin, start_server, stop_server

    bin_dir = postgres_bin()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL binaries (initdb, pg_ctl): apt-get install postgresql")
    work = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    pg_root = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    server = start_server(bin_dir, pg_root)
    try:
        repos = work / "repos"
        began = time.monotonic()
        names = make_repos(repos, ns.repos)
        print(f"{ns.repos} repositories made in {time.monotonic() - began:.1f} s; scanners: {ns.scanners}; "
              f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")  # fmt: skip
        scanners = [s.strip() for s in ns.scanners.split(",") if s.strip()]
        results = {}
        for w in (int(x) for x in ns.workers.split(",")):
            results[w] = bench(w, names, repos, scanners, server, work)
            cold, warm = results[w]["cold"]["wall_s"], results[w]["warm"]["wall_s"]
            print(f"  {w} worker(s): cold {cold:.1f} s, warm {warm:.1f} s")
        report(results, ns.repos)
    finally:
        stop_server(server)
        shutil.rmtree(pg_root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
