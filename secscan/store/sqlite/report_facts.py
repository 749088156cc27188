"""What the report names, written with each run: rule names and tags, and dependency packages.

Called by the run's recording (``SqliteRecording.apply``) inside its write transaction, after the
findings are written, so a run's facts are stored with it or not at all. Rules are kept for the
(tool, rule id) pairs of the run's findings only (a scanner's whole catalogue would fill
``texts`` with ids no finding has); packages for the findings that carry one. Both are upserts
that leave an unchanged row alone: a nightly re-run of unchanged code writes nothing here.
Values come from the run's scanner results, which the pipeline has already redacted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from secscan.core.model import Package, ScanRun
from secscan.store.dialect import dialect_of
from secscan.store.sqlite.db import Connection
from secscan.store.sqlite.texts import intern

MAX_NAME = 255
MAX_DESCRIPTION = 1000
MAX_TAGS = 20
_CHUNK = 500  # fingerprints per look-up statement

_UPSERT_RULE = (
    "INSERT INTO rules (tool_ref, rule_ref, name, description, tags) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (tool_ref, rule_ref) DO UPDATE SET name = excluded.name, "
    "description = excluded.description, tags = excluded.tags "
    "WHERE rules.name IS DISTINCT FROM excluded.name "
    "OR rules.description IS DISTINCT FROM excluded.description OR rules.tags IS DISTINCT FROM excluded.tags"
)
_UPSERT_PACKAGE = (
    "INSERT INTO finding_packages (finding_id, ecosystem, name, version, fixed) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (finding_id) DO UPDATE SET ecosystem = excluded.ecosystem, name = excluded.name, "
    "version = excluded.version, fixed = excluded.fixed "
    "WHERE finding_packages.ecosystem IS DISTINCT FROM excluded.ecosystem "
    "OR finding_packages.name IS DISTINCT FROM excluded.name "
    "OR finding_packages.version IS DISTINCT FROM excluded.version "
    "OR finding_packages.fixed IS DISTINCT FROM excluded.fixed"
)


@dataclass(frozen=True)
class RuleFacts:
    """A rule as the report shows it."""

    name: str
    description: str
    tags: tuple[str, ...]


def _rules(run: ScanRun) -> dict[tuple[str, str], RuleFacts]:
    found: dict[tuple[str, str], RuleFacts] = {}
    for result in run.scanners:
        used = {f.rule_id for f in result.findings}
        for rule in result.rules:
            if rule.id in used:
                found[(result.name, rule.id)] = RuleFacts(
                    rule.name[:MAX_NAME],
                    rule.short_description[:MAX_DESCRIPTION],
                    tuple(rule.tags[:MAX_TAGS]),
                )
    return found


def fixed_json(package: Package) -> str:
    return json.dumps(list(package.fixed), ensure_ascii=False)


def record(conn: Connection, target_id: int, run: ScanRun) -> None:
    """Store the rules of the run's findings and the packages of its dependency findings."""
    rules = _rules(run)
    if rules:
        ids = intern(conn, (v for key in rules for v in key))
        # in key order: two runs upserting the same rules concurrently (PostgreSQL) lock their
        # rows in one order, so they wait for each other instead of deadlocking
        conn.executemany(
            _UPSERT_RULE,
            sorted(
                (ids[tool], ids[rule], r.name, r.description, json.dumps(list(r.tags), ensure_ascii=False))
                for (tool, rule), r in rules.items()
            ),
        )
    packages: Mapping[str, Package] = {
        f.fingerprint: f.package for s in run.scanners for f in s.findings if f.package is not None
    }
    if not packages:
        return
    encode_fingerprint = dialect_of(conn).encode_fingerprint
    by_stored = {encode_fingerprint(fp): p for fp, p in packages.items()}
    keys = list(by_stored)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        rows = conn.execute(
            "SELECT f.id, f.fingerprint FROM findings f WHERE f.target_id = ? AND f.fingerprint IN "
            f"({', '.join('?' * len(chunk))})",
            (target_id, *chunk),
        ).fetchall()
        conn.executemany(
            _UPSERT_PACKAGE,
            [
                (pk, p.ecosystem, p.name, p.version, fixed_json(p))
                for pk, fp in rows
                for p in (by_stored[fp],)
            ],
        )
