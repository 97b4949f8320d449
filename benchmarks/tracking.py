"""Tracking quality and speed on synthetic scenes: MOTA, IDF1, id switches, ms/frame.

``python -m benchmarks.tracking`` prints the figures as JSON; ``run()`` returns them.
Quality is scored with ``motmetrics`` (a dev dependency) against the scene's truth,
a tracked box counting as a match at IoU >= 0.5. Occluded objects are not in the
truth while hidden; missed detections are, so MOTA stays below 1 - miss rate.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace

import motmetrics as mm
import numpy as np

from sightwire.config.models import TrackOptions
from sightwire.tracking import ByteTracker
from sightwire.tracking.assignment import Solver
from sightwire.tracking.geometry import box_iou
from sightwire.tracking.synthetic import SceneSpec, SyntheticFrame, make_scene

MATCH_IOU = 0.5

NOISY = SceneSpec(objects=10, frames=500, seed=7)
"""The reference scene: 10 objects, 20 s at 25 fps, detector noise as SceneSpec's."""


@dataclass(frozen=True, slots=True)
class Scores:
    """Quality of one tracked scene, and the tracker's time per frame."""

    mota: float
    idf1: float
    id_switches: int
    misses: int
    false_positives: int
    ms_per_frame: float

    def as_dict(self) -> dict[str, float]:
        return {
            "mota": round(self.mota, 4),
            "idf1": round(self.idf1, 4),
            "id_switches": self.id_switches,
            "misses": self.misses,
            "false_positives": self.false_positives,
            "ms_per_frame": round(self.ms_per_frame, 3),
        }


def evaluate(tracker: ByteTracker, frames: list[SyntheticFrame]) -> Scores:
    """Track ``frames`` with ``tracker`` and score the result against their truth."""
    accumulator = mm.MOTAccumulator(auto_id=True)
    elapsed = 0.0
    for frame in frames:
        start = time.perf_counter()
        tracked = tracker.update(frame.detections, frame.pts)
        elapsed += time.perf_counter() - start
        iou = box_iou(frame.truth.xyxy, tracked.xyxy)
        distance = np.where(iou >= MATCH_IOU, 1.0 - iou, np.nan)
        truth_ids = frame.truth.tracker_id
        assert truth_ids is not None and tracked.tracker_id is not None
        accumulator.update(truth_ids.tolist(), tracked.tracker_id.tolist(), distance)
    summary = mm.metrics.create().compute(
        accumulator,
        metrics=["mota", "idf1", "num_switches", "num_misses", "num_false_positives"],
    )
    row = summary.iloc[0]
    return Scores(
        mota=float(row["mota"]),
        idf1=float(row["idf1"]),
        id_switches=int(row["num_switches"]),
        misses=int(row["num_misses"]),
        false_positives=int(row["num_false_positives"]),
        ms_per_frame=1000 * elapsed / max(len(frames), 1),
    )


def speed(objects: int, frames: int = 200, solver: Solver | None = None) -> float:
    """Milliseconds per frame tracking ``objects`` objects in a 4K frame: the best of
    5 runs, as other processes on a shared machine only ever add time."""
    spec = SceneSpec(
        objects=objects,
        frames=frames,
        size=(3840, 2160),
        box_size=(30, 80),
        occlusions=0.2,
        seed=3,
    )
    scene = make_scene(spec)
    times = []
    for _ in range(5):
        tracker = ByteTracker(TrackOptions(), solver=solver)
        start = time.perf_counter()
        for frame in scene:
            tracker.update(frame.detections, frame.pts)
        times.append(1000 * (time.perf_counter() - start) / len(scene))
    return min(times)


def run() -> dict[str, object]:
    """Every figure: the reference scene, a variant with frames skipped, a greedy
    solver variant, and speed for 10 and 100 objects."""
    from sightwire.tracking.assignment import greedy

    skipped = replace(NOISY, skip_rate=0.3)
    return {
        "noisy_10_objects": evaluate(ByteTracker(), make_scene(NOISY)).as_dict(),
        "noisy_30pct_frames_skipped": evaluate(ByteTracker(), make_scene(skipped)).as_dict(),
        "noisy_greedy_matching": evaluate(ByteTracker(solver=greedy), make_scene(NOISY)).as_dict(),
        "ms_per_frame_10_objects": round(speed(10), 3),
        "ms_per_frame_100_objects": round(speed(100), 3),
        "ms_per_frame_100_objects_greedy": round(speed(100, solver=greedy), 3),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
