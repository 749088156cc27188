"""The command line is described without loading any command; each command loads only its own
module when it runs; ``--version`` and ``--help`` import nothing heavy (issue 18)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secscan.app import delivery_wait
from secscan.cli import commands, parser
from secscan.cli import main as cli
from secscan.core.model import Severity
from secscan.core.ports.outbox import OutboxStatus
from secscan.core.records import TriageStatus
from secscan.daemon.logfmt import LOG_FORMATS
from secscan.store import open_store

HEAVY = (
    "pydantic", "rich", "sqlite3", "sqlalchemy", "alembic", "sarif_om", "yaml", "jinja2", "urllib3",
    "apscheduler", "packaging", "procrastinate", "psycopg", "secscan.app", "secscan.config", "secscan.store",
    "secscan.scanners", "secscan.report", "secscan.daemon", "secscan.delivery", "secscan.core.model",
)  # fmt: skip
"""What ``--help`` must not load: third-party libraries, the application, the store, the scanners."""

COMMAND_MODULES = (
    "run", "lifecycle", "daemon", "fleet", "upload", "alerts", "cache", "report", "console", "completion",
    "db", "lifecycle_console",
)  # fmt: skip
HANDLER_MODULES = {f"secscan.cli.{m}" for m in COMMAND_MODULES}


def _commands(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _handlers(p: argparse.ArgumentParser) -> list[parser.Lazy]:
    """Every handler of ``p`` and its sub-commands, at any depth."""
    found = [p.get_default("handler")] if p.get_default("handler") else []
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for child in a.choices.values():
                found += _handlers(child)
    return found


def _loaded_after(argv: list[str]) -> tuple[str, list[str]]:
    """What ``secscan ARGV`` prints, and which modules it had loaded by the time it exited."""
    code = (
        "import json, sys\n"
        "from secscan.cli.main import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    return done.stdout, json.loads(done.stderr.splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [["--version"], ["--help"], *([name, "--help"] for name in ("run", "findings", "status", "alerts"))],
)
def test_version_and_help_load_nothing_heavy(argv: list[str]) -> None:
    out, loaded = _loaded_after(argv)
    assert out.startswith("secscan 0.") if argv == ["--version"] else "usage: secscan" in out
    heavy = [m for m in loaded if m.startswith(HEAVY) or m in HANDLER_MODULES]
    assert heavy == []


def test_every_command_parses_without_loading_any_command_module() -> None:
    code = (
        "import sys; from secscan.cli.parser import build_parser; "
        "build_parser().parse_args(['findings', '--target', 'app', '--severity', 'high']); "
        "print(sorted(m for m in sys.modules if m.startswith('secscan.cli.') and m not in "
        "('secscan.cli.parser', 'secscan.cli.commands', 'secscan.cli.commands_service', 'secscan.cli.args', "
        "'secscan.cli.main')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_handler_names_a_function_of_its_module() -> None:
    handlers = _handlers(parser.build_parser())
    assert len(handlers) == 26  # run, 6 lifecycle, daemon, status, 4 fleet, 3 upload, 4 alerts, 2 cache,
    # report, completion, 2 db
    for handler in handlers:
        assert isinstance(handler, parser.Lazy)
        assert handler.module in HANDLER_MODULES
        module = __import__(handler.module, fromlist=[handler.function])
        assert callable(getattr(module, handler.function)), handler


def test_choices_and_defaults_written_in_the_parser_agree_with_their_sources() -> None:
    assert tuple(s.value for s in Severity) == commands.SEVERITIES
    assert tuple(s.value for s in TriageStatus) == commands.TRIAGE_STATUSES
    assert commands.LOG_FORMATS == LOG_FORMATS
    assert (parser.DEFAULT_WAIT_S, parser.MAX_WAIT_S) == (delivery_wait.DEFAULT_WAIT_S, delivery_wait.MAX_WAIT_S)


def test_the_version_fast_path_prints_what_argparse_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    fast = capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        parser.build_parser().parse_args(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == fast == f"secscan {__import__('secscan').__version__}\n"


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
    top = _sub_action(parser.build_parser())
    assert top is not None
    for name, group in top.choices.items():
        if _sub_action(group) is not None:
            found.append(([name], group))
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
                    args = parser.build_parser().parse_args(argv)
                except parser.UsageError as exc:
                    assert option.option_strings[-1] in str(exc) and command.prog in str(exc), exc
                else:
                    given = parser.build_parser().parse_args([*words, name, *tail[1:]])
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
    assert (
        "argument --dead: belongs to 'secscan alerts', not to 'secscan alerts retry'"
        in capsys.readouterr().err
    )
