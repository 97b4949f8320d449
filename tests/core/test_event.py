"""Events are CloudEvents 1.0: the reference SDK parses what we emit."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cloudevents.core.formats.json import JSONFormat

from sightwire.core import Event, EventData, new_id


def _event() -> Event:
    data = EventData(
        rule="parcel.mismatch",
        camera="belt-1",
        captured_at=1_700_000_000.0,
        severity="warning",
        attributes={"length_mm": 412.5},
    )
    return Event.create(
        site="dc-berlin", camera="belt-1", kind="parcel.mismatch", data=data, now=1_700_000_000.25
    )


def test_cloudevents_sdk_parses_our_envelope() -> None:
    event = _event()
    parsed = JSONFormat().read(None, event.model_dump_json(exclude_none=True))
    assert parsed.get_specversion() == "1.0"
    assert parsed.get_type() == "com.sightwire.parcel.mismatch"
    assert parsed.get_source() == "sightwire://dc-berlin/cameras/belt-1"
    assert parsed.get_id() == event.id
    assert parsed.get_time() == datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=UTC)
    data = parsed.get_data()
    assert isinstance(data, dict) and data["attributes"] == {"length_mm": 412.5}


def test_latency_is_capture_to_emit() -> None:
    assert _event().data.latency_ms == 250.0


def test_ids_are_unique_and_sort_by_time() -> None:
    ids = [new_id(now=1000.0 + i) for i in range(50)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 50
    assert len({new_id(now=5.0) for _ in range(1000)}) == 1000
    assert json.loads(_event().model_dump_json())["datacontenttype"] == "application/json"
