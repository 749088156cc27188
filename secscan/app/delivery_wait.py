"""How long a one-shot command waits for its deliveries (issue 13), apart from the delivery code.

Every ``secscan run`` is given a :class:`DeliveryWait`, but most runs deliver nothing (no
``--upload``, no alert channel): keeping this small value apart lets such a run leave
:mod:`secscan.app.deliver` and the outbox loop unloaded (issue 18).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

DEFAULT_WAIT_S = 120.0
MAX_WAIT_S = 86_400.0


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DeliveryWait:
    """How long a one-shot command waits for its deliveries; ``clock`` and ``sleep`` are
    injectable so that tests never wait in wall time."""

    seconds: float = DEFAULT_WAIT_S
    clock: Callable[[], datetime] = field(default=utcnow)
    sleep: Callable[[float], None] = field(default=time.sleep)
