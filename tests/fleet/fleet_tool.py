"""A SARIF tool for the fleet tests: notes when it scans which target, and any overlap.

argv: OUTPUT TARGET STATE SLEEP. While it runs, ``STATE/<target>.busy`` holds its pid; finding
the file of a live process at start means two scans of one target at once (``overlaps.log``).
A scan killed with its worker leaves the file of a dead pid (it dies with its parent).
"""

import json
import os
import sys
import time
from pathlib import Path

output, target, state, sleep = (
    Path(sys.argv[1]),
    Path(sys.argv[2]).name,
    Path(sys.argv[3]),
    float(sys.argv[4]),
)
busy = state / f"{target}.busy"


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


if busy.exists():
    try:
        other = int(busy.read_text() or "0")
    except ValueError:
        other = 0
    if other and alive(other):
        with (state / "overlaps.log").open("a") as log:
            log.write(f"{target} {other} {os.getpid()}\n")
tmp = busy.with_suffix(f".{os.getpid()}")
tmp.write_text(str(os.getpid()))
tmp.replace(busy)
with (state / "events.log").open("a") as log:
    log.write(f"start {target} {os.getpid()} {time.time():.3f}\n")
deadline = time.monotonic() + sleep
while time.monotonic() < deadline or (state / f"{target}.hold").exists():
    time.sleep(0.02)
busy.unlink(missing_ok=True)
with (state / "events.log").open("a") as log:
    log.write(f"end {target} {os.getpid()} {time.time():.3f}\n")
sarif = {
    "version": "2.1.0",
    "runs": [{"tool": {"driver": {"name": "fleettool", "rules": []}}, "results": []}],
}
output.write_text(json.dumps(sarif))
