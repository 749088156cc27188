"""Decode one OSV record file (JSON or YAML) into a plain JSON-compatible mapping.

YAML (the PyPA advisory database layout) is a transliteration of the OSV JSON format, so the
decoder keeps every scalar a string, except the YAML 1.2 core literals ``true``/``false``/``null``
written plain. Versions such as ``2.10`` therefore stay ``"2.10"`` (never the float 2.1) and
timestamps stay RFC 3339 strings. Anchors and aliases are refused: OSV records never need them
and they are the vehicle of "billion laughs" expansion.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeAlias

import yaml

from secscan.core.errors import InputError

OsvRecord: TypeAlias = Mapping[str, Any]
"""One OSV record as decoded from JSON (treat it as read-only)."""

RECORD_SUFFIXES = (".json", ".yaml", ".yml")

_MAX_DEPTH = 64
_PLAIN_LITERALS: Mapping[str, bool | None] = {
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
    "null": None,
    "Null": None,
    "NULL": None,
    "~": None,
    "": None,
}

_YamlLoader: type[yaml.BaseLoader] = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
"""The libyaml parser when available (several times faster); the pure-Python one otherwise."""

_NO_KEY = object()


class _AliasFoundError(Exception):
    """Raised while building a YAML document that uses an alias."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _YamlBuilder:
    """Builds plain values straight from YAML parser events.

    Skipping node composition and tag resolution makes this about twice as fast as
    ``yaml.load``; scalars stay strings except the plain literals in ``_PLAIN_LITERALS``.
    """

    def __init__(self) -> None:
        self._stack: list[list[Any] | dict[str, Any]] = []
        self._keys: list[object] = []
        self._documents = 0
        self.root: Any = None

    def _add(self, value: Any, key: str | None) -> None:
        if not self._stack:
            self.root = value
            return
        top = self._stack[-1]
        if isinstance(top, list):
            top.append(value)
        elif self._keys[-1] is _NO_KEY:
            if key is None:
                raise ValueError("a mapping key is not a plain string")
            self._keys[-1] = key
        else:
            top[str(self._keys[-1])] = value
            self._keys[-1] = _NO_KEY

    def _open(self, container: list[Any] | dict[str, Any]) -> None:
        self._add(container, None)
        if len(self._stack) >= _MAX_DEPTH:
            raise ValueError(f"nesting deeper than {_MAX_DEPTH} levels")
        self._stack.append(container)
        self._keys.append(_NO_KEY)

    def feed(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.ScalarEvent):
            text = str(event.value)
            plain = bool(event.implicit[0]) and text in _PLAIN_LITERALS  # plain and untagged
            self._add(_PLAIN_LITERALS[text] if plain else text, text)
        elif isinstance(event, yaml.MappingStartEvent):
            self._open({})
        elif isinstance(event, yaml.SequenceStartEvent):
            self._open([])
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            self._stack.pop()
            self._keys.pop()
        elif isinstance(event, yaml.AliasEvent):
            raise _AliasFoundError
        elif isinstance(event, yaml.DocumentStartEvent):
            self._documents += 1
            if self._documents > 1:
                raise ValueError("more than one YAML document in the file")


def _load_yaml(data: bytes) -> Any:
    builder = _YamlBuilder()
    for event in yaml.parse(data, Loader=_YamlLoader):
        builder.feed(event)
    return builder.root


def check_record(record: Any, where: str) -> dict[str, Any]:
    """Reject what the index and the matcher rely on; leave the rest to the schema. Raises InputError."""
    if not isinstance(record, dict):
        raise InputError(f"OSV record {where} is not a mapping; each file must hold one OSV record object")
    for key in ("id", "modified"):
        if not isinstance(record.get(key), str) or not record[key]:
            raise InputError(f"OSV record {where} has no string {key!r}; fix or remove the file")
    for key in ("aliases", "affected"):
        value = record.get(key, [])
        if not isinstance(value, list):
            raise InputError(f"OSV record {where}: {key!r} must be a list; fix or remove the file")
    if not all(isinstance(alias, str) for alias in record.get("aliases", [])):
        raise InputError(f"OSV record {where}: 'aliases' must hold strings; fix or remove the file")
    if not all(isinstance(entry, dict) for entry in record.get("affected", [])):
        raise InputError(f"OSV record {where}: 'affected' must hold objects; fix or remove the file")
    return record


def parse_record(where: str, data: bytes) -> dict[str, Any]:
    """Decode the record file ``where`` (its name decides JSON or YAML). Raises InputError."""
    try:
        decoded = json.loads(data) if where.lower().endswith(".json") else _load_yaml(data)
    except _AliasFoundError:
        raise InputError(
            f"OSV record {where} uses YAML anchors/aliases, which OSV records never need; inline them"
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"OSV record {where} is not UTF-8 ({exc.reason}); re-encode it as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"OSV record {where} is not valid JSON (line {exc.lineno}: {exc.msg}); fix or remove the file"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise InputError(
            f"OSV record {where} is not valid YAML ({line}{_one_line(str(problem))}); fix or remove the file"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(
            f"OSV record {where} is malformed ({_one_line(str(exc))}); fix or remove the file"
        ) from None
    return check_record(decoded, where)
