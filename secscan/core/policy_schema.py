"""The shape of a policy file (``severity.toml``, ``sla.toml``): which tables and keys it may
have and what each value takes, checked on the parsed data. Pure: the files are read by
:mod:`secscan.config.policy`.

A user's policy file is merged over the bundled one key by key, so it may hold any part of the
bundled file's shape, and nothing else: an unknown table or key is a typo that would otherwise
be ignored without a word (``[windows] critcal = "1h"``), and a bad value would reach an output
(``security-severity = "abc"`` in a SARIF log, which GitHub refuses). Each file is checked on
its own, so the error names the file that holds the fault, and the key.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from secscan.core.errors import ConfigError

Leaf = Callable[[object], str | None]
"""A value's check: ``None`` when it is good, else what the key takes (``"a number from 0 to
10"``)."""


@dataclass(frozen=True)
class Entries:
    """A table whose keys the user names (rule ids, secret types), each value checked by ``value``;
    ``keys`` limits the names when not ``None``, ``key_hint`` says what a name looks like."""

    value: Leaf
    keys: Collection[str] | None = None
    key_check: Callable[[str], bool] | None = None
    key_hint: str = ""


Shape = Mapping[str, "Shape | Entries | Leaf"]
"""A table of fixed keys: each a sub-table, a table of named entries, or a checked value."""


def number(value: object) -> TypeGuard[int | float]:
    """A TOML number (integer or float, never a bool), finite."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def choice(allowed: Collection[str]) -> Leaf:
    """A string, one of ``allowed`` (compared in lower case)."""

    def check(value: object) -> str | None:
        ok = isinstance(value, str) and value.lower() in allowed
        return None if ok else f"one of {', '.join(allowed)}"

    return check


def whole(expected: int) -> Leaf:
    """An integer equal to ``expected`` (a file format's ``version``)."""

    def check(value: object) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and value == expected
        return None if ok else f"{expected}"

    return check


def check_shape(data: Mapping[str, Any], shape: Shape, what: str, source: str) -> None:
    """Refuse any table, key or value of ``data`` that ``shape`` does not allow. ``what`` names
    the kind of file (``severity policy``). Raises ConfigError naming ``source`` and the key."""
    _table(data, shape, "", what, source)


def _fail(what: str, source: str, text: str) -> ConfigError:
    return ConfigError(f"{what} {source}: {text}")


def _table(data: object, shape: Shape, prefix: str, what: str, source: str) -> None:
    if not isinstance(data, Mapping):
        raise _fail(what, source, f"'{prefix.rstrip('.')}' must be a table; fix the value")
    for key, value in data.items():
        where = f"{prefix}{key}"
        spec = shape.get(key)
        if spec is None:
            raise _fail(
                what,
                source,
                f"unknown key '{where}' (the keys here are {', '.join(shape)}); remove it or check its "
                "spelling",
            )
        if isinstance(spec, Entries):
            _entries(value, spec, f"{where}.", what, source)
        elif isinstance(spec, Mapping):
            _table(value, spec, f"{where}.", what, source)
        else:
            _value(value, spec, where, what, source)


def _entries(data: object, spec: Entries, prefix: str, what: str, source: str) -> None:
    if not isinstance(data, Mapping):
        raise _fail(what, source, f"'{prefix.rstrip('.')}' must be a table; fix the value")
    for key, value in data.items():
        known = spec.keys is None or key in spec.keys
        if not known or (spec.key_check is not None and not spec.key_check(key)):
            hint = spec.key_hint or f"one of {', '.join(spec.keys or ())}"
            raise _fail(
                what,
                source,
                f"unknown key '{prefix}{key}' (a key here is {hint}); remove it or check its spelling",
            )
        _value(value, spec.value, f"{prefix}{key}", what, source)


def _value(value: object, check: Leaf, where: str, what: str, source: str) -> None:
    wanted = check(value)
    if wanted is not None:
        raise _fail(what, source, f"'{where}' = {_toml(value)} must be {wanted}; fix the value")


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "a table" if isinstance(value, Mapping) else repr(value)
