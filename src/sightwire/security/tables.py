"""The security tables (SQLAlchemy Core): API keys and the audit trail.

- ``api_keys``: one row per key. Only the SHA-256 of the secret is stored; ``cameras``
  is a JSON list (NULL: every camera). A revoked key keeps its row (who, when).
- ``audit_log``: append-only, one row per audited action, hash-chained: ``hash`` is
  SHA-256 over the entry's fields and ``prev_hash`` (the hash of entry ``seq - 1``).
  ``detail`` holds canonical JSON text, so the hash is recomputed from exactly what
  was written.
- ``audit_head``: a single row (``id = 1``) with the last entry's seq and hash,
  updated in the same transaction as each append. A deleted tail no longer matches it.

The schema is built by the Alembic migration ``0002``; a test checks that it matches.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

GENESIS = "0" * 64
"""``prev_hash`` of the first audit entry, and the head of an empty trail."""

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("cameras", Text),  # JSON list, NULL: every camera
    Column("secret_sha256", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(320), nullable=False),
    Column("expires_at", Float),
    Column("revoked_at", Float),
    Column("revoked_by", String(320)),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", Float, nullable=False),
    Column("actor", String(320), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(512), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_at", "at"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)
