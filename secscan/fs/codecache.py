"""Compiled code of secscan's dataclass methods, kept between processes like Python's ``.pyc``
files keep a module's (issue 18).

``@dataclass`` writes the source of each class's ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` and (frozen) ``__setattr__``/``__delattr__`` and compiles it with ``exec`` every time
the class is created: on Python 3.11 and 3.12 one ``compile`` per method. Python caches the
bytecode of modules, not of these methods, so every secscan command compiled the same ~600
methods again: about 60 ms of an unchanged re-run's 0.3 s, more than its imports proper.

:func:`install` gives the ``dataclasses`` module an ``exec`` of its own (a module global, found
before the builtin) that answers the compile from a table of code objects keyed by a digest of
the exact source text, and otherwise compiles as the builtin would (file ``<string>``, no
inherited ``__future__`` flags) and remembers the result. Only the methods of classes defined in
secscan's own modules are served; every other ``exec`` (other libraries' dataclasses, calls with
code objects) goes to the builtin unchanged. The same source text always compiles to the same
code, so a table entry can be wrong only if the file was tampered with. There is one table per
module, in ``$XDG_CACHE_HOME/secscan/code/<interpreter build>/<module>.bin``, read when the
module's first class is created (a command reads only the tables of the modules it imports:
``secscan --help`` one small file), written at exit only for a module whose methods were
compiled, with the methods this process used (its classes are created when it is imported, so
that is the module's set as its source stands, and a changed module's old methods go). A table is
written whole (a temporary file renamed into place) and read only when whole (a SHA-256 of its
body), this user's and nobody else's to write, as the settings memo is.
The hook goes in when ``dataclasses`` is first imported (a meta path finder chains the module's
own loader and hooks the module right after it runs, before any class is created), so a command
that creates no class (``secscan --version``) loads neither ``dataclasses`` nor ``inspect``, and
looks for no table. ``SECSCAN_CODE_CACHE=0`` turns it off. Python 3.13 and later compile one source per class
instead of one per method; the same hook serves them, and gains less.
"""

from __future__ import annotations

import atexit
import builtins
import marshal
import os
import sys
import threading
from collections.abc import Callable, Mapping
from types import CodeType, ModuleType
from typing import TYPE_CHECKING, Any, cast

from secscan.fs.private_file import read_private, write_private

if TYPE_CHECKING:
    from importlib.abc import Loader
    from pathlib import Path

SWITCH = "SECSCAN_CODE_CACHE"
FORMAT = b"secscan-code 1"


def _digest(source: str) -> bytes:
    import hashlib  # here, not at start-up: ``secscan --version`` creates no dataclass

    return hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def table_folder(env: Mapping[str, str] | None = None) -> Path | None:
    """The tables of this interpreter build, one per module, or None when turned off or there is
    no home folder."""
    env = os.environ if env is None else env
    if env.get(SWITCH) == "0":
        return None
    from secscan.fs.paths import cache_home

    home = cache_home(env)
    tag = f"{sys.implementation.cache_tag}-{sys.hexversion:x}"
    return home / "code" / tag if home is not None else None


def table_file(folder: Path, module: str) -> Path | None:
    """The table of ``module``'s methods in ``folder`` (None for a name that is no plain module name)."""
    parts = module.split(".")
    plain = parts[0] == "secscan" and all(p.isidentifier() and p.isascii() for p in parts)
    return folder / f"{module}.bin" if plain else None


def read_table(path: Path) -> dict[bytes, CodeType]:
    """The table in ``path``; empty when there is none, or it is torn, damaged, foreign or open
    to others' writes (:func:`~secscan.fs.private_file.read_private`)."""
    body = read_private(path, FORMAT)
    if body is None:
        return {}
    try:
        table = marshal.loads(body)  # noqa: S302 - checked: whole, ours, only ours to write
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(table, dict):
        return {}
    return {k: v for k, v in table.items() if isinstance(k, bytes) and isinstance(v, CodeType)}


def write_table(path: Path, table: Mapping[bytes, CodeType]) -> bool:
    """Store ``table`` in ``path`` whole or not at all; False when it could not be stored, which is
    not an error (the next process compiles those methods again)."""
    return write_private(path, FORMAT, marshal.dumps(dict(table)))


class CodeCache:
    """The hook's state: each module's table (read when its first class is created), and what
    this process used and compiled, per module."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env  # read on first use: the tables' folder is where the environment says then
        self._folder: Path | None = None
        self._resolved = False
        self._tables: dict[str, dict[bytes, CodeType]] = {}
        self._lock = threading.RLock()  # re-entrant: reading a table must never wait on itself
        self.used: dict[str, dict[bytes, CodeType]] = {}
        self.compiled: set[str] = set()
        self.hits = 0
        self.misses = 0

    def folder(self) -> Path | None:
        with self._lock:
            if not self._resolved:
                self._resolved = True
                self._folder = table_folder(self._env)
            return self._folder

    def _table(self, module: str) -> dict[bytes, CodeType]:
        table = self._tables.get(module)
        if table is None:
            self._tables[module] = {}  # while it is read, a dataclass created on the way compiles
            folder = self.folder()
            path = table_file(folder, module) if folder is not None else None
            table = self._tables[module] = read_table(path) if path is not None else {}
        return table

    def code(self, source: str, module: str) -> CodeType:
        """The compiled ``source`` of a method of a class of ``module``: from the module's table,
        or compiled as ``exec`` would and remembered."""
        key = _digest(source)
        with self._lock:
            code = self._table(module).get(key)
            if code is not None:
                self.hits += 1
                self.used.setdefault(module, {})[key] = code
                return code
        code = compile(source, "<string>", "exec", dont_inherit=True)
        with self._lock:
            self.misses += 1
            self.used.setdefault(module, {})[key] = code
            self.compiled.add(module)
        return code

    def save(self) -> None:
        """Write the table of each module this process compiled a method of (at exit): the
        methods it used, which are that module's as its source stands (its classes are created
        when it is imported), so a changed module's old methods are dropped. A folder that cannot
        be written stops the saving at its first table, silently: the cache is only an aid."""
        if not self.compiled:  # nothing new (``secscan --version`` created no class at all)
            return
        folder = self.folder()
        if folder is None:
            return
        with self._lock:
            for module in sorted(self.compiled):
                path = table_file(folder, module)
                if path is not None and not write_table(path, self.used[module]):
                    break
            self.compiled.clear()


_installed: CodeCache | None = None


def _secscan_module(scope: object) -> str | None:
    name = scope.get("__name__") if isinstance(scope, dict) else None
    return name if isinstance(name, str) and (name == "secscan" or name.startswith("secscan.")) else None


def hook(cache: CodeCache) -> Callable[..., None]:
    """The ``exec`` given to the ``dataclasses`` module: secscan's method sources from ``cache``,
    anything else to the builtin as it came."""

    def exec_(source: Any, scope: Any = None, names: Any = None, /, **kw: Any) -> None:
        module = _secscan_module(scope) if isinstance(source, str) and not kw else None
        if module is not None:
            source = cache.code(source, module)
        builtins.exec(source, scope, names, **kw)  # noqa: S102 - the builtin, as dataclasses called it

    return exec_


def install(env: Mapping[str, str] | None = None) -> CodeCache | None:
    """Serve secscan's dataclass methods from the table (see the module docstring); idempotent.
    Returns the cache, or None when turned off. When ``dataclasses`` is not imported yet, it is
    not imported here (``secscan --version`` creates no class): the hook is put in place right
    after something first imports it, before any class of that import is created."""
    global _installed
    env = os.environ if env is None else env
    if env.get(SWITCH) == "0":
        return None
    if _installed is None:
        _installed = CodeCache(env)
        atexit.register(_installed.save)
        module = sys.modules.get("dataclasses")
        if module is not None:
            _hook_into(module)
        elif not any(isinstance(f, _OnImport) for f in sys.meta_path):
            sys.meta_path.insert(0, _OnImport())
    return _installed


def _hook_into(module: ModuleType) -> None:
    if _installed is not None:
        setattr(module, "exec", hook(_installed))  # noqa: B010 - a module global, found before the builtin


class _OnImport:
    """A meta path finder for ``dataclasses`` alone: it lets the next finders find the module and
    hooks it as soon as it is executed (it then returns the module's own loader to it)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "dataclasses":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = cast("Loader", _Chained(spec.loader))
                return spec
        return None


class _Chained:
    """``loader``, with the hook put into the module once the loader has executed it."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        spec = module.__spec__
        if spec is not None:  # the module keeps its own loader, as if it had been found directly
            spec.loader = self._loader
        module.__loader__ = self._loader
        self._loader.exec_module(module)
        _hook_into(module)  # the finder stays: any other import costs it one comparison

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


def installed() -> CodeCache | None:
    """The installed cache (tests and diagnostics), or None."""
    return _installed
