"""Where the store lives by default: the XDG state directory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def default_db_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/secscan/secscan.db``, else ``~/.local/state/secscan/secscan.db``.

    A relative ``XDG_STATE_HOME`` is ignored, as the XDG base directory spec requires.
    """
    env = os.environ if env is None else env
    state = env.get("XDG_STATE_HOME", "")
    base = Path(state) if state and Path(state).is_absolute() else Path.home() / ".local" / "state"
    return base / "secscan" / "secscan.db"
