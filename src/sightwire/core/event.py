"""The event envelope: CloudEvents 1.0 (structured JSON) with Sightwire's data.

>>> e = Event.create(site="dc-berlin", camera="belt-1", kind="parcel.mismatch",
...                  data=EventData(rule="parcel.mismatch", camera="belt-1",
...                                 captured_at=1.0, severity="warning"))
>>> e.type, e.source
('com.sightwire.parcel.mismatch', 'sightwire://dc-berlin/cameras/belt-1')
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sightwire.core.ids import new_id

Severity = Literal["debug", "info", "warning", "error", "critical"]
DATA_SCHEMA = "https://sightwire.dev/schemas/event-data/v1.json"
TYPE_PREFIX = "com.sightwire."


def latency_ms(captured_at: float, emitted_at: float) -> float:
    """Capture to emit in milliseconds, as ``EventData.latency_ms`` holds it."""
    return round((emitted_at - captured_at) * 1000, 3)


class EventObject(BaseModel):
    """One object an event is about."""

    model_config = ConfigDict(extra="forbid")

    class_name: str
    box: tuple[float, float, float, float]
    confidence: float
    track_id: int | None = None


class ModelRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: str


class EventData(BaseModel):
    """What a rule saw and measured; the ``data`` of the CloudEvent."""

    model_config = ConfigDict(extra="forbid")

    rule: str
    camera: str
    captured_at: float = Field(description="Wall time (epoch seconds) the frame was captured")
    severity: Severity = "info"
    objects: list[EventObject] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    snapshot: str | None = Field(default=None, description="Blob key of the redacted snapshot")
    clip: str | None = Field(
        default=None,
        description="Blob key of the event's MP4 clip; the blob appears post_s + encode time later",
    )
    model: ModelRef | None = None
    latency_ms: float | None = Field(default=None, description="Capture to emit, milliseconds")


class Event(BaseModel):
    """A CloudEvents 1.0 envelope in structured JSON mode."""

    model_config = ConfigDict(extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str
    type: str
    time: str
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str = DATA_SCHEMA
    data: EventData

    @classmethod
    def create(
        cls,
        *,
        site: str,
        camera: str,
        kind: str,
        data: EventData,
        subject: str | None = None,
        now: float | None = None,
    ) -> Event:
        """A new event emitted ``now``; ``latency_ms`` is filled from the capture time."""
        emitted = time.time() if now is None else now
        if data.latency_ms is None:
            data = data.model_copy(update={"latency_ms": latency_ms(data.captured_at, emitted)})
        return cls(
            id=new_id(emitted),
            source=f"sightwire://{site}/cameras/{camera}",
            type=kind if kind.startswith(TYPE_PREFIX) else TYPE_PREFIX + kind,
            time=datetime.fromtimestamp(emitted, UTC).isoformat().replace("+00:00", "Z"),
            subject=subject or camera,
            data=data,
        )
