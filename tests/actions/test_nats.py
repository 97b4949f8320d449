"""The NATS action against a real NATS JetStream server: the exact CloudEvent on the
templated subject, duplicates dropped by event id, core NATS, clear failures."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext

from sightwire.actions.envelope import cloudevent_json
from sightwire.actions.nats import NatsAction
from sightwire.actions.registry import build_action
from sightwire.config.actions import NatsConfig
from sightwire.core import Event
from tests.bus.servers import free_port, nats_url

pytestmark = [pytest.mark.anyio, pytest.mark.service]


@pytest.fixture
def url() -> str:
    return nats_url()


@pytest.fixture
def prefix() -> str:
    return f"swtest{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def stream(url: str, prefix: str) -> AsyncIterator[JetStreamContext]:
    """A JetStream stream that captures ``<prefix>.>``, removed afterwards."""
    client = await nats.connect(url)
    js = client.jetstream()
    await js.add_stream(name=prefix, subjects=[f"{prefix}.>"], duplicate_window=60)
    try:
        yield js
    finally:
        await js.delete_stream(prefix)
        await client.close()


def nats_action(url: str, **config: Any) -> NatsAction:
    return NatsAction("to_bus", NatsConfig.model_validate({"type": "nats", "url": url, **config}))


async def test_the_event_is_stored_on_the_templated_subject(
    url: str, prefix: str, stream: JetStreamContext, event: Event
) -> None:
    action = nats_action(url, subject=prefix + ".{data.camera}.{event.type}")
    try:
        result = await action.send(event)
    finally:
        await action.close()
    assert result.ok, result.detail
    stored = await stream.get_last_msg(prefix, f"{prefix}.belt-1.{event.type}")
    assert stored.data == cloudevent_json(event)
    assert stored.headers is not None
    assert stored.headers["Nats-Msg-Id"] == event.id


async def test_a_retried_event_is_stored_once(
    url: str, prefix: str, stream: JetStreamContext, event: Event
) -> None:
    action = nats_action(url, subject=prefix + ".events")
    try:
        first, second = await action.send(event), await action.send(event)
    finally:
        await action.close()
    assert first.ok and second.ok
    assert "duplicate" in second.detail and "duplicate" not in first.detail
    assert (await stream.stream_info(prefix)).state.messages == 1


async def test_core_nats_needs_no_stream(url: str, prefix: str, event: Event) -> None:
    client = await nats.connect(url)
    subscription = await client.subscribe(f"{prefix}.>")
    action = nats_action(url, subject=prefix + ".{data.camera}", jetstream=False)
    try:
        assert (await action.send(event)).ok
        message = await subscription.next_msg(timeout=5)
    finally:
        await action.close()
        await client.close()
    assert (message.subject, message.data) == (f"{prefix}.belt-1", cloudevent_json(event))


async def test_a_subject_no_stream_captures_is_permanent(
    url: str, prefix: str, event: Event
) -> None:
    action = nats_action(url, subject=prefix + ".nowhere")
    try:
        result = await action.send(event)
    finally:
        await action.close()
    assert not result.ok and not result.retryable
    assert "no JetStream stream" in result.detail


async def test_an_unreachable_server_is_a_retryable_failure(event: Event) -> None:
    action = nats_action(f"nats://127.0.0.1:{free_port()}", timeout_s=2)
    try:
        async with asyncio.timeout(10):
            result = await action.send(event)
    finally:
        await action.close()
    assert not result.ok and result.retryable


async def test_a_value_that_breaks_the_subject_is_permanent(url: str, event: Event) -> None:
    action = nats_action(url, subject="sw.{data.attributes.tracking_number}.{data.severity}")
    bad = event.model_copy(update={"data": event.data.model_copy(update={"severity": "a b"})})
    result = await action.send(bad)
    await action.close()
    assert not result.ok and not result.retryable
    assert "NATS subject" in result.detail


def test_config_is_checked_and_secrets_stay_hidden() -> None:
    config = NatsConfig.model_validate(
        {"type": "nats", "url": "nats://a:4222, tls://b:4222", "token": "s3cr3t-token"}
    )
    action = build_action("to_bus", config)
    assert "s3cr3t-token" not in repr(action) + repr(config)
    with pytest.raises(ValueError, match="nats://host:4222"):
        NatsConfig.model_validate({"type": "nats", "url": "http://a:4222"})
