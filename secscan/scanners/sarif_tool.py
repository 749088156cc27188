"""A configured tool that writes SARIF 2.1.0 (semgrep, gitleaks, zizmor, trivy, ...).

The tool is described by an argv template, never a shell string. Placeholders:

- ``{target}``: the absolute scanned root, anywhere inside an argument;
- ``{output}``: the SARIF file to write in the scanner's workdir, anywhere inside an argument;
- ``{workdir}``: the scanner's own empty scratch folder (outside the target), anywhere inside an
  argument: for a tool that wants a folder for its cache or its reports;
- ``{files}``: as a whole argument only, replaced by the repo-relative files to scan, one
  argument each (a name starting with ``-`` gets a ``./`` prefix so it is not read as an option).

With ``output = "stdout"`` the log is read from the tool's stdout; text before the line that opens
the JSON object (a banner, as checkov prints) is skipped. The version recorded for the run is the
first line printed by ``version_command``; without one, the log's ``driver.semanticVersion`` or
``driver.version``.

The tool runs with the target as its working directory, so relative URIs in its SARIF are
repo-relative. Findings in files that are not part of the job (excluded, symlinked) are dropped.
A log with more results per run than secscan reads makes the tool ``incomplete``: it closes
nothing.
Message and rule texts pass through ``job.options["redact"]`` when it is a callable.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal

from secscan.core.errors import ConfigError, InputError, ScannerError
from secscan.core.model import Finding, Notification, Rule, ToolName
from secscan.scanners._output import output_chunks
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
from secscan.scanners.sarif_input import MAX_RESULTS_PER_RUN, parse_run
from secscan.scanners.sarif_load import stream_runs

logger = logging.getLogger(__name__)

OutputMode = Literal["file", "stdout"]
DEFAULT_OK_EXIT_CODES: frozenset[int] = frozenset({0, 1})
VERSION_TIMEOUT_S = 15.0
MAX_BANNER_BYTES = 64 * 1024
_JSON_START = re.compile(rb"(?m)^[ \t]*\{")


class SarifToolScanner(Scanner):
    """A generic SARIF-producing tool, configured in ``[scanners.<name>]``."""

    def __init__(
        self,
        name: ToolName,
        command: tuple[str, ...],
        *,
        output: OutputMode = "file",
        ok_exit_codes: frozenset[int] = DEFAULT_OK_EXIT_CODES,
        version_command: tuple[str, ...] | None = None,
        file_local: bool = False,
    ) -> None:
        if not command:
            raise ConfigError(f"[scanners.{name}] command is empty; give the tool's argv as a list")
        if any("{files}" in arg and arg != "{files}" for arg in command):
            raise ConfigError(f"[scanners.{name}] '{{files}}' must be a whole argument of the command")
        if output == "file" and not any("{output}" in arg for arg in command):
            raise ConfigError(
                f"[scanners.{name}] output = 'file' needs an '{{output}}' placeholder in the command"
            )
        self.name = name
        self.file_local = file_local
        self.command = command
        self.output = output
        self.ok_exit_codes = ok_exit_codes
        self.version_command = version_command

    def version(self) -> str:
        """First line of ``version_command``'s output, or ``unknown``."""
        if not self.version_command or shutil.which(self.version_command[0]) is None:
            return "unknown"
        try:
            done = subprocess.run(
                self.version_command,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=VERSION_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            logger.warning("%s: version command failed: %s", self.name, exc)
            return "unknown"
        lines = (done.stdout or done.stderr).strip().splitlines()
        return lines[0].strip()[:100] if lines else "unknown"

    def _output_path(self, job: ScanJob) -> Path:
        return job.workdir / f"{self.name}.sarif"

    def _argv(self, job: ScanJob, executable: str) -> tuple[str, ...]:
        target, output = str(job.root.absolute()), str(self._output_path(job))
        workdir = str(job.workdir.absolute())
        argv: list[str] = [executable]
        for arg in self.command[1:]:
            if arg == "{files}":
                argv += [f"./{f}" if f.startswith("-") else f for f in job.files]
            else:
                argv.append(
                    arg.replace("{target}", target).replace("{output}", output).replace("{workdir}", workdir)
                )
        return (*argv, *job.args)

    def plan(self, job: ScanJob) -> Plan:
        executable = shutil.which(self.command[0])
        if executable is None:
            raise ScannerError(
                f"{self.command[0]} is not installed or not on PATH; "
                f"install it or disable [scanners.{self.name}]"
            )
        if not job.files:
            return Plan(skip_reason="no files to scan", nothing_to_scan=True)
        suffix = "sarif" if self.output == "stdout" else "stdout"
        command = Command(self._argv(job, executable), job.root, job.workdir / f"{self.name}.{suffix}")
        return Plan((command,))

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code in self.ok_exit_codes

    def cache_material(self, job: ScanJob) -> Mapping[str, object]:
        return {
            "command": list(self.command),
            "output": self.output,
            "ok_exit_codes": sorted(self.ok_exit_codes),
            "args": list(job.args),
        }

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        return merge(self.parse_files(job, results))

    def parse_files(self, job: ScanJob, results: Sequence[CommandResult]) -> FileOutputs:
        """Results per file (for a tool declared ``file_local``; others are merged at once).

        Each file gets the rules its results use; notifications about no file of the job stay
        run-wide (and keep the run out of the result cache)."""
        path = self._output_path(job)
        if self.output == "stdout" and results:
            path = results[0].command.stdout_path
        redact = job.options.get("redact")
        redactor: Callable[[str], str] | None = redact if callable(redact) else None
        chunks = after_banner(output_chunks(path, self.name, "SARIF", "check its command and stderr"))
        try:  # streamed: a huge log is read up to the result cap, never held whole
            runs = [
                parse_run(run, tool=self.name, root=job.root, policy=job.policy, redact=redactor)
                for run in stream_runs(chunks, max_results=MAX_RESULTS_PER_RUN)
            ]
        except InputError as exc:
            raise ScannerError(f"{self.name} output {path.name}: {exc}") from None
        incomplete = next((run.incomplete for run in runs if run.incomplete is not None), None)
        stated = next((run.version for run in runs if run.version), None)
        allowed = set(job.files)
        findings: list[Finding] = []
        rules: dict[str, Rule] = {}
        notes: list[Notification] = []
        for run in runs:
            kept = [f for f in run.findings if f.location.path in allowed]
            if len(kept) < len(run.findings):
                logger.info(
                    "%s: %d findings outside the job's files dropped",
                    self.name,
                    len(run.findings) - len(kept),
                )
            findings += kept
            used = {f.rule_id for f in kept}
            rules.update((r.id, r) for r in run.rules if r.id in used and r.id not in rules)
            notes += run.notifications
        by_path = group_by_path(findings)
        per_file_notes: dict[str, list[Notification]] = {}
        run_notes: list[Notification] = []
        for note in notes:
            if note.path in allowed:
                per_file_notes.setdefault(note.path, []).append(note)
            else:
                run_notes.append(note)
        files = {
            name: _file_output(by_path.get(name, []), rules, per_file_notes.get(name, [])) for name in allowed
        }
        return FileOutputs(files, tuple(run_notes), incomplete, stated)


def after_banner(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``chunks`` from the first line that opens a JSON object: a tool may print a banner before
    its log on stdout (checkov does). Without such a line in the first :data:`MAX_BANNER_BYTES`,
    the bytes pass unchanged (the SARIF reader then says what is wrong with them)."""
    head = b""
    rest = iter(chunks)
    for chunk in rest:
        head += chunk
        start = _JSON_START.search(head)
        if start is not None or len(head) > MAX_BANNER_BYTES:
            yield head[start.start() :] if start is not None else head
            yield from rest
            return
    if head:
        yield head


def _file_output(
    found: Sequence[Finding], rules: Mapping[str, Rule], notes: Sequence[Notification]
) -> FileOutput:
    used = dict.fromkeys(f.rule_id for f in found)
    return FileOutput(
        findings=tuple(found), rules=tuple(rules[r] for r in used if r in rules), notifications=tuple(notes)
    )
