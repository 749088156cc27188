"""posture: repository hygiene, as rules kept as data in ``rules/posture/`` (see ``_posture_rules``).

Pure Python over the inventory's file list, offline. Repository rules (a security policy, a
dependency update tool, CODEOWNERS) run only at the top of a git work tree; file rules
(committed binaries and credential files, workflow permissions) run on any target.

**In secscan's process, without a command.** The rules read file names, the first kilobyte of
files (executables), and a few small files (CODEOWNERS, workflows, package.json), each under a
size cap, with no parser that can run away (workflows go through PyYAML's pure-Python composer,
which builds no objects and expands no aliases, and is given at most :data:`MAX_YAML_BYTES`).
A subprocess would add its start-up (about 0.2 s) to every run, and make an unchanged nightly run
start a process where none is needed; so :meth:`PostureScanner.plan` plans no command and
:meth:`PostureScanner.parse` evaluates the rules (the runner treats an empty plan as a run that
completed).

A repository rule that finds a file missing reports it at the file it expects (``SECURITY.md``):
a stable, repo-relative location that GitHub code scanning accepts, and adding the file closes
the finding. Findings use the rule and path as identity (``posture``), and a
``primaryLocationLineHash`` derived from them, not from the file's first line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from secscan import __version__
from secscan.core.model import Finding, Location, Notification, NotificationLevel, ToolName
from secscan.scanners.interface import CommandResult, Plan, ScanJob, Scanner, ScanOutput

if TYPE_CHECKING:  # issue 18: the rules and checks load only when the rules are evaluated
    from secscan.config.posture_rules import PostureRule
    from secscan.scanners._posture_checks import Hit

NAME = ToolName("posture")
IDENTITY = "posture"


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, tuple | list) else ()


def _rule_sources() -> list[str]:
    """The bundled rules' folder and the module that reads them: both can change without a
    version change in a source checkout. Listed in the cache material, they are hashed into the
    cache key like any file a scanner's arguments name (unreadable: the output is not remembered)."""
    from importlib.util import find_spec

    from secscan.config.policy import rules_dir

    loader = find_spec("secscan.config.posture_rules")
    return [str(rules_dir() / "posture"), str(loader.origin if loader is not None else None)]


def line_hash(rule_id: str, path: str) -> str:
    """A stable ``primaryLocationLineHash`` for a posture finding (see the module docstring)."""
    material = f"{NAME}\0{rule_id}\0{path}".encode("utf-8", "surrogatepass")
    return f"{hashlib.sha256(material).hexdigest()[:16]}:1"


class PostureScanner(Scanner):
    """secscan's posture rules, evaluated in process (see the module docstring)."""

    name = NAME
    tree_local = True  # its output is remembered whole while no file and no setting changes

    def version(self) -> str:
        return __version__

    @staticmethod
    def _rules(job: ScanJob) -> list[PostureRule]:
        from secscan.config.posture_rules import bundled_rules

        disabled = set(_strings(job.options.get("disable")))
        return [r for r in bundled_rules() if r.id not in disabled]

    @staticmethod
    def _repository(job: ScanJob) -> bool:
        return (job.root / ".git").exists()

    def scannable(self, files: Sequence[str]) -> tuple[str, ...]:
        """Every file: the file rules look at every name (and at executables' first bytes)."""
        return tuple(files)

    def cache_material(self, job: ScanJob) -> Mapping[str, object]:
        """What besides the files decides the output (it is remembered whole: ``tree_local``):
        the settings, whether the target is a repository's top, and the bundled rules' text."""
        return {
            "args": list(job.args),
            "binary_paths": list(_strings(job.options.get("binary_paths"))),
            "disable": tuple(sorted(_strings(job.options.get("disable")))),  # ids, not paths
            "repository": self._repository(job),
            "rules": _rule_sources(),
        }

    def plan(self, job: ScanJob) -> Plan:
        if not job.files:
            return Plan(skip_reason="no files to scan", nothing_to_scan=True)
        return Plan()  # evaluated in parse(): nothing to run

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code == 0

    def exit_code_for(self, job: ScanJob, findings: int) -> int | None:
        return 0

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        from secscan.scanners._posture_checks import Hit, Tree, evaluate

        rules = self._rules(job)
        repository = self._repository(job)
        tree = Tree(job.root, job.files, {"binary_paths": _strings(job.options.get("binary_paths"))})
        findings: list[Finding] = []
        notes: list[Notification] = []
        for rule, item in evaluate(rules, tree, repository):
            if isinstance(item, Hit):
                findings.append(self._finding(rule, item))
            else:
                notes.append(Notification(NotificationLevel.WARNING, item.message, item.path))
        scope = set(job.files)
        if repository:  # a missing file's finding closes once the file exists
            scope |= {r.location for r in rules if r.repository and r.location}
        findings.sort(key=lambda f: (f.location.path, f.rule_id))
        by_id = {r.id: r for r in rules}
        return ScanOutput(
            findings=tuple(findings),
            rules=tuple(by_id[i].as_rule() for i in sorted({f.rule_id for f in findings})),
            scope=frozenset(scope),
            notifications=tuple(notes),
        )

    @staticmethod
    def _finding(rule: PostureRule, hit: Hit) -> Finding:
        from secscan.scanners._posture_checks import render

        return Finding(
            tool=NAME,
            rule_id=rule.id,
            message=render(rule, hit),
            location=Location(path=hit.path, start_line=max(1, hit.line)),
            severity=rule.severity,
            tool_severity=rule.severity.value,
            identity=IDENTITY,
            line_hash=line_hash(rule.id, hit.path),
        )
