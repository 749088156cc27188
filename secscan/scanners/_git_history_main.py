"""``python -m secscan.scanners._git_history_main SPEC``: read a repository's history for secrets.

The git-history adapter (:mod:`secscan.scanners.git_history`) writes a JSON ``SPEC`` and runs
this module as its scanner process. It prints JSON lines (see :mod:`secscan.scanners._history_walk`
for the records): the commit window, what each newly read commit added and removed (type, path,
line and SHA-1 of each secret: never a value), and which blob each path with a secret has at
HEAD and at every branch tip, with the secrets found in each blob not seen before.

Exit code 0 whenever the records say what happened (including a repository git refuses: a
``fatal`` record); anything else is a crash the runner reports.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO


def _emit(out: TextIO) -> Any:
    def emit(record: dict[str, Any]) -> None:
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")

    return emit


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m secscan.scanners._git_history_main SPEC.json\n")
        return 2
    from secscan.scanners._history_spec import Spec
    from secscan.scanners._history_walk import walk

    spec = Spec.from_json(json.loads(Path(args[0]).read_text(encoding="utf-8")))
    out = sys.stdout
    with tempfile.TemporaryDirectory(prefix="secscan-history-") as empty:
        walk(spec, Path(empty), _emit(out))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
