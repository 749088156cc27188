"""Snapshots and changesets without a database: what a store would load, and what writing a
changeset would leave (a reference model of the persistence, for the pure reconciliation tests)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from secscan.core.changeset import FP, RunChangeset, SlaColumns, Snapshot, fingerprint_of, opt_ts, to_ts
from secscan.core.records import TrackedFinding


def row_of(t: TrackedFinding, sla_status: str | None, ref: dict[str, int], raw: bool) -> tuple[Any, ...]:
    """``t`` as a snapshot row (``SNAPSHOT_COLUMNS``), texts interned in ``ref``."""

    def text(value: str) -> int:
        return ref.setdefault(value, len(ref))

    d = t.triage
    fp: str | bytes = bytes.fromhex(t.fingerprint) if raw and len(t.fingerprint) == 64 else t.fingerprint
    return (
        fp, text(t.tool), text(t.rule_id), text(t.path), t.line, text(t.message), t.severity.value,
        t.state.value, to_ts(t.first_seen), to_ts(t.last_seen), opt_ts(t.fixed_at),
        to_ts(t.sla.started_at), opt_ts(t.sla.paused_at), int(t.sla.paused.total_seconds()),
        None if d is None else d.status.value, None if d is None else d.reason,
        None if d is None else d.actor, None if d is None else to_ts(d.decided_at),
        None if d is None else opt_ts(d.until), t.baseline_sig, sla_status, opt_ts(t.introduced_at),
        "backend's own column",  # a store may append columns: the core ignores them
    )  # fmt: skip


def snapshot(
    target: str,
    tracked: Iterable[TrackedFinding],
    statuses: Mapping[str, str | None] | None = None,
    *,
    raw: bool = True,
) -> Snapshot:
    """The snapshot a store holding ``tracked`` would load (``raw``: fingerprints as 32 bytes)."""
    ref: dict[str, int] = {}
    rows = [row_of(t, (statuses or {}).get(t.fingerprint), ref, raw) for t in tracked]
    return Snapshot(target, rows, {pk: value for value, pk in ref.items()})


@dataclass(frozen=True)
class Held:
    """What the reference store holds of one finding: its value, SLA columns and last run."""

    finding: TrackedFinding
    sla: SlaColumns | None
    last_run: str


def written(held: Mapping[str, Held], changes: RunChangeset) -> dict[str, Held]:
    """What writing ``changes`` over ``held`` leaves (the store's job, as a reference model)."""
    out = dict(held)
    run = changes.run.run_id
    for t, sla in zip(changes.inserts, changes.insert_sla, strict=True):
        assert t.fingerprint not in out
        out[t.fingerprint] = Held(t, sla, run)
    for state, rows in changes.seen_again.items():
        for fp in seen_fingerprints(rows):
            h = out[fp]
            out[fp] = Held(replace(h.finding, state=state, last_seen=changes.now), h.sla, run)
    for t, sla, seen, row in changes.rewrites:
        assert fingerprint_of(row[FP]) == t.fingerprint  # the row names the stored finding
        h = out[t.fingerprint]
        out[t.fingerprint] = Held(t, h.sla if sla is None else sla, run if seen else h.last_run)
    return out


def seen_fingerprints(rows: Iterable[Sequence[Any]]) -> list[str]:
    """The fingerprints of snapshot rows (as a changeset names stored findings)."""
    return [fingerprint_of(row[FP]) for row in rows]


def holding(held: Mapping[str, Held]) -> list[TrackedFinding]:
    """The tracked findings of a reference store, in fingerprint order."""
    return [held[fp].finding for fp in sorted(held)]
