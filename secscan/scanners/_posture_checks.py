"""The posture checks: what each ``check`` of a rule (``rules/posture/*.toml``) looks at.

* ``present``: one of ``params.paths`` exists (case-insensitive), or a JSON file of
  ``params.json_keys`` has the given top-level key (Renovate's ``"renovate"`` in package.json).
* ``owned``: every file matching ``params.files`` has an owner in the first CODEOWNERS of
  ``params.codeowners`` (GitHub's order; the last matching line wins). Nothing without CODEOWNERS.
* ``files``: files whose base name matches ``params.globs`` (not ``params.except``), whose name
  matches ``params.marker_globs`` and whose content holds ``params.marker``, or whose content
  starts like an executable of ``params.magic``; files under the paths listed in the setting that
  ``params.allow`` names (``binary_paths``) are allowed.
* ``workflow-key``: each workflow of ``params.globs`` has the top-level key ``params.key``
  (parsed with PyYAML's safe composer: nothing is constructed, aliases are not expanded).

Files are read through :class:`Tree` only: never through a symbolic link (the inventory has
none), at most a few bytes for the executable check and :data:`MAX_TEXT_BYTES` otherwise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secscan.config.posture_rules import PostureRule
from secscan.fs.inventory import is_excluded
from secscan.scanners._posture_globs import name_globs, path_globs

MAX_TEXT_BYTES = 3_000_000
"""CODEOWNERS, package.json and key files are read up to this (GitHub ignores a larger CODEOWNERS)."""
MAX_YAML_BYTES = 1_000_000
"""A larger workflow is not parsed (a notification says so)."""
HEAD_BYTES = 1024


@dataclass(frozen=True)
class Hit:
    """Something a rule found: where, and the values its message template uses."""

    path: str
    line: int = 1
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Note:
    """Something that stopped a check from judging a file (a workflow that is not YAML, say)."""

    path: str
    message: str


class Tree:
    """The target's files (the inventory, after excludes) and bounded reads of them."""

    def __init__(self, root: Path, files: Sequence[str], settings: Mapping[str, Sequence[str]]) -> None:
        self.root = root
        self.files = tuple(files)
        self.settings = settings
        self._lower = {f.lower(): f for f in files}
        self._base = f"{root}{os.sep}"  # str joins: a Path per file cost more than the reads
        self._names: tuple[str, ...] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Each file's base name in lower case, in the order of :attr:`files` (the rules' globs
        ignore case; inventory paths are POSIX, relative, with no trailing ``/``)."""
        if self._names is None:
            self._names = tuple(f.rpartition("/")[2].lower() for f in self.files)
        return self._names

    def find(self, path: str) -> str | None:
        """The tree's file named ``path``, ignoring case (GitHub finds SECURITY.md so)."""
        return self._lower.get(path.lower())

    def read(self, path: str, limit: int = MAX_TEXT_BYTES) -> bytes | None:
        try:
            fd = os.open(self._base + path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            return os.read(fd, limit) if limit <= HEAD_BYTES else _read_all(fd, limit)
        except OSError:
            return None
        finally:
            os.close(fd)


def _read_all(fd: int, limit: int) -> bytes:
    chunks = []
    size = 0
    while size < limit and (chunk := os.read(fd, min(1 << 20, limit - size))):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _name_matches(name: str, globs: Sequence[str]) -> str | None:
    """The first of ``globs`` that matches ``name``, ignoring case (None: no glob matches)."""
    return name_globs(tuple(globs)).first(name.lower()) if globs else None


def check_present(rule: PostureRule, tree: Tree) -> Iterator[Hit | Note]:
    paths = rule.params.get("paths", [])
    if any(tree.find(p) for p in paths):
        return
    for name, key in rule.params.get("json_keys", {}).items():
        found = tree.find(name)
        data = tree.read(found) if found else None
        try:
            document = json.loads(data) if data else None
        except (ValueError, RecursionError):
            document = None
        if isinstance(document, dict) and key in document:
            return
    yield Hit(rule.location or paths[0])


def check_owned(rule: PostureRule, tree: Tree) -> Iterator[Hit | Note]:
    place = next((p for p in rule.params.get("codeowners", []) if p in tree.files), None)
    if place is None:
        return  # no CODEOWNERS at all: the codeowners-missing rule says so
    from secscan.fs.owners import parse_codeowners  # pathspec: only for a repository with CODEOWNERS

    data = tree.read(place)
    owners = parse_codeowners((data or b"").decode("utf-8", "replace"))
    matches = path_globs(tuple(rule.params.get("files", ()))).match
    for path in tree.files:
        if matches(path) and not owners.owners(path):
            yield Hit(path, fields=(("codeowners", place),))


def _pe(head: bytes) -> bool:
    if len(head) < 0x40 or not head.startswith(b"MZ"):
        return False
    offset = int.from_bytes(head[0x3C:0x40], "little")
    return head[offset : offset + 4] == b"PE\0\0"


MAGIC: Mapping[str, tuple[str, tuple[bytes, ...], Callable[[bytes], bool] | None]] = {
    "elf": ("Executable (ELF)", (b"\x7fELF",), None),
    "mach-o": (
        "Executable (Mach-O)",
        (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"),
        None,
    ),
    "pe": ("Executable (Windows PE)", (b"MZ",), _pe),
    "java-class": ("Compiled code (Java class or Mach-O universal)", (b"\xca\xfe\xba\xbe",), None),
}
"""What each executable looks like: the bytes it starts with, and a further test of its head."""


class _FileRule:
    """A ``files`` rule's params, compiled once for the walk over every file (a plain class: a
    dataclass would cost more to define at import than it saves)."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        marker = params.get("marker")
        self.excepted = name_globs(tuple(params.get("except", ())))
        self.named = name_globs(tuple(params.get("globs", ())))
        self.magic_named = bool(params.get("magic"))
        self.marker: bytes | None = marker.encode() if marker else None
        self.marked = name_globs(tuple(params.get("marker_globs", ())))
        self.magic = tuple(MAGIC[m] for m in params.get("magic", []) if m in MAGIC)
        self.starts = tuple(start for _, starts, _ in self.magic for start in starts)

    def kind(self, tree: Tree, path: str, name: str) -> str | None:
        """What the file at ``path`` (lower-case base name ``name``) is, if the rule flags it."""
        if self.excepted.any(name):
            return None
        glob = self.named.first(name)
        if glob is not None:
            return f"Binary or archive ({glob})" if self.magic_named else f"File ({glob})"
        if self.marker is not None and self.marked.any(name):
            data = tree.read(path)
            if data is not None and self.marker in data:
                return "Private key"
        if self.magic:
            head = tree.read(path, HEAD_BYTES)
            if head and head.startswith(self.starts):  # most files start like no executable
                for what, starts, test in self.magic:
                    if head.startswith(starts) and (test is None or test(head)):
                        return what
        return None


def check_files(rule: PostureRule, tree: Tree) -> Iterator[Hit | Note]:
    allow_key = rule.params.get("allow")
    allowed = tuple(tree.settings.get(allow_key, ())) if allow_key else ()
    compiled = _FileRule(rule.params)
    for path, name in zip(tree.files, tree.names, strict=True):
        if allowed and is_excluded(path, allowed):
            continue
        what = compiled.kind(tree, path, name)
        if what is not None:
            yield Hit(path, fields=(("what", what),))


def check_workflow_key(rule: PostureRule, tree: Tree) -> Iterator[Hit | Note]:
    key = rule.params.get("key", "")
    matches = path_globs(tuple(rule.params.get("globs", ()))).match
    for path in tree.files:
        if not matches(path):
            continue
        data = tree.read(path, MAX_YAML_BYTES + 1)
        if data is not None and len(data) > MAX_YAML_BYTES:
            too_big = f"posture: {path} is over {MAX_YAML_BYTES} bytes; its permissions were not checked"
            yield Note(path, too_big)
            continue
        import yaml  # loaded by the first workflow file, not by every run

        try:
            node = yaml.compose((data or b"").decode("utf-8", "replace"), Loader=yaml.SafeLoader)
        except (yaml.YAMLError, RecursionError) as exc:
            why = type(exc).__name__
            yield Note(path, f"posture: {path} is not valid YAML ({why}); its permissions were not checked")
            continue
        if not isinstance(node, yaml.MappingNode):
            yield Note(path, f"posture: {path} is not a workflow (no top-level mapping); not checked")
            continue
        if not any(isinstance(k, yaml.ScalarNode) and k.value == key for k, _ in node.value):
            yield Hit(path)


CHECKERS: Mapping[str, Callable[[PostureRule, Tree], Iterator[Hit | Note]]] = {
    "present": check_present,
    "owned": check_owned,
    "files": check_files,
    "workflow-key": check_workflow_key,
}


def evaluate(
    rules: Sequence[PostureRule], tree: Tree, repository: bool
) -> list[tuple[PostureRule, Hit | Note]]:
    """Every rule's hits and notes over ``tree``; repository rules only when ``repository``."""
    out: list[tuple[PostureRule, Hit | Note]] = []
    for rule in rules:
        if rule.repository and not repository:
            continue
        out += [(rule, item) for item in CHECKERS[rule.check](rule, tree)]
    return out


def render(rule: PostureRule, hit: Hit) -> str:
    """The rule's message for ``hit`` (unknown fields are left as they are)."""
    values = {"path": hit.path, **dict(hit.fields)}

    class _Keep(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    return rule.message.format_map(_Keep(values))
