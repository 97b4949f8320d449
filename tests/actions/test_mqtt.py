"""MQTT against a real Mosquitto: exact payload on the templated topic, QoS, retain,
reconnecting after the broker comes back, retryable failure when it is away."""

from __future__ import annotations

import asyncio
import getpass
import json
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from sightwire.actions.envelope import cloudevent_json
from sightwire.actions.mqtt import MqttAction
from sightwire.config.actions import MqttConfig
from sightwire.config.sensors import ScaleConfig
from sightwire.core import Event
from sightwire.sensors.scale import ScaleSubscriber
from tests.security.certs import make_pki
from tests.service import require_service

from .conftest import make_event

pytestmark = pytest.mark.anyio
BROKER = ("127.0.0.1", 1883)


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def broker() -> tuple[str, int]:
    if not reachable(*BROKER):
        require_service(f"Mosquitto is not reachable at {BROKER[0]}:{BROKER[1]}")
    return BROKER


@pytest.fixture
def prefix() -> str:
    """A topic prefix of this test alone (the broker is shared)."""
    return f"sightwire-test/{uuid.uuid4().hex}"


def mqtt_action(host: str, port: int, **config: Any) -> MqttAction:
    config = {"type": "mqtt", "host": host, "port": port, "timeout_s": 2, **config}
    return MqttAction("to_scada", MqttConfig.model_validate(config))


@asynccontextmanager
async def subscribed(host: str, port: int, topic: str) -> AsyncIterator[aiomqtt.Client]:
    async with aiomqtt.Client(host, port) as client:
        await client.subscribe(topic, qos=2)
        yield client


async def next_message(client: aiomqtt.Client) -> aiomqtt.Message:
    async with asyncio.timeout(5):
        async for message in client.messages:
            return message
    raise AssertionError("no message")


@pytest.mark.parametrize("qos", [0, 1, 2])
async def test_event_arrives_on_the_templated_topic(
    broker: tuple[str, int], prefix: str, event: Event, qos: int
) -> None:
    action = mqtt_action(*broker, topic=prefix + "/{data.camera}/{event.type}", qos=qos)
    async with subscribed(*broker, prefix + "/#") as subscriber:
        try:
            result = await action.send(event)
        finally:
            await action.close()
        assert result.ok, result
        message = await next_message(subscriber)
    assert message.topic.value == f"{prefix}/belt-1/com.sightwire.parcel.mismatch"
    assert message.payload == cloudevent_json(event)
    assert message.qos == qos and not message.retain


async def test_templated_payload_keeps_types(
    broker: tuple[str, int], prefix: str, event: Event
) -> None:
    payload = {"id": "{event.id}", "length_mm": "{object.length_mm}", "box": "{data.objects.0.box}"}
    action = mqtt_action(*broker, topic=prefix + "/x", payload=payload)
    async with subscribed(*broker, prefix + "/x") as subscriber:
        try:
            assert (await action.send(event)).ok
        finally:
            await action.close()
        message = await next_message(subscriber)
    assert isinstance(message.payload, bytes)
    assert json.loads(message.payload) == {
        "id": event.id,
        "length_mm": 412.5,
        "box": [10.0, 20.0, 110.0, 220.0],
    }


async def test_retained_message_reaches_a_later_subscriber(
    broker: tuple[str, int], prefix: str, event: Event
) -> None:
    action = mqtt_action(*broker, topic=prefix + "/state", retain=True, payload="stop {event.id}")
    try:
        assert (await action.send(event)).ok
    finally:
        await action.close()
    async with subscribed(*broker, prefix + "/state") as subscriber:
        message = await next_message(subscriber)
        await subscriber.publish(prefix + "/state", b"", retain=True)  # clear it
    assert message.retain and message.payload == f"stop {event.id}".encode()


async def test_one_connection_serves_many_sends(broker: tuple[str, int], prefix: str) -> None:
    action = mqtt_action(*broker, topic=prefix + "/{event.id}")
    try:
        results = [await action.send(make_event()) for _ in range(3)]
        results += await asyncio.gather(*(action.send(make_event()) for _ in range(3)))
        connection = action._client
        assert (await action.send(make_event())).ok
        assert action._client is connection is not None
    finally:
        await action.close()
    assert all(r.ok for r in results)


async def test_unreachable_broker_is_a_retryable_failure(closed_port: int, event: Event) -> None:
    action = mqtt_action("127.0.0.1", closed_port, topic="t")
    try:
        result = await action.send(event)
    finally:
        await action.close()
    assert not result.ok and result.retryable
    assert f"127.0.0.1:{closed_port}" in result.detail


async def test_bad_topic_value_is_final(broker: tuple[str, int], prefix: str) -> None:
    action = mqtt_action(*broker, topic=prefix + "/{tracking_number}")
    try:
        result = await action.send(make_event(tracking_number="a/#"))
    finally:
        await action.close()
    assert not result.ok and not result.retryable and "MQTT topic" in result.detail


class OwnBroker:
    """A Mosquitto of this test alone, to stop and start again, optionally with users."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port = port
        self.folder = folder
        self.users: dict[str, str] = {}
        self.tls: tuple[Path, Path] | None = None  # certificate, key
        self.client_ca: Path | None = None  # set: clients must present a certificate
        self.process: subprocess.Popen[bytes] | None = None

    def config(self) -> Path:
        lines = [f"listener {self.port} 127.0.0.1", f"user {getpass.getuser()}"]
        if self.tls:
            lines += [f"certfile {self.tls[0]}", f"keyfile {self.tls[1]}"]
        if self.client_ca:
            lines += [f"cafile {self.client_ca}", "require_certificate true"]
        if self.users:
            passwords = self.folder / "passwords"
            passwords.unlink(missing_ok=True)
            for user, password in self.users.items():
                flags = ["-b", "-c"] if not passwords.exists() else ["-b"]
                subprocess.run(["mosquitto_passwd", *flags, passwords, user, password], check=True)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        path = self.folder / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.process = subprocess.Popen(
            [binary, "-c", str(self.config())],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not reachable("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_broker(closed_port: int, tmp_path: Path) -> Iterator[OwnBroker]:
    """A broker to start and stop (``start()`` it after setting ``users``)."""
    if not (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()):
        require_service("the mosquitto binary is not installed")
    broker = OwnBroker(closed_port, tmp_path)
    try:
        yield broker
    finally:
        broker.stop()


async def test_username_and_password(own_broker: OwnBroker, prefix: str, event: Event) -> None:
    if not shutil.which("mosquitto_passwd"):
        require_service("mosquitto_passwd is not installed")
    own_broker.users = {"sightwire": "pa55 w0rd"}
    own_broker.start()
    port = own_broker.port
    good = mqtt_action("127.0.0.1", port, topic=prefix, username="sightwire", password="pa55 w0rd")
    bad = mqtt_action("127.0.0.1", port, topic=prefix, username="sightwire", password="guess")
    try:
        assert (await good.send(event)).ok
        refused = await bad.send(event)
    finally:
        await good.close()
        await bad.close()
    assert not refused.ok and not refused.retryable
    assert "pa55 w0rd" not in repr(good.config) and "guess" not in refused.detail


async def test_reconnects_after_the_broker_restarts(own_broker: OwnBroker, prefix: str) -> None:
    own_broker.start()
    action = mqtt_action("127.0.0.1", own_broker.port, topic=prefix + "/e", timeout_s=1)
    try:
        assert (await action.send(make_event())).ok
        own_broker.stop()
        down = await action.send(make_event())
        assert not down.ok and down.retryable, down
        own_broker.start()
        async with subscribed("127.0.0.1", own_broker.port, prefix + "/e") as subscriber:
            event = make_event()
            assert (await action.send(event)).ok
            assert (await next_message(subscriber)).payload == cloudevent_json(event)
    finally:
        await action.close()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with the openssl command."""
    cert, key = folder / "broker.crt", folder / "broker.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


# paho-mqtt 2.2 leaves the socket of a failed TLS handshake for the garbage collector
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_tls_with_the_brokers_ca(own_broker: OwnBroker, prefix: str, event: Event) -> None:
    if not shutil.which("openssl"):
        require_service("the openssl command is not installed")
    own_broker.tls = self_signed(own_broker.folder)
    own_broker.start()
    port, cert = own_broker.port, str(own_broker.tls[0])
    trusted = mqtt_action("127.0.0.1", port, topic=prefix, tls={"ca_file": cert})
    untrusted = mqtt_action("127.0.0.1", port, topic=prefix, tls=True)
    plain = mqtt_action("127.0.0.1", port, topic=prefix, timeout_s=0.5)
    try:
        assert (await trusted.send(event)).ok
        unknown_ca = await untrusted.send(event)
        no_tls = await plain.send(event)
    finally:
        for action in (trusted, untrusted, plain):
            await action.close()
    assert not unknown_ca.ok and "certificate verify failed" in unknown_ca.detail
    assert not no_tls.ok and no_tls.retryable


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_mutual_tls_with_the_shared_client_settings(
    own_broker: OwnBroker, prefix: str, event: Event, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path / "pki")
    own_broker.tls = (pki.server_cert, pki.server_key)
    own_broker.client_ca = pki.ca
    own_broker.start()
    port = own_broker.port
    mutual = {"ca": str(pki.ca), "cert": str(pki.client_cert), "key": str(pki.client_key)}
    with_cert = mqtt_action("127.0.0.1", port, topic=prefix, tls=mutual)
    without = mqtt_action("127.0.0.1", port, topic=prefix, tls={"ca": str(pki.ca)})
    try:
        assert (await with_cert.send(event)).ok
        refused = await without.send(event)
    finally:
        for action in (with_cert, without):
            await action.close()
    assert not refused.ok
    scale = ScaleConfig.model_validate(
        {"host": "127.0.0.1", "port": port, "topic": f"{prefix}/scale", "tls": mutual}
    )
    with ScaleSubscriber("scale-1", scale) as subscriber:  # the scale subscriber too
        assert await asyncio.to_thread(subscriber.subscribed.wait, 10)
