"""``secscan fleet migrate|worker|scan-now|status``: the handlers (options: :mod:`.commands`)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from secscan.core.errors import ConfigError
from secscan.core.printable import printable
from secscan.fs.names import json_dumps

if TYPE_CHECKING:
    from rich.console import Console

    from secscan.config.settings import Settings
    from secscan.fs.urls import PostgresUrl


def _url(args: argparse.Namespace) -> PostgresUrl:
    """The fleet's database; every fleet command calls this before importing a fleet module, so a
    missing fleet extra is one line (exit 2), not an ImportError."""
    from secscan.fs.urls import is_postgres, postgres_url

    if not args.db or not is_postgres(args.db):
        raise ConfigError("secscan fleet needs --db postgresql://... (or SECSCAN_DB): the fleet's database")
    try:  # the fleet extra: what the fleet modules import
        import procrastinate  # noqa: F401
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"secscan fleet needs the fleet extra ({exc.name} is missing): "
                          "pip install 'secscan[fleet]'") from exc  # fmt: skip
    return postgres_url(args.db)


def _settings(args: argparse.Namespace) -> Settings:
    from secscan.config.memo import load_settings_memo
    from secscan.config.settings import Settings

    return load_settings_memo(args.config) if args.config is not None else Settings()


def cmd_migrate(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    url = _url(args)  # first: the fleet modules below need the fleet extra
    from secscan.daemon.fleet.schema import migrate

    done = migrate(url)
    stdout.out(f"{url.display}: secscan's schema at head; fleet: {done}", highlight=False)
    return 0


def cmd_worker(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    import logging

    if args.verbose == 0 and not args.quiet:  # a service logs what it does
        logging.getLogger().setLevel(logging.INFO)
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
    if args.config is None:
        raise ConfigError("secscan fleet worker needs --config with [[daemon.targets]]")
    if args.concurrency < 1:
        raise ConfigError("--concurrency must be 1 or more")
    _url(args)  # first: the fleet modules below need the fleet extra
    from secscan.daemon.fleet.worker import FleetWorker

    settings = _settings(args)
    unknown = [q for q in args.queue if q not in settings.fleet.queues]
    if unknown:
        raise ConfigError(
            f"--queue {unknown[0]!r} is not in [fleet] queues ({', '.join(settings.fleet.queues)})"
        )
    worker = FleetWorker(settings, args.db, concurrency=args.concurrency, queues=args.queue)
    return worker.serve()


def cmd_scan_now(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    if args.config is None:
        raise ConfigError("secscan fleet scan-now needs --config with [[daemon.targets]]")
    url = _url(args)  # first: the fleet modules below need the fleet extra
    import psycopg

    from secscan.core.errors import StoreError
    from secscan.daemon.fleet.enqueue import defer_app, enqueue_round
    from secscan.daemon.fleet.keys import check_key, key_time, round_key
    from secscan.daemon.fleet.schema import migrate

    settings = _settings(args)
    now = datetime.now(UTC)
    try:
        key = check_key(args.round_key) if args.round_key else round_key(now.replace(second=0, microsecond=0))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    migrate(url)
    try:
        with psycopg.connect(url.conninfo) as conn, defer_app(url.conninfo) as app:
            result = enqueue_round(conn, app, settings, key, key_time(key) or now, "scan-now", args.targets)
    except psycopg.Error as exc:
        raise StoreError(f"cannot enqueue round {key} in {url.display}: {exc}".splitlines()[0]) from exc
    if args.format == "json":
        stdout.out(json_dumps(result.document()), highlight=False)
    else:
        stdout.out(
            printable(f"round {key}: {len(result.enqueued)} target(s) enqueued, "
                      f"{len(result.already)} already in this round"),
            highlight=False,
        )  # fmt: skip
    return 0


def cmd_status(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    url = _url(args)  # first: the fleet modules below need the fleet extra
    from secscan.daemon.fleet.status import fleet_status

    settings = _settings(args)
    status = fleet_status(url, datetime.now(UTC), settings.fleet.stalled_after)
    if args.format == "json":
        stdout.out(json_dumps(status.document()), highlight=False)
        return 0
    doc = status.document()
    lines = ["jobs per target (queued, running, failed, stalled):"]
    lines += [
        f"  {t:<24} {c['queued']:>4} {c['running']:>4} {c['failed']:>4} {c['stalled']:>4}"
        for t, c in doc["jobs"].items()
    ] or ["  (none)"]
    last = doc["last_round"]
    if last is None:
        lines.append("last round: (none)")
    else:
        states = ", ".join(f"{k} {v}" for k, v in sorted(last["states"].items()))
        done = f" done at {last['finished_at']}" if last["done"] else ""
        lines.append(f"last round: {last['round']} ({states}){done}")
    lines.append("workers:")
    lines += [
        f"  {w['id']:>6}  last heartbeat {w['last_heartbeat']}{'  STALLED' if w['stalled'] else ''}"
        for w in doc["workers"]
    ] or ["  (none)"]
    for line in lines:
        stdout.out(printable(line), highlight=False)
    return 0
