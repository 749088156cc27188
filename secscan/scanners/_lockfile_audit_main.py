"""``python -m secscan.scanners._lockfile_audit_main``: the lockfile-audit process.

Reads the lockfiles it is given (regular files inside the root, never through a symbolic
link, at most ``--max-bytes`` each), parses them as data, opens the offline OSV database's
compiled index in ``--osv-index`` (compiling it first when it is missing or stale, or waiting
for the process compiling it; without the option, or when the index cannot be used, it loads
only the records naming one of the lockfiles' packages), matches, and writes one JSON document
(:data:`secscan.scanners._lockfile_audit.FORMAT`). It runs as a scanner process so that the
runner's deadline, kill and isolation apply to it like to any other tool.

Exit codes: 0 when the document is written (whatever was found), 2 when the OSV database
cannot be loaded or the arguments are wrong (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from secscan.core.errors import SecscanError
from secscan.scanners._lockfile_audit import audit_file, document, error_result
from secscan.scanners.lockfiles import Lockfile, LockfileError, parse_lockfile, recognise


class _UnreadableError(Exception):
    """A lockfile that cannot be read safely (one line)."""


def read_capped(root: Path, relative: str, limit: int) -> bytes:
    """The bytes of ``root/relative``: a regular file inside ``root``, not a link, at most ``limit``."""
    path = root / relative
    try:
        real = Path(os.path.realpath(path.parent)) / path.name
        if not real.is_relative_to(root):
            raise _UnreadableError("is outside the scanned folder (a symbolic link on the way)")
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise _UnreadableError(f"cannot be opened ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _UnreadableError("is not a regular file")
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(fd, min(1 << 20, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise _UnreadableError(f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if size > limit:
        raise _UnreadableError(f"is larger than {limit} bytes")
    return b"".join(chunks)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="lockfile-audit", description=__doc__)
    parser.add_argument("--osv-db", type=Path, required=True, help="offline OSV database (folder or zip)")
    parser.add_argument("--osv-index", type=Path, help="folder of compiled OSV indexes (default: none)")
    parser.add_argument("--root", type=Path, required=True, help="the scanned folder")
    parser.add_argument(
        "--files-from", type=Path, required=True, help="JSON list of lockfiles (relative paths)"
    )
    parser.add_argument("--output", type=Path, required=True, help="where to write the JSON document")
    parser.add_argument("--max-bytes", type=int, default=5_000_000, help="largest lockfile read")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Parse, open and match; the output document. Raises InputError for an unusable database
    (IndexDamagedError when its compiled index turns out damaged)."""
    from secscan.scanners.osv.matching import package_key
    from secscan.scanners.osv.source import database_note, open_advisories  # after the lockfiles: fail fast

    root = Path(os.path.realpath(args.root))
    relatives = json.loads(args.files_from.read_text(encoding="ascii"))
    results: dict[str, Any] = {}
    parsed: dict[str, Lockfile] = {}
    for relative in relatives:
        kind = recognise(relative.rsplit("/", 1)[-1])
        if kind is None:
            continue
        try:
            parsed[relative] = parse_lockfile(kind, read_capped(root, relative, args.max_bytes))
        except (_UnreadableError, LockfileError) as exc:
            results[relative] = error_result(kind.value, kind.ecosystem, f"{kind.value} {exc}")
    wanted = {package_key(p.ecosystem, p.name) for lockfile in parsed.values() for p in lockfile.packages}
    records: dict[str, Any] = {}
    if parsed:
        database = open_advisories(args.osv_db, args.osv_index, packages=wanted)
        for relative, lockfile in parsed.items():
            results[relative] = audit_file(lockfile, database, records)
        return document(results, records, database_note(database))
    return document(results, records)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        doc = run(args)
    except SecscanError as exc:  # the database cannot be read, or its compiled index is damaged
        print(f"lockfile-audit: {exc}", file=sys.stderr)  # noqa: T201 - a tool's one-line error
        return 2
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="ascii")  # paths may hold surrogates
    tmp.replace(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
