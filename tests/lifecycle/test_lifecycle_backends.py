"""The same history on SQLite and on PostgreSQL gives the same documents: ``findings``, ``show``,
``sla`` and ``report`` in JSON (only run ids and times may differ, and here they do not: both
stores are seeded with the same runs at the same instants)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from lifecycle_helpers import H, run_cli, seed

from secscan.core.policy import SeverityPolicy
from secscan.report import api
from secscan.store import open_store

_CLOCK = {"generated_at"}
"""Keys of the report that read the wall clock as it runs (the other thing allowed to differ)."""


def _runs_named_in_order(doc: object, names: dict[str, str] | None = None) -> object:
    """``doc`` with each run id replaced by ``run-N`` in order of first appearance (run ids are
    random) and without the wall clock's readings."""
    names = {} if names is None else names
    if isinstance(doc, dict):
        return {
            k: names.setdefault(v, f"run-{len(names)}") if k == "run_id" and isinstance(v, str)
            else _runs_named_in_order(v, names)
            for k, v in doc.items() if k not in _CLOCK
        }  # fmt: skip
    if isinstance(doc, list):
        return [_runs_named_in_order(v, names) for v in doc]
    return doc


def _documents(db: str, ids: list[str], tmp: Path, now: datetime) -> dict[str, object]:
    docs: dict[str, object] = {}
    for name, argv in (
        ("findings", ["findings", "--db", db, "--format", "json", "--state", "all"]),
        ("sla", ["sla", "--db", db, "--format", "json"]),
        *((f"show {i}", ["show", i, "--db", db, "--format", "json"]) for i in ids),
    ):
        result = run_cli(*argv)
        assert result.code == 0, result.err
        docs[name] = _runs_named_in_order(json.loads(result.out))
    with open_store(db) as store:  # the report at a fixed instant (the CLI's reads the clock)
        out = api.write_report(store, tmp / "report.json", "json", now)
    docs["report"] = _runs_named_in_order(json.loads(out.read_text()))
    return docs


def test_both_backends_give_the_same_documents(
    tmp_path: Path, postgres_url: str, policy: SeverityPolicy
) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0) - 30 * H
    sqlite_db = str(tmp_path / "s" / "secscan.db")
    found = {}
    for name, db in (("sqlite", sqlite_db), ("postgresql", postgres_url)):
        (tmp_path / name).mkdir()
        with open_store(db) as store:
            found[name] = seed(store, policy, t0, tmp_path / name)
    assert found["sqlite"] == found["postgresql"]
    ids = [found["sqlite"].a, found["sqlite"].b, found["sqlite"].f]
    left = _documents(sqlite_db, ids, tmp_path / "sqlite", t0 + 30 * H)
    right = _documents(postgres_url, ids, tmp_path / "postgresql", t0 + 30 * H)
    for key in left:
        if right[key] != left[key]:
            a, b = json.dumps(left[key], indent=1).splitlines(), json.dumps(right[key], indent=1).splitlines()
            diff = [f"{x} | {y}" for x, y in zip(a, b, strict=False) if x != y]
            raise AssertionError(f"{key}: {diff[:6]}")
