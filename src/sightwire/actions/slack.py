"""Slack: post an event to a channel through an incoming webhook.

Config::

    actions:
      notify_ops:
        type: slack
        url: "${SLACK_WEBHOOK_URL}"      # the URL is the credential: never logged
        text: ":package: {event.type} on {data.camera} ({data.severity})"
        link: "https://sightwire.example/events/{event.id}"

The message has the templated ``text`` (also the notification fallback) and blocks
with the event type, camera, severity, time, the rule's attributes and the link. Slack
answers ``ok``, a 4xx with an error word (``invalid_payload``, ``no_service``,
``channel_is_archived``: not retryable) or 429 with ``Retry-After`` (retryable).
"""

from __future__ import annotations

import json
from typing import Any

from sightwire.actions.base import ActionResult
from sightwire.actions.delivery import refused
from sightwire.actions.http_pool import HttpPool
from sightwire.actions.redact import protect
from sightwire.actions.templates import Template, TemplateError, as_text, event_context, url_part
from sightwire.config.actions import SlackConfig
from sightwire.core import Event

_MAX_FIELDS = 10  # Slack's limit per section
_MAX_FIELD_CHARS = 200
_MAX_TEXT_CHARS = 3000


def slack_escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn gives meaning to.

    >>> slack_escape("<a & b>")
    '&lt;a &amp; b&gt;'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackAction:
    """Posts one message per event to a Slack incoming webhook."""

    def __init__(self, name: str, config: SlackConfig) -> None:
        self.name = name
        self.config = config
        self._url = config.url.get_secret_value()
        self._text = Template.parse(config.text)
        self._link = Template.parse(config.link) if config.link else None
        self._pool = HttpPool(config.timeout_s, config.tls)
        protect(self._url)

    def __repr__(self) -> str:
        return f"SlackAction({self.name!r}, text={self.config.text!r})"

    def accepts(self, event: Event) -> bool:
        return True

    def message(self, event: Event) -> dict[str, Any]:
        """The webhook payload; raises :class:`TemplateError` on a missing field."""
        context = event_context(event)
        text = self._text.render(context, slack_escape)[:_MAX_TEXT_CHARS]
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}},
            {"type": "section", "fields": _fields(event)},
        ]
        if self._link:
            url = self._link.render(context, url_part)
            blocks.append(
                {
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": f"<{url}|Open the event>"}],
                }
            )
        return {"text": text, "blocks": blocks}

    async def send(self, event: Event) -> ActionResult:
        try:
            body = json.dumps(self.message(event), separators=(",", ":")).encode()
        except TemplateError as exc:
            return refused(exc, [self._url])
        headers = {"content-type": "application/json"}
        return await self._pool.send("POST", self._url, body, headers, [self._url])

    async def close(self) -> None:
        await self._pool.close()


def _fields(event: Event) -> list[dict[str, str]]:
    data = event.data
    pairs = [
        ("Event", event.type),
        ("Camera", data.camera),
        ("Severity", data.severity),
        ("Time", event.time),
    ]
    pairs += [(key, as_text(value)) for key, value in data.attributes.items()]
    return [
        {
            "type": "mrkdwn",
            "text": f"*{slack_escape(key)}*\n{slack_escape(value)}"[:_MAX_FIELD_CHARS],
        }
        for key, value in pairs[:_MAX_FIELDS]
    ]
