"""Rules in the run loop: parcels crossing the exit line become events, once each,
carrying what the pipeline read and measured."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from sightwire.config import parse_config
from sightwire.inference.bundled import PARCELS_MODEL
from sightwire.rules import RuleOutcome
from sightwire.runtime.runner import Runner
from sightwire.synth import GroundTruth, write_conveyor


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("belt") / "belt.mp4"
    write_conveyor(path, seconds=24, parcels=6, seed=5)
    return path


def test_each_parcel_crossing_the_exit_is_one_event(clip: Path) -> None:
    truth = GroundTruth.load(clip)
    text = f"""
version: 1
site: test
store: {{database: 'sqlite:///{clip.parent}/events.db', blobs: 'file://{clip.parent}/blobs'}}
models:
  parcels: {{path: '{PARCELS_MODEL}', confidence: 0.2}}
cameras:
  belt-1:
    source: '{clip}'
    fps: 5
    motion: {{}}
    lines: {{exit: [[1000, 0], [1000, 720]]}}
    analyse:
      - detect: {{model: parcels}}
      - track: {{}}
      - barcode: {{within: parcel, pattern: "1Z[0-9A-Z]{{16}}"}}
      - measure: {{within: parcel, mm_per_pixel: {truth.scene.mm_per_pixel}, length: x}}
rules:
  - name: parcel.exit
    on: {{line: exit, class: parcel}}
    attributes: {{length: "{{object.length_mm}}"}}
"""
    outcomes: list[RuleOutcome] = []
    runner = Runner(
        parse_config(text, "site.yaml"), until_end=True, on_outcome=lambda o, _r: outcomes.append(o)
    )
    runner.start()
    assert runner.wait(timeout=240)
    runner.stop()
    events = [o.event for o in outcomes]
    assert {e.type for e in events} == {"com.sightwire.parcel.exit"}
    crossed = [p for p in truth.parcels if _crosses(p.boxes, 1000)]
    assert len(events) == len(crossed)
    numbers = [e.data.attributes.get("barcode") for e in events]
    readable = {p.tracking_number for p in crossed if p.label_readable}
    assert readable <= set(numbers)
    by_number = {p.tracking_number: p for p in crossed}
    for event in events:
        parcel = by_number.get(event.data.attributes.get("barcode", ""))
        if parcel is not None:  # measured from the detector's boxes: within 10 % here
            assert event.data.attributes["length"] == pytest.approx(parcel.length_mm, rel=0.10)
        assert event.data.model is not None and event.data.model.name == "parcels"
        assert 0 <= event.data.latency_ms < 5_000


def _crosses(boxes: dict[int, tuple[int, int, int, int]], x: float) -> bool:
    """Whether the box centre passes ``x`` going right within the clip."""
    centres = [(b[0] + b[2]) / 2 for _, b in sorted(boxes.items())]
    return any(a < x <= b for a, b in itertools.pairwise(centres))
