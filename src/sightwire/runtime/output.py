"""Where a run's events go: the event store (with a redacted snapshot and, for cameras
with ``clip:``, a short MP4) and, through its outbox, the dispatcher that delivers
them to actions and webhooks.

A frame's events are written together, in one transaction with those of other
cameras' frames that arrive meanwhile (:class:`~sightwire.events.group.GroupWriter`);
the dispatcher in this process takes their deliveries without a claim query
(:mod:`sightwire.events.handoff`).

Recorded events enter the review queue in the transaction that records them
(:meth:`~sightwire.events.store.EventStore.write_along`: a second transaction per
frame cost a quarter of the events per second on SQLite). Frames with
detections near a model's threshold go to the active-learning sampler
(``review:``), which queues some of them for review.

>>> # output = EventOutput(config, loop)
>>> # output.observe(result)                   # every processed frame (clips, sampler)
>>> # output.record_frame(outcomes, result)    # from a camera thread: durable on return
>>> # output.drain(timeout=30)                 # wait until every delivery is made
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import cv2

from sightwire.actions.registry import build_actions
from sightwire.config.models import SightwireConfig
from sightwire.config.review import ReviewConfig
from sightwire.events.dispatcher import Dispatcher
from sightwire.events.group import GroupWriter
from sightwire.events.store import EventStore, NewEvent
from sightwire.inference.detector import NEAR_THRESHOLD
from sightwire.review.sampler import ActiveLearningSampler
from sightwire.review.store import ReviewQueue
from sightwire.rules import RuleOutcome
from sightwire.runtime.clips import ClipRecorder, clip_key
from sightwire.runtime.delivery_process import DeliveryProcess
from sightwire.runtime.event_loop import EventLoopThread
from sightwire.runtime.pipeline import FrameResult
from sightwire.storage.blobs import BlobStore

log = logging.getLogger("sightwire.events")
SNAPSHOT_QUALITY = 85
CLIP_CLOSE_TIMEOUT_S = 10.0


class EventOutput:
    """Records rule outcomes and runs the dispatcher on the event loop."""

    def __init__(
        self, config: SightwireConfig, loop: EventLoopThread, *, hand_over: bool = True
    ) -> None:
        """``hand_over=False``: the dispatcher claims every delivery from the outbox, as
        a dispatcher in another process does (the benchmark's baseline)."""
        self.loop = loop
        self.store = EventStore.open(config.store)
        self.actions = build_actions(config)
        self.webhooks = [name for name in self.actions if name.startswith("webhook:")]
        self.webhooks += [hook.name for hook in config.webhooks if hook.name]
        self.dispatcher: Dispatcher | None = None
        self.deliveries: DeliveryProcess | None = None
        if config.delivery.own_process:
            self.deliveries = DeliveryProcess(config, loop)
        else:
            self.dispatcher = Dispatcher(
                self.store, self.actions, config.delivery, hand_over=hand_over
            )
        self.writer = GroupWriter(self.store)
        self.clips = _clip_recorders(config, self.store)
        self.review = ReviewQueue(self.store.db)
        self.store.write_along("review", self.review.write_events)
        self.sampler = _sampler(config.review, self.review, self.store.blobs)
        self.loop.call(self._start())

    async def _start(self) -> None:
        if self.dispatcher is not None:
            await self.dispatcher.__aenter__()

    def record(self, outcome: RuleOutcome, result: FrameResult) -> None:
        """Record one outcome (see :meth:`record_frame`); raises if it was not recorded."""
        [(_, error)] = self.record_frame([outcome], result)
        if error is not None:
            raise error

    def record_frame(
        self, outcomes: Sequence[RuleOutcome], result: FrameResult
    ) -> list[tuple[RuleOutcome, Exception | None]]:
        """Write a frame's events, each with its snapshot and deliveries, and return
        each outcome with the error that kept it out (None: recorded, durable).

        Deliveries go to the rule's actions and to every webhook whose type filter
        takes the event. The frame's snapshot is encoded and stored once, and shared
        by its events (under the first one's key).
        On a camera with ``clip:`` the event names its clip's blob key at once; the
        MP4 is written ``post_s`` + encode time later.
        """
        if not outcomes:
            return []
        jpeg = _snapshot(result)
        recorder = self.clips.get(result.frame.camera)
        items: list[NewEvent] = []
        clips: list[str | None] = []
        for outcome in outcomes:
            event = outcome.event
            key = clip_key(event) if recorder is not None else None
            if recorder is not None and key is not None and recorder.start(key, result.frame.pts):
                data = event.data.model_copy(update={"clip": key})
                event = event.model_copy(update={"data": data})
            else:
                key = None
            clips.append(key)
            items.append(NewEvent(event, self._destinations(outcome), jpeg))
        recorded = self.writer.record(items)
        if self.deliveries is not None:
            self.deliveries.wake()
        answers: list[tuple[RuleOutcome, Exception | None]] = []
        for outcome, key, stored in zip(outcomes, clips, recorded, strict=True):
            error = stored if isinstance(stored, Exception) else None
            if error is not None and recorder is not None and key is not None:
                recorder.cancel(key)
            answers.append((outcome, error))
        return answers

    def _destinations(self, outcome: RuleOutcome) -> list[str]:
        names = dict.fromkeys([*outcome.actions, *self.webhooks])
        event = outcome.event
        return [n for n in names if n in self.actions and self.actions[n].accepts(event)]

    def observe(self, result: FrameResult) -> None:
        """Feed a processed (redacted) frame to its camera's clip buffer and, when it has
        near-threshold detections, to the review sampler."""
        recorder = self.clips.get(result.frame.camera)
        try:
            if recorder is not None:
                recorder.feed(result.frame)
        except Exception:  # a clip buffer must never stop the camera
            log.exception("clip buffer failed", extra={"camera": result.frame.camera})
        if self.sampler is not None and NEAR_THRESHOLD in result.frame.metadata:
            self._sample(self.sampler, result)

    def _sample(self, sampler: ActiveLearningSampler, result: FrameResult) -> None:
        frame = result.frame
        try:
            for near in frame.metadata[NEAR_THRESHOLD]:
                sampler.offer(frame, near.detections, near.threshold, model=near.model)
        except Exception:  # sampling must never stop the camera
            log.exception("review sampling failed", extra={"camera": frame.camera})

    def drain(self, timeout: float) -> int:
        """Wait until every delivery is made; return how many are still pending."""
        if self.dispatcher is not None:
            return self.loop.call(self.dispatcher.wait_delivered(timeout))
        deadline = time.monotonic() + timeout
        while (left := self.store.pending(list(self.actions))) and time.monotonic() < deadline:
            time.sleep(0.05)
        return left

    def close(self) -> None:
        """Finish pending clips, then stop the dispatcher (deliveries in flight finish
        or are made due again)."""
        for recorder in self.clips.values():
            recorder.close(CLIP_CLOSE_TIMEOUT_S)
        if self.deliveries is not None:
            self.deliveries.close()
        if self.dispatcher is not None:
            self.loop.call(self.dispatcher.stop(timeout=2.0))
        for action in self.actions.values():
            self.loop.call(action.close())


def _clip_recorders(config: SightwireConfig, store: EventStore) -> dict[str, ClipRecorder]:
    """A clip recorder for each camera with ``clip:`` (none without a blob store)."""
    if store.blobs is None:
        return {}
    return {
        name: ClipRecorder(name, camera.clip, store.blobs, fps=camera.fps)
        for name, camera in config.cameras.items()
        if camera.clip is not None
    }


def _sampler(
    config: ReviewConfig, queue: ReviewQueue, blobs: BlobStore | None
) -> ActiveLearningSampler | None:
    """The active-learning sampler (none when off, or without a blob store)."""
    if not config.enabled or blobs is None:
        return None
    return ActiveLearningSampler(config, queue, blobs)


def _snapshot(result: FrameResult) -> bytes | None:
    """The frame (redacted by then) as a JPEG, or None if it cannot be encoded."""
    ok, jpeg = cv2.imencode(
        ".jpg", result.frame.image, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY]
    )
    return jpeg.tobytes() if ok else None
