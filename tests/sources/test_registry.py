"""open_source picks the right kind of source for each URI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from sightwire.config.models import CameraConfig
from sightwire.core import Frame
from sightwire.sources import (
    KINDS,
    AvKind,
    AvSource,
    FolderSource,
    ImageSource,
    SourceError,
    SourceKind,
    UploadSource,
    open_source,
    register,
)

from .media import numbered_image


def open_uri(uri: str) -> object:
    return open_source("cam", CameraConfig(source=uri))


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("rtsp://10.0.0.5/stream1", AvKind.RTSP),
        ("rtsps://user:pw@10.0.0.5/stream1", AvKind.RTSP),
        ("http://10.0.0.6/video.cgi", AvKind.HTTP),
        ("https://cdn.example/live/cam.m3u8", AvKind.HLS),
        ("/dev/video0", AvKind.V4L2),
        ("v4l2:///dev/video1", AvKind.V4L2),
    ],
)
def test_network_and_webcam_uris_open_av_sources(uri: str, kind: AvKind) -> None:
    source = open_uri(uri)
    assert isinstance(source, AvSource) and source.kind is kind and source.live


def test_local_paths(clip: Path, tmp_path: Path) -> None:
    image = tmp_path / "still.jpg"
    cv2.imwrite(str(image), numbered_image(1))
    video = open_uri(str(clip))
    assert isinstance(video, AvSource) and video.kind is AvKind.FILE and not video.live
    assert isinstance(open_uri(f"file://{clip}"), AvSource)
    assert isinstance(open_uri(str(image)), ImageSource)
    assert isinstance(open_uri(str(tmp_path)), FolderSource)
    assert isinstance(open_uri("upload"), UploadSource)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("ftp://host/a.mp4", r"camera 'cam': unsupported source 'ftp://host/a.mp4'; use rtsp://"),
        ("/nowhere/clip.mp4", r"camera 'cam': no such file: /nowhere/clip.mp4"),
        ("/nowhere/pic.jpg", r"camera 'cam': no such image file: /nowhere/pic.jpg"),
    ],
)
def test_bad_uris_are_refused_clearly(uri: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        open_uri(uri)


def test_register_adds_a_kind_first() -> None:
    class Null:
        live = False

        def __init__(self, camera: str, config: CameraConfig) -> None:
            self.camera = camera

        def frames(self) -> Iterator[Frame]:
            return iter([])

        def close(self) -> None:
            pass

    kind = SourceKind("null", lambda uri: uri == "null://", Null)
    register(kind)
    try:
        assert isinstance(open_uri("null://"), Null)
    finally:
        KINDS.remove(kind)
