"""The CLI loads only the module of the command being run; the command table stays complete."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from secscan import cli


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
        "import sys; from secscan import cli; cli._parser('run');"
        "print(sorted(m for m in sys.modules if m.startswith(('secscan.cli_', 'secscan.report.api', "
        "'secscan.report.charts', 'secscan.daemon.service', 'apscheduler', 'matplotlib', 'jinja2'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_an_unknown_command_is_a_usage_error_listing_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bogus"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'bogus'" in err and "'report'" in err and "'daemon'" in err
