"""Sampling by timestamp: keep the frames that bring a stream down to a target fps.

The sampler sees every decoded frame's presentation time and says which to keep,
before any pixel conversion, so skipped frames cost only their decode. It keeps a
frame when its pts reaches the next due time on a fixed grid (``1/fps`` apart), so
jitter does not accumulate into drift. It tolerates:

* jitter: a frame up to half a frame step early still counts as on time, so the
  frame nearest each due time is taken;
* missing pts: estimated from the previous pts plus the usual frame step, or the
  wall-clock gap when no step is known yet;
* slow streams (fps below the target): every frame is kept and the grid restarts
  from the late frame, never bursting to "catch up";
* pts jumping backwards (a camera restarting its clock): the grid restarts.
"""

from __future__ import annotations

import time
from collections.abc import Callable

_EPSILON = 1e-6


class FpsSampler:
    """Decide, frame by frame, which frames to keep to reach ``fps``.

    ``fps=None`` keeps every frame (pts are still resolved). ``nominal_step`` is the
    stream's frame interval in seconds when known, used for missing pts.

    >>> s = FpsSampler(5.0)
    >>> [t for t in (i / 25 for i in range(11)) if s.offer(t) is not None]
    [0.0, 0.2, 0.4]
    """

    __slots__ = ("_clock", "_due", "_interval", "_last", "_last_wall", "_step")

    def __init__(
        self,
        fps: float | None,
        nominal_step: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if fps is not None and fps <= 0:
            raise ValueError(f"fps must be positive, not {fps}")
        self._interval = 1.0 / fps if fps else 0.0
        self._step = nominal_step if nominal_step and nominal_step > 0 else 0.0
        self._clock = clock
        self._due: float | None = None
        self._last: float | None = None
        self._last_wall = 0.0

    @property
    def interval(self) -> float:
        """Seconds between kept frames; 0 when every frame is kept."""
        return self._interval

    def offer(self, pts: float | None) -> float | None:
        """Return the frame's pts (estimated if missing) when it is kept, else None."""
        t = self._resolve(pts)
        interval = self._interval
        if interval == 0.0:
            return t
        due = self._due
        if due is None or t < due - 2.0 * interval:
            self._due = t + interval
            return t
        if t < due - self._step * 0.5 - _EPSILON:
            return None
        due += interval
        self._due = t + interval if t >= due else due
        return t

    def _resolve(self, pts: float | None) -> float:
        """Fill in a missing pts and keep a smoothed estimate of the frame step."""
        last = self._last
        step = self._step
        if pts is None:
            if last is None:
                pts = 0.0
            elif step:
                pts = last + step
            else:
                pts = last + max(self._clock() - self._last_wall, 0.0)
        elif last is not None and pts > last:
            delta = pts - last
            if step == 0.0:
                self._step = delta
            elif delta < 4.0 * step:
                self._step = step + 0.1 * (delta - step)
        if self._step == 0.0:
            self._last_wall = self._clock()
        self._last = pts
        return pts
