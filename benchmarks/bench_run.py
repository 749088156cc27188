"""Benchmark: a cold ``secscan run`` against the three scanners run by hand, one after another.

Target (issue "secscan run"): secscan <= 0.75x the sequential sum on a 2-core machine.

The tree is a real Python codebase unpacked from its sdist (pip or django, fetched with
``pip download``). A pinned requirements file of real packages is added to it so that pip-audit
has work to do; both sides query the same offline OSV database (the PyPA advisory data set in
../shared/data/osv-pypi) through secscan's loopback OSV server.

By hand means what a user types:
  bandit -r TREE -f json -o OUT -q
  detect-secrets scan --all-files            (cwd TREE; its default process count)
  pip-audit -r requirements-bench.txt --no-deps --disable-pip -s osv --osv-url URL -f json

Each command's wall time and peak RSS (the largest process, from wait4) is measured, and the
whole process tree's summed RSS is sampled every 20 ms. Runs alternate (by hand, secscan) and
the median of --repeat rounds is reported.

Usage: python benchmarks/bench_run.py [--project pip|django] [--repeat N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".bench"
OSV_DATA = REPO.parent / "shared" / "data" / "osv-pypi"
PROJECTS = {"pip": "pip==24.2", "django": "Django==5.1.3"}

# Real packages with real advisories in the data set, pinned at affected and unaffected versions.
PINNED = """\
django==3.2.0
jinja2==2.10
pyyaml==5.3
requests==2.19.0
urllib3==1.24.1
flask==0.12
werkzeug==0.15.0
pillow==8.0.0
lxml==4.6.2
cryptography==3.2
sqlparse==0.4.1
gunicorn==19.4.0
babel==2.9.0
bleach==3.1.0
celery==5.2.1
aiohttp==3.8.0
paramiko==2.4.0
twisted==20.3.0
tornado==6.0
rsa==4.0
"""


@dataclass(frozen=True)
class Sample:
    wall_s: float
    peak_rss_mb: float  # largest single process (wait4 ru_maxrss)
    tree_rss_mb: float  # largest sampled sum over the process tree
    cpu_s: float = 0.0  # user + system time of the process and the children it waited for


def fetch_sdist(spec: str) -> tuple[Path, bool]:
    """``name==version``'s sdist from PyPI, unpacked once under CACHE; True when just unpacked."""
    CACHE.mkdir(exist_ok=True)
    name, version = spec.split("==")
    tree = CACHE / f"{name.lower()}-{version}"
    if tree.is_dir():
        return tree, False
    sdists = CACHE / "sdists"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                    "-d", str(sdists), spec, "-q"], check=True)
    archive = next(p for p in sdists.iterdir() if p.name.lower().startswith(f"{name.lower()}-{version}"))
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    extracted = next(p for p in CACHE.iterdir() if p.is_dir() and p.name.lower() == tree.name)
    extracted.rename(tree)
    return tree, True


def fetch_tree(project: str) -> Path:
    tree, _ = fetch_sdist(PROJECTS[project])
    (tree / "requirements-bench.txt").write_text(PINNED)
    return tree


def measure(argv: list[str], cwd: Path, stdout: Path | None = None) -> Sample:
    start = time.perf_counter()
    sink = stdout.open("wb") if stdout else subprocess.DEVNULL
    proc = subprocess.Popen(argv, cwd=cwd, stdout=sink, stderr=subprocess.PIPE)
    peak_tree = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        root = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                total = 0
                for p in procs:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
                peak_tree = max(peak_tree, total)
            except psutil.Error:
                return
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if stdout:
        sink.close()  # type: ignore[union-attr]
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{argv[:4]} exited {code}: {stderr[-500:]}")
    return Sample(wall, usage.ru_maxrss / 1024, peak_tree / 1024 / 1024, usage.ru_utime + usage.ru_stime)


def by_hand(tree: Path, osv_url: str, out: Path) -> dict[str, Sample]:
    py = sys.executable
    return {
        "bandit": measure([py, "-m", "bandit", "-r", ".", "-f", "json", "-o", str(out / "b.json"), "-q"],
                          tree),
        "detect-secrets": measure([py, "-m", "detect_secrets", "scan", "--all-files"], tree, out / "ds.json"),
        "pip-audit": measure([py, "-m", "pip_audit", "-r", "requirements-bench.txt", "--no-deps",
                              "--disable-pip", "-s", "osv", "--osv-url", osv_url, "-f", "json",
                              "--progress-spinner", "off", "--cache-dir", str(out / "pa-cache")], tree),
    }


def secscan(tree: Path, out: Path) -> tuple[Sample, dict[str, object]]:
    doc = out / "secscan.json"
    sample = measure(
        ["/bin/sh", "-c", f'"{sys.executable}" -m secscan run . --osv-db "{OSV_DATA}" --fail-on none '
                          f'--no-cache --format json --sarif "{out / "s.sarif"}" > "{doc}"'],
        tree,
    )
    return sample, json.loads(doc.read_text())


def same_findings(out: Path, doc: dict[str, object]) -> dict[str, tuple[bool, int]]:
    """Whether secscan reported exactly what bandit and detect-secrets found by hand (last round)."""
    found = doc.get("findings", [])
    ours: dict[str, set[tuple[str, int, str]]] = {"bandit": set(), "detect-secrets": set()}
    for f in found if isinstance(found, list) else []:
        if f["tool"] in ours:
            ours[f["tool"]].add((f["path"], f["line"], f["rule"]))
    bandit = json.loads((out / "b.json").read_text())["results"]
    secrets = json.loads((out / "ds.json").read_text())["results"]
    theirs = {
        "bandit": {(r["filename"].removeprefix("./"), r["line_number"], r["test_id"]) for r in bandit},
        "detect-secrets": {(p, s["line_number"], s["type"]) for p, items in secrets.items() for s in items},
    }
    return {tool: (ours[tool] == theirs[tool], len(theirs[tool])) for tool in ours}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", choices=sorted(PROJECTS), default="pip")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules compiled once, not per run
    sys.path.insert(0, str(REPO))
    from secscan.scanners.osv.database import OsvDatabase
    from secscan.scanners.osv.server import OsvServer

    tree = fetch_tree(args.project)
    py_files = sum(1 for _ in tree.rglob("*.py"))
    size_mb = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file()) / 1e6
    print(f"tree: {tree.name} ({py_files} .py files, {size_mb:.1f} MB), {os.cpu_count()} CPUs, "
          f"{args.repeat} rounds")
    hand_rounds: list[dict[str, Sample]] = []
    ours: list[Sample] = []
    doc: dict[str, object] = {}
    with OsvServer(OsvDatabase.load(OSV_DATA)) as server, tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for i in range(args.repeat):
            hand_rounds.append(by_hand(tree, server.query_url, out))
            sample, doc = secscan(tree, out)
            ours.append(sample)
            total = sum(s.wall_s for s in hand_rounds[-1].values())
            print(f"round {i + 1}: by hand {total:.2f} s, secscan {sample.wall_s:.2f} s, "
                  f"ratio {sample.wall_s / total:.3f}", flush=True)
        equal = same_findings(out, doc)
    print()
    print(f"{'command':<28}{'wall s (median)':>16}{'CPU s (median)':>16}{'peak RSS MB':>14}"
          f"{'tree RSS MB':>14}")
    for tool in ("bandit", "detect-secrets", "pip-audit"):
        samples = [r[tool] for r in hand_rounds]
        print(f"{'by hand: ' + tool:<28}{statistics.median(s.wall_s for s in samples):>16.2f}"
              f"{statistics.median(s.cpu_s for s in samples):>16.2f}"
              f"{max(s.peak_rss_mb for s in samples):>14.0f}{max(s.tree_rss_mb for s in samples):>14.0f}")
    sums = [sum(s.wall_s for s in r.values()) for r in hand_rounds]
    cpu_sums = [sum(s.cpu_s for s in r.values()) for r in hand_rounds]
    seq = statistics.median(sums)
    cold = statistics.median(s.wall_s for s in ours)
    print(f"{'by hand: sequential sum':<28}{seq:>16.2f}{statistics.median(cpu_sums):>16.2f}")
    print(f"{'secscan run (cold)':<28}{cold:>16.2f}{statistics.median(s.cpu_s for s in ours):>16.2f}"
          f"{max(s.peak_rss_mb for s in ours):>14.0f}{max(s.tree_rss_mb for s in ours):>14.0f}")
    cores = os.cpu_count() or 1
    floors = [c / cores / w for c, w in zip(cpu_sums, sums, strict=True)]
    print(f"CPU floor of the tools as they are (their CPU / {cores} cores / sequential sum): "
          f"{statistics.median(floors):.2f}x")
    ratios = [o.wall_s / h for o, h in zip(ours, sums, strict=True)]
    print(f"\nratio secscan / sequential sum, median of per-round ratios: {statistics.median(ratios):.2f}x "
          f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}; target <= 0.75x)")
    print(f"ratio of medians: {cold / seq:.2f}x")
    scanners = doc.get("scanners", [])
    for s in scanners if isinstance(scanners, list) else []:
        print(f"  secscan {s['name']}: {s['status']}, {s['duration_s']} s, {s['findings']} findings")
    for tool, (same, count) in equal.items():
        print(f"  {tool}: secscan's findings {'equal' if same else 'DIFFER FROM'} the {count} found by hand")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
