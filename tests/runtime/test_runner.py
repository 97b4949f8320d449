"""The run loop: every sampled frame is processed; a broken camera harms no other."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sightwire.config.models import CameraConfig, MotionConfig, SightwireConfig
from sightwire.runtime.runner import Runner
from sightwire.synth import write_static


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "room.mp4"
    write_static(path, seconds=6, fps=10, size=(320, 240), events=[1.0], seed=3)
    return path


def _run(cameras: dict[str, CameraConfig]) -> Runner:
    runner = Runner(SightwireConfig(cameras=cameras), until_end=True)
    runner.start()
    assert runner.wait(timeout=60), "the run did not end with its files"
    runner.stop()
    return runner


def test_until_end_processes_every_sampled_frame(clip: Path) -> None:
    runner = _run({"room": CameraConfig(source=str(clip), fps=5, motion=MotionConfig())})
    (row,) = runner.summary()
    assert row["state"] == "ended"
    assert row["frames"] == 30  # 6 s sampled at 5 fps, files never drop frames
    assert row["processed"] == 30
    assert row["dropped"] == 0
    assert row["with_motion"] + row["skipped_idle"] == 30
    assert row["activity"], "the person walking through at 1 s was not seen"
    first = row["activity"][0]
    assert 0.8 <= first["start_s"] <= 1.6


def test_broken_cameras_fail_alone(clip: Path, tmp_path: Path) -> None:
    garbage_video = tmp_path / "garbage.mp4"
    garbage_video.write_bytes(os.urandom(200_000))
    garbage_image = tmp_path / "garbage.jpg"
    garbage_image.write_bytes(os.urandom(5_000))
    runner = _run(
        {
            "good": CameraConfig(source=str(clip)),
            "bad-video": CameraConfig(source=str(garbage_video)),
            "bad-image": CameraConfig(source=str(garbage_image)),
            "missing": CameraConfig(source=str(tmp_path / "absent.mp4")),
        }
    )
    rows = {r["camera"]: r for r in runner.summary()}
    assert rows["good"]["state"] == "ended"
    assert rows["good"]["processed"] == 60
    for name, path in [("bad-video", garbage_video), ("bad-image", garbage_image)]:
        assert rows[name]["state"] == "failed"
        assert str(path) in rows[name]["detail"]
    assert rows["missing"]["state"] == "failed"
    assert set(runner.failed) == {"bad-video", "bad-image", "missing"}
