"""The Sightwire database: one SQLAlchemy engine per store, tuned for its dialect.

The embedded default is a SQLite file in WAL mode (readers never block the writer)
with a busy timeout; the distributed setup is PostgreSQL through psycopg 3. Write
transactions go through :meth:`Database.write`, which on SQLite takes a process-wide
lock and ``BEGIN IMMEDIATE`` so two writers of one process queue on a lock instead of
sleeping in SQLite's busy handler, and writers of two processes wait for each other
instead of failing with "database is locked".

>>> import tempfile
>>> db = open_database(f"sqlite:///{tempfile.mkdtemp()}/sightwire.db")
>>> db.dialect
'sqlite'
>>> with db.write() as conn:
...     _ = conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
>>> db.close()
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.expression import ClauseElement

from sightwire.config.security import ClientTlsConfig

SQLITE_BUSY_TIMEOUT_MS = 10_000
_WRITE = "sightwire_write"


class DatabaseError(Exception):
    """A database URL or state that Sightwire cannot use; the message says why."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """SQL compiled for one driver; named parameters (``:name`` or ``%(name)s``).

    ``params(**values)`` adds the literals SQLAlchemy turned into parameters.
    """

    sql: str
    defaults: dict[str, Any]
    statement: ClauseElement  # kept alive: the cache is keyed by its id

    def params(self, **values: Any) -> dict[str, Any]:
        return {**self.defaults, **values} if self.defaults else values


class Database:
    """An engine and how to write through it safely.

    Use :func:`open_database` to make one; :meth:`read` for queries and
    :meth:`write` for transactions that change rows.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None
        self._prepared: dict[int, Prepared] = {}
        self._writer: Any = None
        dbapi = engine.dialect.loaded_dbapi
        self.errors: tuple[type[Exception], ...] = (SQLAlchemyError, dbapi.Error)
        """What a failed query raises, through SQLAlchemy or on a :meth:`cursor`."""
        self.integrity_errors: tuple[type[Exception], ...] = (
            sa_exc.IntegrityError,
            dbapi.IntegrityError,
        )

    @property
    def url(self) -> str:
        """The URL, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for queries (a deferred transaction, rolled back at the end)."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits when the block ends and rolls back on an error."""
        if self._write_lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._write_lock, self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """A DBAPI cursor in a write transaction, for hot paths that SQLAlchemy would slow.

        Run statements made by :meth:`prepare`: SQLAlchemy compiles, the driver executes.
        On SQLite, where writes take turns anyway, one connection serves them all.
        """
        if self._write_lock is None:
            raw = self.engine.raw_connection()
            try:
                with _transaction(raw, begin=None) as cursor:
                    yield cursor
            finally:
                raw.close()
            return
        with self._write_lock:
            if self._writer is None:
                self._writer = self.engine.raw_connection()
            try:
                with _transaction(self._writer, begin="BEGIN IMMEDIATE") as cursor:
                    yield cursor
            except self.integrity_errors:
                raise  # rolled back; the connection is fine
            except self.errors:
                self._writer.close()  # it may be broken: the next write opens another
                self._writer = None
                raise

    def prepare(self, statement: ClauseElement) -> Prepared:
        """``statement`` compiled once for this database, to run on a :meth:`cursor`."""
        key = id(statement)
        prepared = self._prepared.get(key)
        if prepared is None:
            compiled = statement.compile(dialect=self.engine.dialect)
            prepared = Prepared(str(compiled), dict(compiled.params), statement)
            self._prepared[key] = prepared
        return prepared

    def close(self) -> None:
        """Close every pooled connection."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.engine.dispose()


@contextmanager
def _transaction(raw: Any, begin: str | None) -> Iterator[Any]:
    cursor = raw.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        yield cursor
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        cursor.close()


def open_database(
    url: str,
    *,
    migrate: bool = False,
    pool_size: int = 5,
    tls: ClientTlsConfig | None = None,
) -> Database:
    """The database at ``url``; with ``migrate`` its schema is brought up to date first.

    ``sqlite:///PATH`` creates PATH's folder; ``postgresql://`` URLs use psycopg 3.
    ``tls`` (PostgreSQL only) becomes libpq's ``sslmode``/``sslrootcert``/``sslcert``/
    ``sslkey`` connect arguments (see :func:`sightwire.security.tls.libpq_ssl_args`);
    the same can sit in the URL instead
    (``postgresql://db/sightwire?sslmode=verify-full&sslrootcert=/etc/ca.pem``); where
    both name one, ``tls`` wins.

    >>> # db = open_database("postgresql://sightwire@db/sightwire", migrate=True)
    """
    db = Database(_engine(url, pool_size, tls))
    if migrate:
        from sightwire.storage.migrate import upgrade_database

        upgrade_database(db)
    return db


def _engine(url: str, pool_size: int, tls: ClientTlsConfig | None = None) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if tls is not None:
            raise DatabaseError(f"{url}: `tls` applies to PostgreSQL; SQLite is a local file")
        return _sqlite_engine(url, parsed.database)
    if backend == "postgresql":
        if parsed.get_driver_name() in ("", "psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        from sightwire.security.tls import libpq_ssl_args  # ssl only for who needs it

        return create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            connect_args=libpq_ssl_args(tls),
        )
    raise DatabaseError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database in (None, "", ":memory:") or str(database).startswith("file:"):
        raise DatabaseError(f"{url}: give SQLite a file, e.g. sqlite:///data/sightwire.db")
    Path(str(database)).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False}, paramstyle="named")
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN, not the sqlite3 module's guesswork.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")  # durable against a process crash
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    writing = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
