"""``python -m secscan``."""

from __future__ import annotations

import sys

from secscan.cli import main

sys.exit(main())
