"""The CLI loads only the module of the command being run; the command table stays complete."""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secscan.cli import main as cli
from secscan.core.ports.outbox import OutboxStatus
from secscan.store import open_store


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_the_command_table_names_every_command_of_every_module() -> None:
    everything = _commands(cli._parser())
    assert everything == {"run", *cli.COMMAND_MODULES}


@pytest.mark.parametrize("command", sorted({"run", *cli.COMMAND_MODULES}))
def test_each_command_parses_with_only_its_own_module_loaded(command: str) -> None:
    parser = cli._parser(command)
    assert command in _commands(parser)
    own = cli.COMMAND_MODULES.get(command)
    assert _commands(parser) <= {"run", *(c for c, m in cli.COMMAND_MODULES.items() if m == own)}


def test_secscan_run_does_not_import_the_other_commands_modules() -> None:
    code = (
        "import sys; from secscan.cli import main as cli; cli._parser('run');"
        "print(sorted(m for m in sys.modules if m.startswith(('secscan.cli.lifecycle', 'secscan.cli.daemon', 'secscan.cli.upload', 'secscan.cli.alerts', 'secscan.cli.cache', 'secscan.cli.report', 'secscan.report.api', "
        "'secscan.report.charts', 'secscan.daemon.service', 'apscheduler', 'matplotlib', 'jinja2'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_an_unknown_command_is_a_usage_error_listing_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bogus"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'bogus'" in err and "'report'" in err and "'daemon'" in err


# -- options before a sub-command (issue 13) ------------------------------------------------------


def _sub_action(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:  # type: ignore[type-arg]
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _groups() -> list[tuple[list[str], argparse.ArgumentParser]]:
    """Every parser that has sub-commands of its own below ``secscan`` (alerts, notify, cache,
    github), with the words that select it."""
    found = []
    top = _sub_action(cli._parser())
    assert top is not None
    for name, parser in top.choices.items():
        if _sub_action(parser) is not None:
            found.append(([name], parser))
    return found


def _value(action: argparse.Action) -> list[str]:
    """Command-line words that give ``action`` a value other than its default."""
    if action.nargs == 0:
        return []
    if action.choices:
        return [next(str(c) for c in action.choices if c != action.default)]
    return ["7"]


def test_every_command_group_uses_or_refuses_options_given_before_its_sub_command() -> None:
    """``secscan alerts --db X retry 1`` acted on the default database: argparse reset an option
    given before a sub-command to the sub-command's default. Now each such option is either used
    or refused with exit 2, for every group and sub-command."""
    checked = 0
    for words, group in _groups():
        sub = _sub_action(group)
        assert sub is not None
        for name, command in sub.choices.items():
            tail = [name] + ["7" for a in command._actions if not a.option_strings and a.required]
            for option in group._actions:
                if not option.option_strings or option.dest == "help":
                    continue
                argv = [*words, option.option_strings[-1], *_value(option), *tail]
                try:
                    args = cli._parser(words[0]).parse_args(argv)
                except cli.UsageError as exc:
                    assert option.option_strings[-1] in str(exc) and command.prog in str(exc), exc
                else:
                    given = cli._parser(words[0]).parse_args([*words, name, *tail[1:]])
                    assert getattr(args, option.dest) != getattr(given, option.dest), argv
                checked += 1
    assert checked >= 10


def test_alerts_db_before_retry_acts_on_that_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    db = tmp_path / "given.db"
    now = datetime.now(UTC)
    with open_store(db) as store:
        box = store.outbox("alerts")
        box.enqueue("pager", "pager|trigger|1|k", {"summary": "s"}, now)
        (item,) = box.items()
        box.dead(item.id, now, "HTTP 400: bad")
    assert cli.main(["alerts", "--db", str(db), "retry", str(item.id)]) == 0, capsys.readouterr().err
    with open_store(db) as store:
        assert store.outbox("alerts").items(OutboxStatus.PENDING)
    assert not (tmp_path / "xdg").exists()  # the default database was never opened, nor created
    assert cli.main(["alerts", "--dead", "retry", str(item.id), "--db", str(db)]) == 2
    assert "argument --dead: belongs to 'secscan alerts', not to 'secscan alerts retry'" in capsys.readouterr().err
