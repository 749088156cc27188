"""The target's suppressions file, ``.secscan/suppressions.toml``: read safely, parsed by triage."""

from __future__ import annotations

from pathlib import Path

from secscan.errors import InputError
from secscan.store.interface import Suppression
from secscan.triage import parse_suppressions

MAX_SUPPRESSIONS_BYTES = 1_000_000
SUPPRESSIONS_FILE = ".secscan/suppressions.toml"


def read_suppressions(root: Path) -> tuple[Suppression, ...]:
    """The target's ``.secscan/suppressions.toml`` (empty when there is none). Raises InputError.

    Shared by ``secscan run`` and ``secscan ingest``. A symlink is never followed: it could
    point out of the (untrusted) repository.
    """
    path = root / SUPPRESSIONS_FILE
    if path.is_symlink() or not path.is_file():
        return ()
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_SUPPRESSIONS_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}; check its permissions") from None
    if len(raw) > MAX_SUPPRESSIONS_BYTES:
        raise InputError(f"{path} is larger than {MAX_SUPPRESSIONS_BYTES} bytes; trim it")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text; save it as UTF-8") from None
    return parse_suppressions(text, str(path))
