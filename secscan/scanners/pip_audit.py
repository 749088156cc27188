"""pip-audit adapter: audits pinned requirements, never builds, installs or runs target code.

The target's requirement files are parsed here (:mod:`secscan.scanners.requirements`); only
exact pins are copied, as ``canonical-name==version`` lines, into sanitized files in the
scanner's workdir. pip-audit reads those with ``--no-deps --disable-pip`` from the workdir, so
no ``setup.py``, VCS URL, editable path or index option of the target ever reaches pip.
pip-audit refuses two different pins of one package in one run, so the pins are split into
layers (layer *k* holds the *k*-th distinct version of each package), one command per layer.

A finding's identity is ``"<canonical name>|<advisory id>"``: bumping a pin to another version
that is still affected keeps the finding open instead of closing it and opening a new one.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from secscan.errors import ScannerError
from secscan.model import Finding, Location, Notification, NotificationLevel, Rule, ToolName
from secscan.osv.severity import record_severity
from secscan.scanners._audit_cache import audit_cache, record_excerpt
from secscan.scanners._output import read_output
from secscan.scanners.interface import Command, CommandResult, Plan, ScanJob, Scanner, ScanOutput
from secscan.scanners.requirements import (
    DEFAULT_REQUIREMENT_GLOBS,
    RequirementLine,
    RequirementSet,
    collect_requirements,
    is_empty_glob,
)

logger = logging.getLogger(__name__)

AdvisoryLookup = Callable[[str], Mapping[str, Any] | None]
"""``job.options["advisory_lookup"]``: full OSV record by id (the pipeline passes ``OsvDatabase.get``)."""



_MAX_OUTPUT_BYTES = 64 * 1024 * 1024
_MAX_MESSAGE = 300
_MAX_DESCRIPTION = 1024
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class _Vuln:
    id: str
    fix_versions: tuple[str, ...]
    aliases: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class _Audit:
    """What one pip-audit report says: vulns per (name, version) and skipped names."""

    resolved: Mapping[tuple[str, str], tuple[_Vuln, ...]]
    skipped: Mapping[str, str]


def _norm_version(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScannerError(f"pip-audit report {where} is not a list of strings; is pip-audit 2.x installed?")
    return tuple(value)


def _parse_vuln(raw: object, where: str) -> _Vuln:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ScannerError(
            f"pip-audit report {where}: a vulnerability has no id; is pip-audit 2.x installed?"
        )
    description = raw.get("description", "")
    return _Vuln(
        id=raw["id"],
        fix_versions=_strings(raw.get("fix_versions", []), f"{where} fix_versions"),
        aliases=tuple(sorted(_strings(raw.get("aliases", []), f"{where} aliases"))),
        description=description if isinstance(description, str) else "",
    )


def parse_report(data: bytes, where: str) -> _Audit:
    """Validate one ``pip-audit -f json`` report. Raises ScannerError when it is malformed."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ScannerError(f"pip-audit report {where} is not valid JSON ({exc}); rerun with -v") from None
    deps = doc.get("dependencies") if isinstance(doc, dict) else None
    if not isinstance(deps, list):
        raise ScannerError(
            f"pip-audit report {where} has no 'dependencies' list; is pip-audit 2.x installed?"
        )
    resolved: dict[tuple[str, str], tuple[_Vuln, ...]] = {}
    skipped: dict[str, str] = {}
    for dep in deps:
        if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
            raise ScannerError(f"pip-audit report {where} has a dependency without a name")
        name = canonicalize_name(dep["name"])
        if isinstance(dep.get("skip_reason"), str):
            skipped[name] = dep["skip_reason"]
        elif isinstance(dep.get("version"), str) and isinstance(dep.get("vulns"), list):
            vulns = tuple(_parse_vuln(v, f"{where} ({name})") for v in dep["vulns"])
            resolved[(name, _norm_version(dep["version"]))] = vulns
        else:
            raise ScannerError(
                f"pip-audit report {where}: dependency {name} has neither vulns nor skip_reason"
            )
    return _Audit(resolved, skipped)


_Answer = tuple[tuple[_Vuln, Mapping[str, Any] | None], ...]
"""A pin's vulnerabilities, each with the excerpt of its OSV record."""


def _cached(job: ScanJob, pinned: Sequence[RequirementLine]) -> dict[tuple[str, str], _Answer]:
    """The pins whose vulnerabilities the audit cache knows (a malformed entry is ignored)."""
    cache = audit_cache(job.options)
    found: dict[tuple[str, str], _Answer] = {}
    if cache is None:
        return found
    for req in pinned:
        if req.name is None or req.version is None or (req.name, req.version) in found:
            continue
        vulns = cache.get(req.name, req.version)
        if vulns is None:
            continue
        try:
            found[(req.name, req.version)] = tuple((_parse_vuln(v, "cache"), _record(v)) for v in vulns)
        except ScannerError:
            logger.warning("ignoring a malformed cached audit of %s %s", req.name, req.version)
    return found


def _record(cached: Mapping[str, Any]) -> Mapping[str, Any] | None:
    record = cached.get("record")
    if record is not None and not isinstance(record, dict):
        raise ScannerError("cached OSV record excerpt is not an object")
    return record


def _as_json(vuln: _Vuln, record: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "id": vuln.id,
        "fix_versions": list(vuln.fix_versions),
        "aliases": list(vuln.aliases),
        "description": vuln.description,
        "record": record_excerpt(record),
    }


def _layers(pinned: Sequence[RequirementLine]) -> list[list[str]]:
    versions: dict[str, set[str]] = defaultdict(set)
    for req in pinned:
        if req.name is not None and req.version is not None:
            versions[req.name].add(req.version)
    layers: list[list[str]] = []
    for name in sorted(versions):
        for depth, version in enumerate(sorted(versions[name], key=Version)):
            if depth == len(layers):
                layers.append([])
            layers[depth].append(f"{name}=={version}")
    return layers


def _loopback_env(url: str) -> dict[str, str]:
    """Keep a proxy from the environment away from a loopback OSV server."""
    if urlsplit(url).hostname not in _LOOPBACK:
        return {}
    current = os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
    value = ",".join(filter(None, [current, *_LOOPBACK]))
    return {"NO_PROXY": value, "no_proxy": value}


def _not_audited(reqs: RequirementSet) -> tuple[Notification, ...]:
    notes = [
        Notification(NotificationLevel.WARNING, f"requirement file not audited: {f.error}", f.path)
        for f in reqs.files
        if f.error is not None
    ]
    notes += [
        Notification(NotificationLevel.WARNING, f"not audited: {r.reason}", r.path, r.line)
        for r in reqs.not_audited
    ]
    return tuple(notes)


def _lookup(job: ScanJob, vuln: _Vuln) -> Mapping[str, Any] | None:
    lookup = job.options.get("advisory_lookup")
    if not callable(lookup):
        return None
    for vuln_id in (vuln.id, *vuln.aliases):
        record = lookup(vuln_id)
        if isinstance(record, Mapping):
            return record
    return None


def _text(record: Mapping[str, Any] | None, key: str) -> str:
    value = record.get(key) if record is not None else None
    return value if isinstance(value, str) else ""


def _references(record: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    refs = record.get("references") if record is not None else None
    if not isinstance(refs, list):
        return []
    return [
        (str(r.get("type", "")), r["url"])
        for r in refs
        if isinstance(r, dict) and isinstance(r.get("url"), str)
    ]


def _rule(package: str, vuln: _Vuln, record: Mapping[str, Any] | None) -> Rule:
    summary = _text(record, "summary") or vuln.description
    details = _text(record, "details")
    short = _one_line(summary or details.split(". ")[0] or f"{vuln.id} affects {package}", _MAX_MESSAGE)
    refs = _references(record)
    advisory = next((url for kind, url in refs if kind == "ADVISORY"), None)
    fixed = ", ".join(vuln.fix_versions) or "no fixed version is known"
    help_lines = [
        f"{vuln.id} ({', '.join(vuln.aliases) or 'no aliases'}) affects {package}.",
        f"Fixed in: {fixed}. Upgrade the pin in the requirements file to a fixed version.",
        *(["References:"] if refs else []),
        *(f"- {url}" for _, url in refs[:10]),
    ]
    database = record.get("database_specific") if record is not None else None
    cwes = database.get("cwe_ids") if isinstance(database, dict) else None
    cwe_tags = [f"external/cwe/{c.lower()}" for c in cwes or [] if isinstance(c, str)][:8]
    return Rule(
        id=vuln.id,
        name=vuln.id,
        short_description=short,
        full_description=(details or summary or short)[:_MAX_DESCRIPTION],
        help_text="\n".join(help_lines),
        help_uri=advisory
        or (None if vuln.id.startswith("x_") else f"https://osv.dev/vulnerability/{vuln.id}"),
        tags=("security", "dependency", *cwe_tags),
    )


def _finding(job: ScanJob, req: RequirementLine, vuln: _Vuln, record: Mapping[str, Any] | None) -> Finding:
    score, label = record_severity(record) if record is not None else (None, None)
    also = f" ({', '.join(vuln.aliases)})" if vuln.aliases else ""
    fixed = f"fixed in {', '.join(vuln.fix_versions)}" if vuln.fix_versions else "no fixed version known"
    summary = _text(record, "summary") or vuln.description
    message = f"{req.name} {req.version} is affected by {vuln.id}{also}; {fixed}" + (
        f": {summary}" if summary else ""
    )
    return Finding(
        tool=PipAuditScanner.name,
        rule_id=vuln.id,
        message=_one_line(message, _MAX_MESSAGE),
        location=Location(path=req.path, start_line=req.line),
        severity=job.policy.advisory(score, label),
        tool_severity=f"CVSS {score:.1f}" if score is not None else (label or ""),
        identity=f"{req.name}|{vuln.id}",
        aliases=vuln.aliases,
    )


class PipAuditScanner(Scanner):
    """Known vulnerabilities of exactly pinned requirements (pip-audit, OSV or PyPI service)."""

    name = ToolName("pip-audit")

    def version(self) -> str:
        try:
            return importlib.metadata.version("pip-audit")
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    def _requirements(self, job: ScanJob) -> RequirementSet:
        globs = job.options.get("requirements", DEFAULT_REQUIREMENT_GLOBS)
        if (
            isinstance(globs, str)
            or not isinstance(globs, Sequence)
            or not all(isinstance(g, str) for g in globs)
        ):
            raise ScannerError(
                "pip-audit option 'requirements' must be a list of glob strings; fix secscan.toml"
            )
        if any(is_empty_glob(g) for g in globs):
            raise ScannerError("pip-audit option 'requirements' has an empty glob; fix secscan.toml")
        return collect_requirements(job.root, job.files, globs)

    def _command(self, job: ScanJob, index: int, lines: list[str]) -> Command:
        sanitized = job.workdir / f"requirements-{index}.txt"
        sanitized.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        output = job.workdir / f"pip-audit-{index}.json"
        argv = [sys.executable, "-m", "pip_audit", "-r", str(sanitized), "--no-deps", "--disable-pip"]
        argv += ["-f", "json", "-o", str(output), "--progress-spinner", "off"]
        argv += ["--cache-dir", str(job.workdir / "pip-audit-cache"), "--desc", "on", "--aliases", "on"]
        env: dict[str, str] = {}
        if job.osv_url:
            argv += ["-s", "osv", "--osv-url", job.osv_url]
            env = _loopback_env(job.osv_url)
        stdout = job.workdir / f"pip-audit-{index}.stdout"
        return Command(tuple(argv + list(job.args)), job.workdir, stdout, env)

    def plan(self, job: ScanJob) -> Plan:
        if importlib.util.find_spec("pip_audit") is None:
            raise ScannerError(
                "pip-audit is not installed beside secscan; run: pip install 'pip-audit>=2.10,<3'"
            )
        reqs = self._requirements(job)
        notes = _not_audited(reqs)
        if not reqs.files:
            return Plan(skip_reason="no requirement files found (see the pip-audit 'requirements' globs)")
        cached = _cached(job, reqs.pinned)
        layers = _layers([r for r in reqs.pinned if (r.name, r.version) not in cached])
        if not layers and cached:  # every pin's answer is cached: no process at all
            return Plan(notifications=notes)
        if not layers:
            return Plan(
                skip_reason=f"no exactly pinned requirements in {len(reqs.files)} requirement file(s)",
                notifications=notes,
            )
        return Plan(
            tuple(self._command(job, i, layer) for i, layer in enumerate(layers)), notifications=notes
        )

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code in (0, 1)

    def _read_reports(self, results: Sequence[CommandResult]) -> list[_Audit]:
        audits = []
        for result in results:
            argv = result.command.argv
            path = Path(argv[argv.index("-o") + 1])
            data = read_output(path, "pip-audit", "report", "see its stderr", _MAX_OUTPUT_BYTES)
            audits.append(parse_report(data, path.name))
        return audits

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        audits = self._read_reports(results)
        fresh = {key: vulns for audit in audits for key, vulns in audit.resolved.items()}
        skipped = {name: why for audit in audits for name, why in audit.skipped.items()}
        reqs = self._requirements(job)
        cached = _cached(job, reqs.pinned)
        records: dict[str, Mapping[str, Any] | None] = {}
        resolved = {**fresh, **{key: tuple(v for v, _ in answer) for key, answer in cached.items()}}
        for answer in cached.values():
            records.update((vuln.id, record) for vuln, record in answer)
        findings: list[Finding] = []
        rules: dict[str, Rule] = {}
        notes: list[Notification] = []
        incomplete: set[str] = set()
        for req in reqs.pinned:
            if req.name is None or req.version is None:  # never: a pinned line has both
                continue
            vulns = resolved.get((req.name, req.version))
            if vulns is None:
                why = skipped.get(req.name, "missing from pip-audit's report")
                notes.append(
                    Notification(
                        NotificationLevel.WARNING, f"not audited: {req.text}: {why}", req.path, req.line
                    )
                )
                incomplete.add(req.path)
                continue
            for vuln in vulns:
                record = records[vuln.id] if (req.name, req.version) in cached else _lookup(job, vuln)
                records.setdefault(vuln.id, record)
                findings.append(_finding(job, req, vuln, record))
                rules.setdefault(vuln.id, _rule(req.name, vuln, record))
        scope = frozenset(f.path for f in reqs.files if f.error is None and f.path not in incomplete)
        cache = audit_cache(job.options)
        if cache is not None:
            for (name, version), vulns in fresh.items():
                if (name, version) not in cached:
                    cache.put(name, version, [_as_json(v, records.get(v.id)) for v in vulns])
        # pip-audit exits 1 when it finds a vulnerability; say so when the cache answered for it
        exit_code = (1 if findings else 0) if cached else None
        return ScanOutput(tuple(findings), tuple(rules.values()), scope, tuple(notes), exit_code=exit_code)
