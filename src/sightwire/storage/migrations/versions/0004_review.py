"""Review: the queue of events and sampled frames to review, and the decisions on them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(128)),
        sa.Column("model", sa.String(160)),
        sa.Column("captured_at", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("snapshot", sa.String(512)),
        sa.Column("threshold", sa.Float),
        sa.Column("proposed", sa.Text, nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reviewed", sa.SmallInteger, nullable=False),
        sa.Column("reviewed_at", sa.Float),
        sa.Column("reviewed_by", sa.String(320)),
    )
    op.create_index("ix_review_items_queue", "review_items", ["reviewed", "id"])
    op.create_index("ix_review_items_camera_queue", "review_items", ["camera", "reviewed", "id"])
    op.create_index("ix_review_items_rule_state", "review_items", ["rule", "state"])
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column(
            "item_id",
            sa.String(26),
            sa.ForeignKey("review_items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("object_id", sa.Integer),
        sa.Column("class_name", sa.String(128)),
        sa.Column("box", sa.JSON),
        sa.Column("comment", sa.Text),
        sa.UniqueConstraint("item_id", "seq", name="uq_review_decisions_item_seq"),
    )


def downgrade() -> None:
    op.drop_table("review_decisions")
    op.drop_table("review_items")
