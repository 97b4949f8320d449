"""Alembic's entry point: migrations run on the connection that Sightwire passes in.

:func:`sightwire.storage.migrate.upgrade_database` opens a write transaction and puts
its connection in ``config.attributes["connection"]``; there is no alembic.ini.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

POSTGRES_LOCK_KEY = 0x5167_7769_7265  # "Sightwire": one migrator at a time per database


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Several processes starting at once upgrade one after another, not together.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({POSTGRES_LOCK_KEY})")
    context.configure(
        connection=connection,
        target_metadata=None,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through sightwire.storage.migrate.upgrade_database")
_run(connection)
