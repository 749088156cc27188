"""Find and classify pip requirement files without executing anything.

Only exact pins (``name==1.2.3``) can be audited offline: pip-audit then never resolves,
builds or installs anything. Every other line is kept with the reason it is not audited
(unpinned, editable, url, vcs, local path, include, invalid) and its file and line, so the
adapter can report it.

Decisions:

- ``===`` (arbitrary equality) is ``unpinned``: pip-audit cannot parse it as a pin.
- Environment markers are ignored: a pin is audited whatever its marker (conservative).
- ``-r``/``-c`` includes are followed when the included file is one of the target's scanned
  files (inside the target, not a symlink, not excluded); any other include is reported as
  ``include`` and not read.
- Global options (``--index-url``, ``--find-links``, ...) are ignored: nothing is downloaded.
- Credentials in URLs (``https://user:token@host``) are masked in every text kept here.
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from packaging.version import InvalidVersion, Version

from secscan.core.clip import clip
from secscan.core.errors import InputError
from secscan.core.printable import printable
from secscan.fs.safe_read import read_inside
from secscan.scanners.credential_masks import mask_credentials
from secscan.scanners.requirement_files import DEFAULT_REQUIREMENT_GLOBS, find_requirement_files

logger = logging.getLogger(__name__)

MAX_REQUIREMENT_FILE_BYTES = 2 * 1024 * 1024
_MAX_TEXT = 120

# It runs over every line of a hostile file, so it may not backtrack (nor may the credential
# masks': secscan.scanners.credential_masks): a whitespace run before a "#" is left for the
# caller's strip(), and a URL scheme is at most 64 characters (the match then starts later in a
# longer run of scheme characters, which the substitution keeps as it is: the same text comes
# out). Unbounded, a 1 MB line took hours (quadratic) and held the GIL.
_COMMENT = re.compile(r"(?:^|\s)#.*$")
_NAME = r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"  # a PEP 508 name
_NUMBER = r"(?:0|[1-9][0-9]*)"
_PLAIN_PIN = re.compile(_NAME + rf" ?== ?({_NUMBER}(?:\.{_NUMBER})*)")  # a release without leading zeros
"""``name==1.2.3``: a pin packaging would read as that name and that version, as written (a release
of plain numbers has one spelling), so it is classified without loading packaging's parser."""
_PLAIN_NAME = re.compile(_NAME)
_PLAIN_RANGE = re.compile(
    _NAME + rf" ?(?:(?:>=|<=|!=|<|>) ?{_NUMBER}(?:\.{_NUMBER})*|~= ?{_NUMBER}(?:\.{_NUMBER})+)"
    rf"(?:(?:a|b|rc){_NUMBER})?"  # an optional pre-release
)
"""``name`` or ``name >= 1.2`` (also ``<=``, ``!=``, ``<``, ``>``, ``~=`` with two numbers or more):
requirements packaging reads as that name, unpinned; classified without its parser (issue 18)."""
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVE_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")
_EDITABLE = ("-e", "--editable")
_INCLUDE = ("-r", "--requirement", "-c", "--constraint")


_SEPARATORS = re.compile(r"[-_.]+")


def canonicalize_name(name: str) -> str:
    """A project name normalised as PEP 503 says (``re.sub(r"[-_.]+", "-", name).lower()``), as
    packaging's ``canonicalize_name`` answers (a test compares the two), without importing
    ``packaging.utils``, which loads its platform tags (issue 18: every run classifies pins)."""
    return _SEPARATORS.sub("-", name).lower()


class RequirementKind(StrEnum):
    """How a requirement line was classified; everything but ``pinned`` is not audited."""

    PINNED = "pinned"
    UNPINNED = "unpinned"
    EDITABLE = "editable"
    URL = "url"
    VCS = "vcs"
    LOCAL_PATH = "local path"
    INCLUDE = "include"
    INVALID = "invalid"


@dataclass(frozen=True)
class RequirementLine:
    """One requirement as written in a file. ``text`` has URL credentials masked."""

    path: str
    line: int
    kind: RequirementKind
    text: str
    name: str | None = None  # PEP 503 canonical name
    version: str | None = None  # normalised PEP 440 version, pins only

    @property
    def audited(self) -> bool:
        return self.kind is RequirementKind.PINNED

    @property
    def reason(self) -> str:
        """Why it is not audited, e.g. ``unpinned (requests>=2)``."""
        return f"{self.kind.value} ({self.text})"


@dataclass(frozen=True)
class RequirementFile:
    """One requirement file; ``error`` says why it could not be read (its lines are then empty)."""

    path: str
    lines: tuple[RequirementLine, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class RequirementSet:
    files: tuple[RequirementFile, ...]

    @property
    def lines(self) -> tuple[RequirementLine, ...]:
        return tuple(line for f in self.files for line in f.lines)

    @property
    def pinned(self) -> tuple[RequirementLine, ...]:
        return tuple(line for line in self.lines if line.audited)

    @property
    def not_audited(self) -> tuple[RequirementLine, ...]:
        return tuple(line for line in self.lines if not line.audited)


def _display(text: str) -> str:
    """A requirement as shown: credentials masked, then clipped without keeping part of a word
    (the run's redactor sees it only later, and must see whole values)."""
    return clip(mask_credentials(text), _MAX_TEXT)


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first physical line number, joined line) with ``\\`` continuations joined, comments cut."""
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        if raw.endswith("\\"):
            buffer.append(raw[:-1])
            continue
        buffer.append(raw)
        joined = _COMMENT.sub("", " ".join(buffer)).strip()
        buffer = []
        if joined:
            yield start, joined
    if buffer:
        joined = _COMMENT.sub("", " ".join(buffer)).strip()
        if joined:
            yield start, joined


def _option_value(tokens: list[str], names: tuple[str, ...]) -> str | None:
    """The value of ``-x V`` / ``--xx V`` / ``--xx=V`` / ``-xV`` when ``tokens[0]`` is one of ``names``."""
    head = tokens[0]
    for name in names:
        if head == name:
            return " ".join(tokens[1:]) or None
        if name.startswith("--") and head.startswith(name + "="):
            return head[len(name) + 1 :]
        if not name.startswith("--") and head.startswith(name) and len(head) > len(name):
            return head[len(name) :]
    return None


def _looks_like_path(spec: str) -> bool:
    return (
        spec.startswith((".", "/", "~"))
        or "/" in spec
        or "\\" in spec
        or spec.lower().endswith(_ARCHIVE_SUFFIXES)
    )


def _url_kind(url: str) -> RequirementKind:
    lowered = url.lower()
    if lowered.startswith(_VCS_PREFIXES):
        return RequirementKind.VCS
    if lowered.startswith("file:"):
        return RequirementKind.LOCAL_PATH
    return RequirementKind.URL


def classify(spec: str, path: str, line: int) -> RequirementLine:
    """Classify one requirement (per-requirement options such as ``--hash`` already removed)."""
    text = _display(spec)
    if "://" in spec.split("@", 1)[0] or spec.lower().startswith(_VCS_PREFIXES):
        return RequirementLine(path, line, _url_kind(spec), text)
    if pin := _PLAIN_PIN.fullmatch(spec):  # most lines of a pinned file (issue 18)
        return RequirementLine(path, line, RequirementKind.PINNED, text, canonicalize_name(pin[1]), pin[2])
    if plain := _PLAIN_NAME.fullmatch(spec) or _PLAIN_RANGE.fullmatch(spec):  # docs and tools files
        return RequirementLine(path, line, RequirementKind.UNPINNED, text, canonicalize_name(plain[1]))
    if spec.startswith((".", "/", "~")):  # no name starts so: packaging fails on it, and it is a path
        return RequirementLine(path, line, RequirementKind.LOCAL_PATH, text)
    return _parsed(spec, path, line, text)


def _parsed(spec: str, path: str, line: int, text: str) -> RequirementLine:
    """:func:`classify` by packaging's requirement parser (PEP 508)."""
    from packaging.requirements import InvalidRequirement, Requirement  # loaded by the first such line

    try:
        req = Requirement(spec)
    except InvalidRequirement:
        kind = RequirementKind.LOCAL_PATH if _looks_like_path(spec) else RequirementKind.INVALID
        return RequirementLine(path, line, kind, text)
    name = canonicalize_name(req.name)
    if req.url:
        return RequirementLine(path, line, _url_kind(req.url), text, name)
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version:
        try:
            version = str(Version(specs[0].version))
        except InvalidVersion:
            return RequirementLine(path, line, RequirementKind.INVALID, text, name)
        return RequirementLine(path, line, RequirementKind.PINNED, text, name, version)
    return RequirementLine(path, line, RequirementKind.UNPINNED, text, name)


def parse_requirements(text: str, path: str) -> tuple[list[RequirementLine], list[str]]:
    """Parse one file's text: its requirement lines and the raw targets of its includes."""
    lines: list[RequirementLine] = []
    includes: list[str] = []
    for number, logical in logical_lines(text):
        tokens = logical.split()
        if tokens[0].startswith("-"):
            if (target := _option_value(tokens, _EDITABLE)) is not None:
                lines.append(RequirementLine(path, number, RequirementKind.EDITABLE, _display(target)))
            elif (target := _option_value(tokens, _INCLUDE)) is not None:
                lines.append(RequirementLine(path, number, RequirementKind.INCLUDE, _display(logical)))
                includes.append(target)
            continue  # a global option (--index-url, --hash alone, ...): nothing to audit
        cut = next((i for i, tok in enumerate(tokens) if tok.startswith("-")), len(tokens))
        lines.append(classify(" ".join(tokens[:cut]), path, number))
    return lines, includes


def _resolve_include(including: str, target: str) -> str | None:
    if "://" in target or target.startswith(("/", "~")):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(including), target))
    return None if joined.startswith("../") or joined == ".." else joined


def _read(root: Path, rel: str) -> tuple[str | None, str | None]:
    """A requirement file's text, or why it cannot be read: no symbolic link on the way, a
    regular file (never a FIFO or a device swapped in since the walk), bounded."""
    try:
        data = read_inside(root, rel, MAX_REQUIREMENT_FILE_BYTES, "requirement file")
    except InputError as exc:
        return None, str(exc)
    if data is None:
        return None, f"cannot read {printable(rel)}: it does not exist (removed while it was scanned?)"
    return data.decode("utf-8-sig", errors="replace"), None


def collect_requirements(
    root: Path, files: Iterable[str], globs: Iterable[str] = DEFAULT_REQUIREMENT_GLOBS
) -> RequirementSet:
    """Read and classify every requirement file among ``files``, following includes inside them."""
    allowed = set(files)
    queue = find_requirement_files(allowed, globs)
    seen: set[str] = set(queue)
    parsed: list[RequirementFile] = []
    while queue:
        rel = queue.pop(0)
        text, error = _read(root, rel)
        if text is None:
            logger.warning("requirement file skipped: %s", error)
            parsed.append(RequirementFile(rel, error=error))
            continue
        lines, includes = parse_requirements(text, rel)
        followed: set[int] = set()
        for index, target in enumerate(includes):
            resolved = _resolve_include(rel, target)
            if resolved is not None and resolved in allowed:
                followed.add(index)
                if resolved not in seen:
                    seen.add(resolved)
                    queue.append(resolved)
        include_lines = [i for i, ln in enumerate(lines) if ln.kind is RequirementKind.INCLUDE]
        dropped = {include_lines[i] for i in followed}
        kept = tuple(ln for i, ln in enumerate(lines) if i not in dropped)
        parsed.append(RequirementFile(rel, kept))
    return RequirementSet(tuple(sorted(parsed, key=lambda f: f.path)))
