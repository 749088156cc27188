"""zizmor: GitHub Actions workflows, action definitions and Dependabot configuration.

zizmor is a runtime dependency (a compiled wheel). It runs once over an explicit list of the
files it audits (:func:`kind`; the files ``zizmor <repository>`` collects, minus pre-commit
configs, whose loader aborts the whole run on a malformed file) with:

- ``--offline``: no audit that needs GitHub's API runs and no remote input is fetched; no token
  is passed (the environment is rebuilt without ``GH_TOKEN``/``GITHUB_TOKEN``), and ``HOME`` and
  the XDG folders are private folders in the work folder (zizmor's HTTP cache lives there).
- ``--no-config``: zizmor otherwise reads ``zizmor.yml`` or ``.github/zizmor.yml`` from the
  scanned repository (and searches parent folders for one), and such a file can disable audits
  or ignore findings by rule and path. A repository does not get to turn off its own checks: only
  a trusted secscan configuration can name a zizmor config (``[scanners.zizmor] config``).
  Inline ``# zizmor: ignore[<audit>]`` comments are honoured, like bandit's ``# nosec``: they
  sit on the line, visible in review (``args = ["--no-ignores"]`` ignores them too).
- ``--format sarif``; the log is read by :mod:`secscan.scanners._zizmor_sarif`.

Coverage: zizmor skips an input it cannot parse or that does not match the workflow or action
schema with a warning that does not always name the file, and audits the rest. It logs
``completed <path>`` for every input it audited, so stderr goes to a file and a file counts as
covered only when zizmor says it completed it; the others get a warning and stay out of scope.

Every audit looks at one input at a time (``Audit::audit`` takes one workflow, action or
Dependabot file), so results are per file and cached per file.
"""

from __future__ import annotations

import posixpath
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from secscan.core.errors import ScannerError
from secscan.core.model import Finding, Notification, NotificationLevel, ToolName
from secscan.scanners._argv_names import left_out, representable, unrepresentable
from secscan.scanners._output import read_output
from secscan.scanners._sharding import split_arguments
from secscan.scanners._tools import ByteColumns, find_tool, private_env
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
from secscan.scanners.per_file import group_by_path, merge

PERSONAS = ("regular", "pedantic", "auditor")
NO_INPUTS_EXIT = 3
"""zizmor's exit code when none of its inputs could be loaded (every file then is uncovered)."""

_YAML = (".yml", ".yaml")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_COMPLETED = re.compile(r"\bcompleted (.+?)\s*$")
_MAX_STDERR = 16 * 1024 * 1024


def kind(path: str) -> str | None:
    """What zizmor audits ``path`` as: a workflow, an action, Dependabot configuration, or None.

    As zizmor collects a repository (and as GitHub reads one): workflows directly in the root's
    ``.github/workflows/`` and the root's ``.github/dependabot.yml``, action definitions
    (``action.yml``) in any folder. A ``.github`` folder further down is not the repository's."""
    folder, name = posixpath.split(path)
    if not name.endswith(_YAML):
        return None
    if folder == ".github/workflows":
        return "GitHub Actions workflow"
    if name in ("action.yml", "action.yaml"):
        return "GitHub Actions action"
    if folder == ".github" and name in ("dependabot.yml", "dependabot.yaml"):
        return "Dependabot configuration"
    return None


def completed(stderr: str) -> set[str]:
    """The inputs zizmor's log says it audited (``... completed <path>``)."""
    done = set()
    for line in stderr.splitlines():
        match = _COMPLETED.search(_ANSI.sub("", line))
        if match:
            done.add(posixpath.normpath(match.group(1)).removeprefix("./"))
    return done


class ZizmorScanner(Scanner):
    """Adapter for ``zizmor --offline --format sarif``."""

    name = ToolName("zizmor")  # _zizmor_sarif.NAME (a test keeps the two equal)
    file_local = True

    def __init__(self, tool_folders: list[Path] | None = None) -> None:
        self.tool_folders = tool_folders

    def executable(self) -> Path | None:
        return find_tool("zizmor", self.tool_folders)

    def version(self) -> str:
        return installed_version("zizmor")

    def scannable(self, files: Sequence[str]) -> tuple[str, ...]:
        return tuple(f for f in files if kind(f) is not None)

    def _config_args(self, job: ScanJob) -> tuple[str, ...]:
        config = job.options.get("config")
        return ("--config", str(config)) if isinstance(config, str | Path) else ("--no-config",)

    def plan(self, job: ScanJob) -> Plan:
        files = self.scannable(job.files)
        if not files:
            return Plan(
                skip_reason="no GitHub Actions workflows, actions or Dependabot configuration to scan",
                nothing_to_scan=True,
            )
        executable = self.executable()
        if executable is None:
            raise ScannerError(
                f"zizmor is not installed for {sys.executable}; run: pip install 'zizmor>=1.33,<2'"
            )
        persona = job.options.get("persona", "regular")
        if persona not in PERSONAS:
            raise ScannerError(
                f"zizmor persona {persona!r} is not one of {', '.join(PERSONAS)}; fix secscan.toml"
            )
        files = representable(files)  # the others are reported by parse_files
        if not files:
            return Plan()
        workdir = job.workdir.absolute()
        argv = (
            str(executable), "--offline", "--format", "sarif", "--no-progress", "--color", "never",
            "--persona", str(persona), *self._config_args(job), *job.args,
        )  # fmt: skip
        env = private_env(workdir)
        commands = []
        for index, chunk in enumerate(split_arguments([f"./{f}" if f.startswith("-") else f for f in files])):
            commands.append(
                Command(
                    argv=(*argv, "--", *chunk),
                    cwd=job.root,
                    stdout_path=workdir / f"zizmor-{index}.sarif",
                    env=env,
                    stderr_path=workdir / f"zizmor-{index}.stderr",
                )
            )
        return Plan(commands=tuple(commands))

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code in (0, NO_INPUTS_EXIT)

    def exit_code_for(self, job: ScanJob, findings: int) -> int | None:
        return 0

    def cache_material(self, job: ScanJob) -> Mapping[str, object]:
        return {
            "args": list(job.args),
            "persona": str(job.options.get("persona", "regular")),
            "config": list(self._config_args(job)),
        }

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        return merge(self.parse_files(job, results))

    def parse_files(self, job: ScanJob, results: Sequence[CommandResult]) -> FileOutputs:
        """Results per file; a file is covered when zizmor logged that it completed it."""
        from secscan.scanners._zizmor_sarif import ZizmorReader  # issue 18: only when zizmor ran

        given = self.scannable(job.files)
        reader = ZizmorReader(job.policy, given, ByteColumns(job.root))
        audited: set[str] = set()
        for result in results:
            stderr = _stderr(result)
            if result.exit_code == NO_INPUTS_EXIT:
                if "no inputs collected" not in stderr:
                    raise ScannerError(f"zizmor exited with code {NO_INPUTS_EXIT}; run it by hand to see why")
                continue
            audited |= completed(stderr)
            output = result.command.stdout_path
            reader.read(read_output(output, "zizmor", "SARIF", "run zizmor by hand"), str(output))
        by_path = group_by_path(reader.log.findings)
        files = {}
        for path in given:
            if unrepresentable(path):
                files[path] = left_out("zizmor", path)
                continue
            found = sorted(by_path.get(path, []), key=_order)
            notes: tuple[Notification, ...] = ()
            if path not in audited:
                notes = (
                    Notification(
                        NotificationLevel.WARNING,
                        f"zizmor could not audit {path} (not valid YAML, or not a valid {kind(path)}); "
                        "the file is not covered by this run",
                        path,
                    ),
                )
            used = dict.fromkeys(f.rule_id for f in found)
            files[path] = FileOutput(
                findings=tuple(found),
                rules=tuple(reader.log.rules[r] for r in used),
                notifications=notes,
                covered=path in audited,
            )
        return FileOutputs(files, tuple(reader.log.notes), reader.log.incomplete)


def _order(finding: Finding) -> tuple[int, int, str]:
    where = finding.location
    return (where.start_line, where.start_column or 0, finding.rule_id)


def _stderr(result: CommandResult) -> str:
    path = result.command.stderr_path
    if path is None:
        return result.stderr_tail
    return read_output(path, "zizmor", "log", "run zizmor by hand", _MAX_STDERR).decode("utf-8", "replace")
