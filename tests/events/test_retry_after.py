"""A receiver's ``Retry-After`` reaches the result and the dispatcher waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from sightwire.actions.base import ActionResult
from sightwire.actions.delivery import answer_result
from sightwire.config.delivery import BackoffConfig, DeliveryConfig
from sightwire.core import Event
from sightwire.events.dispatcher import Dispatcher
from sightwire.events.metrics import EventMetrics
from sightwire.events.store import EventStore
from sightwire.storage.database import open_database
from tests.events.factory import make_event
from tests.storage.databases import sqlite_url

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    db = open_database(sqlite_url(tmp_path), migrate=True)
    yield EventStore(db, None, EventMetrics(CollectorRegistry()))
    db.close()


class BusyThenFine:
    """Answers 429 with ``Retry-After`` once, then accepts; notes when each try came."""

    name = "hook"

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        self.tries: list[float] = []

    def accepts(self, event: Event) -> bool:
        return True

    async def send(self, event: Event) -> ActionResult:
        self.tries.append(asyncio.get_running_loop().time())
        if len(self.tries) == 1:
            return ActionResult(ok=False, status_code=429, retry_after_s=self.retry_after_s)
        return ActionResult(ok=True, status_code=200)

    async def close(self) -> None:
        pass


def test_the_header_becomes_a_field_of_the_result() -> None:
    result = answer_result(429, "Too Many Requests", {"retry-after": "42"}, b"slow down")
    assert result.retryable and result.retry_after_s == 42.0
    assert "retry-after=42" in result.detail
    assert answer_result(503, "Unavailable", {}, b"").retry_after_s is None


async def _gap(store: EventStore, retry_after_s: float, max_s: float) -> float:
    action = BusyThenFine(retry_after_s)
    config = DeliveryConfig(
        backoff=BackoffConfig(initial_s=0.05, max_s=max_s, jitter=0), poll_s=0.05
    )
    async with Dispatcher(store, {"hook": action}, config) as dispatcher:
        store.record(make_event(), ["hook"])
        assert await dispatcher.wait_delivered(timeout=20) == 0
    return action.tries[1] - action.tries[0]


async def test_the_dispatcher_waits_as_long_as_the_receiver_asks(store: EventStore) -> None:
    assert await _gap(store, retry_after_s=0.8, max_s=5) >= 0.8  # not the 0.05 s backoff


async def test_but_no_longer_than_its_longest_backoff(store: EventStore) -> None:
    assert await _gap(store, retry_after_s=3600, max_s=0.3) < 2.0
