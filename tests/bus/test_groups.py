"""Group leases: a member follows the live member list, and lets go of its partitions
when it cannot renew its lease (others own them by then)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from sightwire.bus.base import BusOptions, Received
from sightwire.bus.groups import GroupConsumer

pytestmark = pytest.mark.anyio
OPTIONS = BusOptions(partitions=4, member_ttl_s=0.3)


class Leases:
    """An in-memory lease table that can be cut off like an unreachable broker."""

    def __init__(self) -> None:
        self.others: list[str] = []
        self.down = False

    async def renew(self, member: str, ttl_s: float) -> None:
        if self.down:
            raise ConnectionError("broker unreachable")

    async def alive(self) -> list[str]:
        return list(self.others)

    async def leave(self, member: str) -> None:
        pass


class NoReader:
    async def fetch(self, partitions: frozenset[int], limit: int, timeout: float) -> list[Received]:
        return []

    async def close(self) -> None:
        pass


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


async def test_a_member_follows_the_group_and_lets_go_without_a_lease() -> None:
    leases = Leases()
    consumer = await GroupConsumer("b", leases, NoReader(), OPTIONS).start()
    try:
        assert consumer.partitions == {0, 1, 2, 3}
        leases.others = ["a"]  # a joins: b keeps the upper half (range assignment)
        await until(lambda: consumer.partitions == {2, 3})
        leases.down = True  # b cannot renew: after member_ttl_s it owns nothing
        await until(lambda: not consumer.partitions)
        leases.down, leases.others = False, []
        await until(lambda: consumer.partitions == {0, 1, 2, 3})
    finally:
        await consumer.close()
    assert not consumer.partitions
