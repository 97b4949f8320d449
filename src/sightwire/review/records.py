"""What the review queue hands out: items, decision records, pages and precision.

They are pydantic models, so an API route can return them as they are.

>>> RulePrecision.of("parcel.mismatch", confirmed=3, rejected=1, pending=2).precision
0.75
>>> RulePrecision.of("zone.enter", confirmed=0, rejected=0, pending=5).precision is None
True
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sightwire.review.labels import Action, Box, ItemKind, ItemState, Label


class ReviewItem(BaseModel):
    """An event or a sampled frame in the review queue, with its labels so far."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="ULID; an event's item has the event's id")
    kind: ItemKind
    camera: str
    rule: str | None = Field(None, description="The rule that emitted the event (events only)")
    model: str | None = Field(None, description="NAME@VERSION of the model that proposed boxes")
    captured_at: float
    created_at: float
    snapshot: str | None = Field(None, description="Blob key of the redacted JPEG")
    threshold: float | None = Field(None, description="Confidence threshold (sampled frames)")
    proposed: list[Label] = Field(description="The boxes as the model proposed them")
    labels: list[Label] = Field(description="The boxes after every decision so far")
    state: ItemState
    reviewed_at: float | None = None
    reviewed_by: str | None = None


class DecisionRecord(BaseModel):
    """One stored decision: who, when, what."""

    model_config = ConfigDict(frozen=True)

    id: str
    item_id: str
    seq: int = Field(description="1, 2, ... per item: the order decisions apply in")
    at: float
    actor: str = Field(description="The principal's subject (key:ID, or the OIDC sub)")
    action: Action
    object_id: int | None = None
    class_name: str | None = None
    box: Box | None = None
    comment: str | None = None


class ReviewPage(BaseModel):
    """One page of the queue and the cursor of the next (None on the last page)."""

    items: list[ReviewItem]
    next_cursor: str | None = None


class RulePrecision(BaseModel):
    """How often a rule's reviewed events were right.

    ``confirmed`` counts confirmed and corrected events (the rule was right to fire,
    even if a box needed fixing); ``precision`` is confirmed / (confirmed + rejected),
    None before any review.
    """

    model_config = ConfigDict(frozen=True)

    rule: str
    confirmed: int
    rejected: int
    precision: float | None
    pending: int

    @classmethod
    def of(cls, rule: str, *, confirmed: int, rejected: int, pending: int) -> RulePrecision:
        reviewed = confirmed + rejected
        precision = confirmed / reviewed if reviewed else None
        return cls(
            rule=rule, confirmed=confirmed, rejected=rejected, precision=precision, pending=pending
        )


def labels_json(labels: list[Label]) -> str:
    """Labels as the JSON text stored in ``review_items``."""
    return json.dumps([label.model_dump(exclude_defaults=True) for label in labels])


def labels_of(text: str) -> list[Label]:
    return [Label.model_validate(raw) for raw in json.loads(text)]


def item_of(row: Any) -> ReviewItem:
    """A ``review_items`` row as a :class:`ReviewItem`."""
    return ReviewItem(
        id=row.id,
        kind=row.kind,
        camera=row.camera,
        rule=row.rule,
        model=row.model,
        captured_at=row.captured_at,
        created_at=row.created_at,
        snapshot=row.snapshot,
        threshold=row.threshold,
        proposed=labels_of(row.proposed),
        labels=labels_of(row.labels),
        state=row.state,
        reviewed_at=row.reviewed_at,
        reviewed_by=row.reviewed_by,
    )


def decision_of(row: Any) -> DecisionRecord:
    """A ``review_decisions`` row as a :class:`DecisionRecord`."""
    return DecisionRecord(
        id=row.id,
        item_id=row.item_id,
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        object_id=row.object_id,
        class_name=row.class_name,
        box=tuple(row.box) if row.box is not None else None,
        comment=row.comment,
    )
