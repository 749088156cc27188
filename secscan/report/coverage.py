"""The report's "Coverage" section (issue 14): each target's latest coverage map.

A read model (:func:`section`, the store's :meth:`~secscan.core.ports.store.Store.latest_coverage`)
and its three renderings: the HTML section ``templates/sections/coverage.html.j2``, Markdown lines and
JSON. Reasons quote scanners' failure texts, so every rendering passes them through the redactor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from secscan.core.ports.coverage import RunCoverage
from secscan.core.ports.store import Store
from secscan.core.redact import Redactor


def section(store: Store, targets: Sequence[str] = ()) -> tuple[RunCoverage, ...]:
    """Each target's most recent coverage map (none for a store without the feature)."""
    latest = getattr(store, "latest_coverage", None)
    return tuple(latest(targets)) if latest is not None else ()


def _found(files: int | None) -> str:
    return "?" if files is None else str(files)


def markdown(runs: Sequence[RunCoverage], cell: Any) -> list[str]:
    """The section as Markdown lines (``cell`` escapes a value for a table cell)."""
    out = ["## Coverage", ""]
    if not runs:
        return [*out, "No run has recorded a coverage map yet.", ""]
    redact = Redactor().text
    for run in runs:
        out += [f"### {cell(run.target)} (run `{run.run_id}`, {run.started_at:%Y-%m-%d %H:%M UTC})", ""]
        out += ["| kind | covered | found | unit | by | not covered because |", "|---|---:|---:|---|---|---|"]
        for e in run.entries:
            by, why = cell(", ".join(e.scanners) or "-"), cell(redact(e.reason)) if e.reason else ""
            out.append(f"| {cell(e.kind)} | {e.covered} | {_found(e.files)} | {e.unit} | {by} | {why} |")
        out.append("")
    return out


def document(runs: Sequence[RunCoverage]) -> list[dict[str, Any]]:
    """The section in the report's JSON document."""
    redact = Redactor().text
    return [
        {
            "target": run.target,
            "run_id": run.run_id,
            "started_at": run.started_at.isoformat(),
            "coverage": [
                {
                    "kind": e.kind,
                    "unit": e.unit,
                    "files": e.files,
                    "covered": e.covered,
                    "scanners": list(e.scanners),
                    "reason": redact(e.reason) if e.reason else None,
                }
                for e in run.entries
            ],
        }
        for run in runs
    ]
