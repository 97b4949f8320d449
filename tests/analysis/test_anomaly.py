"""Anomaly scores above a threshold for N of the last M frames."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sightwire.analysis import Observation, SceneAnalysis
from sightwire.config.models import CameraConfig
from sightwire.config.rules import RuleConfig
from tests.analysis.scenes import Mover, frame, tracked


def scene(**on: Any) -> SceneAnalysis:
    camera = CameraConfig(
        source="line.mp4", zones={"press": [[0, 0], [640, 0], [640, 720], [0, 720]]}
    )
    trigger = {"event": "anomaly", "above": 0.7, "frames": 3, "window": 5, **on}
    return SceneAnalysis(
        "press-1", camera, [RuleConfig.model_validate({"name": "r", "on": trigger})]
    )


def frames_scored(
    s: SceneAnalysis, scores: Sequence[float | None], start: int = 0
) -> list[Observation]:
    """Frames 0.1 s apart from frame ``start``, each with its anomaly score (or none)."""
    out = []
    for i, score in enumerate(scores, start):
        metadata = {} if score is None else {"anomaly_score": score}
        out += s.observe(frame(i / 10, i, metadata), tracked([], i / 10))
    return out


def test_frame_scores_fire_on_n_of_m_once_per_spell() -> None:
    s = scene(frame_score="anomaly_score")
    scores = [0.9, 0.1, 0.8, 0.2, 0.95, 0.1, 0.1, 0.1]  # hits at 0, 2, 4: 3 of 5 at index 4
    seen = frames_scored(s, scores)
    assert [o.tick for o in seen] == [4]
    assert seen[0].measurements["hits"] == 3 and seen[0].measurements["max_score"] == 0.95
    more = frames_scored(s, [0.9] * 6, start=8)  # the window never emptied: the same spell
    assert more == []


def test_isolated_spikes_never_fire() -> None:
    s = scene(frame_score="anomaly_score")
    assert frames_scored(s, [0.9, 0.1, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1, 0.9] * 3) == []


def test_a_new_spell_fires_after_the_window_clears() -> None:
    s = scene(frame_score="anomaly_score")
    seen = frames_scored(s, [0.9, 0.9, 0.9] + [0.1] * 5 + [0.9, 0.9, 0.9])
    assert [o.tick for o in seen] == [2, 10]


def test_frames_without_a_score_do_not_count() -> None:
    s = scene(frame_score="anomaly_score")
    assert frames_scored(s, [0.9, None, None, 0.9, None, 0.9]) != []


def test_object_scores_are_judged_per_track() -> None:
    s = scene(score="defect", zone="press", **{"class": "part"})
    seen = []
    for i in range(6):
        t = i / 10
        good = Mover(1, (100, 100), class_name="part", data={"defect": 0.2})
        bad = Mover(2, (300, 300), class_name="part", data={"defect": 0.9 if i % 2 == 0 else 0.75})
        outside = Mover(3, (900, 300), class_name="part", data={"defect": 0.99})
        seen += s.observe(frame(t, i), tracked([good, bad, outside], t))
    assert [(o.tick, o.object.track_id if o.object else None) for o in seen] == [(2, 2)]
    assert seen[0].object is not None and seen[0].object.data["defect"] == 0.9
