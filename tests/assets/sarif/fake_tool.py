"""A tiny SARIF-producing "tool" for the generic adapter's tests.

usage: fake_tool.py (--output FILE | --stdout) --target DIR [--exit N] [--garbage] [--banner]
                    [--scratch DIR] FILE...
Reports one result per FILE (rule FT001, absolute file:// URI under DIR for the first one,
relative URIs for the rest) plus one result in vendor/ignored.py, which is not a job file.
--banner prints checkov's kind of banner before the log on stdout; --scratch writes a file
``scratch.txt`` into an existing folder DIR (exit 2 when it does not exist).
"""

import argparse
import json
import sys
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--output")
parser.add_argument("--stdout", action="store_true")
parser.add_argument("--target", required=True)
parser.add_argument("--exit", type=int, default=1)
parser.add_argument("--garbage", action="store_true")
parser.add_argument("--banner", action="store_true")
parser.add_argument("--scratch")
parser.add_argument("files", nargs="*")
args = parser.parse_args()
if args.scratch:
    if not Path(args.scratch).is_dir():
        sys.exit(2)
    Path(args.scratch, "scratch.txt").write_text("used\n")
if args.banner:
    sys.stdout.write("  _____ \n |_   _|  {fake}\n   | |\n\nBy Fake Cloud | version: 0.1\n\n")

uris = [Path(args.target, f).resolve().as_uri() if i == 0 else f for i, f in enumerate(args.files)]
results = [
    {
        "ruleId": "FT001",
        "level": "error",
        "message": {"text": f"finding in {uri} (cwd {Path.cwd().name})"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 1}}}],
    }
    for uri in [*uris, "vendor/ignored.py"]
]
log = {
    "version": "2.1.0",
    "runs": [
        {
            "tool": {
                "driver": {
                    "name": "Fake Tool",
                    "version": "0.1",
                    "rules": [{"id": "FT001", "shortDescription": {"text": "Fake rule"}}],
                }
            },
            "results": results,
        }
    ],
}
text = "{ not json" if args.garbage else json.dumps(log)
if args.stdout:
    sys.stdout.write(text)
else:
    Path(args.output).write_text(text, encoding="utf-8")
sys.exit(args.exit)
