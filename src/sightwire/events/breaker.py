"""When to try a destination again: exponential backoff with jitter, circuit breakers.

>>> from sightwire.config.delivery import BackoffConfig
>>> [retry_delay(n, BackoffConfig(initial_s=1, max_s=5, jitter=0), lambda: 0.0)
...  for n in (1, 2, 3, 4)]
[1.0, 2.0, 4.0, 5.0]
>>> breaker = CircuitBreaker(threshold=2, cooldown_s=30)
>>> breaker.failed(now=0.0), breaker.failed(now=1.0), breaker.state
(False, True, 'open')
>>> breaker.allowance(now=10.0), breaker.allowance(now=31.0), breaker.state
(0, 1, 'half_open')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from sightwire.config.delivery import BackoffConfig

BreakerState = Literal["closed", "open", "half_open"]


def retry_delay(attempt: int, config: BackoffConfig, rand: Callable[[], float]) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 = the first).

    ``initial_s * factor ** (attempt - 1)``, capped at ``max_s``, plus a random share
    of up to ``jitter`` of it (so retries of many deliveries spread out).
    """
    base = min(config.max_s, config.initial_s * config.factor ** max(attempt - 1, 0))
    return base * (1.0 + config.jitter * rand())


class CircuitBreaker:
    """One destination's breaker: closed → open → half-open → closed.

    Closed: attempts flow. ``threshold`` consecutive failures open it. Open: no
    attempts at all (deliveries wait; they do not use up their attempts) until
    ``cooldown_s`` has passed. Half-open: one probe attempt; success closes the
    breaker, failure opens it for another cool-down.
    """

    def __init__(self, threshold: int, cooldown_s: float) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.state: BreakerState = "closed"
        self.failures = 0
        self.opened_at: float | None = None

    def allowance(self, now: float) -> int | None:
        """How many attempts may start now: None (no limit), 1 (a probe) or 0."""
        if self.state == "open" and self.opened_at is not None:
            if now < self.opened_at + self.cooldown_s:
                return 0
            self.state = "half_open"
        return 1 if self.state == "half_open" else None

    def reopens_at(self) -> float | None:
        """When an open breaker lets a probe through; None unless open."""
        if self.state != "open" or self.opened_at is None:
            return None
        return self.opened_at + self.cooldown_s

    def succeeded(self) -> bool:
        """The destination answered; returns whether the state changed."""
        self.failures = 0
        changed = self.state != "closed"
        self.state, self.opened_at = "closed", None
        return changed

    def failed(self, now: float) -> bool:
        """An attempt failed in a way that may be the destination's fault."""
        self.failures += 1
        if self.state == "half_open" or (
            self.state == "closed" and self.failures >= self.threshold
        ):
            self.state, self.opened_at = "open", now
            return True
        return False
