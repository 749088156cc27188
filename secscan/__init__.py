"""secscan: run security scanners unattended and keep one trustworthy record of their findings."""

from __future__ import annotations

__version__ = "0.1.0"

from secscan import _codecache  # before any of secscan's dataclasses is created

_codecache.install()
