"""Event review: who acknowledged or resolved an event, when, and their comment.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_reviews",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column(
            "event_id",
            sa.String(26),
            sa.ForeignKey("events.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_event_reviews_event_id", "event_reviews", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_event_reviews_event_id", table_name="event_reviews")
    op.drop_table("event_reviews")
