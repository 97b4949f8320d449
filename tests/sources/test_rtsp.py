"""Against a real RTSP server (GStreamer): TCP, UDP, reconnects, and stop()."""

from __future__ import annotations

import itertools
import signal
import time

import pytest

from sightwire.config.models import CameraConfig, ReconnectConfig
from sightwire.sources import AvSource, CameraReader, SourceState, StateChange

from .services import RtspServer, wait_until

pytestmark = pytest.mark.service
S = SourceState


def config(server: RtspServer, **options: object) -> CameraConfig:
    return CameraConfig(source=server.url, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_reads_frames(rtsp_server: RtspServer, transport: str) -> None:
    source = AvSource("dock", config(rtsp_server, rtsp_transport=transport, fps=5))
    assert source.live
    frames = list(itertools.islice(source.frames(), 6))
    assert all(f.image.shape == (240, 320, 3) and f.camera == "dock" for f in frames)
    gaps = [b.pts - a.pts for a, b in itertools.pairwise(frames)]
    assert all(0.13 <= gap <= 0.27 for gap in gaps), gaps  # 15 fps sampled to 5


def test_reader_reconnects_after_the_server_restarts(rtsp_server: RtspServer) -> None:
    changes: list[StateChange] = []
    reconnect = ReconnectConfig(initial_s=0.1, max_s=0.5, jitter=0.1)
    reader = CameraReader.from_config(
        "dock", config(rtsp_server, reconnect=reconnect, read_timeout_s=3), changes.append
    ).start()
    try:
        assert reader.get(timeout=10) is not None
        rtsp_server.kill()
        wait_until(lambda: reader.state is S.RECONNECTING, 10, "reconnecting")
        while reader.get(timeout=0) is not None:  # drain what arrived before the kill
            pass
        rtsp_server.start()
        wait_until(lambda: reader.state is S.STREAMING, 15, "streaming again")
        assert reader.get(timeout=5) is not None
    finally:
        assert reader.stop()
    states = [c.state for c in changes]
    assert states == [S.CONNECTING, S.STREAMING, S.RECONNECTING, S.STREAMING, S.ENDED]
    assert reader.stats().reconnects >= 1


def test_stop_interrupts_a_blocked_read_within_2s(rtsp_server: RtspServer) -> None:
    long_timeouts = config(rtsp_server, connect_timeout_s=30, read_timeout_s=30)
    reader = CameraReader.from_config("dock", long_timeouts).start()
    assert reader.get(timeout=10) is not None
    rtsp_server.signal(signal.SIGSTOP)  # the camera hangs: the socket stays open, silent
    while reader.get(timeout=0.5) is not None:  # until nothing arrives: blocked in a read
        pass
    assert reader.state is S.STREAMING
    started = time.monotonic()
    assert reader.stop()
    assert time.monotonic() - started < 2.0
    assert reader.state is S.ENDED


def test_stop_interrupts_a_blocked_connect_within_2s(rtsp_server: RtspServer) -> None:
    rtsp_server.signal(signal.SIGSTOP)  # accepts TCP (kernel backlog) but never answers
    long_timeouts = config(rtsp_server, connect_timeout_s=30, read_timeout_s=30)
    reader = CameraReader.from_config("dock", long_timeouts).start()
    assert reader.get(timeout=0.5) is None and reader.state is S.CONNECTING
    started = time.monotonic()
    assert reader.stop()
    assert time.monotonic() - started < 2.0
