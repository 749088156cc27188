"""The Sink seam: deliver one scan's SARIF log somewhere."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from secscan.core.model import ScanRun


@dataclass(frozen=True)
class Delivery:
    """Where a sink put the log (a path, an upload receipt)."""

    sink: str
    location: str


class Sink(ABC):
    name: str

    @abstractmethod
    def deliver(self, run: ScanRun, sarif: Mapping[str, Any]) -> Delivery:
        """Deliver the log; raises SinkError on failure."""
