"""Running the real ``secscan`` command in a subprocess: these tests see only its behaviour
(arguments, stdout, stderr, exit code, files), so they hold whatever module the code lives in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CLEARED = ("SECSCAN_DEBUG", "SECSCAN_DB", "SECSCAN_CONFIG", "SECSCAN_OSV_DB", "SECSCAN_FAIL_ON", "COLUMNS")


def secscan(
    *args: str | Path,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``secscan ARGS`` in ``cwd``, its default database in ``cwd/.state``; ``env`` is added."""
    full = {k: v for k, v in os.environ.items() if k not in CLEARED}
    full["XDG_STATE_HOME"] = str(cwd / ".state")
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-P", "-m", "secscan", *map(str, args)],  # -P: cwd not on sys.path
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full,
        check=False,
    )


def small_repo(root: Path) -> Path:
    """A repository with one bandit finding (``subprocess`` with ``shell=True``: high)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"
    )
    return root


def repo_excluding_vendor(root: Path) -> Path:
    """:func:`small_repo` whose own secscan.toml excludes vendor/ (which holds a second finding)."""
    small_repo(root)
    (root / "vendor").mkdir()
    (root / "vendor" / "lib.py").write_text("import subprocess\nsubprocess.call('x', shell=True)\n")
    (root / "secscan.toml").write_text('[scan]\nextend_exclude = ["vendor"]\n')
    return root


def finding_paths(stdout: str) -> set[str]:
    """The paths of the findings in ``secscan run --format json`` output."""
    return {f["path"] for f in json.loads(stdout)["findings"]}
