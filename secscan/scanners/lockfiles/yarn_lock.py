"""``yarn.lock``: yarn 1's own text format, and yarn 2+ ("berry"), which is YAML.

Yarn 1 (``# yarn lockfile v1``): each entry starts on an unindented line listing the specifiers it
satisfies (``"@babel/core@^7.0.0", "@babel/core@^7.1.0":``) and holds indented ``key value``
lines (``version "7.12.3"``, ``resolved "https://registry.yarnpkg.com/...tgz#sha1"``). An alias
specifier is ``x@npm:real@^1.0.0``. Entries without a registry ``resolved`` (``file:``,
``link:``, git) are skipped.

Berry (a ``__metadata`` mapping): each key lists specifiers with protocols, and
``resolution: "name@npm:1.2.3"`` names the package resolved; ``workspace:``, ``link:``,
``portal:``, ``file:`` and git resolutions are skipped, and ``patch:`` resolutions of an npm
package (``resolve@patch:resolve@npm%3A1.22.1#...``) count as that npm package.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from secscan.scanners.lockfiles import _yaml_tree
from secscan.scanners.lockfiles.model import NPM, Collector, Lockfile, LockfileError, SkipReason
from secscan.scanners.lockfiles.npm_lock import source_kind

_V1_FIELD = re.compile(r'^\s+("(?:[^"\\]|\\.)*"|\S+)\s+(.*?)\s*$')
_BERRY_SKIPS = {
    "workspace": SkipReason.WORKSPACE,
    "link": SkipReason.LINK,
    "portal": SkipReason.LINK,
    "file": SkipReason.FILE,
    "exec": SkipReason.FILE,
}


def split_specifier(spec: str) -> tuple[str, str]:
    """``@scope/name@^1.0`` -> ``("@scope/name", "^1.0")``; the range may be empty."""
    at = spec.find("@", 1)
    return (spec, "") if at < 0 else (spec[:at], spec[at + 1 :])


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def _specifiers(header: str) -> list[str]:
    return [_unquote(part) for part in header.rstrip()[:-1].split(",") if part.strip()]


def _v1_skip(wanted: str, resolved: str | None) -> SkipReason | None:
    if wanted.startswith("workspace:"):
        return SkipReason.WORKSPACE
    if wanted.startswith("portal:"):
        return SkipReason.LINK
    return source_kind(wanted) or (source_kind(resolved) if resolved else None)


def _v1_entry(header: str, line: int, fields: dict[str, str], out: Collector) -> None:
    specs = _specifiers(header)
    if not specs:
        out.skip(SkipReason.UNREADABLE)
        return
    installed, wanted = split_specifier(specs[0])
    name, alias = installed, None
    if wanted.startswith("npm:"):  # an alias: x@npm:real@^1.0.0
        name, wanted = split_specifier(wanted[4:])
        alias = installed
    version = fields.get("version")
    reason = _v1_skip(wanted, fields.get("resolved"))
    if reason is not None:
        out.skip(reason)
    elif not version:
        out.skip(SkipReason.NO_VERSION)
    else:
        out.add(name, version, line, path=specs[0], alias=alias)


def parse_v1(text: str) -> Lockfile:
    """Yarn 1's format. Raises LockfileError on a line that belongs to no entry."""
    out = Collector("yarn.lock v1", NPM)
    header: str | None = None
    header_line = 0
    indent: int | None = None  # the indentation of the entry's own fields
    fields: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            if header is not None:
                _v1_entry(header, header_line, fields, out)
            if not raw.rstrip().endswith(":"):
                raise LockfileError(f"is not a yarn v1 lockfile (line {number}: an entry must end with ':')")
            header, header_line, indent, fields = raw, number, None, {}
            continue
        if header is None:
            raise LockfileError(f"is not a yarn v1 lockfile (line {number}: indented line outside an entry)")
        depth = len(raw) - len(raw.lstrip())
        indent = depth if indent is None else indent
        found = _V1_FIELD.match(raw)
        if depth == indent and found is not None:
            fields.setdefault(_unquote(found.group(1)), _unquote(found.group(2)))
    if header is not None:
        _v1_entry(header, header_line, fields, out)
    return out.result()


def _berry_resolution(resolution: str) -> tuple[str, str] | SkipReason:
    """(name, version) of an npm resolution, or why it is not one."""
    name, protocol_version = split_specifier(resolution)
    protocol, colon, rest = protocol_version.partition(":")
    if not colon:
        return SkipReason.UNREADABLE
    if protocol == "npm":
        return (name, rest) if rest else SkipReason.NO_VERSION
    if protocol == "patch":
        inner = unquote(rest.partition("#")[0])
        found = _berry_resolution(inner)
        return found if isinstance(found, tuple) else SkipReason.FILE
    if protocol in _BERRY_SKIPS:
        return _BERRY_SKIPS[protocol]
    if protocol in ("git", "git+ssh", "git+https", "git+http", "github") or "#commit=" in rest:
        return SkipReason.GIT
    if protocol in ("http", "https"):
        return SkipReason.URL
    return SkipReason.UNREADABLE


def parse_berry(data: bytes) -> Lockfile:
    """Yarn 2+'s YAML format. Raises LockfileError."""
    root = _yaml_tree.load(data)
    entries = _yaml_tree.mapping(root, "the document")
    metadata = _yaml_tree.scalar(_yaml_tree.child(entries, "__metadata", "version")) or "?"
    out = Collector(f"yarn.lock berry (v{metadata})", NPM)
    for key, line, node in _yaml_tree.items(entries):
        if key == "__metadata":
            continue
        resolution = _yaml_tree.scalar(_yaml_tree.child_of(node, "resolution"))
        if resolution is None:
            out.skip(SkipReason.UNREADABLE)
            continue
        found = _berry_resolution(resolution)
        if not isinstance(found, tuple):
            out.skip(found)
            continue
        name, version = found
        first = _unquote(key.split(",")[0])
        installed = split_specifier(first)[0]
        out.add(name, version, line, path=first, alias=installed if installed != name else None)
    return out.result()


def parse(data: bytes, filename: str = "yarn.lock") -> Lockfile:
    """Parse a ``yarn.lock`` of either generation. Raises LockfileError."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LockfileError(f"is not UTF-8 ({exc.reason})") from None
    if re.search(r"^__metadata:\s*$", text, re.MULTILINE):
        return parse_berry(data)
    return parse_v1(text)
