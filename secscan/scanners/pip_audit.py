"""pip-audit adapter: audits pinned requirements, never builds, installs or runs target code.

The target's requirement files are parsed here (:mod:`secscan.scanners.requirements`); only
exact pins are copied, as ``canonical-name==version`` lines, into sanitized files in the
scanner's workdir. pip-audit reads those with ``--no-deps --disable-pip`` from the workdir, so
no ``setup.py``, VCS URL, editable path or index option of the target ever reaches pip.
pip-audit refuses two different pins of one package in one run, so the pins are split into
layers (layer *k* holds the *k*-th distinct version of each package), one command per layer.

A finding's identity is ``"<canonical name>|<advisory id>"``: bumping a pin to another version
that is still affected keeps the finding open instead of closing it and opening a new one.

"Not audited" is never "clean": a pin pip-audit could not audit (its skip reason, e.g. "not found
on PyPI", or missing from its report) is a warning and takes its file out of the scope; when no
pin at all was audited (an unreachable or unknown vulnerability service), pip-audit is
``incomplete`` and closes nothing.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from packaging.version import Version

from secscan.core.errors import ScannerError
from secscan.core.model import Finding, Notification, NotificationLevel, Rule
from secscan.scanners._audit_cache import audit_cache
from secscan.scanners._output import read_output
from secscan.scanners._pip_audit_advisory import NAME, finding, lookup, rule
from secscan.scanners._pip_audit_report import Answer, Audit, as_json, cached_answers, one_line, parse_report
from secscan.scanners._versions import NotInstalledError, installed_version
from secscan.scanners.interface import Command, CommandResult, Plan, ScanJob, Scanner, ScanOutput
from secscan.scanners.requirement_files import DEFAULT_REQUIREMENT_GLOBS, is_empty_glob
from secscan.scanners.requirements import RequirementLine, RequirementSet, collect_requirements

logger = logging.getLogger(__name__)

AdvisoryLookup = Callable[[str], Mapping[str, Any] | None]
"""``job.options["advisory_lookup"]``: full OSV record by id (the pipeline passes ``OsvDatabase.get``)."""



_MAX_OUTPUT_BYTES = 64 * 1024 * 1024
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


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


def _service_url(job: ScanJob) -> str | None:
    """The offline database's loopback server, started now that a query has to reach it (the
    pipeline's ``options["osv_service"]``: a run served wholly from the cache starts none)."""
    service = job.options.get("osv_service")
    if not callable(service):
        return None
    url = service()
    return url if isinstance(url, str) else None


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


class PipAuditScanner(Scanner):
    """Known vulnerabilities of exactly pinned requirements (pip-audit, OSV or PyPI service)."""

    name = NAME

    def __init__(self) -> None:
        self._planned: tuple[ScanJob, RequirementSet, dict[tuple[str, str], Answer]] | None = None

    def version(self) -> str:
        try:
            return installed_version("pip-audit")
        except NotInstalledError:
            return "unknown"

    def cache_material(self, job: ScanJob) -> Mapping[str, object]:
        """The ``cvss`` version: a cached answer keeps its records' scores (``osv.severity.SCORED``)."""
        try:
            cvss: str | None = installed_version("cvss")
        except NotInstalledError:
            cvss = None
        return {**super().cache_material(job), "cvss": cvss}

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
        url = job.osv_url or _service_url(job)
        if url:
            argv += ["-s", "osv", "--osv-url", url]
            env = _loopback_env(url)
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
            return Plan(
                skip_reason="no requirement files found (see the pip-audit 'requirements' globs)",
                nothing_to_scan=True,
            )
        cached = cached_answers(job, reqs.pinned)
        self._planned = (job, reqs, cached)  # parse() reads what the plan audited, not the files again
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

    def _read_reports(self, results: Sequence[CommandResult]) -> list[Audit]:
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
        planned = self._planned
        if planned is not None and planned[0] is job:
            _, reqs, cached = planned
        else:
            reqs = self._requirements(job)
            cached = cached_answers(job, reqs.pinned)
        records: dict[str, Mapping[str, Any] | None] = {}
        resolved = {**fresh, **{key: tuple(v for v, _ in answer) for key, answer in cached.items()}}
        for answer in cached.values():
            records.update((vuln.id, record) for vuln, record in answer)
        findings: list[Finding] = []
        rules: dict[str, Rule] = {}
        notes: list[Notification] = []
        incomplete: set[str] = set()
        reasons: list[str] = []
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
                reasons.append(why)
                continue
            for vuln in vulns:
                record = records[vuln.id] if (req.name, req.version) in cached else lookup(job, vuln)
                records.setdefault(vuln.id, record)
                findings.append(finding(job, req, vuln, record))
                rules.setdefault(vuln.id, rule(req.name, vuln, record))
        scope = frozenset(f.path for f in reqs.files if f.error is None and f.path not in incomplete)
        unsupported = _without_pypi(job, fresh)
        cache = audit_cache(job.options)
        if cache is not None and unsupported is None:  # "no advisory" from a database without any
            for (name, version), vulns in fresh.items():
                if (name, version) not in cached:
                    cache.put(name, version, [as_json(v, records.get(v.id)) for v in vulns])
        # pip-audit exits 1 when it finds a vulnerability; say so when the cache answered for it
        exit_code = (1 if findings else 0) if cached else None
        return ScanOutput(
            tuple(findings), tuple(rules.values()), scope, tuple(notes), exit_code=exit_code,
            incomplete=unsupported or _nothing_audited(len(reasons), len(reqs.pinned), reasons),
        )  # fmt: skip


def _without_pypi(job: ScanJob, fresh: Mapping[tuple[str, str], object]) -> str | None:
    """Why the run is incomplete when pip-audit's answers came from an offline OSV database that
    holds no PyPI advisory at all (an empty folder, another ecosystem's dataset): its "no
    vulnerability" means nothing, and must close nothing. None otherwise."""
    count = job.options.get("advisory_count")
    if not fresh or not callable(count) or count("PyPI") != 0:
        return None
    return (
        f"the OSV database holds no PyPI advisories, so the {len(fresh)} pinned requirement(s) "
        "pip-audit checked against it were not audited; point --osv-db at a PyPI dataset "
        "(osv.dev's PyPI all.zip, or a checkout of pypa/advisory-database)"
    )


def _nothing_audited(missed: int, given: int, reasons: Sequence[str]) -> str | None:
    """Why the run is incomplete when pip-audit audited none of the ``given`` pins, else None."""
    if not given or missed < given:
        return None
    first = one_line(reasons[0], 160) if reasons else "no reason given"
    return (
        f"pip-audit audited none of the {given} pinned requirement(s) it was given ({first}); "
        "check its vulnerability service, or give an offline database with --osv-db"
    )
