"""Benchmark: secscan's zizmor and semgrep scanners against the two tools run by hand.

The tree is a real JavaScript codebase, eslint's npm package (``npm pack eslint@10.16.0``, about
420 files), plus GitHub Actions workflows and Pine scripts copied from the test fixtures
(``tests/assets/zizmor/repo`` three times, ``rules/semgrep-samples/pine.*``).

By hand means what a user types, with the same rules:
  zizmor --offline --format sarif .
  semgrep scan --config rules/semgrep --no-rewrite-rule-ids --metrics=off --json .
secscan: ``secscan run . --scanner zizmor --scanner semgrep --no-cache --format json``.

Runs alternate (by hand, secscan) and the median of --repeat rounds is reported, with the
findings of both sides compared (path, line, rule).

Usage: python benchmarks/bench_sast.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from bench_run import Sample, measure

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".bench"
PACKAGE = "eslint@10.16.0"
Found = set[tuple[str, int, str]]


def fetch_tree() -> Path:
    tree = CACHE / "sast-eslint"
    if tree.is_dir():
        return tree
    CACHE.mkdir(exist_ok=True)
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=CACHE, check=True, capture_output=True)
    archive = next(CACHE.glob("eslint-*.tgz"))
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE / "sast-unpack", filter="data")
    (CACHE / "sast-unpack" / "package").rename(tree)
    for copy in ("", "services/api/", "services/web/"):
        shutil.copytree(REPO / "tests" / "assets" / "zizmor" / "repo" / ".github", tree / copy / ".github")
    for sample in (REPO / "rules" / "semgrep-samples").glob("pine.*/*/*.pine"):
        target = tree / "strategies" / f"{sample.parent.parent.name}-{sample.parent.name}.pine"
        target.parent.mkdir(exist_ok=True)
        shutil.copy(sample, target)
    # A repository of its own, as a real checkout is: .bench/ is git-ignored in secscan's checkout,
    # and both tools look for the enclosing repository (semgrep skips ignored files, zizmor writes
    # its URIs relative to the repository's root).
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q", "."], cwd=tree, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tree, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "bench tree"], cwd=tree, check=True)
    return tree


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise SystemExit(f"{name} is not installed beside {sys.executable}; pip install -e '.[test,bench]'")
    return str(path)


def by_hand(tree: Path, out: Path) -> dict[str, Sample]:
    env = {"SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0"}
    os.environ.update(env)
    return {
        "zizmor": measure([_tool("zizmor"), "--offline", "--format", "sarif", "."], tree, out / "z.sarif"),
        "semgrep": measure(
            [_tool("semgrep"), "scan", "--config", str(REPO / "rules" / "semgrep"), "--no-rewrite-rule-ids",
             "--metrics=off", "--json", "--quiet", "."],
            tree,
            out / "s.json",
        ),
    }  # fmt: skip


def secscan(tree: Path, out: Path) -> tuple[Sample, dict[str, object]]:
    doc = out / "secscan.json"
    sample = measure(
        ["/bin/sh", "-c", f'"{sys.executable}" -m secscan run . --scanner zizmor --scanner semgrep '
                          f'--fail-on none --no-cache --format json --sarif "{out / "o.sarif"}" > "{doc}"'],
        tree,
    )  # fmt: skip
    return sample, json.loads(doc.read_text())


def hand_findings(out: Path) -> dict[str, Found]:
    zizmor: Found = set()
    for run in json.loads((out / "z.sarif").read_text())["runs"]:
        for r in run["results"]:
            where = r["locations"][0]["physicalLocation"]
            uri = where["artifactLocation"]["uri"].removeprefix("./")
            zizmor.add((uri, where["region"]["startLine"], r["ruleId"].removeprefix("zizmor/")))
    results = json.loads((out / "s.json").read_text())["results"]
    semgrep = {(r["path"], r["start"]["line"], r["check_id"]) for r in results}
    return {"zizmor": zizmor, "semgrep": semgrep}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    tree = fetch_tree()
    files = [p for p in tree.rglob("*") if p.is_file() and ".git" not in p.relative_to(tree).parts]
    size = sum(p.stat().st_size for p in files) / 1e6
    print(f"tree: {PACKAGE} + workflows + Pine scripts ({len(files)} files, {size:.1f} MB), "
          f"{os.cpu_count()} CPUs, {args.repeat} rounds")  # fmt: skip
    hand: list[dict[str, Sample]] = []
    ours: list[Sample] = []
    doc: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for i in range(args.repeat):
            hand.append(by_hand(tree, out))
            sample, doc = secscan(tree, out)
            ours.append(sample)
            total = sum(s.wall_s for s in hand[-1].values())
            print(f"round {i + 1}: by hand {total:.2f} s, secscan {sample.wall_s:.2f} s, "
                  f"ratio {sample.wall_s / total:.3f}", flush=True)  # fmt: skip
        theirs = hand_findings(out)
    print(f"\n{'command':<28}{'wall s (median)':>16}{'CPU s (median)':>16}{'peak RSS MB':>14}")
    rows = [(f"by hand: {tool}", [r[tool] for r in hand]) for tool in ("zizmor", "semgrep")]
    for label, samples in [*rows, ("secscan run (cold)", ours)]:
        wall = statistics.median(s.wall_s for s in samples)
        cpu = statistics.median(s.cpu_s for s in samples)
        print(f"{label:<28}{wall:>16.2f}{cpu:>16.2f}{max(s.peak_rss_mb for s in samples):>14.0f}")
    sums = [sum(s.wall_s for s in r.values()) for r in hand]
    cpu_sum = statistics.median(sum(s.cpu_s for s in r.values()) for r in hand)
    print(f"{'by hand: sequential sum':<28}{statistics.median(sums):>16.2f}{cpu_sum:>16.2f}")
    ratios = [o.wall_s / h for o, h in zip(ours, sums, strict=True)]
    print(f"\nratio secscan / sequential sum, median of per-round ratios: {statistics.median(ratios):.2f}x "
          f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})")  # fmt: skip
    found: dict[str, Found] = {"zizmor": set(), "semgrep": set()}
    findings = doc.get("findings", [])
    for f in findings if isinstance(findings, list) else []:
        found[f["tool"]].add((f["path"], f["line"], f["rule"]))
    for s in doc.get("scanners", []) if isinstance(doc.get("scanners"), list) else []:
        print(f"  secscan {s['name']}: {s['status']}, {s['duration_s']} s, {s['findings']} findings")
    for tool in found:
        same = "equal" if found[tool] == theirs[tool] else "DIFFER FROM"
        print(f"  {tool}: secscan's findings {same} the {len(theirs[tool])} found by hand")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
