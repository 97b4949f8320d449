"""Group membership for transports that have no partition assignment of their own.

Kafka assigns partitions to group members itself. NATS JetStream and Redis Streams
hand messages to whoever asks, so Sightwire adds the missing piece on the broker's
own storage: each member renews a lease (a NATS KV key, a Redis sorted-set score)
every third of ``member_ttl_s``, and the lease says which partitions the member
reads (its *claims*). Every member reads the live leases and computes the same range
assignment (``partitioning.assign``).

A partition changes hands only once its old owner lets go, so two members never read
one partition at once (which would split a camera's frames between two trackers):

- a member takes a partition the assignment gives it only when no other live lease
  claims it, and claims it before it reads it (then looks again, so that of two
  members claiming at once, one backs off);
- a member drops a partition the assignment moved away at once, and keeps claiming
  it for one more renewal, time for its worker to hand back what it held;
- a member whose lease may have lapsed (no renewal for ``member_ttl_s``: a starved
  or suspended process) reads nothing and counts a new ``epoch``, so state it kept
  from before is dropped; a dead member's lease expires and frees its claims.

>>> # consumer = await GroupConsumer("w-1", membership, reader, options).start()
>>> # consumer.owns(3), consumer.epoch
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
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

    async def renew(self, member: str, ttl_s: float, claims: frozenset[int]) -> None:
        """Keep ``member`` alive for ``ttl_s`` more seconds, claiming ``claims``."""
        ...

    async def alive(self) -> dict[str, frozenset[int]]:
        """Members whose lease has not expired, with the partitions each claims."""
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

    async def stop(self, partitions: frozenset[int]) -> None:
        """Stop fetching ahead from ``partitions`` now (they moved away); what was
        fetched already goes back at the next :meth:`fetch`."""
        ...

    async def close(self) -> None:
        """Hand back whatever was fetched ahead and not delivered; release resources."""
        ...


def claims_text(claims: frozenset[int]) -> str:
    """How a lease stores its claims: ``0,1,5`` (``parse_claims`` reads it back).

    >>> claims_text(frozenset({5, 0, 1})), parse_claims("0,1,5") == {0, 1, 5}
    ('0,1,5', True)
    """
    return ",".join(map(str, sorted(claims)))


def parse_claims(text: str) -> frozenset[int]:
    """The partitions of a lease's ``claims_text`` (empty text: none)."""
    return frozenset(int(part) for part in text.split(",") if part)


def _claimed_by_others(leases: dict[str, frozenset[int]], member: str) -> frozenset[int]:
    return frozenset().union(*(claims for name, claims in leases.items() if name != member))


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
        self._releasing: frozenset[int] = frozenset()  # dropped; claimed one renewal more
        self._valid_until = 0.0  # time.monotonic() when the lease may lapse
        self._epoch = 0
        self._renewals: asyncio.Task[None] | None = None

    @property
    def partitions(self) -> frozenset[int]:
        if self._partitions and time.monotonic() >= self._valid_until:
            self._lapse()
        return self._partitions

    @property
    def epoch(self) -> int:
        return self._epoch

    def owns(self, partition: int) -> bool:
        return partition in self._partitions and time.monotonic() < self._valid_until

    async def start(self) -> GroupConsumer:
        """Take the first lease and the first assignment, then keep renewing."""
        await self._renew_once()
        self._renewals = asyncio.create_task(self._renew_forever(), name=f"lease:{self.member}")
        return self

    async def fetch(self, max_messages: int = 16, timeout_s: float = 1.0) -> list[Received]:
        return await self._reader.fetch(self.partitions, max_messages, timeout_s)

    async def pause(self) -> None:
        await self._reader.stop(self._partitions)

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

    def _lapse(self) -> None:
        """Our lease may have expired, so others may own our partitions: let go."""
        log.warning("%s: lease not renewed for %.1f s; reading no partitions",
                    self.member, self._options.member_ttl_s)  # fmt: skip
        self._partitions = self._releasing = frozenset()
        self._epoch += 1

    async def _renew_once(self) -> None:
        started = time.monotonic()  # the lease runs from before the broker stores it
        if self._partitions and started >= self._valid_until:
            self._lapse()
        claims = self._partitions | self._releasing
        await self._membership.renew(self.member, self._options.member_ttl_s, claims)
        leases = await self._membership.alive()
        leases[self.member] = claims  # our own lease counts even if the clock lags
        target = assign(range(self._options.partitions), sorted(leases))[self.member]
        owned = self._partitions & target
        gain = target - self._partitions - _claimed_by_others(leases, self.member)
        if gain:
            gain = await self._claim(claims, gain)
        self._releasing = self._partitions - owned
        if self._releasing:  # before anyone sees the change and hands frames back
            await self._reader.stop(self._releasing)
        self._valid_until = started + self._options.member_ttl_s
        if owned | gain != self._partitions:
            waiting = sorted(target - owned - gain)
            log.info("%s owns partitions %s of %d members%s", self.member, sorted(owned | gain),
                     len(leases), f"; {waiting} when let go" if waiting else "")  # fmt: skip
            self._partitions = owned | gain

    async def _claim(self, claims: frozenset[int], gain: frozenset[int]) -> frozenset[int]:
        """Claim ``gain``, then look again and keep what nobody else claims.

        Of two members that claim one partition at once, each writes its claim before
        it looks, so at least one of them sees the other's and backs off."""
        ttl = self._options.member_ttl_s
        await self._membership.renew(self.member, ttl, claims | gain)
        kept = gain - _claimed_by_others(await self._membership.alive(), self.member)
        if kept != gain:
            await self._membership.renew(self.member, ttl, claims | kept)
        return kept

    async def _renew_forever(self) -> None:
        while not cancelled():  # a client that swallowed our cancellation must not keep us
            await asyncio.sleep(self._options.member_ttl_s / 3)
            try:
                await self._renew_once()
            except Exception as exc:  # a broker blip: keep what we own until the lease lapses
                if cancelled():  # the client turned our cancellation into its own error
                    raise asyncio.CancelledError from None
                log.warning("%s could not renew its group lease: %s", self.member, exc)
