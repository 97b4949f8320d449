"""The first schema: the model registry, events, the outbox and the delivery log.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

The model-registry tables may exist already (``ModelRegistry`` creates them itself
when it opens a database that was never migrated); they are created only when absent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "model_versions" not in existing:
        _model_versions()
    if "model_aliases" not in existing:
        _model_aliases()
    if "model_changes" not in existing:
        _model_changes()
    _events()
    _deliveries()
    _delivery_attempts()


def downgrade() -> None:
    for table in ("delivery_attempts", "deliveries", "events"):
        op.drop_table(table)
    for table in ("model_changes", "model_aliases", "model_versions"):
        op.drop_table(table)


def _model_versions() -> None:
    op.create_table(
        "model_versions",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(32), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("task", sa.String(16), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("input_size", sa.JSON),
        sa.Column("preprocessing", sa.JSON, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )


def _model_aliases() -> None:
    op.create_table(
        "model_aliases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("alias", sa.String(32), primary_key=True),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def _model_changes() -> None:
    op.create_table(
        "model_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("alias", sa.String(32)),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_version", sa.String(32)),
        sa.Column("to_version", sa.String(32)),
        sa.Column("actor", sa.String(128), nullable=False),
    )
    op.create_index("ix_model_changes_name", "model_changes", ["name"])


def _events() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255)),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(128), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("severity_rank", sa.SmallInteger, nullable=False),
        sa.Column("captured_at", sa.Float, nullable=False),
        sa.Column("emitted_at", sa.Float, nullable=False),
        sa.Column("recorded_at", sa.Float, nullable=False),
        sa.Column("snapshot", sa.String(512)),
        sa.Column("cloudevent", sa.Text, nullable=False),
    )
    op.create_index("ix_events_type_id", "events", ["type", "id"])
    op.create_index("ix_events_camera_id", "events", ["camera", "id"])
    op.create_index("ix_events_emitted_at", "events", ["emitted_at"])


def _deliveries() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column(
            "event_id",
            sa.String(26),
            sa.ForeignKey("events.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("replays", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("claim", sa.String(64)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("delivered_at", sa.Float),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.UniqueConstraint("event_id", "destination", name="uq_deliveries_event_destination"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["state", "destination", "next_attempt_at"])


def _delivery_attempts() -> None:
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column(
            "delivery_id",
            sa.String(26),
            sa.ForeignKey("deliveries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("dispatcher", sa.String(64), nullable=False),
    )
    op.create_index("ix_delivery_attempts_delivery_id", "delivery_attempts", ["delivery_id"])
