"""The dispatcher: empties the outbox into actions, with retries, breakers and a log.

One asyncio loop per dispatcher, one database thread. Each round, in one
transaction, it records the outcomes of finished attempts and claims due deliveries
for every destination that has room (see :class:`~sightwire.events.lanes.Lane`:
``concurrency`` attempts running and as many claimed, ready to start; none while
the destination's breaker is open, one probe when it is half-open). Each delivery
is one attempt: ``action.send(event)`` under ``attempt_timeout_s``. A failed
attempt is retried after an exponential backoff with jitter, or dead-lettered after
``max_attempts`` (at once when the action says retrying cannot help).

Deliveries recorded in this process skip the claim query: the store writes them
already claimed for this dispatcher, as many as its lanes have room for, and hands
them over in memory after the commit (:mod:`sightwire.events.handoff`); the rest
wait in the outbox for the next round. A destination's claim query runs only when
something may be due for it: after a wake-up (a delivery written due, a replay),
when its last claim filled up (more may wait), when a retry or the earliest due
delivery the last query saw falls due, and at least every ``poll_s`` (deliveries
other processes wrote). While everything is handed over, a round only records
outcomes. A ``Retry-After`` the receiver sent
(``ActionResult.retry_after_s``) stretches the backoff, up to ``backoff.max_s``.

Several dispatchers can share a PostgreSQL outbox (claims skip locked rows); on
SQLite run one per database: at start it makes every claimed delivery due again,
so deliveries a killed process had in flight are retried at once. Elsewhere they
fall due when their claim's lease ends.

>>> # async with Dispatcher(store, build_actions(config), config.delivery) as dispatcher:
>>> #     await dispatcher.wait_delivered(timeout=30)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

from pydantic import ValidationError

from sightwire.actions.base import Action, ActionResult
from sightwire.config.delivery import DeliveryConfig
from sightwire.core.event import Event
from sightwire.core.ids import new_id
from sightwire.events import outbox
from sightwire.events.breaker import retry_delay
from sightwire.events.handoff import LocalHandoff
from sightwire.events.lanes import Lane
from sightwire.events.outbox import Claimed, Outcome
from sightwire.events.store import EventStore
from sightwire.events.tables import DEAD, DELIVERED, PENDING

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ERROR_CHARS = 2000


class Dispatcher:
    """Delivers an event store's outbox through ``actions`` (destination name → action)."""

    def __init__(
        self,
        store: EventStore,
        actions: Mapping[str, Action],
        config: DeliveryConfig | None = None,
        *,
        name: str | None = None,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
        hand_over: bool = True,
    ) -> None:
        self.store = store
        self.actions = dict(actions)
        self.config = config or DeliveryConfig()
        self.name = name or f"{socket.gethostname()}:{new_id()[-8:]}"
        self.clock = clock
        self.rand = rand
        breaker = self.config.breaker
        self.lanes = {
            d: Lane(d, self.config.concurrency, breaker.threshold, breaker.cooldown_s)
            for d in self.actions
        }
        self._tasks: set[asyncio.Task[None]] = set()
        self._outcomes: list[Outcome] = []
        self._signal = asyncio.Event()
        self._stopping = False
        self._stop_timeout = 5.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._runner: asyncio.Task[None] | None = None
        self._handoff: LocalHandoff | None = None
        self._stop_handoff: Callable[[], None] = _nothing
        self.hand_over = hand_over
        self._due_at = dict.fromkeys(self.lanes, 0.0)  # next claim query (0: now)

    async def __aenter__(self) -> Dispatcher:
        self._runner = asyncio.create_task(self.run(), name=f"dispatcher {self.name}")
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def wake(self) -> None:
        """Look at the outbox now (safe to call from any thread)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._look_now)

    def _look_now(self) -> None:
        """On the loop: claim for every destination in the next round."""
        self._due_at = dict.fromkeys(self.lanes, 0.0)
        self._signal.set()

    @property
    def idle(self) -> bool:
        """Nothing claimed, running or waiting to be recorded."""
        return not self._outcomes and not any(lane.busy for lane in self.lanes.values())

    async def run(self) -> None:
        """Deliver until :meth:`stop` is called."""
        self._loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="sightwire-outbox")
        unsubscribe = _nothing
        try:
            if self.store.db.dialect == "sqlite":
                await self._db(outbox.release_all, self.store.db, self.clock())
            await self._db(self._warn_of_strangers)
            if not self._take_handoff():  # after release_all, which would release them too
                unsubscribe = self.store.on_record(self.wake)
            while not self._stopping:
                self._signal.clear()
                try:
                    next_due = await self._round()
                except self.store.db.errors as exc:  # the database is away: keep trying
                    log.warning("dispatcher %s: database error: %s", self.name, exc)
                    next_due = None
                await self._sleep(next_due)
            await self._finish()
        finally:
            self._close_handoff()
            unsubscribe()
            self._executor.shutdown(wait=True)
            self._executor = None

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop claiming; let attempts in flight finish for up to ``timeout`` seconds.

        Attempts still running then are cancelled; they and claimed deliveries that
        never started are made due again.
        """
        self._stopping = True
        self._stop_timeout = timeout
        self._signal.set()
        if self._runner is not None:
            await self._runner

    async def wait_delivered(self, timeout: float) -> int:
        """Wait until nothing is pending for this dispatcher's destinations.

        Returns how many deliveries are still pending (0 when all were made).
        """
        deadline = time.monotonic() + timeout
        while True:
            left = await asyncio.to_thread(self.store.pending, list(self.actions))
            if left == 0 or time.monotonic() >= deadline:
                return left
            await asyncio.sleep(min(0.05, max(deadline - time.monotonic(), 0)))

    def _warn_of_strangers(self) -> None:
        pending = self.store.pending_by_destination()
        unknown = {d: n for d, n in pending.items() if d not in self.actions}
        if unknown:
            listed = ", ".join(f"{d} ({n})" for d, n in sorted(unknown.items()))
            log.warning(
                "deliveries wait for destinations this dispatcher does not have: %s; "
                "they stay queued until a dispatcher with those actions runs",
                listed,
            )

    async def _round(self) -> float | None:
        now = self.clock()
        outcomes, self._outcomes = self._outcomes, []
        returned = [c for lane in self.lanes.values() for c in lane.give_back(now)]
        for c in returned:
            self._due_at[c.destination] = 0.0
        wants = {
            d: n
            for d, lane in self.lanes.items()
            if now >= self._due_at[d] and (n := lane.wants(now)) > 0
        }
        for destination, lane in self.lanes.items():
            self.store.metrics.breaker_state(destination, lane.breaker.state)
        if not outcomes and not returned and not wants:
            return self._next_look(now)
        try:
            claimed, next_due = await self._db(self._exchange, outcomes, returned, wants, now)
        except BaseException:
            self._outcomes[:0] = outcomes  # recorded with the next round
            for c in returned:
                self.lanes[c.destination].ready.append(c)
            raise
        for delivery in claimed:
            self.lanes[delivery.destination].ready.append(delivery)
        self._start_ready()
        self._claimed(wants, claimed, next_due, now)
        return self._next_look(now)

    def _claimed(
        self, wants: dict[str, int], claimed: list[Claimed], next_due: float | None, now: float
    ) -> None:
        """When to ask each destination claimed for again: at once if it got all it
        wanted (more may be due), else when the earliest pending falls due (or poll_s)."""
        got = dict.fromkeys(wants, 0)
        for c in claimed:
            got[c.destination] += 1
        later = min(next_due if next_due is not None else float("inf"), now + self.config.poll_s)
        for destination, want in wants.items():
            self._due_at[destination] = 0.0 if got[destination] >= want else later

    def _next_look(self, now: float) -> float | None:
        """The earliest time a claim query is planned for."""
        return min((at for at in self._due_at.values() if at > now), default=None)

    def _exchange(
        self, outcomes: list[Outcome], returned: list[Claimed], wants: dict[str, int], now: float
    ) -> tuple[list[Claimed], float | None]:
        """One transaction: record outcomes, give claims back, claim more."""
        db = self.store.db
        with db.cursor() as cursor:
            outbox.record_outcomes(db, cursor, outcomes)
            outbox.release(db, cursor, returned, now)
            claimed = outbox.claim_due(db, cursor, wants, now, self.config.lease_s)
            got = dict.fromkeys(wants, 0)
            for c in claimed:
                got[c.destination] += 1
            waiting = [d for d, want in wants.items() if want > got[d]]
            return claimed, outbox.next_due(db, cursor, waiting)

    async def _sleep(self, next_due: float | None) -> None:
        wake_at = [self.clock() + self.config.poll_s]
        if next_due is not None:
            wake_at.append(next_due)
        for lane in self.lanes.values():
            if (reopens := lane.breaker.reopens_at()) is not None:
                wake_at.append(reopens)
        delay = max(min(wake_at) - self.clock(), 0.0)
        if delay > 0 and not self._signal.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._signal.wait(), delay)
        if self._signal.is_set() and not self._stopping and self.config.gather_s > 0:
            await asyncio.sleep(self.config.gather_s)  # let a burst of events share a round

    def _start_ready(self) -> None:
        now = self.clock()
        for lane in self.lanes.values():
            for delivery in lane.take(now):
                task = asyncio.create_task(self._attempt(delivery))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _attempt(self, delivery: Claimed) -> None:
        at = self.clock()
        started = time.perf_counter()
        result = await self._send(delivery)
        latency_ms = (time.perf_counter() - started) * 1000
        self._finished(delivery, result, at, latency_ms)
        self._start_ready()  # a slot is free: the next claimed delivery goes now
        self._signal.set()

    async def _send(self, delivery: Claimed) -> ActionResult:
        try:
            event = delivery.event or Event.model_validate_json(delivery.cloudevent)
        except ValidationError as exc:
            return ActionResult(ok=False, retryable=False, detail=f"stored event is invalid: {exc}")
        timeout = self.config.attempt_timeout_s
        try:
            async with asyncio.timeout(timeout):
                return await self.actions[delivery.destination].send(event)
        except TimeoutError:
            return ActionResult(ok=False, detail=f"timed out after {timeout:g} s")
        except Exception as exc:  # an action must not raise; if one does, retry
            log.exception("action %s raised", delivery.destination)
            return ActionResult(ok=False, detail=f"{type(exc).__name__}: {exc}")

    def _finished(
        self, delivery: Claimed, result: ActionResult, at: float, latency_ms: float
    ) -> None:
        destination = delivery.destination
        lane = self.lanes[destination]
        lane.running.pop(delivery.id, None)
        attempt = delivery.attempts + 1
        now = at + latency_ms / 1000
        metrics = self.store.metrics
        if result.ok:
            state, next_at = DELIVERED, now
            first = delivery.replays == 0
            metrics.delivered(destination, now - delivery.captured_at if first else None)
        elif not result.retryable or attempt >= self.config.max_attempts:
            state, next_at = DEAD, now
            metrics.failed(destination, dead=True)
        else:
            state = PENDING
            next_at = now + self._retry_delay(attempt, result)
            metrics.failed(destination, dead=False)
            self._due_at[destination] = min(self._due_at[destination], next_at)
        answered = result.ok or not result.retryable  # a refusal is an answer too
        if lane.breaker.succeeded() if answered else lane.breaker.failed(now):
            log.warning("destination %s: circuit breaker %s", destination, lane.breaker.state)
            metrics.breaker_state(destination, lane.breaker.state)
        error = None if result.ok else (result.detail or f"status {result.status_code}")
        self._outcomes.append(
            Outcome(
                delivery_id=delivery.id,
                claim=delivery.claim,
                attempt=attempt,
                at=at,
                ok=result.ok,
                status_code=result.status_code,
                latency_ms=round(latency_ms, 3),
                error=error[:MAX_ERROR_CHARS] if error else None,
                state=state,
                next_attempt_at=next_at,
                dispatcher=self.name,
            )
        )

    def _land(self, claimed: list[Claimed]) -> None:
        """Deliveries the store just recorded, claimed for this dispatcher (on the loop)."""
        for delivery in claimed:
            self.lanes[delivery.destination].ready.append(delivery)
        if not self._stopping:
            self._start_ready()

    def _release(self, claimed: list[Claimed]) -> None:
        """Hand-overs that came too late (stopped): due again, for any dispatcher."""
        db = self.store.db
        with db.cursor() as cursor:
            outbox.release(db, cursor, claimed, self.clock())

    def _take_handoff(self) -> bool:
        """Take the deliveries this process records straight from the store, if it may."""
        if not self.hand_over or self._loop is None:
            return False
        handoff = LocalHandoff(
            self.lanes, self.config.lease_s, self._loop, self._land, self.wake, self._release
        )
        stop = self.store.hand_over_to(handoff)
        if stop is None:
            return False
        self._handoff, self._stop_handoff = handoff, stop
        return True

    def _close_handoff(self) -> None:
        if self._handoff is not None:
            self._handoff.close()
            self._stop_handoff()
            self._handoff = None

    def _retry_delay(self, attempt: int, result: ActionResult) -> float:
        """The backoff, or longer if the receiver asked (``Retry-After``), capped at the
        longest backoff so that a receiver cannot park deliveries for days."""
        delay = retry_delay(attempt, self.config.backoff, self.rand)
        if result.retry_after_s is not None:
            delay = max(delay, min(result.retry_after_s, self.config.backoff.max_s))
        return delay

    async def _finish(self) -> None:
        """Wait for running attempts (up to the stop timeout), record, give back the rest."""
        self._close_handoff()
        await asyncio.sleep(0)  # hand-overs scheduled before the close land in the lanes
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self._stop_timeout)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        outcomes, self._outcomes = self._outcomes, []
        unfinished = []
        for lane in self.lanes.values():
            unfinished += [*lane.ready, *lane.running.values()]
            lane.ready.clear()
            lane.running.clear()
        await self._db(self._give_back_all, outcomes, unfinished)

    def _give_back_all(self, outcomes: list[Outcome], unfinished: list[Claimed]) -> None:
        db = self.store.db
        with db.cursor() as cursor:
            outbox.record_outcomes(db, cursor, outcomes)
            outbox.release(db, cursor, unfinished, self.clock())

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)


def _nothing() -> None:
    pass
