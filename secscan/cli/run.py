"""``secscan run``: the handler (its options: :mod:`secscan.cli.parser`), over :func:`secscan.app.run.run`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from secscan.app import deliver as run_delivery
from secscan.app import run as app
from secscan.app.cancel import sigterm_interrupts
from secscan.cli import console
from secscan.config.settings import load_settings
from secscan.fs.names import json_dumps


def print_undelivered(undelivered: Sequence[run_delivery.Undelivered], stderr: Console) -> None:
    """One line per upload or alert that did not go out (issue 13)."""
    for item in undelivered:
        stderr.print(f"secscan: not delivered: {item.line()}", markup=False, highlight=False, soft_wrap=True)


def cmd_run(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    overrides: list[tuple[str, Any]] = []
    if args.fail_on:
        overrides.append(("scan.fail_on", args.fail_on))
    target = args.path
    settings = load_settings(args.config, target if target.is_dir() else None, overrides)
    request = app.RunRequest(
        target=target,
        settings=settings,
        sarif_path=app.DEFAULT_SARIF if args.sarif is None else args.sarif,
        only=tuple(args.scanner),
        osv_db=args.osv_db,
        db=args.db,
        target_name=args.target_name,
        upload=args.upload,
        notify=not args.no_notify,
        use_cache=not args.no_cache,
        delivery_wait=run_delivery.DeliveryWait(args.upload_wait),
    )
    with console.progress(stderr) as hooks, sigterm_interrupts():  # SIGTERM: scanners killed, run interrupted
        result = app.run(request, hooks)
    if args.format == "json":
        stdout.out(json_dumps(result.document), highlight=False)
    else:
        console.summary(result.run, result.sarif_path, stdout)
    print_undelivered(result.undelivered, stderr)
    return int(result.exit_code)
