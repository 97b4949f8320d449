"""Events for tests."""

from __future__ import annotations

import time

from sightwire.core import Event, EventData
from sightwire.core.event import Severity


def make_event(
    kind: str = "parcel.seen",
    camera: str = "belt-1",
    severity: Severity = "info",
    at: float | None = None,
    captured_at: float | None = None,
) -> Event:
    emitted = time.time() if at is None else at
    data = EventData(
        rule=kind,
        camera=camera,
        captured_at=emitted - 0.02 if captured_at is None else captured_at,
        severity=severity,
        attributes={"n": 1},
    )
    return Event.create(site="test", camera=camera, kind=kind, data=data, now=emitted)
