"""Migration 0004 builds exactly the review tables that ``review/tables.py`` declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData

from sightwire.events.tables import metadata as event_metadata
from sightwire.review.tables import metadata as review_metadata
from sightwire.storage.database import open_database

REVIEW_TABLES = set(review_metadata.tables)


def test_migration_0004_matches_the_review_tables(db_url: str) -> None:
    code = MetaData()
    for source in (event_metadata, review_metadata):
        for table in source.tables.values():
            table.to_metadata(code)
    db = open_database(db_url, migrate=True)
    try:
        with db.read() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), code)
    finally:
        db.close()
    ours = [d for d in diff if any(name in repr(d) for name in REVIEW_TABLES)]
    assert ours == []
    assert {"review_items", "review_decisions"} == REVIEW_TABLES
