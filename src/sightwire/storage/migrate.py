"""Run the Alembic migrations shipped inside the package, without an alembic.ini.

>>> import tempfile
>>> url = f"sqlite:///{tempfile.mkdtemp()}/sightwire.db"
>>> upgrade_database(url) == head_revision()
True
>>> schema_revision(url) == head_revision()
True
"""

from __future__ import annotations

import logging
import threading

# Alembic's info lines ("Context impl SQLiteImpl.") say nothing to a Sightwire user.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402

from sightwire.storage.database import Database, open_database  # noqa: E402

MIGRATIONS = "sightwire.storage:migrations"
_ALEMBIC = threading.Lock()  # Alembic's ``context`` is one global per process
log = logging.getLogger(__name__)


def alembic_config() -> Config:
    """Alembic's config pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return config


def head_revision() -> str:
    """The newest revision this version of Sightwire knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations packaged"
    return head


def upgrade_database(database: Database | str, revision: str = "head") -> str:
    """Bring the schema up to ``revision`` (default: the newest); returns the revision.

    Safe to run on every start: an up-to-date database is left alone, and on
    PostgreSQL processes that start together take turns (an advisory lock).

    >>> # upgrade_database("postgresql://sightwire@db/sightwire")
    """
    db = open_database(database) if isinstance(database, str) else database
    try:
        target = head_revision() if revision == "head" else revision
        current = schema_revision(db)
        if current == target:
            return current
        log.info("database %s: migrating schema from %s to %s", db.url, current, target)
        config = alembic_config()
        with _ALEMBIC, db.write() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        return schema_revision(db) or ""
    finally:
        if isinstance(database, str):
            db.close()


def schema_revision(database: Database | str) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    db = open_database(database) if isinstance(database, str) else database
    try:
        with db.read() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        if isinstance(database, str):
            db.close()
