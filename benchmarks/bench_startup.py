"""Benchmark: the start of every command (issue 18), as whole processes.

Targets (issue 18, "Speed on small repositories"):

- ``secscan --version``, ``secscan --help`` and ``secscan <cmd> --help``: <= 0.15 s wall;
- ``secscan status`` and ``secscan findings`` on a small database: <= 0.3 s wall.

The small database is the bundled example's: one ``secscan run`` of ``examples/vulnerable-app``
into a fresh database (its 12-record OSV folder), made once before the timings. Every command is
a fresh process of the installed console script (``secscan`` beside this interpreter), timed
``--repeat`` times, alternating with the interpreter's own start (``python -c pass``, the floor
no command can go under), so the two are side by side in each round. The processes may write
bytecode, as an installed secscan has it.

Usage: python benchmarks/bench_startup.py [--repeat N]
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


def _secscan() -> list[str]:
    script = Path(sys.executable).with_name("secscan")
    return [str(script)] if script.exists() else [sys.executable, "-m", "secscan"]


def timed(argv: list[str], cwd: Path | None = None) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system, from wait4) and stdout of one process."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out_file, stderr=err_file)
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


def small_database(work: Path) -> Path:
    """The bundled example scanned once into a fresh database."""
    tree = work / "example"
    shutil.copytree(EXAMPLE, tree)
    db = work / "small.db"
    timed([*_secscan(), "run", ".", "--db", str(db), "--no-cache", "--fail-on", "none",
               "--sarif", str(work / "example.sarif")], tree)
    return db


def commands() -> list[str]:
    """The sub-commands, as ``secscan --help`` lists them."""
    _, _, text = timed([*_secscan(), "--help"])
    match = re.search(r"\{([a-z,-]+)\}", text)
    if match is None:
        raise SystemExit(f"no command list in secscan --help:\n{text}")
    return match.group(1).split(",")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules compiled once, not per run
    secscan = _secscan()
    names = commands()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = small_database(work)
        cases: dict[str, tuple[list[str], float]] = {
            "python -c pass (floor)": ([sys.executable, "-c", "pass"], 0.0),
            "secscan --version": ([*secscan, "--version"], HELP_TARGET_S),
            "secscan --help": ([*secscan, "--help"], HELP_TARGET_S),
            **{f"secscan {n} --help": ([*secscan, n, "--help"], HELP_TARGET_S) for n in names},
            "secscan status": ([*secscan, "status", "--db", str(db)], READ_TARGET_S),
            "secscan findings": ([*secscan, "findings", "--db", str(db)], READ_TARGET_S),
        }
        for argv, _ in cases.values():
            timed(argv, work)  # bytecode written, the page cache warm
        walls: dict[str, list[float]] = {name: [] for name in cases}
        cpus: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, (argv, _) in cases.items():  # the floor and every command in each round
                wall, cpu, _ = timed(argv, work)
                walls[name].append(wall)
                cpus[name].append(cpu)
    load = os.getloadavg()
    print(f"{args.repeat} rounds, {os.cpu_count()} CPUs, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'command':<32}{'wall s (median)':>16}{'CPU s (median)':>16}{'target s':>10}"
          f"{'wall / target':>15}  met")
    met_all = True
    for name, (_, target) in cases.items():
        wall = statistics.median(walls[name])
        cpu = statistics.median(cpus[name])
        if not target:
            print(f"{name:<32}{wall:>16.3f}{cpu:>16.3f}")
            continue
        met = wall <= target
        met_all &= met
        print(f"{name:<32}{wall:>16.3f}{cpu:>16.3f}{target:>10.2f}{wall / target:>15.2f}  "
              f"{'yes' if met else 'NO'}")
    print(f"\nevery target met: {'yes' if met_all else 'no'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
