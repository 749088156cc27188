"""Keeping secret values out of every output: SARIF, JSON, terminal, logs and the store.

Secrets reach secscan in two ways. detect-secrets reports only ``sha1(secret)``; the value is
recovered from the source line (:mod:`secscan.scanners.recover`) so that it can be *removed* from
everything else. bandit quotes hardcoded passwords in its messages (B105/B106/B107), which
:func:`redact_quoted` blanks. A :class:`Redactor` then replaces the known values, and every token
of a well-known format (:mod:`secscan.core.token_patterns`), by :data:`MARKER` in the texts
that leave the process.

**Where.** Only texts that may quote the scanned source are searched for known values
(:meth:`Redactor.text`): finding messages, notifications, failure reasons, log lines. Texts a
tool or secscan wrote itself (rule descriptions and help, tool names, secscan's templates) are
never rewritten for a word they share with a secret (:meth:`Redactor.rule_text`): a password
``secret`` must not turn ``detect-secrets`` into ``detect-[REDACTED]s``, which tells the reader
the value.

**How.** A known value inside a quoted span (between quotes or backticks on one line: how tools
quote code) takes the whole span with it, so the gap has no shape. A value made of letters only
(:func:`is_wordlike`: ``secret``, ``Password``) can be an ordinary word of the text around it:
outside quotes it is left alone, since replacing it would reveal it. Any other value (with a
digit, a symbol, mixed case: the shape of real credentials) is replaced wherever it occurs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from itertools import groupby

from secscan.core.model import Finding
from secscan.core.quotes import enclosing, is_wordlike, quoted_spans
from secscan.core.token_patterns import BUILTIN_HINTS, BUILTIN_PATTERNS, TokenPattern

MARKER = "[REDACTED]"
MIN_SECRET_LENGTH = 4
"""Known values shorter than this are ignored: redacting them would shred ordinary text."""

QUOTED_SECRET_RULES = frozenset({("bandit", "B105"), ("bandit", "B106"), ("bandit", "B107")})
"""Rules whose message ends with the hardcoded secret in quotes."""

_WORD_CHAR = re.compile(r"[\w-]")
_QUOTED_TAIL = re.compile(r"(?s)(:\s*)(['\"])(.*?)\2?(\s*)\Z")


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
    compiled alternation (longest value first) tried at every position, in one pass over a text
    however many values there are; the spans of all matches are merged and each merged span
    becomes one marker. Where a match takes its quoted span, or is left as a word, is the
    module's model (see its docstring). Texts seen before are answered from a memo: a run redacts
    the same messages several times (findings, then the SARIF log and the JSON document).
    """

    __slots__ = ("_checks", "_literals", "_memo", "_patterns", "_rule_memo", "_tokens", "_words")

    def __init__(self, secrets: Iterable[str] = (), patterns: Iterable[TokenPattern] = BUILTIN_PATTERNS):
        values = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        self._words = frozenset(v for v in values if is_wordlike(v))
        self._literals = _compile(values)
        self._tokens = _compile(values - self._words)
        self._patterns = tuple(patterns)
        builtin = patterns is BUILTIN_PATTERNS  # another sequence (even of the same patterns): no hints
        hints = BUILTIN_HINTS if builtin else (None,) * len(self._patterns)
        self._checks = tuple(zip(self._patterns, hints, strict=True))
        self._memo: dict[str, str] = {}
        self._rule_memo: dict[str, str] = {}

    def _pattern_spans(self, text: str) -> Iterator[tuple[int, int]]:
        for pattern, hint in self._checks:
            if hint is not None and not hint(text):
                continue  # the pattern cannot match
            has_group = "secret" in pattern.regex.groupindex
            for match in pattern.regex.finditer(text):
                yield match.span("secret") if has_group else match.span()

    def _quoting_spans(self, text: str) -> Iterator[tuple[int, int]]:
        """Spans to replace in a text that may quote the scanned source."""
        if self._literals is not None:
            quotes: list[tuple[int, int]] | None = None
            starts: list[int] = []
            for match in self._literals.finditer(text):
                start, end = match.span(1)
                if quotes is None:  # computed only for a text that holds a known value
                    quotes = quoted_spans(text)
                    starts = [q[0] for q in quotes]
                quoted = enclosing(quotes, starts, start, end)
                if quoted is not None:
                    yield quoted
                elif match.group(1) not in self._words:
                    yield start, end
        yield from self._pattern_spans(text)

    def _fixed_spans(self, text: str) -> Iterator[tuple[int, int]]:
        """Spans to replace in a text a tool or secscan wrote: token-like values and formats."""
        if self._tokens is not None:
            for match in self._tokens.finditer(text):
                yield match.span(1)
        yield from self._pattern_spans(text)

    def text(self, text: str) -> str:
        """``text``, which may quote the scanned source (a message, a notification, a reason, a
        log line), with its secrets replaced by :data:`MARKER` (see the module docstring)."""
        return _remembered(self._memo, text, lambda t: _replace(t, self._quoting_spans(t)))

    def rule_text(self, text: str) -> str:
        """``text``, written by a tool or by secscan (a rule's description or help), with only
        the known values that cannot be words and the well-known token formats replaced: an
        ordinary text is never altered by a word it shares with a secret."""
        return _remembered(self._rule_memo, text, lambda t: _replace(t, self._fixed_spans(t)))

    def argument(self, text: str) -> str:
        """``text`` inserted into a template (a log argument): as :meth:`text`, and the whole of
        it when a word-like known value stands in it as a word of its own."""
        if self._words and self._literals is not None:
            for match in self._literals.finditer(text):
                start, end = match.span(1)
                if match.group(1) in self._words and _whole_word(text, start, end):
                    return MARKER
        return self.text(text)

    def contains_secret(self, text: str) -> bool:
        """Whether ``text`` holds a known secret value (anywhere) or a well-known token."""
        if self._literals is not None and self._literals.search(text):
            return True
        return next(self._pattern_spans(text), None) is not None


def _compile(values: set[str]) -> re.Pattern[str] | None:
    return re.compile(f"(?=({_alternation(values)}))") if values else None


def _whole_word(text: str, start: int, end: int) -> bool:
    return (start == 0 or not _WORD_CHAR.match(text[start - 1])) and (
        end == len(text) or not _WORD_CHAR.match(text[end])
    )


def _remembered(memo: dict[str, str], text: str, redact: Callable[[str], str]) -> str:
    done = memo.get(text)
    if done is None:
        done = redact(text)
        if len(text) <= MEMO_TEXT_CHARS and len(memo) < MEMO_ENTRIES:
            memo[text] = done
    return done


def _replace(text: str, spans: Iterable[tuple[int, int]]) -> str:
    merged = _merge(spans)
    if not merged:
        return text
    pieces: list[str] = []
    position = 0
    for start, end in merged:
        pieces.append(text[position:start])
        pieces.append(MARKER)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


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


class _Raw:
    """A record as logged, before any :class:`SecretFilter` changed it, and the redactors applied."""

    __slots__ = ("args", "exc_text", "msg", "redactors", "stack_info")

    def __init__(self, record: logging.LogRecord) -> None:
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        self.msg, self.args = record.msg, record.args
        self.exc_text, self.stack_info = record.exc_text, record.stack_info
        self.redactors: list[Redactor] = []


class SecretFilter(logging.Filter):
    """A logging filter that redacts a :class:`Redactor`'s secrets from every record it sees.

    Each argument is redacted as what it is, a value inserted into a template
    (:meth:`Redactor.argument`); the message is then formatted, redacted as a whole
    (:meth:`Redactor.text`) and stored back without arguments. Exception and stack text are
    formatted and redacted too. Attach it to *handlers*: a filter on a logger does not see
    records propagated from child loggers.

    Several filters compose: a record keeps what it was as logged, and each filter formats it
    again from that with every redactor applied so far, so a filter that runs after another
    still sees the arguments as arguments (a word-like secret logged as one goes whole, whichever
    filter knows it and in whatever order the filters were added to the handlers).
    """

    def __init__(self, redactor: Redactor, name: str = "") -> None:
        super().__init__(name)
        self._redactor = redactor

    @property
    def redactor(self) -> Redactor:
        return self._redactor

    @staticmethod
    def _argument(value: object, redactors: list[Redactor]) -> object:
        if value is None or isinstance(value, int | float):
            return value
        text = value if isinstance(value, str) else str(value)
        cleaned = text
        for redactor in redactors:
            cleaned = redactor.argument(cleaned)
        return value if cleaned == text else cleaned

    def filter(self, record: logging.LogRecord) -> bool:
        raw = record.__dict__.get("secscan_raw")
        if not isinstance(raw, _Raw):
            raw = record.__dict__["secscan_raw"] = _Raw(record)
        if any(r is self._redactor for r in raw.redactors):
            return True
        redactors = raw.redactors
        redactors.append(self._redactor)
        record.msg, record.args = raw.msg, raw.args
        try:
            if isinstance(record.args, tuple):
                record.args = tuple(self._argument(a, redactors) for a in record.args)
            elif isinstance(record.args, Mapping):
                record.args = {k: self._argument(v, redactors) for k, v in record.args.items()}
            message = record.getMessage()
        except Exception:  # an argument or a format that fails: the record is still redacted
            message = f"{record.msg} (unformattable arguments: {record.args!r})"
        record.msg, record.args = _text(message, redactors), None
        if raw.exc_text:
            record.exc_text = _text(raw.exc_text, redactors)
        if raw.stack_info:
            record.stack_info = _text(raw.stack_info, redactors)
        return True


def _text(text: str, redactors: list[Redactor]) -> str:
    for redactor in redactors:
        text = redactor.text(text)
    return text
