"""Alert texts, built from finding metadata only and run through the redactor. Pure.

A message never quotes a scanner's message or a code snippet: it names the severity, tool, rule,
path, line and finding id. The parts of a text that come from outside secscan (target, tool,
rule, path, a failure reason or due time) are each passed through
:class:`secscan.core.redact.Redactor` before the text is assembled: a path or a target name could
look like a token. :class:`PartCleaner` does that once per distinct value and many values at a
time, so that paging 100k findings separately costs one redaction pass over their distinct paths
instead of one per alert text. The template words, severities, states, line numbers and the
finding id (a hex digest secscan computed) between the parts cannot hold a secret. Texts that
are not built from parts (summaries of notices, fallback notices) go through :func:`clean`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import attrgetter

from secscan.core.ports.alerts import AlertIncident
from secscan.core.printable import printable
from secscan.core.redact import Redactor
from secscan.delivery.notify.interface import Action, Alert, Event, EventKind, dedup_key

MAX_SUMMARY = 1024  # PagerDuty's limit on payload.summary
MAX_DETAIL = 500
BATCH = 256  # distinct values checked for secrets in one regex pass
_REDACTOR = Redactor()

_LABELS = {
    EventKind.FINDING: "finding",
    EventKind.SLA_BREACHED: "SLA breached",
    EventKind.SLA_DUE_SOON: "SLA due soon",
    EventKind.SCANNER_FAILED: "scanner failed",
    EventKind.MISSED_RUN: "missed run",
    EventKind.TARGET_FAILED: "target failed",
    EventKind.UPLOAD_FAILED: "upload failed",
    EventKind.DIGEST: "digest",
    EventKind.DELIVERY_FAILED: "delivery failed",
    EventKind.TEST: "test",
}


def _fit(text: str, limit: int) -> str:
    """Single-line, at most ``limit`` characters (applied after redaction: a token cut in half
    would no longer be recognised)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean(text: str, limit: int = MAX_SUMMARY) -> str:
    """Redacted, single-line, at most ``limit`` characters."""
    return _fit(_REDACTOR.text(text), limit)


class PartCleaner:
    """Redacts the variable parts of alert texts, once per distinct value.

    :meth:`prepare` checks many values in one regex pass over their ``\\n``-joined text and
    redacts them one by one only in a batch where a pattern matched. This gives the same result
    as redacting each value alone: every built-in pattern treats a line break like the start or
    end of the text (no ``^``/``$`` anchors; its look-arounds exclude ``\\n``), so a match inside
    one value is also a match inside the joined batch (``test_notify_messages.py`` checks it).
    """

    def __init__(self, redactor: Redactor = _REDACTOR) -> None:
        self._redactor = redactor
        self._done: dict[str, str] = {}

    def prepare(self, values: Iterable[str | None]) -> None:
        todo = [v for v in dict.fromkeys(values) if v and v not in self._done]
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            if self._redactor.contains_secret("\n".join(batch)):
                self._done.update((v, printable(self._redactor.text(v))) for v in batch)
            else:
                self._done.update((v, printable(v)) for v in batch)

    def __call__(self, value: str | None) -> str:
        """``value`` redacted, its control characters (and a name's undecodable bytes) escaped."""
        if not value:
            return ""
        done = self._done.get(value)
        if done is None:
            done = self._done[value] = printable(self._redactor.text(value))
        return done

    def event_parts(self, events: Sequence[Event]) -> None:
        """:meth:`prepare` the parts of ``events``."""
        values: set[str | None] = set()
        for name in ("target", "tool", "rule", "path", "detail"):
            values.update(map(attrgetter(name), events))
        self.prepare(values)


def _where(e: Event, part: PartCleaner | None = None) -> str:
    path = part(e.path) if part else str(e.path)
    return f"{path}:{e.line}" if e.line else path


def _finding_text(e: Event, part: PartCleaner) -> str:
    sev = e.severity.value if e.severity else ""
    where = _where(e, part)
    return f"{sev} {part(e.tool)} {part(e.rule)} at {where} (finding {(e.fingerprint or '')[:16]})"


def event_summary(e: Event, part: PartCleaner | None = None) -> str:
    """One line saying what happened, from redacted parts (``part``: a shared cleaner)."""
    part = part or PartCleaner()
    target, detail = part(e.target), part(e.detail)
    if e.kind is EventKind.FINDING:
        text = f"{e.state or 'open'} {_finding_text(e, part)} in {target}"
    elif e.kind in (EventKind.SLA_BREACHED, EventKind.SLA_DUE_SOON):
        text = f"{_LABELS[e.kind]} in {target}: {_finding_text(e, part)}"
        text += f", due {detail}" if detail else ""
    elif e.kind is EventKind.SCANNER_FAILED:
        text = f"scanner {part(e.tool)} failed on {target}" + (f": {detail}" if detail else "")
    elif e.kind is EventKind.MISSED_RUN:
        text = f"no scan of {target} ran as scheduled" + (f" ({detail})" if detail else "")
    elif e.kind is EventKind.TARGET_FAILED:
        text = f"the scheduled scan of {target} failed" + (f": {detail}" if detail else "")
    else:
        text = f"{_LABELS[e.kind]} for {target}" + (f": {detail}" if detail else "")
    return _fit(f"[secscan] {text}", MAX_SUMMARY)


def _details(e: Event, part: PartCleaner) -> dict[str, str | int | None]:
    """Flat metadata beside the alert's own event, target and severity (see
    :meth:`~secscan.delivery.notify.interface.Alert.facts`). Identifiers (tool, rule, fingerprint) are kept
    as they are, as in the dedup key and in SARIF: the incident state matches them against the
    store. The path and the free text are the redacted parts of the summary."""
    details: dict[str, str | int | None] = {}
    if e.fingerprint is not None:
        details |= {
            "fingerprint": e.fingerprint,
            "tool": e.tool,
            "rule": e.rule,
            "path": _fit(part(e.path), MAX_DETAIL),
            "line": e.line,
            "state": e.state,
        }
    elif e.tool:
        details["tool"] = e.tool
    if e.detail:
        details["detail"] = _fit(part(e.detail), MAX_DETAIL)
    return details


def event_alerts(events: Sequence[tuple[str, Event]], now: datetime) -> list[Alert]:
    """The alert of each (channel, event): a trigger for incident events, else a notice. The
    texts of an event routed to several channels are built once; parts are redacted in batches."""
    part = PartCleaner()
    part.event_parts([e for _, e in events])
    built: dict[int, tuple[str, dict[str, str | int | None]]] = {}
    alerts = []
    for channel, e in events:
        texts = built.get(id(e))
        if texts is None:
            texts = built[id(e)] = (event_summary(e, part), _details(e, part))
        action = Action.TRIGGER if e.kind.opens_incident else Action.NOTICE
        alerts.append(Alert(channel, action, e.kind, e.key, e.target, texts[0], now, e.severity, texts[1]))
    return alerts


def event_alert(e: Event, channel: str, now: datetime) -> Alert:
    """The alert of one event on one channel."""
    return event_alerts([(channel, e)], now)[0]


def group_key(kind: EventKind, target: str, tool: str, rule: str) -> str:
    return dedup_key("group", kind.value, target, tool, rule)


def group_alert(events: Sequence[Event], channel: str, now: datetime) -> Alert:
    """One alert standing for many events of one kind, target, tool and rule (an alert storm)."""
    first = events[0]
    worst = max((e.severity for e in events if e.severity), key=lambda s: s.rank, default=None)
    label = "findings" if first.kind is EventKind.FINDING else _LABELS[first.kind]
    summary = clean(
        f"[secscan] {len(events)} {worst.value if worst else ''} {label} of {first.tool} "
        f"{first.rule} in {first.target} (grouped; first at {_where(first)})"
    )
    details: dict[str, str | int | None] = {
        "tool": first.tool,
        "rule": first.rule,
        "count": len(events),
        "grouped": 1,
    }
    action = Action.TRIGGER if first.kind.opens_incident else Action.NOTICE
    key = group_key(first.kind, first.target, first.tool or "", first.rule or "")
    if action is Action.NOTICE:  # a notice is sent once: a later batch of the rule is another one
        parts = (first.kind.value, first.target, first.tool or "", first.rule or "", now.isoformat())
        key = dedup_key("group", *parts)
    return Alert(channel, action, first.kind, key, first.target, summary, now, worst, details)


def notices_summary(alerts: Sequence[Alert], channel: str, now: datetime) -> Alert:
    """One notice standing for many (the channel's batch was over ``max_notices``)."""
    targets = sorted({a.target for a in alerts})
    kinds = sorted({a.event.value for a in alerts})
    lines = [a.summary for a in alerts[:10]]
    more = len(alerts) - len(lines)
    detail = "\n".join(lines) + (f"\n… and {more} more" if more > 0 else "")
    summary = clean(f"[secscan] {len(alerts)} notices ({', '.join(kinds)}) for {', '.join(targets)}")
    key = dedup_key("notices", channel, now.isoformat(), alerts[0].dedup_key)
    first = alerts[0]
    details: dict[str, str | int | None] = {"count": len(alerts), "text": detail}
    return Alert(channel, Action.NOTICE, first.event, key, ", ".join(targets), summary, now, None, details)


def resolve_alert(incident: AlertIncident, now: datetime) -> Alert:
    """The resolve of an open incident."""
    event = EventKind(incident.event)
    what = incident.rule or incident.tool or (incident.fingerprint or "")[:16]
    summary = clean(f"[secscan] resolved: {_LABELS[event]} {what} in {incident.target}")
    details: dict[str, str | int | None] = {}
    if incident.fingerprint:
        details["fingerprint"] = incident.fingerprint
    return Alert(
        incident.channel, Action.RESOLVE, event, incident.dedup_key, incident.target, summary, now,
        None, details,
    )  # fmt: skip
