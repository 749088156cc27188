"""A pydantic validation error as secscan's one line: the key as the user wrote it, what it
takes, and the fix; never pydantic's own internals (its class names, its discriminators)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import ValidationError

from secscan.config import notify
from secscan.config.schema.base import DAY_S, YEAR_S
from secscan.config.values import MAX_TIMEOUT_S

_TAGGED_UNIONS: Mapping[str, tuple[str, ...]] = {"notify": notify.CHANNEL_TYPES}
"""The tables whose entries are chosen by a key (``type``), and the values it takes."""


def _user_loc(loc: Sequence[int | str]) -> list[str]:
    """pydantic's path of a value as the user wrote it: ``[notify.<name>]`` tables are gathered
    into ``notify.channels`` and a channel's path holds its ``type`` tag; neither is in the file."""
    parts = [str(p) for p in loc]
    if parts[:2] == ["notify", "channels"] and len(parts) > 2:
        del parts[1]
        del parts[2:3]  # the tag pydantic inserts after a tagged union's member
    return parts


_TYPE_WANTED: Mapping[str, str] = {
    "bool_type": "true or false, unquoted",
    "int_type": "a whole number, unquoted",
    "float_type": "a number, unquoted",
    "string_type": "a string, in quotes",
    "date_type": "a date such as 2024-01-01, unquoted",
}
"""What a key of each type takes, for pydantic's strict type errors (see ``schema.base``)."""

_SPANS: Mapping[float, str] = {
    DAY_S: "a day in seconds",
    MAX_TIMEOUT_S: "a week in seconds",
    YEAR_S: "a year in seconds",
    YEAR_S / 3600: "a year in hours",
}
"""The upper bounds of durations, said in words."""


def _toml(value: object) -> str:
    """A value as TOML writes it (``true``, not Python's ``True``)."""
    return str(value).lower() if isinstance(value, bool) else repr(value)


def format_error(exc: ValidationError, source: str, prefix: str = "") -> str:
    err = exc.errors()[0]
    loc = prefix + ".".join(_user_loc(err["loc"]))
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{source}: unknown key '{loc}'; remove it or check its spelling (see README, Configuration)"
    if kind == "missing":
        return f"{source}: '{loc}' is required; add it (see README, Configuration)"
    if kind in ("union_tag_not_found", "union_tag_invalid"):  # never pydantic's own words
        key = str(err.get("ctx", {}).get("discriminator", "type")).strip("'")
        values = ", ".join(_TAGGED_UNIONS.get(loc.rsplit(".", 1)[0], ()))
        got = f"is {err['input'].get(key)!r}" if kind == "union_tag_invalid" else "is missing"
        return f"{source}: '{loc}.{key}' {got}; set it to one of: {values} (see README, Configuration)"
    value = err.get("input")
    shown = "" if isinstance(value, dict | list) else f" (got {_toml(value)})"
    msg = err["msg"].removeprefix("Value error, ")  # a validator's own words
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        msg = "should be a table"  # not pydantic's "instance of ScanConfig"
    elif kind in ("tuple_type", "list_type"):
        msg = "should be a list"
    elif kind in _TYPE_WANTED:  # strict: a value of another TOML type is refused, never converted
        msg = f"should be {_TYPE_WANTED[kind]}"
    msg = msg.removeprefix("Input ")
    span = _SPANS.get(err.get("ctx", {}).get("le", -1.0)) if kind == "less_than_equal" else None
    if span is not None:
        msg += f" ({span})"
    return f"{source}: '{loc}' {msg[:1].lower()}{msg[1:]}{shown}; fix the value"
