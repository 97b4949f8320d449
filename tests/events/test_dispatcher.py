"""The dispatcher against a real HTTP receiver: delivery, retries, breaker, dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from sightwire.config.delivery import BackoffConfig, BreakerConfig, DeliveryConfig
from sightwire.events.dispatcher import Dispatcher
from sightwire.events.metrics import EventMetrics
from sightwire.events.store import Delivery, EventStore
from sightwire.storage.database import open_database
from tests.events.factory import make_event
from tests.events.http_stub import Behaviour, HttpPost, Receiver
from tests.storage.databases import postgres_schema, sqlite_url

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(db_url: str) -> Iterator[EventStore]:
    db = open_database(db_url, migrate=True)
    yield EventStore(db, None, EventMetrics(CollectorRegistry()))
    db.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[EventStore]:
    db = open_database(sqlite_url(tmp_path), migrate=True)
    yield EventStore(db, None, EventMetrics(CollectorRegistry()))
    db.close()


def _config(**changes: object) -> DeliveryConfig:
    values: dict[str, object] = {
        "backoff": BackoffConfig(initial_s=0.1, factor=2, max_s=5, jitter=0.2),
        "breaker": BreakerConfig(threshold=100, cooldown_s=1),
        "attempt_timeout_s": 2,
        "lease_s": 10,
        "poll_s": 0.2,
    }
    return DeliveryConfig.model_validate(values | changes)


def _sample(store: EventStore, name: str, **labels: str) -> float:
    value = store.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def _deliver(
    store: EventStore,
    behaviour: Behaviour,
    events: int,
    config: DeliveryConfig,
    until: object,
    timeout: float = 30,
) -> tuple[Receiver, Dispatcher]:
    """Record ``events`` events for "hook" and dispatch until ``until(receiver)``."""
    with Receiver(behaviour) as receiver:
        action = HttpPost("hook", receiver.url)
        try:
            async with Dispatcher(store, {"hook": action}, config) as dispatcher:
                for _ in range(events):
                    store.record(make_event(), ["hook"])
                await asyncio.to_thread(receiver.wait_for, until, timeout)  # type: ignore[arg-type]
                await _settled(store, dispatcher, timeout)
        finally:
            await action.close()
    return receiver, dispatcher


async def _settled(store: EventStore, dispatcher: Dispatcher, timeout: float) -> None:
    """Wait until the dispatcher has recorded every outcome it has."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not dispatcher.idle:
        assert asyncio.get_running_loop().time() < deadline, "dispatcher never settled"
        await asyncio.sleep(0.01)
    await asyncio.sleep(0)


def _only_delivery(store: EventStore) -> Delivery:
    page = store.query(limit=10)
    assert len(page.events) == 1
    (delivery,) = store.deliveries(page.events[0].id)
    return delivery


async def test_each_event_reaches_each_destination_once_with_a_log(store: EventStore) -> None:
    with Receiver() as first, Receiver() as second:
        actions = {"erp": HttpPost("erp", first.url), "wms": HttpPost("wms", second.url)}
        recorded = []
        async with Dispatcher(store, actions, _config()) as dispatcher:
            for _ in range(25):
                recorded.append(store.record(make_event(), ["erp", "wms"]).id)
            assert await dispatcher.wait_delivered(timeout=30) == 0
        for action in actions.values():
            await action.close()
    assert sorted(first.delivered_ids()) == sorted(recorded)
    assert sorted(second.delivered_ids()) == sorted(recorded)
    assert all(hit.webhook_id == hit.event_id for hit in first.hits)
    for delivery in store.deliveries(recorded[0]):
        assert delivery.state == "delivered" and delivery.attempts == 1
        assert delivery.delivered_at is not None and delivery.delivered_at >= delivery.created_at
        (attempt,) = delivery.log
        assert attempt.ok and attempt.status_code == 200 and attempt.error is None
        assert 0 < attempt.latency_ms < 5000 and attempt.dispatcher == dispatcher.name
    assert (
        _sample(store, "sightwire_deliveries_total", destination="erp", outcome="delivered") == 25
    )
    assert _sample(store, "sightwire_capture_to_action_seconds_count", destination="wms") == 25


async def test_failures_retry_with_growing_delays_then_dead_letter(store: EventStore) -> None:
    config = _config(max_attempts=4)
    await _deliver(store, lambda n: (500, 0.0), 1, config, lambda hits: len(hits) >= 4)
    delivery = _only_delivery(store)
    assert delivery.state == "dead" and delivery.attempts == 4
    assert [a.status_code for a in delivery.log] == [500] * 4
    assert [a.attempt for a in delivery.log] == [1, 2, 3, 4]
    ends = [a.at + a.latency_ms / 1000 for a in delivery.log]
    gaps = [b.at - a for a, b in zip(ends, delivery.log[1:], strict=False)]
    for n, gap in enumerate(gaps, start=1):
        base = 0.1 * 2 ** (n - 1)
        assert base - 0.01 <= gap <= base * 1.2 + 0.25, gaps  # backoff, jitter, a round trip
    assert gaps[0] < gaps[1] < gaps[2]
    assert _sample(store, "sightwire_dead_letters_total", destination="hook") == 1
    assert _sample(store, "sightwire_delivery_retries_total", destination="hook") == 3


async def test_a_slow_receiver_times_out_and_is_retried(sqlite_store: EventStore) -> None:
    config = _config(attempt_timeout_s=0.3, max_attempts=5)

    def slow_then_fast(n: int) -> tuple[int, float]:
        return (200, 1.0) if n == 1 else (200, 0.0)

    await _deliver(
        sqlite_store,
        slow_then_fast,
        1,
        config,
        lambda hits: sum(h.status == 200 for h in hits) >= 2,
    )
    delivery = _only_delivery(sqlite_store)
    assert delivery.state == "delivered" and delivery.attempts == 2
    first, second = delivery.log
    assert not first.ok and first.error == "timed out after 0.3 s"
    assert 250 <= first.latency_ms < 900
    assert second.ok


async def test_a_refusal_that_cannot_be_fixed_dead_letters_at_once(
    sqlite_store: EventStore,
) -> None:
    config = _config(max_attempts=5, breaker=BreakerConfig(threshold=1, cooldown_s=60))
    _, dispatcher = await _deliver(
        sqlite_store, lambda n: (400, 0.0), 2, config, lambda hits: len(hits) >= 2
    )
    for event in sqlite_store.query().events:
        (delivery,) = sqlite_store.deliveries(event.id)
        assert delivery.state == "dead" and delivery.attempts == 1
        assert delivery.last_status_code == 400
    assert dispatcher.lanes["hook"].breaker.state == "closed"  # the destination did answer


async def test_the_breaker_opens_waits_probes_and_closes(sqlite_store: EventStore) -> None:
    cooldown = 0.8
    config = _config(
        concurrency=1,
        max_attempts=3,
        backoff=BackoffConfig(initial_s=0.05, max_s=0.05, jitter=0),
        breaker=BreakerConfig(threshold=3, cooldown_s=cooldown),
    )
    failing = 4  # three trip the breaker, the first probe fails too, the second succeeds

    def recovering(n: int) -> tuple[int, float]:
        return (503, 0.0) if n <= failing else (200, 0.0)

    _, dispatcher = await _deliver(
        sqlite_store, recovering, 5, config, lambda hits: sum(h.status == 200 for h in hits) >= 5
    )
    log = sorted(
        (
            a
            for e in sqlite_store.query().events
            for d in sqlite_store.deliveries(e.id)
            for a in d.log
        ),
        key=lambda a: a.at,
    )
    assert [a.status_code for a in log] == [503] * failing + [200] * 5
    ends = [a.at + a.latency_ms / 1000 for a in log]
    # Open after the third failure: nothing is attempted until the cool-down ends.
    assert log[3].at - ends[2] >= cooldown - 0.01
    # The failed probe opens it again for a whole cool-down.
    assert log[4].at - ends[3] >= cooldown - 0.01
    # Closed again: the waiting deliveries flow at once.
    assert log[-1].at - ends[4] < cooldown
    # Waiting while open used up no attempts: with max_attempts=3 nothing died.
    states = {d.state for e in sqlite_store.query().events for d in sqlite_store.deliveries(e.id)}
    assert states == {"delivered"}
    assert dispatcher.lanes["hook"].breaker.state == "closed"
    assert _sample(sqlite_store, "sightwire_breaker_state", destination="hook") == 0


async def test_attempts_in_flight_stay_within_the_concurrency_limit(
    sqlite_store: EventStore,
) -> None:
    config = _config(concurrency=3)
    receiver, _ = await _deliver(
        sqlite_store, lambda n: (200, 0.1), 12, config, lambda hits: len(hits) >= 12
    )
    assert receiver.most_in_flight == 3


async def test_stopping_gives_unfinished_deliveries_back(sqlite_store: EventStore) -> None:
    config = _config(attempt_timeout_s=5, concurrency=1)
    with Receiver(lambda n: (200, 3.0)) as receiver:
        action = HttpPost("hook", receiver.url)
        dispatcher = Dispatcher(sqlite_store, {"hook": action}, config)
        async with dispatcher:
            ids = [sqlite_store.record(make_event(), ["hook"]).id for _ in range(3)]
            lane = dispatcher.lanes["hook"]
            while not (lane.running and lane.ready):  # one running, one claimed and waiting
                await asyncio.sleep(0.01)
            before = sqlite_store.clock()
            await dispatcher.stop(timeout=0.1)
        await action.close()
    for event_id in ids:
        (delivery,) = sqlite_store.deliveries(event_id)
        assert delivery.state == "pending" and delivery.attempts == 0 and delivery.log == ()
        assert delivery.next_attempt_at <= sqlite_store.clock()  # due at once
    with sqlite_store.db.read() as conn:
        claims = conn.exec_driver_sql("SELECT count(*) FROM deliveries WHERE claim IS NOT NULL")
        assert claims.scalar() == 0
    assert before > 0


async def test_deliveries_for_an_unknown_destination_wait_with_a_warning(
    sqlite_store: EventStore, caplog: pytest.LogCaptureFixture
) -> None:
    gone = sqlite_store.record(make_event(), ["removed-hook"])
    await _deliver(sqlite_store, lambda n: (200, 0.0), 1, _config(), lambda hits: len(hits) >= 1)
    assert "removed-hook (1)" in caplog.text
    assert [d.state for d in sqlite_store.deliveries(gone.id)] == ["pending"]


@pytest.mark.service
async def test_two_dispatchers_share_a_postgres_outbox_without_doubles() -> None:
    with postgres_schema() as url, Receiver(lambda n: (200, 0.005)) as receiver:
        stores = [
            EventStore(open_database(url, migrate=True), None, EventMetrics(CollectorRegistry()))
            for _ in range(2)
        ]
        actions = [HttpPost("hook", receiver.url) for _ in stores]
        ids = [stores[0].record(make_event(), ["hook"]).id for _ in range(200)]
        config = _config(concurrency=4, poll_s=0.05)
        first = Dispatcher(stores[0], {"hook": actions[0]}, config, name="first")
        second = Dispatcher(stores[1], {"hook": actions[1]}, config, name="second")
        async with first, second:
            await asyncio.to_thread(receiver.wait_for, lambda hits: len(hits) >= 200, 60)
            assert await first.wait_delivered(timeout=30) == 0
        for action in actions:
            await action.close()
        delivered = receiver.delivered_ids()
        assert sorted(delivered) == sorted(ids)  # every event, and none twice
        by = {a.dispatcher for i in ids for d in stores[0].deliveries(i) for a in d.log}
        assert by == {"first", "second"}
        for store in stores:
            store.db.close()
