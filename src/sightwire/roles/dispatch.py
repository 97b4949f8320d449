"""``sightwire dispatch``: the outbox → actions dispatcher, alone in its process.

Workers record events and their deliveries in the store (PostgreSQL in distributed
mode); dispatchers claim due deliveries (``FOR UPDATE SKIP LOCKED``, so replicas
share the work) and make them, with retries, breakers and the delivery log
(:class:`~sightwire.events.dispatcher.Dispatcher`).

>>> # asyncio.run(Dispatch(load_config("site.yaml")).run(stop))
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sightwire.actions.registry import build_actions
from sightwire.config.models import SightwireConfig
from sightwire.events.dispatcher import Dispatcher
from sightwire.events.store import EventStore

log = logging.getLogger("sightwire.dispatch")
STOP_TIMEOUT_S = 10.0  # attempts in flight may finish; the rest fall due again


class Dispatch:
    """Runs one dispatcher on the config's store until stopped."""

    def __init__(self, config: SightwireConfig, store: EventStore | None = None) -> None:
        self.config = config
        self.store = store if store is not None else EventStore.open(config.store)
        self.actions = build_actions(config)
        self.dispatcher: Dispatcher | None = None

    @property
    def ready(self) -> bool:
        """Dispatching (the store answered when it was opened)."""
        return self.dispatcher is not None

    async def run(self, stop: asyncio.Event, started: Callable[[], None] | None = None) -> None:
        """Dispatch until ``stop`` is set; ``started()`` is called once dispatching."""
        dispatcher = Dispatcher(
            self.store, self.actions, self.config.delivery, hand_over=False
        )  # claims from the outbox: events come from other processes
        async with dispatcher:
            self.dispatcher = dispatcher
            log.info("dispatching to %d destinations", len(self.actions))
            if started is not None:
                started()
            await stop.wait()
            self.dispatcher = None
            await dispatcher.stop(STOP_TIMEOUT_S)
        for action in self.actions.values():
            await action.close()
