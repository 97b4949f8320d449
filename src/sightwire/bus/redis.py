"""Redis Streams (``redis://host:6379/0``): a small site's bus on a Redis it already runs.

Layout, for stream ``frames`` and prefix ``sightwire``: one Redis stream per
partition, ``sightwire:frames:<partition>`` (fields ``k`` = key, ``d`` = payload,
trimmed to about ``MAXLEN`` entries), a consumer group per Sightwire group, and
member leases in the sorted set ``sightwire:frames:<group>:members`` (score = expiry
in Redis's own clock) with each member's claimed partitions in the hash
``sightwire:frames:<group>:claims``. A member reads its partitions with XREADGROUP,
acks with XACK, and takes over entries left pending longer than ``ack_wait_s`` with
XAUTOCLAIM — that is how a dead member's messages come back. Entries delivered
``max_deliver`` times go to ``sightwire:frames:dead``.

>>> # bus = await open_bus("redis://127.0.0.1:6379/0?ack_wait_s=30")
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from sightwire.bus.base import BusError, BusOptions, Received, check_names
from sightwire.bus.groups import GroupConsumer, claims_text, parse_claims
from sightwire.bus.partitioning import partition_of

log = logging.getLogger(__name__)
MAXLEN = 10_000  # per partition; Redis holds streams in memory, so frames must not pile up


class RedisBus:
    """Streams and consumer groups on one Redis connection pool."""

    def __init__(self, client: aioredis.Redis, options: BusOptions) -> None:
        self.options = options
        self.client = client

    def __repr__(self) -> str:
        return f"RedisBus({self.client!r})"

    def stream_key(self, stream: str, partition: int | str) -> str:
        return f"{self.options.prefix}:{stream}:{partition}"

    async def publish(self, stream: str, key: str, payload: bytes) -> None:
        check_names(stream)
        name = self.stream_key(stream, partition_of(key, self.options.partitions))
        try:
            await self.client.xadd(name, {"k": key, "d": payload}, maxlen=MAXLEN, approximate=True)
        except RedisError as exc:
            raise BusError(f"Redis XADD {name}: {exc}") from exc

    async def consumer(self, stream: str, group: str, member: str) -> GroupConsumer:
        check_names(stream, group, member)
        members = f"{self.options.prefix}:{stream}:{group}:members"
        membership = _ZsetMembership(self.client, members)
        reader = _RedisReader(self, stream, group, member)
        return await GroupConsumer(member, membership, reader, self.options).start()

    async def close(self) -> None:
        await self.client.aclose()


async def _now_ms(client: aioredis.Redis) -> int:
    """Redis's clock, so members on machines with skewed clocks agree on expiry."""
    seconds, micros = await client.time()
    return int(seconds) * 1000 + int(micros) // 1000


class _ZsetMembership:
    def __init__(self, client: aioredis.Redis, key: str) -> None:
        self._client = client
        self._key = key
        self._claims = f"{key.removesuffix(':members')}:claims"

    async def renew(self, member: str, ttl_s: float, claims: frozenset[int]) -> None:
        now = await _now_ms(self._client)
        expired: Any = await self._client.zrangebyscore(self._key, "-inf", now)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hset(self._claims, member, claims_text(claims))
            pipe.zadd(self._key, {member: now + int(ttl_s * 1000)})
            if expired:  # tidy the leases of members gone for good
                pipe.zrem(self._key, *expired)
                pipe.hdel(self._claims, *expired)
            await pipe.execute()

    async def alive(self) -> dict[str, frozenset[int]]:
        now = await _now_ms(self._client)
        names: Any = await self._client.zrangebyscore(self._key, now, "+inf")
        if not names:
            return {}
        values: Any = await self._client.hmget(self._claims, names)
        return {
            name.decode(): parse_claims((value or b"").decode())
            for name, value in zip(names, values, strict=True)
        }

    async def leave(self, member: str) -> None:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.zrem(self._key, member)
            pipe.hdel(self._claims, member)
            await pipe.execute()


class _RedisSettle:
    def __init__(self, reader: _RedisReader, partition: int, entry_id: bytes) -> None:
        self._reader = reader
        self._partition = partition
        self._id = entry_id

    async def ack(self) -> None:
        name = self._reader.name(self._partition)
        try:
            await self._reader.client.xack(name, self._reader.group, self._id)
        except RedisError as exc:
            raise BusError(f"Redis XACK {name}: {exc}") from exc

    async def nak(self) -> None:
        # Age the entry past ack_wait so the next XAUTOCLAIM hands it out again.
        reader = self._reader
        idle = reader.ack_wait_ms
        name = reader.name(self._partition)
        await reader.client.xclaim(  # JUSTID: a nak is no delivery, leave the count alone
            name, reader.group, reader.member, 0, [self._id], idle=idle, justid=True
        )
        reader.due.add(self._partition)


class _RedisReader:
    def __init__(self, bus: RedisBus, stream: str, group: str, member: str) -> None:
        self.client = bus.client
        self.stream = stream
        self.group = group
        self.member = member
        self.ack_wait_ms = int(bus.options.ack_wait_s * 1000)
        self.due: set[int] = set()  # partitions to reclaim from on the next fetch
        self._bus = bus
        self._ready: set[int] = set()  # partitions whose group exists
        self._reclaimed: dict[int, float] = {}
        self._ahead: deque[Received] = deque()  # read beyond a fetch's limit, in order

    def name(self, partition: int) -> str:
        return self._bus.stream_key(self.stream, partition)

    async def fetch(
        self, partitions: frozenset[int], max_messages: int, timeout_s: float
    ) -> list[Received]:
        if not partitions:
            await self._take_ahead(partitions, 0)
            await asyncio.sleep(timeout_s)  # nothing owned: wait like an empty read
            return []
        try:
            await self._create_groups(partitions)
            out = await self._reclaim(partitions, max_messages)
            out = out or await self._take_ahead(partitions, max_messages)
            if out:
                return out
            streams: dict[Any, Any] = {self.name(p): ">" for p in sorted(partitions)}
            block = max(1, int(timeout_s * 1000))
            reply: Any = await self.client.xreadgroup(
                self.group, self.member, streams, count=max_messages, block=block
            )
        except RedisError as exc:
            raise BusError(f"Redis read of {self.stream}: {exc}") from exc
        received = [
            self._received(int(name.rsplit(b":", 1)[1]), entry_id, fields, 1)
            for name, entries in reply or []
            for entry_id, fields in entries
        ]
        self._ahead.extend(received[max_messages:])  # COUNT is per stream: keep the rest
        return received[:max_messages]

    async def _take_ahead(self, partitions: frozenset[int], limit: int) -> list[Received]:
        """Up to ``limit`` of what was read ahead; the rest of partitions no longer
        owned goes back."""
        kept: deque[Received] = deque()
        for message in self._ahead:
            if message.partition in partitions:
                kept.append(message)
            else:
                await message.nak()  # its partition moved away meanwhile
        self._ahead = kept
        return [kept.popleft() for _ in range(min(limit, len(kept)))]

    async def stop(self, partitions: frozenset[int]) -> None:
        """Nothing pulls ahead here; what was read goes back at the next fetch."""

    async def close(self) -> None:
        """Hand back what was read ahead; other pending entries come back through
        XAUTOCLAIM."""
        while self._ahead:
            with contextlib.suppress(RedisError):
                await self._ahead.popleft().nak()

    async def _create_groups(self, partitions: frozenset[int]) -> None:
        for partition in partitions - self._ready:
            try:
                await self.client.xgroup_create(
                    self.name(partition), self.group, "0", mkstream=True
                )
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._ready.add(partition)

    async def _reclaim(self, partitions: frozenset[int], limit: int) -> list[Received]:
        """Entries other members (or this one) left unacked past ``ack_wait_s``."""
        now = asyncio.get_running_loop().time()
        period = self.ack_wait_ms / 2000
        out: list[Received] = []
        for partition in sorted(partitions):
            last = self._reclaimed.get(partition)
            if partition not in self.due and last is not None and now - last < period:
                continue
            self.due.discard(partition)
            self._reclaimed[partition] = now
            out.extend(await self._claim(partition, limit - len(out)))
            if len(out) >= limit:
                break
        return out

    async def _claim(self, partition: int, limit: int) -> list[Received]:
        name = self.name(partition)
        reply = await self.client.xautoclaim(
            name, self.group, self.member, self.ack_wait_ms, "0-0", count=limit
        )
        entries = [(entry_id, fields) for entry_id, fields in reply[1] if fields]
        if not entries:
            return []
        pending = await self.client.xpending_range(
            name, self.group, entries[0][0], entries[-1][0], len(entries), self.member
        )
        counts = {row["message_id"]: int(row["times_delivered"]) for row in pending}
        out = []
        for entry_id, fields in entries:
            deliveries = counts.get(entry_id, 2)
            if deliveries > self._bus.options.max_deliver:
                await self._bury(name, entry_id, fields, deliveries)
                continue
            out.append(self._received(partition, entry_id, fields, deliveries))
        return out

    async def _bury(self, name: str, entry_id: bytes, fields: dict[Any, Any], count: int) -> None:
        log.warning("%s: entry %s delivered %d times; moved to dead", name, entry_id, count)
        dead = self._bus.stream_key(self.stream, "dead")
        await self.client.xadd(dead, fields, maxlen=MAXLEN, approximate=True)
        await self.client.xack(name, self.group, entry_id)

    def _received(
        self, partition: int, entry_id: bytes, fields: dict[bytes, bytes], count: int
    ) -> Received:
        key = fields.get(b"k", b"").decode()
        settle = _RedisSettle(self, partition, entry_id)
        return Received(self.stream, key, partition, fields.get(b"d", b""), count, settle)


async def open_redis(url: str, options: BusOptions) -> RedisBus:
    """``redis://[:password@]host:6379/0`` (``rediss://`` is not in the registry yet)."""
    client = aioredis.from_url(url, decode_responses=False)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        where = f"{client.connection_pool.connection_kwargs.get('host')}"  # no password
        raise BusError(f"Redis at {where}: {exc}") from exc
    return RedisBus(client, options)
