"""Reading a repository's files for finding identities: :class:`SourceReader` (file system I/O,
kept out of the pure :mod:`secscan.core.identity`, which takes it as a ``ReadText``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)


class SourceReader:
    """A ``read_text`` over files under ``root``, decoded as GitHub does (UTF-8, BOM and CRs kept).

    Invalid UTF-8 becomes U+FFFD. Paths that are missing, not regular files or that resolve
    outside ``root`` give ``None``. A path resolves as ``resolve(resolve(dir) / name)``, each
    directory resolved once: a log names thousands of files in far fewer directories.
    """

    def __init__(self, root: Path) -> None:
        self.base = root.resolve()
        self._directories: dict[Path, Path] = {}
        self._prefix = f"{self.base}{os.sep}"
        self._real_folders: dict[str, bool] = {}

    def _resolve(self, path: str) -> Path:
        full = self.base / path
        if full.name in ("", ".."):
            return full.resolve()
        real_dir = self._directories.get(full.parent)
        if real_dir is None:
            real_dir = self._directories[full.parent] = full.parent.resolve()
        candidate = real_dir / full.name
        return candidate.resolve() if candidate.is_symlink() else candidate

    def in_place(self, path: str) -> bool:
        """Whether ``path`` is read where it stands: a plain relative path (no ``.``, ``..`` or empty
        part), no symbolic link on the way, inside ``root`` (what :data:`TextDigests` may vouch for:
        the file at ``root/path`` is the one read). String operations: it is asked of every path
        with findings on every run."""
        folder, _, name = path.rpartition("/")
        if name in ("", ".", "..") or path.startswith("/") or "\0" in path:
            return False
        real = self._real_folders.get(folder)
        if real is None:
            plain = all(part not in ("", ".", "..") for part in folder.split("/")) if folder else True
            full = self._prefix + folder if folder else str(self.base)
            real = self._real_folders[folder] = plain and os.path.realpath(full) == full
        return real and not os.path.islink(self._prefix + path)  # noqa: PTH114 - no Path per path

    def __call__(self, path: str) -> str | None:
        candidate = self._resolve(path)
        if not candidate.is_relative_to(self.base) or not candidate.is_file():
            return None
        try:
            return candidate.read_bytes().decode("utf-8", "replace")
        except OSError as exc:
            logger.debug("cannot read %s for finding identity: %s", candidate, exc)
            return None


def source_reader(root: Path) -> SourceReader:
    """The :class:`SourceReader` of ``root``."""
    return SourceReader(root)
