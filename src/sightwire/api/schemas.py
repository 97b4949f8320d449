"""Response and request bodies shared by several route families.

Every route answers with a pydantic model, so the OpenAPI spec says exactly what
comes back.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from sightwire.api.review import ReviewStatus, ReviewStep
from sightwire.core.event import Event
from sightwire.events.records import Delivery


class EventItem(BaseModel):
    """An event (the CloudEvent as delivered) and where its review stands."""

    event: Event
    status: ReviewStatus = Field(description="new, acknowledged or resolved")
    reviews: list[ReviewStep] = Field(description="Acknowledgement and resolution, oldest first")


class EventPageOut(BaseModel):
    """One page of events; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[EventItem]
    next_cursor: str | None = Field(description="Absent on the last page")


class ReviewRequest(BaseModel):
    """An acknowledgement or resolution."""

    comment: str | None = Field(None, max_length=2000, description="Why, for the record")


class AttemptOut(BaseModel):
    """One delivery attempt."""

    model_config = ConfigDict(from_attributes=True)  # read from the store's record
    attempt: int
    at: float
    ok: bool
    status_code: int | None
    latency_ms: float
    error: str | None
    dispatcher: str


class DeliveryOut(BaseModel):
    """An event's delivery to one destination (an action or webhook) and its attempts."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    event_id: str
    destination: str
    state: str = Field(description="pending, delivered or dead")
    attempts: int
    replays: int
    next_attempt_at: float
    created_at: float
    delivered_at: float | None
    last_status_code: int | None
    last_error: str | None
    log: list[AttemptOut]

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        """The answer for one stored delivery."""
        return cls.model_validate(delivery)
