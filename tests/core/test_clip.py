"""A text cut before redaction keeps no part of a secret (secscan.core.clip)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.core.clip import clip
from secscan.core.redact import Redactor

TOKEN = "ghp_" + "Qz9xW8vU7tS6rR5qP4oN3mM2lL1kK0jJ9iHx"


def test_a_token_the_limit_falls_in_is_left_out_whole() -> None:
    text = "a" * 100 + " token=" + TOKEN + " and more"
    for limit in range(100, len(text)):
        cut = clip(text, limit)
        assert len(cut) <= limit
        assert TOKEN in cut or "Qz9" not in cut, (limit, cut)
        assert Redactor().text(cut) == cut or TOKEN in cut  # what is kept is whole: the redactor sees it


def test_an_open_quote_is_left_out_with_its_content() -> None:
    text = 'bad line: password = "Tr0ub4dor &3 horse" here'
    assert clip(text, 33) == "bad line: password =..."
    assert clip(text, 45) == text[:41] + "..."  # the quote is closed: kept, for the redactor to take whole


def test_short_texts_and_word_ends_are_kept() -> None:
    assert clip("abc def", 7) == "abc def"
    assert clip("abc def ghi", 10) == "abc def..."
    assert clip("abc def ghi", 8, "…") == "abc def…"
    assert clip("abcdefghij", 5) == "..."


_WORDS = st.lists(st.text(alphabet="abc", min_size=1, max_size=6), max_size=12)
_SECRET = st.sampled_from(["Z9xQ7wV5", "'Z9 xQ7 wV5'", '"Z9xQ 7wV5"', "key=Z9xQ7wV5", "`Z9 xQ7`"])


@settings(max_examples=500, deadline=None)
@given(_WORDS, _SECRET, _WORDS, st.integers(min_value=3, max_value=80))
def test_a_secret_is_kept_whole_or_not_at_all(before: list[str], secret: str, after: list[str], limit: int) -> None:
    """The other words are lower-case letters; the secret alone has digits and capitals."""
    text = " ".join([*before, secret, *after])
    cut = clip(text, limit)
    assert len(cut) <= max(limit, 3)
    kept = cut if cut == text else cut.removesuffix("...")
    assert text.startswith(kept)
    value = secret.split("=")[-1].strip("'\"`")
    assert value in kept or not any(ch.isupper() or ch.isdigit() for ch in kept), (text, limit, cut)
