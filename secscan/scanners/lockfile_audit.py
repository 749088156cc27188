"""lockfile-audit: known vulnerabilities of the packages that lockfiles pin, from secscan's own
OSV engine and the offline OSV database.

npm (``package-lock.json``, ``npm-shrinkwrap.json``, ``yarn.lock``, ``pnpm-lock.yaml``) and PyPI
lockfiles that pip-audit does not read (``poetry.lock``, ``uv.lock``, ``Pipfile.lock``,
``pylock.toml``) are parsed as data: nothing is installed, resolved or run. The work happens in a
scanner process (``secscan.scanners._lockfile_audit_main``), under the runner's deadline like
any tool. Results are per file, so the adapter is file-local and the result cache keeps each
lockfile's results, keyed by its content and by the OSV database's content hash (the session
puts the database's identity in ``job.options["osv_source"]``).

"Not audited" is never "clean": a lockfile that cannot be read, or whose ecosystem the database
holds no records of, is a warning and leaves the scope; when the database lacks a lockfile's
ecosystem (a database to fix, not a file) or no lockfile could be read at all, the scanner is
``incomplete`` and closes nothing, as pip-audit is when it audited no pin.

Options (``job.options``): ``osv_db`` (the database's path; without one the scanner is skipped
and says how many lockfiles went unaudited), ``osv_index`` (the folder of compiled OSV indexes:
the process opens the database's index there, compiling it first if needed; absent: it loads
the records it needs), ``max_file_size`` (bytes read at most per file).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from secscan import __version__
from secscan.core.clip import clip
from secscan.core.errors import ScannerError
from secscan.core.model import ToolName
from secscan.scanners._output import read_output
from secscan.scanners.interface import Command, CommandResult, FileOutputs, Plan, ScanJob, Scanner, ScanOutput
from secscan.scanners.lockfiles import LockfileKind, recognise
from secscan.scanners.per_file import merge

log = logging.getLogger(__name__)

_MAX_OUTPUT_BYTES = 256 * 1024 * 1024
_DEFAULT_MAX_BYTES = 5_000_000
_FORMATS = ", ".join(kind.value for kind in LockfileKind)


class LockfileAuditScanner(Scanner):
    """Advisories of locked npm and PyPI packages (secscan's OSV engine, offline database)."""

    name = ToolName("lockfile-audit")  # _lockfile_findings.NAME (a test keeps the two equal)
    file_local = True

    def version(self) -> str:
        return __version__

    def scannable(self, files: Sequence[str]) -> tuple[str, ...]:
        """The lockfiles among ``files``, recognised by their base name."""
        return tuple(f for f in files if recognise(f.rpartition("/")[2]) is not None)  # no Path per file

    def path_profile(self, job: ScanJob, path: str) -> str | None:
        # A lockfile's results depend on its content and its format, which its name decides.
        return PurePosixPath(path).name

    def cache_material(self, job: ScanJob) -> Mapping[str, object]:
        return {
            "args": list(job.args),
            "osv_source": job.options.get("osv_source"),
            "max_file_size": job.options.get("max_file_size"),
        }

    def exit_code_for(self, job: ScanJob, findings: int) -> int | None:
        return 0

    def plan(self, job: ScanJob) -> Plan:
        lockfiles = self.scannable(job.files)
        if not lockfiles:
            return Plan(skip_reason=f"no lockfiles found ({_FORMATS})", nothing_to_scan=True)
        database = job.options.get("osv_db")
        if not isinstance(database, Path):
            return Plan(
                skip_reason=f"no offline OSV database, so {len(lockfiles)} lockfile(s) were not audited; "
                "set --osv-db or [scanners.lockfile-audit] osv_db"
            )
        listing = job.workdir / "lockfiles.json"  # JSON: a path may hold any character
        listing.write_text(json.dumps(list(lockfiles)), encoding="ascii")
        output = job.workdir / "lockfile-audit.json"
        limit = job.options.get("max_file_size", _DEFAULT_MAX_BYTES)
        argv = [
            sys.executable,
            "-m",
            "secscan.scanners._lockfile_audit_main",
            "--osv-db",
            str(database.absolute()),
        ]
        index = job.options.get("osv_index")
        if isinstance(index, Path):  # not in cache_material: the index never changes an answer
            argv += ["--osv-index", str(index.absolute())]
        argv += ["--root", str(job.root), "--files-from", str(listing), "--output", str(output)]
        argv += ["--max-bytes", str(limit), *job.args]
        return Plan((Command(tuple(argv), job.workdir, job.workdir / "lockfile-audit.stdout"),))

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code == 0

    def parse_files(self, job: ScanJob, results: Sequence[CommandResult]) -> FileOutputs:
        from secscan.scanners._lockfile_findings import file_output  # issue 18: only when it ran

        doc = self._document(results)
        files, records = doc["files"], doc["records"]
        outputs = {}
        for path in self.scannable(job.files):
            if path not in files:
                raise ScannerError(f"lockfile-audit's output has no result for {path}; rerun with -v")
            outputs[path] = file_output(path, files[path], records, job.policy)
        return FileOutputs(outputs, incomplete=_not_audited({p: files[p] for p in outputs}))

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        return merge(self.parse_files(job, results))

    def _document(self, results: Sequence[CommandResult]) -> dict[str, Any]:
        from secscan.scanners._lockfile_audit import FORMAT

        if len(results) != 1:
            raise ScannerError(f"lockfile-audit ran {len(results)} commands instead of one; this is a bug")
        argv = results[0].command.argv
        path = Path(argv[argv.index("--output") + 1])
        data = read_output(path, "lockfile-audit", "report", "rerun with -v", _MAX_OUTPUT_BYTES)
        try:
            doc = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ScannerError(f"lockfile-audit report {path.name} is not valid JSON ({exc})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ScannerError(f"lockfile-audit report {path.name} is not a {FORMAT} document")
        if not isinstance(doc.get("files"), dict) or not isinstance(doc.get("records"), dict):
            raise ScannerError(f"lockfile-audit report {path.name} has no 'files' or 'records' object")
        log.debug("lockfile-audit: OSV records from %s", doc.get("database", "nowhere (no lockfile parsed)"))
        return doc


def _not_audited(results: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Why the run is ``incomplete``: the database lacks an ecosystem of the lockfiles, or none of
    them could be read. A single unreadable lockfile among readable ones is only a warning."""
    unsupported = sorted({r["ecosystem"] for r in results.values() if r.get("unsupported")})
    if unsupported:
        count = sum(1 for r in results.values() if r.get("unsupported"))
        return (
            f"the OSV database holds no {' or '.join(unsupported)} advisories, so {count} lockfile(s) "
            "were not audited; point --osv-db (or [scanners.lockfile-audit] osv_db) at a database "
            "with those records"
        )
    errors = [str(r["error"]) for r in results.values() if r.get("error") is not None]
    if results and len(errors) == len(results):
        first = clip(errors[0], 160)  # redacted later: a cut keeps no part of a secret
        return f"none of the {len(results)} lockfile(s) could be read (first: {first}); see the warnings"
    return None
