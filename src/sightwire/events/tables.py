"""The event store's tables (SQLAlchemy Core): events, the outbox, the delivery log.

Times are epoch seconds (float), like ``EventData.captured_at``. Ids are ULIDs, so
ordering by id is ordering by emit time, and the cursor of a page is an id.

- ``events``: one row per event, the CloudEvent JSON as written, and the columns that
  queries filter on.
- ``deliveries``: the outbox, one row per (event, destination). ``state`` is
  ``pending`` until ``delivered`` or ``dead``. A pending row is due when
  ``next_attempt_at <= now``; a dispatcher claims it by writing its ``claim`` token
  and pushing ``next_attempt_at`` to the end of the claim's lease, so a claim of a
  dispatcher that died simply falls due again.
- ``delivery_attempts``: one row per attempt (when, status code, latency, error).
- ``event_reviews``: one row per review step of an event (acknowledge, resolve), with
  who, when and their comment (the API writes them; migration 0003).

The schema is built by the Alembic migrations in :mod:`sightwire.storage.migrations`;
a test checks that they match these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
SEVERITY_RANK = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}

events = Table(
    "events",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("type", String(255), nullable=False),
    Column("source", String(255), nullable=False),
    Column("subject", String(255)),
    Column("camera", String(64), nullable=False),
    Column("rule", String(128), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("severity_rank", SmallInteger, nullable=False),
    Column("captured_at", Float, nullable=False),
    Column("emitted_at", Float, nullable=False),
    Column("recorded_at", Float, nullable=False),
    Column("snapshot", String(512)),
    Column("cloudevent", Text, nullable=False),
    Index("ix_events_type_id", "type", "id"),
    Index("ix_events_camera_id", "camera", "id"),
    Index("ix_events_emitted_at", "emitted_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("event_id", String(26), ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("destination", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("replays", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("claim", String(64)),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    UniqueConstraint("event_id", "destination", name="uq_deliveries_event_destination"),
    Index("ix_deliveries_due", "state", "destination", "next_attempt_at"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", String(26), primary_key=True),
    Column(
        "delivery_id",
        String(26),
        ForeignKey("deliveries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("attempt", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Float, nullable=False),
    Column("error", Text),
    Column("dispatcher", String(64), nullable=False),
)

event_reviews = Table(
    "event_reviews",
    metadata,
    Column("id", String(26), primary_key=True),
    Column(
        "event_id",
        String(26),
        ForeignKey("events.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("action", String(16), nullable=False),  # acknowledge, resolve
    Column("comment", Text),
    Column("actor", String(255), nullable=False),
    Column("at", Float, nullable=False),
)
