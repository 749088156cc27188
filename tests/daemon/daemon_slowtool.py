"""A SARIF tool for the daemon tests: sleeps while FLAG exists, then writes an empty SARIF log.

argv: OUTPUT FLAG. Gives the tests a run that is reliably "mid-run" for as long as they need.
"""

import json
import sys
import time
from pathlib import Path

output, flag = Path(sys.argv[1]), Path(sys.argv[2])
deadline = time.monotonic() + 120
while flag.exists() and time.monotonic() < deadline:
    time.sleep(0.05)
log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "slowtool", "rules": []}}, "results": []}]}
output.write_text(json.dumps(log))
