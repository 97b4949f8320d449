"""Fixtures of the sources tests: generated clips and a real RTSP server."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service import require_service

from .media import make_clip
from .services import RtspServer, free_port, rtsp_unavailable_reason


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4 s, 25 fps, 320x240 H.264 MP4 of numbered frames, a keyframe every 25."""
    return make_clip(tmp_path_factory.mktemp("clips") / "numbered.mp4")


@pytest.fixture(scope="session")
def rtsp_available() -> None:
    """Skip (or fail) the session's RTSP tests once when GStreamer cannot serve."""
    reason = rtsp_unavailable_reason()
    if reason is not None:
        require_service(reason)


@pytest.fixture
def rtsp_server(rtsp_available: None) -> Iterator[RtspServer]:
    """A running GStreamer RTSP test camera on a free port; killed afterwards."""
    server = RtspServer(free_port())
    try:
        server.start()
    except RuntimeError as error:
        require_service(str(error))
    try:
        yield server
    finally:
        server.signal(signal.SIGCONT)
        server.kill()
