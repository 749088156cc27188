"""Lockfile parsers: real lockfiles written by npm, yarn, pnpm, uv, Poetry and pipenv (see
tests/scanners/lockfiles/README.md), malformed and hostile ones, and the line of every package."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.scanners.lockfiles import (
    LockedPackage,
    Lockfile,
    LockfileError,
    LockfileKind,
    SkipReason,
    parse_lockfile,
    recognise,
)
from secscan.scanners.lockfiles._json_lines import key_lines

FIXTURES = Path(__file__).resolve().parent / "lockfiles"


def parse(relative: str) -> Lockfile:
    path = FIXTURES / relative
    kind = recognise(path.name)
    assert kind is not None
    return parse_lockfile(kind, path.read_bytes())


def by_name(lockfile: Lockfile) -> dict[str, list[LockedPackage]]:
    found: dict[str, list[LockedPackage]] = {}
    for package in lockfile.packages:
        found.setdefault(package.name, []).append(package)
    return found


def line_text(relative: str, line: int) -> str:
    return (FIXTURES / relative).read_text(encoding="utf-8").splitlines()[line - 1]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("package-lock.json", LockfileKind.PACKAGE_LOCK),
        ("npm-shrinkwrap.json", LockfileKind.NPM_SHRINKWRAP),
        ("yarn.lock", LockfileKind.YARN),
        ("pnpm-lock.yaml", LockfileKind.PNPM),
        ("poetry.lock", LockfileKind.POETRY),
        ("uv.lock", LockfileKind.UV),
        ("Pipfile.lock", LockfileKind.PIPFILE),
        ("pylock.toml", LockfileKind.PYLOCK),
        ("pylock.dev.toml", LockfileKind.PYLOCK),
        ("pylock.a.b.toml", None),
        ("pipfile.lock", None),
        ("package.json", None),
        (".package-lock.json", None),
        ("requirements.txt", None),
    ],
)
def test_recognise_by_exact_name(name: str, kind: LockfileKind | None) -> None:
    assert recognise(name) == kind


NPM_FIXTURES = [
    "npm-v3/package-lock.json",
    "npm-shrinkwrap/npm-shrinkwrap.json",
    "yarn-v1/yarn.lock",
    "yarn-berry/yarn.lock",
    "pnpm-v9/pnpm-lock.yaml",
    "pnpm-v6/pnpm-lock.yaml",
    "pnpm-v5/pnpm-lock.yaml",
]


@pytest.mark.parametrize("relative", NPM_FIXTURES)
def test_npm_lockfiles_of_one_project_agree(relative: str) -> None:
    """Seven formats, one dependency tree: the same 46 registry packages, aliases resolved."""
    lockfile = parse(relative)
    assert lockfile.ecosystem == "npm"
    packages = {(p.name, p.version) for p in lockfile.packages}
    reference = {(p.name, p.version) for p in parse("npm-v3/package-lock.json").packages}
    assert packages == reference and len(packages) == 46
    names = by_name(lockfile)
    assert [p.version for p in names["tmp"]] == ["0.2.1", "0.2.3"]  # root and workspace member
    assert names["string-width"][0].version == "4.2.0"  # the alias string-width-cjs
    assert ("@octokit/request-error", "5.0.0") in packages
    assert "@shop/util" not in names and "shop-frontend" not in names  # the workspace itself
    for package in lockfile.packages:  # each line is the package's own entry
        text = line_text(relative, package.line)
        assert (package.alias or package.name) in text, (package, text)


def test_package_lock_v3_tree_flags_and_skips() -> None:
    lockfile = parse("npm-v3/package-lock.json")
    assert lockfile.kind == "package-lock.json v3"
    names = by_name(lockfile)
    assert names["tmp"][1].path == "packages/util/node_modules/tmp"
    alias = names["string-width"][0]
    assert (alias.alias, alias.path) == ("string-width-cjs", "node_modules/string-width-cjs")
    assert names["prismjs"][0].dev and not names["multer"][0].dev
    assert "left-pad" not in names and "local-ui" not in names
    assert lockfile.skipped == {
        SkipReason.LINK: 1,  # node_modules/@shop/util -> packages/util
        SkipReason.WORKSPACE: 1,  # packages/util itself
        SkipReason.GIT: 1,
        SkipReason.FILE: 1,
    }


def test_package_lock_v1_nests_and_aliases_by_version() -> None:
    lockfile = parse("npm-v1/package-lock.json")
    assert lockfile.kind == "package-lock.json v1"
    names = by_name(lockfile)
    nested = [p for p in names["readable-stream"] if "/node_modules/concat-stream/" in f"/{p.path}/"]
    assert nested and nested[0].path == "node_modules/concat-stream/node_modules/readable-stream"
    assert line_text("npm-v1/package-lock.json", nested[0].line).strip() == '"readable-stream": {'
    alias = names["string-width"][0]
    assert (alias.version, alias.alias) == ("4.2.0", "string-width-cjs")
    assert names["prismjs"][0].dev
    assert lockfile.skipped == {}


def test_yarn_and_pnpm_skips() -> None:
    assert parse("yarn-v1/yarn.lock").skipped == {SkipReason.GIT: 1, SkipReason.FILE: 1}
    assert parse("yarn-berry/yarn.lock").skipped == {SkipReason.WORKSPACE: 2}
    for version in ("v9", "v6", "v5"):
        assert parse(f"pnpm-{version}/pnpm-lock.yaml").skipped == {SkipReason.LINK: 1}
    assert by_name(parse("pnpm-v6/pnpm-lock.yaml"))["prismjs"][0].dev


@pytest.mark.parametrize(
    "relative", ["poetry/poetry.lock", "uv/uv.lock", "pylock/pylock.toml", "pipenv/Pipfile.lock"]
)
def test_python_lockfiles_of_one_project_agree(relative: str) -> None:
    lockfile = parse(relative)
    assert lockfile.ecosystem == "PyPI"
    assert {(p.name, p.version) for p in lockfile.packages} == {
        ("jinja2", "2.10"),
        ("markupsafe", "3.0.4"),
        ("urllib3", "1.26.4"),
        ("pyyaml", "5.3"),
    }
    assert sum(lockfile.skipped.values()) >= 1  # the local editable project
    for package in lockfile.packages:
        assert package.name in line_text(relative, package.line)


def test_python_dev_flags_and_skip_reasons() -> None:
    assert by_name(parse("poetry/poetry.lock"))["pyyaml"][0].dev  # groups = ["dev"]
    assert by_name(parse("pipenv/Pipfile.lock"))["pyyaml"][0].dev  # "develop"
    assert parse("poetry/poetry.lock").skipped == {SkipReason.FILE: 1}
    assert parse("uv/uv.lock").skipped == {SkipReason.WORKSPACE: 2}  # the project and the editable
    assert parse("pylock/pylock.toml").skipped == {SkipReason.FILE: 1}
    assert parse("pipenv/Pipfile.lock").skipped == {SkipReason.FILE: 1}


@pytest.mark.parametrize(
    ("kind", "content", "message"),
    [
        (LockfileKind.PACKAGE_LOCK, b'{"lockfileVersion": 3,\n "packages": {\n', r"not valid JSON \(line 3"),
        (LockfileKind.PACKAGE_LOCK, b"[1, 2]", "is not a JSON object"),
        (LockfileKind.PACKAGE_LOCK, b'{"packages": []}', "'packages' that is not an object"),
        (LockfileKind.PACKAGE_LOCK, b'{"x": "\xff"}', "not UTF-8|not valid JSON"),
        (LockfileKind.PACKAGE_LOCK, b"[" * 100_000 + b"]" * 100_000, "nested|not valid JSON"),
        (LockfileKind.PIPFILE, b'{"default": 3}', "'default' that is not an object"),
        (
            LockfileKind.YARN,
            b"# yarn lockfile v1\n\nfoo@^1.0.0\n  version 1.0.0\n",
            r"line 3: an entry must end",
        ),
        (LockfileKind.YARN, b"  version 1.0.0\n", "indented line outside an entry"),
        (LockfileKind.YARN, b"__metadata:\n  version: 6\nfoo: [\n", r"not valid YAML \(line \d+"),
        (
            LockfileKind.PNPM,
            b"lockfileVersion: '9.0'\npackages: [1, 2]\n",
            "'packages' that is not a mapping",
        ),
        (LockfileKind.PNPM, b"importers: {}\n", "no 'lockfileVersion'"),
        (LockfileKind.PNPM, b"- a\n- b\n", "a document that is not a mapping"),
        (LockfileKind.PNPM, b"a: 1\n---\nb: 2\n", "not valid YAML"),
        (LockfileKind.POETRY, b"[[package]]\nname = \n", "not valid TOML"),
        (LockfileKind.UV, b"package = 3\n", "'package' that is not an array of tables"),
        (LockfileKind.PYLOCK, b"\xff\xfe", "not UTF-8"),
    ],
)
def test_malformed_lockfile_is_a_one_line_lockfile_error(
    kind: LockfileKind, content: bytes, message: str
) -> None:
    with pytest.raises(LockfileError, match=message) as caught:
        parse_lockfile(kind, content)
    assert "\n" not in str(caught.value)


def test_unreadable_entries_are_counted_not_fatal() -> None:
    doc = {
        "lockfileVersion": 3,
        "packages": {"": {}, "node_modules/a": 3, "node_modules/b": {"version": "1.0.0"}},
    }
    lockfile = parse_lockfile(LockfileKind.PACKAGE_LOCK, json.dumps(doc).encode())
    assert [(p.name, p.version) for p in lockfile.packages] == [("b", "1.0.0")]
    assert lockfile.skipped == {SkipReason.UNREADABLE: 1}


def test_yaml_anchors_are_shared_not_expanded() -> None:
    """A billion-laughs pnpm lockfile: aliases are the node they name, and the parser only walks
    a few levels, so it finishes at once with what the keys say."""
    lines = ["lockfileVersion: '9.0'", "x0: &a0 [resolution, resolution, resolution, resolution]"]
    lines += [f"x{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 40)]
    lines += ["packages:"] + [f"  pkg{i}@1.0.{i}: {{resolution: *a39}}" for i in range(50)]
    lockfile = parse_lockfile(LockfileKind.PNPM, "\n".join(lines).encode())
    assert len(lockfile.packages) == 50


def test_nothing_in_a_yaml_lockfile_is_constructed() -> None:
    """Python tags are never resolved: the text is composed into nodes, never constructed."""
    content = (
        b"lockfileVersion: '9.0'\npackages:\n  a@1.0.0: !!python/object/apply:os.system ['touch /tmp/x']\n"
    )
    lockfile = parse_lockfile(LockfileKind.PNPM, content)
    assert [(p.name, p.version) for p in lockfile.packages] == [("a", "1.0.0")]


_key = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)


@settings(max_examples=150)
@given(
    st.dictionaries(
        _key, st.dictionaries(_key, st.one_of(st.integers(), _key, st.just({})), max_size=3), max_size=6
    ),
    st.sampled_from([None, 0, 1, 2, 4]),
)
def test_property_key_lines_find_each_package_key(
    packages: dict[str, dict[str, object]], indent: int | None
) -> None:
    """For any JSON layout, the recorded line of ``packages[key]`` is the line its key is on."""
    text = json.dumps({"name": "x", "packages": packages, "tail": [{"packages": {}}]}, indent=indent)
    lines = key_lines(text, {"packages"})
    for key in packages:
        encoded = json.dumps(key)
        line = lines[("packages", key)]
        assert encoded in text.splitlines()[line - 1]


def test_pnpm_non_registry_keys() -> None:
    content = b"""lockfileVersion: '9.0'
packages:
  local-ui@file:vendor/local-ui:
    resolution: {integrity: sha512-AAAA}
  remote@https://example.invalid/remote-1.0.0.tgz:
    resolution: {integrity: sha512-AAAA}
  gitdep@git+https://example.invalid/gitdep.git#abc:
    resolution: {commit: abc, repo: https://example.invalid/gitdep.git, type: git}
  tarball@1.0.0:
    resolution: {tarball: https://example.invalid/tarball.tgz}
  folder@1.0.0:
    resolution: {directory: ../folder, type: directory}
  ok@1.0.0:
    resolution: {integrity: sha512-AAAA}
"""
    lockfile = parse_lockfile(LockfileKind.PNPM, content)
    assert [(p.name, p.version, p.line) for p in lockfile.packages] == [("ok", "1.0.0", 13)]
    assert lockfile.skipped == {SkipReason.GIT: 1, SkipReason.FILE: 2, SkipReason.URL: 2}


def test_yarn_berry_protocols() -> None:
    content = b"""__metadata:
  version: 8

"resolve@patch:resolve@npm%3A^1.22.1#~builtin<compat/resolve>":
  version: 1.22.2
  resolution: "resolve@patch:resolve@npm%3A1.22.2#~builtin<compat/resolve>::version=1.22.2&hash=c3c19d"

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."

"lib@link:../lib::locator=app%40workspace%3A.":
  version: 0.0.0-use.local
  resolution: "lib@link:../lib::locator=app%40workspace%3A."

"tool@portal:../tool::locator=app%40workspace%3A.":
  version: 0.0.0-use.local
  resolution: "tool@portal:../tool::locator=app%40workspace%3A."

"dep@https://github.com/a/dep.git#commit=abc":
  version: 1.0.0
  resolution: "dep@https://github.com/a/dep.git#commit=abc"
"""
    lockfile = parse_lockfile(LockfileKind.YARN, content)
    assert [(p.name, p.version, p.line) for p in lockfile.packages] == [("resolve", "1.22.2", 4)]
    assert lockfile.skipped == {SkipReason.WORKSPACE: 1, SkipReason.LINK: 2, SkipReason.GIT: 1}
