"""Counts in a zone over time, count changes against flicker, and absence."""

from __future__ import annotations

from typing import Any

from sightwire.analysis import Observation, SceneAnalysis
from sightwire.config.models import CameraConfig
from sightwire.config.rules import RuleConfig
from tests.analysis.scenes import Mover, frame, play, times, tracked

SHELF = [[0, 0], [640, 0], [640, 360], [0, 360]]


def scene(*triggers: dict[str, Any], min_confidence: float = 0.0) -> SceneAnalysis:
    camera = CameraConfig(source="shelf.mp4", zones={"shelf": SHELF})
    rules = [
        RuleConfig.model_validate({"name": f"r{i}", "on": on, "min_confidence": min_confidence})
        for i, on in enumerate(triggers)
    ]
    return SceneAnalysis("shelf-cam", camera, rules)


def bottles(n: int, start: int = 1) -> list[Mover]:
    return [
        Mover(start + i, (50 + 60 * i, 100), size=(30, 80), class_name="bottle") for i in range(n)
    ]


def measured(seen: list[Observation], key: str) -> list[float]:
    return [o.measurements[key] for o in seen]


def test_count_is_observed_every_frame_for_the_class_in_the_zone() -> None:
    s = scene({"zone": "shelf", "event": "count", "class": "bottle"})
    outside = Mover(9, (900, 600), class_name="bottle")
    person = Mover(10, (100, 200), class_name="person")
    seen = play(s, [*bottles(3), outside, person], times(0.5))
    assert measured(seen, "count") == [3.0] * 5
    assert {o.zone for o in seen} == {"shelf"}
    assert [len(o.objects) for o in seen] == [3] * 5
    assert {obj.class_name for obj in seen[0].objects} == {"bottle"}


def test_count_changes_are_reported_with_the_previous_count() -> None:
    s = scene({"zone": "shelf", "event": "count_change", "class": "bottle"})
    seen = play(s, bottles(3), times(1))
    seen += play(s, bottles(2), times(1, start=1))
    seen += play(s, bottles(0), times(1, start=2))
    assert [(o.measurements["previous"], o.measurements["count"]) for o in seen] == [
        (3.0, 2.0),
        (2.0, 0.0),
    ]
    assert measured(seen, "change") == [-1.0, -2.0]


def test_a_flickering_detection_does_not_change_a_settled_count() -> None:
    s = scene({"zone": "shelf", "event": "count_change", "class": "bottle", "frames": 3})
    seen = play(s, bottles(3), times(1))
    for i, t in enumerate(times(4, start=1)):
        shown = bottles(2) if i % 2 else bottles(3)  # the third bottle flickers
        seen += s.observe(frame(t, i), tracked(shown, t))
    assert seen == []
    seen = play(s, bottles(2), times(1, start=5))  # now it is really gone
    assert [(o.measurements["previous"], o.measurements["count"]) for o in seen] == [(3.0, 2.0)]
    flickery = scene({"zone": "shelf", "event": "count_change", "class": "bottle"})
    changes = [
        o
        for i, t in enumerate(times(4))
        for o in flickery.observe(frame(t, i), tracked(bottles(2) if i % 2 else bottles(3), t))
    ]
    assert len(changes) > 10  # without settling, every flicker is a change


def test_confidence_floor_applies_to_counting() -> None:
    s = scene({"zone": "shelf", "event": "count", "class": "bottle"}, min_confidence=0.5)
    weak = Mover(5, (300, 100), class_name="bottle", confidence=0.3)
    assert measured(play(s, [*bottles(2), weak], times(0.2)), "count") == [2.0, 2.0]


def test_absence_fires_once_after_seconds_and_rearms_when_seen_again() -> None:
    s = scene({"zone": "shelf", "event": "absent", "class": "bottle", "seconds": 2})
    seen = play(s, bottles(1), times(1))
    seen += play(s, [], times(5, start=1))
    assert [o.kind for o in seen] == ["absent"]
    assert 2.85 <= seen[0].pts <= 2.95  # 2 s after the last sighting at 0.9
    assert seen[0].measurements["absent_s"] >= 2.0
    assert seen[0].object is None and seen[0].zone == "shelf"
    seen = play(s, bottles(1), times(1, start=6))
    seen += play(s, [], times(3, start=7))
    assert [round(o.pts, 1) for o in seen] == [8.9]


def test_a_shelf_empty_from_the_start_is_absent_after_seconds() -> None:
    s = scene({"zone": "shelf", "event": "absent", "class": "bottle", "seconds": 2})
    other = Mover(1, (100, 100), class_name="can")
    seen = play(s, [other], times(3))
    assert [round(o.pts, 1) for o in seen] == [2.0]


def test_skipped_frames_keep_the_last_state() -> None:
    s = scene(
        {"zone": "shelf", "event": "absent", "class": "bottle", "seconds": 2},
        {"zone": "shelf", "event": "count", "class": "bottle"},
    )
    play(s, [], times(1))
    idle = [o for i, t in enumerate(times(2, start=1)) for o in s.observe(frame(t, i), None)]
    assert [o.kind for o in idle if o.kind == "absent"] == ["absent"]
    assert {o.measurements["count"] for o in idle if o.kind == "count"} == {0.0}
