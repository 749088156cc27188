"""The ``secscan upload`` subcommands: argument parsing only, over testable functions."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any], common: argparse.ArgumentParser) -> None:
    """Add the subcommands to ``sub``; ``common`` holds the options of every command."""
