"""H.264 MP4 writing and sensor noise for synthetic clips.

>>> import numpy as np, tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "grey.mp4"
>>> with Mp4Writer(path, fps=10, size=(64, 48)) as video:
...     for _ in range(3):
...         video.write(np.full((48, 64, 3), 128, np.uint8))
>>> video.frames
3
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Self

import av
import cv2
import numpy as np

from sightwire.core.frame import Image

CRF = 20
"""x264 constant rate factor: fine enough for barcodes with 1-pixel modules."""
ENCODER_THREADS = 2
PRESET = "ultrafast"
"""x264 speed preset: a 20 s 720p clip encodes in a few seconds on two cores."""


def frame_count(seconds: float, fps: float) -> int:
    """Number of frames of a clip ``seconds`` long at ``fps`` (at least one)."""
    if seconds <= 0 or fps <= 0:
        raise ValueError(f"seconds and fps must be positive, got {seconds} s at {fps} fps")
    return max(1, round(seconds * fps))


def check_size(size: tuple[int, int]) -> None:
    """Refuse a picture size H.264 in yuv420p cannot carry (odd, or under 16 pixels)."""
    width, height = size
    if width % 2 or height % 2 or width < 16 or height < 16:
        raise ValueError(f"size must be even and at least 16x16, got {width}x{height}")


class VideoFileWriter:
    r"""One video stream in a file, frame by frame: what every clip writer shares.

    Subclasses add the stream (:meth:`_add_stream`) and turn their pictures into
    ``av.VideoFrame``\ s for :meth:`_encode`, which stamps and muxes them.
    """

    def __init__(self, path: str | Path, *, fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.size = size
        self.frames = 0
        rate = Fraction(fps).limit_denominator(1001)
        self._time_base = 1 / rate
        self._container = av.open(str(self.path), mode="w")
        self._stream = self._add_stream(rate)

    def _add_stream(self, rate: Fraction) -> av.VideoStream:
        raise NotImplementedError

    def _encode(self, frame: av.VideoFrame) -> None:
        frame.pts, frame.time_base = self.frames, self._time_base
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class Mp4Writer(VideoFileWriter):
    """Encodes BGR frames to an H.264 (yuv420p) MP4 with a keyframe every ``gop_s``.

    Width and height must be even (yuv420p halves the chroma planes). ``crf`` is
    x264's quality (lower is finer and bigger; 26 is about what an IP camera sends).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fps: float,
        size: tuple[int, int],
        gop_s: float = 2.0,
        crf: int = CRF,
    ) -> None:
        check_size(size)
        self.fps = fps
        self.crf = crf
        self.gop_frames = max(1, round(gop_s * fps))
        super().__init__(path, fps=fps, size=size)

    def _add_stream(self, rate: Fraction) -> av.VideoStream:
        stream = self._container.add_stream("libx264", rate=rate)
        stream.width, stream.height = self.size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = self.gop_frames
        # Frame threads: twice as fast as slices on two cores. A fixed count keeps the
        # bitstream identical on every machine (x264's output depends on it).
        stream.codec_context.thread_type = "FRAME"
        stream.codec_context.thread_count = ENCODER_THREADS
        stream.options = {"crf": str(self.crf), "preset": PRESET}
        return stream

    def write(self, image: Image) -> None:
        """Encode one BGR frame of the writer's size."""
        height, width = image.shape[:2]
        if (width, height) != self.size:
            clip = f"{self.size[0]}x{self.size[1]}"
            raise ValueError(f"frame is {width}x{height}, the clip is {clip}")
        # OpenCV's BT.601 conversion is about 8x faster than swscale's for this step.
        yuv = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), np.uint8)
        self._encode(av.VideoFrame.from_ndarray(yuv, format="yuv420p"))


class SensorNoise:
    """Gaussian sensor noise, cheap per frame: one noise field, a random window each time.

    >>> noise = SensorNoise(sigma=2.0, size=(64, 48), seed=1)
    >>> image = np.full((48, 64, 3), 100, np.uint8)
    >>> noise.apply(image)
    >>> bool(image.std() > 1.0)
    True
    """

    MARGIN = 32

    def __init__(self, *, sigma: float, size: tuple[int, int], seed: int) -> None:
        width, height = size
        self.sigma = sigma
        self._rng = np.random.default_rng([seed, 7])
        shape = (height + self.MARGIN, width + self.MARGIN, 3)
        field = np.rint(self._rng.normal(0.0, sigma, shape)) if sigma > 0 else np.zeros(shape)
        self._plus = np.clip(field, 0, 255).astype(np.uint8)
        self._minus = np.clip(-field, 0, 255).astype(np.uint8)
        self._size = size

    def apply(self, image: Image) -> None:
        """Add noise to ``image`` in place (saturating)."""
        if self.sigma <= 0:
            return
        width, height = self._size
        dy, dx = (int(v) for v in self._rng.integers(0, self.MARGIN, 2))
        cv2.add(image, self._plus[dy : dy + height, dx : dx + width], dst=image)
        cv2.subtract(image, self._minus[dy : dy + height, dx : dx + width], dst=image)
