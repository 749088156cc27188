"""Where a SARIF result points, for :mod:`secscan.scanners.sarif_input`: artifact locations (a URI,
an index into the run's ``artifacts``, a ``uriBaseId`` of ``originalUriBaseIds``) resolved to
repo-relative POSIX paths under the scanned root, and line and column numbers checked and clamped.

A ``file://`` URI or an absolute path counts only under the root; ``%SRCROOT%`` (and an undefined
base id) means the root; URIs are percent-decoded to the path's bytes
(:func:`secscan.fs.names.from_uri`), so a file name that is not UTF-8 is found again.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from secscan.fs.names import from_uri
from secscan.scanners._sarif_values import as_dict, as_int, as_list, as_str

MAX_POSITION = 2**31 - 1
"""The largest line or column number kept (larger ones are clamped to it, with a notification)."""
_SRCROOT = ("%SRCROOT%", "SRCROOT")


def position(value: object, minimum: int) -> int | None:
    """A line or column number (``None`` if it is not one), clamped to :data:`MAX_POSITION`."""
    number = value if type(value) is int and value >= minimum else as_int(value, minimum)
    return number if number is None or number <= MAX_POSITION else MAX_POSITION


class ArtifactPaths:
    """The repo-relative paths of one run's artifact locations, each distinct one resolved once."""

    def __init__(self, run: dict[str, Any], root: Path) -> None:
        self.run = run
        self.roots = {root.as_posix(), root.resolve().as_posix()}
        self.bases = as_dict(run.get("originalUriBaseIds"))
        # Results repeat their URIs: each distinct one is resolved once.
        self.paths: dict[tuple[str | None, int | None, str | None], str | None] = {}

    def _absolute(self, path: str) -> str | None:
        """Repo-relative form of an absolute path ("" for the root itself), None outside the root."""
        for root in self.roots:
            if path == root or path.startswith(root.rstrip("/") + "/"):
                return self._inside(path[len(root) :].lstrip("/"))
        return None

    @staticmethod
    def _inside(path: str) -> str | None:
        rel = posixpath.normpath(path) if path else "."
        if rel == ".":
            return ""
        return None if rel == ".." or rel.startswith(("../", "/")) else rel

    def _resolve(self, artifact: dict[str, Any], depth: int) -> str | None:
        uri = as_str(artifact.get("uri"))
        index = as_int(artifact.get("index"), 0)
        artifacts = as_list(self.run.get("artifacts"))
        if uri is None and index is not None and index < len(artifacts):
            artifact = as_dict(as_dict(artifacts[index]).get("location"))
            uri = as_str(artifact.get("uri"))
        if uri is None or depth > 4:
            return None
        parts = urlsplit(uri)
        if parts.scheme:
            if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
                return None
            return self._absolute(from_uri(parts.path))
        path = from_uri(parts.path)
        if path.startswith("/"):
            return self._absolute(path)
        base_id = as_str(artifact.get("uriBaseId"))
        base = ""
        # %SRCROOT% always means the scanned root; an undefined base id is taken as the root too.
        if base_id is not None and base_id not in _SRCROOT and base_id in self.bases:
            resolved = self._resolve(as_dict(self.bases[base_id]), depth + 1)
            if resolved is None:
                return None
            base = resolved
        return self._inside(posixpath.join(base, path))

    def relative(self, artifact: dict[str, Any]) -> str | None:
        """The artifact's repo-relative POSIX path, or None when it is not a file under the root."""
        # The answer depends only on these three values (and the run): resolved once each.
        uri, index, base_id = artifact.get("uri"), artifact.get("index"), artifact.get("uriBaseId")
        key: tuple[str | None, int | None, str | None]
        if type(uri) is str and index is None and (base_id is None or type(base_id) is str):
            key = (uri, None, base_id)  # the usual shape, the same key as below
        else:
            key = (as_str(uri), as_int(index, 0), as_str(base_id))
        if key in self.paths:
            return self.paths[key]
        path = self.paths[key] = self._resolve(artifact, 0) or None
        return path
