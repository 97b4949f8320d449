"""Fixtures of the review tests: a migrated database (SQLite, then PostgreSQL), a blob
folder, and a queue on a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sightwire.review.store import ReviewQueue
from sightwire.storage.blobs import FileBlobStore
from sightwire.storage.database import open_database
from tests.storage.databases import database_url


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self, now: float = 1_795_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.service)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, then a fresh PostgreSQL schema."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(db_url: str, clock: Clock) -> Iterator[ReviewQueue]:
    db = open_database(db_url, migrate=True)
    try:
        yield ReviewQueue(db, clock=clock)
    finally:
        db.close()


@pytest.fixture
def sqlite_queue(tmp_path: Path, clock: Clock) -> Iterator[ReviewQueue]:
    """A queue on SQLite only, for tests about files rather than SQL."""
    db = open_database(f"sqlite:///{tmp_path / 'review.db'}", migrate=True)
    try:
        yield ReviewQueue(db, clock=clock)
    finally:
        db.close()


@pytest.fixture
def blobs(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / "blobs")
