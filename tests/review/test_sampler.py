"""The active-learning sampler: near-threshold frames only, at most the configured rate
per camera in stream time, saved as a JPEG with the detections as proposals."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from sightwire.config.review import ReviewConfig
from sightwire.core import Detections, Frame
from sightwire.review.sampler import ActiveLearningSampler, TokenBucket
from sightwire.review.store import ReviewQueue
from sightwire.storage.blobs import FileBlobStore
from tests.review.scenes import picture

THRESHOLD = 0.4
BOXES = [(10.0, 20.0, 60.0, 80.0), (100.0, 40.0, 150.0, 90.0), (200.0, 100.0, 260.0, 160.0)]


def detections(confidences: Sequence[float]) -> Detections:
    n = len(confidences)
    return Detections(
        xyxy=np.array(BOXES[:n], np.float32).reshape(-1, 4),
        confidence=np.array(confidences, np.float32),
        class_id=np.arange(n),
        tracker_id=np.arange(n) + 10,
        data={"class_name": np.array(["parcel", "person", "pallet"][:n])},
    )


def frame(pts: float, camera: str = "belt-1") -> Frame:
    image = picture(BOXES, seed=int(pts))
    return Frame(
        camera=camera, seq=int(pts * 10), captured_at=1_795_000_000 + pts, pts=pts, image=image
    )


def sampler(queue: ReviewQueue, blobs: FileBlobStore, **config: float) -> ActiveLearningSampler:
    return ActiveLearningSampler(ReviewConfig(**config), queue, blobs)


@pytest.mark.parametrize(
    ("confidences", "wanted"),
    [
        ([0.92, 0.88], False),  # sure: nothing to learn
        ([0.1], False),  # far below: noise
        ([], False),
        ([0.92, 0.5], True),  # one near, above
        ([0.9, 0.26], True),  # one near, below
        ([0.55], True),  # exactly at the band's edge
    ],
)
def test_only_frames_with_a_detection_near_the_threshold_are_queued(
    sqlite_queue: ReviewQueue, blobs: FileBlobStore, confidences: list[float], wanted: bool
) -> None:
    item = sampler(sqlite_queue, blobs, band=0.15).offer(
        frame(0), detections(confidences), THRESHOLD
    )
    assert (item is not None) == wanted
    assert sqlite_queue.pending_count(kind="frame") == int(wanted)


def test_the_rate_is_kept_per_camera_in_stream_time(
    sqlite_queue: ReviewQueue, blobs: FileBlobStore
) -> None:
    chooser = sampler(sqlite_queue, blobs, sample_rate_per_min=6)  # one per 10 s of stream
    near = detections([0.45])
    taken: dict[str, list[float]] = {"belt-1": [], "dock-2": []}
    for tick in range(60):  # one minute at 1 fps, both cameras
        for camera in taken:
            if chooser.offer(frame(tick, camera), near, THRESHOLD) is not None:
                taken[camera].append(tick)
    assert taken["belt-1"] == taken["dock-2"] == [0, 10, 20, 30, 40, 50]
    assert sqlite_queue.pending_count(kind="frame") == 12


def test_frames_that_are_not_candidates_spend_no_tokens(
    sqlite_queue: ReviewQueue, blobs: FileBlobStore
) -> None:
    chooser = sampler(sqlite_queue, blobs, sample_rate_per_min=1)
    assert chooser.offer(frame(0), detections([0.95]), THRESHOLD) is None
    assert chooser.offer(frame(1), detections([0.45]), THRESHOLD) is not None
    assert chooser.offer(frame(2), detections([0.45]), THRESHOLD) is None


def test_a_clock_that_runs_backwards_grants_no_extra_frames() -> None:
    bucket = TokenBucket(rate_per_s=1 / 60)
    assert bucket.take("cam", 100.0)
    assert not bucket.take("cam", 5.0)  # a looping file starts again at 0
    assert not bucket.take("cam", 50.0)
    assert bucket.take("cam", 65.0)


def test_disabled_or_full_queues_take_nothing(
    sqlite_queue: ReviewQueue, blobs: FileBlobStore
) -> None:
    near = detections([0.45])
    off = ActiveLearningSampler(ReviewConfig(enabled=False), sqlite_queue, blobs)
    assert off.offer(frame(0), near, THRESHOLD) is None
    capped = ActiveLearningSampler(
        ReviewConfig(sample_rate_per_min=60, max_pending=2), sqlite_queue, blobs
    )
    queued = [capped.offer(frame(t), near, THRESHOLD) for t in range(0, 50, 5)]
    assert sum(item is not None for item in queued) == 2


def test_a_sampled_frame_is_stored_with_its_proposals(
    sqlite_queue: ReviewQueue, blobs: FileBlobStore
) -> None:
    noisy = frame(3)
    shot = noisy.with_image(np.asarray(cv2.GaussianBlur(noisy.image, (0, 0), 2), np.uint8))
    item = sampler(sqlite_queue, blobs, band=0.15).offer(
        shot, detections([0.93, 0.31, 0.12]), THRESHOLD, model="parcels@3"
    )
    assert item is not None
    assert (item.kind, item.camera, item.threshold, item.model) == (
        "frame",
        "belt-1",
        0.4,
        "parcels@3",
    )
    assert item.captured_at == shot.captured_at
    # the confident one and the near-miss are proposed; the one far below is not
    assert [(p.class_name, p.box, p.track_id) for p in item.proposed] == [
        ("parcel", BOXES[0], 10),
        ("person", BOXES[1], 11),
    ]
    assert [p.confidence for p in item.proposed] == pytest.approx([0.93, 0.31], abs=1e-4)
    assert item.snapshot is not None and item.snapshot.startswith("review/belt-1/2026/")
    stored = cv2.imdecode(np.frombuffer(blobs.get(item.snapshot), np.uint8), cv2.IMREAD_COLOR)
    assert stored is not None
    assert stored.shape == shot.image.shape
    error = np.abs(stored.astype(np.int16) - shot.image.astype(np.int16)).mean()
    assert error < 3  # the frame itself, through JPEG
