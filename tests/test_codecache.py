"""The dataclass method code cache (secscan.fs.codecache, issue 18): methods served from the table
are the ones ``exec`` compiles, only secscan's are served, and a bad table is never used."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from secscan.fs import codecache as _codecache
from secscan.fs.codecache import CodeCache, hook, read_table, table_file, table_folder, write_table
from secscan.fs.private_file import write_private

PROBE = '''
import dataclasses
from dataclasses import InitVar, dataclass, field
from typing import ClassVar


@dataclass(frozen=True, order=True)
class Point:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Slotted:
    name: str
    size: int = 3


@dataclass
class Mutable:
    items: list[int] = field(default_factory=list)
    scale: InitVar[int] = 1
    seen: ClassVar[int] = 0
    total: int = field(init=False, default=0)

    def __post_init__(self, scale: int) -> None:
        self.total = sum(self.items) * scale


@dataclass(frozen=True, eq=False, repr=False)
class Plain:
    value: object = None
'''

METHODS = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__lt__", "__ge__")


def _module(name: str) -> types.ModuleType:
    """PROBE's classes, defined in a module called ``name`` (as if imported)."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(PROBE, f"<{name}>", "exec"), module.__dict__)  # noqa: S102 - the test's own source
    finally:
        del sys.modules[name]
    return module


def _build(monkeypatch: pytest.MonkeyPatch, cache: CodeCache | None, name: str) -> types.ModuleType:
    if cache is None:
        monkeypatch.delattr(dataclasses, "exec", raising=False)  # the builtin, as without secscan
    else:
        monkeypatch.setattr(dataclasses, "exec", hook(cache), raising=False)
    return _module(name)


def _code(cls: type, method: str) -> types.CodeType | None:
    fn = cls.__dict__.get(method)
    fn = getattr(fn, "__wrapped__", fn)  # __repr__ is wrapped against recursion
    return fn.__code__ if isinstance(fn, types.FunctionType) else None


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(tmp_path / "cache")}


def test_methods_from_the_table_are_those_exec_compiles(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    first = CodeCache(env)
    _build(monkeypatch, first, "secscan._probe")
    assert first.misses > 10 and first.hits == 0
    first.save()
    path = _file(env, "secscan._probe")
    assert path.stat().st_mode & 0o777 == 0o600

    second = CodeCache(env)
    served = _build(monkeypatch, second, "secscan._probe")  # the same module, in a later process
    assert second.misses == 0 and second.hits == first.misses  # nothing compiled again
    reference = _build(monkeypatch, None, "secscan._probe_reference")

    compared = 0
    for cls in ("Point", "Slotted", "Mutable", "Plain"):
        for method in METHODS:
            ours, theirs = _code(getattr(served, cls), method), _code(getattr(reference, cls), method)
            assert (ours is None) == (theirs is None), (cls, method)
            if ours is not None:
                assert ours == theirs and ours.co_filename == theirs.co_filename == "<string>", (cls, method)
                compared += 1
    assert compared >= 15
    # and they behave the same: construction, order, hash, repr, frozenness, post-init, annotations
    p, q = served.Point(1, 2, ("a",)), served.Point(1, 3)
    assert p < q and hash(p) == hash(served.Point(1, 2, ("a",))) and repr(p) == "Point(x=1, y=2, tags=('a',))"
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        served.Slotted("positional")  # kw_only
    assert served.Mutable([1, 2], scale=3).total == 9 and served.Mutable().items == []
    assert served.Plain(1) != served.Plain(1)  # eq=False: identity
    init = served.Point.__init__
    assert init.__annotations__ == reference.Point.__init__.__annotations__
    assert init.__annotations__["return"] is None  # not the string '_return_type'


def test_only_secscan_modules_are_served(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    cache = CodeCache(env)
    _build(monkeypatch, cache, "someone_else.models")
    assert (cache.hits, cache.misses) == (0, 0)
    cache.save()
    folder = table_folder(env)
    assert folder is not None and not folder.exists()  # nothing compiled for secscan: nothing written


def test_each_module_has_its_own_table(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    first = CodeCache(env)
    _build(monkeypatch, first, "secscan._probe_a")
    first.save()
    other = CodeCache(env)
    _build(monkeypatch, other, "secscan._probe_b")  # another module: its own table, not read yet
    assert other.hits == 0 and other.misses == first.misses
    other.save()
    assert sorted(p.name for p in _file(env, "secscan._probe_a").parent.iterdir()) == [
        "secscan._probe_a.bin",
        "secscan._probe_b.bin",
    ]
    assert table_file(Path("/x"), "secscan/../../etc") is None and table_file(Path("/x"), "os") is None


def _file(env: dict[str, str], module: str) -> Path:
    folder = table_folder(env)
    assert folder is not None
    path = table_file(folder, module)
    assert path is not None
    return path


def _written(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Path:
    cache = CodeCache(env)
    _build(monkeypatch, cache, "secscan._probe_write")
    cache.save()
    path = _file(env, "secscan._probe_write")
    assert read_table(path)
    return path


def test_a_damaged_table_is_not_used(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    path = _written(monkeypatch, env)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # inside a code object: the body's SHA-256 no longer matches
    path.write_bytes(bytes(data))
    assert read_table(path) == {}
    path.write_bytes(bytes(data[: len(data) // 2]))  # torn
    assert read_table(path) == {}
    cache = CodeCache(env)
    _build(monkeypatch, cache, "secscan._probe_write")
    assert cache.hits == 0 and cache.misses > 10  # compiled, as without a table
    cache.save()
    assert len(read_table(path)) == cache.misses  # and a whole table written again


def test_a_table_others_may_write_or_a_link_is_not_used(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    path = _written(monkeypatch, env)
    path.chmod(0o620)
    assert read_table(path) == {}
    path.chmod(0o600)
    assert read_table(path)
    link = path.with_name("link.bin")
    link.symlink_to(path)
    assert read_table(link) == {}


def test_a_table_of_another_format_is_not_used(env: dict[str, str]) -> None:
    path = _file(env, "secscan._probe_format")
    write_table(path, {b"k" * 16: compile("x = 1", "<string>", "exec")})
    assert list(read_table(path)) == [b"k" * 16]
    head, _, body = path.read_bytes().partition(b"\n")
    path.write_bytes(head.replace(b"secscan-code 1", b"secscan-code 0") + b"\n" + body)
    assert read_table(path) == {}


def test_turned_off(env: dict[str, str]) -> None:
    off = {**env, "SECSCAN_CODE_CACHE": "0"}
    assert table_folder(off) is None and _codecache.install(off) is None


def _run(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_a_second_command_compiles_none_of_the_first_ones_methods(env: dict[str, str]) -> None:
    code = (
        "import json, secscan.app.run; from secscan.fs import codecache as c; i = c.installed(); "
        "print(json.dumps([i.hits, i.misses]))"
    )
    hits, misses = json.loads(_run(code, env))
    assert hits == 0 and misses > 100  # the first command compiles them (and writes the table at exit)
    hits, misses = json.loads(_run(code, env))
    assert misses == 0 and hits > 100


def test_the_switch_leaves_dataclasses_alone(env: dict[str, str]) -> None:
    code = "import dataclasses, secscan.core.model; print(hasattr(dataclasses, 'exec'))"
    assert _run(code, {**env, "SECSCAN_CODE_CACHE": "0"}).strip() == "False"
    assert _run(code, env).strip() == "True"


def test_dataclasses_is_hooked_when_first_imported_not_before(env: dict[str, str]) -> None:
    code = (
        "import sys, json, secscan; before = 'dataclasses' in sys.modules; "
        "import inspect, dataclasses, secscan.core.model; from secscan.fs import codecache as c; "
        "print(json.dumps([before, dataclasses.exec is not exec, type(dataclasses.__loader__).__name__, "
        "type(dataclasses.__spec__.loader).__name__, 'def dataclass(' in inspect.getsource(dataclasses), "
        "c.installed().hits + c.installed().misses]))"
    )
    before, hooked, loader, spec_loader, source, served = json.loads(_run(code, env))
    assert before is False  # ``secscan --version`` loads no dataclasses (nor inspect, ast, dis)
    assert hooked and served > 10  # the first import is hooked before secscan's classes are created
    assert loader == spec_loader == "SourceFileLoader" and source  # the module keeps its own loader
    first = "import dataclasses, secscan, secscan.core.model; print(dataclasses.exec is not exec)"
    assert _run(first, env).strip() == "True"  # imported before secscan: hooked at once


def test_version_creates_no_class_and_writes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "secscan", "--version"],
                          env={**os.environ, **env}, capture_output=True, text=True, check=True)
    assert done.stdout.startswith("secscan ")
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    heavy = imported & {"dataclasses", "inspect", "pathlib"}
    assert not heavy, heavy
    assert not (tmp_path / "cache").exists()  # nothing compiled: no table folder is even looked for


def test_a_folder_that_cannot_be_created_stores_nothing_and_raises_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder\n")  # ENOTDIR below it, even for root
    assert write_private(blocker / "code" / "t.bin", b"head", b"body") is False
    assert blocker.read_text() == "a file, not a folder\n"


def test_a_table_folder_that_cannot_be_written_is_left_after_the_first_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    cache = CodeCache({"XDG_CACHE_HOME": str(blocker / "cache")})
    _build(monkeypatch, cache, "secscan._probe_one")
    _build(monkeypatch, cache, "secscan._probe_two")
    tried: list[Path] = []
    real = _codecache.write_private

    def counted(path: Path, head: bytes, body: bytes) -> bool:
        tried.append(path)
        return real(path, head, body)

    monkeypatch.setattr(_codecache, "write_private", counted)
    cache.save()  # at exit: raises nothing
    assert len(tried) == 1 and not cache.compiled


def test_a_command_with_a_cache_home_below_a_file_exits_cleanly(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    code = "import secscan.app.run; from secscan.fs import codecache as c; print(c.installed().misses)"
    env = {**os.environ, "XDG_CACHE_HOME": str(blocker / "c")}
    argv = [sys.executable, "-c", code]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True, timeout=120)
    assert int(done.stdout) > 100 and done.stderr == ""  # compiled, and nothing printed at exit
