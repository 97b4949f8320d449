"""MQTT: publish each event to a templated topic on a broker.

Config::

    actions:
      to_scada:
        type: mqtt
        host: broker.plant.local
        port: 8883
        topic: "sightwire/{data.camera}/{event.type}"
        qos: 1                       # 0, 1 or 2; 1 and 2 wait for the broker's ack
        retain: false
        username: sightwire
        password: "${MQTT_PASSWORD}"
        tls: {ca: /etc/ssl/plant-ca.pem}     # + cert/key for mutual TLS; true: system CAs
        # payload: {id: "{event.id}", box: "{data.objects.0.box}"}   # default: the event

One connection is opened on the first send and reused; when a send fails it is
dropped and the next send connects again. A broker that cannot be reached gives a
retryable failure, never an exception.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from aiomqtt.exceptions import MqttConnectError

from sightwire.actions.base import ActionResult
from sightwire.actions.envelope import cloudevent_json
from sightwire.actions.templates import Template, TemplateError, event_context, render_json
from sightwire.config.actions import MqttConfig, MqttTls
from sightwire.config.security import ClientTlsConfig
from sightwire.core import Event
from sightwire.security.tls import ssl_context

_TOPIC_FORBIDDEN = ("+", "#", "\x00")
# CONNACK codes: MQTT 3.1.1 bad username or password (4), not authorised (5); MQTT 5: 134, 135
_BAD_CREDENTIALS = frozenset({4, 5, 134, 135})


def topic_value(text: str) -> str:
    """Refuse values that would make a topic invalid for publishing (wildcards, NUL)."""
    if not text or any(char in text for char in _TOPIC_FORBIDDEN):
        raise TemplateError(f"{text!r} cannot be part of an MQTT topic (empty, +, # or NUL)")
    return text


class MqttAction:
    """Publishes events to one broker over one reused connection."""

    def __init__(self, name: str, config: MqttConfig) -> None:
        self.name = name
        self.config = config
        self._topic = Template.parse(config.topic)
        self._options = _client_options(config)  # a bad TLS file fails here, at start-up
        self._client: aiomqtt.Client | None = None
        self._connecting = asyncio.Lock()

    def __repr__(self) -> str:
        where = f"{self.config.host}:{self.config.port}"
        return f"MqttAction({self.name!r}, {where}, topic={self.config.topic!r})"

    def accepts(self, event: Event) -> bool:
        return True

    def message(self, event: Event) -> tuple[str, bytes]:
        """Topic and payload for ``event``; raises :class:`TemplateError`."""
        context = event_context(event)
        topic = self._topic.render(context, topic_value)
        payload = self.config.payload
        if payload is None:
            return topic, cloudevent_json(event)
        if isinstance(payload, str):
            return topic, Template.parse(payload).render(context).encode()
        body = render_json(payload, context)
        return topic, json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()

    async def send(self, event: Event) -> ActionResult:
        try:
            topic, payload = self.message(event)
        except TemplateError as exc:
            return ActionResult(ok=False, retryable=False, detail=str(exc))
        try:
            async with asyncio.timeout(self.config.timeout_s):
                client = await self._connected()
                await client.publish(topic, payload, qos=self.config.qos, retain=self.config.retain)
        except (TimeoutError, aiomqtt.MqttError, OSError) as exc:
            await self._drop()
            retryable = not _refused_credentials(exc)
            return ActionResult(ok=False, retryable=retryable, detail=_describe(exc, self.config))
        return ActionResult(ok=True, detail=f"published to {topic} (qos {self.config.qos})")

    async def close(self) -> None:
        await self._drop()

    async def _connected(self) -> aiomqtt.Client:
        async with self._connecting:
            if self._client is not None and self._client._client.is_connected():
                return self._client
            await self._drop()
            password = self.config.password
            client = aiomqtt.Client(
                **self._options, password=password.get_secret_value() if password else None
            )
            self._client = client  # kept before connecting, so a failure closes it too
            await client.__aenter__()
            return client

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        # aiomqtt keeps an unexpected disconnection as an exception on a future that only
        # `async with` users see; take it, or asyncio reports it as never retrieved.
        client._disconnected.add_done_callback(_take_exception)
        if not client._client.is_connected():
            client._client.disconnect()  # closes a half-open socket; a no-op without one
            return
        try:
            async with asyncio.timeout(1.0):
                await client.__aexit__(None, None, None)
        except (TimeoutError, aiomqtt.MqttError, OSError):
            pass  # the broker went away meanwhile: nothing left to close


def _refused_credentials(exc: BaseException) -> bool:
    """A broker that refuses the username/password: retrying will not change its mind."""
    if not isinstance(exc, MqttConnectError):
        return False
    return getattr(exc.rc, "value", exc.rc) in _BAD_CREDENTIALS


def _take_exception(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


def _client_options(config: MqttConfig) -> dict[str, Any]:
    options: dict[str, Any] = {
        "hostname": config.host,
        "port": config.port,
        "username": config.username,
        "identifier": config.client_id,
        "keepalive": config.keepalive_s,
        "timeout": config.timeout_s,
    }
    if isinstance(config.tls, ClientTlsConfig):
        options["tls_context"] = ssl_context(config.tls)
    elif config.tls:  # true, or the older {ca_file, cert_file, key_file, insecure}
        tls = config.tls if isinstance(config.tls, MqttTls) else MqttTls()
        context = ssl.create_default_context(cafile=tls.ca_file)
        if tls.cert_file:
            context.load_cert_chain(tls.cert_file, tls.key_file)
        if tls.insecure:
            context.check_hostname = False
        options["tls_context"] = context
    return options


def _describe(exc: BaseException, config: MqttConfig) -> str:
    where = f"{config.host}:{config.port}"
    if isinstance(exc, TimeoutError):
        return f"broker {where} did not answer within {config.timeout_s:g} s"
    if isinstance(exc, aiomqtt.MqttCodeError) and exc.rc == paho.MQTT_ERR_NO_CONN:
        return f"lost the connection to broker {where}"
    return f"broker {where}: {exc}"
