"""The well-known secret formats :class:`~secscan.core.redact.Redactor` replaces wherever they
appear (AWS, GitHub, GitLab, Slack, Stripe, PyPI, npm and Google keys, JWTs, URL credentials: the
user info's password or a ``password`` query parameter, PEM private keys), each with a cheap test
that lets most texts skip its regex.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


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
    # (The password "***" is secscan's own mask, as in postgresql://alice:***@host: left as it is.)
    _p("url-credentials", r"\b[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s:@/{}\[\]'\"]*:(?P<secret>(?!\*\*\*@)[^\s@/{}\[\]'\"]+)@"),
    # A password passed as a URL's query parameter (libpq: postgresql://u@h/db?password=...).
    _p("url-query-password", r"(?i)[?&](?:ssl)?(?:password|passwd|pwd)=(?P<secret>[^\s&#'\"]+)"),
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

def _has(*literals: str) -> Callable[[str], bool]:
    return lambda text: any(literal in text for literal in literals)


_AWS = re.compile(r"(?i)aws")
_GITHUB = re.compile(r"gh[pousr]_|github_pat_")
_QUERY_PASSWORD = re.compile(r"(?i)[?&](?:ssl)?(?:password|passwd|pwd)=")
BUILTIN_HINTS: tuple[Callable[[str], bool], ...] = (
    _has("A3T", "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA"),
    lambda text: _AWS.search(text) is not None,  # the pattern's own case folding (U+017F is "s")
    lambda text: _GITHUB.search(text) is not None,
    _has("glpat-"),
    _has("xox"),
    _has("https://hooks.slack.com/"),
    _has("_live_"),
    _has("pypi-AgE"),
    _has("npm_"),
    _has("AIza"),
    _has("eyJ"),
    lambda text: "://" in text and "@" in text,
    lambda text: "=" in text and _QUERY_PASSWORD.search(text) is not None,
    _has("-----BEGIN"),
)
"""Per pattern of :data:`BUILTIN_PATTERNS`, in order, a test that every text the pattern matches
passes (the literals any match contains, with the pattern's flags): most texts pass none, and a
few substring tests spare them the pattern searches (a rule's help with a link passes only ``://``)."""
