"""The bytes actions send: a CloudEvents 1.0 structured-mode document, compact JSON."""

from __future__ import annotations

import json

from cloudevents.core.formats.json import JSONFormat

from sightwire.actions.envelope import cloudevent_json
from sightwire.core import Event, EventData


def _event(subject: str | None) -> Event:
    data = EventData(
        rule="parcel.seen",
        camera="belt-1",
        captured_at=1_700_000_000.0,
        attributes={"label": "Größe 1", "weight_kg": None, "big": 1e16, "box": (1, 2)},
    )
    event = Event.create(site="dc", camera="belt-1", kind="parcel.seen", data=data, now=1.7e9)
    return event.model_copy(update={"subject": subject})


def test_unset_envelope_attributes_are_left_out_and_data_is_kept_whole() -> None:
    body = cloudevent_json(_event(subject=None))
    document = json.loads(body)
    assert "subject" not in document  # CloudEvents forbids null attributes
    assert document["data"]["snapshot"] is None and document["data"]["model"] is None
    assert document["data"]["attributes"] == {
        "label": "Größe 1",
        "weight_kg": None,
        "big": 1e16,
        "box": [1, 2],
    }
    assert "Größe".encode() in body  # UTF-8, not \u escapes
    assert b'": ' not in body and b", " not in body  # compact
    parsed = JSONFormat().read(None, body)
    assert parsed.get_subject() is None and parsed.get_type() == "com.sightwire.parcel.seen"


def test_the_wire_form_reads_back_as_the_same_event() -> None:
    body = cloudevent_json(_event(subject="belt-1"))
    assert cloudevent_json(Event.model_validate_json(body)) == body
    assert JSONFormat().read(None, body).get_subject() == "belt-1"
