"""The report's Jinja2 environment: autoescaping everywhere (rule ids, paths, messages and rule
names come from scanned repositories), strict undefined variables, and the report's filters."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from secscan import __version__
from secscan.core.redact import Redactor
from secscan.report.figures import human, short_text
from secscan.report.palette import OKABE_ITO, WORST_FIRST


def ts(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


@lru_cache(maxsize=1)
def env() -> Environment:
    """The environment over ``secscan/report/templates`` (built once per process)."""
    e = Environment(
        loader=PackageLoader("secscan.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    e.filters["human"] = human
    e.filters["redact"] = Redactor().text
    e.filters["short"] = short_text
    e.filters["ts"] = ts
    e.filters["day"] = lambda v: "" if v is None else v.strftime("%Y-%m-%d")
    e.globals["colours"] = {s.value: c for s, c in OKABE_ITO.items()}
    e.globals["severities"] = WORST_FIRST
    e.globals["version"] = __version__
    return e
