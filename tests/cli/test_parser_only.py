"""``build_parser(only)`` builds only the command being run; everything it can show is the full
parser's: the command's help and usage errors, its nested commands, an unknown command's error."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from secscan.cli import commands
from secscan.cli.parser import UsageError, build_parser, command_word


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def _walk(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, child in _subcommands(parser).items():
        found.append((*words, name))
        found += _walk(child, (*words, name))
    return found


FULL = build_parser()
EVERY = _walk(FULL)


def _help(parser: argparse.ArgumentParser, words: tuple[str, ...]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        parser.parse_args([*words, "--help"])
    return out.getvalue()


def _error(parser: argparse.ArgumentParser, words: list[str]) -> str:
    with pytest.raises(UsageError) as raised:
        parser.parse_args(words)
    return str(raised.value)


def test_the_groups_name_every_command_in_order() -> None:
    listed = ["run", *(name for _, names in commands.GROUPS for name in names)]
    assert list(_subcommands(FULL)) == listed
    assert list(_subcommands(build_parser("run"))) == listed
    assert list(_subcommands(build_parser("no-such-command"))) == listed


@pytest.mark.parametrize("words", EVERY, ids=" ".join)
def test_a_commands_own_parser_is_the_full_ones(words: tuple[str, ...]) -> None:
    only = build_parser(words[0])
    assert _help(only, words) == _help(FULL, words)
    assert _error(only, [*words, "--no-such-option"]) == _error(FULL, [*words, "--no-such-option"])


ERRORS = [
    ["no-such-command"],
    ["run"],
    ["findings", "--severity", "bad"],
    ["alerts", "bogus"],
    ["-v", "run"],
    ["-"],
]


@pytest.mark.parametrize("argv", ERRORS)
def test_usage_errors_are_the_full_parsers(argv: list[str]) -> None:
    assert _error(build_parser(command_word(argv)), argv) == _error(FULL, argv)


def test_the_other_commands_are_not_built() -> None:
    subcommands = _subcommands(build_parser("run"))
    assert subcommands["run"]._actions
    assert all(not subcommands[name]._actions for name in subcommands if name != "run")
