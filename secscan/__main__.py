"""``python -m secscan``."""

from __future__ import annotations

import sys

from secscan.cli.main import main

sys.exit(main())
