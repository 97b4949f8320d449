"""Frames of several cameras share model calls; each gets its own result back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest

from sightwire.runtime.batching import ModelBatcher


class SlowModel:
    """Doubles numbers; each call waits until released, so requests pile up meanwhile."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = threading.Semaphore(0)

    def __call__(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        self.release.acquire()
        return [2 * i for i in items]


def test_requests_waiting_together_go_in_one_call() -> None:
    model = SlowModel()
    batcher = ModelBatcher(model, max_batch=8)
    results: dict[int, int] = {}
    first = threading.Thread(target=lambda: results.__setitem__(0, batcher.infer(0)))
    first.start()
    _until(lambda: bool(model.batches))  # the model is now busy with the first frame
    others = [
        threading.Thread(target=lambda i=i: results.__setitem__(i, batcher.infer(i)))
        for i in range(1, 5)
    ]
    for t in others:
        t.start()
    _until(lambda: batcher._requests.qsize() == 4)
    model.release.release()
    model.release.release()
    for t in [first, *others]:
        t.join(5)
    assert results == {i: 2 * i for i in range(5)}
    assert model.batches[0] == [0]
    assert sorted(model.batches[1]) == [1, 2, 3, 4]  # four cameras, one call
    assert batcher.calls == 2
    batcher.close()


def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.001)


def test_a_model_error_reaches_every_waiting_camera() -> None:
    def broken(items: Sequence[int]) -> list[int]:
        raise RuntimeError("model crashed")

    batcher = ModelBatcher(broken)
    with pytest.raises(RuntimeError, match="model crashed"):
        batcher.infer(1, timeout=5)
    batcher.close()


def test_max_batch_caps_a_call() -> None:
    model = SlowModel()
    batcher = ModelBatcher(model, max_batch=2)
    threads = [threading.Thread(target=batcher.infer, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for _ in range(5):
        model.release.release()
    for t in threads:
        t.join(5)
    assert all(len(b) <= 2 for b in model.batches)
    assert sorted(i for b in model.batches for i in b) == [0, 1, 2, 3, 4]
    batcher.close()
