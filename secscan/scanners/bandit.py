"""bandit: Python security linter, run as ``python -m bandit -f json`` in balanced shards.

bandit is single-threaded, so big inputs are split into shards balanced by bytes (greedy,
largest file first) that run as concurrent processes; the shards' reports are merged and
sorted, so the result does not depend on the sharding. bandit's ``code`` context and the
string literals it quotes in some messages (B105-B107: the password itself) never leave
this module: messages are redacted and ``code`` is dropped.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from secscan.core.errors import ScannerError
from secscan.core.model import Finding, Location, Notification, NotificationLevel, Rule, ToolName
from secscan.core.redact import redact_quoted
from secscan.scanners._output import load_json_object
from secscan.scanners._sharding import shard, split_arguments
from secscan.scanners._versions import installed_version
from secscan.scanners.interface import (
    Command,
    CommandResult,
    FileOutput,
    FileOutputs,
    Plan,
    ScanJob,
    Scanner,
    ScanOutput,
)
from secscan.scanners.per_file import merge

NAME = ToolName("bandit")

BANDIT_MAIN = "secscan.scanners._bandit_main"
"""bandit's CLI with an equivalent fix for its quadratic ``# nosec`` lookup (see that module)."""

REDACT_RULES = frozenset({"B105", "B106", "B107"})
"""Rules whose message quotes a string literal of the scanned code (a hardcoded password).
``job.options["redact_rules"]`` adds more."""

BANDIT_EXCLUDES = (".svn", "CVS", ".bzr", ".hg", ".git", "__pycache__", ".tox", ".eggs", "*.egg")
"""bandit's default ``--exclude`` (``bandit.core.constants.EXCLUDE``): it skips even files named on
its command line when their path contains one of these, so for such paths results depend on the path."""

_BANDIT_EXCLUDED = re.compile("|".join(fnmatch.translate(x) for x in BANDIT_EXCLUDES))

PATH_OPTIONS = ("-x", "--exclude", "-c", "--configfile", "--ini")
"""Arguments that make bandit's choice of files depend on paths we do not model."""

SMALL_FILES = 40
SMALL_BYTES = 200_000
"""Below either bound one process is faster: starting bandit costs about 0.12 s."""

_T = TypeVar("_T")


def _load(path: Path) -> dict[str, Any]:
    return load_json_object(path, "bandit", "report", "run bandit by hand to see why")


def _malformed(where: str, what: str) -> ScannerError:
    return ScannerError(
        f"bandit report {where} is malformed: {what}; secscan reads bandit 1.x JSON, check the bandit version"
    )


def _get(item: Mapping[str, Any], key: str, kind: type[_T], where: str) -> _T:
    value = item.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _malformed(where, f"{key!r} is missing or not a {kind.__name__}")
    return value


def _opt(item: Mapping[str, Any], key: str, kind: type[_T], where: str) -> _T | None:
    return None if item.get(key) is None else _get(item, key, kind, where)


def _objects(report: Mapping[str, Any], key: str, where: str) -> list[tuple[str, dict[str, Any]]]:
    items = _get(report, key, list, where)
    out = []
    for index, item in enumerate(items):
        at = f"{where} {key}[{index}]"
        if not isinstance(item, dict):
            raise _malformed(at, "not an object")
        out.append((at, item))
    return out


def _relative(name: str, root: Path) -> str:
    """bandit's file name (``./a/b.py`` or absolute) as a repo-relative POSIX path."""
    path = Path(name)
    if path.is_absolute():
        try:
            path = path.relative_to(root.absolute())
        except ValueError:
            return path.as_posix()
    return path.as_posix().removeprefix("./")


def _python_files(job: ScanJob) -> tuple[str, ...]:
    return tuple(sorted(f for f in job.files if f.endswith(".py")))


def _size(root: Path, path: str) -> int:
    try:
        return (root / path).stat().st_size
    except OSError:
        return 0  # bandit reports it as an error; it then leaves the scope


def shard_count(files: int, total_bytes: int, requested: object) -> int:
    """How many bandit processes to start for ``files`` Python files of ``total_bytes``."""
    if isinstance(requested, int) and not isinstance(requested, bool) and requested >= 1:
        wanted = requested
    elif files < SMALL_FILES or total_bytes < SMALL_BYTES:
        wanted = 1
    else:
        wanted = os.cpu_count() or 1
    return max(1, min(wanted, files))


def _rule_name(test_name: str, more_info: str | None) -> str:
    """bandit's test name; the blacklist checks share one (``blacklist``), so use their anchor.

    ``.../blacklist_imports.html#b404-import-subprocess`` -> ``import_subprocess``.
    """
    if test_name == "blacklist" and more_info and "#" in more_info:
        anchor = more_info.rsplit("#", 1)[1]
        words = anchor.split("-")[1:] if re.fullmatch(r"b\d+", anchor.split("-")[0]) else anchor.split("-")
        if words:
            return "_".join(words)
    return test_name


def _humanise(test_name: str) -> str:
    words = test_name.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else "bandit check"


class BanditScanner(Scanner):
    """Adapter for bandit's JSON report."""

    name = NAME
    file_local = True

    def version(self) -> str:
        return installed_version("bandit")

    def plan(self, job: ScanJob) -> Plan:
        files = _python_files(job)
        if not files:
            return Plan(skip_reason="no Python files to scan")
        if importlib.util.find_spec("bandit") is None:
            raise ScannerError(
                f"bandit is not installed for {sys.executable}; run: pip install 'bandit>=1.9,<2'"
            )
        sizes = [(path, _size(job.root, path)) for path in files]
        count = shard_count(len(files), sum(size for _, size in sizes), job.options.get("shards"))
        chunks = [chunk for bin_ in shard(sizes, count) for chunk in split_arguments(bin_)]
        workdir = job.workdir.absolute()
        commands = []
        for index, chunk in enumerate(chunks):
            stdout = workdir / f"bandit-{index}.stdout"
            argv = (sys.executable, "-P", "-m", BANDIT_MAIN, "-f", "json", "-o", str(_report(stdout)), "-q")
            commands.append(Command(argv=(*argv, *job.args, "--", *chunk), cwd=job.root, stdout_path=stdout))
        return Plan(commands=tuple(commands))

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code in (0, 1)

    def scannable(self, files: Sequence[str]) -> tuple[str, ...]:
        return tuple(f for f in files if f.endswith(".py"))

    def path_profile(self, job: ScanJob, path: str) -> str | None:
        """bandit's results follow a file's content, except where its own excludes skip the file."""
        if any(arg.split("=", 1)[0] in PATH_OPTIONS for arg in job.args):
            return None
        if _BANDIT_EXCLUDED.match(path) or any(x in path for x in BANDIT_EXCLUDES):
            return None
        return ""

    def cache_material(self, job: ScanJob) -> Mapping[str, object]:
        redact = REDACT_RULES | _extra_rules(job.options.get("redact_rules"))
        return {"args": list(job.args), "redact_rules": sorted(redact)}

    def exit_code_for(self, job: ScanJob, findings: int) -> int | None:
        return 0 if findings == 0 or "--exit-zero" in job.args else 1

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        return merge(self.parse_files(job, results))

    def parse_files(self, job: ScanJob, results: Sequence[CommandResult]) -> FileOutputs:
        redact = REDACT_RULES | _extra_rules(job.options.get("redact_rules"))
        raw: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        errors: dict[str, list[Notification]] = {}
        examined: set[str] = set()
        for result in results:
            path = _report(result.command.stdout_path)
            report = _load(path)
            for at, item in _objects(report, "errors", str(path)):
                name = _relative(_get(item, "filename", str, at), job.root)
                errors.setdefault(name, []).append(_error_notification(name, _get(item, "reason", str, at)))
            metrics = _get(report, "metrics", dict, str(path))
            examined.update(_relative(key, job.root) for key in metrics if key != "_totals")
            for at, item in _objects(report, "results", str(path)):
                raw.setdefault(_relative(_get(item, "filename", str, at), job.root), []).append((at, item))
        python = set(_python_files(job))
        files: dict[str, FileOutput] = {}
        for name in python | raw.keys() | errors.keys():
            findings, rules = _findings(job, raw.get(name, []), redact)
            notes = tuple(sorted(errors.get(name, ()), key=lambda n: n.message))
            covered = name in python and name in examined and name not in errors
            files[name] = FileOutput(findings=findings, rules=rules, notifications=notes, covered=covered)
        return FileOutputs(files)


def _report(stdout_path: Path) -> Path:
    """Where a command's JSON report goes (``-o``), derived from its stdout file."""
    return stdout_path.with_suffix(".json")


def _extra_rules(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, Collection):
        return frozenset(str(item) for item in value)
    return frozenset()


def _error_notification(path: str, reason: str) -> Notification:
    short = " ".join(reason.split())[:200]
    return Notification(
        level=NotificationLevel.WARNING,
        message=f"bandit could not scan {path} ({short}); the file is not covered by this run",
        path=path,
    )


def _findings(
    job: ScanJob, raw: Sequence[tuple[str, dict[str, Any]]], redact: frozenset[str]
) -> tuple[tuple[Finding, ...], tuple[Rule, ...]]:
    """Findings in order, and each rule described from its first finding in that order (so the
    description does not depend on how files were sharded)."""
    pairs: list[tuple[Finding, str, dict[str, Any]]] = []
    for where, item in raw:
        test_id = _get(item, "test_id", str, where)
        text = _get(item, "issue_text", str, where)
        message = redact_quoted(text) if test_id in redact else text
        severity = _get(item, "issue_severity", str, where)
        confidence = _get(item, "issue_confidence", str, where)
        finding = Finding(
            tool=NAME,
            rule_id=test_id,
            message=message,
            location=_location(item, where, job.root),
            severity=job.policy.bandit(test_id, severity, confidence),
            tool_severity=f"{severity}/{confidence}",
        )
        pairs.append((finding, where, item))
    pairs.sort(key=lambda pair: _order(pair[0]))
    rules: dict[str, Rule] = {}
    for finding, where, item in pairs:
        if finding.rule_id not in rules:
            rules[finding.rule_id] = _rule(item, where, finding.rule_id, finding.message)
    return tuple(f for f, _, _ in pairs), tuple(rules[key] for key in sorted(rules))


def _order(finding: Finding) -> tuple[str, int, int, str]:
    where = finding.location
    return (where.path, where.start_line, where.start_column or 0, finding.rule_id)


def _location(item: dict[str, Any], where: str, root: Path) -> Location:
    line = _get(item, "line_number", int, where)
    col = _opt(item, "col_offset", int, where)
    end_col = _opt(item, "end_col_offset", int, where)
    line_range = _opt(item, "line_range", list, where) or [line]
    end_line = line_range[-1] if isinstance(line_range[-1], int) and line_range[-1] >= line else line
    start_column = col + 1 if col is not None else None
    end_column = end_col + 1 if end_col is not None and col is not None and end_col > col else None
    return Location(
        path=_relative(_get(item, "filename", str, where), root),
        start_line=line,
        start_column=start_column,
        end_line=end_line,
        end_column=end_column,
    )


def _rule(item: dict[str, Any], where: str, test_id: str, message: str) -> Rule:
    more_info = _opt(item, "more_info", str, where)
    test_name = _rule_name(_opt(item, "test_name", str, where) or test_id, more_info)
    cwe = _opt(item, "issue_cwe", dict, where) or {}
    cwe_id = cwe.get("id")
    tags = ["security"]
    help_lines = [f"bandit {test_id} ({test_name}): {message}"]
    if isinstance(cwe_id, int) and cwe_id > 0:
        tags.append(f"external/cwe/cwe-{cwe_id}")
        link = cwe.get("link") if isinstance(cwe.get("link"), str) else None
        help_lines.append(f"Weakness: CWE-{cwe_id}" + (f" ({link})" if link else ""))
    if more_info:
        help_lines.append(f"How to fix: {more_info}")
    help_lines.append("Suppress a reviewed false positive with `# nosec " + test_id + "` on the line.")
    return Rule(
        id=test_id,
        name=test_name,
        short_description=_humanise(test_name),
        full_description=message,
        help_text="\n".join(help_lines),
        help_uri=more_info,
        tags=tuple(tags),
    )
