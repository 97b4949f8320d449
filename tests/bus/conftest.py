"""Each bus test runs on every transport: memory, NATS, Redis and Kafka (tansu), each
under a prefix of its own so tests never see each other's streams."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from sightwire.bus import Bus, open_bus

from .servers import nats_url, redis_url, tansu

# Short deadlines so redelivery tests finish in seconds. Kafka's session timeout has a
# broker-side floor, hence its longer member lease.
FAST = "partitions=4&ack_wait_s=1&member_ttl_s=1.5&max_deliver=5"
KAFKA_FAST = "partitions=4&ack_wait_s=10&member_ttl_s=3&max_deliver=5"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def kafka_servers() -> Iterator[str]:
    with tansu() as servers:
        yield servers


@pytest.fixture
def prefix() -> str:
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture(
    params=[
        "memory",
        pytest.param("nats", marks=pytest.mark.service),
        pytest.param("redis", marks=pytest.mark.service),
        pytest.param("kafka", marks=pytest.mark.service),
    ]
)
def bus_url(request: pytest.FixtureRequest, prefix: str) -> str:
    """A bus URL of one transport with short deadlines and this test's prefix."""
    kind = request.param
    if kind == "memory":
        return f"memory://?{FAST}&prefix={prefix}"
    if kind == "nats":
        return f"{nats_url()}?{FAST}&prefix={prefix}"
    if kind == "redis":
        return f"{redis_url()}?{FAST}&prefix={prefix}"
    servers = request.getfixturevalue("kafka_servers")
    return f"kafka://{servers}?{KAFKA_FAST}&prefix={prefix}"


@pytest.fixture
async def bus(bus_url: str, prefix: str) -> AsyncIterator[Bus]:
    bus = await open_bus(bus_url)
    try:
        yield bus
    finally:
        await bus.close()
        await _clean(bus_url, prefix)


async def _clean(url: str, prefix: str) -> None:
    """Remove what this test left on a shared server (NATS streams, Redis keys)."""
    if url.startswith("nats://"):
        import nats

        client = await nats.connect(url.split("?")[0])
        js = client.jetstream()
        for info in await js.streams_info():
            name = info.config.name or ""
            if name.startswith((f"{prefix}-", f"KV_{prefix}-")):
                await js.delete_stream(name)
        await client.close()
    elif url.startswith("redis://"):
        import redis.asyncio as aioredis

        client = aioredis.from_url(url.split("?")[0])
        keys = [key async for key in client.scan_iter(f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
