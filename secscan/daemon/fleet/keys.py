"""Round keys, target affinity and cron expressions in Procrastinate's form.

* A round is keyed by its scheduled time (``2026-12-07T02:00Z``; seconds only when not zero), or
  by any opaque string ``scan-now --round`` is given.
* A target always goes to the same queue of ``[fleet] queues``: rendezvous (highest random
  weight) hashing, so adding a queue moves only the targets the new queue wins, and a worker
  group keeps its node-local result cache warm.
* secscan's 6-field crons lead with seconds (APScheduler's reading); croniter, which Procrastinate
  uses, reads the sixth field as seconds: the field moves to the end.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime

_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def round_key(moment: datetime) -> str:
    """The key of the round scheduled at ``moment``: ISO UTC, to the minute (or second)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ" if utc.second else "%Y-%m-%dT%H:%MZ")


def check_key(key: str) -> str:
    """A round key as given on the command line: 1-200 printable ASCII characters, no spaces."""
    if not _KEY.match(key):
        raise ValueError(f"round key {key!r} must be 1-200 printable ASCII characters without spaces")
    return key


def key_time(key: str) -> datetime | None:
    """The scheduled time a key names, or None for an opaque key."""
    for layout in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ"):
        try:
            return datetime.strptime(key, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def queue_for(target: str, queues: Sequence[str]) -> str:
    """The queue of ``target`` among ``queues`` (rendezvous hashing; stable across processes)."""

    def weight(queue: str) -> bytes:
        return hashlib.blake2b(f"{queue}\0{target}".encode(), digest_size=8).digest()

    return max(queues, key=weight)


def procrastinate_cron(expr: str) -> str:
    """``expr`` as croniter reads it: a leading seconds field moves to the end."""
    fields = expr.split()
    if len(fields) == 6:
        fields = [*fields[1:], fields[0]]
    return " ".join(fields)
