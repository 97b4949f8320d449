"""Batch frames of several cameras into one model call.

Each camera's thread calls :meth:`ModelBatcher.infer` and blocks for its result; one
worker thread takes whatever requests are waiting (up to ``max_batch``) and runs them
through a single model call. Nothing waits for a batch to fill: with one camera the
batch is one frame and costs no latency; with many, frames that arrive while the
model is busy go together in the next call.

>>> # batcher = ModelBatcher(detector.detect, max_batch=8)
>>> # detections = batcher.infer(image)          # from any camera thread
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(slots=True)
class _Request(Generic[In, Out]):
    item: In
    result: Future[Out]


class ModelBatcher(Generic[In, Out]):
    """Runs ``call(items) -> results`` on batches gathered from many threads."""

    def __init__(self, call: Callable[[Sequence[In]], Sequence[Out]], max_batch: int = 8) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._call = call
        self.max_batch = max_batch
        self._requests: queue.SimpleQueue[_Request[In, Out] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="model-batcher", daemon=True)
        self.calls = 0  # model calls made, for metrics and tests
        self.items = 0
        self._thread.start()

    def infer(self, item: In, timeout: float | None = None) -> Out:
        """Queue ``item``, wait for its batch, return its own result (or raise its error)."""
        request: _Request[In, Out] = _Request(item, Future())
        self._requests.put(request)
        return request.result.result(timeout)

    def infer_many(self, items: Sequence[In], timeout: float | None = None) -> list[Out]:
        """Queue every item at once (so they can share a call), then collect the results."""
        requests: list[_Request[In, Out]] = [_Request(item, Future()) for item in items]
        for request in requests:
            self._requests.put(request)
        return [request.result.result(timeout) for request in requests]

    def close(self) -> None:
        """Finish queued requests, then stop the worker."""
        self._requests.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while (first := self._requests.get()) is not None:
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    more = self._requests.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._requests.put(None)  # stop after this batch
                    break
                batch.append(more)
            self._serve(batch)

    def _serve(self, batch: list[_Request[In, Out]]) -> None:
        self.calls += 1
        self.items += len(batch)
        try:
            results = self._call([r.item for r in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"model returned {len(results)} results for {len(batch)}")
        except Exception as exc:  # every waiting camera gets the error, none hangs
            for request in batch:
                request.result.set_exception(exc)
            return
        for request, result in zip(batch, results, strict=True):
            request.result.set_result(result)
