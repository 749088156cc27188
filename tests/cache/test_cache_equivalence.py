"""A warm run gives exactly the findings, ids, messages and SARIF of a cold run (issue 7)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cache_helpers import Runner, copy_example, entries, settings_for

from tests import gitrepo

pytestmark = pytest.mark.e2e


def test_example_cold_and_warm_runs_are_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = Runner(tmp_path, monkeypatch)
    target = copy_example(tmp_path / "app")
    # a git repository, with a secret only its history holds: git-history takes part too
    gitrepo.init(target)
    gitrepo.commit_tree(target, when=1_700_000_000)
    gitrepo.commit(target, {"old.py": 'password = "c4che-equiv-Hist0ry-91"\n'}, when=1_700_000_100)
    gitrepo.commit(target, {"old.py": None}, when=1_700_000_200)
    settings = settings_for(target, tmp_path / "cache.db")

    no_cache = run(target, settings, use_cache=False)
    cold = run(target, settings)
    warm = run(target, settings)  # every file a hit: merged from the per-file entries
    whole = run(target, settings)  # the merged outputs that run remembered

    assert no_cache.cache == {"enabled": False, "hits": 0, "misses": 0}
    assert cold.cache["hits"] == 0 and cold.cache["misses"] > 0
    assert warm.cache == {"enabled": True, "hits": cold.cache["misses"], "misses": 0}
    assert no_cache.document["findings"], "the example has findings: the comparison must not be vacuous"
    assert any(f["tool"] == "git-history" for f in warm.document["findings"])
    statuses = {s["name"]: s["status"] for s in warm.document["scanners"]}
    assert {statuses[name] for name in ("bandit", "detect-secrets", "pip-audit", "git-history", "posture")} == {"ok"}
    assert set(statuses.values()) <= {"ok", "skipped"}  # the example has nothing for zizmor or semgrep
    assert cold.comparable() == no_cache.comparable()
    assert warm.comparable() == cold.comparable()
    assert whole.comparable() == cold.comparable() and whole.cache == warm.cache
    # nothing changed: not one scanner process started
    assert cold.commands and warm.commands == () and whole.commands == ()


def _mutate(target: Path) -> None:
    """Edits, a deletion, a rename, a move into a new folder and a copy."""
    app = target / "app"
    handlers = app / "handlers.py"
    handlers.write_text(handlers.read_text() + "\n\ndef later(cmd):\n    import os\n    os.system(cmd)\n")
    (app / "keys.py").unlink()
    (app / "settings.py").rename(app / "config.py")
    (app / "lib").mkdir()
    shutil.copy(app / "config.py", app / "lib" / "copied_settings.py")
    (target / "tools").mkdir()
    (app / "__init__.py").rename(target / "tools" / "__init__.py")
    req = target / "requirements.txt"
    req.write_text(req.read_text() + "jinja2==2.10\n")


def test_tree_with_edits_deletions_renames_and_moves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = Runner(tmp_path, monkeypatch)
    target = copy_example(tmp_path / "app")
    settings = settings_for(target, tmp_path / "cache.db")
    run(target, settings)  # warms the cache
    _mutate(target)

    warm = run(target, settings)
    cold = run(target, settings, use_cache=False)

    assert warm.comparable() == cold.comparable()
    assert warm.cache["hits"] > 0 and warm.cache["misses"] > 0
    paths = {f["path"] for f in cold.document["findings"]}
    assert {"app/config.py", "app/lib/copied_settings.py"} <= paths and "app/keys.py" not in paths
    # bandit was given only the changed file: renamed, moved and copied files came from the cache
    bandit_files = {arg for c in warm.commands if "secscan.scanners._bandit_main" in c.argv for arg in c.argv}
    assert "app/handlers.py" in bandit_files
    assert not {"app/config.py", "app/lib/copied_settings.py", "tools/__init__.py"} & bandit_files


def test_rerun_after_the_mutations_is_fully_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = Runner(tmp_path, monkeypatch)
    target = copy_example(tmp_path / "app")
    settings = settings_for(target, tmp_path / "cache.db", {"scan": {"fail_on": "none"}})
    first = run(target, settings, only=["bandit", "detect-secrets"])
    stored = len(entries(tmp_path / "cache.db"))
    again = run(target, settings, only=["bandit", "detect-secrets"])
    assert again.commands == () and again.comparable() == first.comparable()
    assert len(entries(tmp_path / "cache.db")) == stored + 2  # each scanner's merged output only
    third = run(target, settings, only=["bandit", "detect-secrets"])
    assert third.commands == () and third.comparable() == first.comparable()
    assert len(entries(tmp_path / "cache.db")) == stored + 2  # a hit stores nothing new
