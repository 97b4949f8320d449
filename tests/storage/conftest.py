from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.storage.databases import database_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.service)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, then a fresh PostgreSQL schema."""
    with database_url(request.param, tmp_path) as url:
        yield url
