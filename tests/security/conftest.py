from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sightwire.storage.database import Database, open_database
from tests.storage.databases import database_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.service)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database: a SQLite file, then a fresh PostgreSQL schema."""
    with database_url(request.param, tmp_path) as url:
        database = open_database(url, migrate=True)
        try:
            yield database
        finally:
            database.close()
