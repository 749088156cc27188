"""End to end: secrets that are ordinary words leave no trace, not even the shape of a gap.

A weak password such as ``password`` or ``secret`` is also a word of the rule texts, and a
redaction that cut it out of them ("detect-[REDACTED]s", "Change the [REDACTED] embedded in the
URL") told the reader the value. Known values are redacted only from the spans quoted from the
scanned source, whole, and never from a tool's or secscan's own texts.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from secscan.scanners.detect_secrets import _rule as detect_secrets_rule
from tests.e2e.test_run_cli import secscan

pytestmark = pytest.mark.e2e

SOURCE = '''"""Settings with weak passwords that are ordinary words."""

password = "sunflower"
api_secret = "secret"
DATABASE_URL = "postgres://admin:marmalade@db.internal/app"
db_password = "password"
'''
CANARIES = ("sunflower", "marmalade")  # words no rule text holds: they must appear nowhere
GAP = re.compile(r"[\w-]\[REDACTED\]|\[REDACTED\][\w]")  # a marker glued to part of a word


@pytest.fixture(scope="module")
def word_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("words")
    repo = out / "repo"
    repo.mkdir()
    (repo / "settings.py").write_text(SOURCE)
    sarif = out / "words.sarif"
    cold = secscan("run", repo, "--format", "json", "--sarif", sarif, "--fail-on", "none", "-vv", cwd=out)
    assert cold.returncode == 0, cold.stderr
    warm = secscan("run", repo, "--sarif", out / "warm.sarif", "--fail-on", "none", "-v", cwd=out)
    assert warm.returncode == 0, warm.stderr
    state = out / ".state" / "secscan"
    return {
        "doc": json.loads(cold.stdout),
        "outputs": {
            "sarif": sarif.read_text(),
            "json": cold.stdout,
            "log -vv": cold.stderr,
            "warm sarif": (out / "warm.sarif").read_text(),
            "table": warm.stdout + warm.stderr,
            "database": (state / "secscan.db").read_bytes().decode("utf-8", "replace"),
            "cache": (state / "secscan-cache.db").read_bytes().decode("utf-8", "replace"),
        },
        "sarif": json.loads(sarif.read_text()),
    }


def test_a_word_secret_appears_nowhere(word_run: dict[str, Any]) -> None:
    for name, text in word_run["outputs"].items():
        for canary in CANARIES:
            assert canary not in text, f"{canary} reached the {name}"
    rules = {(f["tool"], f["rule"]) for f in word_run["doc"]["findings"]}
    assert {("bandit", "B105"), ("detect-secrets", "Secret Keyword")} <= rules
    assert ("detect-secrets", "Basic Auth Credentials") in rules


def test_no_redaction_has_the_shape_of_a_word(word_run: dict[str, Any]) -> None:
    for name, text in word_run["outputs"].items():
        gaps = GAP.findall(text)
        assert not gaps, f"the {name} has markers glued to words: {gaps[:5]}"


def test_no_rule_text_is_altered(word_run: dict[str, Any]) -> None:
    runs = {r["tool"]["driver"]["name"]: r for r in word_run["sarif"]["runs"]}
    for rule in runs["detect-secrets"]["tool"]["driver"]["rules"]:
        expected = detect_secrets_rule(rule["id"])
        assert rule["shortDescription"]["text"] == expected.short_description
        assert rule["fullDescription"]["text"] == expected.full_description
        assert rule["help"]["text"] == expected.help_text
    [b105] = [r for r in runs["bandit"]["tool"]["driver"]["rules"] if r["id"] == "B105"]
    assert b105["shortDescription"]["text"] == "Hardcoded password string"
    assert b105["fullDescription"]["text"] == "Possible hardcoded password: '[REDACTED]'"
    help_start = "bandit B105 (hardcoded_password_string): Possible hardcoded password: '[REDACTED]'"
    assert b105["help"]["text"].startswith(help_start)
    messages = {r["message"]["text"] for r in runs["bandit"]["results"]}
    assert messages == {"Possible hardcoded password: '[REDACTED]'"}
