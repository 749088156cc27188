"""Benchmark: a cold ``secscan run`` on a mixed repository against four tools run by hand.

Targets (issue 14, "Coverage"): a cold run on a mixed repository of about 400 files takes
<= 0.75x the tools run by hand one after another (zizmor, semgrep with the same rules,
detect-secrets, bandit); an unchanged nightly re-run, history included, costs <= 0.05x the cold
run.

The repository is real code fetched from the registries: the npm packages express, axios,
commander, immer and redux (``npm pack``: JavaScript and TypeScript sources) and the sdists of
requests and click (``pip download --no-binary :all: --no-deps``), plus the test workflows and
actions (``tests/assets/zizmor``, ``tests/assets/mixed``), the Pine samples of the semgrep rule
packs and the lockfile fixtures (npm, yarn, pnpm, poetry, uv, Pipfile.lock, pylock). Its history
is built with ``git fast-import``: a first commit of a quarter of the files, then one commit per
remaining file, with a few credentials added to files and removed again a few commits later.

By hand means what a user types in the repository, one after another, with the same rules:
  zizmor --offline --format sarif .
  semgrep scan --config rules/semgrep --no-rewrite-rule-ids --metrics=off --json --quiet .
  detect-secrets scan                       (the repository's tracked files)
  bandit -r . -f json -o OUT -q
secscan: ``secscan run . --no-cache --osv-db tests/scanners/lockfiles/osv`` (every scanner, the
history included), then, with the result cache, a run that primes it and the unchanged re-run.

Each round alternates the two sides on a fresh copy of the repository; figures are medians of
--repeat rounds, wall and CPU (user + system of the whole process tree, from wait4), with the
per-round ratios, since the machine is shared. Findings of the four tools are compared with
secscan's (path, line, rule).

Usage: python benchmarks/bench_mixed.py [--repeat N]
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import Sample, measure

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".bench"
NPM = ("express@4.21.2", "axios@1.7.9", "commander@12.1.0", "immer@10.1.1", "redux@5.0.1")
PYPI = ("requests==2.32.3", "click==8.1.7")
OSV = REPO / "tests" / "scanners" / "lockfiles" / "osv"
HISTORY_SECRETS = 6
Found = set[tuple[str, int, str]]


def _fetch() -> Path:
    """The registries' packages, unpacked once into .bench/mixed-src/<name>."""
    src = CACHE / "mixed-src"
    if src.is_dir():
        return src
    download = CACHE / "mixed-download"
    download.mkdir(parents=True, exist_ok=True)
    for spec in NPM:
        subprocess.run(["npm", "pack", spec, "--silent"], cwd=download, check=True, capture_output=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-q", "-d", str(download),
         *PYPI],
        check=True,
    )  # fmt: skip
    unpack = CACHE / "mixed-unpack"
    for archive in sorted(download.iterdir()):
        name = archive.name.removesuffix(".tgz").removesuffix(".tar.gz")
        with tarfile.open(archive) as tar:
            tar.extractall(unpack / name, filter="data")
        inner = next((unpack / name).iterdir())  # package/ or <name>-<version>/
        target = src / ("web" if archive.suffix == ".tgz" else "python") / name
        target.parent.mkdir(parents=True, exist_ok=True)
        inner.rename(target)
    shutil.rmtree(unpack)
    return src


def _assemble(tree: Path) -> None:
    """The repository's files: the fetched packages and secscan's own fixtures."""
    shutil.copytree(_fetch(), tree)
    assets = REPO / "tests" / "assets"
    shutil.copytree(assets / "zizmor" / "repo" / ".github", tree / ".github")
    for workflow in (assets / "mixed" / "tree" / ".github" / "workflows").iterdir():
        shutil.copy(workflow, tree / ".github" / "workflows" / f"shop-{workflow.name}")
    shutil.copy(assets / "mixed" / "tree" / ".github" / "CODEOWNERS", tree / ".github" / "CODEOWNERS")
    shutil.copy(assets / "mixed" / "tree" / "SECURITY.md", tree / "SECURITY.md")
    for sample in (REPO / "rules" / "semgrep-samples").glob("pine.*/*/*.pine"):
        target = tree / "strategies" / f"{sample.parent.parent.name}-{sample.parent.name}.pine"
        target.parent.mkdir(exist_ok=True)
        shutil.copy(sample, target)
    locks = REPO / "tests" / "scanners" / "lockfiles"
    for folder in locks.iterdir():
        if folder.is_dir() and folder.name != "osv":
            shutil.copytree(folder, tree / "locks" / folder.name)


def _secret(i: int) -> bytes:
    return f'DEPLOY_PASSWORD_{i} = "mx{i}-Qk7vT2pLr9Zw4Hn8"\n'.encode()


def _history(tree: Path) -> tuple[bytes, int]:
    """A fast-import stream whose last commit is ``tree``: a first commit of a quarter of the files,
    then a commit per file; credentials added to a file and removed again a few commits later."""
    files = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    data = {f: (tree / f).read_bytes() for f in files}
    first, rest = files[: len(files) // 4], files[len(files) // 4 :]
    out: list[bytes] = []
    when = 1_700_000_000

    def commit(changes: dict[str, bytes], message: str) -> None:
        nonlocal when
        when += 3600
        msg = message.encode()
        out.append(b"commit refs/heads/main\n" + f"committer Bench <bench@example.com> {when} +0000\n".encode())
        out.append(f"data {len(msg)}\n".encode() + msg + b"\n")
        for path, content in changes.items():
            out.append(f"M 100644 inline {path}\ndata {len(content)}\n".encode() + content + b"\n")
        out.append(b"\n")

    commit({f: data[f] for f in first}, "import")
    step = max(1, len(rest) // (HISTORY_SECRETS + 1))
    removals: dict[int, str] = {}  # commit index -> the file whose credential it removes
    for i, path in enumerate(rest):
        commit({path: data[path]}, f"add {path}")
        due = len(removals) < min(HISTORY_SECRETS, i // step)
        if due and path.endswith((".py", ".js", ".txt")) and data[path].endswith(b"\n"):
            removals[i + 5] = path
            commit({path: data[path] + _secret(len(removals))}, f"configure {path}")
        if i in removals:
            commit({removals[i]: data[removals[i]]}, f"no credentials in {removals[i]}")
    return b"".join(out), len(removals)


def build(template: Path) -> dict[str, int]:
    """The repository in ``template`` (its files checked out); returns its size."""
    tree = template.parent / "files"
    _assemble(tree)
    stream, planted = _history(tree)
    subprocess.run(["git", "init", "-q", "-b", "main", str(template)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=template, input=stream, check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=template, check=True)
    commits = int(subprocess.run(["git", "rev-list", "--count", "main"], cwd=template, check=True,
                                 capture_output=True, text=True).stdout)  # fmt: skip
    files = [p for p in template.rglob("*") if p.is_file() and ".git" not in p.relative_to(template).parts]
    shutil.rmtree(tree)
    size = sum(p.stat().st_size for p in files)
    return {"files": len(files), "bytes": size, "commits": commits, "planted": planted}


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise SystemExit(f"{name} is not installed beside {sys.executable}; pip install -e '.[test,bench]'")
    return str(path)


def by_hand(repo: Path, out: Path) -> dict[str, Sample]:
    os.environ.update({"SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0"})
    py = sys.executable
    return {
        "zizmor": measure([_tool("zizmor"), "--offline", "--format", "sarif", "."], repo, out / "z.sarif"),
        "semgrep": measure(
            [_tool("semgrep"), "scan", "--config", str(REPO / "rules" / "semgrep"), "--no-rewrite-rule-ids",
             "--metrics=off", "--json", "--quiet", "."],
            repo, out / "s.json",
        ),
        "detect-secrets": measure([py, "-m", "detect_secrets", "scan"], repo, out / "ds.json"),
        "bandit": measure([py, "-m", "bandit", "-r", ".", "-f", "json", "-o", str(out / "b.json"), "-q"], repo),
    }  # fmt: skip


def secscan(repo: Path, out: Path, *extra: str) -> tuple[Sample, dict[str, Any]]:
    doc = out / "doc.json"
    command = (
        f'XDG_STATE_HOME="{out / "state"}" "{sys.executable}" -m secscan run . --fail-on none --osv-db "{OSV}" '
        f'--format json --sarif "{out / "o.sarif"}" {" ".join(extra)} > "{doc}"'
    )
    sample = measure(["/bin/sh", "-c", command], repo)
    return sample, json.loads(doc.read_text())


def in_process(repo: Path, out: Path) -> Sample:
    """The unchanged re-run inside this process (``app.run``), as the daemon runs its nightly scans:
    without the interpreter's start and secscan's imports. Same database and result cache."""
    import time

    sys.path.insert(0, str(REPO))
    os.environ["XDG_STATE_HOME"] = str(out / "state")
    from secscan.app import run as app
    from secscan.config.settings import build_settings

    request = app.RunRequest(repo, build_settings({}), out / "in-process.sarif", osv_db=OSV)
    app.run(request)  # first-use costs out of the way
    began, cpu = time.perf_counter(), time.process_time()
    result = app.run(request)
    sample = Sample(time.perf_counter() - began, 0.0, 0.0, time.process_time() - cpu)
    assert result.document["cache"]["misses"] == 0
    return sample


def hand_findings(out: Path) -> dict[str, Found]:
    zizmor: Found = set()
    for run in json.loads((out / "z.sarif").read_text())["runs"]:
        for r in run["results"]:
            where = r["locations"][0]["physicalLocation"]
            zizmor.add((where["artifactLocation"]["uri"].removeprefix("./"), where["region"]["startLine"],
                        r["ruleId"].removeprefix("zizmor/")))  # fmt: skip
    semgrep = {(r["path"], r["start"]["line"], r["check_id"]) for r in json.loads((out / "s.json").read_text())["results"]}
    secrets = json.loads((out / "ds.json").read_text())["results"]
    bandit = json.loads((out / "b.json").read_text())["results"]
    return {
        "zizmor": zizmor,
        "semgrep": semgrep,
        "detect-secrets": {(p, s["line_number"], s["type"]) for p, items in secrets.items() for s in items},
        "bandit": {(r["filename"].removeprefix("./"), r["line_number"], r["test_id"]) for r in bandit},
    }


def _median(samples: list[Sample], what: str) -> float:
    return statistics.median(getattr(s, what) for s in samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules compiled once, not per run
    hand: list[dict[str, Sample]] = []
    rows: dict[str, list[Sample]] = {"cold": [], "unchanged": [], "in-process": []}
    doc: dict[str, Any] = {}
    durations: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-mixed-") as tmp:
        base = Path(tmp)
        info = build(base / "template")
        print(f"repository: {info['files']} files ({info['bytes'] / 1e6:.1f} MB), {info['commits']} commits; "
              f"{os.cpu_count()} CPUs, {args.repeat} rounds")  # fmt: skip
        for r in range(args.repeat):
            repo, out = base / f"r{r}", base / f"o{r}"
            shutil.copytree(base / "template", repo, symlinks=True)
            out.mkdir()
            first = r % 2 == 0  # alternate which side goes first
            if first:
                hand.append(by_hand(repo, out))
            cold, doc = secscan(repo, out, "--no-cache")
            if not first:
                hand.append(by_hand(repo, out))
            secscan(repo, out)  # primes the result cache (and the database)
            unchanged, warm = secscan(repo, out)
            rows["cold"].append(cold)
            rows["unchanged"].append(unchanged)
            rows["in-process"].append(in_process(repo, out))
            durations.append({s["name"]: s["duration_s"] for s in doc["scanners"]})
            same = {f["id"] for f in doc["findings"]} == {f["id"] for f in warm["findings"]}
            total = sum(s.wall_s for s in hand[-1].values())
            print(f"round {r + 1}: by hand {total:.2f} s (CPU {sum(s.cpu_s for s in hand[-1].values()):.2f}), "
                  f"secscan cold {cold.wall_s:.2f} s (CPU {cold.cpu_s:.2f}), unchanged {unchanged.wall_s:.2f} s; "
                  f"cold/by hand {cold.wall_s / total:.3f}, unchanged/cold {unchanged.wall_s / cold.wall_s:.3f}; "
                  f"warm findings equal cold: {same}", flush=True)  # fmt: skip
        theirs = hand_findings(base / f"o{args.repeat - 1}")
    print(f"\n{'command':<30}{'wall s (median)':>16}{'CPU s (median)':>16}{'peak RSS MB':>13}{'tree RSS MB':>13}")
    table = [(f"by hand: {tool}", [h[tool] for h in hand]) for tool in hand[0]]
    table += [("secscan run, cold (--no-cache)", rows["cold"]), ("secscan run, unchanged", rows["unchanged"]),
              ("unchanged, app.run in-process", rows["in-process"])]  # fmt: skip
    for label, samples in table:
        print(f"{label:<30}{_median(samples, 'wall_s'):>16.2f}{_median(samples, 'cpu_s'):>16.2f}"
              f"{max(s.peak_rss_mb for s in samples):>13.0f}{max(s.tree_rss_mb for s in samples):>13.0f}")  # fmt: skip
    sums = [sum(s.wall_s for s in h.values()) for h in hand]
    cpu_sums = [sum(s.cpu_s for s in h.values()) for h in hand]
    print(f"{'by hand: sequential sum':<30}{statistics.median(sums):>16.2f}{statistics.median(cpu_sums):>16.2f}")
    cold = [c.wall_s / h for c, h in zip(rows["cold"], sums, strict=True)]
    cold_cpu = [c.cpu_s / h for c, h in zip(rows["cold"], cpu_sums, strict=True)]
    warm = [u.wall_s / c.wall_s for u, c in zip(rows["unchanged"], rows["cold"], strict=True)]
    warm_cpu = [u.cpu_s / c.cpu_s for u, c in zip(rows["unchanged"], rows["cold"], strict=True)]
    print(f"\ncold / by hand: wall {statistics.median(cold):.3f}x (rounds {', '.join(f'{x:.3f}' for x in cold)}), "
          f"CPU {statistics.median(cold_cpu):.3f}x; target <= 0.75x")  # fmt: skip
    print(f"unchanged / cold: wall {statistics.median(warm):.3f}x (rounds {', '.join(f'{x:.3f}' for x in warm)}), "
          f"CPU {statistics.median(warm_cpu):.3f}x; target <= 0.05x")  # fmt: skip
    nightly = [u.wall_s / c.wall_s for u, c in zip(rows["in-process"], rows["cold"], strict=True)]
    print(f"unchanged in-process (the daemon's nightly run) / cold: wall {statistics.median(nightly):.3f}x "
          f"(rounds {', '.join(f'{x:.3f}' for x in nightly)})")  # fmt: skip
    print(f"floor (by hand CPU / 2 cores / by hand wall): {statistics.median(cpu_sums) / 2 / statistics.median(sums):.3f}x")
    print("\nsecscan's scanners in the cold runs (median s): " + ", ".join(
        f"{name} {statistics.median(d[name] for d in durations):.2f}" for name in durations[0]))  # fmt: skip
    ours: dict[str, Found] = {tool: set() for tool in theirs}
    for f in doc["findings"]:
        if f["tool"] in ours:
            ours[f["tool"]].add((f["path"], f["line"], f["rule"]))
    for tool in theirs:
        same = "equal" if ours[tool] == theirs[tool] else "DIFFER FROM"
        print(f"  {tool}: secscan's {len(ours[tool])} findings {same} the {len(theirs[tool])} found by hand")
        if ours[tool] != theirs[tool]:
            print(f"    only secscan: {sorted(ours[tool] - theirs[tool])[:5]}")
            print(f"    only by hand: {sorted(theirs[tool] - ours[tool])[:5]}")
    history = sum(1 for f in doc["findings"] if f["tool"] == "git-history")
    print(f"  git-history: {history} findings (credentials planted and removed in the history: {info['planted']})")
    print("\ncoverage (cold run): " + "; ".join(
        f"{c['kind']} {c['covered']}/{c['files']}" for c in doc["coverage"]))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
