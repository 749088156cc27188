"""Slack incoming webhooks: Block Kit ``blocks`` with a ``text`` fallback; 200 ``ok`` is success."""

from __future__ import annotations

import json
from typing import Any

from secscan.delivery.http import HttpPolicy
from secscan.delivery.notify.interface import Action, Alert, Channel
from secscan.delivery.notify.transport import post, url_secrets
from secscan.delivery.verdicts import Verdict

MAX_SECTION = 3000  # characters of a section block's text
_ICONS = {Action.TRIGGER: ":rotating_light:", Action.RESOLVE: ":white_check_mark:", Action.NOTICE: ":bell:"}


def _escape(text: str) -> str:
    """Slack mrkdwn control characters (``&``, ``<``, ``>``) as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def message(alert: Alert) -> dict[str, Any]:
    """The webhook body of ``alert``."""
    head = f"{_ICONS[alert.action]} *{_escape(alert.summary)}*"
    text = alert.details.get("text")
    body = head + (f"\n```{_escape(str(text))}```" if text else "")
    context = " · ".join(
        _escape(f"{k}: {v}")
        for k, v in alert.facts().items()
        if k in ("target", "event", "finding", "severity", "count")
    )
    section = {"type": "mrkdwn", "text": body[:MAX_SECTION]}
    blocks: list[dict[str, Any]] = [{"type": "section", "text": section}]
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context[:MAX_SECTION]}]})
    return {"text": alert.summary, "blocks": blocks}


class SlackChannel(Channel):
    def __init__(self, name: str, webhook_url: str, policy: HttpPolicy) -> None:
        self.name = name
        self._url = webhook_url
        self._policy = policy

    def secrets(self) -> tuple[str, ...]:
        return url_secrets(self._url)

    def send(self, alert: Alert) -> Verdict:
        body = json.dumps(message(alert)).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        return post(self._url, body, self._policy, headers, self.secrets(), f"[notify.{self.name}] webhook")
