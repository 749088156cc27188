"""Reading a target's suppressions file (``.secscan/suppressions.toml``); the rules that apply
its entries are :mod:`secscan.core.suppressions`'."""

from __future__ import annotations

from pathlib import Path

from secscan.core.errors import InputError
from secscan.core.records import Suppression
from secscan.core.suppressions import SUPPRESSIONS_FILE, parse_suppressions
from secscan.fs.safe_read import read_inside

MAX_SUPPRESSIONS_BYTES = 1_000_000


def read_suppressions(root: Path) -> tuple[Suppression, ...]:
    """The target's ``.secscan/suppressions.toml`` (empty when there is none). Raises InputError.

    Shared by ``secscan run`` and ``secscan ingest``. No symbolic link is followed on the way
    (it could point out of the untrusted repository), and the file must be a regular file of at
    most :data:`MAX_SUPPRESSIONS_BYTES` (:func:`secscan.fs.safe_read.read_inside`).
    """
    path = root / SUPPRESSIONS_FILE
    raw = read_inside(root, SUPPRESSIONS_FILE, MAX_SUPPRESSIONS_BYTES, "suppressions file")
    if raw is None:
        return ()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text; save it as UTF-8") from None
    return parse_suppressions(text, str(path))
