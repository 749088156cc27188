"""``secscan upload`` and ``secscan github sync|status``: the handlers (options: secscan.cli.commands).

The handlers call :mod:`secscan.app.upload`, render the result and return the exit code;
errors propagate to ``cli.main``.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from secscan.app import upload as commands
from secscan.app.deliver import Undelivered
from secscan.cli.run import print_undelivered
from secscan.config.memo import load_settings_memo
from secscan.core.errors import ExitCode
from secscan.core.ports.uploads import UploadReceipt, UploadStatus

if TYPE_CHECKING:
    from rich.console import Console

_BAD = (UploadStatus.FAILED, UploadStatus.DEAD)


def _receipt_json(r: UploadReceipt) -> dict[str, Any]:
    return {
        "run_id": r.run_id, "target": r.target, "repository": r.repository, "category": r.category,
        "commit_sha": r.commit_sha, "ref": r.ref, "status": r.status.value, "results": r.results,
        "dropped_results": r.dropped_results, "dropped_locations": r.dropped_locations,
        "sarif_id": r.sarif_id, "analyses_url": r.analyses_url, "errors": list(r.errors),
        "updated_at": r.updated_at.isoformat() if r.updated_at else None,
    }  # fmt: skip


def _receipt_line(r: UploadReceipt) -> str:
    dropped = f", {r.dropped_results} dropped (limits)" if r.dropped_results else ""
    errors = f": {'; '.join(r.errors)}" if r.errors else ""
    return (
        f"{r.run_id}  {r.category:<28} {r.commit_sha[:12]} {r.ref}  {r.status.value:<8} "
        f"{r.results} results{dropped}{errors}"
    )


def _exit(receipts: tuple[UploadReceipt, ...]) -> int:
    return int(ExitCode.SCANNER_FAILED if any(r.status in _BAD for r in receipts) else ExitCode.OK)


def cmd_upload(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    settings = load_settings_memo(args.config)
    outcome = commands.upload(
        args.db, settings, run_id=args.run_id, sarif=args.sarif, wait_s=args.upload_wait
    )
    report = outcome.report
    pending = [Undelivered.of("uploads", item) for item in outcome.pending]
    if args.format == "json":
        document = {
            "queued": outcome.queued, "requeued": outcome.requeued, "delivered": report.delivered,
            "retrying": report.retried, "dead": len(report.dead), "pending": len(pending),
            "uploads": [_receipt_json(r) for r in outcome.receipts],
            "undelivered": [p.document() for p in pending],
        }  # fmt: skip
        stdout.out(json.dumps(document), highlight=False)
    else:
        stdout.print(
            f"{outcome.queued} queued, {outcome.requeued} requeued, {report.delivered} delivered, "
            f"{report.retried} retries, {len(report.dead)} dead, {len(pending)} still pending",
            markup=False, highlight=False,
        )  # fmt: skip
        for receipt in outcome.receipts:
            stdout.print(_receipt_line(receipt), markup=False, highlight=False)
    print_undelivered(pending, stderr)
    if report.dead or pending:
        return int(ExitCode.SCANNER_FAILED)
    return _exit(outcome.receipts)


def cmd_sync(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    settings = load_settings_memo(args.config)
    report = commands.sync(args.db, settings)
    if args.format == "json":
        stdout.out(json.dumps(report.__dict__ | {"errors": list(report.errors)}), highlight=False)
    else:
        stdout.print(
            f"{report.alerts} alerts, {report.matched} matched: {report.pulled} dismissals pulled, "
            f"{report.lifted} lifted, {report.pushed} pushed, {report.reopened} reopened on GitHub",
            markup=False, highlight=False,
        )  # fmt: skip
        for error in report.errors:
            stderr.print(error, markup=False, highlight=False)
    return int(ExitCode.SCANNER_FAILED) if report.errors else int(ExitCode.OK)


def cmd_status(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from secscan.fs.paths import existing_database

    existing_database(args.db)  # a status is read from a database that is there: none is created
    view = commands.status(args.db, args.run_id)
    dead = [{"key": i.key, "attempts": i.attempts, "error": i.last_error} for i in view.dead]
    if args.format == "json":
        document = {
            "uploads": [_receipt_json(r) for r in view.receipts],
            "dead_letters": dead,
            "outbox": {s.value: n for s, n in view.depth.items()},
        }
        stdout.out(json.dumps(document), highlight=False)
    else:
        depth = ", ".join(f"{n} {s.value}" for s, n in view.depth.items())
        stdout.print(f"uploads outbox: {depth}", markup=False, highlight=False)
        for receipt in view.receipts:
            stdout.print(_receipt_line(receipt), markup=False, highlight=False)
        for item in dead:
            stdout.print(f"dead letter {item['key']}: {item['error']}", markup=False, highlight=False)
    return _exit(view.receipts)
