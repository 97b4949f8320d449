"""The open event streams of an app, so that a stopping server can end them at once.

An event stream never ends by itself. uvicorn, asked to stop, waits for open
responses to finish, and after its grace period cancels them and logs an error; so
the server ends the streams first (:meth:`OpenStreams.close`), each at a message
boundary, and every client sees a clean end of stream.

>>> import asyncio
>>> async def demo() -> bool:
...     streams, wake = OpenStreams(), asyncio.Event()
...     leave = streams.join(wake)
...     streams.close()
...     await wake.wait()
...     leave()
...     return streams.closing
>>> asyncio.run(demo())
True
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable


class OpenStreams:
    """The wake-up events of the streams now open; :meth:`close` wakes them to end."""

    def __init__(self) -> None:
        self.closing = False
        self._open: dict[asyncio.Event, asyncio.AbstractEventLoop] = {}
        self._lock = threading.Lock()  # close() may come from another thread

    def join(self, wake: asyncio.Event) -> Callable[[], None]:
        """Register a stream (from its event loop); returns the function that leaves."""
        loop = asyncio.get_running_loop()
        with self._lock:
            self._open[wake] = loop
        if self.closing:  # joined while the server was stopping
            wake.set()

        def leave() -> None:
            with self._lock:
                self._open.pop(wake, None)

        return leave

    def close(self) -> None:
        """Mark the streams as ending and wake every one of them (from any thread)."""
        self.closing = True
        with self._lock:
            opened = list(self._open.items())
        for wake, loop in opened:
            with contextlib.suppress(RuntimeError):  # its loop has closed: nothing to wake
                loop.call_soon_threadsafe(wake.set)

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)
