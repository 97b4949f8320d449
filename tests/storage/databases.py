"""Databases for store tests: a SQLite file, and a fresh schema in the real PostgreSQL.

PostgreSQL runs on 127.0.0.1:5432 (trust auth, database ``test``) on the project's
machines. Each test gets its own schema (``search_path`` set through the URL), which
is dropped afterwards; an unreachable server skips the test (or fails it under
``SIGHTWIRE_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from sightwire.core.ids import new_id
from tests.service import require_service

POSTGRES = os.environ.get("SIGHTWIRE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'sightwire.db'}"


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a new, empty schema; dropped when the block ends."""
    schema = f"sw_test_{new_id().lower()}"
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        require_service(f"PostgreSQL at {POSTGRES} is unreachable: {exc}")
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def database_url(kind: str, folder: Path) -> Iterator[str]:
    """A URL of an empty database of ``kind`` (sqlite or postgres)."""
    if kind == "sqlite":
        yield sqlite_url(folder)
    else:
        with postgres_schema() as url:
            yield url
