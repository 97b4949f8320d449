"""The Kafka action against a real Kafka-protocol broker (tansu, started per module):
the exact CloudEvent on the templated topic with the camera as key, clear failures."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import aiokafka
import pytest

from sightwire.actions.envelope import CLOUDEVENTS_JSON, cloudevent_json
from sightwire.actions.kafka import KafkaAction
from sightwire.config.actions import KafkaConfig
from sightwire.core import Event
from tests.bus.servers import free_port, tansu

pytestmark = [pytest.mark.anyio, pytest.mark.service]


@pytest.fixture(scope="module")
def servers() -> Iterator[str]:
    with tansu() as bootstrap:
        yield bootstrap


def kafka_action(servers: str, **config: Any) -> KafkaAction:
    config = {"type": "kafka", "bootstrap_servers": servers, "timeout_s": 5, **config}
    return KafkaAction("to_kafka", KafkaConfig.model_validate(config))


async def create_topic(servers: str, topic: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()


async def read_one(servers: str, topic: str) -> Any:
    consumer = aiokafka.AIOKafkaConsumer(
        topic, bootstrap_servers=servers, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        async with asyncio.timeout(20):
            return await consumer.getone()
    finally:
        await consumer.stop()


async def test_the_event_lands_on_the_templated_topic_keyed_by_camera(
    servers: str, event: Event
) -> None:
    topic = f"sw-{uuid.uuid4().hex[:8]}.belt-1"
    await create_topic(servers, topic)
    action = kafka_action(servers, topic=topic.split(".")[0] + ".{data.camera}")
    try:
        result = await action.send(event)
    finally:
        await action.close()
    assert result.ok, result.detail
    record = await read_one(servers, topic)
    assert record.value == cloudevent_json(event)
    assert record.key == b"belt-1"
    headers = dict(record.headers)
    assert headers["ce_id"] == event.id.encode()
    assert headers["content-type"] == CLOUDEVENTS_JSON.encode()


async def test_an_unreachable_broker_is_a_retryable_failure(event: Event) -> None:
    action = kafka_action(f"127.0.0.1:{free_port()}", timeout_s=2)
    try:
        async with asyncio.timeout(15):
            result = await action.send(event)
    finally:
        await action.close()
    assert not result.ok and result.retryable


async def test_a_value_a_topic_cannot_hold_is_permanent(servers: str, event: Event) -> None:
    action = kafka_action(servers, topic="sw.{data.severity}")
    bad = event.model_copy(update={"data": event.data.model_copy(update={"severity": "a/b"})})
    result = await action.send(bad)
    await action.close()
    assert not result.ok and not result.retryable
    assert "Kafka topic" in result.detail


def test_secrets_stay_hidden() -> None:
    config = KafkaConfig.model_validate(
        {"type": "kafka", "bootstrap_servers": "k:9093", "security_protocol": "SASL_SSL",
         "sasl_mechanism": "SCRAM-SHA-512", "username": "sw", "password": "kafka-pa55"}
    )  # fmt: skip
    assert "kafka-pa55" not in repr(config) + repr(KafkaAction("k", config))
