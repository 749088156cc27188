"""The store persists and decides nothing: loading it loads none of the lifecycle's rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RULES = (
    "secscan.core.triage",
    "secscan.core.decisions",
    "secscan.core.reconcile",
    "secscan.core.seen_again",
    "secscan.core.sla_upkeep",
    "secscan.app.tracking",
)


def test_the_store_imports_no_rule_of_the_lifecycle() -> None:
    code = (
        "import json, pkgutil, importlib, sys, secscan.store as s\n"
        "for p in (s, importlib.import_module('secscan.store.sqlite')):\n"
        "    for m in pkgutil.iter_modules(p.__path__):\n"
        "        importlib.import_module(p.__name__ + '.' + m.name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    loaded = set(json.loads(proc.stdout))
    assert "secscan.store.sqlite.store" in loaded and "secscan.store.sqlite.report" in loaded
    assert loaded.isdisjoint(RULES), sorted(loaded & set(RULES))
