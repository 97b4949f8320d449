"""Group leases: a member follows the live member list, takes a partition only once
no other live lease claims it, and lets go of everything when its lease may have
lapsed (a lost broker, a stalled process)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from sightwire.bus.base import BusOptions, Received
from sightwire.bus.groups import GroupConsumer

pytestmark = pytest.mark.anyio
OPTIONS = BusOptions(partitions=4, member_ttl_s=0.3)


class Leases:
    """An in-memory lease table that can be cut off like an unreachable broker."""

    def __init__(self) -> None:
        self.others: dict[str, frozenset[int]] = {}
        self.claims: dict[str, frozenset[int]] = {}  # what each renewal claimed, last
        self.history: list[frozenset[int]] = []  # every claim put, in order
        self.first_seen: int | None = None  # len(history) when others were first listed
        self.on_renew: Callable[[frozenset[int]], None] = lambda claims: None
        self.down = False

    async def renew(self, member: str, ttl_s: float, claims: frozenset[int]) -> None:
        if self.down:
            raise ConnectionError("broker unreachable")
        self.claims[member] = claims
        self.history.append(claims)
        self.on_renew(claims)

    async def alive(self) -> dict[str, frozenset[int]]:
        if self.others and self.first_seen is None:
            self.first_seen = len(self.history)
        return dict(self.others)

    async def leave(self, member: str) -> None:
        pass


class NoReader:
    async def fetch(self, partitions: frozenset[int], limit: int, timeout: float) -> list[Received]:
        return []

    async def stop(self, partitions: frozenset[int]) -> None:
        pass

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
        leases.others = {"a": frozenset()}  # a joins: b keeps the upper half (range assignment)
        await until(lambda: consumer.partitions == {2, 3})
        epoch = consumer.epoch
        leases.down = True  # b cannot renew: after member_ttl_s it owns nothing
        await until(lambda: not consumer.partitions)
        assert consumer.epoch == epoch + 1 and not consumer.owns(2)
        leases.down, leases.others = False, {}
        await until(lambda: consumer.partitions == {0, 1, 2, 3})
    finally:
        await consumer.close()
    assert not consumer.partitions


async def test_a_partition_is_taken_only_once_its_owner_lets_go() -> None:
    leases = Leases()
    leases.others = {"a": frozenset({0, 1, 2, 3})}  # a still reads all four
    consumer = await GroupConsumer("b", leases, NoReader(), OPTIONS).start()
    try:
        assert consumer.partitions == frozenset()  # {2, 3} are b's, but a claims them
        await asyncio.sleep(OPTIONS.member_ttl_s)  # renewals go by; a still claims them
        assert consumer.partitions == frozenset()
        leases.others = {"a": frozenset({0, 1})}  # a let go of its upper half
        await until(lambda: consumer.partitions == {2, 3})
        assert leases.claims["b"] <= {2, 3}
        await until(lambda: leases.claims["b"] == {2, 3})  # b's lease says so to the others
    finally:
        await consumer.close()


async def test_of_two_members_claiming_a_partition_at_once_one_backs_off() -> None:
    leases = Leases()
    leases.others = {"a": frozenset()}  # b's half is {2, 3}; nobody claims them yet

    def a_claims_too(claims: frozenset[int]) -> None:  # a claims {2, 3} as b does, once
        if claims >= {2, 3}:
            leases.others = {"a": frozenset({2, 3})}
            leases.on_renew = lambda claims: None

    leases.on_renew = a_claims_too
    consumer = await GroupConsumer("b", leases, NoReader(), OPTIONS).start()
    try:
        assert consumer.partitions == frozenset()  # b saw a's claim after writing its own
        assert leases.claims["b"] == frozenset()  # and withdrew it at once
        leases.others = {"a": frozenset()}  # a backed off too: b takes them next time
        await until(lambda: consumer.partitions == {2, 3})
    finally:
        await consumer.close()


async def test_a_dropped_partition_stays_claimed_one_renewal_more() -> None:
    leases = Leases()
    consumer = await GroupConsumer("b", leases, NoReader(), OPTIONS).start()
    try:
        assert consumer.partitions == {0, 1, 2, 3}
        leases.others = {"a": frozenset()}
        await until(lambda: consumer.partitions == {2, 3})
        await until(lambda: leases.claims["b"] == {2, 3})
        # Dropped at once (the renewal that first listed a), but claimed in the next
        # renewal too (time for the worker to hand back what it held), then no more.
        after = leases.history[leases.first_seen :]
        assert after[:2] == [frozenset({0, 1, 2, 3}), frozenset({2, 3})]
    finally:
        await consumer.close()


async def test_a_stalled_member_owns_nothing_before_its_renewal_runs_again() -> None:
    leases = Leases()
    consumer = await GroupConsumer("b", leases, NoReader(), OPTIONS).start()
    try:
        epoch = consumer.epoch
        assert consumer.owns(0)
        time.sleep(OPTIONS.member_ttl_s * 1.2)  # the whole event loop stalls: no renewal runs
        assert not consumer.owns(0)
        assert consumer.partitions == frozenset()
        assert consumer.epoch == epoch + 1
        await until(lambda: consumer.partitions == {0, 1, 2, 3})  # nobody else claimed them
        assert consumer.epoch == epoch + 1
    finally:
        await consumer.close()
