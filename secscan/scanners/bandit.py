"""bandit: Python security linter, run as ``python -m bandit -f json`` in balanced shards.

bandit is single-threaded, so big inputs are split into shards balanced by bytes (greedy,
largest file first) that run as concurrent processes; the shards' reports are merged and
sorted, so the result does not depend on the sharding. bandit's ``code`` context and the
string literals it quotes in some messages (B105-B107: the password itself) never leave
the adapter: messages are redacted and ``code`` is dropped as the report is read
(:mod:`secscan.scanners._bandit_report`).
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from secscan.core.errors import ScannerError
from secscan.core.model import Notification
from secscan.scanners._bandit_report import (
    NAME,
    error_notification,
    field,
    findings_and_rules,
    load_report,
    objects,
    relative_path,
)
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


class BanditScanner(Scanner):
    """Adapter for bandit's JSON report."""

    name = NAME
    file_local = True

    def version(self) -> str:
        return installed_version("bandit")

    def plan(self, job: ScanJob) -> Plan:
        files = _python_files(job)
        if not files:
            return Plan(skip_reason="no Python files to scan", nothing_to_scan=True)
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
            report = load_report(path)
            for at, item in objects(report, "errors", str(path)):
                name = relative_path(field(item, "filename", str, at), job.root)
                errors.setdefault(name, []).append(error_notification(name, field(item, "reason", str, at)))
            metrics = field(report, "metrics", dict, str(path))
            examined.update(relative_path(key, job.root) for key in metrics if key != "_totals")
            for at, item in objects(report, "results", str(path)):
                name = relative_path(field(item, "filename", str, at), job.root)
                raw.setdefault(name, []).append((at, item))
        python = set(_python_files(job))
        files: dict[str, FileOutput] = {}
        for name in python | raw.keys() | errors.keys():
            findings, rules = findings_and_rules(job, raw.get(name, []), redact)
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
