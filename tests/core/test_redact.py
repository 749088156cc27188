"""Secret redaction: recovery from detect-secrets hashes, canaries of every kind, logging."""

from __future__ import annotations

import hashlib
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.core.model import Finding, Location, Severity, ToolName
from secscan.core.quotes import is_wordlike, quoted_spans
from secscan.core.redact import (
    MARKER,
    Redactor,
    SecretFilter,
    redact_finding,
    redact_quoted,
)
from secscan.scanners.recover import recover_secret

# Canaries. They are fake, but each has the shape of the real thing.
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
PASSWORD = "hunter2-s3cr3t-Value"
URL_PASSWORD = "pa55w0rd"
GITHUB = "ghp_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
GITHUB_FINE = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_HOOK_PATH = "T00000000/B00000000/" + "XXXXXXXXXXXXXXXXXXXXXXXX"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
PYPI = (
    "pypi-AgEIcHlwaS5vcmc"
    + "CJGQ3ZjY0MTk2LTg4ZGUtNDMxZS1iZWZlLTI2ZWVmMWM3MmI0MwACJXsicGVybWlzc2lvbnMiOiAidXNlciJ9"
)
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
PEM_HEADER = "-----BEGIN RSA PRIVATE KEY-----"
BASIC_URL = f"https://user:{URL_PASSWORD}@example.com"
JWT = (
    "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0" + ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
PEM_BODY = "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpF"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"


def _sha1(value: str) -> str:
    return hashlib.sha1(value.encode(), usedforsecurity=False).hexdigest()


@pytest.mark.parametrize(
    ("line", "hashed", "expected"),
    [
        # Hashes as detect-secrets 1.5.0 reported them for these lines (scanner-outputs.md).
        (f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"', "25910f981e85ca04baf359199dd0bd4a3ae738b6", AWS_KEY),
        (f'password = "{PASSWORD}"', "105673dbbc0d9ebd364d9478d774d87fa34c5812", PASSWORD),
        (PEM_HEADER, "be4fc4886bd949b369d5e092eb87494f12e57e5b", "BEGIN RSA PRIVATE KEY"),
        (f'url = "{BASIC_URL}"', "b644c3042fbed226b2c1a8250c4bc7b1178f80b1", URL_PASSWORD),
        (f"token: {JWT}  # prod", _sha1(JWT), JWT),
        ("x" * 30 + "SECRETVALUE" + "y" * 30, _sha1("SECRETVALUE"), "SECRETVALUE"),  # no delimiters
    ],
)
def test_recover_secret_finds_the_hashed_substring(line: str, hashed: str, expected: str) -> None:
    assert recover_secret(line, hashed) == expected
    assert recover_secret(line, hashed.upper()) == expected


def test_recover_secret_gives_none_when_absent_or_malformed() -> None:
    assert recover_secret('password = "something-else"', _sha1(PASSWORD)) is None
    assert recover_secret(PASSWORD, "not-a-sha1") is None
    assert recover_secret("", _sha1("x")) is None


def test_recover_secret_on_long_lines_uses_delimiters_only() -> None:
    padding = "a" * 500
    assert recover_secret(f'{padding} = "{PASSWORD}"', _sha1(PASSWORD)) == PASSWORD
    # Not delimiter-bounded on a line above the exhaustive-search limit: documented miss.
    assert recover_secret(f"{padding}{PASSWORD}", _sha1(PASSWORD)) is None


def test_known_values_are_replaced_longest_first_and_short_ones_ignored() -> None:
    redactor = Redactor([PASSWORD, "hunter2", "abc", "s3cr3t-Value-and-more"])
    assert redactor.text(f"pw={PASSWORD}; old=hunter2; abc") == f"pw={MARKER}; old={MARKER}; abc"
    # Overlapping values are both removed, no tail of either survives.
    assert redactor.text("hunter2-s3cr3t-Value-and-more!") == f"{MARKER}!"


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        (f"key {AWS_KEY} used", AWS_KEY),
        ("ASIAY34FZKBOKMUTVV7A was temporary", "ASIAY34FZKBOKMUTVV7A"),
        (f"aws_secret = '{AWS_SECRET}'", AWS_SECRET),
        (f"GITHUB_TOKEN={GITHUB}", GITHUB),
        (f"token {GITHUB_FINE}", GITHUB_FINE),
        (f"slack {SLACK}", SLACK),
        (f"hook https://hooks.slack.com/services/{SLACK_HOOK_PATH} ok", SLACK_HOOK_PATH),
        (f"stripe.api_key = '{STRIPE}'", STRIPE),
        (f"password = {PYPI}", PYPI),
        (f"Authorization: Bearer {JWT}", JWT),
        (f"clone https://user:{URL_PASSWORD}@example.com/repo.git", URL_PASSWORD),
        (f"db postgres://:{URL_PASSWORD}@db:5432/app", URL_PASSWORD),
        (f"key:\n{PEM}\nend", PEM_BODY),
        (f"-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}\n", PEM_BODY),  # no END line
        (f'"-----BEGIN PRIVATE KEY-----\\n{PEM_BODY}\\n"', PEM_BODY),  # escaped line breaks
    ],
)
def test_builtin_patterns_redact_well_known_tokens(text: str, leaked: str) -> None:
    redactor = Redactor()
    assert redactor.contains_secret(text)
    redacted = redactor.text(text)
    assert leaked not in redacted
    assert MARKER in redacted
    assert not redactor.contains_secret(redacted)
    assert redactor.text(redacted) == redacted


def test_url_credentials_keep_the_readable_parts() -> None:
    assert Redactor().text(f"https://user:{URL_PASSWORD}@example.com/x") == f"https://user:{MARKER}@example.com/x"
    assert Redactor().text("http://example.com:8080/a@b") == "http://example.com:8080/a@b"


def test_ordinary_text_is_untouched() -> None:
    text = "subprocess call with shell=True identified, security issue. See https://bandit.readthedocs.io/"
    assert Redactor([PASSWORD]).text(text) == text
    assert not Redactor([PASSWORD]).contains_secret(text)


def test_redact_quoted_blanks_bandit_password_literals() -> None:
    assert redact_quoted(f"Possible hardcoded password: '{PASSWORD}'") == (
        f"Possible hardcoded password: '{MARKER}'"
    )
    assert redact_quoted("Possible hardcoded password: 'it's: 'odd''") == (
        f"Possible hardcoded password: '{MARKER}'"
    )
    assert redact_quoted('Possible hardcoded password: "a\nb"') == f'Possible hardcoded password: "{MARKER}"'
    blanked = f"Possible hardcoded password: '{MARKER}'"
    assert redact_quoted("Possible hardcoded password: 'truncat") == blanked
    assert redact_quoted("Possible hardcoded password: ''") == blanked
    plain = "subprocess call with shell=True identified, security issue."
    assert redact_quoted(plain) == plain


def _bandit(rule: str, message: str) -> Finding:
    return Finding(
        tool=ToolName("bandit"),
        rule_id=rule,
        message=message,
        location=Location("app.py", 5),
        severity=Severity.LOW,
        aliases=("CWE-259",),
    )


def test_redact_finding_covers_quoted_rules_and_known_values() -> None:
    redactor = Redactor([AWS_KEY])
    quoted = redact_finding(_bandit("B106", "Possible hardcoded password: 'not-known-elsewhere'"), redactor)
    assert quoted.message == f"Possible hardcoded password: '{MARKER}'"
    assert quoted.aliases == ("CWE-259",)
    known = redact_finding(_bandit("B999", f"uses {AWS_KEY} and {GITHUB}"), redactor)
    assert known.message == f"uses {MARKER} and {MARKER}"
    clean = _bandit("B602", "subprocess call with shell=True identified, security issue.")
    assert redact_finding(clean, redactor) is clean


def test_secret_filter_redacts_messages_arguments_and_tracebacks() -> None:
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect()
    handler.addFilter(SecretFilter(Redactor([PASSWORD])))
    log = logging.getLogger("secscan.tests.redact")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("found %s in %s", PASSWORD, "app.py")
        log.warning(f"inline {GITHUB}")
        log.warning("broken %s %s", PASSWORD)  # wrong argument count must not leak via logging errors
        try:
            raise ValueError(f"bad value {PASSWORD}")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    output = "\n".join(records)
    assert PASSWORD not in output
    assert GITHUB not in output
    assert f"found {MARKER} in app.py" in output
    assert f"ValueError: bad value {MARKER}" in output


@pytest.mark.parametrize("scan_first", [False, True], ids=["held-first", "scan-first"])
def test_filters_on_one_handler_each_see_the_arguments_whatever_their_order(scan_first: bool) -> None:
    """The daemon's handlers hold the remembered channel secrets' filter, and a run adds its scan's
    filter beside it: the first to run formatted the record, so the second saw a word-like
    secret of its own in a text, not as an argument, and let it through (to stderr and Sentry)."""
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    held, scan = SecretFilter(Redactor(["marmalade"])), SecretFilter(Redactor(["sunflower"]))
    handlers = [Collect(), Collect()]  # a second handler sees the record the first one changed
    for handler in handlers:
        for secret_filter in (scan, held) if scan_first else (held, scan):
            handler.addFilter(secret_filter)
    log = logging.getLogger("secscan.tests.redact.layers")
    log.propagate = False
    for handler in handlers:
        log.addHandler(handler)
    try:
        log.error("quoted %s from the detect-secrets rule, logged in as %s", "sunflower", "marmalade")
        log.error("cannot post %s", GITHUB)
    finally:
        for handler in handlers:
            log.removeHandler(handler)
    quoted = f"quoted {MARKER} from the detect-secrets rule, logged in as {MARKER}"
    assert records == [quoted, quoted, f"cannot post {MARKER}", f"cannot post {MARKER}"]


_secret = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=4, max_size=24).filter(
    lambda v: not is_wordlike(v)
)
_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    secrets=st.lists(_secret, min_size=1, max_size=8),
    surrounding=st.lists(st.text(max_size=20), min_size=1, max_size=9),
    picks=st.lists(st.integers(min_value=0, max_value=7), max_size=8),
)
def test_redacted_text_never_contains_a_known_secret(
    secrets: list[str], surrounding: list[str], picks: list[int]
) -> None:
    """A value that cannot be a word (a digit, a symbol) never survives, quoted or not."""
    planted = [secrets[i % len(secrets)] for i in picks]
    pieces = [surrounding[0]]
    for index, value in enumerate(planted):
        pieces += [value, surrounding[(index + 1) % len(surrounding)]]
    text = "".join(pieces)
    redacted = Redactor(secrets).text(text)
    assert not any(value in redacted for value in secrets)
    literal_only = Redactor(secrets, patterns=())
    assert literal_only.contains_secret(text) == any(value in text for value in secrets)
    assert not literal_only.contains_secret(literal_only.text(text))


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(_word, min_size=1, max_size=4),
    surrounding=st.lists(st.text(max_size=20), min_size=1, max_size=9),
    picks=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["", "'", '"', "`"])), max_size=6),
)
def test_a_word_like_secret_takes_its_whole_quoted_span_and_nothing_else(
    words: list[str], surrounding: list[str], picks: list[tuple[int, str]]
) -> None:
    """Quoted spans holding a word-like secret become exactly the marker; every other character
    of the text, the words outside quotes included, is kept: the gap has no shape."""
    pieces = [surrounding[0]]
    for index, (pick, quote) in enumerate(picks):
        pieces += [quote, words[pick % len(words)], quote, surrounding[(index + 1) % len(surrounding)]]
    text = "".join(pieces)
    redacted = Redactor(words, patterns=()).text(text)
    before, after = quoted_spans(text), quoted_spans(redacted)
    assert len(before) == len(after)
    for (start, end), (new_start, new_end) in zip(before, after, strict=True):
        content = text[start:end]
        expected = MARKER if any(w in content for w in words) else content
        assert redacted[new_start:new_end] == expected
    outside = [text[e:s] for (_, e), (s, _) in zip([(0, 0), *before], [*before, (len(text), 0)], strict=True)]
    outside_after = [
        redacted[e:s] for (_, e), (s, _) in zip([(0, 0), *after], [*after, (len(redacted), 0)], strict=True)
    ]
    assert outside == outside_after


SECRETS_HELP = (
    "detect-secrets (KeywordDetector) found a value that looks like a credential of type 'Secret Keyword'. "
    "Change the password or secret assigned here, and load it from the environment or a secret manager. "
    "A reviewed false positive can be marked with `pragma: allowlist secret` in a comment on the line."
)


@pytest.mark.parametrize("word", ["secret", "password", "Secret", "SECRET", "manager", "Keyword"])
def test_rule_texts_never_change_for_a_word_like_secret(word: str) -> None:
    redactor = Redactor([word, AWS_KEY])
    assert redactor.rule_text(SECRETS_HELP) == SECRETS_HELP
    assert redactor.rule_text(f"{SECRETS_HELP} e.g. {AWS_KEY}") == f"{SECRETS_HELP} e.g. {MARKER}"


def test_a_word_like_secret_is_redacted_only_as_a_whole_quoted_span() -> None:
    redactor = Redactor(["secret"])
    for text in ("Secret Keyword committed in app/secret.py", "detect-secrets found a secret manager"):
        assert redactor.text(text) == text
    assert redactor.text("api_key = \"my secret value\" here") == f'api_key = "{MARKER}" here'
    assert redactor.text("use f'top-secret' or `x = secret`") == f"use f'{MARKER}' or `{MARKER}`"
    assert redactor.text("it's the value 'secret, truncat") == f"it's the value '{MARKER}"
    assert redactor.text("don't 'secret'\nnext 'line") == f"don't '{MARKER}'\nnext 'line"


def test_a_value_that_cannot_be_a_word_goes_everywhere_and_takes_its_quoted_span() -> None:
    redactor = Redactor(["hunter2", "XkQwPzRt"])
    assert redactor.text("user_hunter2_x and XkQwPzRtz") == f"user_{MARKER}_x and {MARKER}z"
    assert redactor.text("password = 'hunter2 and more'") == f"password = '{MARKER}'"


def test_log_arguments_that_are_a_word_like_secret_go_whole() -> None:
    redactor = Redactor(["sunflower"])
    assert redactor.argument("sunflower") == MARKER
    assert redactor.argument("the value sunflower was set") == MARKER
    assert redactor.argument("detect-secrets") == "detect-secrets"
    assert redactor.argument("sunflowers-tool") == "sunflowers-tool"


# The token canaries, and pieces that take a pattern part of the way (case changed, cut short).
LONG_S = "\u017f"  # folds to "s" under re.IGNORECASE
_TOKEN_PIECES = [
    AWS_KEY, AWS_SECRET, GITHUB, GITHUB_FINE, SLACK, STRIPE, PYPI, PEM_HEADER, PEM, BASIC_URL, JWT,
    f"https://hooks.slack.com/services/{SLACK_HOOK_PATH}", "aws_key = '", f"AW{LONG_S} ", "aWs", "KEY", "://",
    "npm_" + "a" * 36, "AIza" + "b" * 35, "glpat-" + "c" * 20, "-----", "BEGIN", "@",
    "?password=", "&PWD=", "=",
]  # fmt: skip
_PIECE = st.sampled_from(_TOKEN_PIECES)


@settings(max_examples=400)
@given(
    st.lists(
        st.one_of(_PIECE, _PIECE.map(str.lower), _PIECE.map(str.upper), st.text(max_size=12)),
        max_size=8,
    )
)
def test_the_builtin_patterns_prefilter_changes_no_answer(pieces: list[str]) -> None:
    # Redactor(patterns=list(...)) is the same patterns without the prefilter (only the builtin
    # tuple gets it): whatever the text, both must redact it alike.
    text = "".join(pieces)
    from secscan.core.token_patterns import BUILTIN_PATTERNS

    plain = Redactor(patterns=list(BUILTIN_PATTERNS))
    assert Redactor().text(text) == plain.text(text)
    assert Redactor().rule_text(text) == plain.rule_text(text)


def test_a_password_query_parameter_of_a_url_is_redacted() -> None:
    text = "cannot reach postgresql://scan@db.example/app?sslmode=require&password=Zq8Pg1x&x=1 (timeout)"
    assert Redactor().text(text) == (
        "cannot reach postgresql://scan@db.example/app?sslmode=require&password=[REDACTED]&x=1 (timeout)"
    )
    assert Redactor().text("a password=Zq8Pg1x in prose, and ?passwords=1") == (
        "a password=Zq8Pg1x in prose, and ?passwords=1"
    )


def test_the_prefilter_keeps_the_case_folding_of_the_aws_secret_pattern() -> None:
    text = f"AW{LONG_S}_secret = '{AWS_SECRET}'"
    assert AWS_SECRET not in Redactor().text(text)
