"""Queue queries: filters, "pending first, oldest first" order, and opaque cursors.

The order is (``reviewed``, ``id``): pending items (0) before reviewed ones (1), each
oldest first because ids are ULIDs. A cursor is the last item's position in that
order, base64-encoded; clients pass it back unchanged.

>>> decode_cursor(encode_cursor(0, "01JD5Z3YV8N0000000000000AA"))
(0, '01JD5Z3YV8N0000000000000AA')
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from sightwire.review.labels import ItemKind, ItemState
from sightwire.review.tables import review_items

MAX_PAGE = 500
_VERSION = "r1"


class InvalidCursorError(ValueError):
    """A cursor that this queue did not hand out."""


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What to select; None means "any". ``cameras`` is the caller's scope (an empty
    set selects nothing); ``camera`` narrows within it."""

    cameras: frozenset[str] | None = None
    camera: str | None = None
    rule: str | None = None
    kind: ItemKind | None = None
    states: tuple[ItemState, ...] | None = None
    since: float | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE conditions of this filter (capture time for ``since``)."""
        c = review_items.c
        found: list[ColumnElement[bool]] = []
        if self.cameras is not None:
            found.append(c.camera.in_(sorted(self.cameras)) if self.cameras else false())
        if self.camera is not None:
            found.append(c.camera == self.camera)
        if self.rule is not None:
            found.append(c.rule == self.rule)
        if self.kind is not None:
            found.append(c.kind == self.kind)
        if self.states is not None:
            found.append(c.state.in_(self.states))
        if self.since is not None:
            found.append(c.captured_at >= self.since)
        return found


def encode_cursor(reviewed: int, last_id: str) -> str:
    """The opaque cursor that continues after the item ``last_id``."""
    raw = f"{_VERSION}:{reviewed}:{last_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The position in a cursor; InvalidCursorError when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursorError(f"invalid cursor {cursor!r}") from None
    version, _, rest = raw.partition(":")
    reviewed, _, last_id = rest.partition(":")
    if version != _VERSION or reviewed not in ("0", "1") or not last_id:
        raise InvalidCursorError(f"invalid cursor {cursor!r}")
    return int(reviewed), last_id


def page_query(where: QueueFilter, limit: int, cursor: str | None) -> Select[Any]:
    """The statement of one page (one row more, to see whether more follow)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    c = review_items.c
    statement = select(review_items).where(*where.conditions())
    if cursor is not None:
        reviewed, last_id = decode_cursor(cursor)
        statement = statement.where(
            or_(c.reviewed > reviewed, and_(c.reviewed == reviewed, c.id > last_id))
        )
    return statement.order_by(c.reviewed.asc(), c.id.asc()).limit(limit + 1)
