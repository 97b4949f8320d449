"""A short, time-indexed buffer of sensor readings, safe to fill from one thread and
query from others.

>>> buffer = ReadingBuffer(keep_s=60)
>>> for t, kg in [(10.0, 2.5), (11.0, 7.25), (12.5, 3.0)]:
...     buffer.add(t, kg)
>>> buffer.nearest(11.2, window_s=0.5)
(11.0, 7.25)
>>> buffer.nearest(20.0, window_s=0.5) is None
True
"""

from __future__ import annotations

import bisect
import threading


class ReadingBuffer:
    """Readings ``(time, value)`` kept in time order for ``keep_s`` seconds (measured
    from the newest reading), so a join can ask for the one nearest a moment."""

    def __init__(self, keep_s: float = 120.0) -> None:
        self.keep_s = keep_s
        self._times: list[float] = []
        self._values: list[float] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._times)

    def add(self, t: float, value: float) -> None:
        """Add a reading; readings may come out of order (the buffer stays sorted)."""
        with self._lock:
            at = bisect.bisect_right(self._times, t)
            self._times.insert(at, t)
            self._values.insert(at, value)
            # Forget the old ones: everything older than keep_s before the newest.
            cut = bisect.bisect_left(self._times, self._times[-1] - self.keep_s)
            if cut:
                del self._times[:cut], self._values[:cut]

    def nearest(self, t: float, window_s: float) -> tuple[float, float] | None:
        """The reading nearest ``t`` if it lies within ``window_s``, else None."""
        with self._lock:
            at = bisect.bisect_left(self._times, t)
            best: tuple[float, float] | None = None
            for i in (at - 1, at):
                if not 0 <= i < len(self._times) or abs(self._times[i] - t) > window_s:
                    continue
                if best is None or abs(self._times[i] - t) < abs(best[0] - t):
                    best = (self._times[i], self._values[i])
            return best
