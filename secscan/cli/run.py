"""``secscan run``: the handler (its options: :mod:`secscan.cli.parser`), over :func:`secscan.app.run.run`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from secscan.app import run as app
from secscan.app.cancel import sigterm_interrupts
from secscan.app.delivery_wait import DeliveryWait
from secscan.cli import console
from secscan.cli.parser import UsageError
from secscan.config.memo import load_settings_memo
from secscan.fs.names import json_dumps

if TYPE_CHECKING:
    from secscan.app.deliver import Undelivered


def print_undelivered(undelivered: Sequence[Undelivered], stderr: Console) -> None:
    """One line per upload or alert that did not go out (issue 13)."""
    for item in undelivered:
        stderr.print(f"secscan: not delivered: {item.line()}", markup=False, highlight=False, soft_wrap=True)


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
    with console.progress(stderr) as hooks, sigterm_interrupts():  # SIGTERM: scanners killed, run interrupted
        result = app.run(request, hooks)
    if fmt == "json":
        stdout.out(json_dumps(result.document), highlight=False)
    elif fmt == "sarif":
        stdout.out(json_dumps(result.sarif, separators=(",", ":")), highlight=False)
    elif not args.quiet:
        console.summary(result.run, result.sarif_path, stdout)
    if result.gate is not None:
        stderr.print(f"secscan: {result.gate.line()}", markup=False, highlight=False, soft_wrap=True)
    print_undelivered(result.undelivered, Console(stderr=True) if args.quiet else stderr)  # even -q: exit 3
    return int(result.exit_code)
