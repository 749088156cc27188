"""A hostile setup.py: running it proves that the scan executed target code."""

from pathlib import Path

Path(__file__).with_name("SETUP_PY_WAS_EXECUTED").write_text("setup.py ran\n")
raise SystemExit("setup.py must never be executed by secscan")
