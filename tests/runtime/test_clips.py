"""Event clips: the last ``pre_s`` seconds and the next ``post_s`` seconds of a
camera's redacted frames become an H.264 MP4 in the blob store."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import av
import numpy as np
import pytest

from sightwire.analysis.observation import Observation
from sightwire.config import parse_config
from sightwire.config.clips import ClipConfig
from sightwire.config.models import CameraConfig, PrivacyConfig
from sightwire.core import Detections, Event, EventData, Frame
from sightwire.rules import RuleOutcome
from sightwire.runtime.clips import ClipRecorder, clip_key
from sightwire.runtime.event_loop import EventLoopThread
from sightwire.runtime.output import EventOutput
from sightwire.runtime.pipeline import CameraPipeline, FrameResult
from sightwire.storage.blobs import FileBlobStore

FPS = 10.0
SECRET = (0, 0, 320, 360)  # left half of a 640 x 360 frame: a "person", filled black


class Person:
    """An analyser that always finds a person on the left half of the frame."""

    def analyse(self, frame: Frame, detections: Detections) -> Detections:
        return Detections(
            xyxy=np.array([SECRET], np.float32),
            confidence=np.array([0.9], np.float32),
            class_id=np.array([0]),
            data={"class_name": np.array(["person"])},
        )


def redacted_frames(count: int, start: int = 0, name: str = "cam") -> Iterator[FrameResult]:
    """White 1280 x 720 frames through a pipeline that redacts the person (and scales)."""
    camera = CameraConfig(
        source="upload",
        resize={"width": 640},
        privacy=PrivacyConfig(classes=["person"], padding=0),
    )
    pipeline = CameraPipeline(name, camera, [Person()])
    image = np.full((720, 1280, 3), 255, np.uint8)
    for seq in range(start, start + count):
        yield pipeline.process(Frame(name, seq, time.time(), seq / FPS, image))


def decode(data: bytes) -> tuple[list[np.ndarray], float]:
    """The MP4's frames and its duration in seconds."""
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.video[0]
        images = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
        assert stream.duration is not None and stream.time_base is not None
        return images, float(stream.duration * stream.time_base)


def wait_for(blobs: FileBlobStore, key: str, timeout: float = 30.0) -> bytes:
    deadline = time.monotonic() + timeout
    while not blobs.exists(key):
        assert time.monotonic() < deadline, f"{key} was not written"
        time.sleep(0.05)
    return blobs.get(key)


@pytest.fixture
def blobs(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / "blobs")


def test_clip_holds_pre_and_post_seconds_of_redacted_frames(blobs: FileBlobStore) -> None:
    recorder = ClipRecorder("cam", ClipConfig(pre_s=3, post_s=2), blobs, fps=FPS)
    for result in redacted_frames(50):  # 5 s of history; the event is on the last frame
        recorder.feed(result.frame)
    assert recorder.start("clips/cam/e1.mp4", pts=4.9)
    for result in redacted_frames(19, start=50):
        recorder.feed(result.frame)
    time.sleep(0.3)
    assert not blobs.exists("clips/cam/e1.mp4")  # 1.9 s after the event: still collecting
    for result in redacted_frames(1, start=69):
        recorder.feed(result.frame)
    images, duration = decode(wait_for(blobs, "clips/cam/e1.mp4"))
    assert abs(len(images) - (3 + 2) * FPS) <= 1
    assert duration == pytest.approx(5.0, abs=1 / FPS)
    for image in images:  # the person is covered in every frame; the rest is white
        assert image.shape == (360, 640, 3)
        assert image[:, :300].mean() < 20
        assert image[:, 340:].mean() > 235
    recorder.close()


def test_ring_buffer_is_bounded_to_pre_s(blobs: FileBlobStore) -> None:
    recorder = ClipRecorder("cam", ClipConfig(pre_s=3, post_s=2, width=320), blobs, fps=FPS)
    for result in redacted_frames(200):
        recorder.feed(result.frame)
    assert len(recorder.buffer) == 3 * FPS  # frames of the last 3 s: 17.1 < pts <= 19.9
    assert recorder.buffer.maxlen == 3 * FPS + 1
    assert recorder.buffer_bytes < len(recorder.buffer) * 20_000  # JPEG at 320 px
    unknown_rate = ClipRecorder("cam", ClipConfig(pre_s=1), blobs)
    for result in redacted_frames(40):
        unknown_rate.feed(result.frame)
    assert len(unknown_rate.buffer) == 1 * FPS  # bounded by pts when the rate is unknown
    recorder.close()
    unknown_rate.close()


def test_stop_finishes_pending_clips_with_the_frames_they_have(blobs: FileBlobStore) -> None:
    recorder = ClipRecorder("cam", ClipConfig(pre_s=1, post_s=5), blobs, fps=FPS)
    for result in redacted_frames(20):
        recorder.feed(result.frame)
    assert recorder.start("clips/cam/e2.mp4", pts=1.9)
    for result in redacted_frames(5, start=20):
        recorder.feed(result.frame)
    recorder.close(timeout=30)
    images, _ = decode(blobs.get("clips/cam/e2.mp4"))
    assert len(images) == 10 + 5
    assert not recorder.start("clips/cam/e3.mp4", pts=2.5)  # closed: no more clips


def test_only_cameras_with_clip_record_clips(tmp_path: Path) -> None:
    config = parse_config(
        f"""
version: 1
store: {{database: 'sqlite:///{tmp_path}/events.db', blobs: 'file://{tmp_path}/blobs'}}
cameras:
  cam: {{source: upload, fps: 10, analyse: [{{track: {{}}}}], lines: {{exit: [[0, 0], [1, 1]]}},
         clip: {{pre_s: 1, post_s: 1}}}}
  plain: {{source: upload, fps: 10, analyse: [{{track: {{}}}}], lines: {{exit: [[0, 0], [1, 1]]}}}}
rules:
  - {{name: parcel.exit, on: {{line: exit}}}}
""",
        "site.yaml",
    )
    loop = EventLoopThread().start()
    output = EventOutput(config, loop)
    try:
        keys = {}
        for camera in ("cam", "plain"):
            results = list(redacted_frames(25, name=camera))
            for result in results[:15]:
                output.observe(result)
            event = Event.create(
                site="default",
                camera=camera,
                kind="parcel.exit",
                data=EventData(rule="parcel.exit", camera=camera, captured_at=time.time()),
            )
            outcome = RuleOutcome(event, (), "parcel.exit", cast(Observation, None))
            output.record(outcome, results[14])  # pts 1.4: 0.5 to 2.4 in the clip
            for result in results[15:]:
                output.observe(result)
            stored = output.store.get(event.id)
            assert stored is not None
            keys[camera] = stored.data.clip
        assert set(output.clips) == {"cam"}
        assert keys["plain"] is None
        assert keys["cam"] is not None
        assert keys["cam"].startswith("clips/cam/") and keys["cam"].endswith(".mp4")
        images, _ = decode(wait_for(cast(FileBlobStore, output.store.blobs), keys["cam"]))
        assert len(images) == 10 + 10
        assert not (tmp_path / "blobs" / "clips" / "plain").exists()
    finally:
        output.close()
        loop.stop()


def test_clip_key_mirrors_the_snapshot_key() -> None:
    event = Event.create(
        site="dc",
        camera="belt/1",
        kind="parcel.exit",
        now=86_400.0,
        data=EventData(rule="r", camera="belt/1", captured_at=86_400.0),
    )
    assert clip_key(event) == f"clips/belt_1/1970/01/02/{event.id}.mp4"
