"""Where a run's events go: the event store (with a redacted snapshot and, for cameras
with ``clip:``, a short MP4) and, through its outbox, the dispatcher that delivers
them to actions and webhooks.

>>> # output = EventOutput(config, loop)
>>> # output.observe(result)              # every processed frame (feeds clip buffers)
>>> # output.record(outcome, result)      # from a camera thread: durable on return
>>> # output.drain(timeout=30)            # wait until every delivery is made
"""

from __future__ import annotations

import logging

import cv2

from sightwire.actions.registry import build_actions
from sightwire.config.models import SightwireConfig
from sightwire.events.dispatcher import Dispatcher
from sightwire.events.store import EventStore
from sightwire.rules import RuleOutcome
from sightwire.runtime.clips import ClipRecorder, clip_key
from sightwire.runtime.event_loop import EventLoopThread
from sightwire.runtime.pipeline import FrameResult

log = logging.getLogger("sightwire.events")
SNAPSHOT_QUALITY = 85
CLIP_CLOSE_TIMEOUT_S = 10.0


class EventOutput:
    """Records rule outcomes and runs the dispatcher on the event loop."""

    def __init__(self, config: SightwireConfig, loop: EventLoopThread) -> None:
        self.loop = loop
        self.store = EventStore.open(config.store)
        self.actions = build_actions(config)
        self.webhooks = [name for name in self.actions if name.startswith("webhook:")]
        self.webhooks += [hook.name for hook in config.webhooks if hook.name]
        self.dispatcher = Dispatcher(self.store, self.actions, config.delivery)
        self.clips = _clip_recorders(config, self.store)
        self.loop.call(self._start())

    async def _start(self) -> None:
        await self.dispatcher.__aenter__()

    def record(self, outcome: RuleOutcome, result: FrameResult) -> None:
        """Write the event, its snapshot and its deliveries in one go (durable on return).

        Deliveries go to the rule's actions and to every webhook whose type filter
        takes the event. On a camera with ``clip:`` the event names its clip's blob
        key at once; the MP4 is written ``post_s`` + encode time later.
        """
        names = dict.fromkeys([*outcome.actions, *self.webhooks])
        destinations = [
            n for n in names if n in self.actions and self.actions[n].accepts(outcome.event)
        ]
        ok, jpeg = cv2.imencode(
            ".jpg", result.frame.image, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY]
        )
        event = outcome.event
        recorder = self.clips.get(result.frame.camera)
        key = clip_key(event) if recorder is not None else None
        if recorder is not None and key is not None and recorder.start(key, result.frame.pts):
            event = event.model_copy(update={"data": event.data.model_copy(update={"clip": key})})
        try:
            self.store.record(event, destinations, jpeg.tobytes() if ok else None)
        except BaseException:
            if recorder is not None and key is not None:
                recorder.cancel(key)
            raise

    def observe(self, result: FrameResult) -> None:
        """Feed a processed frame to its camera's clip buffer (a no-op without ``clip:``)."""
        recorder = self.clips.get(result.frame.camera)
        if recorder is None:
            return
        try:
            recorder.feed(result.frame)
        except Exception:  # a clip buffer must never stop the camera
            log.exception("clip buffer failed", extra={"camera": result.frame.camera})

    def drain(self, timeout: float) -> int:
        """Wait until every delivery is made; return how many are still pending."""
        return self.loop.call(self.dispatcher.wait_delivered(timeout))

    def close(self) -> None:
        """Finish pending clips, then stop the dispatcher (deliveries in flight finish
        or are made due again)."""
        for recorder in self.clips.values():
            recorder.close(CLIP_CLOSE_TIMEOUT_S)
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
