"""Requirement-file discovery and classification: pure parsing, nothing is ever executed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.scanners.requirement_files import DEFAULT_REQUIREMENT_GLOBS, find_requirement_files
from secscan.scanners.requirements import (
    _PLAIN_PIN,
    MAX_REQUIREMENT_FILE_BYTES,
    RequirementKind,
    _parsed,
    canonicalize_name,
    classify,
    collect_requirements,
    logical_lines,
    mask_credentials,
    parse_requirements,
)

PROJECT = Path(__file__).resolve().parents[1] / "assets" / "pip-audit" / "project"
PROJECT_FILES = ("requirements.txt", "requirements/dev.txt", "setup.py")

K = RequirementKind


@pytest.mark.parametrize(
    ("spec", "kind", "name", "version"),
    [
        ("Jinja2==2.10", K.PINNED, "jinja2", "2.10"),
        ("Demo_Pkg==1.0.0", K.PINNED, "demo-pkg", "1.0.0"),
        ("requests[socks]==2.31.0 ; python_version >= '3'", K.PINNED, "requests", "2.31.0"),
        ("pkg==01.0", K.PINNED, "pkg", "1.0"),  # normalised PEP 440
        ("flask>=2", K.UNPINNED, "flask", None),
        ("django", K.UNPINNED, "django", None),
        ("arbitrary===1.0", K.UNPINNED, "arbitrary", None),
        ("wild==1.*", K.UNPINNED, "wild", None),
        ("pkg>=1,==1.2", K.UNPINNED, "pkg", None),
        ("other @ git+https://github.invalid/o/other.git@v1", K.VCS, "other", None),
        ("git+https://github.invalid/o/p.git#egg=p", K.VCS, None, None),
        ("hg+https://hg.invalid/p", K.VCS, None, None),
        ("pkg @ https://files.invalid/pkg-1.0.tar.gz", K.URL, "pkg", None),
        ("https://files.invalid/pkg-1.0-py3-none-any.whl", K.URL, None, None),
        ("pkg @ file:///srv/pkg", K.LOCAL_PATH, "pkg", None),
        ("./vendor/localpkg", K.LOCAL_PATH, None, None),
        ("../sibling", K.LOCAL_PATH, None, None),
        ("dist/pkg-1.0-py3-none-any.whl", K.LOCAL_PATH, None, None),
        ("this is not a requirement", K.INVALID, None, None),
        ("pkg==", K.INVALID, None, None),
    ],
)
def test_classify(spec: str, kind: RequirementKind, name: str | None, version: str | None) -> None:
    line = classify(spec, "requirements.txt", 7)
    assert (line.kind, line.name, line.version, line.path, line.line) == (
        kind,
        name,
        version,
        "requirements.txt",
        7,
    )
    assert line.audited is (kind is K.PINNED)


def test_logical_lines_join_continuations_and_cut_comments() -> None:
    text = (
        "# header\n\nA==1  # trailing\nB==2 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\nurl#frag\n"
    )
    assert list(logical_lines(text)) == [
        (3, "A==1"),
        (4, "B==2      --hash=sha256:abc      --hash=sha256:def"),
        (7, "url#frag"),
    ]


def test_parse_strips_per_requirement_options_and_ignores_global_options() -> None:
    text = (
        "--index-url https://u:p@mirror.invalid/simple\n--require-hashes\n-i https://x.invalid\n"
        "A==1 --hash=sha256:abc\n-e .\n--editable=git+https://h.invalid/r.git\n"
        "-r base.txt\n-cconstraints.txt\n--requirement=more.txt\n"
    )
    lines, includes = parse_requirements(text, "r.txt")
    assert [(ln.line, ln.kind, ln.text) for ln in lines] == [
        (4, K.PINNED, "A==1"),
        (5, K.EDITABLE, "."),
        (6, K.EDITABLE, "git+https://h.invalid/r.git"),
        (7, K.INCLUDE, "-r base.txt"),
        (8, K.INCLUDE, "-cconstraints.txt"),
        (9, K.INCLUDE, "--requirement=more.txt"),
    ]
    assert includes == ["base.txt", "constraints.txt", "more.txt"]


def test_credentials_in_urls_are_masked() -> None:
    line = classify("git+https://deploy:S3CRET@github.invalid/o/p.git", "r.txt", 1)
    assert "S3CRET" not in line.text and "deploy" not in line.text
    assert line.text == "git+https://***@github.invalid/o/p.git"
    assert mask_credentials("see https://a:b@h.invalid and ssh://git@h2.invalid/x") == (
        "see https://***@h.invalid and ssh://***@h2.invalid/x"
    )


def test_no_part_of_a_credential_is_kept_in_a_requirement_note() -> None:
    """Three ways a "not audited" note quoted part of a credential, which the run's redactor then
    no longer recognised: the 120-character cut fell inside a token; a password with an ``@``
    was masked only up to that ``@``; a token in the URL's query was not masked."""
    token = "ghp_Qz9xW8vU7tS6rR5qP4oN3mM2lL1kK0jJ9iHx"
    text = (
        "a" * 100 + " token=" + token + "\n"
        "git+https://deploy:Ab3@Cd4Ef5Gh6Ij7@github.invalid/o/r.git#egg=private\n"
        "privpkg @ https://files.invalid/privpkg-1.0.whl?token=Tq7Wv2Xy9Zb4Nc6Md8#sha256=ab\n"
    )
    lines, _ = parse_requirements(text, "requirements.txt")
    assert [line.text for line in lines] == [
        "a" * 100 + "...",
        "git+https://***@github.invalid/o/r.git#egg=private",
        "privpkg @ https://files.invalid/privpkg-1.0.whl?***#sha256=ab",
    ]
    shown = " ".join(line.reason for line in lines)
    for secret in (token.removeprefix("ghp_"), "Ab3@Cd4Ef5Gh6Ij7", "Tq7Wv2Xy9Zb4Nc6Md8"):
        assert not [secret[i : i + 6] for i in range(len(secret) - 5) if secret[i : i + 6] in shown], shown


def test_default_globs_find_requirement_files_in_any_directory() -> None:
    files = [
        "requirements.txt",
        "requirements-dev.txt",
        "requirements/base.txt",
        "svc/api/requirements.txt",
        "svc/requirements/prod.txt",
        "dev-requirements.txt",
        "docs/requirements.in",
        "setup.py",
        "requirements.txt.bak",
        "src/app.py",
    ]
    assert find_requirement_files(files) == sorted(
        [
            "requirements.txt",
            "requirements-dev.txt",
            "requirements/base.txt",
            "svc/api/requirements.txt",
            "svc/requirements/prod.txt",
            "dev-requirements.txt",
        ]
    )
    assert find_requirement_files(files, ["*.in"]) == ["docs/requirements.in"]
    assert "requirements*.txt" in DEFAULT_REQUIREMENT_GLOBS


_COMPONENTS = st.sampled_from(["requirements.txt", "requirements", "dev-requirements.txt", "base.txt", "a",
                               "req[1].txt", "*", ".", ""])  # fmt: skip
_GLOBS = st.sampled_from(["requirements*.txt", "requirements/*.txt", "*requirements*.txt", "*.txt",
                          "a/*/base.txt", "/requirements.txt", "[!r]*.txt", "?", "**", "./base.txt",
                          "requirements/", "a//base.txt"])  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_COMPONENTS, min_size=1, max_size=4).map("/".join), st.lists(_GLOBS, min_size=1, max_size=3))
def test_compiled_globs_match_as_pathlib_does(path: str, globs: list[str]) -> None:
    if not path.strip("/.") or path.startswith("/"):
        return  # repo-relative paths only, as the inventory gives them
    expected = [path] if any(PurePosixPath(path).match(g) for g in globs) else []
    assert find_requirement_files([path], globs) == expected


@pytest.mark.parametrize("glob", ["", ".", "./"])
def test_an_empty_glob_is_refused_as_pathlib_refuses_it(glob: str) -> None:
    with pytest.raises(ValueError, match="empty pattern"):
        PurePosixPath("a.txt").match(glob)
    with pytest.raises(ValueError, match="empty pattern"):
        find_requirement_files(["a.txt"], [glob])


def test_collect_fixture_project_follows_includes_inside_the_target_only() -> None:
    reqs = collect_requirements(PROJECT, PROJECT_FILES)
    assert [f.path for f in reqs.files] == ["requirements.txt", "requirements/dev.txt"]
    assert all(f.error is None for f in reqs.files)
    pinned = {(r.path, r.line, r.name, r.version) for r in reqs.pinned}
    assert pinned == {
        ("requirements.txt", 3, "jinja2", "2.10"),
        ("requirements.txt", 4, "demo-pkg", "1.0.0"),
        ("requirements.txt", 6, "requests", "2.31.0"),
        ("requirements.txt", 7, "requests", "2.31.0"),
        ("requirements/dev.txt", 2, "jinja2", "2.11.3"),
        ("requirements/dev.txt", 3, "demo-pkg", "1.2.0"),
    }
    reasons = {(r.line, r.reason) for r in reqs.not_audited}
    assert reasons == {
        (8, "editable (.)"),
        (9, "vcs (git+https://***@github.invalid/example/private.git#egg=private)"),
        (10, "vcs (other @ git+https://github.invalid/example/other.git@v1)"),
        (11, "url (https://files.example.invalid/wheels/pkg-1.0-py3-none-any.whl)"),
        (12, "local path (./vendor/localpkg)"),
        (13, "unpinned (flask>=2)"),
        (14, "unpinned (django)"),
        (15, "unpinned (arbitrary===1.0)"),
        (16, "unpinned (wild==1.*)"),
        (18, "include (-r ../outside.txt)"),  # outside the target: never read
        (19, "invalid (this is not a requirement)"),
    }
    leaked = "CANARY" in repr(reqs)
    assert not leaked, "a credential from the requirements file was kept"


def test_include_of_a_file_that_is_not_scanned_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r base.in\n-r /etc/passwd\n-r https://x.invalid/r.txt\n")
    (tmp_path / "base.in").write_text("a==1\n")
    reqs = collect_requirements(tmp_path, ["requirements.txt"])  # base.in excluded from the job
    assert [r.kind for r in reqs.lines] == [K.INCLUDE] * 3
    followed = collect_requirements(tmp_path, ["requirements.txt", "base.in"])
    assert [(r.path, r.name) for r in followed.pinned] == [("base.in", "a")]
    assert [r.text for r in followed.not_audited] == ["-r /etc/passwd", "-r https://x.invalid/r.txt"]


def test_unreadable_and_oversized_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_bytes(b"a==1\n" * (MAX_REQUIREMENT_FILE_BYTES // 5 + 1))
    reqs = collect_requirements(tmp_path, ["requirements.txt", "requirements-missing.txt"])
    errors = {f.path: f.error for f in reqs.files}
    assert errors["requirements.txt"] is not None and "larger than" in errors["requirements.txt"]
    assert (
        errors["requirements-missing.txt"] is not None and "cannot read" in errors["requirements-missing.txt"]
    )
    assert reqs.lines == ()


def test_non_utf8_bytes_do_not_crash(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_bytes(b"\xef\xbb\xbfa==1\nb\xff==2\n")
    reqs = collect_requirements(tmp_path, ["requirements.txt"])
    assert [(r.name, r.kind) for r in reqs.lines] == [("a", K.PINNED), (None, K.INVALID)]


_PIN_LIKE = st.text(alphabet="aZ09._- =!<>~*;@[]/:'", min_size=1, max_size=16).filter(
    lambda s: s == " ".join(s.split())  # requirements arrive as tokens joined by single spaces
)


_PINS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,6} ?== ?[0-9.]{1,8}", fullmatch=True)


_RANGES = st.from_regex(
    r"[A-Za-z0-9][A-Za-z0-9._-]{0,6}( ?(>=|<=|!=|<|>|~=|==|===) ?[0-9][0-9.]{0,6}((a|b|rc|c|dev|post)[0-9]{0,2})?)?",
    fullmatch=True,
)


@settings(max_examples=1500, deadline=None)
@given(spec=_PIN_LIKE | _PINS | _RANGES)
def test_a_plain_pin_is_classified_as_packagings_parser_does(spec: str) -> None:
    # issue 18: name==1.2.3 skips packaging's parser (every other line still goes through it)
    if _PLAIN_PIN.fullmatch(spec):
        line = classify(spec, "r.txt", 3)
        assert line.kind is RequirementKind.PINNED
        assert line == _parsed(spec, "r.txt", 3, line.text)


@settings(max_examples=1500, deadline=None)
@given(spec=_PIN_LIKE | _RANGES | st.sampled_from([".", "./pkg", "/abs/pkg", "~/pkg", "~=1.0", ".[x]"]))
def test_every_line_classified_without_the_parser_is_classified_as_the_parser_does(spec: str) -> None:
    # issue 18: a bare name, a plain range and a path skip packaging's parser too (pip's
    # docs/requirements.txt has only such lines), with the parser's answer
    if "://" in spec.split("@", 1)[0] or spec.lower().startswith(("git+", "hg+", "svn+", "bzr+")):
        return  # URLs are classified before either path
    line = classify(spec, "r.txt", 3)
    assert line == _parsed(spec, "r.txt", 3, line.text)


def test_a_file_of_plain_pins_loads_no_requirement_parser() -> None:
    code = (
        "import sys\n"
        "from secscan.scanners.requirements import parse_requirements\n"
        "lines, _ = parse_requirements('Flask==2.0.1\\nJinja2 == 3.1.4\\nsix==1.16.0  # pin\\n', 'r.txt')\n"
        "pins = [(l.name, l.version) for l in lines]\n"
        "assert pins == [('flask', '2.0.1'), ('jinja2', '3.1.4'), ('six', '1.16.0')], pins\n"
        "assert 'packaging.requirements' not in sys.modules\n"
        "lines, _ = parse_requirements('sphinx ~= 7.0\\nfuro\\nx >= 0.2.0a0\\n.\\n', 'docs/r.txt')\n"
        "kinds = [(l.name, l.kind.value) for l in lines]\n"
        "assert kinds == [('sphinx', 'unpinned'), ('furo', 'unpinned'), ('x', 'unpinned'), (None, 'local path')]\n"
        "assert 'packaging.requirements' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("aAzZ09-_.. \u0130\u212a\u00df\u00e9"), max_size=20) | st.text(max_size=20))
def test_project_names_are_normalised_as_packaging_does(name: str) -> None:
    from packaging.utils import canonicalize_name as packaging_name

    assert canonicalize_name(name) == packaging_name(name)


def test_project_names_are_normalised_as_pep_503_says() -> None:
    assert canonicalize_name("Oslo.Concurrency") == "oslo-concurrency"
    assert canonicalize_name("zope__interface") == "zope-interface"
    assert canonicalize_name("a-_.-b") == "a-b"


HOSTILE_LINES = r"""
import sys
from secscan.scanners.requirements import parse_requirements
text = "flask==0.12\n" + "x" * 600_000 + "\n" + "y" * 300_000 + "://" + "z" * 300_000 + "\n" + "a" + " " * 600_000 + "b\n"
text += "q://" + "@" * 300_000 + "\n" + "a://b?" * 100_000 + "\n" + "a://b@" * 100_000 + "\n"
lines, errors = parse_requirements(text, "requirements.txt")
print(sum(1 for line in lines if line.audited))
"""


def test_long_hostile_lines_are_read_in_linear_time() -> None:
    """A line of 600,000 scheme characters, a "://" without credentials and a long whitespace run:
    the comment and credential patterns backtracked quadratically (hours, holding the GIL, so
    not even SIGTERM stopped the run). The subprocess's timeout is a hang guard, not a benchmark."""
    done = subprocess.run([sys.executable, "-c", HOSTILE_LINES], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"  # flask==0.12, and nothing taken from the hostile lines


_OLD_COMMENT = r"(^|\s+)#.*$"
_UNBOUNDED_CREDENTIALS = r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]+@"


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="ab1+.-:/@# \tx", max_size=60), st.integers(min_value=0, max_value=90))
def test_the_linear_patterns_mask_and_strip_as_the_unbounded_ones_did(text: str, run: int) -> None:
    """The same output as the original (backtracking) patterns, including schemes longer than the
    bounded pattern's 64 characters, whose credentials must still be masked."""
    import re

    from secscan.scanners.credential_masks import CREDENTIALS as _CREDENTIALS
    from secscan.scanners.requirements import _COMMENT

    text = text.replace("x", "a" * run + "://user:token@host", 1)
    assert _CREDENTIALS.sub(r"\g<scheme>***@", text) == re.sub(_UNBOUNDED_CREDENTIALS, r"\g<scheme>***@", text)
    assert _COMMENT.sub("", text).strip() == re.sub(_OLD_COMMENT, "", text).strip()
