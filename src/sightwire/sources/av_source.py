"""One PyAV source for video files, RTSP, HTTP(S) MJPEG, HLS and V4L2 webcams.

Decoding runs in the thread that iterates ``frames()``; only the frames the sampler
keeps are converted to BGR. Errors never escape as raw PyAV exceptions: every
failure becomes a ``SourceError`` naming the camera and the (password-free) URI.

Truncated files: the frames before the cut are yielded, then ``SourceError`` is
raised ("... is truncated or corrupt: it ended after N of M frames"), so the
pipeline keeps the good frames and the reader reports FAILED with the reason. A
file whose index is missing (an MP4 cut before its ``moov`` box) or that is not a
video at all cannot be opened and fails at once. Damaged packets inside a stream
are skipped with a warning (counted in ``corrupt_packets``), as FFmpeg does; more
than 50 in a row raise ``SourceError``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import unquote, urlsplit, urlunsplit

import av
import av.error

from sightwire.config.models import CameraConfig
from sightwire.core import Frame
from sightwire.core.frame import Image
from sightwire.sources import _interrupt
from sightwire.sources.base import SourceError
from sightwire.sources.sampling import FpsSampler

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

logger = logging.getLogger(__name__)

_LIVE_PROBE_US = "1000000"  # probe live streams for 1 s, not FFmpeg's 5 s
_VIDEO_DEVICE_PREFIX = "/dev/video"
# Each frame thread delays output by one frame: live streams use two (one frame of
# latency for ~1.5x headroom); files use FFmpeg's default (one per core).
_LIVE_DECODE_THREADS = 2
# Demuxers that invent timestamps (a fixed 25 fps) instead of reading them: for live
# streams in these formats the arrival time is the only true clock.
_UNTIMED_FORMATS = frozenset({"mpjpeg", "mjpeg", "jpeg_pipe", "image2pipe"})
# An undecodable packet is skipped (the decoder recovers at the next keyframe);
# this many in a row means the input is garbage.
_MAX_BAD_PACKETS = 50


class AvKind(StrEnum):
    """What an input is, which decides how PyAV opens it."""

    FILE = "file"
    RTSP = "rtsp"
    HTTP = "http"
    HLS = "hls"
    V4L2 = "v4l2"


def classify(uri: str) -> AvKind | None:
    """The kind of ``uri``, or None when PyAV sources do not handle it."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme in ("rtsp", "rtsps"):
        return AvKind.RTSP
    if scheme in ("http", "https"):
        return AvKind.HLS if parts.path.lower().endswith(".m3u8") else AvKind.HTTP
    if scheme == "v4l2" or uri.startswith(_VIDEO_DEVICE_PREFIX):
        return AvKind.V4L2
    if scheme in ("", "file") or (len(scheme) == 1 and uri[1:3] in (":\\", ":/")):
        return AvKind.FILE
    return None


def redact(uri: str) -> str:
    """``uri`` without its password, fit for logs and error messages."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def local_path(uri: str) -> str:
    """The file system path of a file or V4L2 URI (``file://``, ``v4l2://`` stripped)."""
    parts = urlsplit(uri)
    if parts.scheme.lower() in ("file", "v4l2"):
        return unquote(parts.netloc + parts.path)
    return uri


@dataclass(frozen=True, slots=True)
class OpenArgs:
    """Everything ``av.open`` needs for one input."""

    url: str
    format: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    timeout: tuple[float, float] | None = None


def open_args(kind: AvKind, uri: str, config: CameraConfig) -> OpenArgs:
    """How to open ``uri`` of ``kind`` with the camera's transport and timeouts."""
    timeout = (config.connect_timeout_s, config.read_timeout_s)
    if kind is AvKind.RTSP:
        options = {"rtsp_transport": config.rtsp_transport, "analyzeduration": _LIVE_PROBE_US}
        return OpenArgs(uri, None, options, timeout)
    if kind is AvKind.HTTP:
        return OpenArgs(uri, None, {"analyzeduration": _LIVE_PROBE_US}, timeout)
    if kind is AvKind.HLS:
        return OpenArgs(uri, "hls", {}, timeout)
    if kind is AvKind.V4L2:
        return OpenArgs(local_path(uri), "v4l2", {}, timeout)
    return OpenArgs(local_path(uri), None, {}, timeout)


def describe(error: BaseException) -> str:
    """A one-line reason from a PyAV (or OS) error, without the errno noise."""
    if isinstance(error, av.error.ExitError):
        return "no data before the timeout"
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return str(text)


class _Pacer:
    """Sleep until each frame's pts comes due, so a file plays like a live camera."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._origin: tuple[float, float] | None = None

    def wait(self, pts: float) -> None:
        """Block until ``pts`` is due (interrupted at once by the stop event)."""
        now = time.monotonic()
        if self._origin is None:
            self._origin = (now, pts)
            return
        wall0, pts0 = self._origin
        delay = wall0 + (pts - pts0) - now
        if delay > 0:
            self._stop.wait(delay)
        elif delay < -1.0:  # fell far behind: play on from here, do not burst
            self._origin = (now, pts)


@dataclass(slots=True)
class _Pass:
    """Where passes over the input left off, so a looped file continues its timeline."""

    seq: int = 0
    offset: float = 0.0
    step: float = 0.04
    first_raw: float | None = None
    last_raw: float | None = None
    decoded: int = 0


def _bgr(frame: VideoFrame) -> Image:
    """The frame as a BGR uint8 array (the only pixel conversion on the hot path)."""
    return cast(Image, frame.to_ndarray(format="bgr24"))


class AvSource:
    """Frames from anything PyAV opens: files, RTSP, HTTP MJPEG, HLS, V4L2.

    ``live`` is false for files (read once, or looped, never dropping frames) and
    true for network streams and webcams (the reader reconnects them).
    ``close()`` from another thread interrupts an open or read within milliseconds.
    """

    def __init__(self, camera: str, config: CameraConfig, uri: str | None = None) -> None:
        self.camera = camera
        self.config = config
        self.uri = uri if uri is not None else config.source
        kind = classify(self.uri)
        if kind is None:
            raise SourceError(f"camera {camera!r}: unsupported source {redact(self.uri)!r}")
        self.kind = kind
        self.live = kind is not AvKind.FILE
        if kind is AvKind.FILE and not Path(local_path(self.uri)).is_file():
            raise SourceError(f"camera {camera!r}: no such file: {local_path(self.uri)}")
        self.corrupt_packets = 0
        self.duration_s: float | None = None  # a file's length, known once it is open
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._thread: int | None = None
        _interrupt.install()

    def __repr__(self) -> str:
        return f"AvSource({self.camera!r}, {redact(self.uri)!r}, kind={self.kind.value})"

    def close(self) -> None:
        """Stop for good: interrupt a blocking open/read and end ``frames()``."""
        self._closed.set()
        with self._lock:
            if self._thread is not None:
                _interrupt.interrupt(self._thread)

    def frames(self) -> Iterator[Frame]:
        """Open the input and yield sampled frames; raise SourceError on failure."""
        if self._closed.is_set():
            return
        thread = threading.get_ident()
        with self._lock:
            self._thread = thread
        try:
            yield from self._passes()
        finally:
            with self._lock:
                self._thread = None
            _interrupt.clear(thread)

    def _passes(self) -> Iterator[Frame]:
        """One pass over the input, or endless passes when a file loops."""
        state = _Pass()
        sampler: FpsSampler | None = None
        pacer = _Pacer(self._closed) if self.config.realtime and not self.live else None
        while not self._closed.is_set():
            container = self._open()
            if container is None:
                return
            try:
                stream = self._video_stream(container)
                if container.duration and not self.live:
                    self.duration_s = container.duration / 1_000_000  # AV_TIME_BASE
                if sampler is None:
                    rate = stream.average_rate
                    state.step = 1.0 / float(rate) if rate else state.step
                    sampler = FpsSampler(self.config.fps, state.step if rate else None)
                timed = not (self.live and container.format.name in _UNTIMED_FORMATS)
                yield from self._decode(container, stream, sampler, pacer, state, timed)
            finally:
                self._close_container(container)
            if self._closed.is_set() or not (self.config.loop and self.kind is AvKind.FILE):
                return
            self._next_loop(state)

    def _next_loop(self, state: _Pass) -> None:
        """Shift pts so the next pass of a looped file continues the timeline."""
        if state.decoded == 0:
            raise SourceError(f"camera {self.camera!r}: no frames to loop in {self._where()}")
        first = state.first_raw or 0.0
        last = state.last_raw if state.last_raw is not None else first
        state.offset += (last - first) + state.step
        state.first_raw = state.last_raw = None
        state.decoded = 0

    def _open(self) -> InputContainer | None:
        """Open the input, or None when closed meanwhile; SourceError when it fails."""
        args = open_args(self.kind, self.uri, self.config)
        try:
            return av.open(args.url, format=args.format, options=args.options, timeout=args.timeout)
        except (av.error.FFmpegError, OSError, ValueError) as error:
            if self._closed.is_set():
                return None
            raise SourceError(
                f"camera {self.camera!r}: cannot open {self._where()}: {describe(error)}"
            ) from None

    def _video_stream(self, container: InputContainer) -> VideoStream:
        """The first video stream, set up for threaded (and keyframe-only) decoding."""
        if not container.streams.video:
            raise SourceError(f"camera {self.camera!r}: no video stream in {self._where()}")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # ~1.5x decode throughput on 2 cores (frame threads)
        if self.live:
            stream.thread_count = _LIVE_DECODE_THREADS
        if self.config.keyframes_only:
            stream.codec_context.skip_frame = "NONKEY"
        return stream

    def _decode(
        self,
        container: InputContainer,
        stream: VideoStream,
        sampler: FpsSampler,
        pacer: _Pacer | None,
        state: _Pass,
        timed: bool,
    ) -> Generator[Frame, None, None]:
        """Decode one pass; the hot loop converts only the frames the sampler keeps.

        Untimed streams (``timed`` false) pass no pts: the sampler uses arrival time.
        """
        camera, offset, closed = self.camera, state.offset, self._closed
        packets = decoded = kept = bad = 0
        raw: float | None = None
        try:
            for packet in container.demux(stream):
                packets += packet.size > 0
                try:
                    frames = stream.decode(packet)
                except av.error.InvalidDataError as error:
                    bad = self._bad_packet(error, bad)
                    continue
                bad = 0
                for frame in frames:
                    decoded += 1
                    raw = frame.time if timed else None
                    if decoded == 1:
                        state.first_raw = raw
                    t = sampler.offer(None if raw is None else raw + offset)
                    if t is None:
                        continue
                    if pacer is not None:
                        pacer.wait(t)
                        if closed.is_set():
                            return
                    # No local for the image: the pipeline alone decides its lifetime.
                    yield Frame(camera, state.seq, time.time(), t, _bgr(frame))
                    state.seq += 1
                    kept += 1
        except (av.error.FFmpegError, OSError, ValueError) as error:
            if closed.is_set():
                return
            raise self._read_error(error, decoded, kept) from None
        state.last_raw, state.decoded = raw, decoded
        self._check_complete(stream, packets, decoded, kept)

    def _bad_packet(self, error: BaseException, consecutive: int) -> int:
        """Count an undecodable packet (skipped); raise when too many come in a row."""
        self.corrupt_packets += 1
        consecutive += 1
        if consecutive == 1:
            logger.warning(
                "camera %r: skipping undecodable data in %s: %s",
                self.camera,
                self._where(),
                describe(error),
            )
        if consecutive > _MAX_BAD_PACKETS:
            raise SourceError(
                f"camera {self.camera!r}: {self._where()} is corrupt: "
                f"{consecutive} undecodable packets in a row: {describe(error)}"
            )
        return consecutive

    def _read_error(self, error: BaseException, decoded: int, kept: int) -> SourceError:
        """A SourceError for a failure while reading, saying how far it got."""
        where = self._where()
        if self.kind is AvKind.FILE:
            return SourceError(
                f"camera {self.camera!r}: {where} is truncated or corrupt: reading stopped "
                f"after {decoded} decoded frames ({kept} delivered): {describe(error)}"
            )
        return SourceError(
            f"camera {self.camera!r}: lost {where} after {kept} frames: {describe(error)}"
        )

    def _check_complete(self, stream: VideoStream, packets: int, decoded: int, kept: int) -> None:
        """Raise when a file ended before the frame count its header promised."""
        expected = stream.frames
        if self.kind is not AvKind.FILE or expected <= 0 or packets >= expected:
            return
        raise SourceError(
            f"camera {self.camera!r}: {self._where()} is truncated or corrupt: it ended after "
            f"{packets} of {expected} frames ({decoded} decoded, {kept} delivered)"
        )

    def _close_container(self, container: InputContainer) -> None:
        """Close ``container``, logging (not raising) a failure to do so."""
        try:
            container.close()
        except Exception as error:
            logger.debug("camera %r: closing %s: %s", self.camera, self._where(), error)

    def _where(self) -> str:
        """The input as shown in messages: a path, or a URI without its password."""
        if self.kind is AvKind.FILE:
            return str(Path(local_path(self.uri)))
        return redact(self.uri)
