"""DESIGN.md's parcel.mismatch rule against a real WMS: every lookup failure still
records an event with lookup_error, and nothing crashes."""

from __future__ import annotations

from typing import Any

from sightwire.analysis import MeasureAnalyser
from sightwire.config.models import CameraConfig, MeasureOptions
from sightwire.config.rules import LookupConfig
from sightwire.rules import RuleOutcome
from tests.analysis.scenes import Mover, times
from tests.rules.conftest import Wms
from tests.rules.flow import rules, run, steps

CAMERA = CameraConfig(source="belt.mp4", lines={"exit": [[1180, 0], [1180, 720]]})
MISMATCH = {
    "name": "parcel.mismatch",
    "on": {"line": "exit", "class": "parcel"},
    "lookup": "manifest",
    "when": "abs(object.length_mm - manifest.length_mm) / manifest.length_mm > 0.05",
    "actions": ["route_to_qc"],
    "attributes": {"expected_mm": "{manifest.length_mm}"},
}


def parcel(
    track: int, number: str, y: float = 300, length_px: float = 200, x: float = 1000
) -> Mover:
    """A parcel of ``length_px`` x 100 px (x 1.5 mm) riding out over the exit line."""
    return Mover(track, (x, y), (200, 0), size=(length_px, 100), data={"tracking_number": number})


def belt(
    wms: Wms,
    *parcels: Mover,
    path: str = "parcels",
    rule: dict[str, Any] = MISMATCH,
    seconds: float = 1.5,
    **lookup: Any,
) -> list[RuleOutcome]:
    manifest = LookupConfig.model_validate(
        {"url": f"{wms.url}/{path}/{{tracking_number}}", "timeout_s": 0.3, **lookup}
    )
    measure = MeasureAnalyser(MeasureOptions(within="parcel", mm_per_pixel=1.5))
    outcomes, _ = run(
        CAMERA,
        rules(rule),
        steps(lambda i, t: list(parcels), times(seconds)),
        lookups={"manifest": manifest},
        analysers=[measure],
    )
    return outcomes


def test_a_parcel_longer_than_its_manifest_is_routed_to_qc(wms: Wms) -> None:
    wms.manifests.update({"1ZLONG": {"length_mm": 250}, "1ZOK": {"length_mm": 300}})
    outcomes = belt(wms, parcel(1, "1ZLONG"), parcel(2, "1ZOK", y=500))
    assert [o.event.data.objects[0].track_id for o in outcomes] == [1]
    attributes = outcomes[0].event.data.attributes
    assert attributes["length_mm"] == 300.0 and attributes["expected_mm"] == 250
    assert attributes["tracking_number"] == "1ZLONG" and "lookup_error" not in attributes
    assert outcomes[0].actions == ("route_to_qc",)


def test_one_request_per_parcel_with_a_cache(wms: Wms) -> None:
    wms.manifests["1Z1"] = {"length_mm": 250}
    twice = {**MISMATCH, "on": {"line": "exit"}}
    outcomes = belt(wms, parcel(1, "1Z1"), parcel(2, "1Z1", y=500), rule=twice, cache_s=60)
    assert len(outcomes) == 2
    assert wms.requests["/parcels/1Z1"] == 1


def assert_recorded_with_error(outcomes: list[RuleOutcome], error: str) -> None:
    (outcome,) = outcomes
    attributes = outcome.event.data.attributes
    assert attributes["lookup_error"].startswith(error), attributes["lookup_error"]
    assert "condition_error" in attributes  # the condition needed the answer
    assert attributes["expected_mm"] is None
    assert outcome.actions == ("route_to_qc",)


def test_unknown_parcel_404_still_records_the_event(wms: Wms) -> None:
    assert_recorded_with_error(belt(wms, parcel(1, "1ZNONE")), "manifest: HTTP 404")


def test_broken_json_still_records_the_event(wms: Wms) -> None:
    assert_recorded_with_error(belt(wms, parcel(1, "1Z1"), path="broken"), "manifest: broken JSON")


def test_a_timeout_still_records_the_event(wms: Wms) -> None:
    outcomes = belt(wms, parcel(1, "1Z1"), path="slow")
    assert_recorded_with_error(outcomes, "manifest: timeout after 0.3 s")


def test_an_open_breaker_still_records_events(wms: Wms) -> None:
    # one after the other: each crosses two frames after the one before
    many = [parcel(k, f"1Z{k}", y=130 + 45 * k, x=1100 - 40 * k) for k in range(1, 11)]
    outcomes = belt(wms, *many, path="error", seconds=3, breaker={"failures": 3, "open_s": 60})
    assert len(outcomes) == 10
    errors = [o.event.data.attributes["lookup_error"] for o in outcomes]
    assert errors[:3] == ["manifest: HTTP 500"] * 3
    assert all("circuit open" in e for e in errors[3:])
    assert sum(wms.requests.values()) == 3


def test_rules_can_choose_to_act_only_on_answers(wms: Wms) -> None:
    guarded = {**MISMATCH, "when": f"manifest != null && {MISMATCH['when']}"}
    assert belt(wms, parcel(1, "1ZNONE"), rule=guarded) == []
    skipping = {**MISMATCH, "on_lookup_error": "skip"}
    assert belt(wms, parcel(1, "1ZNONE"), rule=skipping) == []
    failures = {**MISMATCH, "when": "lookup_error != null"}
    assert len(belt(wms, parcel(1, "1ZNONE"), rule=failures)) == 1


def test_a_parcel_without_a_tracking_number_asks_nothing(wms: Wms) -> None:
    outcomes = belt(wms, parcel(1, ""))
    assert outcomes[0].event.data.attributes["lookup_error"] == "the object has no tracking_number"
    assert sum(wms.requests.values()) == 0
