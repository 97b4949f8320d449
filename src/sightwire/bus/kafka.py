"""Kafka (``kafka://host:9092[,host2:9092]``) through aiokafka.

Stream ``frames`` is the topic ``sightwire.frames``; the record key is the camera, so
Kafka's default partitioner puts a camera on one partition. Group ``workers`` on it is
the Kafka consumer group ``sightwire.frames.workers`` (one per stream, so a rebalance
on one stream leaves the others alone): the broker assigns partitions and moves them
when a member leaves or misses its heartbeats for ``member_ttl_s`` (the session
timeout). Offsets are committed by hand after processing: an ack commits the
partition up to the oldest message still unacked, so a member that dies leaves its
unacked messages to the next owner.

Kafka has no per-message deadline or nak: ``nak()`` seeks the partition back to that
message (later ones of the partition come again too, in order), and ``ack_wait_s``
maps to ``max.poll.interval.ms`` — a member that fetches nothing for that long is
taken out of the group. Delivery counts are this member's own (1 after a hand-over).
A missing topic is created with ``partitions`` partitions and replication factor 1;
create production topics beforehand with the replication you need.

>>> # bus = await open_bus("kafka://kafka-0:9092,kafka-1:9092?partitions=32")
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from aiokafka import (  # type: ignore[import-untyped]
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    TopicPartition,
)
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # type: ignore[import-untyped]
from aiokafka.errors import CommitFailedError, KafkaError  # type: ignore[import-untyped]

from sightwire.bus.base import BusError, BusOptions, Received, check_names

log = logging.getLogger(__name__)
TOPIC_EXISTS = 36


class KafkaBus:
    """One producer for publishing; one aiokafka consumer per group member."""

    def __init__(self, servers: str, options: BusOptions) -> None:
        self.options = options
        self.servers = servers
        self._producer: Any = None
        self._topics: set[str] = set()

    def __repr__(self) -> str:
        return f"KafkaBus({self.servers!r})"

    def topic(self, stream: str) -> str:
        return f"{self.options.prefix}.{stream}"

    async def publish(self, stream: str, key: str, payload: bytes) -> None:
        check_names(stream)
        topic = await self.ensure_topic(stream)
        try:
            if self._producer is None:
                producer = AIOKafkaProducer(bootstrap_servers=self.servers, acks="all")
                await producer.start()
                self._producer = producer
            await self._producer.send_and_wait(topic, payload, key=key.encode())
        except KafkaError as exc:
            raise BusError(f"Kafka publish to {topic}: {exc}") from exc

    async def consumer(self, stream: str, group: str, member: str) -> KafkaConsumer:
        check_names(stream, group, member)
        topic = await self.ensure_topic(stream)
        return await KafkaConsumer(self, stream, topic, group, member).start()

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def ensure_topic(self, stream: str) -> str:
        """The stream's topic, created with ``partitions`` partitions when missing."""
        topic = self.topic(stream)
        if topic in self._topics:
            return topic
        admin = AIOKafkaAdminClient(bootstrap_servers=self.servers)
        try:
            await admin.start()
            new = NewTopic(topic, num_partitions=self.options.partitions, replication_factor=1)
            reply = await admin.create_topics([new])
        except KafkaError as exc:
            raise BusError(f"Kafka at {self.servers}: {exc}") from exc
        finally:
            await admin.close()
        for name, code, message in reply.topic_errors:
            if code not in (0, TOPIC_EXISTS):
                raise BusError(f"Kafka could not create topic {name}: {message} ({code})")
        self._topics.add(topic)
        return topic


class _Partition:
    """What one owned partition has handed out and not yet committed."""

    def __init__(self) -> None:
        self.pending: set[int] = set()
        self.next_offset = -1  # one past the highest offset handed out
        self.generation = 0  # bumped by nak: acks from before it no longer commit
        self.naks: dict[int, int] = defaultdict(int)


class _Settle:
    def __init__(self, owner: KafkaConsumer, tp: Any, offset: int, generation: int) -> None:
        self._owner = owner
        self._tp = tp
        self._offset = offset
        self._generation = generation

    async def ack(self) -> None:
        await self._owner.ack(self._tp, self._offset, self._generation)

    async def nak(self) -> None:
        self._owner.nak(self._tp, self._offset, self._generation)


class KafkaConsumer(ConsumerRebalanceListener):  # type: ignore[misc]
    """A Kafka consumer-group member with manual commits after processing."""

    def __init__(self, bus: KafkaBus, stream: str, topic: str, group: str, member: str) -> None:
        self.member = member
        self._stream = stream
        self._topic = topic
        ttl_ms = int(bus.options.member_ttl_s * 1000)
        self._max_deliver = bus.options.max_deliver
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bus.servers,
            group_id=f"{topic}.{group}",  # per stream: one stream's rebalances spare others
            client_id=member,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=ttl_ms,
            heartbeat_interval_ms=max(100, ttl_ms // 3),
            max_poll_interval_ms=max(1000, int(bus.options.ack_wait_s * 1000)),
        )
        self._owned: dict[Any, _Partition] = {}
        self._epoch = 0

    @property
    def partitions(self) -> frozenset[int]:
        return frozenset(tp.partition for tp in self._consumer.assignment())

    @property
    def epoch(self) -> int:
        return self._epoch

    def owns(self, partition: int) -> bool:
        return partition in self.partitions

    async def pause(self) -> None:
        """Nothing to do: what is not committed comes again from the committed offset."""

    async def start(self) -> KafkaConsumer:
        try:
            await self._consumer.start()
        except KafkaError as exc:
            await self._consumer.stop()
            raise BusError(f"Kafka consumer {self.member}: {exc}") from exc
        self._consumer.subscribe([self._topic], listener=self)
        return self

    async def fetch(self, max_messages: int = 16, timeout_s: float = 1.0) -> list[Received]:
        timeout_ms = max(1, int(timeout_s * 1000))
        try:
            batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_messages)
        except KafkaError as exc:
            raise BusError(f"Kafka fetch on {self._topic}: {exc}") from exc
        out: list[Received] = []
        for tp, records in batches.items():
            state = self._owned.setdefault(tp, _Partition())
            for record in records:
                deliveries = 1 + state.naks.get(record.offset, 0)
                state.pending.add(record.offset)
                state.next_offset = max(state.next_offset, record.offset + 1)
                settle = _Settle(self, tp, record.offset, state.generation)
                key = record.key.decode() if record.key else ""
                received = Received(
                    self._stream, key, tp.partition, record.value, deliveries, settle
                )
                if deliveries > self._max_deliver:
                    log.warning("%s: giving up on %r", self._topic, received)
                    await received.ack()
                    continue
                out.append(received)
        return out

    async def ack(self, tp: Any, offset: int, generation: int) -> None:
        state = self._owned.get(tp)
        if state is None or generation != state.generation:
            return  # revoked or rewound since: it will be delivered again
        state.pending.discard(offset)
        state.naks.pop(offset, None)
        commit = min(state.pending) if state.pending else state.next_offset
        try:
            await self._consumer.commit({tp: commit})
        except CommitFailedError as exc:  # the group moved the partition meanwhile
            log.info(
                "%s: commit of %s at %d failed (%s); it will be redelivered",
                self.member,
                tp,
                commit,
                exc,
            )
        except KafkaError as exc:
            raise BusError(f"Kafka commit on {tp}: {exc}") from exc

    def nak(self, tp: Any, offset: int, generation: int) -> None:
        state = self._owned.get(tp)
        if state is None or generation != state.generation or tp not in self.assignment():
            return
        state.generation += 1
        state.naks[offset] += 1
        state.pending = {pending for pending in state.pending if pending < offset}
        state.next_offset = offset
        self._consumer.seek(tp, offset)

    def assignment(self) -> set[Any]:
        return set(self._consumer.assignment())

    async def close(self) -> None:
        await self._consumer.stop()  # leaves the group: the others rebalance at once
        self._owned.clear()

    # ConsumerRebalanceListener
    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Eager rebalancing revokes everything; what comes back resumes from the last
        # commit, so the frames held unacked are replayed to a fresh tracker.
        if revoked:
            self._epoch += 1
        for tp in revoked:
            self._owned.pop(tp, None)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info(
            "%s owns %s partitions %s",
            self.member,
            self._topic,
            sorted(tp.partition for tp in assigned),
        )


async def open_kafka(url: str, options: BusOptions) -> KafkaBus:
    """``kafka://host:9092[,host2:9092]``: the bootstrap servers."""
    return KafkaBus(url.removeprefix("kafka://").split("/")[0], options)
