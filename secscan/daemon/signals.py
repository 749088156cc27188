"""The daemon's signal handlers, for the whole of ``serve()``: the previous ones are put back after.

SIGTERM and SIGINT ask the daemon to stop, SIGHUP to reload its configuration; SIGUSR1 writes
every thread's stack to stderr (file, line and function names only, no values), to see where a
daemon that does not stop is waiting. They are installed before anything else starts, so that
a signal during start-up (recovery, the health endpoint coming up) stops the daemon cleanly
instead of killing it with the default action.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import signal
from collections.abc import Callable, Iterator
from types import FrameType

log = logging.getLogger(__name__)


@contextlib.contextmanager
def handled(stop: Callable[[], None], reload: Callable[[], None]) -> Iterator[None]:
    """Within the block, SIGTERM/SIGINT call ``stop``, SIGHUP ``reload`` (main thread only)."""

    def on_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        stop()

    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, on_stop),
        signal.SIGINT: signal.signal(signal.SIGINT, on_stop),
        signal.SIGHUP: signal.signal(signal.SIGHUP, lambda _s, _f: reload()),
    }
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        yield
    finally:
        faulthandler.unregister(signal.SIGUSR1)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
