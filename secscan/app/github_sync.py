"""Two-way triage sync between GitHub code scanning alerts and the lifecycle store.

Matching: an alert belongs to secscan when its category is one secscan uploaded to this
repository (the receipts say which target). Its finding is found by, in order, the alert
number linked at an earlier sync, the secscan id that ends every uploaded result message (the
fingerprint's first 16 hex digits; the alerts API does not return fingerprints), or a unique
(tool, rule, path, line) of the target's findings.

Each link remembers the dismissal state both sides agreed on and which decision that was
(``marker``: GitHub's ``dismissed_at`` and the local decision time), so that a change on either
side is told apart from the other side's stale state:

=====================  ==================  ================================================
GitHub                 local               action
=====================  ==================  ================================================
dismissed (new)        not triaged         pull: triage locally (actor ``github:<login>``)
dismissed (agreed)     not triaged         the local decision was lifted: reopen on GitHub
open                   triaged (new)       push: dismiss on GitHub with the local reason
open (was agreed)      triaged (agreed)    reopened on GitHub: lift the local decision
=====================  ==================  ================================================

GitHub "false positive" is a local false positive; "won't fix" and "used in tests" are
accepted risks. Local false positive pushes "false positive", accepted risk "won't fix".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from secscan.app import tracking
from secscan.config.settings import Settings
from secscan.core.errors import SinkError
from secscan.core.model import FindingId
from secscan.core.ports.store import FindingQuery, Store, TrackedFinding, TriageStatus
from secscan.core.ports.uploads import AlertLink, LinkState
from secscan.core.redact import Redactor
from secscan.delivery.github.api import GithubApi, classify, json_body, message_of
from secscan.delivery.github.outbox import config_of
from secscan.delivery.github.token import resolve_token, scrub

log = logging.getLogger(__name__)

_ID = re.compile(r"\(secscan id ([0-9a-f]{16})\)\s*$")
MAX_COMMENT = 280  # GitHub's limit on dismissed_comment
PULL: Mapping[str, TriageStatus] = {
    "false positive": TriageStatus.FALSE_POSITIVE,
    "won't fix": TriageStatus.ACCEPTED_RISK,
    "used in tests": TriageStatus.ACCEPTED_RISK,
}
PUSH: Mapping[TriageStatus, str] = {
    TriageStatus.FALSE_POSITIVE: "false positive",
    TriageStatus.ACCEPTED_RISK: "won't fix",
}
_REDACTOR = Redactor()


@dataclass(frozen=True)
class SyncReport:
    alerts: int = 0  # secscan's alerts read from GitHub
    matched: int = 0
    pulled: int = 0  # GitHub dismissals applied locally
    lifted: int = 0  # local decisions lifted because the alert was reopened on GitHub
    pushed: int = 0  # local decisions applied on GitHub as dismissals
    reopened: int = 0  # GitHub alerts reopened because the local decision was lifted
    unmatched: int = 0
    errors: tuple[str, ...] = field(default=())


class _Index:
    """The findings of one target, by fingerprint, short id and last seen place."""

    def __init__(self, findings: tuple[TrackedFinding, ...]) -> None:
        self.by_fp = {f.fingerprint: f for f in findings}
        self.by_id = {f.id: f.fingerprint for f in findings}
        self.by_place: dict[tuple[str, str, str, int], list[str]] = {}
        for f in findings:
            self.by_place.setdefault((f.tool, f.rule_id, f.path, f.line), []).append(f.fingerprint)

    def match(self, alert: Mapping[str, Any], subdir: str) -> str | None:
        instance = alert.get("most_recent_instance") or {}
        text = str((instance.get("message") or {}).get("text") or "")
        found = _ID.search(text)
        if found and FindingId(found.group(1)) in self.by_id:
            return self.by_id[FindingId(found.group(1))]
        location = instance.get("location") or {}
        path = str(location.get("path") or "")
        if subdir:
            path = path.removeprefix(subdir + "/")
        tool = str((alert.get("tool") or {}).get("name") or "")
        rule = str((alert.get("rule") or {}).get("id") or "")
        hits = self.by_place.get((tool, rule, path, int(location.get("start_line") or 0)), [])
        return hits[0] if len(hits) == 1 else None


def _is(value: Any, kind: type) -> bool:
    return value is None or (isinstance(value, kind) and not isinstance(value, bool))


def _well_formed(alert: Mapping[str, Any]) -> bool:
    """Whether every field the sync reads has its documented JSON type (or is absent): the
    answer is the peer's word, and one odd alert must not end the sync for all the others."""
    instance = alert.get("most_recent_instance")
    if not (isinstance(alert.get("number"), int) and _is(instance, dict)):
        return False
    inner = instance or {}
    location = inner.get("location")
    fields: list[tuple[Any, type]] = [
        (inner.get("message"), dict), (location, dict), (inner.get("category"), str),
        (alert.get("tool"), dict), (alert.get("rule"), dict), (alert.get("dismissed_by"), dict),
    ]  # fmt: skip
    if isinstance(location, dict):
        fields.append((location.get("start_line"), int))
    return all(_is(value, kind) for value, kind in fields)


def _marker(dismissed_at: Any, finding: TrackedFinding) -> str:
    local = finding.triage.decided_at.isoformat() if finding.triage is not None else ""
    return f"{dismissed_at or ''}|{local}"


def _owners(store: Store, repository: str) -> dict[str, str]:
    """category -> target, from the receipts of uploads to ``repository`` (latest wins)."""
    owners: dict[str, str] = {}
    for receipt in store.uploads(limit=10_000):
        if receipt.repository == repository:
            owners.setdefault(receipt.category, receipt.target)
    return owners


def sync_dismissals(
    store: Store, settings: Settings, now: datetime, *, env: Mapping[str, str] | None = None
) -> SyncReport:
    """Pull GitHub dismissals into local triage and push local decisions as dismissals.

    Raises SinkError when the alerts cannot be read; a failed PATCH is reported in ``errors``.
    """
    config = config_of(settings)
    api = GithubApi(config, resolve_token(config, env))
    owners = _owners(store, config.repository)
    links = {link.number: link for link in store.alert_links(config.repository)}
    indexes: dict[str, _Index] = {}
    counts = dict.fromkeys(("alerts", "matched", "pulled", "lifted", "pushed", "reopened", "unmatched"), 0)
    errors: list[str] = []
    saved: list[AlertLink] = []
    for response, page in api.alerts():
        if response.status != 200:
            verdict = classify(response, now, api.token)
            raise SinkError(
                f"reading the code scanning alerts of {config.repository} failed "
                f"({getattr(verdict, 'error', response.status)}); check [github] repository and that "
                "the token may read security events"
            )
        for alert in page:
            if not _well_formed(alert):
                log.warning("GitHub sync: an alert of %s with fields of the wrong type is passed over",
                            config.repository)  # fmt: skip
                continue
            instance = alert.get("most_recent_instance") or {}
            category = str(instance.get("category") or "").rstrip("/")
            target = owners.get(category)
            if target is None or not isinstance(alert.get("number"), int):
                continue
            counts["alerts"] += 1
            number = int(alert["number"])
            if target not in indexes:
                indexes[target] = _Index(store.list_findings(FindingQuery(target=target)))
            index = indexes[target]
            link = links.get(number)
            fp = link.fingerprint if link is not None and link.fingerprint in index.by_fp else None
            tool = str((alert.get("tool") or {}).get("name") or "")
            subdir = category.removeprefix(f"secscan/{tool}").lstrip("/")
            fp = fp or index.match(alert, subdir)
            if fp is None:
                counts["unmatched"] += 1
                continue
            counts["matched"] += 1
            outcome = _sync_one(store, api, config.repository, alert, index.by_fp[fp], link, settings, now)
            action, new_link, error = outcome
            if action:
                counts[action] += 1
            if error:
                errors.append(scrub(error, api.token))
            if new_link is not None:
                saved.append(new_link)
    store.save_alert_links(saved, now)
    report = SyncReport(**counts, errors=tuple(errors))
    log.info("GitHub dismissal sync of %s: %s", config.repository, report)
    return report


def _sync_one(
    store: Store,
    api: GithubApi,
    repository: str,
    alert: Mapping[str, Any],
    finding: TrackedFinding,
    link: AlertLink | None,
    settings: Settings,
    now: datetime,
) -> tuple[str, AlertLink | None, str]:
    """One alert: (counter to bump or "", the link to save, an error message or "")."""
    config = config_of(settings)
    number = int(alert["number"])
    state = alert.get("state")
    decision = finding.triage if finding.triage is not None and finding.triage.active(now) else None

    def linked(state: LinkState, f: TrackedFinding, dismissed_at: Any) -> AlertLink:
        return AlertLink(repository, number, f.target, f.fingerprint, state, _marker(dismissed_at, f))

    agreed = link is not None and link.state is LinkState.DISMISSED
    if state == "dismissed":
        dismissed_at = alert.get("dismissed_at")
        if decision is not None:
            return "", linked(LinkState.DISMISSED, finding, dismissed_at), ""
        if agreed and link is not None and link.marker.split("|")[0] == str(dismissed_at or ""):
            if not config.push_dismissals:
                return "", link, ""
            response = api.update_alert(number, {"state": "open"})
            if response.status != 200:
                why = f"HTTP {response.status} {message_of(response)}"
                return "", link, f"reopening alert {number} failed: {why}"
            return "reopened", linked(LinkState.OPEN, finding, None), ""
        if not config.pull_dismissals:
            return "", link, ""
        reason = str(alert.get("dismissed_reason") or "false positive")
        status = PULL.get(reason, TriageStatus.FALSE_POSITIVE)
        login = str((alert.get("dismissed_by") or {}).get("login") or "unknown")
        comment = str(alert.get("dismissed_comment") or "").strip()
        # a comment is free text from GitHub: a credential quoted there is no more kept than in a run
        why = _REDACTOR.text(f"dismissed on GitHub as {reason}" + (f": {comment}" if comment else ""))
        actor = f"github:{login}"
        after = tracking.triage(store, finding.fingerprint, status, why, None, actor, now, finding.target)
        return "pulled", linked(LinkState.DISMISSED, after, dismissed_at), ""
    if state != "open":  # fixed or closed: nothing to decide
        return "", link, ""
    if decision is None:
        return "", linked(LinkState.OPEN, finding, None), ""
    if agreed and link is not None and link.marker.split("|")[-1] == decision.decided_at.isoformat():
        if not config.pull_dismissals:
            return "", link, ""
        tracking.triage(store, finding.fingerprint, TriageStatus.OPEN, "reopened on GitHub", None, "github",
                        now, finding.target)  # fmt: skip
        return "lifted", linked(LinkState.OPEN, finding, None), ""
    if not config.push_dismissals:
        return "", link, ""
    comment = _REDACTOR.text(" ".join(f"{decision.actor}: {decision.reason}".split()))[:MAX_COMMENT]
    body = {"state": "dismissed", "dismissed_reason": PUSH[decision.status], "dismissed_comment": comment}
    response = api.update_alert(number, body)
    data = json_body(response)
    if response.status != 200 or not isinstance(data, dict):
        return "", link, f"dismissing alert {number} failed: HTTP {response.status} {message_of(response)}"
    return "pushed", linked(LinkState.DISMISSED, finding, data.get("dismissed_at")), ""
