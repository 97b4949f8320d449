"""Event queries: filters, newest-first order by ULID, and opaque page cursors.

A cursor is the last id of a page and the direction, base64-encoded; clients pass it
back unchanged. Because ids are ULIDs, ``id < cursor`` is "older than that event",
served by the primary key (and the (type, id) and (camera, id) indexes).

>>> decode_cursor(encode_cursor("01JD5Z3YV8N0000000000000AA", oldest_first=False))
('01JD5Z3YV8N0000000000000AA', False)
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, select

from sightwire.core.event import Event
from sightwire.events.tables import events

MAX_PAGE = 1000
_VERSION = "c1"


class InvalidCursorError(ValueError):
    """A cursor that this store did not hand out."""


@dataclass(frozen=True, slots=True)
class Window:
    """What to select: every field narrows the query; None means "any"."""

    type: str | None = None
    camera: str | None = None
    min_rank: int | None = None
    since: float | None = None
    until: float | None = None


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of events and the cursor of the next (None on the last page)."""

    events: list[Event] = field(default_factory=list)
    next_cursor: str | None = None


def encode_cursor(last_id: str, oldest_first: bool) -> str:
    """The opaque cursor that continues after ``last_id``."""
    raw = f"{_VERSION}:{'a' if oldest_first else 'd'}:{last_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, bool]:
    """The last id and the direction in a cursor; InvalidCursorError when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursorError(f"invalid cursor {cursor!r}") from None
    version, _, rest = raw.partition(":")
    order, _, last_id = rest.partition(":")
    if version != _VERSION or order not in ("a", "d") or not last_id:
        raise InvalidCursorError(f"invalid cursor {cursor!r}")
    return last_id, order == "a"


def type_condition(pattern: str) -> ColumnElement[bool] | None:
    """The SQL condition of a type pattern: exact, or a prefix ending in ``*``."""
    if pattern in ("", "*"):
        return None
    if "*" not in pattern:
        return events.c.type == pattern
    if pattern.count("*") > 1 or not pattern.endswith("*"):
        raise ValueError(f"type {pattern!r}: only a trailing * is supported")
    prefix = pattern[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return events.c.type.like(prefix + "%", escape="\\")


def page_query(window: Window, limit: int, cursor: str | None, oldest_first: bool) -> Select[Any]:
    """The statement that selects one page (one row more, to see if more follow)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    statement = select(events.c.cloudevent)
    condition = type_condition(window.type) if window.type is not None else None
    if condition is not None:
        statement = statement.where(condition)
    if window.camera is not None:
        statement = statement.where(events.c.camera == window.camera)
    if window.min_rank is not None:
        statement = statement.where(events.c.severity_rank >= window.min_rank)
    if window.since is not None:
        statement = statement.where(events.c.emitted_at >= window.since)
    if window.until is not None:
        statement = statement.where(events.c.emitted_at < window.until)
    if cursor is not None:
        last_id, cursor_oldest_first = decode_cursor(cursor)
        if cursor_oldest_first != oldest_first:
            raise InvalidCursorError("the cursor belongs to a query in the other order")
        statement = statement.where(
            events.c.id > last_id if oldest_first else events.c.id < last_id
        )
    order = events.c.id.asc() if oldest_first else events.c.id.desc()
    return statement.order_by(order).limit(limit + 1)


def read_page(
    conn: Connection, statement: Select[Any], limit: int, oldest_first: bool
) -> EventPage:
    """Run a :func:`page_query` statement and make the page."""
    texts = list(conn.execute(statement).scalars())
    page = [Event.model_validate_json(text) for text in texts[:limit]]
    more = len(texts) > limit
    return EventPage(page, encode_cursor(page[-1].id, oldest_first) if more else None)
