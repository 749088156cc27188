"""Keeping secret values out of every output: SARIF, JSON, terminal, logs and the store.

Secrets reach secscan in two ways. detect-secrets reports only ``sha1(secret)``; the value is
recovered from the source line with :func:`recover_secret` so that it can be *removed* from
everything else. bandit quotes hardcoded passwords in its messages (B105/B106/B107), which
:func:`redact_quoted` blanks. A :class:`Redactor` then replaces every known value, and every
token of a well-known format, by :data:`MARKER` in any text that leaves the process.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import groupby

from secscan.model import Finding

MARKER = "[REDACTED]"
MIN_SECRET_LENGTH = 4
"""Known values shorter than this are ignored: redacting them would shred ordinary text."""

FULL_SEARCH_MAX_LINE = 400
"""Lines up to this many characters are searched substring by substring when tokens fail."""

MAX_TOKEN_CANDIDATES = 20_000

QUOTED_SECRET_RULES = frozenset({("bandit", "B105"), ("bandit", "B106"), ("bandit", "B107")})
"""Rules whose message ends with the hardcoded secret in quotes."""

_DELIMITER = re.compile(r"""[\s'"`=:,;()\[\]{}<>@/]""")
_SHA1_HEX = re.compile(r"[0-9a-f]{40}")
_QUOTED_TAIL = re.compile(r"(?s)(:\s*)(['\"])(.*?)\2?(\s*)\Z")


@dataclass(frozen=True)
class TokenPattern:
    """A well-known secret format. When the regex has a ``secret`` group only that part is redacted."""

    name: str
    regex: re.Pattern[str]


def _p(name: str, pattern: str) -> TokenPattern:
    return TokenPattern(name, re.compile(pattern))


BUILTIN_PATTERNS: tuple[TokenPattern, ...] = (
    _p("aws-access-key-id", r"(?<![A-Z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)"
       r"[A-Z0-9]{16}(?![A-Z0-9])"),
    _p("aws-secret-access-key", r"(?i)aws.{0,20}?['\"](?P<secret>[0-9a-z/+]{40})['\"]"),
    _p("github-token", r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})"),
    _p("gitlab-token", r"glpat-[A-Za-z0-9_-]{20,}"),
    _p("slack-token", r"xox[a-z]-[A-Za-z0-9-]{10,}"),
    _p("slack-webhook", r"https://hooks\.slack\.com/(?:services|workflows)/(?P<secret>[A-Za-z0-9_/+-]{20,})"),
    _p("stripe-live-key", r"(?:sk|rk)_live_[0-9a-zA-Z]{16,}"),
    _p("pypi-token", r"pypi-AgE[A-Za-z0-9_-]{50,}"),
    _p("npm-token", r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}"),
    _p("google-api-key", r"AIza[0-9A-Za-z_-]{35}"),
    _p("jwt", r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    # The password of scheme://user:password@host; RFC 3986 userinfo has no [ ] / @ unencoded.
    # (Bounded scheme length: an unbounded one made "a.a.a.a..." quadratic.)
    _p("url-credentials", r"\b[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s:@/{}\[\]'\"]*:(?P<secret>[^\s@/{}\[\]'\"]+)@"),
    # A PEM private key: the whole block, or the header and the key-like lines that follow it
    # (real or escaped line breaks) when the END line is not in the text. The block never
    # crosses another BEGIN, which keeps many headers in one text linear.
    _p(
        "private-key",
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:(?:(?!-----BEGIN)[\s\S])*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
        r"|(?:(?:\\r)?(?:\\n|\r?\n)[ \t]*(?:[A-Za-z0-9+/=]{16,}|[A-Za-z-]+:[^\r\n\\]*))*)",
    ),
)


def _sha1_hex(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def _token_candidates(line: str) -> Iterator[str]:
    """Substrings that start and end at token delimiters, shortest spans first per start."""
    cuts = [m.start() for m in _DELIMITER.finditer(line)]
    starts = sorted({0, *(c + 1 for c in cuts)})
    ends = sorted({len(line), *cuts})
    produced = 0
    for start in starts:
        for end in ends:
            if end > start:
                yield line[start:end]
                produced += 1
                if produced >= MAX_TOKEN_CANDIDATES:
                    return


def _all_substrings(line: str) -> Iterator[str]:
    for start in range(len(line)):
        for end in range(start + 1, len(line) + 1):
            yield line[start:end]


def recover_secret(line: str, hashed_secret: str) -> str | None:
    """The substring of ``line`` whose SHA-1 hex is detect-secrets' ``hashed_secret``, if any.

    Delimiter-bounded candidates are tried first; lines of at most
    :data:`FULL_SEARCH_MAX_LINE` characters are then searched exhaustively. ``None`` when the
    value is not on the line (for example a secret that detect-secrets assembled across lines).
    """
    target = hashed_secret.strip().lower()
    if not _SHA1_HEX.fullmatch(target):
        return None
    for candidate in _token_candidates(line):
        if _sha1_hex(candidate) == target:
            return candidate
    if len(line) <= FULL_SEARCH_MAX_LINE:
        for candidate in _all_substrings(line):
            if _sha1_hex(candidate) == target:
                return candidate
    return None


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _alternation(values: Iterable[str], depth: int = 2) -> str:
    """A regex matching the longest of ``values`` at a position, grouped by leading characters.

    A flat alternation of thousands of values makes ``re`` try each of them at every position;
    grouping by the first ``depth`` characters lets it reject most of them with one comparison.
    Within a group the values are longest first, so the first alternative that matches is the
    longest value there.
    """
    ordered = sorted(values)
    if depth == 0 or len(ordered) <= 8:
        return "|".join(re.escape(v) for v in sorted(ordered, key=lambda v: (-len(v), v)))
    branches: list[str] = []
    for head, group in groupby(ordered, key=lambda v: v[:1]):
        rests = [v[1:] for v in group]
        inner = _alternation([r for r in rests if r], depth - 1)
        optional = "?" if "" in rests else ""  # greedy: the longer values are still tried first
        branches.append(f"{re.escape(head)}(?:{inner}){optional}")
    return "|".join(branches)


MEMO_ENTRIES = 200_000
MEMO_TEXT_CHARS = 4096
"""How many texts, of at most how many characters, a :class:`Redactor` remembers."""


class Redactor:
    """Replaces known secret values and well-known token formats by :data:`MARKER`.

    Built once per run; immutable and thread-safe afterwards. Known values are matched with one
    compiled alternation (longest value first) tried at every position, so overlapping values
    are all covered; the spans of all matches are merged and each merged span becomes one marker.
    Texts seen before are answered from a memo: a run redacts the same messages and rule texts
    several times (findings, then the SARIF log and the JSON document as a last line of defence).
    """

    __slots__ = ("_literals", "_memo", "_patterns")

    def __init__(self, secrets: Iterable[str] = (), patterns: Iterable[TokenPattern] = BUILTIN_PATTERNS):
        values = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        self._literals = re.compile(f"(?=({_alternation(values)}))") if values else None
        self._patterns = tuple(patterns)
        self._memo: dict[str, str] = {}

    def _spans(self, text: str) -> Iterator[tuple[int, int]]:
        if self._literals is not None:
            for match in self._literals.finditer(text):
                yield match.span(1)
        for pattern in self._patterns:
            has_group = "secret" in pattern.regex.groupindex
            for match in pattern.regex.finditer(text):
                yield match.span("secret") if has_group else match.span()

    def text(self, text: str) -> str:
        """``text`` with every secret occurrence replaced by :data:`MARKER`."""
        done = self._memo.get(text)
        if done is None:
            done = self._redact(text)
            if len(text) <= MEMO_TEXT_CHARS and len(self._memo) < MEMO_ENTRIES:
                self._memo[text] = done
        return done

    def _redact(self, text: str) -> str:
        spans = _merge(self._spans(text))
        if not spans:
            return text
        pieces: list[str] = []
        position = 0
        for start, end in spans:
            pieces.append(text[position:start])
            pieces.append(MARKER)
            position = end
        pieces.append(text[position:])
        return "".join(pieces)

    def contains_secret(self, text: str) -> bool:
        """Whether ``text`` holds a known secret value or a well-known token."""
        return next(self._spans(text), None) is not None


def redact_quoted(message: str) -> str:
    """Blank the quoted literal that ends a message: ``Possible hardcoded password: '[REDACTED]'``.

    For bandit B105/B106/B107, whose ``issue_text`` is ``Possible hardcoded password: '<value>'``
    with the raw value (which may itself contain quotes): everything from the first quote after
    a colon to the end is the value, closing quote or not (a truncated message still loses it).
    Messages without such a quote are returned unchanged.
    """
    return _QUOTED_TAIL.sub(lambda m: f"{m[1]}{m[2]}{MARKER}{m[2]}{m[4]}", message, count=1)


def redact_finding(finding: Finding, redactor: Redactor) -> Finding:
    """The finding with its message redacted. ``aliases`` and ``identity`` hold no secret
    (advisory ids; detect-secrets' hash) and are left unchanged so identities stay stable."""
    message = finding.message
    if (finding.tool, finding.rule_id) in QUOTED_SECRET_RULES:
        message = redact_quoted(message)
    message = redactor.text(message)
    return finding if message == finding.message else replace(finding, message=message)


class SecretFilter(logging.Filter):
    """A logging filter that redacts a :class:`Redactor`'s secrets from every record it sees.

    The message is formatted with its arguments, redacted, and stored back without arguments;
    exception and stack text are formatted and redacted too. Attach it to *handlers*: a filter
    on a logger does not see records propagated from child loggers.
    """

    def __init__(self, redactor: Redactor, name: str = "") -> None:
        super().__init__(name)
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            message = f"{record.msg} (unformattable arguments: {record.args!r})"
        record.msg = self._redactor.text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redactor.text(record.stack_info)
        return True
