"""Deliveries from a process of their own, in embedded mode (``delivery.own_process``).

In one process the dispatcher's signed requests share the interpreter lock with the
camera threads: at a few events a frame they take about a third of it. With
``own_process: true``, ``sightwire run`` starts a child process (``spawn``) that runs
the dispatcher on the same store and claims deliveries from the outbox, as
``sightwire dispatch`` does, so the two halves use two cores:

- after every recorded frame the camera process writes one byte to a pipe, and the
  child looks at the outbox at once (within ``gather_s``), not at its next ``poll_s``;
- the child relays what it measures (deliveries, retries, dead letters, breaker
  states, capture-to-action latency) through a second pipe to the camera process's
  metrics, so ``/metrics`` reads the same as with one process;
- a child that dies is started again within a second; what it had claimed falls due
  again after ``lease_s``, so every accepted event is still delivered.

>>> # deliveries = DeliveryProcess(config)   # starts the child
>>> # deliveries.wake()                       # after a frame's events are committed
>>> # deliveries.close(timeout=10)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import threading
from multiprocessing.connection import Connection
from typing import Any

from prometheus_client import CollectorRegistry

from sightwire.config.models import SightwireConfig
from sightwire.events.metrics import EventMetrics, default_metrics
from sightwire.events.store import EventStore
from sightwire.roles.dispatch import STOP_TIMEOUT_S, Dispatch
from sightwire.runtime.event_loop import EventLoopThread
from sightwire.runtime.logs import JsonFormatter, configure_logging

log = logging.getLogger("sightwire.delivery")
RESTART_S = 1.0  # a dead child is noticed and started again within this
RELAY_S = 0.05  # the child sends its measurements this often
READY_TIMEOUT_S = 60.0  # a child starts a Python interpreter: seconds, on a busy machine

Measurement = tuple[str, tuple[Any, ...]]  # (EventMetrics method, its arguments)


class DeliveryProcess:
    """The dispatcher's child process, seen from the camera process."""

    def __init__(self, config: SightwireConfig, loop: EventLoopThread) -> None:
        self.config = config
        self.restarts = 0
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._closed = False
        self._start()
        self._watch = loop.submit(self._watch_child())

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def wake(self) -> None:
        """Tell the child that deliveries were committed (from any thread; never
        blocks: a full pipe already holds a wake-up)."""
        with contextlib.suppress(BlockingIOError, BrokenPipeError, OSError):
            os.write(self._wake_fd, b"w")

    def close(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Let the child finish the attempts in flight, then end it."""
        with self._lock:
            self._closed = True
            self._watch.cancel()
            self._stop_child(timeout)

    # --- the camera process's side -------------------------------------------------

    def _start(self) -> None:
        wake_reader, wake_writer = self._context.Pipe(duplex=False)
        relay_reader, relay_writer = self._context.Pipe(duplex=False)
        self._process = self._context.Process(
            target=serve,
            args=(self.config, wake_reader, relay_writer, _log_settings()),
            name="sightwire-delivery",
            daemon=True,
        )
        self._process.start()
        wake_reader.close()
        relay_writer.close()
        os.set_blocking(wake_writer.fileno(), False)
        self._wake = wake_writer
        self._wake_fd = wake_writer.fileno()
        if not relay_reader.poll(READY_TIMEOUT_S):  # its first message: dispatching now
            log.warning("delivery process %d is slow to start", self._process.pid)
        threading.Thread(
            target=_apply_relayed, args=(relay_reader,), name="delivery-metrics", daemon=True
        ).start()
        self.wake()  # deliveries left from before (a restart) are due now
        log.info("deliveries from process %d", self._process.pid)

    def _close_wake(self) -> None:
        self._wake_fd = -1  # first: a wake() meanwhile must not write to a reused number
        self._wake.close()

    def _stop_child(self, timeout: float) -> None:
        self._close_wake()  # the child sees the end of the pipe and stops
        self._process.join(timeout + 5)  # its own stop waits up to `timeout` for attempts
        if self._process.is_alive():
            log.warning("delivery process %d did not stop; killed", self._process.pid)
            self._process.kill()
            self._process.join(5)

    async def _watch_child(self) -> None:
        while True:
            await asyncio.sleep(RESTART_S)
            if not self._closed and not self._process.is_alive():
                await asyncio.to_thread(self._restart)  # seconds: not on the loop

    def _restart(self) -> None:
        with self._lock:
            if self._closed or self._process.is_alive():
                return
            log.error(
                "delivery process %d exited (code %s); starting it again",
                self._process.pid,
                self._process.exitcode,
            )
            self._close_wake()
            self.restarts += 1
            self._start()


def _log_settings() -> tuple[str, str]:
    root = logging.getLogger()
    json_logs = any(isinstance(h.formatter, JsonFormatter) for h in root.handlers)
    return ("json" if json_logs else "text", logging.getLevelName(root.level))


def _apply_relayed(relay: Connection) -> None:
    """In the camera process: apply the child's measurements to this process's
    metrics, until the child's end of the pipe closes."""
    metrics = default_metrics()
    with relay:
        while True:
            try:
                batch: list[Measurement] = relay.recv()
            except (EOFError, OSError):
                return
            for method, args in batch:
                if method in RelayedMetrics.RELAYED:
                    getattr(metrics, method)(*args)


# --- the child's side --------------------------------------------------------------


class RelayedMetrics(EventMetrics):
    """The child's metrics: what the dispatcher measures goes to the camera process."""

    RELAYED = frozenset({"delivered", "failed", "breaker_state"})

    def __init__(self) -> None:
        super().__init__(CollectorRegistry())  # a registry nobody reads
        self.pending: list[Measurement] = []

    def delivered(self, destination: str, capture_to_action_s: float | None) -> None:
        self.pending.append(("delivered", (destination, capture_to_action_s)))

    def failed(self, destination: str, dead: bool) -> None:
        self.pending.append(("failed", (destination, dead)))

    def breaker_state(self, destination: str, state: str) -> None:
        self.pending.append(("breaker_state", (destination, state)))


def serve(
    config: SightwireConfig, wake: Connection, relay: Connection, logs: tuple[str, str]
) -> None:
    """The child process: dispatch until the camera process closes the wake pipe."""
    configure_logging(*logs)  # type: ignore[arg-type]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the camera process stops us
    try:
        asyncio.run(_dispatch(config, wake, relay))
    finally:
        relay.close()


async def _dispatch(config: SightwireConfig, wake: Connection, relay: Connection) -> None:
    """``sightwire dispatch``'s loop, woken through ``wake``, measuring into ``relay``."""
    store = EventStore.open(config.store, migrate=False)  # the camera process migrated it
    metrics = store.metrics = RelayedMetrics()
    role = Dispatch(config, store)
    ended = asyncio.Event()
    loop = asyncio.get_running_loop()

    def readable() -> None:
        try:
            woken = os.read(wake.fileno(), 65536)
        except OSError:
            woken = b""
        if not woken:  # the camera process closed its end (or died): finish
            loop.remove_reader(wake.fileno())
            ended.set()
        elif role.dispatcher is not None:
            role.dispatcher.wake()

    def started() -> None:
        loop.add_reader(wake.fileno(), readable)
        loop.add_signal_handler(signal.SIGTERM, ended.set)  # a stop for the whole group
        relay.send([])  # ready

    sender = asyncio.create_task(_relay_forever(metrics, relay))
    try:
        await role.run(ended, started)  # closes the actions when it ends
    finally:
        sender.cancel()
    _send(metrics, relay)
    store.db.close()


async def _relay_forever(metrics: RelayedMetrics, relay: Connection) -> None:
    while True:
        await asyncio.sleep(RELAY_S)
        _send(metrics, relay)


def _send(metrics: RelayedMetrics, relay: Connection) -> None:
    batch, metrics.pending = metrics.pending, []
    if batch:
        with contextlib.suppress(OSError):  # the camera process is gone: nobody to tell
            relay.send(batch)
