"""The review queue's tables (SQLAlchemy Core): items to review and the decisions on them.

Times are epoch seconds (float); ids are ULIDs. An event's item has the event's id,
so the queue and the event store name it alike, and queueing it twice is refused by
the primary key.

- ``review_items``: one row per item: an event, or a frame the active-learning
  sampler picked. ``proposed`` is the model's boxes as JSON; ``labels`` the boxes
  after every decision so far (the decisions are the record, ``labels`` and ``state``
  a summary kept for queries). ``reviewed`` is 0 while pending and 1 after, so
  "pending first, oldest first" is the index order (``reviewed``, ``id``).
- ``review_decisions``: one row per decision, numbered ``seq`` 1, 2, ... per item
  (the order they apply in): who (``actor``, a principal's subject), when (``at``),
  what (``action`` and its ``object_id``, ``class_name``, ``box``), and an optional
  ``comment``.

The schema is built by migration 0004; a test checks that it matches these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
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

review_items = Table(
    "review_items",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("camera", String(64), nullable=False),
    Column("rule", String(128)),
    Column("model", String(160)),
    Column("captured_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("snapshot", String(512)),
    Column("threshold", Float),
    Column("proposed", Text, nullable=False),
    Column("labels", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("reviewed", SmallInteger, nullable=False),
    Column("reviewed_at", Float),
    Column("reviewed_by", String(320)),
    Index("ix_review_items_queue", "reviewed", "id"),
    Index("ix_review_items_camera_queue", "camera", "reviewed", "id"),
    Index("ix_review_items_rule_state", "rule", "state"),
)

review_decisions = Table(
    "review_decisions",
    metadata,
    Column("id", String(26), primary_key=True),
    Column(
        "item_id",
        String(26),
        ForeignKey("review_items.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("actor", String(320), nullable=False),
    Column("action", String(16), nullable=False),
    Column("object_id", Integer),
    Column("class_name", String(128)),
    Column("box", JSON),
    Column("comment", Text),
    UniqueConstraint("item_id", "seq", name="uq_review_decisions_item_seq"),
)
