"""AvSource on generated files, MJPEG over HTTP, HLS, and broken inputs."""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path

import pytest

from sightwire.config.models import CameraConfig
from sightwire.sources import AvKind, AvSource, SourceError
from sightwire.sources.av_source import classify, open_args, redact

from .media import make_clip, make_hls, read_index, serve_folder, serve_mjpeg


def source(uri: str | Path, **options: object) -> AvSource:
    return AvSource("cam-1", CameraConfig(source=str(uri), **options))  # type: ignore[arg-type]


def test_unsampled_file_yields_every_frame_in_order(clip: Path) -> None:
    frames = list(source(clip).frames())
    assert [read_index(f.image) for f in frames] == list(range(100))
    assert [f.seq for f in frames] == list(range(100))
    assert [f.pts for f in frames] == pytest.approx([i / 25 for i in range(100)])
    assert frames[0].image.shape == (240, 320, 3) and frames[0].camera == "cam-1"


def test_sampled_file_yields_the_right_frames(clip: Path) -> None:
    frames = list(source(clip, fps=5).frames())
    assert [read_index(f.image) for f in frames] == list(range(0, 100, 5))
    assert [f.pts for f in frames] == pytest.approx([i / 5 for i in range(20)])


def test_keyframes_only_yields_the_keyframes(clip: Path) -> None:
    frames = list(source(clip, keyframes_only=True).frames())
    assert [read_index(f.image) for f in frames] == [0, 25, 50, 75]


def test_loop_continues_the_timeline(clip: Path) -> None:
    frames = list(itertools.islice(source(clip, loop=True, fps=5).frames(), 45))
    assert [read_index(f.image) for f in frames] == list(range(0, 100, 5)) * 2 + [0, 5, 10, 15, 20]
    assert [f.pts for f in frames] == pytest.approx([i / 5 for i in range(45)])


def test_realtime_paces_a_file_like_a_camera(clip: Path) -> None:
    frames = list(itertools.islice(source(clip, realtime=True, fps=10).frames(), 6))
    span = frames[-1].captured_at - frames[0].captured_at
    assert 0.45 <= span <= 0.9  # 5 intervals of 0.1 s


def test_truncated_mp4_without_index_is_a_clear_error(clip: Path, tmp_path: Path) -> None:
    bad = tmp_path / "cut.mp4"
    bad.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with pytest.raises(SourceError, match=r"camera 'cam-1': cannot open .*cut\.mp4"):
        list(source(bad).frames())


def test_truncated_faststart_mp4_yields_its_frames_then_fails(tmp_path: Path) -> None:
    whole = make_clip(tmp_path / "whole.mp4", faststart=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 6 // 10])
    frames = []
    with pytest.raises(SourceError, match=r"camera 'cam-1': .*cut\.mp4 is truncated or corrupt"):
        frames.extend(source(cut).frames())
    assert 20 < len(frames) < 100
    assert [read_index(f.image) for f in frames] == list(range(len(frames)))


def test_damaged_packets_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = bytearray(make_clip(tmp_path / "whole.mp4", faststart=True).read_bytes())
    for start in (len(data) // 3, len(data) // 2):
        data[start : start + 4000] = random.Random(start).randbytes(4000)
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    reader = source(damaged)
    indices = [read_index(f.image) for f in reader.frames()]
    assert 50 <= len(indices) < 100 and indices[:10] == list(range(10)) and indices[-1] == 99
    assert reader.corrupt_packets > 0
    assert "camera 'cam-1': skipping undecodable data in " in caplog.text


def test_random_bytes_named_mp4_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "noise.mp4"
    bad.write_bytes(os.urandom(50_000))
    with pytest.raises(SourceError, match=r"camera 'cam-1': cannot open .*noise\.mp4") as info:
        list(source(bad).frames())
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_missing_file_is_refused_at_once(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        source(tmp_path / "nope.mp4")


def test_mjpeg_over_http() -> None:
    with serve_mjpeg() as base:
        mjpeg = source(f"{base}/video.mjpg", read_timeout_s=5)
        assert mjpeg.live and mjpeg.kind is AvKind.HTTP
        frames = list(itertools.islice(mjpeg.frames(), 8))
    indices = [read_index(f.image) for f in frames]
    assert indices == list(range(indices[0], indices[0] + 8))
    assert frames[0].image.shape == (240, 320, 3)


def test_mjpeg_is_sampled_by_arrival_time_not_invented_pts() -> None:
    # The mpjpeg demuxer stamps frames at a made-up 25 fps; the server sends 20 fps.
    with serve_mjpeg() as base:
        frames = list(itertools.islice(source(f"{base}/video.mjpg", fps=5).frames(), 9))
    indices = [read_index(f.image) for f in frames[2:]]  # after the burst buffered at open
    steps = sorted(b - a for a, b in itertools.pairwise(indices))
    assert steps[len(steps) // 2] == 4, indices  # every 4th frame, not every 5th


def test_hls_playlist_over_http(tmp_path: Path) -> None:
    make_hls(tmp_path / "hls", seconds=3.0)
    with serve_folder(tmp_path / "hls") as base:
        hls = source(f"{base}/index.m3u8", fps=5)
        assert hls.kind is AvKind.HLS and hls.live
        frames = list(hls.frames())
    assert [read_index(f.image) for f in frames] == list(range(0, 75, 5))


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("rtsp://cam/1", AvKind.RTSP),
        ("RTSPS://cam/1", AvKind.RTSP),
        ("http://cam/video.mjpg", AvKind.HTTP),
        ("https://cdn/live/index.m3u8?token=1", AvKind.HLS),
        ("/dev/video0", AvKind.V4L2),
        ("v4l2:///dev/video2", AvKind.V4L2),
        ("clips/a.mp4", AvKind.FILE),
        ("file:///data/a.mp4", AvKind.FILE),
        ("ftp://host/a.mp4", None),
    ],
)
def test_classify(uri: str, kind: AvKind | None) -> None:
    assert classify(uri) is kind


def test_open_args_carry_transport_and_timeouts() -> None:
    config = CameraConfig(
        source="rtsp://u:secret@cam/1", rtsp_transport="udp", connect_timeout_s=3, read_timeout_s=4
    )
    args = open_args(AvKind.RTSP, config.source, config)
    assert args.options["rtsp_transport"] == "udp" and args.timeout == (3, 4)
    webcam = open_args(AvKind.V4L2, "v4l2:///dev/video2", config)
    assert (webcam.url, webcam.format) == ("/dev/video2", "v4l2")
    assert redact(config.source) == "rtsp://u:***@cam/1"


def test_connection_refused_names_camera_without_password() -> None:
    from .services import free_port

    bad = source(f"rtsp://admin:hunter2@127.0.0.1:{free_port()}/x", connect_timeout_s=2)
    with pytest.raises(SourceError, match=r"camera 'cam-1': cannot open rtsp://admin:\*\*\*@") as e:
        list(bad.frames())
    assert "hunter2" not in str(e.value)
