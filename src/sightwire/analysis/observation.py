"""What analysers report: typed observations of objects, zones and lines.

An observation is a fact about the scene ("track 7 crossed line exit, left to
right"), not yet an event: rules decide which observations become events.

>>> import numpy as np
>>> from sightwire.core import Detections
>>> parcels = Detections(np.array([[10, 20, 110, 80]]), [0.9], [0], tracker_id=[7],
...                      data={"class_name": np.array(["parcel"]),
...                            "length_mm": np.array([150.0])})
>>> obj = objects_of(parcels)[0]
>>> obj.class_name, obj.track_id, obj.data
('parcel', 7, {'length_mm': 150.0})
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sightwire.config.rules import ObservationKind
from sightwire.core.detections import Detections

CLASS_NAME = "class_name"
"""The data column holding each object's class name."""


@dataclass(frozen=True, slots=True)
class ObservedObject:
    """One object as an observation reports it: plain Python values only.

    ``data`` holds the object's data columns (readings, sizes) except ``class_name``;
    a missing number (NaN) is None.
    """

    class_name: str
    box: tuple[float, float, float, float]
    confidence: float
    track_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def area(self) -> float:
        """Box area in square pixels."""
        x1, y1, x2, y2 = self.box
        return float(max(0.0, x2 - x1) * max(0.0, y2 - y1))

    def fields(self) -> dict[str, Any]:
        """Every field flat, as rules see it: data columns, then class, class_name,
        confidence, box, area and track_id.

        >>> ObservedObject("parcel", (0, 0, 10, 5), 0.8, 3, {"barcode": "1Z"}).fields()["area"]
        50.0
        """
        return {
            **self.data,
            "class": self.class_name,
            "class_name": self.class_name,
            "confidence": self.confidence,
            "box": list(self.box),
            "area": self.area,
            "track_id": self.track_id,
        }


@dataclass(frozen=True, slots=True)
class Observation:
    """One thing an analyser saw on one frame of one camera.

    ``watch`` names the analysis that produced it (see
    :func:`sightwire.analysis.triggers.watch_of`), so a rule matches only the
    observations of its own trigger's settings. ``tick`` counts the frames the
    camera's :class:`~sightwire.analysis.scene.SceneAnalysis` has observed:
    consecutive frames have consecutive ticks. ``direction`` is ``in``/``out`` and
    ``sense`` the screen direction (``left_to_right``, ...) of a line crossing.
    ``object`` is the object observed; ``objects`` are those counted (``count``).
    """

    kind: ObservationKind
    camera: str
    watch: str
    captured_at: float
    pts: float
    tick: int
    zone: str | None = None
    line: str | None = None
    object: ObservedObject | None = None
    objects: tuple[ObservedObject, ...] = ()
    direction: str | None = None
    sense: str | None = None
    measurements: dict[str, float] = field(default_factory=dict)

    @property
    def place(self) -> str | None:
        """The zone or line observed, if any."""
        return self.zone if self.zone is not None else self.line


def plain(value: Any) -> Any:
    """A numpy scalar as plain Python (NaN and infinities as None).

    >>> plain(np.float32(1.5)), plain(np.float64("nan")), plain(np.str_("a"))
    (1.5, None, 'a')
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def objects_of(detections: Detections) -> list[ObservedObject]:
    """Every object of ``detections`` as an :class:`ObservedObject`; without a
    ``class_name`` column the class name is the class id as text."""
    names = detections.data.get(CLASS_NAME)
    tracks = detections.tracker_id
    columns = {k: v for k, v in detections.data.items() if k != CLASS_NAME}
    out = []
    for i in range(len(detections)):
        box = tuple(float(v) for v in detections.xyxy[i])
        out.append(
            ObservedObject(
                class_name=str(detections.class_id[i]) if names is None else str(names[i]),
                box=(box[0], box[1], box[2], box[3]),
                confidence=float(detections.confidence[i]),
                track_id=None if tracks is None or tracks[i] < 0 else int(tracks[i]),
                data={k: plain(v[i]) for k, v in columns.items()},
            )
        )
    return out
