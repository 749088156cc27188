"""YAML lockfiles (pnpm, yarn berry) as PyYAML's node tree: text scalars with their lines.

The text is *composed*, never constructed: no tag is resolved, no object built, so nothing in
the file can be evaluated and ``5.4`` stays the text ``5.4``. libyaml's parser is used when
PyYAML has it. An alias is the node it refers to (shared, not copied) and the parsers only
walk a few levels down, so anchors cannot blow the work up.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from secscan.scanners.lockfiles.model import LockfileError

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def load(data: bytes) -> yaml.Node | None:
    """The document's root node (None for an empty file). Raises LockfileError."""
    try:
        return yaml.compose(data, Loader=_Loader)  # composes nodes: constructs no object
    except UnicodeDecodeError as exc:
        raise LockfileError(f"is not UTF-8 ({exc.reason})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise LockfileError(f"is not valid YAML ({where}{_one_line(problem)})") from None
    except RecursionError:
        raise LockfileError("is nested too deeply") from None


def mapping(node: yaml.Node | None, what: str) -> yaml.MappingNode:
    """``node`` as a mapping. Raises LockfileError naming ``what`` when it is not one."""
    if not isinstance(node, yaml.MappingNode):
        line = f" (line {node.start_mark.line + 1})" if node is not None else ""
        raise LockfileError(f"has {what} that is not a mapping{line}")
    return node


def items(node: yaml.Node | None) -> Iterator[tuple[str, int, yaml.Node]]:
    """A mapping's (key text, 1-based line of the key, value node), for its scalar keys."""
    if not isinstance(node, yaml.MappingNode):
        return
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            yield str(key.value), key.start_mark.line + 1, value


def child_of(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value of ``key`` in a mapping node (None when absent or not a mapping)."""
    for name, _, value in items(node):
        if name == key:
            return value
    return None


def child(node: yaml.Node | None, *keys: str) -> yaml.Node | None:
    """The node at a path of keys."""
    for key in keys:
        node = child_of(node, key)
    return node


def scalar(node: yaml.Node | None) -> str | None:
    """A scalar node's text (None for anything else)."""
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None
