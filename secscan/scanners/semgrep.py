"""semgrep with secscan's own rule packs (``rules/semgrep/``): JavaScript, TypeScript, Pine Script
and configuration files.

semgrep is an optional extra (``pip install 'secscan[semgrep]'``, about 400 MB). When files its
rules cover exist and it is not installed, the scanner is ``skipped`` with a warning that says how
many files of which kind went unscanned and how to install it: a coverage gap is never silent.

How it runs (one process for every language, or, for a larger tree, one per CPU; each also cut
into argv-sized chunks of files):

- **Shards.** semgrep's analysis of a file does not depend on the other files, and one process
  runs one job, so from :data:`SMALL_BYTES` of files on the files are split into ``shards``
  processes (default: the CPU count) balanced by bytes, largest first, like bandit's. semgrep is
  then no longer the one long process a cold run waits for at the end, with the other core idle
  (on the mixed benchmark it took 8 s of CPU in one process while everything else was done).
  The reports are merged per file, so the result does not depend on the sharding.

- ``semgrep scan --experimental``: semgrep's native (OCaml) command line. The default command
  line starts a Python front-end that costs about 2 CPU seconds per run before any file is read;
  the native one starts in 0.15 s and gives the same JSON (``tests/scanners/test_semgrep.py``
  compares the two).
- ``--config <workdir>/rules.yml`` only: the merged, validated packs. Never ``--config auto`` or a
  registry name, so no network; ``--metrics=off``, ``--disable-version-check`` and the matching
  environment variables, and a private ``HOME``/XDG folders in the work folder (semgrep reads
  ``~/.semgrep/settings.yml`` and writes logs there otherwise).
- An explicit file list (secscan's inventory decides what is scanned) with ``--no-git-ignore``:
  a ``.semgrepignore``, ``.gitignore`` or ``.semgrep.yml`` inside the target changes neither the
  rules nor the files (tested). Inline ``// nosemgrep: <rule>`` comments are honoured, like
  bandit's ``# nosec``: they are visible in review; pass ``args = ["--disable-nosem"]`` to ignore them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from secscan.config.policy import rules_dir
from secscan.core.model import Finding, Notification, NotificationLevel, ToolName
from secscan.scanners._argv_names import left_out, representable, unrepresentable
from secscan.scanners._semgrep_memo import memoised_pack
from secscan.scanners._semgrep_rules import RulePack
from secscan.scanners._sharding import shard, split_arguments
from secscan.scanners._tools import find_tool, private_env
from secscan.scanners._versions import NotInstalledError, installed_version
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
from secscan.scanners.per_file import group_by_path, merge

INSTALL = "pip install 'secscan[semgrep]'"
DEFAULT_MAX_TARGET_BYTES = 1_000_000
DEFAULT_RULE_TIMEOUT_S = 30.0
MAX_MEMORY_MIB = 4096
"""semgrep's ``--max-memory`` per rule and file: a file that would need more is given up (and
reported as not covered) instead of exhausting the host's memory."""
DEFAULT_JOBS = 1
"""semgrep's native engine with ``--jobs 2`` used 2.5x the CPU time of ``--jobs 1`` for the same
scan (eslint's 411 files: 20 s against 8 s) and finished later on two cores, where bandit and
detect-secrets compete for the same CPUs: one job is both cheaper and faster here."""
SMALL_BYTES = 500_000
"""Fewer bytes of files than this are one semgrep process (a second costs about 0.2 s of CPU to
start and load the rules)."""
_ENV = {"SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}


def _count(counts: Mapping[str, int]) -> str:
    parts = [f"{n} {kind}" for kind, n in counts.items()]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{text} file{'s' if sum(counts.values()) != 1 else ''}"


def _size(root: Path, path: str) -> int:
    try:
        return (root / path).stat().st_size
    except OSError:
        return 0  # semgrep reports it as not scanned


def shard_count(total_bytes: int, files: int, requested: object) -> int:
    """How many semgrep processes to start for ``files`` files of ``total_bytes``."""
    if isinstance(requested, int) and not isinstance(requested, bool) and requested >= 1:
        wanted = requested
    elif total_bytes < SMALL_BYTES:
        wanted = 1
    else:
        wanted = os.cpu_count() or 1
    return max(1, min(wanted, files))


def _option(job: ScanJob, key: str, default: float) -> float:
    value = job.options.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


class SemgrepScanner(Scanner):
    """Adapter for ``semgrep scan --json`` over secscan's rule packs."""

    name = ToolName("semgrep")  # _semgrep_report.NAME (a test keeps the two equal)
    file_local = True

    def __init__(self, rules: Sequence[Path] | None = None, tool_folders: list[Path] | None = None) -> None:
        self.rule_folders = tuple(rules) if rules is not None else (rules_dir() / "semgrep",)
        self.tool_folders = tool_folders
        self.pack_memo: Path | None = None
        """The folder of compiled data where the parsed packs are kept (None: parsed each time);
        set before :attr:`pack` is first read (:mod:`secscan.scanners._semgrep_memo`)."""

    @functools.cached_property
    def pack(self) -> RulePack:
        return memoised_pack(self.rule_folders, self.pack_memo)

    def executable(self) -> Path | None:
        return find_tool("semgrep", self.tool_folders)

    def version(self) -> str:
        if self.executable() is None:
            return "not installed"
        try:
            return installed_version("semgrep")
        except NotInstalledError:
            return "unknown"

    def scannable(self, files: Sequence[str]) -> tuple[str, ...]:
        return self.pack.scannable(files)

    def plan(self, job: ScanJob) -> Plan:
        files = self.pack.scannable(job.files)
        if not files:
            kinds = ", ".join(self.pack.kind_labels())
            return Plan(skip_reason=f"no {kinds} files to scan", nothing_to_scan=True)
        executable = self.executable()
        if executable is None:
            message = (
                f"semgrep is not installed, so {_count(self.pack.kinds(files))} went unscanned; "
                f"install it with: {INSTALL}"
            )
            note = Notification(NotificationLevel.WARNING, message)
            return Plan(skip_reason=message, notifications=(note,))
        files = representable(files)  # the others are reported by parse_files
        if not files:
            return Plan()
        workdir = job.workdir.absolute()
        config = workdir / "rules.yml"
        config.write_text(self.pack.config, encoding="utf-8")
        env = {**private_env(workdir), **_ENV}
        jobs = int(_option(job, "jobs", DEFAULT_JOBS))
        argv = (
            str(executable), "scan", "--experimental", "--config", str(config), "--json", "--quiet",
            "--metrics=off", "--disable-version-check", "--no-git-ignore", "--no-rewrite-rule-ids",
            "--jobs", str(max(1, jobs)),
            "--max-target-bytes", str(int(_option(job, "max_target_bytes", DEFAULT_MAX_TARGET_BYTES))),
            "--timeout", f"{_option(job, 'rule_timeout', DEFAULT_RULE_TIMEOUT_S):g}",
            "--max-memory", str(MAX_MEMORY_MIB),
            *job.args,
        )  # fmt: skip
        sizes = [(f, _size(job.root, f)) for f in files]
        count = shard_count(sum(size for _, size in sizes), len(files), job.options.get("shards"))
        bins = [[f"./{f}" if f.startswith("-") else f for f in bin_] for bin_ in shard(sizes, count)]
        commands = []
        for index, chunk in enumerate(chunk for bin_ in bins for chunk in split_arguments(bin_)):
            stdout = workdir / f"semgrep-{index}.json"
            commands.append(Command(argv=(*argv, "--", *chunk), cwd=job.root, stdout_path=stdout, env=env))
        return Plan(commands=tuple(commands))

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code in (0, 1)  # 1: findings, when args add --error

    def exit_code_for(self, job: ScanJob, findings: int) -> int | None:
        return 1 if findings and "--error" in job.args else 0

    def cache_material(self, job: ScanJob) -> Mapping[str, object]:
        return {
            "args": list(job.args),
            "rules": self.pack.digest,
            "max_target_bytes": _option(job, "max_target_bytes", DEFAULT_MAX_TARGET_BYTES),
            "rule_timeout": _option(job, "rule_timeout", DEFAULT_RULE_TIMEOUT_S),
        }

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        return merge(self.parse_files(job, results))

    def parse_files(self, job: ScanJob, results: Sequence[CommandResult]) -> FileOutputs:
        """Results per file. A file is covered when semgrep scanned it without an error."""
        from secscan.scanners._semgrep_report import ReportReader  # issue 18: only when semgrep ran

        given = self.pack.scannable(job.files)
        reader = ReportReader(self.pack, job.policy, job.root, given)
        for result in results:
            reader.read(result.command.stdout_path)
        report = reader.report
        by_path = group_by_path(report.findings)
        files: dict[str, FileOutput] = {}
        for path in given:
            if unrepresentable(path):
                files[path] = left_out("semgrep", path)
                continue
            found = sorted(by_path.get(path, []), key=_order)
            notes = list(report.errors.get(path, []))
            if path not in report.scanned and path not in report.errors:
                notes.append(
                    Notification(
                        NotificationLevel.WARNING,
                        f"semgrep skipped {path} (larger than [scanners.semgrep] max_target_bytes, or "
                        "binary); the file is not covered by this run",
                        path,
                    )
                )
            used = dict.fromkeys(f.rule_id for f in found)
            files[path] = FileOutput(
                findings=tuple(found),
                rules=tuple(report.rules[r] for r in used),
                notifications=tuple(notes),
                covered=path in report.scanned and path not in report.errors,
            )
        return FileOutputs(files, tuple(report.run_notes))


def _order(finding: Finding) -> tuple[int, int, str]:
    where = finding.location
    return (where.start_line, where.start_column or 0, finding.rule_id)
