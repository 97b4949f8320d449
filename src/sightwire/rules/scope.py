"""What a rule's condition and attributes see: the variables of one observation.

Variables (CEL):

- ``object``: the object observed (null for zone-level observations): ``class``,
  ``class_name``, ``confidence``, ``box`` [x1, y1, x2, y2], ``area``, ``track_id`` and
  every data column flat (``object.barcode``, ``object.length_mm``); a number not
  known (NaN) is null;
- ``objects``: the objects counted (``count``, ``count_change``), a list;
- ``zone``, ``line``, ``camera``: names (zone and line null when not observed);
- ``observation``: ``kind``, ``direction``, ``sense``, ``pts``, ``captured_at`` and the
  measurements (``dwell_s``, ``count``, ``previous``, ``change``, ``absent_s``,
  ``still_s``, ``score``, ``hits``, ...);
- the rule's lookup under its name (e.g. ``manifest``): the JSON answer, or null
  when the lookup failed; then ``lookup_error`` is its reason (else null).

>>> from sightwire.analysis.observation import Observation, ObservedObject
>>> seen = Observation("cross", "belt-1", "w", 0.0, 1.5, 3, line="exit",
...                    object=ObservedObject("parcel", (0, 0, 10, 10), 0.9, 7, {"barcode": "1Z"}),
...                    direction="out")
>>> scope = Scope(seen)
>>> scope.plain("object")["barcode"], scope.plain("observation")["direction"]
('1Z', 'out')
"""

from __future__ import annotations

from typing import Any

from sightwire.analysis.observation import Observation
from sightwire.rules.condition import Needs, Variables, new_context

BUILT_IN = frozenset({"object", "objects", "zone", "line", "camera", "observation"})
LOOKUP_ERROR = "lookup_error"
RESERVED = BUILT_IN | {LOOKUP_ERROR}
"""Names no lookup may take."""


class Scope:
    """The variables of one observation, each built (and converted to CEL) on demand.

    Conversion to CEL costs more than evaluating a condition (about 1.5 us a field),
    so the rules tried on one observation share one CEL context, and a map variable
    read only as ``object.length_mm`` gets just the fields the rules read:
    :meth:`variables` adds a variable the first time a rule needs it (again, whole
    or with more fields, when a later rule reads more of it), and sets the lookup's
    variables for each rule (a rule sees only the names its expressions were
    checked against at load).
    """

    def __init__(self, observation: Observation) -> None:
        self.observation = observation
        self._context = new_context()
        self._added: Needs = {}  # what the context holds of each variable

    def plain(self, name: str) -> Any:
        """Variable ``name`` as plain Python."""
        obs = self.observation
        if name == "object":
            return None if obs.object is None else obs.object.fields()
        if name == "objects":
            return [o.fields() for o in obs.objects]
        if name in ("zone", "line", "camera"):
            return getattr(obs, name)
        if name == "observation":
            return {
                "kind": obs.kind,
                "direction": obs.direction,
                "sense": obs.sense,
                "pts": obs.pts,
                "captured_at": obs.captured_at,
                **obs.measurements,
            }
        raise KeyError(name)

    def variables(self, needs: Needs, lookup: tuple[str, Any, str | None] | None) -> Variables:
        """CEL variables of ``needs`` (names, with the fields read of each, or None
        for all of it); ``lookup`` is (name, answer, error) of the rule's lookup.
        The context is shared: use it before asking for another rule's."""
        context = self._context
        for name, fields in needs.items():
            if name in BUILT_IN:
                self._add(name, fields)
        if lookup is not None:
            lookup_name, answer, error = lookup
            context.add_variable(lookup_name, answer)
            context.add_variable(LOOKUP_ERROR, error)
        elif LOOKUP_ERROR in needs:
            context.add_variable(LOOKUP_ERROR, None)
        return context

    def _add(self, name: str, fields: frozenset[str] | None) -> None:
        if name in self._added:
            have = self._added[name]
            if have is None or (fields is not None and fields <= have):
                return
            fields = None if fields is None else fields | have
        value = self.plain(name)
        if fields is not None and isinstance(value, dict):
            value = {key: value[key] for key in fields if key in value}
        self._context.add_variable(name, value)
        self._added[name] = fields

    def lookup_fields(self) -> dict[str, Any]:
        """What a lookup URL may use: the object's fields, ``camera``, ``zone``, ``line``."""
        obs = self.observation
        fields: dict[str, Any] = {"camera": obs.camera, "zone": obs.zone, "line": obs.line}
        if obs.object is not None:
            fields.update(obs.object.fields())
        return fields
