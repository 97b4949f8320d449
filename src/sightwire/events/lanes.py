"""One destination's lane in a dispatcher: its breaker, claimed and running deliveries.

A lane holds up to twice its concurrency in claims: ``concurrency`` attempts run
while as many claimed deliveries wait in ``ready`` to start the moment a slot
frees, without waiting for the next database round. So a claim waits for at most
one attempt before its own, which is why the lease must cover two attempt timeouts.
Deliveries handed over by the store in this process (``inbound``: room granted, not
yet landed; see :mod:`sightwire.events.handoff`) count against the same room.

>>> lane = Lane("erp", concurrency=2, threshold=3, cooldown_s=30)
>>> lane.wants(now=0.0)
4
"""

from __future__ import annotations

from collections import deque

from sightwire.events.breaker import CircuitBreaker
from sightwire.events.outbox import Claimed


class Lane:
    """Claimed deliveries of one destination, and how many more it may take."""

    def __init__(self, name: str, concurrency: int, threshold: int, cooldown_s: float) -> None:
        self.name = name
        self.concurrency = concurrency
        self.breaker = CircuitBreaker(threshold, cooldown_s)
        self.ready: deque[Claimed] = deque()
        self.running: dict[str, Claimed] = {}
        self.inbound = 0

    def limit(self, now: float) -> int:
        """Attempts that may run at once now: the concurrency, one probe, or none."""
        allowance = self.breaker.allowance(now)
        return self.concurrency if allowance is None else allowance

    def wants(self, now: float) -> int:
        """How many more deliveries to claim: room to run, and as many waiting ready."""
        limit = self.limit(now)
        held = len(self.running) + len(self.ready) + self.inbound
        if limit < self.concurrency:  # open or half-open: claim only what may run now
            return max(limit - held, 0)
        return max(2 * self.concurrency - held, 0)

    def room(self, now: float) -> int:
        """How many new deliveries may be handed over: none unless the breaker is closed
        (while it is open or probing, new deliveries wait in the outbox)."""
        if self.breaker.state != "closed":
            return 0
        return max(2 * self.concurrency - len(self.running) - len(self.ready) - self.inbound, 0)

    def take(self, now: float) -> list[Claimed]:
        """Claimed deliveries that may start now (moved to ``running``)."""
        starting = []
        limit = self.limit(now)
        while self.ready and len(self.running) < limit:
            delivery = self.ready.popleft()
            self.running[delivery.id] = delivery
            starting.append(delivery)
        return starting

    def give_back(self, now: float) -> list[Claimed]:
        """Claims that must not wait here: all of ``ready`` while the breaker is open."""
        if self.breaker.state == "closed" or self.limit(now) > 0:
            return []
        waiting = list(self.ready)
        self.ready.clear()
        return waiting

    @property
    def busy(self) -> bool:
        """Whether anything is claimed or running."""
        return bool(self.ready or self.running or self.inbound)
