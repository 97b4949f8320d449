"""Active learning: queue frames whose detections sit near the confidence threshold.

A model is least sure near its threshold, so those frames teach it most once a
person has labelled them. :class:`ActiveLearningSampler` takes a frame when one of
its detections is within ``band`` of the threshold, at most ``sample_rate_per_min``
frames per camera. The rate is a token bucket in *stream* time (``frame.pts``), so a
file replays to the same samples and tests need no clock. The frame's image is stored
as a JPEG in the blob store, so offer frames **after** privacy redaction.

>>> import numpy as np
>>> near_threshold(np.array([0.9, 0.32, 0.1], np.float32), threshold=0.4, band=0.1).tolist()
[False, True, False]
>>> bucket = TokenBucket(rate_per_s=1 / 10)       # one frame per 10 s of stream
>>> [bucket.take("belt-1", t) for t in (0.0, 4.0, 10.0, 12.0)]
[True, False, True, False]
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import cv2
import numpy as np

from sightwire.config.review import ReviewConfig
from sightwire.core.detections import BoolArray, Detections, FloatArray
from sightwire.core.frame import Frame
from sightwire.core.ids import new_id
from sightwire.inference.readings import class_names
from sightwire.review.labels import Label
from sightwire.review.records import ReviewItem
from sightwire.review.store import ReviewQueue
from sightwire.storage.blobs import BlobStore, check_key

log = logging.getLogger("sightwire.review")
JPEG_QUALITY = 90


def near_threshold(confidence: FloatArray, threshold: float, band: float) -> BoolArray:
    """Which confidences lie within ``band`` of ``threshold`` (both ends included)."""
    mask: BoolArray = (
        np.abs(np.asarray(confidence, np.float64) - threshold) <= band + 1e-6
    )  # float32 confidences
    return mask


class TokenBucket:
    """One bucket per key, refilled at ``rate_per_s`` in the caller's time, holding at
    most ``capacity`` tokens; a new key starts full. Time that runs backwards (a file
    looping, a camera clock reset) restarts the refill from there."""

    def __init__(self, rate_per_s: float, capacity: float = 1.0) -> None:
        if rate_per_s <= 0 or capacity < 1:
            raise ValueError("rate_per_s must be positive and capacity at least 1")
        self.rate_per_s = rate_per_s
        self.capacity = capacity
        self._state: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()  # camera threads share one sampler

    def take(self, key: str, now: float) -> bool:
        """Take a token for ``key`` at time ``now``; False when none is left."""
        with self._lock:
            tokens, at = self._state.get(key, (self.capacity, now))
            if now >= at:
                tokens = min(self.capacity, tokens + (now - at) * self.rate_per_s)
            taken = tokens >= 1 - 1e-9
            self._state[key] = (tokens - 1 if taken else tokens, now)
            return taken


class ActiveLearningSampler:
    """Queues near-threshold frames for review, at a bounded rate per camera.

    >>> # sampler = ActiveLearningSampler(config.review, queue, blobs)
    >>> # sampler.offer(redacted_frame, detections, threshold=0.4, model="parcels@3")
    """

    def __init__(
        self,
        config: ReviewConfig,
        queue: ReviewQueue,
        blobs: BlobStore,
        *,
        jpeg_quality: int = JPEG_QUALITY,
    ) -> None:
        self.config = config
        self.queue = queue
        self.blobs = blobs
        self.jpeg_quality = jpeg_quality
        self.bucket = TokenBucket(config.sample_rate_per_min / 60.0)

    def wants(self, detections: Detections, threshold: float) -> bool:
        """Whether a frame with these detections is a candidate (ignoring the rate)."""
        if not self.config.enabled or not len(detections):
            return False
        return bool(near_threshold(detections.confidence, threshold, self.config.band).any())

    def offer(
        self,
        frame: Frame,
        detections: Detections,
        threshold: float,
        *,
        model: str | None = None,
    ) -> ReviewItem | None:
        """Queue ``frame`` when it is a candidate and its camera's rate allows; the item
        queued, or None.

        ``frame`` must be redacted already; ``detections`` are in its pixels and should
        include those down to ``threshold - band`` (run the detector that low, or they
        cannot be seen). Those objects become the item's proposed boxes.
        """
        if not self.wants(detections, threshold):
            return None
        if not self.bucket.take(frame.camera, frame.pts):
            return None
        if self.queue.pending_count(kind="frame") >= self.config.max_pending:
            log.debug("review queue full; frame not sampled", extra={"camera": frame.camera})
            return None
        return self._queue(frame, detections, threshold, model)

    def _queue(
        self, frame: Frame, detections: Detections, threshold: float, model: str | None
    ) -> ReviewItem | None:
        ok, jpeg = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            log.warning("could not encode a sampled frame", extra={"camera": frame.camera})
            return None
        item_id = new_id()
        key = sample_key(frame.camera, frame.captured_at, item_id)
        self.blobs.put(key, jpeg.tobytes())
        try:
            return self.queue.add_frame(
                camera=frame.camera,
                captured_at=frame.captured_at,
                snapshot=key,
                proposed=proposals(detections, threshold - self.config.band),
                threshold=threshold,
                model=model,
                item_id=item_id,
            )
        except BaseException:
            self.blobs.delete(key)  # no orphan JPEG without its item
            raise


def proposals(detections: Detections, floor: float) -> list[Label]:
    """The detections at or above ``floor`` as proposed labels (ids 0, 1, ...)."""
    kept = detections[detections.confidence >= floor - 1e-6]
    names = class_names(kept)
    tracks = kept.tracker_id
    return [
        Label(
            id=index,
            class_name=str(names[index]) or f"class_{int(kept.class_id[index])}",
            box=(float(x1), float(y1), float(x2), float(y2)),
            confidence=round(float(kept.confidence[index]), 4),
            track_id=None if tracks is None else int(tracks[index]),
        )
        for index, (x1, y1, x2, y2) in enumerate(kept.xyxy)
    ]


def sample_key(camera: str, captured_at: float, item_id: str) -> str:
    """``review/CAMERA/YYYY/MM/DD/ID.jpg`` (by capture date)."""
    day = datetime.fromtimestamp(captured_at, UTC)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in camera).strip(".") or "_"
    key = f"review/{safe}/{day:%Y/%m/%d}/{item_id}.jpg"
    check_key(key)
    return key
