"""The conveyor scene's depth video: what a top-down depth camera beside the colour
camera records (same view, coarser pixels), as 16-bit millimetres in FFV1/MKV.

The belt lies ``belt_mm`` from the camera, the floor beside it ``FLOOR_BELOW_MM``
further; a parcel's top is ``belt_mm - height_mm``. Pictures are drawn at the colour
resolution and shrunk by area (so a parcel's edge gives mixed pixels, as a real
sensor's do), then get sensor noise and a few holes (0: no reading).

>>> import tempfile, pathlib
>>> from sightwire.sources.depth import DepthVideo
>>> path = pathlib.Path(tempfile.mkdtemp()) / "d.mkv"
>>> with DepthWriter(path, fps=5, size=(32, 18)) as video:
...     video.write(np.full((18, 32), 2000, np.uint16))
>>> [(t, int(p[0, 0])) for t, p in DepthVideo(path).frames()]
[(0.0, 2000)]
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

from sightwire.sources.depth import DEPTH_FORMAT, DepthImage
from sightwire.synth.parcels import Layout, Parcel
from sightwire.synth.video import VideoFileWriter

FLOOR_BELOW_MM = 450.0
"""How much further the floor beside the belt is than the belt's surface."""
HOLE_SHARE = 0.005
"""Share of pixels without a reading (glare, edges)."""


def depth_path(video: str | Path) -> Path:
    """Where a clip's depth video lives: ``OUT.mp4`` → ``OUT.depth.mkv``."""
    return Path(video).with_suffix(".depth.mkv")


class DepthWriter(VideoFileWriter):
    """Encodes 16-bit depth pictures (uint16, H x W) losslessly with FFV1 in MKV."""

    def _add_stream(self, rate: Fraction) -> av.VideoStream:
        stream = self._container.add_stream("ffv1", rate=rate)
        stream.width, stream.height = self.size
        stream.pix_fmt = DEPTH_FORMAT
        return stream

    def write(self, picture: DepthImage) -> None:
        """Encode one picture of the writer's size."""
        if (picture.shape[1], picture.shape[0]) != self.size or picture.dtype != np.uint16:
            raise ValueError(f"need uint16 {self.size[0]}x{self.size[1]}, got {picture.shape}")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format=DEPTH_FORMAT)
        self._encode(frame)


class DepthPainter:
    """Draws the depth picture of the conveyor scene at any time.

    >>> # painter = DepthPainter(layout, parcels, belt_mm=2000, scale=4, noise_mm=1.5, seed=0)
    >>> # picture = painter.paint(t)    # uint16 millimetres, (H / scale) x (W / scale)
    """

    def __init__(
        self,
        layout: Layout,
        parcels: list[Parcel],
        *,
        belt_mm: float,
        scale: int,
        noise_mm: float,
        seed: int,
    ) -> None:
        if scale < 1 or layout.width % scale or layout.height % scale:
            raise ValueError(f"depth scale {scale} must divide {layout.width}x{layout.height}")
        self.layout, self.parcels, self.belt_mm = layout, parcels, belt_mm
        self.size = (layout.width // scale, layout.height // scale)
        self.noise_mm = noise_mm
        # Its own generator: adding depth leaves the colour clip as it was.
        self._rng = np.random.default_rng([seed, 11])
        top, bottom = layout.belt_rows
        self._empty = np.full((layout.height, layout.width), belt_mm + FLOOR_BELOW_MM, np.float32)
        self._empty[top:bottom] = belt_mm

    def paint(self, t: float) -> DepthImage:
        """The depth picture ``t`` seconds into the clip."""
        full = self._empty.copy()
        moved = int(np.rint(t * self.layout.speed_px_s))
        for parcel in self.parcels:
            left = parcel.left(moved)
            x1, x2 = max(left, 0), min(left + parcel.width_px, self.layout.width)
            if x1 < x2:
                rows = slice(parcel.top, parcel.top + parcel.height_px)
                full[rows, x1:x2] = self.belt_mm - parcel.height_mm
        small: npt.NDArray[np.float32] = np.asarray(
            cv2.resize(full, self.size, interpolation=cv2.INTER_AREA), np.float32
        )
        if self.noise_mm > 0:
            small += self._rng.normal(0.0, self.noise_mm, small.shape).astype(np.float32)
        small[self._rng.random(small.shape) < HOLE_SHARE] = 0
        return np.clip(np.rint(small), 0, 65535).astype(np.uint16)


def write_depth(
    video: str | Path,
    layout: Layout,
    parcels: list[Parcel],
    *,
    fps: float,
    belt_mm: float,
    scale: int,
    noise_mm: float,
    seed: int,
) -> Path:
    """Write the depth video of a conveyor clip beside ``video``; return its path.
    It covers the clip's length at ``fps`` pictures per second."""
    painter = DepthPainter(
        layout, parcels, belt_mm=belt_mm, scale=scale, noise_mm=noise_mm, seed=seed
    )
    path = depth_path(video)
    count = max(1, int(np.floor(layout.frames / layout.fps * fps + 1e-9)))
    with DepthWriter(path, fps=fps, size=painter.size) as writer:
        for index in range(count):
            writer.write(painter.paint(index / fps))
    return path
