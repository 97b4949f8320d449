"""Config of rules and the lookups they make: ``rules:`` and ``lookups:``.

A rule says what to watch for (``on``), what to fetch (``lookup``), when to act
(``when``, a CEL condition) and what to do (``actions``)::

    rules:
      - name: parcel.mismatch
        on: {line: exit, class: parcel}          # crossing the line "exit"
        lookup: manifest
        when: "abs(object.length_mm - manifest.length_mm) / manifest.length_mm > 0.05"
        actions: [route_to_qc]
      - name: shelf.empty
        on: {zone: shelf-3, event: absent, class: bottle, seconds: 30}
        cooldown_s: 600

>>> rule = RuleConfig.model_validate({"name": "r", "on": {"line": "exit"}})
>>> rule.on.kind, rule.on.direction
('cross', 'any')
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from sightwire.config.base import Name, StrictModel
from sightwire.config.security import ClientTlsConfig

ObservationKind = Literal[
    "enter",
    "exit",
    "inside",
    "dwell",
    "cross",
    "count",
    "count_change",
    "absent",
    "still",
    "anomaly",
]
"""What an analyser can observe: enter, exit, inside (every frame while in), dwell
(after ``seconds`` in a zone), cross (a line), count (every frame), count_change,
absent (a class missing ``seconds``), still (no motion ``seconds``), anomaly
(scores above ``above`` on ``frames`` of ``window`` frames)."""

LEVEL_KINDS = frozenset({"inside", "count"})
"""Kinds observed on every analysed frame while they hold (``debounce`` and
``min_duration_s`` apply to these); the others are observed once, when they happen."""

ZONE_KINDS = frozenset({"enter", "exit", "inside", "dwell"})
ANYWHERE_KINDS = frozenset({"count", "count_change", "absent", "still", "anomaly"})
TIMED_KINDS = frozenset({"dwell", "absent", "still"})
TRACKED_KINDS = frozenset({"enter", "exit", "inside", "dwell", "cross"})

Anchor = Literal[
    "center",
    "bottom_center",
    "top_center",
    "left_center",
    "right_center",
    "top_left",
    "top_right",
    "bottom_left",
    "bottom_right",
]
Direction = Literal[
    "any", "in", "out", "left_to_right", "right_to_left", "top_to_bottom", "bottom_to_top"
]
Severity = Literal["debug", "info", "warning", "error", "critical"]


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("trigger", message)


class BreakerConfig(StrictModel):
    failures: int = Field(5, ge=1, description="Failures in a row that open the breaker")
    open_s: float = Field(30.0, gt=0, description="How long an open breaker refuses calls")


class LookupConfig(StrictModel):
    url: str = Field(
        description="Templated URL, e.g. ${WMS_URL}/parcels/{tracking_number}: each {name} "
        "is a field of the object (its data columns, class, track_id), the camera, zone "
        "or line; {barcode|text} takes the first that is set"
    )
    method: Literal["GET"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    cache_s: float = Field(0, ge=0, description="Keep answers this long (0: never cache)")
    timeout_s: float = Field(2.0, gt=0, le=60)
    max_bytes: int = Field(1_048_576, ge=1, description="Largest answer accepted")
    breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    tls: ClientTlsConfig | None = Field(
        None, description="TLS for https:// URLs: CA bundle, client certificate, verify"
    )


class TriggerConfig(StrictModel):
    """What a rule reacts to: one kind of observation of a zone, a line or the frame."""

    event: ObservationKind | None = Field(
        None, description="What to observe; default: cross for a line, enter for a zone"
    )
    camera: Name | None = Field(None, description="Only this camera (default: every camera)")
    zone: str | None = Field(None, description="A zone of the camera")
    line: str | None = Field(None, description="A line of the camera")
    class_name: str | None = Field(None, alias="class", description="Only objects of this class")
    anchor: Anchor = Field("center", description="The point of a box that must be in the zone")
    margin_px: float = Field(
        5.0,
        ge=0,
        description="Dead band around zone edges and lines: a point this close keeps its side",
    )
    direction: Direction = Field(
        "any",
        description="Crossings to report: in (to the right of the line seen from its first "
        "point), out, or as seen on screen (left_to_right, ...)",
    )
    seconds: float | None = Field(
        None, gt=0, description="dwell: time in the zone; absent, still: time without"
    )
    frames: int | None = Field(
        None, ge=1, description="count_change: frames a new count must last; anomaly: N of M"
    )
    window: int | None = Field(None, ge=1, description="anomaly: the M of N of M frames")
    above: float | None = Field(None, description="anomaly: scores above this count")
    score: str | None = Field(None, description="anomaly: the object data column with the score")
    frame_score: str | None = Field(
        None, description="anomaly: the frame metadata value with the score"
    )

    @property
    def kind(self) -> ObservationKind:
        """The event observed, with the default filled in."""
        if self.event is not None:
            return self.event
        return "cross" if self.line is not None else "enter"

    @model_validator(mode="after")
    def _consistent(self) -> TriggerConfig:
        kind = self.kind
        if self.zone is not None and self.line is not None:
            raise _problem("give a zone or a line, not both")
        if self.event is None and self.zone is None and self.line is None:
            raise _problem("give a zone, a line or an event")
        if kind == "cross" and self.line is None:
            raise _problem("cross needs a line")
        if self.line is not None and kind != "cross":
            raise _problem(f"a line has crossings, not {kind}")
        if kind in ZONE_KINDS and self.zone is None:
            raise _problem(f"{kind} needs a zone")
        if self.direction != "any" and kind != "cross":
            raise _problem("direction applies to line crossings only")
        if (self.seconds is None) == (kind in TIMED_KINDS):
            raise _problem(
                f"{kind} needs seconds" if kind in TIMED_KINDS else f"{kind} takes no seconds"
            )
        if self.frames is not None and kind not in ("count_change", "anomaly"):
            raise _problem("frames applies to count_change and anomaly only")
        self._check_anomaly(kind)
        return self

    def _check_anomaly(self, kind: str) -> None:
        scored = (self.score, self.frame_score, self.above, self.window)
        if kind != "anomaly":
            if any(v is not None for v in scored):
                raise _problem("score, frame_score, above and window apply to anomaly only")
            return
        if (self.score is None) == (self.frame_score is None):
            raise _problem("anomaly needs one of score (object column) or frame_score")
        if self.above is None:
            raise _problem("anomaly needs above (the score threshold)")
        if (self.frames or 1) > (self.window or self.frames or 1):
            raise _problem("frames (N) must not exceed window (M)")


class RuleConfig(StrictModel):
    name: Name
    description: str | None = None
    on: TriggerConfig
    lookup: str | None = Field(None, description="A lookup under lookups; its answer is bound")
    on_lookup_error: Literal["fire", "skip"] = Field(
        "fire",
        description="When the lookup fails: fire (the event carries lookup_error) or skip",
    )
    when: str | None = Field(None, description="Condition in CEL, e.g. object.length_mm > 600")
    severity: Severity = "info"
    min_confidence: float = Field(0.0, ge=0, le=1, description="Ignore less confident objects")
    min_area: float = Field(0.0, ge=0, description="Ignore smaller boxes (square pixels)")
    min_duration_s: float = Field(
        0.0, ge=0, description="inside, count: the condition must hold this long (stream time)"
    )
    debounce: int = Field(
        1, ge=1, description="inside, count: the condition must hold this many frames in a row"
    )
    cooldown_s: float = Field(
        0.0, ge=0, description="Quiet time per object (per zone when there is no object)"
    )
    zone_cooldown_s: float = Field(0.0, ge=0, description="Quiet time per zone or line")
    attributes: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict,
        description='Added to the event; text may hold CEL in braces: "{object.length_mm}"',
    )
    actions: list[str] = Field(default_factory=list)
