"""Which source reads a camera: the first kind whose ``matches`` accepts its URI.

Adding a kind of source is one module with a class that follows ``Source`` and a
predicate on the URI, plus one line in ``KINDS`` (or ``register()`` from outside).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sightwire.config.models import CameraConfig
from sightwire.sources.av_source import AvKind, AvSource, classify, redact
from sightwire.sources.base import Source, SourceError
from sightwire.sources.image_source import FolderSource, ImageSource, is_folder, is_image_path
from sightwire.sources.upload import UploadSource, is_upload

SourceFactory = Callable[[str, CameraConfig], Source]


@dataclass(frozen=True, slots=True)
class SourceKind:
    """A kind of source: its name, which URIs it takes, and how to make one."""

    name: str
    matches: Callable[[str], bool]
    create: SourceFactory


def _stream(uri: str) -> bool:
    return classify(uri) in (AvKind.RTSP, AvKind.HTTP, AvKind.HLS)


def _webcam(uri: str) -> bool:
    return classify(uri) is AvKind.V4L2


def _local(test: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda uri: classify(uri) is AvKind.FILE and test(uri)


KINDS: list[SourceKind] = [
    SourceKind("upload", is_upload, lambda camera, config: UploadSource(camera, config)),
    SourceKind("stream", _stream, AvSource),
    SourceKind("webcam", _webcam, AvSource),
    SourceKind("folder", _local(is_folder), FolderSource),
    SourceKind("image", _local(is_image_path), ImageSource),
    SourceKind("video", _local(lambda uri: True), AvSource),
]

_EXPECTED = "rtsp://, rtsps://, http(s)://, a file, a folder, /dev/videoN, v4l2:// or 'upload'"


def register(kind: SourceKind, *, first: bool = True) -> None:
    """Add a kind of source, tried before the built-in ones unless ``first`` is false."""
    if first:
        KINDS.insert(0, kind)
    else:
        KINDS.append(kind)


def kind_of(uri: str) -> SourceKind | None:
    """The kind that reads ``uri``, or None."""
    return next((kind for kind in KINDS if kind.matches(uri)), None)


def open_source(camera: str, config: CameraConfig) -> Source:
    """The source for ``camera`` chosen from ``config.source``; SourceError if none fits.

    A missing local file or folder is refused here, not at the first read.
    """
    kind = kind_of(config.source)
    if kind is None:
        raise SourceError(
            f"camera {camera!r}: unsupported source {redact(config.source)!r}; use {_EXPECTED}"
        )
    return kind.create(camera, config)
