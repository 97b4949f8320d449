"""Hand-over: deliveries recorded in this process reach its dispatcher without a claim
query, written claimed in the event's transaction so that a crash loses nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from sightwire.config.delivery import DeliveryConfig
from sightwire.events import outbox
from sightwire.events.dispatcher import Dispatcher
from sightwire.events.handoff import LocalHandoff
from sightwire.events.lanes import Lane
from sightwire.events.metrics import EventMetrics
from sightwire.events.outbox import Claimed
from sightwire.events.store import EventExistsError, EventStore, NewEvent
from sightwire.events.tables import deliveries
from sightwire.storage.database import open_database
from tests.events.factory import make_event
from tests.events.http_stub import HttpPost, Receiver

pytestmark = pytest.mark.anyio
LEASE_S = 20.0


@pytest.fixture
def store(db_url: str) -> Iterator[EventStore]:
    db = open_database(db_url, migrate=True)
    yield EventStore(db, None, EventMetrics(CollectorRegistry()))
    db.close()


@pytest.fixture
def claimed_by_query(monkeypatch: pytest.MonkeyPatch) -> list[Claimed]:
    """Every delivery a dispatcher's claim query returns."""
    seen: list[Claimed] = []
    real = outbox.claim_due

    def spy(*args: Any) -> list[Claimed]:
        got = real(*args)
        seen.extend(got)
        return got

    monkeypatch.setattr(outbox, "claim_due", spy)
    return seen


def _config(concurrency: int) -> DeliveryConfig:
    return DeliveryConfig(concurrency=concurrency, lease_s=LEASE_S, attempt_timeout_s=5)


def _rows(store: EventStore) -> list[Any]:
    with store.db.read() as conn:
        return list(conn.execute(select(deliveries)).all())


async def test_recorded_deliveries_are_claimed_in_the_transaction_and_handed_over(
    store: EventStore, claimed_by_query: list[Claimed]
) -> None:
    with Receiver(lambda n: (200, 0.5)) as receiver:  # slow: the rows are seen in flight
        action = HttpPost("hook", receiver.url)
        async with Dispatcher(store, {"hook": action}, _config(concurrency=2)) as dispatcher:
            await asyncio.sleep(0.1)  # started: the hand-over is in place
            before = time.time()
            ids = [store.record(make_event(), ["hook"]).id for _ in range(3)]
            rows = _rows(store)
            assert all(r.claim is not None for r in rows)  # written claimed, for this process
            assert all(r.next_attempt_at >= before + LEASE_S for r in rows)  # under a lease
            assert await dispatcher.wait_delivered(timeout=30) == 0
        await action.close()
    assert sorted(receiver.delivered_ids()) == sorted(ids)  # each once
    assert claimed_by_query == []  # none needed the claim query


async def test_beyond_the_lanes_room_deliveries_wait_in_the_outbox(
    store: EventStore, claimed_by_query: list[Claimed]
) -> None:
    with Receiver(lambda n: (200, 0.2)) as receiver:
        action = HttpPost("hook", receiver.url)
        async with Dispatcher(store, {"hook": action}, _config(concurrency=1)) as dispatcher:
            await asyncio.sleep(0.1)
            batch = [NewEvent(make_event(), ["hook"]) for _ in range(5)]
            store.record_many(batch)
            rows = _rows(store)
            assert sum(r.claim is not None for r in rows) == 2  # twice the concurrency
            assert await dispatcher.wait_delivered(timeout=30) == 0
        await action.close()
    assert sorted(receiver.delivered_ids()) == sorted(i.event.id for i in batch)
    assert len(claimed_by_query) == 3  # the rest came through the claim query


async def test_a_refused_transaction_gives_the_room_back(store: EventStore) -> None:
    recorded = store.record(make_event(), [])
    with Receiver() as receiver:
        action = HttpPost("hook", receiver.url)
        async with Dispatcher(store, {"hook": action}, _config(concurrency=2)) as dispatcher:
            await asyncio.sleep(0.1)
            with pytest.raises(EventExistsError):
                store.record_many([NewEvent(make_event(), ["hook"]), NewEvent(recorded, ["hook"])])
            assert dispatcher.lanes["hook"].inbound == 0
            assert _rows(store) == []
            assert dispatcher.lanes["hook"].room(time.time()) == 4
        await action.close()


def test_a_hand_over_that_arrives_after_the_stop_is_released() -> None:
    lane = Lane("hook", concurrency=2, threshold=3, cooldown_s=30)
    released: list[Claimed] = []
    loop = asyncio.new_event_loop()
    handoff = LocalHandoff({"hook": lane}, LEASE_S, loop, _never, _nothing, released.extend)
    reservation = handoff.reserve({"hook": 3}, now=100.0)
    assert reservation is not None and reservation.room == {"hook": 3}
    assert reservation.lease_end == 100.0 + LEASE_S and lane.inbound == 3
    handoff.close()  # the dispatcher stops while the transaction commits
    claims = [_claim(reservation.claim, i) for i in range(3)]
    handoff.recorded(reservation, claims, due=0)
    assert released == claims and lane.inbound == 0
    assert handoff.reserve({"hook": 1}, now=101.0) is None
    loop.close()


def test_no_room_while_the_breaker_is_open_or_probing() -> None:
    lane = Lane("hook", concurrency=2, threshold=1, cooldown_s=30)
    assert lane.room(now=0.0) == 4
    lane.breaker.failed(now=0.0)
    assert lane.room(now=1.0) == 0
    lane.breaker.allowance(now=31.0)  # half-open: one probe, from the outbox
    assert lane.room(now=31.0) == 0


def _claim(token: str, n: int) -> Claimed:
    return Claimed(f"d{n}", f"e{n}", "hook", 0, 0, token, 1.0, "{}")


def _never(_claims: list[Claimed]) -> None:
    raise AssertionError("nothing lands after the stop")


def _nothing() -> None:
    pass


def test_store_offers_to_one_dispatcher_only(tmp_path: Path) -> None:
    store = EventStore(open_database(f"sqlite:///{tmp_path}/e.db", migrate=True))
    loop = asyncio.new_event_loop()
    first = LocalHandoff({}, LEASE_S, loop, _never, _nothing, _never)
    stop = store.hand_over_to(first)
    assert stop is not None
    assert store.hand_over_to(LocalHandoff({}, LEASE_S, loop, _never, _nothing, _never)) is None
    stop()
    assert store.hand_over_to(first) is not None
    loop.close()
    store.db.close()


async def test_no_claim_query_while_everything_is_handed_over(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[dict[str, int]] = []
    real = outbox.claim_due

    def spy(db: Any, cursor: Any, wants: dict[str, int], *rest: Any) -> list[Claimed]:
        asked.append(dict(wants))
        return real(db, cursor, wants, *rest)

    monkeypatch.setattr(outbox, "claim_due", spy)
    config = DeliveryConfig(concurrency=8, lease_s=LEASE_S, attempt_timeout_s=5, poll_s=60)
    with Receiver(lambda n: (200, 0.0)) as receiver:
        action = HttpPost("hook", receiver.url)
        async with Dispatcher(store, {"hook": action}, config) as dispatcher:
            await asyncio.sleep(0.1)  # started: its first round looked at the outbox
            first = [w for w in asked if w]
            for _ in range(20):
                store.record(make_event(), ["hook"])
                await asyncio.sleep(0.01)  # one at a time: always room to hand over
            assert await dispatcher.wait_delivered(timeout=30) == 0
        await action.close()
    assert len(receiver.delivered_ids()) == 20
    assert [w for w in asked if w] == first  # rounds recorded outcomes, claimed nothing


async def test_deliveries_written_due_are_still_found_by_the_poll(store: EventStore) -> None:
    config = DeliveryConfig(concurrency=2, lease_s=LEASE_S, attempt_timeout_s=5, poll_s=0.2)
    with Receiver(lambda n: (200, 0.0)) as receiver:
        action = HttpPost("hook", receiver.url)
        async with Dispatcher(store, {"hook": action}, config) as dispatcher:
            await asyncio.sleep(0.1)
            event = store.record(make_event(), ["hook"])
            assert await dispatcher.wait_delivered(timeout=30) == 0
            assert store.replay([event.id]) == 1  # due again; no hand-over, no wake-up
            assert await dispatcher.wait_delivered(timeout=30) == 0
        await action.close()
    assert receiver.delivered_ids() == [event.id, event.id]
