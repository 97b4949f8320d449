"""The in-process bus (``memory://``): the embedded default, one asyncio loop.

It keeps the same contract as the real transports — partitions by key, groups that
split partitions, ack deadlines, redelivery — so code written against it runs
unchanged on NATS or Kafka. Nothing survives the process; it is not a broker.

>>> # bus = await open_bus("memory://?partitions=4&ack_wait_s=5")
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from sightwire.bus.base import BusOptions, Received, check_names
from sightwire.bus.groups import GroupConsumer
from sightwire.bus.partitioning import partition_of

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    member: str
    deadline: float
    deliveries: int


@dataclass
class _Group:
    cursors: dict[int, int] = field(default_factory=dict)
    pending: dict[tuple[int, int], _Pending] = field(default_factory=dict)
    members: dict[str, tuple[float, frozenset[int]]] = field(default_factory=dict)  # until


class MemoryBus:
    """Streams as lists in memory, shared by every consumer of this object."""

    def __init__(self, options: BusOptions | None = None) -> None:
        self.options = options or BusOptions()
        self._logs: dict[str, list[list[tuple[str, bytes]]]] = {}
        self._groups: dict[tuple[str, str], _Group] = {}
        self._pulse = asyncio.Event()

    def __repr__(self) -> str:
        return f"MemoryBus(partitions={self.options.partitions})"

    async def publish(self, stream: str, key: str, payload: bytes) -> None:
        check_names(stream)
        self._log(stream)[partition_of(key, self.options.partitions)].append((key, payload))
        self.wake()

    async def consumer(self, stream: str, group: str, member: str) -> GroupConsumer:
        check_names(stream, group, member)
        state = self._groups.setdefault((stream, group), _Group())
        reader = _MemoryReader(self, stream, state, member)
        return await GroupConsumer(member, _MemoryMembership(state), reader, self.options).start()

    async def close(self) -> None:
        self.wake()

    def wake(self) -> None:
        """Wake every waiting fetch: something arrived or came back."""
        self._pulse.set()
        self._pulse = asyncio.Event()

    async def wait(self, timeout_s: float) -> None:
        pulse = self._pulse
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pulse.wait(), timeout_s)

    def _log(self, stream: str) -> list[list[tuple[str, bytes]]]:
        return self._logs.setdefault(stream, [[] for _ in range(self.options.partitions)])


class _MemoryMembership:
    def __init__(self, group: _Group) -> None:
        self._group = group

    async def renew(self, member: str, ttl_s: float, claims: frozenset[int]) -> None:
        self._group.members[member] = (asyncio.get_running_loop().time() + ttl_s, claims)

    async def alive(self) -> dict[str, frozenset[int]]:
        now = asyncio.get_running_loop().time()
        members = self._group.members.items()
        return {name: claims for name, (until, claims) in members if until > now}

    async def leave(self, member: str) -> None:
        self._group.members.pop(member, None)


class _MemorySettle:
    def __init__(self, reader: _MemoryReader, slot: tuple[int, int]) -> None:
        self._reader = reader
        self._slot = slot

    async def ack(self) -> None:
        self._reader.group.pending.pop(self._slot, None)

    async def nak(self) -> None:
        pending = self._reader.group.pending.get(self._slot)
        if pending is not None:
            pending.deadline = 0.0
            self._reader.bus.wake()


class _MemoryReader:
    def __init__(self, bus: MemoryBus, stream: str, group: _Group, member: str) -> None:
        self.bus = bus
        self.stream = stream
        self.group = group
        self.member = member

    async def fetch(
        self, partitions: frozenset[int], max_messages: int, timeout_s: float
    ) -> list[Received]:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        while True:
            taken = self._take(partitions, max_messages, loop.time())
            remaining = end - loop.time()
            if taken or remaining <= 0:
                return taken
            await self.bus.wait(min(remaining, self._next_expiry(partitions, loop.time())))

    async def stop(self, partitions: frozenset[int]) -> None:
        """Nothing pulls ahead here; what was read goes back at the next fetch."""

    async def close(self) -> None:
        # A closing member hands its unacked messages straight back.
        for pending in self.group.pending.values():
            if pending.member == self.member:
                pending.deadline = 0.0
        self.bus.wake()

    def _take(self, partitions: frozenset[int], limit: int, now: float) -> list[Received]:
        log_ = self.bus._log(self.stream)
        out: list[Received] = []
        for slot, pending in sorted(self.group.pending.items()):
            if len(out) >= limit:
                return out
            if slot[0] in partitions and pending.deadline <= now:
                if pending.deliveries >= self.bus.options.max_deliver:
                    log.warning(
                        "%s: dropping %s after %d deliveries", self.stream, slot, pending.deliveries
                    )
                    del self.group.pending[slot]
                    continue
                out.append(self._deliver(slot, log_, pending.deliveries + 1, now))
        for partition in sorted(partitions):
            entries = log_[partition]
            while len(out) < limit and self.group.cursors.get(partition, 0) < len(entries):
                index = self.group.cursors.get(partition, 0)
                self.group.cursors[partition] = index + 1
                out.append(self._deliver((partition, index), log_, 1, now))
        return out

    def _deliver(
        self, slot: tuple[int, int], log_: list[list[tuple[str, bytes]]], count: int, now: float
    ) -> Received:
        deadline = now + self.bus.options.ack_wait_s
        self.group.pending[slot] = _Pending(self.member, deadline, count)
        key, payload = log_[slot[0]][slot[1]]
        return Received(self.stream, key, slot[0], payload, count, _MemorySettle(self, slot))

    def _next_expiry(self, partitions: frozenset[int], now: float) -> float:
        deadlines = [
            pending.deadline - now
            for (partition, _), pending in self.group.pending.items()
            if partition in partitions
        ]
        return max(0.01, min(deadlines, default=self.bus.options.ack_wait_s))


async def open_memory(url: str, options: BusOptions) -> MemoryBus:
    """``memory://``: a fresh in-process bus (each call a separate one)."""
    return MemoryBus(options)
