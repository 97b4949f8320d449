"""Depth streams: 16-bit depth pictures aligned with a camera's colour picture, paired
with its frames by time.

A depth stream is a 16-bit grey video (FFV1 or PNG in MKV, ``gray16le``; what a
depth camera's recorder or ``sightwire synth conveyor`` writes) or a folder of
16-bit PNGs (read in name order, ``fps`` apart). Each value is the distance from the
camera in ``unit_mm`` millimetres; 0 means no reading (a hole).

"Aligned" means the same field of view as the colour picture; the resolution may
differ (depth cameras are coarser), so a box in colour pixels maps to depth pixels by
the ratio of the sizes.

:class:`DepthStream` pairs each colour frame with the depth picture nearest its
``pts`` (within ``max_skew_s``), reading forward as the colour frames come; it never
looks back, so frames the pipeline skips cost only their decode.

>>> import numpy as np, tempfile, pathlib, cv2
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> for i in range(3):
...     _ = cv2.imwrite(str(folder / f"{i:04d}.png"), np.full((4, 6), 1000 + i, np.uint16))
>>> stream = DepthStream(DepthFolder(folder, fps=10), max_skew_s=0.02)
>>> stream.at(0.2)[0, 0], stream.at(0.25) is None
(np.uint16(1002), True)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, cast

import av
import cv2
import numpy as np
import numpy.typing as npt

from sightwire.sources.av_source import local_path
from sightwire.sources.base import SourceError

DepthImage = npt.NDArray[np.uint16]
DEPTH_FORMAT = "gray16le"


class DepthReader(Protocol):
    """Depth pictures of one stream in time order, as ``(pts seconds, picture)``."""

    def frames(self) -> Iterator[tuple[float, DepthImage]]: ...


class DepthVideo:
    """A 16-bit grey video file (FFV1 / PNG in MKV): each frame as ``gray16le``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"depth video {self.path} does not exist")

    def frames(self) -> Iterator[tuple[float, DepthImage]]:
        try:
            container = av.open(str(self.path))
        except av.FFmpegError as error:
            raise SourceError(f"cannot open depth video {self.path}: {error}") from None
        with container:
            stream = container.streams.video[0]
            rate = float(stream.average_rate or 0) or None
            for index, frame in enumerate(container.decode(stream)):
                pts = frame.time if frame.time is not None else index / (rate or 1.0)
                picture = frame.to_ndarray(format=DEPTH_FORMAT)
                yield float(pts), cast(DepthImage, picture)


class DepthFolder:
    """A folder of 16-bit PNGs in name order; picture ``i`` is at ``i / fps`` seconds."""

    def __init__(self, path: str | Path, *, fps: float) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise SourceError(f"depth folder {self.path} does not exist")
        if fps <= 0:
            raise ValueError(f"a depth folder needs a positive fps, got {fps}")
        self.fps = fps

    def frames(self) -> Iterator[tuple[float, DepthImage]]:
        files = sorted(p for p in self.path.iterdir() if p.suffix.lower() == ".png")
        for index, file in enumerate(files):
            picture = cv2.imread(str(file), cv2.IMREAD_UNCHANGED)
            if picture is None or picture.dtype != np.uint16 or picture.ndim != 2:
                raise SourceError(f"{file} is not a 16-bit single-channel PNG")
            yield index / self.fps, cast(DepthImage, picture)


def open_depth(uri: str, *, fps: float | None = None) -> DepthReader:
    """The reader for ``uri``: a folder of PNGs (needs ``fps``) or a depth video.

    >>> open_depth("/nonexistent/depth.mkv")
    Traceback (most recent call last):
    ...
    sightwire.sources.base.SourceError: depth video /nonexistent/depth.mkv does not exist
    """
    path = Path(local_path(uri))
    if path.is_dir():
        if fps is None:
            raise ValueError(f"depth folder {path}: set the depth stream's fps")
        return DepthFolder(path, fps=fps)
    return DepthVideo(path)


class DepthStream:
    """Pairs colour frames with depth pictures by presentation time.

    :meth:`at` returns the depth picture nearest ``pts`` if one lies within
    ``max_skew_s``, else None. Calls must come in time order (as a camera's frames
    do); an earlier ``pts`` than the last (a looped file) starts the stream again.
    """

    def __init__(self, reader: DepthReader, *, max_skew_s: float = 0.05) -> None:
        self.reader = reader
        self.max_skew_s = max_skew_s
        self._frames: Iterator[tuple[float, DepthImage]] | None = None
        self._current: tuple[float, DepthImage] | None = None
        self._next: tuple[float, DepthImage] | None = None
        self._last_pts: float | None = None
        self.paired = 0
        self.unpaired = 0

    def at(self, pts: float) -> DepthImage | None:
        """The depth picture for a colour frame at ``pts`` seconds, or None."""
        if self._frames is None or (self._last_pts is not None and pts < self._last_pts):
            self._restart()
        self._last_pts = pts
        # Move on while the next picture is at least as near to pts as the current one.
        while self._next is not None and (
            self._current is None or abs(self._next[0] - pts) <= abs(self._current[0] - pts)
        ):
            self._current, self._next = self._next, self._advance()
        if self._current is None or abs(self._current[0] - pts) > self.max_skew_s:
            self.unpaired += 1
            return None
        self.paired += 1
        return self._current[1]

    def _restart(self) -> None:
        self._frames = self.reader.frames()
        self._current, self._next = None, self._advance()

    def _advance(self) -> tuple[float, DepthImage] | None:
        assert self._frames is not None
        return next(self._frames, None)
