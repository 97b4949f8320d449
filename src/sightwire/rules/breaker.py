"""A circuit breaker and a time-to-live cache, both on an injected clock.

>>> now = [0.0]
>>> breaker = CircuitBreaker(failures=2, open_s=30, clock=lambda: now[0])
>>> breaker.failed(); breaker.failed(); breaker.allows()
False
>>> now[0] = 31.0; breaker.allows()   # half open: one trial call
True
>>> cache = TtlCache(ttl_s=60, clock=lambda: now[0])
>>> cache.put("k", {"a": 1}); cache.get("k")
{'a': 1}
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

Clock = Callable[[], float]


class CircuitBreaker:
    """Refuses calls for ``open_s`` seconds after ``failures`` failures in a row.

    After that time it is *half open*: it allows one trial call; a success closes
    it, a failure opens it again.
    """

    def __init__(self, failures: int, open_s: float, clock: Clock) -> None:
        self.failures = failures
        self.open_s = open_s
        self.clock = clock
        self.in_a_row = 0
        self.opened_at: float | None = None
        self._trial = False

    @property
    def is_open(self) -> bool:
        """Whether calls are being refused now (not counting a half-open trial)."""
        return self.opened_at is not None and self.clock() - self.opened_at < self.open_s

    def allows(self) -> bool:
        """Whether a call may go ahead now."""
        if self.opened_at is None:
            return True
        if self.is_open or self._trial:
            return False
        self._trial = True
        return True

    def succeeded(self) -> None:
        """A call worked: close."""
        self.in_a_row, self.opened_at, self._trial = 0, None, False

    def failed(self) -> None:
        """A call failed: count it, and open after ``failures`` in a row."""
        self.in_a_row += 1
        self._trial = False
        if self.in_a_row >= self.failures or self.opened_at is not None:
            self.opened_at = self.clock()


class TtlCache:
    """Values kept ``ttl_s`` seconds; the least recently used go beyond ``max_items``."""

    def __init__(self, ttl_s: float, clock: Clock, max_items: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.max_items = max_items
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` if still fresh, else ``default``."""
        item = self._items.get(key)
        if item is None:
            return default
        if self.clock() >= item[0]:
            del self._items[key]
            return default
        self._items.move_to_end(key)
        return item[1]

    def __contains__(self, key: str) -> bool:
        marker = object()
        return self.get(key, marker) is not marker

    def put(self, key: str, value: Any) -> None:
        """Keep ``value`` for ``ttl_s`` seconds (nothing is kept when ``ttl_s`` is 0)."""
        if self.ttl_s <= 0:
            return
        self._items[key] = (self.clock() + self.ttl_s, value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)
