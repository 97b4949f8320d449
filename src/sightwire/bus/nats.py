"""NATS JetStream (``nats://host:4222``): the primary distributed transport.

Layout, for stream ``frames`` and prefix ``sightwire``:

- JetStream stream ``sightwire-frames`` on subjects ``sightwire.frames.<partition>``;
  the key (camera) travels in the ``Sightwire-Key`` header. Camera names may contain
  dots, which would split a subject token, so the subject carries the partition.
- One durable pull consumer per group and partition, ``<group>-p<partition>``:
  explicit ack, ``ack_wait``, ``max_deliver``. The broker keeps each partition's
  position and redelivers what is not acked in time.
- Group members hold leases in the KV bucket ``sightwire-frames-<group>`` (see
  ``groups.py``); a member pulls only from the partitions it owns.

>>> # bus = await open_bus("nats://127.0.0.1:4222?partitions=16&ack_wait_s=30")
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NoKeysError, NotFoundError
from nats.js.kv import KeyValue

from sightwire.bus.base import BusError, BusOptions, Received, check_names
from sightwire.bus.groups import GroupConsumer, cancelled, claims_text, parse_claims
from sightwire.bus.partitioning import partition_of

log = logging.getLogger(__name__)
KEY_HEADER = "Sightwire-Key"
PREFETCH = 8  # per partition; fetched messages wait in memory with their ack clock running
PULL_S = 1.0  # how long one pull request waits on the server, at most (see _NatsReader)


class NatsBus:
    """Publishes to and consumes from JetStream over one connection."""

    def __init__(self, client: Client, options: BusOptions) -> None:
        self.options = options
        self._client = client
        self._js: JetStreamContext = client.jetstream()
        self._streams: set[str] = set()

    @classmethod
    async def connect(cls, servers: list[str], options: BusOptions) -> NatsBus:
        # Once connected, reconnect forever (a broker restart must not end a worker); the
        # first connection gets a deadline, since nats-py would retry it forever too.
        try:
            async with asyncio.timeout(10):
                client = await nats.connect(
                    servers=servers, connect_timeout=3, max_reconnect_attempts=-1
                )
        except (OSError, NatsError, TimeoutError) as exc:
            raise BusError(f"NATS at {', '.join(servers)}: {exc}") from exc
        return cls(client, options)

    def __repr__(self) -> str:
        return f"NatsBus({self._client.connected_url!r})"

    def stream_name(self, stream: str) -> str:
        return f"{self.options.prefix}-{stream}"

    def subject(self, stream: str, partition: int) -> str:
        return f"{self.options.prefix}.{stream}.{partition}"

    async def publish(self, stream: str, key: str, payload: bytes) -> None:
        check_names(stream)
        await self._ensure_stream(stream)
        subject = self.subject(stream, partition_of(key, self.options.partitions))
        try:
            await self._js.publish(subject, payload, headers={KEY_HEADER: key})
        except NatsError as exc:
            raise BusError(f"NATS publish to {subject}: {exc}") from exc

    async def consumer(self, stream: str, group: str, member: str) -> GroupConsumer:
        check_names(stream, group, member)
        await self._ensure_stream(stream)
        membership = _KvMembership(await self._leases(stream, group))
        reader = _NatsReader(self, stream, group)
        return await GroupConsumer(member, membership, reader, self.options).start()

    async def close(self) -> None:
        with contextlib.suppress(NatsError):
            await self._client.drain()

    async def pull(
        self, stream: str, group: str, partition: int
    ) -> JetStreamContext.PullSubscription:
        """The pull subscription of ``group``'s durable consumer on ``partition``."""
        durable = f"{group}-p{partition}"
        config = ConsumerConfig(
            durable_name=durable,
            filter_subject=self.subject(stream, partition),
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.options.ack_wait_s,
            max_deliver=self.options.max_deliver,
            deliver_policy=DeliverPolicy.ALL,
        )
        await self._js.add_consumer(self.stream_name(stream), config)
        return await self._js.pull_subscribe_bind(durable, stream=self.stream_name(stream))

    async def _ensure_stream(self, stream: str) -> None:
        if stream in self._streams:
            return
        name = self.stream_name(stream)
        try:
            await self._js.stream_info(name)
        except NotFoundError:
            subjects = [f"{self.options.prefix}.{stream}.*"]
            await self._js.add_stream(name=name, subjects=subjects, storage=StorageType.FILE)
        self._streams.add(stream)

    async def _leases(self, stream: str, group: str) -> KeyValue:
        bucket = f"{self.stream_name(stream)}-{group}"
        try:
            return await self._js.key_value(bucket)
        except BucketNotFoundError:
            return await self._js.create_key_value(bucket=bucket, ttl=self.options.member_ttl_s)


class _KvMembership:
    """Leases as keys of a KV bucket whose entries expire ``member_ttl_s`` after a put;
    a key's value is the partitions its member claims (``0,1,5``)."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def renew(self, member: str, ttl_s: float, claims: frozenset[int]) -> None:
        await self._kv.put(member, claims_text(claims).encode())  # bucket TTL: the lease

    async def alive(self) -> dict[str, frozenset[int]]:
        try:
            names = await self._kv.keys()
        except NoKeysError:
            return {}
        leases: dict[str, frozenset[int]] = {}
        for name in names:
            try:
                entry = await self._kv.get(name)
            except KeyNotFoundError:  # expired or left since the listing
                continue
            leases[name] = parse_claims((entry.value or b"").decode())
        return leases

    async def leave(self, member: str) -> None:
        await self._kv.purge(member)


class _NatsSettle:
    def __init__(self, message: Msg) -> None:
        self._message = message

    async def ack(self) -> None:
        try:
            await self._message.ack_sync(timeout=5)  # confirmed, not fire-and-forget
        except NatsError as exc:
            raise BusError(f"NATS ack: {exc}") from exc

    async def nak(self) -> None:
        with contextlib.suppress(NatsError):  # unacked, it comes back after ack_wait anyway
            await self._message.nak()


class _NatsReader:
    """One pulling task per owned partition, all feeding one bounded queue."""

    def __init__(self, bus: NatsBus, stream: str, group: str) -> None:
        self._bus = bus
        self._stream = stream
        self._group = group
        self._queue: asyncio.Queue[Received] = asyncio.Queue(maxsize=4 * PREFETCH)
        self._pullers: dict[int, asyncio.Task[None]] = {}
        self._unqueued: dict[int, list[Msg]] = {}  # a cancelled puller's batch, not queued
        self._stopped: set[int] = set()  # pullers stopped, their messages not handed back
        self._stopping: set[int] = set()  # pullers asked to end after their request
        # A stop waits for the pull request in flight, inside a lease renewal: keep it
        # a small part of the lease.
        self._pull_s = min(PULL_S, bus.options.member_ttl_s / 5)

    async def fetch(
        self, partitions: frozenset[int], max_messages: int, timeout_s: float
    ) -> list[Received]:
        await self._follow(partitions)
        out: list[Received] = []
        try:
            async with asyncio.timeout(timeout_s):
                out.append(await self._owned(partitions))
        except TimeoutError:
            return out
        while len(out) < max_messages and not self._queue.empty():
            message = self._queue.get_nowait()
            if message.partition in partitions:
                out.append(message)
            else:
                await message.nak()
        return out

    async def close(self) -> None:
        await self._follow(frozenset())
        while not self._queue.empty():
            await self._queue.get_nowait().nak()

    async def _owned(self, partitions: frozenset[int]) -> Received:
        while True:
            message = await self._queue.get()
            if message.partition in partitions:
                return message
            await message.nak()  # fetched just before the partition moved away

    async def stop(self, partitions: frozenset[int]) -> None:
        """Stop pulling ``partitions``. What was fetched stays queued until the next
        :meth:`fetch` hands it back (after the caller handed back what it held).

        A puller ends after its pull request is done, not by cancellation: the
        server would keep a cancelled request open and could hand the first message
        given back to nobody (it would come again only after ``ack_wait``)."""
        pullers = [self._pullers.pop(p) for p in sorted(partitions & set(self._pullers))]
        if not pullers:
            return
        self._stopping |= partitions
        _, late = await asyncio.wait(pullers, timeout=self._pull_s + 3)
        for task in late:  # a stuck client: cancel, and accept that a message may wait
            log.warning("NATS %s did not stop; cancelled", task.get_name())
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=5)
        self._stopping -= partitions
        self._stopped |= partitions

    async def _follow(self, partitions: frozenset[int]) -> None:
        await self.stop(frozenset(self._pullers) - partitions)
        if self._stopped:
            stopped, self._stopped = self._stopped, set()
            await self._hand_back(stopped, keep=partitions)
        for partition in partitions - set(self._pullers):
            task = asyncio.create_task(self._pull(partition), name=f"nats-pull:{partition}")
            self._pullers[partition] = task

    async def _hand_back(self, stopped: set[int], keep: frozenset[int]) -> None:
        """Nak what was fetched of ``stopped`` partitions, oldest first (the queue,
        then what a cancelled puller had not queued), so the next owner gets it in
        order; queued messages of partitions owned again stay."""
        leaving = stopped - keep
        back: list[Received] = []
        for _ in range(self._queue.qsize()):  # one turn of the queue, with no await in it
            message = self._queue.get_nowait()
            if message.partition in leaving:
                back.append(message)
            else:
                self._queue.put_nowait(message)
        for message in back:
            await message.nak()
        for partition in stopped:
            for raw in self._unqueued.pop(partition, []):
                with contextlib.suppress(NatsError):
                    await raw.nak()

    async def _pull(self, partition: int) -> None:
        subscription: JetStreamContext.PullSubscription | None = None
        try:
            # nats-py may swallow a cancellation and return
            while partition not in self._stopping and not cancelled():
                try:
                    if subscription is None:
                        subscription = await self._bus.pull(self._stream, self._group, partition)
                    batch = await subscription.fetch(PREFETCH, timeout=self._pull_s)
                except (NatsTimeout, TimeoutError):  # nats-py raises either, by the path taken
                    if cancelled():  # nats-py turned our cancellation into a timeout
                        raise asyncio.CancelledError from None
                    continue
                except NatsError as exc:
                    if cancelled():
                        raise asyncio.CancelledError from None
                    log.warning("NATS pull on partition %d: %s; retrying", partition, exc)
                    subscription = None
                    await asyncio.sleep(1.0)
                    continue
                await self._enqueue(batch, partition)
        finally:
            if subscription is not None:
                with contextlib.suppress(NatsError):
                    await subscription.unsubscribe()

    async def _enqueue(self, batch: list[Msg], partition: int) -> None:
        """Queue ``batch``; if the partition is dropped meanwhile, leave the rest for
        :meth:`_hand_back`, which returns it after what was queued before it."""
        for n, message in enumerate(batch):
            try:
                if cancelled():  # nats-py returned the batch, having eaten the cancellation
                    raise asyncio.CancelledError
                if partition in self._stopping and self._queue.full():
                    self._unqueued[partition] = batch[n:]  # nobody may be reading now
                    return
                await self._queue.put(self._received(message, partition))
            except asyncio.CancelledError:
                self._unqueued[partition] = batch[n:]
                raise

    def _received(self, message: Msg, partition: int) -> Received:
        key = (message.headers or {}).get(KEY_HEADER, "")
        deliveries = message.metadata.num_delivered or 1
        return Received(
            self._stream, key, partition, message.data, deliveries, _NatsSettle(message)
        )


async def open_nats(url: str, options: BusOptions) -> NatsBus:
    """``nats://host:4222[,host2:4222]``: servers separated by commas."""
    netloc = url.removeprefix("nats://").split("/")[0]
    return await NatsBus.connect([f"nats://{host}" for host in netloc.split(",")], options)
