"""A SARIF tool that tries to outlive its scan, for the process-lifetime tests.

argv: OUTPUT PIDS FLAG. Starts three helpers that sleep for a minute and ignore SIGTERM: one in
its own process group (``child``), one in a new session (``setsid``), and one that daemonises by
a double fork (``daemon``: its parent exits, so it is orphaned). Writes their pids and its own
to PIDS, then sleeps while FLAG exists and writes an empty SARIF log to OUTPUT, leaving the
helpers behind.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

output, pids_path, flag = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
HANG = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"

child = subprocess.Popen([sys.executable, "-c", HANG])
setsid = subprocess.Popen([sys.executable, "-c", HANG], start_new_session=True)
read_end, write_end = os.pipe()
middle = os.fork()
if middle == 0:
    os.setsid()
    daemon = os.fork()
    if daemon == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(60)
        os._exit(0)
    os.write(write_end, str(daemon).encode())
    os._exit(0)
os.waitpid(middle, 0)
daemon_pid = int(os.read(read_end, 32))
pids = {"tool": os.getpid(), "child": child.pid, "setsid": setsid.pid, "daemon": daemon_pid}
pids_path.write_text(json.dumps(pids))
deadline = time.monotonic() + 60
while flag.exists() and time.monotonic() < deadline:
    time.sleep(0.05)
log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "escaping", "rules": []}}, "results": []}]}
output.write_text(json.dumps(log))
