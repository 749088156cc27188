"""posture's compiled globs answer exactly as fnmatch, glob by glob, did before them (issue 18)."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.config.posture_rules import PostureRule, bundled_rules
from secscan.scanners._posture_checks import Hit, Tree, evaluate
from secscan.scanners._posture_globs import NameGlobs, PathGlobs

NAME_PARAMS = ("globs", "except", "marker_globs")
PATH_PARAMS = {"owned": "files", "workflow-key": "globs"}


def old_name_match(name: str, globs: Sequence[str]) -> str | None:
    """The semantics before the compiled globs: the first glob fnmatch matches, ignoring case."""
    return next((g for g in globs if fnmatch.fnmatchcase(name.lower(), g.lower())), None)


def old_path_match(path: str, globs: Sequence[str]) -> bool:
    """Before: a path glob matched when it had as many ``/`` as the path and fnmatch agreed."""
    return any(path.count("/") == g.count("/") and fnmatch.fnmatchcase(path, g) for g in globs)


TRICKY_NAMES = [
    # case, and each rule's own names in other cases
    ".env", ".ENV", ".Env", "ID_RSA", "Id_Ed25519", "TOOL.EXE", "Setup.Exe", "LIB.SO", "App.Jar",
    ".NETRC", "_Netrc", ".Git-Credentials", "Server.PEM", "KEY.KEY", "x.P12", "store.KeyStore",
    # dots: leading, doubled, trailing, only dots, suffix-only names, versioned shared objects
    ".exe", "exe", "x.exe.", "x..exe", "x.exe.txt", ".", "..", "...", ".so", ".so.", "libfoo.so.1",
    "libfoo.so.1.2.3", "libfoo.so1", "so.1", "libso.1", "a.tar.gz", "a.tar", "a.tgz.sig", "gz",
    ".env.", ".env.local", ".env.example", ".ENV.Example", ".env.example.bak", "prod.env",
    "prod.env.example", "prod.env.sample", "prod.env.local", ".envrc", ".envrc.bak", "x.env.template",
    "id_rsa.pub", "id_rsa.", "my_id_rsa", "x.pem.pub", "pem", ".pem", "a.b.c.crt", "x.cer",
    # brackets, glob characters and other punctuation taken literally in names
    "[x].zip", "x[.zip", "x].zip", "[!a].exe", "*.exe", "?.exe", "a*b", "*", "?", "[", "]", "[]",
    "x{1}.zip", "x(1).zip", "x$.dll", "x^.dll", "x\\.dll", "x|.dll", "x+.dll",
    # whitespace, newlines and non-ASCII (lower() of İ grows the name)
    "x.exe ", " x.exe", "x\n.exe", "x.exe\n", "\n.env", "é.exe", "İ.EXE", "ß.zip", "ǅ.dll",
    "x.\uff25\uff38\uff25",
    # ordinary files that match nothing
    "README.md", "setup.py", "__init__.py", "Makefile", "py.typed", "LICENSE", "x.pyi", "x.pyc",
]
# and each bundled glob made a name: its stars filled in, upper case, with a bracket
TRICKY_NAMES += sorted(
    {
        variant
        for rule in bundled_rules()
        for key in NAME_PARAMS
        for glob in rule.params.get(key, [])
        for variant in (glob.replace("*", "Lib.X"), glob.replace("*", "").upper(), glob.replace("*", "[a]"))
    }
)

TRICKY_PATHS = [
    ".github/workflows/ci.yml", ".github/workflows/ci.yaml", ".github/workflows/.yml",
    ".github/workflows/ci.YML", ".GitHub/workflows/ci.yml", ".github/Workflows/ci.yml",
    ".github/workflows/sub/ci.yml", ".github/workflows/a/b/ci.yml", "x/.github/workflows/ci.yml",
    ".github/workflows/ci.yml.bak", ".github/workflows/ci.yml/x", ".github/workflows", ".github/workflows/",
    ".github/workflows/[x].yml", ".github/workflows/*.yml", ".github/workflows/c\ni.yml",
    ".github/workflowsX/ci.yml", "github/workflows/ci.yml", ".github/workflows/é.yml", "ci.yml",
]


def test_the_tricky_names_cover_every_bundled_glob() -> None:
    # each glob of the bundled rules is met by some name (else the comparison below proves little)
    for rule in bundled_rules():
        for key in NAME_PARAMS:
            for glob in rule.params.get(key, []):
                assert any(fnmatch.fnmatchcase(n.lower(), glob.lower()) for n in TRICKY_NAMES), glob
        key = PATH_PARAMS.get(rule.check, "")
        for glob in rule.params.get(key, []) if rule.check in PATH_PARAMS else []:
            assert any(old_path_match(p, [glob]) for p in TRICKY_PATHS), glob


@pytest.mark.parametrize("rule", bundled_rules(), ids=lambda r: r.id)
def test_every_bundled_glob_list_matches_as_fnmatch_did(rule: PostureRule) -> None:
    for key in NAME_PARAMS:
        globs = rule.params.get(key, [])
        compiled = NameGlobs(globs)
        for name in TRICKY_NAMES:
            expected = old_name_match(name, globs)
            assert compiled.first(name.lower()) == expected, (key, name)
            assert compiled.any(name.lower()) is (expected is not None), (key, name)
    if rule.check in PATH_PARAMS:
        globs = rule.params.get(PATH_PARAMS[rule.check], [])
        compiled_paths = PathGlobs(globs)
        for path in TRICKY_PATHS:
            assert compiled_paths.match(path) is old_path_match(path, globs), path


def test_the_first_glob_in_the_rules_order_is_named() -> None:
    globs = NameGlobs(["*.gz", "*.tar.*", "A.TAR.GZ", "a.*"])
    assert globs.first("a.tar.gz") == "*.gz"
    assert NameGlobs(["a.*", "*.gz"]).first("a.tar.gz") == "a.*"
    assert NameGlobs(["A.TAR.GZ", "*.gz"]).first("a.tar.gz") == "A.TAR.GZ"  # as the rule spells it
    assert NameGlobs([]).first("a") is None and not NameGlobs([]).any("a")


_GLOB_CHARS = "aAbB.*?[]!-_~"


@given(
    path=st.text(alphabet=_GLOB_CHARS + "/\n é", max_size=14),
    globs=st.lists(st.text(alphabet=_GLOB_CHARS + "/", min_size=1, max_size=10), max_size=4),
)
@settings(max_examples=400, deadline=None)
def test_path_globs_match_as_fnmatch_with_equal_depth(path: str, globs: list[str]) -> None:
    assert PathGlobs(globs).match(path) is old_path_match(path, globs)


@given(
    name=st.text(alphabet=_GLOB_CHARS + "\n é", max_size=12),
    globs=st.lists(
        st.sampled_from(["*", "**", "", "*.", ".*", "*a*"])
        | st.text(alphabet=_GLOB_CHARS, min_size=1, max_size=8),
        max_size=5,
    ),
)
@settings(max_examples=400, deadline=None)
def test_name_globs_of_every_shape_match_as_fnmatch(name: str, globs: list[str]) -> None:
    assert NameGlobs(globs).first(name.lower()) == old_name_match(name, globs)


def test_files_rules_find_the_same_files_in_a_tree_of_tricky_names(tmp_path: Path) -> None:
    # end to end through the files check: each name flagged by exactly the globs fnmatch names
    files = []
    for i, name in enumerate(n for n in TRICKY_NAMES if "/" not in n and n not in (".", "..")):
        folder = tmp_path / f"d{i}"
        folder.mkdir()
        try:
            (folder / name).write_text("text\n")
        except OSError:  # a name the file system refuses
            continue
        files.append(f"d{i}/{name}")
    rules = [r for r in bundled_rules() if r.check == "files"]
    got = {(r.id, i.path, i.fields) for r, i in evaluate(rules, Tree(tmp_path, files, {}), False)}
    expected = set()
    for rule in rules:
        for path in files:
            name = path.rpartition("/")[2]
            glob = old_name_match(name, rule.params.get("globs", []))
            if old_name_match(name, rule.params.get("except", [])) is None and glob is not None:
                what = f"Binary or archive ({glob})" if rule.params.get("magic") else f"File ({glob})"
                expected.add((rule.id, path, (("what", what),)))
    assert got == expected
    assert all(isinstance(i, Hit) for _, i in evaluate(rules, Tree(tmp_path, files, {}), False))


def _old_pe(head: bytes) -> bool:
    if len(head) < 0x40 or not head.startswith(b"MZ"):
        return False
    offset = int.from_bytes(head[0x3C:0x40], "little")
    return head[offset : offset + 4] == b"PE\0\0"


OLD_MAGIC = [  # the executable tests before their start bytes were checked first, in the rule's order
    ("Executable (ELF)", lambda h: h.startswith(b"\x7fELF")),
    (
        "Executable (Mach-O)",
        lambda h: h[:4]
        in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"),
    ),
    ("Executable (Windows PE)", _old_pe),
    ("Compiled code (Java class or Mach-O universal)", lambda h: h[:4] == b"\xca\xfe\xba\xbe"),
]


def _pe_head(offset: int, signature: bytes = b"PE\0\0", size: int = 0x200) -> bytes:
    head = bytearray(b"MZ" + bytes(size - 2))
    head[0x3C:0x40] = offset.to_bytes(4, "little")
    head[offset : offset + len(signature)] = signature
    return bytes(head[:size])


HEADS = {
    "elf": b"\x7fELF\x02\x01\x01" + bytes(60),
    "elf-short": b"\x7fELF",
    "elf-near": b"\x7fELf" + bytes(60),
    "macho-32": b"\xfe\xed\xfa\xce" + bytes(8),
    "macho-64": b"\xfe\xed\xfa\xcf",
    "macho-le": b"\xce\xfa\xed\xfe" + bytes(8),
    "macho-le64": b"\xcf\xfa\xed\xfe" + bytes(8),
    "macho-near": b"\xfe\xed\xfa" + b"\xcd" + bytes(8),
    "java": b"\xca\xfe\xba\xbe\x00\x00\x00\x34",
    "java-short": b"\xca\xfe\xba",
    "pe": _pe_head(0x80),
    "pe-at-3c": _pe_head(0x40),
    "pe-bad-signature": _pe_head(0x80, b"PX\0\0"),
    "pe-signature-cut-short": _pe_head(0x3F0, size=0x3F2),
    "pe-offset-past-1k": _pe_head(0x500, size=0x600),
    "mz-short": b"MZ" + bytes(0x30),
    "mz-text": b"MZ is a text file that starts like a DOS executable\n" * 3,
    "text": b"#!/bin/sh\necho hello\n",
    "empty": b"",
    "nul": bytes(100),
}


def test_executables_are_recognised_by_their_head_as_before(tmp_path: Path) -> None:
    [rule] = [r for r in bundled_rules() if r.id == "committed-binary"]
    for name, head in HEADS.items():
        (tmp_path / name).write_bytes(head)
    items = evaluate([rule], Tree(tmp_path, sorted(HEADS), {}), False)
    got = {i.path: dict(i.fields)["what"] for _, i in items if isinstance(i, Hit)}
    expected = {}
    for name, head in HEADS.items():
        first = head[:1024]
        what = next((w for w, test in OLD_MAGIC if first and test(first)), None)
        if what is not None:
            expected[name] = what
    assert got == expected
    assert set(got) >= {"elf", "macho-32", "macho-64", "macho-le", "macho-le64", "java", "pe", "pe-at-3c"}
