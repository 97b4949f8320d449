"""A rule test for every analyser: scene → observations → rules → events."""

from __future__ import annotations

import numpy as np

from sightwire.analysis import MeasureAnalyser
from sightwire.config.models import CameraConfig, MeasureOptions, MotionConfig
from sightwire.core.frame import MOTION_BOXES
from tests.analysis.scenes import Mover, frame, times, tracked
from tests.rules.flow import rules, run, steps

CAMERA = CameraConfig(
    source="belt.mp4",
    zones={
        "belt": [[0, 120], [1280, 120], [1280, 600], [0, 600]],
        "dock": [[400, 200], [800, 200], [800, 500], [400, 500]],
    },
    lines={"exit": [[1180, 0], [1180, 720]]},
    motion=MotionConfig(),
)


def names(outcomes: list) -> list[str]:  # type: ignore[type-arg]
    return [o.rule for o in outcomes]


def test_zone_enter_and_exit_rules() -> None:
    walker = Mover(1, (300, 350), (100, 0), class_name="person")
    parcel = Mover(2, (300, 300), (100, 0), class_name="parcel")
    outcomes, _ = run(
        CAMERA,
        rules(
            {"name": "person.in", "on": {"zone": "dock", "class": "person"}},
            {
                "name": "person.out",
                "on": {"zone": "dock", "event": "exit", "class": "person"},
                "when": "observation.dwell_s > 3",
            },
        ),
        steps(lambda i, t: [walker, parcel], times(7)),
    )
    assert names(outcomes) == ["person.in", "person.out"]
    assert outcomes[1].event.data.attributes["dwell_s"] > 3


def test_line_crossing_rule_with_direction() -> None:
    out_ = Mover(1, (1000, 300), (100, 0))
    back = Mover(2, (1300, 400), (-100, 0))
    outcomes, _ = run(
        CAMERA,
        rules(
            {"name": "parcel.out", "on": {"line": "exit", "class": "parcel", "direction": "out"}}
        ),
        steps(lambda i, t: [out_, back], times(4)),
    )
    assert [(o.rule, o.event.data.objects[0].track_id) for o in outcomes] == [("parcel.out", 1)]
    assert outcomes[0].event.data.attributes["sense"] == "left_to_right"


def test_dwell_rule() -> None:
    idle = Mover(3, (600, 350), class_name="forklift")
    outcomes, _ = run(
        CAMERA,
        rules(
            {
                "name": "forklift.parked",
                "on": {"zone": "dock", "event": "dwell", "seconds": 2},
                "when": "object.class == 'forklift'",
                "severity": "warning",
            }
        ),
        steps(lambda i, t: [idle], times(5)),
    )
    assert names(outcomes) == ["forklift.parked"]
    assert outcomes[0].event.data.severity == "warning"


def test_count_threshold_rule_with_debounce() -> None:
    def queue(i: int, t: float) -> list[Mover]:
        size = 4 if 10 <= i < 30 else 2
        return [Mover(k + 1, (450 + 60 * k, 300), class_name="person") for k in range(size)]

    outcomes, _ = run(
        CAMERA,
        rules(
            {
                "name": "queue.long",
                "on": {"zone": "dock", "event": "count", "class": "person"},
                "when": "observation.count > 3",
                "debounce": 5,
            }
        ),
        steps(queue, times(4)),
    )
    assert names(outcomes) == ["queue.long"]
    assert round(outcomes[0].observation.pts, 1) == 1.4  # 5th frame of 4 people
    assert len(outcomes[0].event.data.objects) == 4


def test_count_change_rule() -> None:
    def shelf(i: int, t: float) -> list[Mover]:
        return [
            Mover(k + 1, (450 + 60 * k, 300), class_name="box") for k in range(3 if i < 10 else 1)
        ]

    outcomes, _ = run(
        CAMERA,
        rules(
            {
                "name": "boxes.taken",
                "on": {"zone": "dock", "event": "count_change", "class": "box"},
                "when": "observation.change < 0",
            }
        ),
        steps(shelf, times(2)),
    )
    assert names(outcomes) == ["boxes.taken"]
    assert outcomes[0].event.data.attributes["change"] == -2


def test_absence_rule() -> None:
    outcomes, _ = run(
        CAMERA,
        rules(
            {
                "name": "shelf.empty",
                "on": {"zone": "dock", "event": "absent", "class": "box", "seconds": 2},
                "actions": ["restock"],
            }
        ),
        steps(lambda i, t: [Mover(1, (600, 300), class_name="box")] if t < 1 else [], times(5)),
    )
    assert names(outcomes) == ["shelf.empty"]
    assert outcomes[0].actions == ("restock",)
    assert outcomes[0].event.data.objects == []


def test_stillness_rule() -> None:
    moving = [
        (
            frame(t, i, {MOTION_BOXES: np.array([[500, 300, 600, 400]], np.float32)}),
            tracked([], t),
        )
        for i, t in enumerate(times(2))
    ]
    idle = [(frame(t, 20 + i), None) for i, t in enumerate(times(4, start=2))]
    outcomes, _ = run(
        CAMERA,
        rules(
            {
                "name": "belt.jammed",
                "on": {"zone": "belt", "event": "still", "seconds": 3},
                "severity": "critical",
            }
        ),
        [*moving, *idle],
    )
    assert names(outcomes) == ["belt.jammed"]
    assert outcomes[0].event.data.attributes["still_s"] >= 3


def test_measure_rule_on_the_exit_line() -> None:
    long_parcel = Mover(1, (900, 300), (200, 0), size=(400, 150))  # 600 x 225 mm
    short_parcel = Mover(2, (900, 450), (200, 0), size=(200, 100))
    measure = MeasureAnalyser(MeasureOptions(within="parcel", mm_per_pixel=1.5))
    outcomes, _ = run(
        CAMERA,
        rules(
            {
                "name": "parcel.too_long",
                "on": {"line": "exit", "class": "parcel"},
                "when": "object.length_mm > 500",
                "attributes": {"length_mm": "{object.length_mm}", "station": "QC"},
            }
        ),
        steps(lambda i, t: [long_parcel, short_parcel], times(2)),
        analysers=[measure],
    )
    assert names(outcomes) == ["parcel.too_long"]
    attributes = outcomes[0].event.data.attributes
    assert attributes["length_mm"] == 600.0 and attributes["station"] == "QC"
    assert attributes["width_mm"] == 225.0 and attributes["size_samples"] >= 1


def test_anomaly_rule() -> None:
    scores = [0.1, 0.9, 0.2, 0.85, 0.95, 0.1, 0.1]
    frames = [(frame(i / 10, i, {"anomaly": s}), tracked([], i / 10)) for i, s in enumerate(scores)]
    outcomes, _ = run(
        CAMERA,
        rules(
            {
                "name": "press.anomaly",
                "on": {
                    "event": "anomaly",
                    "frame_score": "anomaly",
                    "above": 0.8,
                    "frames": 3,
                    "window": 4,
                },
                "attributes": {"score": "{observation.max_score}"},
            }
        ),
        frames,
    )
    assert names(outcomes) == ["press.anomaly"]
    assert outcomes[0].event.data.attributes["score"] == 0.95
