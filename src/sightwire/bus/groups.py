"""Group membership for transports that have no partition assignment of their own.

Kafka assigns partitions to group members itself. NATS JetStream and Redis Streams
hand messages to whoever asks, so Sightwire adds the one missing piece on the
broker's own storage: each member renews a lease (a NATS KV key, a Redis sorted-set
score) every third of ``member_ttl_s``; every member reads the live leases and
computes the same range assignment (``partitioning.assign``). A member that dies
stops renewing; once its lease expires the others take its partitions, and its
unacked messages come back to them when their ack deadline passes.

While the member list changes, two members may both read a partition for up to a
renewal period. Each message still goes to one of them (the broker's consumer hands
it out once), so this costs ordering across the hand-over, never a loss.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from sightwire.bus.base import BusOptions, Received
from sightwire.bus.partitioning import assign

log = logging.getLogger(__name__)


def cancelled() -> bool:
    """Whether the running task is being cancelled: some clients (redis-py, nats-py) turn
    a cancellation inside a call into their own error, which a retry loop must not eat."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class Membership(Protocol):
    """Leases of the live members of one group on one stream."""

    async def renew(self, member: str, ttl_s: float) -> None:
        """Keep ``member`` alive for ``ttl_s`` more seconds."""
        ...

    async def alive(self) -> list[str]:
        """Members whose lease has not expired."""
        ...

    async def leave(self, member: str) -> None:
        """Drop ``member``'s lease now."""
        ...


class PartitionReader(Protocol):
    """A transport's reading of given partitions for one group member."""

    async def fetch(
        self, partitions: frozenset[int], max_messages: int, timeout_s: float
    ) -> list[Received]:
        """Messages of ``partitions`` only (new ones, and expired unacked ones)."""
        ...

    async def close(self) -> None:
        """Hand back whatever was fetched ahead and not delivered; release resources."""
        ...


class GroupConsumer:
    """A :class:`~sightwire.bus.base.Consumer` from a membership and a reader."""

    def __init__(
        self, member: str, membership: Membership, reader: PartitionReader, options: BusOptions
    ) -> None:
        self.member = member
        self._membership = membership
        self._reader = reader
        self._options = options
        self._partitions: frozenset[int] = frozenset()
        self._renewals: asyncio.Task[None] | None = None

    @property
    def partitions(self) -> frozenset[int]:
        return self._partitions

    async def start(self) -> GroupConsumer:
        """Take the first lease and the first assignment, then keep renewing."""
        await self._renew_once()
        self._renewals = asyncio.create_task(self._renew_forever(), name=f"lease:{self.member}")
        return self

    async def fetch(self, max_messages: int = 16, timeout_s: float = 1.0) -> list[Received]:
        return await self._reader.fetch(self._partitions, max_messages, timeout_s)

    async def close(self) -> None:
        task, self._renewals = self._renewals, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task}, timeout=5)  # bounded: a client may sit on a dead socket
        await self._reader.close()
        with contextlib.suppress(Exception):  # the lease expires by itself anyway
            async with asyncio.timeout(5):
                await self._membership.leave(self.member)
        self._partitions = frozenset()

    async def _renew_once(self) -> None:
        await self._membership.renew(self.member, self._options.member_ttl_s)
        members = await self._membership.alive()
        if self.member not in members:  # our own lease must count even if the clock lags
            members.append(self.member)
        owned = assign(range(self._options.partitions), members)[self.member]
        if owned != self._partitions:
            log.info("%s owns partitions %s of %d", self.member, sorted(owned), len(members))
            self._partitions = owned

    async def _renew_forever(self) -> None:
        loop = asyncio.get_running_loop()
        ttl = self._options.member_ttl_s
        renewed = loop.time()
        while not cancelled():  # a client that swallowed our cancellation must not keep us
            await asyncio.sleep(ttl / 3)
            try:
                await self._renew_once()
                renewed = loop.time()
            except Exception as exc:  # a broker blip: keep what we own, try again
                if cancelled():  # the client turned our cancellation into its own error
                    raise asyncio.CancelledError from None
                log.warning("%s could not renew its group lease: %s", self.member, exc)
                if loop.time() - renewed > ttl and self._partitions:
                    # Our lease has expired, so others own our partitions now: let go.
                    log.warning("%s lost its lease; reading no partitions", self.member)
                    self._partitions = frozenset()
