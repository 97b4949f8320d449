"""Still images: one image file, or a folder watched for new images.

Images are decoded with ``cv2.imdecode`` (EXIF orientation applied) to BGR. Each
image is one frame; ``fps`` does not thin them out (every uploaded picture counts).

Folder rules: images are read in name order; a file is read only once it has
settled (same size and mtime on two scans, and untouched for ``settle_s``), so a
file still being written is never read half-done; hidden files and temporary
names (``.part``, ``.tmp``, ``.crdownload``) are ignored until renamed. A file that
cannot be decoded is logged as an error, counted in ``errors``, and skipped: the
folder keeps going. A single bad image file raises ``SourceError``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import cv2
import numpy as np

from sightwire.config.models import CameraConfig
from sightwire.core import Frame
from sightwire.core.frame import Image
from sightwire.sources.av_source import local_path
from sightwire.sources.base import SourceError

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".jp2", ".pgm", ".ppm"}
)


def is_image_path(uri: str) -> bool:
    """Whether ``uri`` names an image file by its suffix."""
    return Path(local_path(uri)).suffix.lower() in IMAGE_SUFFIXES


def is_folder(uri: str) -> bool:
    """Whether ``uri`` is an existing folder."""
    return Path(local_path(uri)).is_dir()


def decode_image(camera: str, path: Path) -> Image:
    """Read and decode ``path`` to BGR; SourceError naming camera and file if it can't."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(f"camera {camera!r}: cannot read {path}: {error.strerror}") from None
    image = decode_bytes(data)
    if image is None:
        raise SourceError(f"camera {camera!r}: {path} is not a readable image ({len(data)} bytes)")
    return image


def decode_bytes(data: bytes) -> Image | None:
    """Decode encoded image bytes (JPEG, PNG, ...) to BGR, or None when they aren't one."""
    if not data:
        return None
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        return None
    return None if image is None else cast(Image, image)


class ImageSource:
    """One image file as one frame; with ``loop``, the same image again every 1/fps s."""

    live = False

    def __init__(self, camera: str, config: CameraConfig, uri: str | None = None) -> None:
        self.camera = camera
        self.config = config
        self.path = Path(local_path(uri if uri is not None else config.source))
        if not self.path.is_file():
            raise SourceError(f"camera {camera!r}: no such image file: {self.path}")
        self._closed = threading.Event()

    def frames(self) -> Iterator[Frame]:
        """Yield the image (once, or repeatedly when looping); SourceError if unreadable."""
        image = decode_image(self.camera, self.path)
        interval = 1.0 / (self.config.fps or 1.0)
        seq = 0
        while not self._closed.is_set():
            metadata = {"path": str(self.path)}
            yield Frame(self.camera, seq, time.time(), seq * interval, image, metadata)
            seq += 1
            if not self.config.loop or self._closed.wait(interval):
                return

    def close(self) -> None:
        """End ``frames()``."""
        self._closed.set()


class FolderSource:
    """Images in a folder, in name order, then new ones as they arrive (``watch``).

    With ``watch=False`` it ends once every image present has been read.
    """

    live = False

    def __init__(
        self,
        camera: str,
        config: CameraConfig,
        uri: str | None = None,
        *,
        watch: bool = True,
        poll_s: float = 0.2,
        settle_s: float = 0.5,
    ) -> None:
        self.camera = camera
        self.config = config
        self.path = Path(local_path(uri if uri is not None else config.source))
        if not self.path.is_dir():
            raise SourceError(f"camera {camera!r}: no such folder: {self.path}")
        self.watch = watch
        self.poll_s = poll_s
        self.settle_s = settle_s
        self.errors = 0
        self._closed = threading.Event()

    def close(self) -> None:
        """End ``frames()`` (a waiting poll returns at once)."""
        self._closed.set()

    def frames(self) -> Iterator[Frame]:
        """Yield each settled image once, in name order; skip (and log) unreadable ones."""
        done: set[str] = set()
        seen: dict[str, tuple[int, int]] = {}
        seq = 0
        while not self._closed.is_set():
            for path, mtime in self._settled(done, seen):
                if self._closed.is_set():
                    return
                done.add(path.name)
                try:
                    image = decode_image(self.camera, path)
                except SourceError as error:
                    self.errors += 1
                    logger.error("%s; skipped", error)
                    continue
                yield Frame(self.camera, seq, time.time(), mtime, image, {"path": str(path)})
                seq += 1
            if not self.watch and not seen:
                return
            self._closed.wait(self.poll_s)

    def _settled(
        self, done: set[str], seen: dict[str, tuple[int, int]]
    ) -> list[tuple[Path, float]]:
        """Images not read yet that stopped changing, in name order; track the others."""
        ready: list[tuple[Path, float]] = []
        now = time.time()
        try:
            entries = list(os.scandir(self.path))
        except OSError as error:
            raise SourceError(
                f"camera {self.camera!r}: cannot list {self.path}: {error.strerror}"
            ) from None
        for entry in entries:
            name = entry.name
            if name in done or name.startswith(".") or not is_image_path(name):
                continue
            try:
                stat = entry.stat()
            except OSError:  # deleted or renamed meanwhile
                seen.pop(name, None)
                continue
            signature = (stat.st_size, stat.st_mtime_ns)
            settled = seen.get(name) == signature and now - stat.st_mtime >= self.settle_s
            if settled:
                del seen[name]
                ready.append((Path(entry.path), stat.st_mtime))
            else:
                seen[name] = signature
        ready.sort(key=lambda item: item[0].name)
        return ready
