"""``secscan run``: the handler (its options: :mod:`secscan.cli.parser`), over :func:`secscan.app.run.run`."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secscan.app import run as app
from secscan.app.cancel import sigterm_interrupts
from secscan.app.delivery_wait import DeliveryWait
from secscan.cli import plain
from secscan.cli.parser import UsageError
from secscan.config.memo import load_settings_memo
from secscan.fs.names import json_dumps

if TYPE_CHECKING:
    from rich.console import Console

    from secscan.app.deliver import Undelivered
    from secscan.app.pipeline import ScanHooks
    from secscan.core.model import ScannerResult


def print_undelivered(undelivered: Sequence[Undelivered], stderr: Console) -> None:
    """One line per upload or alert that did not go out (issue 13)."""
    for item in undelivered:
        plain.write_line(f"secscan: not delivered: {item.line()}", lambda: stderr, stderr=True)


def _console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


@contextlib.contextmanager
def _progress(stderr: Console, *, quiet: bool) -> Iterator[ScanHooks]:
    """Progress on stderr: :func:`secscan.cli.console.progress`, or its plain lines without rich."""
    if plain.no_terminal(sys.stderr):
        from secscan.app.pipeline import ScanHooks

        def done(result: ScannerResult) -> None:
            plain.write_line(plain.done_line(result), lambda: stderr, stderr=True, quiet=quiet)

        yield ScanHooks(on_done=done)
        return
    from secscan.cli import console

    with console.progress(stderr) as hooks:
        yield hooks


def cmd_run(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    to_stdout = args.sarif is not None and str(args.sarif) == "-"
    fmt = args.format or ("sarif" if to_stdout else "table")
    if to_stdout and fmt != "sarif":
        raise UsageError(f"-o - writes the SARIF log to stdout, where --format {fmt} goes too; drop one")
    if args.baseline_target and not args.new_only:
        raise UsageError("--baseline-target is the baseline of --fail-on-new; add --fail-on-new")
    sarif_path: Path | None = args.sarif or (None if fmt == "sarif" else app.DEFAULT_SARIF)
    overrides: list[tuple[str, Any]] = []
    if args.fail_on:
        overrides.append(("scan.fail_on", args.fail_on))
    target = args.path
    settings = load_settings_memo(args.config, target if target.is_dir() else None, overrides)
    request = app.RunRequest(
        target=target,
        settings=settings,
        sarif_path=None if to_stdout else sarif_path,
        only=tuple(args.scanner),
        osv_db=args.osv_db,
        db=args.db,
        target_name=args.target_name,
        upload=args.upload,
        notify=not args.no_notify,
        use_cache=not args.no_cache,
        delivery_wait=DeliveryWait(args.upload_wait),
        new_only=args.new_only,
        baseline_target=args.baseline_target,
    )
    with (
        _progress(stderr, quiet=args.quiet) as hooks,
        sigterm_interrupts(),
    ):  # SIGTERM: scanners killed, run interrupted
        result = app.run(request, hooks)
    if fmt == "json":
        plain.write_out(json_dumps(result.document), lambda: stdout)
    elif fmt == "sarif":
        plain.write_out(json_dumps(result.sarif, separators=(",", ":")), lambda: stdout)
    elif not args.quiet:
        from secscan.cli import console

        console.summary(result.run, result.sarif_path, stdout)
    if result.gate is not None:
        plain.write_line(f"secscan: {result.gate.line()}", lambda: stderr, stderr=True, quiet=args.quiet)
    if result.undelivered:  # even with -q: they make the exit code 3
        print_undelivered(result.undelivered, _console() if args.quiet else stderr)
    return int(result.exit_code)
