"""TrackAnalyser: the pipeline's track step, one tracker per camera, pts as time."""

from __future__ import annotations

import numpy as np

from sightwire.config.models import CameraConfig, TrackOptions
from sightwire.core import Detections, Frame
from sightwire.runtime.pipeline import Analyser, CameraPipeline
from sightwire.tracking import TrackAnalyser
from tests.tracking.scenes import Mover, detections

IMAGE = np.zeros((48, 64, 3), np.uint8)


def _frame(camera: str, pts: float, seq: int = 0) -> Frame:
    return Frame(camera=camera, seq=seq, captured_at=1000.0 + pts, pts=pts, image=IMAGE)


def _ids(out: Detections) -> list[int]:
    assert out.tracker_id is not None
    return [int(i) for i in out.tracker_id]


def test_is_an_analyser() -> None:
    step: Analyser = TrackAnalyser(TrackOptions())
    assert _ids(step.analyse(_frame("a", 0.0), Detections.empty())) == []


def test_cameras_have_their_own_tracks() -> None:
    step = TrackAnalyser(TrackOptions(min_hits=1))
    a = detections([Mover((10, 10), (0, 0), size=(8, 8))], 0.0)
    b = detections([Mover((40, 30), (0, 0), size=(8, 8))], 0.0)
    assert _ids(step.analyse(_frame("a", 0.0), a)) == [1]
    assert _ids(step.analyse(_frame("b", 5.0), b)) == [1]
    # Camera b's later clock does not age camera a's tracks.
    assert _ids(step.analyse(_frame("a", 0.04), a)) == [1]
    step.reset("a")
    assert _ids(step.analyse(_frame("a", 0.08), a)) == [2]
    assert _ids(step.analyse(_frame("b", 5.04), b)) == [1]
    step.reset()
    assert _ids(step.analyse(_frame("b", 5.08), b)) == [2]


def test_uses_pts_as_time() -> None:
    step = TrackAnalyser(TrackOptions(min_hits=1, max_age_s=0.5))
    still = detections([Mover((30, 20), (0, 0), size=(8, 8))], 0.0)
    step.analyse(_frame("a", 0.0), still)
    step.analyse(_frame("a", 0.1), Detections.empty())  # lost at pts 0.1
    # captured_at moves on by only 0.1 s per frame, but pts says 0.9 s have passed.
    assert _ids(step.analyse(_frame("a", 1.0), still)) == [2]


def test_runs_in_a_camera_pipeline() -> None:
    class Detector:
        def analyse(self, frame: Frame, found: Detections) -> Detections:
            return detections([Mover((10 + frame.seq, 20), (0, 0), size=(8, 8))], 0.0)

    pipeline = CameraPipeline("cam", CameraConfig(source="x.mp4"), [Detector(), TrackAnalyser()])
    results = [pipeline.process(_frame("cam", i / 25, seq=i)) for i in range(3)]
    assert [_ids(r.detections) for r in results] == [[], [1], [1]]
