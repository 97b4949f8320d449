"""SceneAnalysis: one entry point per camera, built from the rules' triggers."""

from __future__ import annotations

from typing import Any

from sightwire.analysis import LineWatch, SceneAnalysis, ZoneWatch
from sightwire.config.models import CameraConfig
from sightwire.config.rules import RuleConfig
from tests.analysis.scenes import Mover, frame, play, times, tracked

CAMERA = CameraConfig.model_validate(
    {
        "source": "belt.mp4",
        "zones": {"belt": [[0, 120], [1280, 120], [1280, 600], [0, 600]]},
        "lines": {"exit": [[1180, 0], [1180, 720]]},
        "analyse": [{"track": {"max_age_s": 0.7}}],
    }
)


def rules(*triggers: dict[str, Any]) -> list[RuleConfig]:
    return [RuleConfig.model_validate({"name": f"r{i}", "on": t}) for i, t in enumerate(triggers)]


def test_rules_with_equal_settings_share_one_watch() -> None:
    s = SceneAnalysis(
        "belt-1",
        CAMERA,
        rules(
            {"zone": "belt", "event": "enter"},
            {"zone": "belt", "event": "exit", "class": "parcel"},
            {"zone": "belt", "event": "dwell", "seconds": 5},
            {"line": "exit"},
            {"line": "exit", "direction": "out"},
        ),
    )
    assert [type(w) for w in s.watches] == [ZoneWatch, LineWatch]
    assert s.forget_s == 0.7  # the track step's max_age_s


def test_triggers_of_other_cameras_and_places_are_left_out() -> None:
    s = SceneAnalysis(
        "belt-1",
        CAMERA,
        rules({"zone": "dock"}, {"line": "exit", "camera": "belt-2"}, {"line": "exit"}),
    )
    assert len(s.triggers) == 1 and s.triggers[0].line == "exit"


def test_ticks_count_every_frame_observed() -> None:
    s = SceneAnalysis("belt-1", CAMERA, rules({"zone": "belt", "event": "inside"}))
    parcel = Mover(1, (600, 300))
    s.observe(frame(0.0), tracked([parcel], 0.0))
    s.observe(frame(0.1), None)
    seen = s.observe(frame(0.2), tracked([parcel], 0.2))
    assert [o.tick for o in seen] == [2]


def test_a_stream_going_back_in_time_starts_afresh() -> None:
    s = SceneAnalysis("belt-1", CAMERA, rules({"zone": "belt", "event": "dwell", "seconds": 1}))
    parcel = Mover(1, (600, 300))
    assert len(play(s, [parcel], times(2))) == 1
    assert len(play(s, [parcel], times(2))) == 1  # the file looped: pts 0 again, a new visit


def test_untracked_detections_make_no_track_observations() -> None:
    s = SceneAnalysis("belt-1", CAMERA, rules({"zone": "belt"}, {"line": "exit"}))
    d = tracked([Mover(1, (600, 300), (1000, 0))], 0.0)
    d.tracker_id = None
    assert s.observe(frame(0.0), d) == []
