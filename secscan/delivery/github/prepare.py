"""Upload preparation: secscan's SARIF log -> one gzip+base64 SARIF file per tool category. Pure.

GitHub rejects several runs of one tool and category in a file, and a run that exceeds its
limits (``github-code-scanning.md`` section 3), so each run becomes its own file and is cut
down to the limits before it is sent:

* only tools that finished ``ok`` are included: an empty run from a failed scanner would close
  every alert of its category. A successful run with zero results is included, so alerts close;
* ``baselineState: absent`` results (gone since the last run) are dropped: they would reopen;
* more than 25,000 results, or more than 10 MB gzipped, are truncated by severity (worst kept);
  more than 1,000 locations per result (10,000 thread-flow locations) are truncated in order;
* rules no result refers to are dropped and ``ruleIndex`` renumbered.

Every dropped item is counted on the :class:`PreparedUpload` (and logged by the caller). Each
result's message ends with its secscan id, which is how :mod:`secscan.app.github_sync` finds the
finding of a GitHub alert (the alerts API does not return fingerprints).
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from secscan.fs.names import has_surrogates, json_dumps, to_uri

log = logging.getLogger(__name__)

MAX_GZIP_BYTES = 10 * 1024 * 1024
MAX_RESULTS = 25_000
MAX_LOCATIONS = 1_000
MAX_THREAD_FLOW_LOCATIONS = 10_000
MAX_RUNS_PER_FILE = 20  # one run per file here, so never reached
SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
ID_MARK = " (secscan id {})"
_SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
_LEVEL_RANK = {"error": 3, "warning": 2, "note": 1, "none": 0}


class RunTooLargeError(ValueError):
    """A run is over the gzip limit even without results (its other parts are too large)."""


@dataclass(frozen=True)
class Limits:
    """GitHub's limits (tests and the benchmark shrink them)."""

    max_gzip_bytes: int = MAX_GZIP_BYTES
    max_results: int = MAX_RESULTS
    max_locations: int = MAX_LOCATIONS
    max_thread_flow_locations: int = MAX_THREAD_FLOW_LOCATIONS


@dataclass(frozen=True)
class PreparedUpload:
    """One SARIF file ready for ``POST .../code-scanning/sarifs``."""

    category: str
    tool: str
    sarif: str  # gzip, then base64 (one line)
    results: int  # results in the file
    dropped_results: int  # absent ones are not counted: they are not findings any more
    dropped_locations: int
    gzip_bytes: int


def category_of(run: Mapping[str, Any], tool: str, subdir: str = "") -> str:
    """The stable analysis category of a run: ``automationDetails.id`` up to its last ``/``."""
    auto = run.get("automationDetails") or {}
    ident = str(auto.get("id") or "")
    base = ident.rsplit("/", 1)[0] if "/" in ident else f"secscan/{tool}"
    if subdir and has_surrogates(subdir):  # a folder name that is not UTF-8: its bytes, encoded
        subdir = to_uri(subdir)
    return f"{base}/{subdir}" if subdir else base


def _rank(result: Mapping[str, Any]) -> int:
    props = result.get("properties") or {}
    severity = props.get("severity")
    if isinstance(severity, str) and severity in _SEVERITY_RANK:
        return 10 * _SEVERITY_RANK[severity]
    return 10 * _LEVEL_RANK.get(str(result.get("level", "warning")), 2) - 5


def _with_prefix(location: Mapping[str, Any], subdir: str) -> dict[str, Any]:
    physical = dict(location.get("physicalLocation") or {})
    artifact = dict(physical.get("artifactLocation") or {})
    uri = artifact.get("uri")
    if isinstance(uri, str) and artifact.get("uriBaseId") == SRCROOT and "://" not in uri:
        artifact["uri"] = f"{to_uri(subdir)}/{uri}"  # URIs are percent-encoded (secscan.fs.names)
    physical["artifactLocation"] = artifact
    return {**location, "physicalLocation": physical}


def _cap_result(result: Mapping[str, Any], subdir: str, limits: Limits) -> tuple[dict[str, Any], int]:
    """A copy of ``result`` within the per-result limits, with its id in the message."""
    out = dict(result)
    dropped = 0
    locations = list(result.get("locations") or ())
    if len(locations) > limits.max_locations:
        dropped += len(locations) - limits.max_locations
        locations = locations[: limits.max_locations]
    if subdir:
        locations = [_with_prefix(loc, subdir) for loc in locations]
    out["locations"] = locations
    flows = result.get("codeFlows")
    if flows:
        out["codeFlows"] = [
            {**flow, "threadFlows": [
                {**tf, "locations": list(tf.get("locations") or ())[: limits.max_thread_flow_locations]}
                for tf in flow.get("threadFlows") or ()
            ]}
            for flow in flows
        ]  # fmt: skip
    props = result.get("properties") or {}
    ident = props.get("secscan-id", props.get("secscan_id"))
    message = dict(result.get("message") or {})
    if isinstance(ident, str) and isinstance(message.get("text"), str):
        message["text"] = message["text"] + ID_MARK.format(ident)
        out["message"] = message
    return out, dropped


def _keep_worst(results: Sequence[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The ``count`` most severe results, in their original order."""
    if count >= len(results):
        return list(results)
    order = sorted(range(len(results)), key=lambda i: -_rank(results[i]))[:count]
    return [results[i] for i in sorted(order)]


def _with_rules(run: Mapping[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    """``run`` with ``results`` and only the rules they use, ``ruleIndex`` renumbered."""
    tool = dict(run.get("tool") or {})
    driver = dict(tool.get("driver") or {})
    rules = list(driver.get("rules") or ())
    used = {r.get("ruleId") for r in results}
    kept = [rule for rule in rules if rule.get("id") in used]
    index = {rule.get("id"): i for i, rule in enumerate(kept)}
    for result in results:
        if "ruleIndex" in result:
            if result.get("ruleId") in index:
                result["ruleIndex"] = index[result.get("ruleId")]
            else:
                del result["ruleIndex"]
    driver["rules"] = kept
    tool["driver"] = driver
    return {**run, "tool": tool, "results": results}


def _encode(run: Mapping[str, Any]) -> bytes:
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    text = json_dumps(document, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def prepare_run(
    run: Mapping[str, Any],
    *,
    subdir: str = "",
    root_uri: str | None = None,
    limits: Limits = Limits(),
) -> PreparedUpload:
    """One run of secscan's log as an upload file within ``limits``."""
    tool = str(((run.get("tool") or {}).get("driver") or {}).get("name") or "secscan")
    category = category_of(run, tool, subdir)
    present = [r for r in run.get("results") or () if r.get("baselineState") != "absent"]
    capped = [_cap_result(r, subdir, limits) for r in present]
    results = [r for r, _ in capped]
    dropped_locations = sum(d for _, d in capped)
    results = _keep_worst(results, limits.max_results)
    out = dict(run)
    auto = str((run.get("automationDetails") or {}).get("id") or "")
    out["automationDetails"] = {"id": f"{category}/{auto.rsplit('/', 1)[-1] if '/' in auto else auto}"}
    if root_uri is not None and SRCROOT in (run.get("originalUriBaseIds") or {}):
        out["originalUriBaseIds"] = {**run["originalUriBaseIds"], SRCROOT: {"uri": root_uri}}
    blob = _encode(_with_rules(out, results))
    while len(blob) > limits.max_gzip_bytes and results:
        # shrink in proportion to the excess (with a margin), worst results kept
        keep = min(len(results) - 1, int(len(results) * limits.max_gzip_bytes / len(blob) * 0.95))
        results = _keep_worst(results, max(keep, 0))
        blob = _encode(_with_rules(out, results))
    if len(blob) > limits.max_gzip_bytes:
        raise RunTooLargeError(
            f"the {category} run is over {limits.max_gzip_bytes} bytes gzipped without results"
        )
    dropped = len(present) - len(results)
    if dropped or dropped_locations:
        log.warning(
            "%s: dropped %d of %d results and %d locations to stay within GitHub's limits "
            "(kept the most severe)",
            category, dropped, len(present), dropped_locations,
        )  # fmt: skip
    return PreparedUpload(
        category=category,
        tool=tool,
        sarif=base64.b64encode(blob).decode("ascii"),
        results=len(results),
        dropped_results=dropped,
        dropped_locations=dropped_locations,
        gzip_bytes=len(blob),
    )


def prepare(
    sarif: Mapping[str, Any],
    ok_tools: Collection[str],
    *,
    subdir: str = "",
    root_uri: str | None = None,
    limits: Limits = Limits(),
) -> tuple[PreparedUpload, ...]:
    """One upload per run of ``sarif`` whose tool is in ``ok_tools`` (tools that finished ok)."""
    uploads = []
    for run in sarif.get("runs") or ():
        tool = str(((run.get("tool") or {}).get("driver") or {}).get("name") or "")
        if tool not in ok_tools:
            log.info("not uploading %s: it did not finish ok (an empty run would close its alerts)", tool)
            continue
        uploads.append(prepare_run(run, subdir=subdir, root_uri=root_uri, limits=limits))
    return tuple(uploads)


def started_at(when: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` as the API wants it."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def decode(sarif_b64: str) -> dict[str, Any]:
    """The SARIF document of an upload (tests and ``secscan upload --dry-run`` use it)."""
    out: dict[str, Any] = json.loads(gzip.decompress(base64.b64decode(sarif_b64)))
    return out
