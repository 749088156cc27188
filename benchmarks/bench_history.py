"""Benchmark: the git-history scanner, cold and incremental, on a synthetic history of real code.

Target (issue "Coverage"): an unchanged nightly re-run, history included, costs <= 0.05x the cold
run. No public repository can be cloned offline, so the history is built: pip's sdist (the tree
of bench_run.py) replayed as COMMITS commits with git fast-import. The first commit adds a few
dozen files, each later commit adds the next file or rewrites a span of lines of an existing one
with lines of another, so diffs have real code and realistic sizes; a side branch and tags are
added, and SECRETS credentials are planted: half removed again (history-only findings), a few
kept (the tree scan's), one left only on the side branch.

Measured, alternating in each round:
  cold:      secscan run REPO --scanner git-history --no-cache
  unchanged: secscan run REPO --scanner git-history          (cache primed by the previous run)
  +10:       the same after 10 new commits                   (a nightly run after a day's work)
  full cold: secscan run REPO --no-cache                      (every scanner)
  full warm: secscan run REPO                                 (every scanner, nothing changed)
Every run passes --osv-db (the offline PyPA data of bench_run.py): no network.

Usage: python benchmarks/bench_history.py [--commits 3000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import OSV_DATA, Sample, fetch_tree, measure

SECRETS = 12
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _secret(rng: random.Random, i: int) -> str:
    return f'API_PASSWORD_{i} = "{"".join(rng.choice(ALPHABET) for _ in range(24))}"\n'


class History:
    """A fast-import stream writer with the repository's current content in memory."""

    def __init__(self, files: dict[str, list[str]], rng: random.Random) -> None:
        self.pool = files
        self.rng = rng
        self.content: dict[str, list[str]] = {}
        self.out: list[bytes] = []
        self.mark = 0
        self.when = 1_600_000_000

    def commit(self, branch: str, changes: dict[str, list[str] | None], message: str) -> None:
        self.mark += 1
        self.when += 3600
        head = (f"commit refs/heads/{branch}\nmark :{self.mark}\n"
                f"committer Bench <bench@example.com> {self.when} +0000\n")
        msg = message.encode()
        self.out.append(head.encode() + f"data {len(msg)}\n".encode() + msg + b"\n")
        for path, lines in changes.items():
            if lines is None:
                self.out.append(f"D {path}\n".encode())
                self.content.pop(path, None)
                continue
            data = "".join(lines).encode("utf-8", "replace")
            self.out.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
            self.content[path] = lines
        self.out.append(b"\n")

    def edit(self) -> dict[str, list[str] | None]:
        path = self.rng.choice(sorted(self.content))
        lines = list(self.content[path])
        donor = self.pool[self.rng.choice(sorted(self.pool))]
        start = self.rng.randrange(0, max(1, len(lines)))
        cut = self.rng.randint(0, 6)
        take = self.rng.randint(1, 12)
        at = self.rng.randrange(0, max(1, len(donor)))
        lines[start : start + cut] = donor[at : at + take]
        return {path: lines}


def build(repo: Path, tree: Path, commits: int, seed: int = 7) -> dict[str, object]:
    rng = random.Random(seed)
    pool = {}
    for p in sorted(tree.rglob("*")):
        if p.is_file() and p.suffix in {".py", ".txt", ".toml", ".cfg", ".rst", ".md"}:
            text = p.read_text(encoding="utf-8", errors="replace")
            pool[p.relative_to(tree).as_posix()] = text.splitlines(True)
    names = sorted(pool)
    h = History(pool, rng)
    h.commit("main", {n: pool[n] for n in names[:40]}, "initial import")
    remaining = names[40:]
    plant = sorted(rng.sample(range(50, commits - 50), SECRETS))
    removed_later: list[tuple[int, str, str]] = []
    planted = {"removed": 0, "kept": 0}
    for i in range(1, commits):
        if i in plant:
            path = rng.choice(sorted(h.content))
            line = _secret(rng, i)
            lines = list(h.content[path])
            lines.insert(rng.randrange(0, max(1, len(lines))), line)
            h.commit("main", {path: lines}, f"commit {i}")
            if plant.index(i) % 3 != 0:
                removed_later.append((i + rng.randint(5, 40), path, line))
                planted["removed"] += 1
            else:
                planted["kept"] += 1
            continue
        due = [r for r in removed_later if r[0] <= i]
        if due:
            _, path, line = due[0]
            removed_later.remove(due[0])
            lines = [x for x in h.content.get(path, []) if x != line]
            h.commit("main", {path: lines}, f"commit {i}: remove a secret")
            continue
        if remaining and rng.random() < 0.2:
            name = remaining.pop(0)
            h.commit("main", {name: pool[name]}, f"commit {i}: add {name}")
        else:
            h.commit("main", h.edit(), f"commit {i}")
    h.out.append(f"reset refs/heads/side\nfrom :{h.mark - 30}\n\n".encode())
    side = dict(h.content)
    path = sorted(side)[0]
    token = "".join(rng.choice(ALPHABET) for _ in range(24))
    h.commit("side", {path: [*side[path], f'SIDE_PASSWORD = "{token}"\n']}, "side branch secret")
    h.out.append(f"reset refs/tags/v1.0\nfrom :{h.mark - 200}\n\n".encode())
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(h.out), check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=repo, check=True)
    return {"commits": commits + 1, "planted_removed": planted["removed"], "planted_kept": planted["kept"]}


def more_commits(repo: Path, count: int) -> None:
    for i in range(count):
        path = repo / f"nightly_{i}.py"
        path.write_text(f"def nightly_{i}():\n    return {i}\n")
        subprocess.run(["git", "add", path.name], cwd=repo, check=True)
        who = ["-c", "user.name=b", "-c", "user.email=b@example.com"]
        subprocess.run(["git", *who, "commit", "-q", "-m", f"n{i}"], cwd=repo, check=True)


def run(repo: Path, out: Path, *extra: str) -> tuple[Sample, dict[str, object]]:
    doc = out / "doc.json"
    env_cmd = (f'XDG_STATE_HOME="{out / "state"}" "{sys.executable}" -m secscan run . --fail-on none '
               f'--osv-db "{OSV_DATA}" --format json --sarif "{out / "s.sarif"}" {" ".join(extra)} > "{doc}"')
    sample = measure(["/bin/sh", "-c", env_cmd], repo)
    return sample, json.loads(doc.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    tree = fetch_tree("pip")
    rows: dict[str, list[Sample]] = {k: [] for k in ("cold", "unchanged", "+10", "full cold", "full warm")}
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        base = Path(tmp)
        started = time.perf_counter()
        info = build(base / "template", tree, args.commits)
        print(f"history: {info['commits']} commits of pip 24.2's files on main, a side branch and a tag "
              f"(built in {time.perf_counter() - started:.1f} s); planted: {info['planted_removed']} removed "
              f"secrets, {info['planted_kept']} kept in HEAD, 1 only on the side branch")
        history_only = 0
        for r in range(args.repeat):
            repo = base / f"r{r}"
            shutil.copytree(base / "template", repo, symlinks=True)
            out = base / f"o{r}"
            out.mkdir()
            cold, doc = run(repo, out, "--scanner", "git-history", "--no-cache")
            history_only = sum(1 for f in doc["findings"] if f["tool"] == "git-history")  # type: ignore[index,union-attr]
            run(repo, out, "--scanner", "git-history")  # prime the cache
            unchanged, warm_doc = run(repo, out, "--scanner", "git-history")
            same = {f["id"] for f in doc["findings"]} == {f["id"] for f in warm_doc["findings"]}  # type: ignore[index,union-attr]
            more_commits(repo, 10)
            plus, _ = run(repo, out, "--scanner", "git-history")
            full_cold, _ = run(repo, out, "--no-cache")
            run(repo, out)
            full_warm, _ = run(repo, out)
            for key, sample in zip(rows, (cold, unchanged, plus, full_cold, full_warm), strict=True):
                rows[key].append(sample)
            print(f"round {r + 1}: cold {cold.wall_s:.2f} s, unchanged {unchanged.wall_s:.2f} s, "
                  f"+10 commits {plus.wall_s:.2f} s, full cold {full_cold.wall_s:.2f} s, "
                  f"full warm {full_warm.wall_s:.2f} s; warm findings equal cold: {same}", flush=True)
    print(f"\nhistory-only findings: {history_only}")
    print(f"{'run':<34}{'wall s (median)':>16}{'CPU s (median)':>16}{'peak RSS MB':>13}{'tree RSS MB':>13}")
    for key, samples in rows.items():
        print(f"{key:<34}{statistics.median(s.wall_s for s in samples):>16.2f}"
              f"{statistics.median(s.cpu_s for s in samples):>16.2f}"
              f"{max(s.peak_rss_mb for s in samples):>13.0f}{max(s.tree_rss_mb for s in samples):>13.0f}")
    history = [u.wall_s / c.wall_s for u, c in zip(rows["unchanged"], rows["cold"], strict=True)]
    full = [w.wall_s / c.wall_s for w, c in zip(rows["full warm"], rows["full cold"], strict=True)]
    print(f"\ngit-history unchanged / cold: {statistics.median(history):.3f}x "
          f"(rounds {', '.join(f'{x:.3f}' for x in history)})")
    print(f"full run unchanged / cold, history included: {statistics.median(full):.3f}x "
          f"(rounds {', '.join(f'{x:.3f}' for x in full)}; target <= 0.05x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
