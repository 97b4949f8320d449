"""NATS: publish each event to a templated subject, through JetStream by default.

Config::

    actions:
      to_bus:
        type: nats
        url: nats://nats-0:4222,nats://nats-1:4222
        subject: "sightwire.events.{data.camera}"
        token: "${NATS_TOKEN}"          # or username/password, or creds_file
        # jetstream: false             # core NATS: no stream needed, no confirmation

With JetStream the publish waits for the stream's ack, and the header ``Nats-Msg-Id``
is the event id, so a retried delivery inside the stream's duplicate window is
dropped by the server. A subject no stream captures is a permanent failure (retrying
cannot help); an unreachable server or a missing ack is retryable.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.errors import NoStreamResponseError

from sightwire.actions.base import ActionResult
from sightwire.actions.envelope import CLOUDEVENTS_JSON, cloudevent_json
from sightwire.actions.templates import Template, TemplateError, event_context
from sightwire.config.actions import NatsConfig
from sightwire.core import Event


def subject_value(text: str) -> str:
    """Refuse values that would make a subject invalid for publishing."""
    if not text or any(char.isspace() or char in "*>" for char in text):
        raise TemplateError(f"{text!r} cannot be part of a NATS subject (empty, space, * or >)")
    return text


class NatsAction:
    """Publishes events over one NATS connection, opened on the first send."""

    def __init__(self, name: str, config: NatsConfig) -> None:
        self.name = name
        self.config = config
        self._subject = Template.parse(config.subject)
        self._client: Client | None = None
        self._connecting = asyncio.Lock()

    def __repr__(self) -> str:
        return f"NatsAction({self.name!r}, {self.config.url!r}, subject={self.config.subject!r})"

    def accepts(self, event: Event) -> bool:
        return True

    async def send(self, event: Event) -> ActionResult:
        try:
            subject = self._subject.render(event_context(event), subject_value)
        except TemplateError as exc:
            return ActionResult(ok=False, retryable=False, detail=str(exc))
        headers = {"Nats-Msg-Id": event.id, "Content-Type": CLOUDEVENTS_JSON}
        payload = cloudevent_json(event)
        try:
            async with asyncio.timeout(self.config.timeout_s):
                client = await self._connected()
                if not self.config.jetstream:
                    await client.publish(subject, payload, headers=headers)
                    await client.flush()
                    return ActionResult(ok=True, detail=f"published to {subject}")
                ack = await client.jetstream().publish(subject, payload, headers=headers)
        except NoStreamResponseError:
            detail = f"no JetStream stream captures {subject!r} (or set jetstream: false)"
            return ActionResult(ok=False, retryable=False, detail=detail)
        except (TimeoutError, NatsError, OSError) as exc:
            return ActionResult(ok=False, detail=f"NATS {self.config.url}: {exc or type(exc)}")
        dup = " (duplicate, dropped)" if ack.duplicate else ""
        return ActionResult(ok=True, detail=f"stored in {ack.stream} #{ack.seq}{dup}")

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and not client.is_closed:
            await client.close()

    async def _connected(self) -> Client:
        async with self._connecting:
            if self._client is not None and self._client.is_connected:
                return self._client
            await self.close()
            self._client = await nats.connect(**_options(self.config))
            return self._client


def _options(config: NatsConfig) -> dict[str, Any]:
    options: dict[str, Any] = {
        "servers": [part.strip() for part in config.url.split(",")],
        "connect_timeout": config.timeout_s,
        "allow_reconnect": False,  # a lost connection fails the attempt; the next reconnects
        "name": "sightwire",
    }
    if config.username:
        options["user"] = config.username
    if config.password:
        options["password"] = config.password.get_secret_value()
    if config.token:
        options["token"] = config.token.get_secret_value()
    if config.creds_file:
        options["user_credentials"] = config.creds_file
    if config.ca_file:
        options["tls"] = ssl.create_default_context(cafile=config.ca_file)
    return options
