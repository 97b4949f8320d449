"""How a worker records a frame's events: deterministic ids, one transaction, and
duplicates (a redelivered frame) refused by the store rather than recorded twice.

>>> # recorder = EventRecorder(config)
>>> # recorded, duplicates = recorder.record(outcomes, result)   # raises if the store is away
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

import cv2

from sightwire.actions.registry import build_actions
from sightwire.config.models import SightwireConfig
from sightwire.core.ids import derived_id
from sightwire.events.store import EventExistsError, EventStore, NewEvent
from sightwire.rules import RuleOutcome
from sightwire.runtime.pipeline import FrameResult

SNAPSHOT_QUALITY = 85


def with_derived_ids(site: str, outcomes: Sequence[RuleOutcome]) -> list[RuleOutcome]:
    """``outcomes`` with event ids made from (camera, frame, rule, what was observed).

    Track ids and boxes are left out on purpose: a worker that takes a camera over
    starts a new tracker, which numbers tracks afresh. Two events alike in all of it
    on one frame are told apart by their order.
    """
    seen: Counter[tuple[str, ...]] = Counter()
    out: list[RuleOutcome] = []
    for outcome in outcomes:
        event = outcome.event
        data = event.data
        attributes = data.attributes
        key = (
            data.camera,
            repr(data.captured_at),
            outcome.rule,
            *(str(attributes.get(n, "")) for n in ("observed", "zone", "line", "direction")),
            ",".join(sorted(o.class_name for o in data.objects)),
        )
        seen[key] += 1
        event_id = derived_id(data.captured_at, site, *key, str(seen[key]))
        out.append(dataclasses.replace(outcome, event=event.model_copy(update={"id": event_id})))
    return out


class EventRecorder:
    """Writes a frame's events with their snapshot and deliveries (the outbox)."""

    def __init__(self, config: SightwireConfig) -> None:
        self.store = EventStore.open(config.store)
        self.actions = build_actions(config)  # their names and type filters, never sent here
        self.webhooks = [name for name in self.actions if name.startswith("webhook:")]
        self.webhooks += [hook.name for hook in config.webhooks if hook.name]
        self.duplicates = 0

    def record(self, outcomes: Sequence[RuleOutcome], result: FrameResult) -> int:
        """Record the frame's events in one transaction; returns how many were new.

        An event recorded already (same id: the frame came again) is counted in
        ``duplicates`` and skipped; any other failure raises, recording nothing.
        """
        if not outcomes:
            return 0
        ok, jpeg = cv2.imencode(
            ".jpg", result.frame.image, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY]
        )
        snapshot = jpeg.tobytes() if ok else None
        items = [NewEvent(o.event, self._destinations(o), snapshot) for o in outcomes]
        refused: tuple[type[Exception], ...] = (EventExistsError, *self.store.db.integrity_errors)
        try:
            self.store.record_many(items)
            return len(items)
        except refused:
            pass
        new = 0
        for item in items:  # one at a time, to tell the duplicates from the new
            try:
                self.store.record_many([item])
                new += 1
            except refused:
                self.duplicates += 1
        return new

    def _destinations(self, outcome: RuleOutcome) -> list[str]:
        names = dict.fromkeys([*outcome.actions, *self.webhooks])
        event = outcome.event
        return [n for n in names if n in self.actions and self.actions[n].accepts(event)]
