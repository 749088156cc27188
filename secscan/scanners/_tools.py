"""Helpers for scanners that are separate executables (zizmor, semgrep).

- :func:`find_tool`: the tool's executable installed *beside secscan* (the scripts folder of this
  interpreter's environment), never an unrelated copy found on ``PATH``: its version is then the
  one ``importlib.metadata`` reports, which goes into the result cache's keys.
- :func:`private_env`: a home and XDG folders inside the scanner's work folder, so a tool writes
  no state (settings, logs, caches) into the user's home and reads none from it.
- :class:`ByteColumns`: tools that report UTF-8 byte columns, converted to the UTF-16 code unit
  columns secscan's SARIF declares (``columnKind``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import sysconfig
from pathlib import Path

MAX_SOURCE_BYTES = 64 * 1024 * 1024
"""Files larger than this are not read to convert columns (their columns stay as reported)."""


def _script_folders() -> list[Path]:
    folders = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    user = sysconfig.get_preferred_scheme("user")
    with contextlib.suppress(KeyError):  # a platform without a user scheme
        folders.append(Path(sysconfig.get_path("scripts", user)))
    return list(dict.fromkeys(folders))


def find_tool(name: str, folders: list[Path] | None = None) -> Path | None:
    """The executable ``name`` in ``folders`` (default: this environment's scripts folders)."""
    for folder in _script_folders() if folders is None else folders:
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def private_env(workdir: Path) -> dict[str, str]:
    """``HOME`` and the XDG base folders inside ``workdir`` (created), and no colours."""
    home = workdir.absolute() / "home"
    env = {"HOME": str(home), "NO_COLOR": "1"}
    for variable, folder in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        path = home / folder
        path.mkdir(parents=True, exist_ok=True)
        env[variable] = str(path)
    return env


def utf16_column(line: bytes, byte_column: int) -> int:
    """The 1-based UTF-16 column of the 1-based UTF-8 ``byte_column`` in ``line``."""
    prefix = line[: max(0, byte_column - 1)]
    if prefix.isascii():
        return byte_column
    return len(prefix.decode("utf-8", "replace").encode("utf-16-le")) // 2 + 1


class ByteColumns:
    """Converts byte columns of files under ``root`` to UTF-16 columns, reading each file once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lines: dict[str, list[bytes] | None] = {}

    def _read(self, path: str) -> list[bytes] | None:
        if path not in self._lines:
            full = self.root / path
            lines = None
            try:
                if not full.is_symlink() and full.is_file() and full.stat().st_size <= MAX_SOURCE_BYTES:
                    lines = full.read_bytes().split(b"\n")
            except OSError:
                lines = None
            self._lines[path] = lines
        return self._lines[path]

    def line_text(self, path: str, line: int) -> str | None:
        """The text of ``line`` (1-based) of ``path``, or None when it cannot be read."""
        lines = self._read(path)
        if lines is None or not 1 <= line <= len(lines):
            return None
        return lines[line - 1].decode("utf-8", "replace")

    def column(self, path: str, line: int, byte_column: int | None) -> int | None:
        """The UTF-16 column of ``byte_column`` on ``line`` (1-based) of ``path``."""
        if byte_column is None:
            return None
        lines = self._read(path)
        if lines is None or not 1 <= line <= len(lines):
            return byte_column
        return utf16_column(lines[line - 1], byte_column)
