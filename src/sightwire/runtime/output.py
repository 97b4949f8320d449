"""Where a run's events go: the event store (with a redacted snapshot) and, through
its outbox, the dispatcher that delivers them to actions and webhooks.

>>> # output = EventOutput(config, loop)
>>> # output.record(outcome, result)      # from a camera thread: durable on return
>>> # output.drain(timeout=30)            # wait until every delivery is made
"""

from __future__ import annotations

import logging

import cv2

from sightwire.actions.registry import build_actions
from sightwire.config.models import SightwireConfig
from sightwire.events.dispatcher import Dispatcher
from sightwire.events.store import EventStore
from sightwire.rules import RuleOutcome
from sightwire.runtime.event_loop import EventLoopThread
from sightwire.runtime.pipeline import FrameResult

log = logging.getLogger("sightwire.events")
SNAPSHOT_QUALITY = 85


class EventOutput:
    """Records rule outcomes and runs the dispatcher on the event loop."""

    def __init__(self, config: SightwireConfig, loop: EventLoopThread) -> None:
        self.loop = loop
        self.store = EventStore.open(config.store)
        self.actions = build_actions(config)
        self.webhooks = [name for name in self.actions if name.startswith("webhook:")]
        self.webhooks += [hook.name for hook in config.webhooks if hook.name]
        self.dispatcher = Dispatcher(self.store, self.actions, config.delivery)
        self.loop.call(self._start())

    async def _start(self) -> None:
        await self.dispatcher.__aenter__()

    def record(self, outcome: RuleOutcome, result: FrameResult) -> None:
        """Write the event, its snapshot and its deliveries in one go (durable on return).

        Deliveries go to the rule's actions and to every webhook whose type filter
        takes the event.
        """
        names = dict.fromkeys([*outcome.actions, *self.webhooks])
        destinations = [
            n for n in names if n in self.actions and self.actions[n].accepts(outcome.event)
        ]
        ok, jpeg = cv2.imencode(
            ".jpg", result.frame.image, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY]
        )
        self.store.record(outcome.event, destinations, jpeg.tobytes() if ok else None)

    def drain(self, timeout: float) -> int:
        """Wait until every delivery is made; return how many are still pending."""
        return self.loop.call(self.dispatcher.wait_delivered(timeout))

    def close(self) -> None:
        """Stop the dispatcher (deliveries in flight finish or are made due again)."""
        self.loop.call(self.dispatcher.stop(timeout=2.0))
        for action in self.actions.values():
            self.loop.call(action.close())
