"""Event clips: a short H.264 MP4 of the (already redacted) frames around an event.

A :class:`ClipRecorder` per camera keeps the last ``pre_s`` seconds of frames in a
ring buffer, scaled down to at most ``width`` pixels and JPEG-compressed (about
25-60 KB a frame at 640 px instead of 690 KB raw). :meth:`ClipRecorder.start` takes
that buffer for an event, keeps collecting until the frames reach ``post_s`` seconds
past the event, then a worker thread encodes the MP4 and writes it to the blob store
under :func:`clip_key`, so the camera never waits for an encoder. The key is known
(and written into the event) at once; the blob appears ``post_s`` + encode time later.

>>> import tempfile
>>> import numpy as np
>>> from sightwire.config.clips import ClipConfig
>>> from sightwire.core import Frame
>>> from sightwire.storage.blobs import FileBlobStore
>>> blobs = FileBlobStore(tempfile.mkdtemp())
>>> recorder = ClipRecorder("belt-1", ClipConfig(pre_s=1, post_s=1), blobs, fps=5)
>>> image = np.zeros((360, 640, 3), np.uint8)
>>> for seq in range(5):
...     recorder.feed(Frame("belt-1", seq, 0.0, seq / 5, image))
>>> recorder.start("clips/belt-1/e1.mp4", pts=0.8)
True
>>> for seq in range(5, 10):
...     recorder.feed(Frame("belt-1", seq, 0.0, seq / 5, image))
>>> recorder.close(timeout=30)
>>> blobs.exists("clips/belt-1/e1.mp4")
True
"""

from __future__ import annotations

import io
import itertools
import logging
import math
import queue
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import av
import cv2
import numpy as np

from sightwire.config.clips import ClipConfig
from sightwire.core import Event, Frame
from sightwire.events.store import snapshot_key
from sightwire.storage.blobs import BlobStore

log = logging.getLogger("sightwire.clips")
JPEG_QUALITY = 85
MAX_FPS = 240.0  # CameraConfig.fps's limit: bounds the buffer when the rate is unknown
DEFAULT_FPS = 10.0
MAX_PENDING = 8  # clips collecting at once per camera; more events get no clip
STALL_GRACE_S = 5.0  # a clip whose camera stops sending frames is finished this late
PRESET = "veryfast"  # as small as "fast" here at half the encode time
TIME_BASE = Fraction(1, 1000)  # pts in milliseconds: a camera's own jitter survives
_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class BufferedFrame:
    """One downscaled, JPEG-compressed frame and its pts (seconds)."""

    pts: float
    jpeg: bytes


@dataclass(slots=True)
class _Pending:
    key: str
    end_pts: float
    deadline: float  # monotonic: finish even when no more frames come
    frames: list[BufferedFrame] = field(default_factory=list)


def clip_key(event: Event) -> str:
    """``clips/CAMERA/YYYY/MM/DD/ID.mp4``, the event's snapshot key with clip naming.

    >>> from sightwire.core import EventData
    >>> e = Event.create(site="dc", camera="belt 1", kind="parcel.seen", now=0.0,
    ...                  data=EventData(rule="r", camera="belt 1", captured_at=0.0))
    >>> clip_key(e) == f"clips/belt_1/1970/01/01/{e.id}.mp4"
    True
    """
    key = snapshot_key(event)
    return "clips/" + key.removeprefix("snapshots/").removesuffix(".jpg") + ".mp4"


class ClipRecorder:
    """One camera's ring buffer of recent frames and its clip encoder thread.

    ``feed`` and ``start`` are called from the camera's processing thread; they only
    scale, compress and queue. ``fps`` is the camera's sampled rate (``None``: it is
    estimated from the frames' pts).

    >>> # recorder = ClipRecorder("belt-1", camera.clip, blobs, fps=camera.fps)
    >>> # recorder.feed(result.frame)                 # every processed frame
    >>> # recorder.start(clip_key(event), result.frame.pts)
    """

    def __init__(
        self,
        camera: str,
        config: ClipConfig,
        blobs: BlobStore,
        *,
        fps: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.camera = camera
        self.config = config
        self.blobs = blobs
        self.fps = fps
        self.clock = clock
        self.buffer: deque[BufferedFrame] = deque(maxlen=self._most_frames(config.pre_s))
        self.written: list[str] = []
        self._most_clip = self._most_frames(config.pre_s) + self._most_frames(config.post_s)
        self._pending: list[_Pending] = []
        self._lock = threading.Lock()
        self._jobs: queue.Queue[tuple[str, list[BufferedFrame]] | None] = queue.Queue()
        self._closed = False
        self._worker = threading.Thread(target=self._work, name=f"clips-{camera}", daemon=True)
        self._worker.start()

    def _most_frames(self, seconds: float) -> int:
        """The hard bound on frames for ``seconds`` of video (plus the event's own)."""
        return math.ceil(seconds * (self.fps or MAX_FPS)) + 1

    @property
    def buffer_bytes(self) -> int:
        """Bytes of compressed frames in the ring buffer now."""
        with self._lock:
            return sum(len(f.jpeg) for f in self.buffer)

    def feed(self, frame: Frame) -> None:
        """Add a processed (redacted) frame; finish clips whose ``post_s`` it reaches."""
        item = BufferedFrame(frame.pts, compress(frame.image, self.config.width))
        done: list[_Pending] = []
        with self._lock:
            if self._closed:
                return
            if self.buffer and frame.pts < self.buffer[-1].pts - _EPS:  # a new timeline
                self.buffer.clear()
                done, self._pending = self._pending, []
            self.buffer.append(item)
            while (
                len(self.buffer) > 1 and self.buffer[0].pts <= frame.pts - self.config.pre_s + _EPS
            ):
                self.buffer.popleft()
            for clip in self._pending:
                if len(clip.frames) < self._most_clip:
                    clip.frames.append(item)
                if frame.pts >= clip.end_pts - _EPS:
                    done.append(clip)
            self._pending = [c for c in self._pending if c not in done]
        for clip in done:
            self._jobs.put((clip.key, clip.frames))

    def start(self, key: str, pts: float) -> bool:
        """Begin the clip of an event at ``pts`` (its frame was fed already).

        Returns False, and records nothing, when the recorder is closed or
        ``MAX_PENDING`` clips are collecting already.
        """
        with self._lock:
            if self._closed or len(self._pending) >= MAX_PENDING:
                return False
            clip = _Pending(
                key, pts + self.config.post_s, self.clock() + self.config.post_s + STALL_GRACE_S
            )
            clip.frames = [f for f in self.buffer if f.pts <= pts + _EPS]
            if self.config.post_s > 0:
                self._pending.append(clip)
        if self.config.post_s <= 0:
            self._jobs.put((clip.key, clip.frames))
        return True

    def cancel(self, key: str) -> None:
        """Drop a clip still collecting (its event was not recorded after all)."""
        with self._lock:
            self._pending = [c for c in self._pending if c.key != key]

    def close(self, timeout: float = 10.0) -> None:
        """Finish clips still collecting with the frames they have; wait for the encoder."""
        with self._lock:
            self._closed = True
            done, self._pending = self._pending, []
            self.buffer.clear()
        for clip in done:
            self._jobs.put((clip.key, clip.frames))
        self._jobs.put(None)
        self._worker.join(timeout)
        if self._worker.is_alive():
            log.warning("clips still encoding at stop", extra={"camera": self.camera})

    def _overdue(self) -> None:
        """Finish clips whose camera stopped sending frames."""
        now = self.clock()
        with self._lock:
            late = [c for c in self._pending if now >= c.deadline]
            self._pending = [c for c in self._pending if c not in late]
        for clip in late:
            self._jobs.put((clip.key, clip.frames))

    def _work(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=0.5)
            except queue.Empty:
                self._overdue()
                continue
            if job is None:
                return
            key, frames = job
            try:
                started = time.perf_counter()
                data = encode_mp4(frames, self.fps or estimate_fps(frames))
                self.blobs.put(key, data)
                self.written.append(key)
                log.debug(
                    "clip written",
                    extra={
                        "camera": self.camera,
                        "key": key,
                        "frames": len(frames),
                        "encode_s": round(time.perf_counter() - started, 3),
                    },
                )
            except Exception:  # a bad clip must not end the worker
                log.exception("clip failed", extra={"camera": self.camera, "key": key})


def compress(image: np.ndarray, width: int) -> bytes:
    """``image`` (BGR) scaled to at most ``width`` px, even-sized (yuv420p), as JPEG.

    >>> len(compress(np.zeros((720, 1280, 3), np.uint8), 640)) < 10_000
    True
    """
    height, wide = image.shape[:2]
    new_w = min(width, wide) // 2 * 2
    new_h = max(2, round(height * new_w / wide) // 2 * 2)
    if (new_w, new_h) != (wide, height):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("frame could not be JPEG-encoded")
    return jpeg.tobytes()


def estimate_fps(frames: Sequence[BufferedFrame]) -> float:
    """The median frame rate of ``frames``' pts (DEFAULT_FPS when it cannot tell).

    >>> estimate_fps([BufferedFrame(t / 4, b"") for t in range(8)])
    4.0
    """
    gaps = [b.pts - a.pts for a, b in itertools.pairwise(frames) if b.pts > a.pts]
    if not gaps:
        return DEFAULT_FPS
    return min(MAX_FPS, max(1.0, 1.0 / statistics.median(gaps)))


def encode_mp4(frames: Sequence[BufferedFrame], fps: float) -> bytes:
    """An H.264 (yuv420p) MP4 of ``frames``, timed by their pts; nominal rate ``fps``.

    >>> f = BufferedFrame(0.0, compress(np.zeros((64, 64, 3), np.uint8), 64))
    >>> encode_mp4([f, BufferedFrame(0.5, f.jpeg)], fps=2)[4:8]
    b'ftyp'
    """
    if not frames:
        raise ValueError("a clip needs at least one frame")
    output = io.BytesIO()
    with av.open(output, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        first = _decode(frames[0].jpeg)
        height, width = first.shape[:2]
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = TIME_BASE
        stream.options = {"preset": PRESET, "threads": "2"}
        last = -1
        for item in frames:
            pts = max(last + 1, round((item.pts - frames[0].pts) / TIME_BASE))
            image = first if item is frames[0] else _decode(item.jpeg)
            if image.shape[:2] != (height, width):  # the camera changed size mid-clip
                image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            video = av.VideoFrame.from_ndarray(image, format="bgr24")
            video.pts, video.time_base, last = pts, TIME_BASE, pts
            container.mux(stream.encode(video))
        container.mux(stream.encode(None))
    return output.getvalue()


def _decode(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("buffered frame is not a JPEG")
    return image
