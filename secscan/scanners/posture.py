"""posture: repository hygiene, as rules kept as data in ``rules/posture/`` (see ``_posture_rules``).

The rules run in a small subprocess (:mod:`secscan.scanners._posture_main`) over the inventory's
file list: pure Python, offline, reading only file names, the first bytes of files (executables)
and a few small files (CODEOWNERS, workflows, package.json). Repository rules (a security policy,
a dependency update tool, CODEOWNERS) run only at the top of a git work tree; file rules
(committed binaries and credential files, workflow permissions) on any target.

A repository rule that finds a file missing reports it at the file it expects (``SECURITY.md``):
a stable, repo-relative location, so that GitHub code scanning accepts it and adding the file
closes the finding. Findings use the rule id and path as identity (``posture``), and a
``primaryLocationLineHash`` derived from them, not from the file's first line.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from secscan import __version__
from secscan.errors import ScannerError
from secscan.model import Finding, Location, Notification, NotificationLevel, ToolName
from secscan.scanners._output import load_json_object
from secscan.scanners._posture_rules import PostureRule, bundled_rules
from secscan.scanners.interface import Command, CommandResult, Plan, ScanJob, Scanner, ScanOutput

NAME = ToolName("posture")
MAIN = "secscan.scanners._posture_main"
IDENTITY = "posture"


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, tuple | list) else []


def line_hash(rule_id: str, path: str) -> str:
    material = f"{NAME}\0{rule_id}\0{path}".encode("utf-8", "surrogatepass")
    return f"{hashlib.sha256(material).hexdigest()[:16]}:1"


class PostureScanner(Scanner):
    """Adapter for secscan's posture rules (one JSON object on stdout)."""

    name = NAME

    def version(self) -> str:
        return __version__

    def _rules(self, job: ScanJob) -> list[PostureRule]:
        disabled = set(_strings(job.options.get("disable")))
        return [r for r in bundled_rules() if r.id not in disabled]

    @staticmethod
    def _repository(job: ScanJob) -> bool:
        return (job.root / ".git").exists()

    def cache_material(self, job: ScanJob) -> Mapping[str, object]:
        return {"args": list(job.args), "binary_paths": _strings(job.options.get("binary_paths"))}

    def plan(self, job: ScanJob) -> Plan:
        if not job.files:
            return Plan(skip_reason="no files to scan")
        spec = {
            "root": str(job.root),
            "files": list(job.files),
            "repository": self._repository(job),
            "settings": {"binary_paths": _strings(job.options.get("binary_paths"))},
            "disable": _strings(job.options.get("disable")),
        }
        workdir = job.workdir.absolute()
        path = workdir / "posture-spec.json"
        path.write_text(json.dumps(spec), encoding="utf-8")
        argv = (sys.executable, "-P", "-m", MAIN, str(path))
        return Plan(commands=(Command(argv=argv, cwd=workdir, stdout_path=workdir / "posture.json"),))

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code == 0

    def exit_code_for(self, job: ScanJob, findings: int) -> int | None:
        return 0

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        if len(results) != 1:
            raise ScannerError("posture ran an unexpected number of commands; this is a secscan bug")
        out = load_json_object(results[0].command.stdout_path, "posture", "report", "this is a secscan bug")
        rules = {r.id: r for r in self._rules(job)}
        findings = [self._finding(job, rules, item) for item in _list(out, "hits")]
        warn = NotificationLevel.WARNING
        notes = [Notification(warn, str(message), str(path)) for path, message in _list(out, "notes")]
        used = sorted({f.rule_id for f in findings})
        scope = set(job.files)
        if self._repository(job):  # a missing file's finding closes once it exists
            scope |= {r.location for r in rules.values() if r.repository and r.location}
        findings.sort(key=lambda f: (f.location.path, f.rule_id))
        return ScanOutput(
            findings=tuple(findings),
            rules=tuple(rules[i].as_rule() for i in used),
            scope=frozenset(scope),
            notifications=tuple(notes),
        )

    @staticmethod
    def _finding(job: ScanJob, rules: Mapping[str, PostureRule], item: Any) -> Finding:
        try:
            rule_id, path, line, message = item
            rule = rules[rule_id]
        except (ValueError, TypeError, KeyError):
            raise ScannerError(
                f"posture report holds a malformed hit {str(item)[:80]!r}; this is a secscan bug"
            ) from None
        return Finding(
            tool=NAME,
            rule_id=rule.id,
            message=str(message),
            location=Location(path=str(path), start_line=max(1, int(line))),
            severity=rule.severity,
            tool_severity=rule.severity.value,
            identity=IDENTITY,
            line_hash=line_hash(rule.id, str(path)),
        )


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document.get(key)
    if not isinstance(value, list):
        raise ScannerError(f"posture report has no '{key}' list; this is a secscan bug")
    return value
