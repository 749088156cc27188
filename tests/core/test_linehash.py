"""GitHub's primaryLocationLineHash: the reference port and the fast path.

The vectors are github/codeql-action's ``src/fingerprints.test.ts`` (see
github-code-scanning.md section 6).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.core.linehash import hashes_for_lines, line_hashes

EMPTY = "c129715d7a2bc9a3:1"
HELLO = " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n"
HELLO_HASHES = [
    "e9496ae3ebfced30:1",
    "fb7c023a8b9ccb3f:1",
    "ce8ba1a563dcdaca:1",
    "e20e36e16fcb0cc8:1",
    "b3edc88f2938467e:1",
    "c8e28b0b4002a3a0:1",
    EMPTY,
]

VECTORS = [
    ("", [EMPTY]),
    (
        " a\nb\n  \t\tc\n d",
        ["271789c17abda88f:1", "54703d4cd895b18:1", "180aee12dab6264:1", "a23a3dc5e078b07b:1"],
    ),
    (
        " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End",
        [
            "8b7cf3e952e7aeb2:1",
            "b1ae1287ec4718d9:1",
            "bff680108adb0fcc:1",
            "c6805c5e1288b612:1",
            "b86d3392aea1be30:1",
            "e6ceba753e1a442:1",
        ],
    ),
    (HELLO, HELLO_HASHES),
    (HELLO.replace("\n", "\r"), HELLO_HASHES),
    (HELLO.replace("\n", "\r\n"), HELLO_HASHES),
    (" hello; \t\nworld!!!\r\r\n\n  \t\tGreetings\r End\r\n", HELLO_HASHES),  # mixed line ends
    (
        "Lorem ipsum dolor sit amet.\n" * 10,
        [f"a7f2ff13bc495cf2:{n}" for n in range(1, 7)]
        + ["a7f2ff1481e87703:1", "a9cf91f7bbf1862b:1", "55ec222b86bcae53:1", "cc97dc7b1d7d8f7b:1", EMPTY],
    ),
]


def _all_lines(text: str, extra: int = 0) -> dict[int, str]:
    return hashes_for_lines(text, range(1, len(line_hashes(text)) + 1 + extra))


@pytest.mark.parametrize(("text", "expected"), VECTORS)
def test_reference_reproduces_codeql_action_vectors(text: str, expected: list[str]) -> None:
    assert line_hashes(text) == expected


@pytest.mark.parametrize(("text", "expected"), VECTORS)
def test_fast_path_reproduces_codeql_action_vectors(text: str, expected: list[str]) -> None:
    assert hashes_for_lines(text, range(1, len(expected) + 1)) == dict(enumerate(expected, start=1))


def test_only_requested_lines_are_returned() -> None:
    assert hashes_for_lines(HELLO, [6, 2]) == {2: HELLO_HASHES[1], 6: HELLO_HASHES[5]}
    assert hashes_for_lines(HELLO, []) == {}


def test_lines_outside_the_file_get_no_hash() -> None:
    # HELLO has 7 lines (the trailing newline adds an empty last one, hashed like an empty file).
    assert hashes_for_lines(HELLO, [0, -3, 7, 8, 1000]) == {7: EMPTY}
    assert hashes_for_lines("", [1, 2]) == {1: EMPTY}


def test_space_between_cr_and_lf_makes_two_line_breaks() -> None:
    # The reference resets its "previous was CR" flag on a skipped space, so LF counts again.
    assert len(line_hashes("a\r \nb")) == 3
    assert len(line_hashes("a\r\nb")) == 2
    assert _all_lines("a\r \nb", extra=2) == dict(enumerate(line_hashes("a\r \nb"), start=1))


def test_repeated_windows_are_counted_across_a_long_file() -> None:
    text = ("x = 1\n" * 300) + "y\n" + ("x = 1\n" * 300)
    reference = line_hashes(text)
    assert _all_lines(text) == dict(enumerate(reference, start=1))
    assert reference[250].endswith(":251")  # 100 units ahead of line 251 are all "x=1\n"


def test_non_bmp_characters_count_as_two_code_units() -> None:
    text = "\U0001f600 a\n\U0001f600\U0001f600b\nc\n" * 40
    assert _all_lines(text, extra=1) == dict(enumerate(line_hashes(text), start=1))


_ALPHABET = st.sampled_from(
    ["a", "b", "x=1", " ", "\t", "\r", "\n", "\r\n", "\U0001f600", "é", "\uffff", "\x00", "\ud800"]
)


@settings(max_examples=300, deadline=None)
@given(
    chunks=st.lists(_ALPHABET, max_size=400),
    repeat=st.integers(min_value=1, max_value=4),
    requested=st.lists(st.integers(min_value=-2, max_value=900), max_size=30),
)
def test_fast_path_equals_reference(chunks: list[str], repeat: int, requested: list[int]) -> None:
    text = "".join(chunks) * repeat
    reference = dict(enumerate(line_hashes(text), start=1))
    assert hashes_for_lines(text, requested) == {k: reference[k] for k in requested if k in reference}
    assert hashes_for_lines(text, reference.keys()) == reference
