"""The review queue: events and sampled frames to review, decisions with who and when.

Every recorded event enters the queue (:meth:`ReviewQueue.add_event`); the
active-learning sampler adds frames (:meth:`ReviewQueue.add_frame`). Reviewers list
the queue, pending first and oldest first, and decide; each decision is stored with
its actor and time, and the item's labels and state follow from the decisions.

>>> import tempfile
>>> from sightwire.core import Event, EventData
>>> from sightwire.storage.database import open_database
>>> queue = ReviewQueue(open_database(f"sqlite:///{tempfile.mkdtemp()}/s.db", migrate=True))
>>> event = Event.create(site="dc", camera="belt-1", kind="parcel.seen",
...                      data=EventData(rule="parcel.seen", camera="belt-1", captured_at=1.0))
>>> item = queue.add_event(event)
>>> item.state, queue.page().items[0].id == event.id
('pending', True)
>>> queue.decide(event.id, Decision(action="reject"), actor="key:01J").state
'rejected'
>>> [(p.rule, p.rejected, p.precision) for p in queue.precision_by_rule()]
[('parcel.seen', 1, 0.0)]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, insert, select, update

from sightwire.core.event import Event
from sightwire.core.ids import new_id
from sightwire.review.labels import Decision, ItemKind, ItemState, Label, apply_decision
from sightwire.review.query import QueueFilter, encode_cursor, page_query
from sightwire.review.records import (
    DecisionRecord,
    ReviewItem,
    ReviewPage,
    RulePrecision,
    decision_of,
    item_of,
    labels_json,
)
from sightwire.review.tables import review_decisions, review_items
from sightwire.storage.database import Database

__all__ = ["ReviewItemNotFoundError", "ReviewQueue"]


class ReviewItemNotFoundError(LookupError):
    """No item with that id (or none the caller may see)."""


class ReviewQueue:
    """The review queue on a Sightwire database (migrated to revision 0004 or later)."""

    def __init__(self, database: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = database
        self.clock = clock

    def add_event(self, event: Event) -> ReviewItem:
        """Queue a recorded event (its id becomes the item's); a no-op when queued already.

        Pass the event that :meth:`EventStore.record` returned: it carries the
        snapshot's blob key.

        >>> # queue.add_event(store.record(event, destinations, snapshot=jpeg))
        """
        return self._insert(_event_row(event, self.clock()))

    def add_events(self, events: Sequence[Event]) -> int:
        """Queue several recorded events in one transaction; returns how many are new.

        The run loop queues each frame's events right after recording them; this is
        its path, one prepared statement on a driver cursor like the event store's.
        An event queued already is skipped (the batch is then queued one by one).

        >>> # queue.add_events([e for e in recorded if isinstance(e, Event)])
        """
        if not events:
            return 0
        now = self.clock()
        rows = [_event_row(event, now) for event in events]
        try:
            with self.db.cursor() as cursor:
                cursor.executemany(self.db.prepare(_INSERT_ITEM).sql, rows)
        except self.db.integrity_errors:  # one was queued already: the others one by one
            return sum(self._insert_new(row) for row in rows)
        return len(rows)

    def write_events(self, cursor: Any, events: Sequence[Event], now: float) -> None:
        """Queue freshly recorded events on ``cursor``, inside the transaction that
        records them (:meth:`EventStore.write_along`): no second transaction per frame,
        and no event without its review item after a crash.

        >>> # store.write_along("review", queue.write_events)
        """
        if events:
            rows = [_event_row(event, now) for event in events]
            cursor.executemany(self.db.prepare(_INSERT_ITEM).sql, rows)

    def add_frame(
        self,
        *,
        camera: str,
        captured_at: float,
        snapshot: str,
        proposed: Sequence[Label],
        threshold: float | None = None,
        model: str | None = None,
        item_id: str | None = None,
    ) -> ReviewItem:
        """Queue a frame whose (redacted) JPEG is stored under blob key ``snapshot``.

        >>> # queue.add_frame(camera="belt-1", captured_at=t, snapshot=key, proposed=labels)
        """
        now = self.clock()
        item_id = item_id or new_id(now)
        row = _new_row(item_id, "frame", camera, captured_at, now, list(proposed))
        row.update(snapshot=snapshot, threshold=threshold, model=model)
        return self._insert(row)

    def _insert(self, row: dict[str, Any]) -> ReviewItem:
        self._insert_new(row)
        return self.get(row["id"])

    def _insert_new(self, row: dict[str, Any]) -> bool:
        """Insert ``row`` unless its item is queued already; whether it was new."""
        try:
            with self.db.write() as conn:
                if _load(conn, row["id"]) is not None:
                    return False
                conn.execute(insert(review_items).values(row))
        except self.db.integrity_errors:  # another process queued it first
            return False
        return True

    def get(self, item_id: str, *, cameras: frozenset[str] | None = None) -> ReviewItem:
        """The item; ReviewItemNotFoundError when absent or outside ``cameras``."""
        with self.db.read() as conn:
            item = _load(conn, item_id)
        if item is None or (cameras is not None and item.camera not in cameras):
            raise ReviewItemNotFoundError(f"no review item {item_id!r}")
        return item

    def page(
        self,
        *,
        cameras: frozenset[str] | None = None,
        camera: str | None = None,
        rule: str | None = None,
        kind: ItemKind | None = None,
        state: ItemState | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> ReviewPage:
        """A page of the queue, pending first, oldest first; pass ``next_cursor`` on.

        ``cameras`` is the caller's scope (None: every camera); the others narrow it.
        An invalid cursor raises :class:`~sightwire.review.query.InvalidCursorError`.

        >>> # queue.page(cameras=principal.cameras, rule="parcel.mismatch", limit=20)
        """
        states = (state,) if state is not None else None
        where = QueueFilter(cameras=cameras, camera=camera, rule=rule, kind=kind, states=states)
        with self.db.read() as conn:
            rows = list(conn.execute(page_query(where, limit, cursor)))
        items = [item_of(row) for row in rows[:limit]]
        more = len(rows) > limit
        last = rows[limit - 1] if more else None
        return ReviewPage(
            items=items, next_cursor=encode_cursor(last.reviewed, last.id) if last else None
        )

    def iterate(self, where: QueueFilter, page_size: int = 200) -> Iterator[ReviewItem]:
        """Every item that ``where`` selects, in queue order, a page at a time."""
        cursor: str | None = None
        while True:
            with self.db.read() as conn:
                rows = list(conn.execute(page_query(where, page_size, cursor)))
            yield from (item_of(row) for row in rows[:page_size])
            if len(rows) <= page_size:
                return
            last = rows[page_size - 1]
            cursor = encode_cursor(last.reviewed, last.id)

    def decide(
        self,
        item_id: str,
        decision: Decision,
        *,
        actor: str,
        cameras: frozenset[str] | None = None,
        also: Callable[[Connection, ReviewItem], object] | None = None,
    ) -> ReviewItem:
        """Store ``decision`` by ``actor`` (a principal's subject) now; the updated item.

        ``also(conn, item)`` runs in the decision's transaction with the updated item,
        so what it writes (the audit entry) commits or rolls back with the decision;
        if it raises, the decision is not stored.

        Raises ReviewItemNotFoundError (absent, or outside ``cameras``) and
        :class:`~sightwire.review.labels.InvalidDecisionError` (e.g. an unknown box id).

        >>> # queue.decide(item_id, Decision(action="relabel", object_id=0,
        >>> #              class_name="envelope"), actor=principal.subject)
        """
        if not actor:
            raise ValueError("a decision needs an actor")
        now = self.clock()
        with self.db.write() as conn:
            statement = select(review_items).where(review_items.c.id == item_id)
            row = conn.execute(statement.with_for_update()).first()
            if row is None or (cameras is not None and row.camera not in cameras):
                raise ReviewItemNotFoundError(f"no review item {item_id!r}")
            item = item_of(row)
            labels, state = apply_decision(item.proposed, item.labels, decision)
            seq = _decision_count(conn, item_id) + 1
            conn.execute(
                insert(review_decisions).values(_decision_row(item_id, seq, decision, actor, now))
            )
            changes = {"labels": labels_json(labels), "state": state, "reviewed": 1}
            changes |= {"reviewed_at": now, "reviewed_by": actor}
            conn.execute(update(review_items).where(review_items.c.id == item_id).values(changes))
            decided = item.model_copy(
                update={"labels": labels, "state": state, "reviewed_at": now, "reviewed_by": actor}
            )
            if also is not None:
                also(conn, decided)
        return decided

    def history(
        self, item_id: str, *, cameras: frozenset[str] | None = None
    ) -> list[DecisionRecord]:
        """The item's decisions in the order they apply; ReviewItemNotFoundError when
        the item is outside ``cameras``."""
        if cameras is not None:
            self.get(item_id, cameras=cameras)
        statement = (
            select(review_decisions)
            .where(review_decisions.c.item_id == item_id)
            .order_by(review_decisions.c.seq)
        )
        with self.db.read() as conn:
            return [decision_of(row) for row in conn.execute(statement)]

    def pending_count(
        self, *, cameras: frozenset[str] | None = None, kind: ItemKind | None = None
    ) -> int:
        """How many items await review."""
        where = QueueFilter(cameras=cameras, kind=kind, states=("pending",))
        statement = select(func.count()).select_from(review_items).where(*where.conditions())
        with self.db.read() as conn:
            return int(conn.execute(statement).scalar_one())

    def precision_by_rule(
        self, *, cameras: frozenset[str] | None = None, since: float | None = None
    ) -> list[RulePrecision]:
        """Each rule's precision from its reviewed events, by rule name.

        >>> # [(p.rule, p.precision) for p in queue.precision_by_rule()]
        """
        c = review_items.c
        where = QueueFilter(cameras=cameras, kind="event", since=since)

        def count(*states: str) -> Any:
            return func.sum(case((c.state.in_(states), 1), else_=0))

        statement = (
            select(c.rule, count("confirmed", "corrected"), count("rejected"), count("pending"))
            .where(*where.conditions(), c.rule.is_not(None))
            .group_by(c.rule)
            .order_by(c.rule)
        )
        with self.db.read() as conn:
            rows = list(conn.execute(statement))
        return [
            RulePrecision.of(rule, confirmed=int(ok), rejected=int(bad), pending=int(waiting))
            for rule, ok, bad, waiting in rows
        ]


def _load(conn: Connection, item_id: str) -> ReviewItem | None:
    row = conn.execute(select(review_items).where(review_items.c.id == item_id)).first()
    return None if row is None else item_of(row)


def _new_row(
    item_id: str,
    kind: ItemKind,
    camera: str,
    captured_at: float,
    now: float,
    proposed: list[Label],
) -> dict[str, Any]:
    text = labels_json(proposed)
    return {
        "id": item_id,
        "kind": kind,
        "camera": camera,
        "rule": None,
        "model": None,
        "captured_at": captured_at,
        "created_at": now,
        "snapshot": None,
        "threshold": None,
        "proposed": text,
        "labels": text,
        "state": "pending",
        "reviewed": 0,
        "reviewed_at": None,
        "reviewed_by": None,
    }


def _event_row(event: Event, now: float) -> dict[str, Any]:
    """An event's item: its objects are the proposed boxes, its snapshot the picture."""
    data = event.data
    proposed = [
        Label(
            id=index,
            class_name=obj.class_name,
            box=obj.box,
            confidence=obj.confidence,
            track_id=obj.track_id,
        )
        for index, obj in enumerate(data.objects)
    ]
    model = f"{data.model.name}@{data.model.version}" if data.model else None
    row = _new_row(event.id, "event", data.camera, data.captured_at, now, proposed)
    row.update(rule=data.rule, model=model, snapshot=data.snapshot)
    return row


_INSERT_ITEM = insert(review_items).values({c.name: bindparam(c.name) for c in review_items.c})


def _decision_count(conn: Connection, item_id: str) -> int:
    statement = select(func.count()).where(review_decisions.c.item_id == item_id)
    return int(conn.execute(statement).scalar_one())


def _decision_row(
    item_id: str, seq: int, decision: Decision, actor: str, now: float
) -> dict[str, Any]:
    return {
        "id": new_id(now),
        "item_id": item_id,
        "seq": seq,
        "at": now,
        "actor": actor,
        "action": decision.action,
        "object_id": decision.object_id,
        "class_name": decision.class_name,
        "box": list(decision.box) if decision.box is not None else None,
        "comment": decision.comment,
    }
