"""The database: dialect settings, and migrations from empty on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text

from sightwire.events.tables import metadata as event_metadata
from sightwire.inference.registry import ModelRegistry
from sightwire.inference.registry import metadata as registry_metadata
from sightwire.review.tables import metadata as review_metadata
from sightwire.security.tables import metadata as security_metadata
from sightwire.storage.database import DatabaseError, open_database
from sightwire.storage.migrate import head_revision, schema_revision, upgrade_database

TABLES = {
    "alembic_version",
    "model_versions",
    "model_aliases",
    "model_changes",
    "events",
    "deliveries",
    "delivery_attempts",
    "event_reviews",
    "review_items",
    "review_decisions",
    "api_keys",
    "audit_log",
    "audit_head",
}


def _code_metadata() -> MetaData:
    combined = MetaData()
    for source in (event_metadata, registry_metadata, review_metadata, security_metadata):
        for table in source.tables.values():
            table.to_metadata(combined)
    return combined


def test_migrations_from_empty_build_every_table(db_url: str) -> None:
    assert schema_revision(db_url) is None
    assert upgrade_database(db_url) == head_revision()
    db = open_database(db_url)
    try:
        assert set(inspect(db.engine).get_table_names()) == TABLES
        with db.read() as conn:  # the migrated schema is exactly what the code declares
            diff = compare_metadata(MigrationContext.configure(conn), _code_metadata())
        assert diff == []
    finally:
        db.close()


def test_processes_that_start_together_upgrade_one_after_another(db_url: str) -> None:
    code = "import sys; from sightwire.storage.migrate import upgrade_database as u; u(sys.argv[1])"
    processes = [
        subprocess.Popen([sys.executable, "-c", code, db_url], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert schema_revision(db_url) == head_revision()
    assert upgrade_database(db_url) == head_revision()  # again: nothing to do


def test_threads_of_one_process_upgrade_one_after_another(db_url: str) -> None:
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            upgrade_database(db_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert schema_revision(db_url) == head_revision()


def test_upgrade_adopts_tables_the_model_registry_made_itself(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    ModelRegistry(url, tmp_path / "models")  # creates its tables without migrations
    assert upgrade_database(url) == head_revision()
    assert set(inspect(open_database(url).engine).get_table_names()) == TABLES


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'nested' / 'sightwire.db'}")
    with db.read() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.close()


def test_a_failed_write_leaves_nothing_behind(db_url: str) -> None:
    db = open_database(db_url)
    with db.write() as conn:
        conn.execute(text("CREATE TABLE notes (x INTEGER PRIMARY KEY)"))
    with pytest.raises(RuntimeError), db.write() as conn:
        conn.execute(text("INSERT INTO notes VALUES (1)"))
        raise RuntimeError("boom")
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM notes")).scalar() == 0
    db.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x@y/z", "unsupported database 'mysql'"),
        ("sqlite://", "give SQLite a file"),
    ],
)
def test_unusable_urls_are_refused_clearly(url: str, message: str) -> None:
    with pytest.raises(DatabaseError, match=message):
        open_database(url)
