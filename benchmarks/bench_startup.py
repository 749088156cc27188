"""Benchmark: the start of every command (issue 18), as whole processes.

Targets (issue 18, "Speed on small repositories"):

- ``secscan --version``, ``secscan --help`` and ``secscan <cmd> --help``: <= 0.15 s wall;
- ``secscan status`` and ``secscan findings`` on a small database: <= 0.3 s wall.

It also times ``secscan status`` as the first command of a new database (no target): it creates
the database's schema.

The small database is the bundled example's: one ``secscan run`` of ``examples/vulnerable-app``
into a fresh database (its 12-record OSV folder), made once before the timings. Every command is
a fresh process (``python -m secscan`` with this checkout on ``PYTHONPATH``), timed ``--repeat``
times, alternating with the interpreter's own start (``python -c pass``, the floor no command
can go under), so the two are side by side in each round. With ``--baseline DIR`` (another
checkout, e.g. ``git archive <rev> | tar -x -C DIR``) every command also runs from DIR in the
same rounds, right after this checkout's, and the CPU ratio is printed: wall times swing with
the machine's load, the ratio of CPU seconds much less. The processes may write bytecode, as an
installed secscan has it.

Usage: python benchmarks/bench_startup.py [--repeat N] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "vulnerable-app"
HELP_TARGET_S = 0.15
READ_TARGET_S = 0.3


def timed(
    argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system, from wait4) and stdout of one process."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out_file, stderr=err_file, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if code not in (0, 1):
        raise SystemExit(f"{argv} exited {code}: {err.decode(errors='replace')[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, out.decode(errors="replace")


def side_env(checkout: Path) -> dict[str, str]:
    """The environment that runs ``python -m secscan`` from ``checkout``'s source."""
    return {**os.environ, "PYTHONPATH": str(checkout)}


def small_database(work: Path, env: dict[str, str]) -> Path:
    """The bundled example scanned once into a fresh database."""
    tree = work / "example"
    shutil.copytree(EXAMPLE, tree)
    db = work / "small.db"
    timed([sys.executable, "-m", "secscan", "run", ".", "--db", str(db), "--no-cache", "--fail-on", "none",
           "--sarif", str(work / "example.sarif")], tree, env)
    return db


def commands(env: dict[str, str]) -> list[str]:
    """The sub-commands, as ``secscan --help`` lists them."""
    _, _, text = timed([sys.executable, "-m", "secscan", "--help"], env=env)
    match = re.search(r"\{([a-z,-]+)\}", text)
    if match is None:
        raise SystemExit(f"no command list in secscan --help:\n{text}")
    return match.group(1).split(",")


def cases(db: Path, names: list[str]) -> dict[str, tuple[list[str], float]]:
    secscan = [sys.executable, "-m", "secscan"]
    return {
        "python -c pass (floor)": ([sys.executable, "-c", "pass"], 0.0),
        "secscan --version": ([*secscan, "--version"], HELP_TARGET_S),
        "secscan --help": ([*secscan, "--help"], HELP_TARGET_S),
        **{f"secscan {n} --help": ([*secscan, n, "--help"], HELP_TARGET_S) for n in names},
        "secscan status": ([*secscan, "status", "--db", str(db)], READ_TARGET_S),
        "secscan findings": ([*secscan, "findings", "--db", str(db)], READ_TARGET_S),
        # a first command: it creates the database (no target; each run gets a new file)
        "secscan status, new database": ([*secscan, "status", "--db", NEW_DB], 0.0),
    }


NEW_DB = "{new database}"
_made = iter(range(1_000_000))


def concrete(argv: list[str], work: Path) -> list[str]:
    """``argv`` with :data:`NEW_DB` replaced by a database file that does not exist yet."""
    return [str(work / f"new-{next(_made)}.db") if a == NEW_DB else a for a in argv]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout to time in the same rounds")
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules compiled once, not per run
    sides = {"this": REPO, **({"base": args.baseline.resolve()} if args.baseline else {})}
    envs = {side: side_env(path) for side, path in sides.items()}
    names = commands(envs["this"])
    walls: dict[tuple[str, str], list[float]] = {}
    cpus: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        plans: dict[str, dict[str, tuple[list[str], float]]] = {}
        for side, env in envs.items():
            work = Path(tmp) / side
            work.mkdir()
            plans[side] = cases(small_database(work, env), names)
            for argv, _ in plans[side].values():
                timed(concrete(argv, work), work, env)  # bytecode written, the page cache warm
        for _ in range(args.repeat):
            for name in plans["this"]:  # the floor and every command, each side, in each round
                for side, env in envs.items():
                    work = Path(tmp) / side
                    wall, cpu, _ = timed(concrete(plans[side][name][0], work), work, env)
                    walls.setdefault((side, name), []).append(wall)
                    cpus.setdefault((side, name), []).append(cpu)
    load = os.getloadavg()
    print(f"{args.repeat} rounds, {os.cpu_count()} CPUs, "
          f"load average after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    head = f"{'command':<32}{'wall s':>8}{'CPU s':>8}{'target s':>10}{'wall/target':>13}  met"
    if args.baseline:
        head += f"{'base wall s':>13}{'base CPU s':>12}{'CPU this/base':>15}"
    print(head + "   (medians)")
    met_all = True
    for name, (_, target) in plans["this"].items():
        wall = statistics.median(walls["this", name])
        cpu = statistics.median(cpus["this", name])
        line = f"{name:<32}{wall:>8.3f}{cpu:>8.3f}"
        if target:
            met = wall <= target
            met_all &= met
            line += f"{target:>10.2f}{wall / target:>13.2f}  {'yes' if met else 'NO '}"
        else:
            line += " " * 28
        if args.baseline:
            base_wall = statistics.median(walls["base", name])
            base_cpu = statistics.median(cpus["base", name])
            line += f"{base_wall:>13.3f}{base_cpu:>12.3f}{cpu / base_cpu:>15.2f}"
        print(line)
    print(f"\nevery target met (wall): {'yes' if met_all else 'no'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
