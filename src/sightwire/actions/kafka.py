"""Kafka: publish each event to a templated topic (CloudEvents structured mode).

Config::

    actions:
      to_kafka:
        type: kafka
        bootstrap_servers: kafka-0:9092,kafka-1:9092
        topic: sightwire.events            # templated: "sightwire.{data.camera}"
        key: "{data.camera}"               # one camera's events stay in order
        security_protocol: SASL_SSL
        sasl_mechanism: SCRAM-SHA-512
        username: sightwire
        password: "${KAFKA_PASSWORD}"

The value is the CloudEvent JSON with ``content-type: application/cloudevents+json``;
the header ``ce_id`` carries the event id so consumers can drop duplicates without
parsing. A send succeeds once the brokers acknowledge it (``acks: all`` by default).
"""

from __future__ import annotations

import asyncio
import re
import ssl
from typing import Any

from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]

from sightwire.actions.base import ActionResult
from sightwire.actions.envelope import CLOUDEVENTS_JSON, cloudevent_json
from sightwire.actions.templates import Template, TemplateError, event_context
from sightwire.config.actions import KafkaConfig
from sightwire.core import Event

_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
# Errors no retry can fix: the request itself is wrong or not allowed.
_PERMANENT = ("InvalidTopicError", "TopicAuthorizationFailedError", "RecordTooLargeError",
              "MessageSizeTooLargeError", "AuthenticationFailedError")  # fmt: skip


def topic_value(text: str) -> str:
    """Refuse values a Kafka topic name cannot hold."""
    if not _TOPIC.match(text):
        raise TemplateError(f"{text!r} cannot be part of a Kafka topic (letters, digits, ._-)")
    return text


class KafkaAction:
    """Publishes events through one producer, started on the first send."""

    def __init__(self, name: str, config: KafkaConfig) -> None:
        self.name = name
        self.config = config
        self._topic = Template.parse(config.topic)
        self._key = Template.parse(config.key)
        self._producer: Any = None
        self._starting = asyncio.Lock()

    def __repr__(self) -> str:
        where = self.config.bootstrap_servers
        return f"KafkaAction({self.name!r}, {where!r}, topic={self.config.topic!r})"

    def accepts(self, event: Event) -> bool:
        return True

    async def send(self, event: Event) -> ActionResult:
        try:
            context = event_context(event)
            topic = self._topic.render(context, topic_value)
            key = self._key.render(context).encode()
        except TemplateError as exc:
            return ActionResult(ok=False, retryable=False, detail=str(exc))
        headers = [("content-type", CLOUDEVENTS_JSON.encode()), ("ce_id", event.id.encode())]
        try:
            async with asyncio.timeout(self.config.timeout_s):
                producer = await self._started()
                sent = await producer.send_and_wait(
                    topic, cloudevent_json(event), key=key, headers=headers
                )
        except (TimeoutError, KafkaError, OSError) as exc:
            await self.close()  # a fresh producer next time; aiokafka may hold a dead one
            permanent = type(exc).__name__ in _PERMANENT
            where = self.config.bootstrap_servers
            return ActionResult(ok=False, retryable=not permanent, detail=f"Kafka {where}: {exc!r}")
        return ActionResult(ok=True, detail=f"{topic}[{sent.partition}]@{sent.offset}")

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                async with asyncio.timeout(self.config.timeout_s):
                    await producer.stop()
            except (TimeoutError, KafkaError, OSError):
                pass  # the brokers went away: nothing left to flush to

    async def _started(self) -> Any:
        async with self._starting:
            if self._producer is None:
                producer = AIOKafkaProducer(**_options(self.config))
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer


def _options(config: KafkaConfig) -> dict[str, Any]:
    options: dict[str, Any] = {
        "bootstrap_servers": config.bootstrap_servers,
        "acks": config.acks,
        "client_id": "sightwire",
        "request_timeout_ms": int(config.timeout_s * 1000),
        "security_protocol": config.security_protocol,
    }
    if config.sasl_mechanism:
        options["sasl_mechanism"] = config.sasl_mechanism
        options["sasl_plain_username"] = config.username
        if config.password:
            options["sasl_plain_password"] = config.password.get_secret_value()
    if config.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = ssl.create_default_context(cafile=config.ca_file)
    return options
