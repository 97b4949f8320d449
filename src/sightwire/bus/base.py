"""The bus protocol every transport keeps: publish by key, consume in groups, ack.

A *stream* (``frames``, ``events``) is split into partitions; a message's key (the
camera) picks its partition, so one camera's messages stay in order on one partition.
The members of a consumer *group* share the partitions: each partition has exactly one
owner at a time, so one worker owns a camera and keeps its tracker state. A message
is handed out again when its consumer does not ack it: after ``nak()``, when the
consumer dies, or when its ack deadline passes. Delivery is at-least-once; messages
carry ids (frame seq, event id) so receivers can drop duplicates.

>>> import asyncio
>>> from sightwire.bus import open_bus
>>> async def demo() -> bytes:
...     bus = await open_bus("memory://")
...     await bus.publish("frames", "belt-1", b"payload")
...     consumer = await bus.consumer("frames", group="workers", member="w1")
...     [message] = await consumer.fetch(timeout_s=1)
...     await message.ack()  # after processing: an unacked message comes back
...     await bus.close()
...     return message.payload
>>> asyncio.run(demo())
b'payload'
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

STREAM_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
GROUP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class BusError(RuntimeError):
    """The transport failed (unreachable, refused); the caller may retry."""


@dataclass(frozen=True, slots=True)
class BusOptions:
    """Settings common to every transport; taken from the bus URL's query.

    ``nats://nats:4222?partitions=32&ack_wait_s=30`` — ``partitions`` is fixed when a
    stream is first created (Kafka: the topic's partitions); ``ack_wait_s`` is how long
    a delivered message may stay unacked before it goes to another consumer;
    ``member_ttl_s`` is how long a silent group member keeps its partitions.
    """

    partitions: int = 16
    ack_wait_s: float = 30.0
    max_deliver: int = 10
    member_ttl_s: float = 10.0
    prefix: str = "sightwire"

    def __post_init__(self) -> None:
        if not 1 <= self.partitions <= 1024:
            raise ValueError("partitions: 1 to 1024")
        if self.ack_wait_s <= 0 or self.member_ttl_s <= 0:
            raise ValueError("ack_wait_s and member_ttl_s must be positive")
        if self.max_deliver < 1:
            raise ValueError("max_deliver: at least 1")
        if not STREAM_NAME.match(self.prefix):
            raise ValueError("prefix: lower-case letters, digits and '-'")


class Settle(Protocol):
    """How a transport acks or hands back one delivered message."""

    async def ack(self) -> None: ...

    async def nak(self) -> None: ...


class Received:
    """One delivered message; ``ack()`` once it is processed, ``nak()`` to give it back.

    ``deliveries`` counts this delivery (1 the first time), so a handler can tell a
    redelivery; settling twice is a no-op.
    """

    __slots__ = ("_settle", "_settled", "deliveries", "key", "partition", "payload", "stream")

    def __init__(
        self,
        stream: str,
        key: str,
        partition: int,
        payload: bytes,
        deliveries: int,
        settle: Settle,
    ) -> None:
        self.stream = stream
        self.key = key
        self.partition = partition
        self.payload = payload
        self.deliveries = deliveries
        self._settle = settle
        self._settled = False

    def __repr__(self) -> str:
        return (
            f"Received({self.stream!r}, key={self.key!r}, partition={self.partition}, "
            f"{len(self.payload)} bytes, delivery {self.deliveries})"
        )

    async def ack(self) -> None:
        """Done with it: it is never handed out again."""
        if not self._settled:
            self._settled = True
            await self._settle.ack()

    async def nak(self) -> None:
        """Not processed: hand it out again now (Kafka: from this offset on)."""
        if not self._settled:
            self._settled = True
            await self._settle.nak()


class Consumer(Protocol):
    """One member of a consumer group on one stream."""

    member: str

    @property
    def partitions(self) -> frozenset[int]:
        """The partitions this member owns now (they move when members come and go)."""
        ...

    @property
    def epoch(self) -> int:
        """Counts the times this member's hold was broken (a lapsed lease, a
        rebalance that revoked partitions): what it kept about a partition from an
        earlier epoch may be stale, since another member may have read it meanwhile."""
        ...

    def owns(self, partition: int) -> bool:
        """Whether this member owns ``partition`` right now; asked again just before
        work on one of its messages is committed. Safe to call from any thread."""
        ...

    async def fetch(self, max_messages: int = 16, timeout_s: float = 1.0) -> list[Received]:
        """Up to ``max_messages`` from owned partitions; waits up to ``timeout_s`` for one."""
        ...

    async def pause(self) -> None:
        """Stop fetching ahead, before a graceful :meth:`close`: the caller hands back
        what it holds first, so the next owners get it before what was fetched ahead."""
        ...

    async def close(self) -> None:
        """Leave the group; unacked messages go to the remaining members."""
        ...


class Bus(Protocol):
    """A transport: ``memory://``, ``nats://``, ``kafka://``, ``redis://``."""

    options: BusOptions

    async def publish(self, stream: str, key: str, payload: bytes) -> None:
        """Append ``payload`` to ``stream`` on the partition of ``key``; returns once the
        broker has it (NATS/Kafka: acknowledged by the server)."""
        ...

    async def consumer(self, stream: str, group: str, member: str) -> Consumer:
        """Join ``group`` on ``stream`` as ``member`` (unique within the group)."""
        ...

    async def close(self) -> None:
        """Close connections (consumers should be closed first)."""
        ...


def check_names(stream: str, group: str | None = None, member: str | None = None) -> None:
    """Refuse names a transport could not carry (dots break NATS subjects and names)."""
    if not STREAM_NAME.match(stream):
        raise ValueError(f"stream {stream!r}: lower-case letters, digits and '-', 1-48 chars")
    for what, name in (("group", group), ("member", member)):
        if name is not None and not GROUP_NAME.match(name):
            raise ValueError(f"{what} {name!r}: letters, digits, '_' and '-', 1-64 chars")


Handler = Callable[[Received], Awaitable[None]]


async def consume(
    consumer: Consumer,
    handler: Handler,
    stop: asyncio.Event,
    *,
    max_messages: int = 16,
    timeout_s: float = 0.5,
) -> int:
    """Run ``handler`` on every message until ``stop`` is set; ack each after it returns.

    A handler that raises gets its message nak'ed (handed out again), never lost.
    Returns how many messages were acked.

    >>> # stop = asyncio.Event(); await consume(consumer, handle_frame, stop)
    """
    acked = 0
    while not stop.is_set():
        for message in await consumer.fetch(max_messages, timeout_s):
            try:
                await handler(message)
            except Exception:
                log.exception("handler failed on %r; handing it back", message)
                await message.nak()
            else:
                await message.ack()
                acked += 1
    return acked
