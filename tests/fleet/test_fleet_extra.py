"""Every ``secscan fleet`` command without the fleet extra: one line and exit 2, not exit 70.

Before the fix only ``fleet migrate`` checked for the extra first; ``worker``, ``status`` and
``scan-now`` imported the fleet modules (which import procrastinate) before the check and
ended in ``internal error: ModuleNotFoundError``. A subprocess hides the extra from the import
system (``sys.modules[name] = None`` makes ``import name`` raise ImportError) and calls the CLI.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_WITHOUT = """
import sys
sys.modules[{module!r}] = None  # as if the fleet extra did not install it
from secscan.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("module", ["procrastinate", "psycopg_pool"])
@pytest.mark.parametrize(
    "command",
    [["migrate"], ["worker", "--config", "{config}"], ["status"], ["scan-now", "--config", "{config}"]],
)
def test_each_fleet_command_without_the_extra_says_how_to_install_it(
    tmp_path: Path, command: list[str], module: str
) -> None:
    config = tmp_path / "fleet.toml"
    config.write_text(f'[[daemon.targets]]\npath = "{tmp_path}"\n')
    argv = ["fleet", *(arg.format(config=config) for arg in command), "--db", "postgresql://u@127.0.0.1:1/x"]
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT.format(module=module), *argv],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"secscan: error: secscan fleet needs the fleet extra ({module} is missing): "
        "pip install 'secscan[fleet]'\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fleet.toml"]
