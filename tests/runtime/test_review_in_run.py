"""Review in the run loop: every recorded event enters the review queue with its
snapshot, and the active-learning sampler queues frames whose detections sit near the
model's threshold, at its rate, while rules only ever see objects at the threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sightwire.config import parse_config
from sightwire.core.event import Event
from sightwire.inference.bundled import PARCELS_MODEL
from sightwire.review import ReviewItem, ReviewQueue
from sightwire.review.labels import ItemKind
from sightwire.review.query import QueueFilter
from sightwire.runtime.pipeline import FrameResult
from sightwire.runtime.runner import Runner
from sightwire.storage.blobs import FileBlobStore
from sightwire.storage.database import open_database
from sightwire.synth import write_conveyor

SECONDS = 8
THRESHOLD = 0.25
BAND = 0.15
PER_MIN = 60  # one frame a second of stream


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("belt") / "belt.mp4"
    write_conveyor(path, seconds=SECONDS, parcels=3, seed=5)
    return path


def _config_text(clip: Path, root: Path, enabled: bool) -> str:
    return f"""
version: 1
site: test
store: {{database: 'sqlite:///{root}/events.db', blobs: 'file://{root}/blobs'}}
models:
  parcels: {{path: '{PARCELS_MODEL}', confidence: {THRESHOLD}}}
review: {{enabled: {str(enabled).lower()}, sample_rate_per_min: {PER_MIN}, band: {BAND}}}
cameras:
  belt-1:
    source: '{clip}'
    fps: 5
    zones: {{belt: [[0, 0], [1280, 0], [1280, 720], [0, 720]]}}
    analyse:
      - detect: {{model: parcels}}
      - track: {{}}
rules:
  - name: parcel.seen
    on: {{zone: belt, class: parcel}}
"""


def _run(clip: Path, root: Path, enabled: bool) -> tuple[list[Event], list[FrameResult]]:
    events: list[Event] = []
    results: list[FrameResult] = []
    runner = Runner(
        parse_config(_config_text(clip, root, enabled), "site.yaml"),
        until_end=True,
        on_result=results.append,
        on_outcome=lambda outcome, _r: events.append(outcome.event),
    )
    runner.start()
    assert runner.wait(timeout=240)
    runner.stop()
    return events, results


def _items(root: Path, kind: ItemKind) -> list[ReviewItem]:
    database = open_database(f"sqlite:///{root}/events.db")
    try:
        return list(ReviewQueue(database).iterate(QueueFilter(kind=kind)))
    finally:
        database.close()


def test_events_and_near_threshold_frames_fill_the_queue(clip: Path, tmp_path: Path) -> None:
    events, results = _run(clip, tmp_path, enabled=True)
    assert events, "the scene should fire the rule"
    # Rules and analysers saw only objects at the threshold, never the near ones.
    seen = np.concatenate([r.detections.confidence for r in results])
    assert len(seen) and seen.min() >= THRESHOLD - 1e-6

    queued = {item.id: item for item in _items(tmp_path, "event")}
    assert set(queued) == {e.id for e in events}
    blobs = FileBlobStore(tmp_path / "blobs")
    for item in queued.values():
        assert item.rule == "parcel.seen" and item.state == "pending"
        assert item.snapshot and blobs.get(item.snapshot)[:2] == b"\xff\xd8"  # in a pack
        assert item.proposed and item.model == "parcels@file"

    frames = _items(tmp_path, "frame")
    assert frames, "frames with detections near the threshold should be sampled"
    assert len(frames) <= SECONDS * PER_MIN / 60 + 1  # the rate, in stream time
    for item in frames:
        assert item.threshold == THRESHOLD and item.model == "parcels@file"
        confidences = [label.confidence or 0.0 for label in item.proposed]
        assert min(confidences) >= THRESHOLD - BAND - 1e-3
        assert any(abs(c - THRESHOLD) <= BAND + 1e-3 for c in confidences)
        assert item.snapshot is not None and item.snapshot.startswith("review/belt-1/")
        assert (tmp_path / "blobs" / item.snapshot).read_bytes()[:2] == b"\xff\xd8"  # JPEG


def test_sampling_off_queues_events_but_no_frames(clip: Path, tmp_path: Path) -> None:
    events, results = _run(clip, tmp_path, enabled=False)
    assert events
    assert np.concatenate([r.detections.confidence for r in results]).min() >= THRESHOLD - 1e-6
    assert {item.id for item in _items(tmp_path, "event")} == {e.id for e in events}
    assert _items(tmp_path, "frame") == []
    assert not (tmp_path / "blobs" / "review").exists()
