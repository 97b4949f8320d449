"""An asyncio loop in a thread of its own, for rules, lookups and event delivery.

Camera threads are plain threads (decode and inference release the GIL); the
event side is asyncio (HTTP lookups, the outbox, dispatch). Camera threads hand it
work with :meth:`EventLoopThread.call` and wait for the answer, which keeps each
camera's events in frame order.

>>> loop = EventLoopThread().start()
>>> async def two() -> int:
...     return 2
>>> loop.call(two())
2
>>> loop.stop()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class EventLoopThread:
    """Runs one asyncio event loop in a daemon thread."""

    def __init__(self, name: str = "sightwire-events") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> EventLoopThread:
        self._thread.start()
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``coroutine`` on the loop; its future can be waited on or cancelled."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coroutine`` on the loop and wait for its result (or its exception)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the loop after what it is running now, and close it."""
        if not self._thread.is_alive():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()
