"""A streaming reader of ``git log -p`` output: commits, their files, and the lines they add and remove.

Pure: :class:`LogReader` consumes the output line by line (bytes, each ending in ``\\n``) and
hands each file's change to a callback as soon as the file's patch ends, so at most one file's
lines are in memory, and at most ``max_file_bytes`` of them (a larger file is marked ``too_big``
and its lines dropped, as the tree scan skips files over ``[scan] max_file_size``). A commit
whose lines exceed ``max_commit_bytes`` keeps only what came before and is marked ``capped``.

The expected shape is what :mod:`secscan.scanners._git_history_main` asks git for:
``--format=%x01%H %ct`` (a line starting with ``\\x01`` starts a commit), ``a/`` and ``b/``
prefixes, ``core.quotePath=false`` (paths with control characters, ``"`` or ``\\`` are still
C-quoted by git), no renames, no merge diffs. Inside a hunk the ``@@ -a,b +c,d @@`` counts say
where the hunk ends, so a content line that looks like a header (``+++ x``, ``diff --git``, a
commit mark) is never mistaken for one. Binary files ("Binary files ... differ") have no lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

COMMIT_MARK = b"\x01"
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}

Line = tuple[int, str]
"""A line number (in the new file for added lines, the old file for removed ones) and its text,
with its line end, as detect-secrets' own diff scanning passes them on."""


@dataclass
class CommitInfo:
    """One commit of the log: its id, committer time (Unix seconds) and how much of it was read."""

    sha: str
    time: int
    size: int = 0
    capped: bool = False


@dataclass
class FilePatch:
    """One file's change in one commit. ``old``/``new`` are ``None`` for an added/deleted file.

    ``added`` is kept only when the reader's ``keep_added(new)`` said so, ``removed`` only when
    ``keep_removed(old)`` did.
    """

    old: str | None = None
    new: str | None = None
    added: list[Line] = field(default_factory=list)
    removed: list[Line] = field(default_factory=list)
    binary: bool = False
    too_big: bool = False
    size: int = 0
    want_added: bool = False
    want_removed: bool = False


def unquote_path(raw: bytes) -> str:
    """A path as git prints it: C-quoted (``"a/x\\ty"``, octal escapes) when it holds special
    characters. Undecodable bytes become U+FFFD (the path is for display and identity only)."""
    if not (raw.startswith(b'"') and raw.endswith(b'"') and len(raw) >= 2):
        return raw.decode("utf-8", "replace")
    text = raw[1:-1].decode("latin-1")
    out = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\" or i + 1 >= len(text):
            out.append(ord(ch))
            i += 1
            continue
        nxt = text[i + 1]
        octal = text[i + 1 : i + 4]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif len(octal) == 3 and all(c in "01234567" for c in octal):
            out.append(int(octal, 8) & 0xFF)
            i += 4
        else:
            out.append(ord(nxt))
            i += 2
    return out.decode("utf-8", "replace")


def header_path(line: bytes, prefix: str) -> str | None:
    """The path of a ``--- a/x`` or ``+++ b/x`` line without its prefix; ``None`` for ``/dev/null``."""
    raw = line[4:].rstrip(b"\n")
    if raw.endswith(b"\t"):  # git adds a tab after a name holding a space (for GNU patch)
        raw = raw[:-1]
    if raw == b"/dev/null":
        return None
    path = unquote_path(raw)
    return path[len(prefix) :] if path.startswith(prefix) else path


class LogReader:
    """Feed it the lines of ``git log -p``; it calls ``on_file(commit, file)`` for every file
    change and ``on_commit(commit)`` when a commit is complete (see the module docstring)."""

    def __init__(
        self,
        on_file: Callable[[CommitInfo, FilePatch], None],
        on_commit: Callable[[CommitInfo], None],
        *,
        max_file_bytes: int,
        max_commit_bytes: int,
        keep_added: Callable[[str], bool] = lambda _: True,
        keep_removed: Callable[[str], bool] = lambda _: False,
    ) -> None:
        self._on_file = on_file
        self._on_commit = on_commit
        self._max_file = max_file_bytes
        self._max_commit = max_commit_bytes
        self._keep_added = keep_added
        self._keep_removed = keep_removed
        self.commit: CommitInfo | None = None
        self._file: FilePatch | None = None
        self._old_left = 0  # lines of the current hunk still to come, on each side
        self._new_left = 0
        self._old_no = 0
        self._new_no = 0

    def feed(self, line: bytes) -> None:
        """Consume one line of the log."""
        if self._file is not None and (self._old_left > 0 or self._new_left > 0):
            self._hunk_line(line)
        elif line.startswith(COMMIT_MARK):
            self._end_commit()
            sha, _, when = line[1:].decode("ascii", "replace").strip().partition(" ")
            self.commit = CommitInfo(sha=sha, time=int(when) if when.isdigit() else 0)
        else:
            self._header(line)

    def mark_capped(self) -> None:
        """The current commit was not read in full (a line was cut by the caller, say)."""
        if self.commit is not None:
            self.commit.capped = True

    def finish(self) -> None:
        """The log ended normally: complete the last commit."""
        self._end_commit()

    def _end_file(self) -> None:
        if self._file is not None and self.commit is not None:
            self._on_file(self.commit, self._file)
        self._file = None
        self._old_left = self._new_left = 0

    def _end_commit(self) -> None:
        self._end_file()
        if self.commit is not None:
            self._on_commit(self.commit)
        self.commit = None

    def _header(self, line: bytes) -> None:
        if self.commit is None:
            return
        if line.startswith(b"diff --git "):
            self._end_file()
            self._file = FilePatch()
            return
        file = self._file
        if file is None:
            return
        if line.startswith(b"--- "):
            file.old = header_path(line, "a/")
            file.want_removed = file.old is not None and self._keep_removed(file.old)
        elif line.startswith(b"+++ "):
            file.new = header_path(line, "b/")
            file.want_added = file.new is not None and self._keep_added(file.new)
        elif line.startswith((b"Binary files ", b"GIT binary patch")):
            file.binary = True
        elif (match := _HUNK.match(line)) is not None:
            self._old_no, self._new_no = int(match[1]), int(match[3])
            self._old_left = int(match[2]) if match[2] is not None else 1
            self._new_left = int(match[4]) if match[4] is not None else 1

    def _hunk_line(self, line: bytes) -> None:
        file = self._file
        if file is None:
            return
        tag = line[:1]
        if tag == b"+":
            if file.want_added and self._room(file, line):
                file.added.append((self._new_no, line[1:].decode("utf-8", "replace")))
            self._new_no += 1
            self._new_left -= 1
        elif tag == b"-":
            if file.want_removed and self._room(file, line):
                file.removed.append((self._old_no, line[1:].decode("utf-8", "replace")))
            self._old_no += 1
            self._old_left -= 1
        elif tag == b"\\":  # "\ No newline at end of file" belongs to neither side
            return
        else:  # context: " ", or an empty line where a blank context line lost its space
            self._old_no += 1
            self._new_no += 1
            self._old_left -= 1
            self._new_left -= 1

    def _room(self, file: FilePatch, line: bytes) -> bool:
        commit = self.commit
        if commit is None or file.too_big or commit.capped:
            return False
        file.size += len(line)
        commit.size += len(line)
        if commit.size > self._max_commit:
            commit.capped = True
            return False
        if file.size > self._max_file:
            file.too_big = True
            file.added.clear()
            file.removed.clear()
            return False
        return True


def read_log(lines: Iterable[bytes], **options: object) -> list[tuple[CommitInfo, list[FilePatch]]]:
    """The whole log at once, for tests and small inputs: each commit with its files."""
    out: list[tuple[CommitInfo, list[FilePatch]]] = []
    files: list[FilePatch] = []

    def on_file(commit: CommitInfo, file: FilePatch) -> None:
        files.append(file)

    def on_commit(commit: CommitInfo) -> None:
        out.append((commit, files.copy()))
        files.clear()

    reader = LogReader(on_file, on_commit, **options)  # type: ignore[arg-type]
    for line in lines:
        reader.feed(line)
    reader.finish()
    return out
