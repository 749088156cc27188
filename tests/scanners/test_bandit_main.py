"""The bandit wrapper's short-cut must never change bandit's results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from secscan.scanners import _bandit_main
from secscan.scanners.bandit import BANDIT_MAIN

ROWS = "".join(f"    'k{i}': ('v{i}', {i}, 'password{i}'),\n" for i in range(400))
BIG_LITERAL = "TABLE = {\n" + ROWS + "}\n"
SOURCES = {
    "data.py": BIG_LITERAL,  # no nosec at all: the short-cut path
    "mixed.py": (
        "import subprocess\n"
        "password = 'hunter2'  # nosec B105\n"
        "subprocess.call('ls', shell=True)  # nosec\n"
        "subprocess.call('ls', shell=True)\n"
        "X = [\n    'a',\n    subprocess.call('x', shell=True),  # nosec B602\n]\n"
        + BIG_LITERAL
    ),
    "plain.py": "import pickle\npickle.loads(b'')\nassert True\n",
}


def _run(module: str, root: Path, out: Path) -> dict[str, Any]:
    subprocess.run([sys.executable, "-P", "-m", module, "-q", "-f", "json", "-o", str(out), "-r", "."],
                   cwd=root, check=False, timeout=120)
    report: dict[str, Any] = json.loads(out.read_text())
    report.pop("generated_at")
    return report


def test_wrapper_gives_exactly_bandits_results(tmp_path: Path) -> None:
    root = tmp_path / "src"
    root.mkdir()
    for name, text in SOURCES.items():
        (root / name).write_text(text)
    ours = _run(BANDIT_MAIN, root, tmp_path / "ours.json")
    theirs = _run("bandit", root, tmp_path / "theirs.json")
    assert ours == theirs
    assert ours["results"], "the corpus must produce findings"
    lines = {(r["filename"], r["line_number"]) for r in ours["results"]}
    assert ("./mixed.py", 4) in lines and ("./mixed.py", 3) not in lines  # nosec still honoured


def test_wrapper_leaves_a_changed_bandit_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from bandit.core import utils

    def get_nosec(nosec_lines: Any, context: Any, extra: Any = None) -> None:
        return None

    monkeypatch.setattr(utils, "get_nosec", get_nosec)
    assert _bandit_main.install() is False
    assert utils.get_nosec is get_nosec


def test_install_is_idempotent_and_equivalent(monkeypatch: pytest.MonkeyPatch) -> None:
    from bandit.core import utils

    original = utils.get_nosec
    monkeypatch.setattr(utils, "get_nosec", original)
    assert _bandit_main.install() is True
    fast = utils.get_nosec
    assert _bandit_main.install() is True and utils.get_nosec is fast
    context = {"linerange": list(range(1, 50))}
    for nosec_lines in ({}, {10: set()}, {60: {"B101"}}, {3: {"B602"}, 7: set()}):
        assert fast(nosec_lines, context) == original(nosec_lines, context)
