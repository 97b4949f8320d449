"""The review queue on SQLite and PostgreSQL: items, decisions with who and when,
the queue's order and pages, camera scope, and each rule's precision."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sightwire.review import (
    Decision,
    InvalidCursorError,
    InvalidDecisionError,
    Label,
    ReviewItemNotFoundError,
    ReviewQueue,
)
from sightwire.review.labels import replay
from tests.review.conftest import Clock
from tests.review.scenes import event_with

PARCEL = (10.0, 20.0, 60.0, 80.0)
BOX_B = (100.0, 40.0, 150.0, 90.0)


def test_an_event_enters_the_queue_with_its_objects_once(queue: ReviewQueue) -> None:
    event = event_with([("parcel", PARCEL), ("person", BOX_B)], snapshot="snapshots/x.jpg")
    item = queue.add_event(event)
    again = queue.add_event(event)  # recorded twice by a retry: still one item

    assert item == again == queue.get(event.id)
    assert (item.kind, item.camera, item.rule, item.state) == (
        "event",
        "belt-1",
        "parcel.seen",
        "pending",
    )
    assert (item.snapshot, item.model) == ("snapshots/x.jpg", "parcels@3")
    assert [(p.id, p.class_name, p.box, p.track_id) for p in item.proposed] == [
        (0, "parcel", PARCEL, 1),
        (1, "person", BOX_B, 2),
    ]
    assert item.proposed[0].confidence == pytest.approx(0.6)
    assert item.labels == item.proposed
    assert len(queue.page().items) == 1


def test_decisions_are_stored_with_who_and_when(queue: ReviewQueue, clock: Clock) -> None:
    item = queue.add_event(event_with([("parcel", PARCEL), ("parcel", BOX_B)]))
    clock.now += 60
    queue.decide(
        item.id,
        Decision(action="relabel", object_id=1, class_name="envelope"),
        actor="key:01JALICE",
    )
    clock.now += 30
    queue.decide(
        item.id,
        Decision(action="add_box", class_name="pallet", box=(0, 100, 90, 200)),
        actor="oidc:bob@example.com",
    )
    clock.now += 5
    done = queue.decide(
        item.id, Decision(action="confirm", comment="looks right"), actor="oidc:bob@example.com"
    )

    history = queue.history(item.id)
    assert [(d.seq, d.actor, d.at, d.action) for d in history] == [
        (1, "key:01JALICE", item.created_at + 60, "relabel"),
        (2, "oidc:bob@example.com", item.created_at + 90, "add_box"),
        (3, "oidc:bob@example.com", item.created_at + 95, "confirm"),
    ]
    assert (history[0].object_id, history[0].class_name) == (1, "envelope")
    assert (history[1].class_name, history[1].box) == ("pallet", (0.0, 100.0, 90.0, 200.0))
    assert history[2].comment == "looks right"
    stored = queue.get(item.id)
    assert stored == done
    assert (stored.state, stored.reviewed_by, stored.reviewed_at) == (
        "corrected",
        "oidc:bob@example.com",
        item.created_at + 95,
    )
    assert [(label.class_name, label.added) for label in stored.labels] == [
        ("parcel", False),
        ("envelope", False),
        ("pallet", True),
    ]
    # the stored labels are exactly what the stored decisions make of the proposals
    decisions = [
        Decision(**d.model_dump(include={"action", "object_id", "class_name", "box"}))
        for d in history
    ]
    assert replay(stored.proposed, decisions) == (stored.labels, "corrected")


def test_a_wrong_decision_changes_nothing(queue: ReviewQueue) -> None:
    item = queue.add_event(event_with([("parcel", PARCEL)]))
    with pytest.raises(InvalidDecisionError, match="no box 7"):
        queue.decide(item.id, Decision(action="remove_box", object_id=7), actor="key:1")
    with pytest.raises(ReviewItemNotFoundError):
        queue.decide("01NOTANITEM0000000000000000", Decision(action="confirm"), actor="key:1")
    with pytest.raises(ValueError, match="actor"):
        queue.decide(item.id, Decision(action="confirm"), actor="")
    with pytest.raises(ValidationError, match="add_box needs box"):
        Decision(action="add_box", class_name="parcel")
    assert queue.history(item.id) == []
    assert queue.get(item.id).state == "pending"


def test_camera_scope_hides_items_of_other_cameras(queue: ReviewQueue) -> None:
    belt = queue.add_event(event_with([], camera="belt-1"))
    dock = queue.add_event(event_with([], camera="dock-2", at=1_795_000_001.0))
    scope = frozenset({"belt-1"})

    assert [i.id for i in queue.page(cameras=scope).items] == [belt.id]
    assert queue.page(cameras=frozenset()).items == []
    with pytest.raises(ReviewItemNotFoundError):
        queue.get(dock.id, cameras=scope)
    with pytest.raises(ReviewItemNotFoundError):
        queue.decide(dock.id, Decision(action="reject"), actor="key:1", cameras=scope)
    with pytest.raises(ReviewItemNotFoundError):
        queue.history(dock.id, cameras=scope)
    assert queue.get(dock.id).state == "pending"
    assert queue.pending_count(cameras=scope) == 1


def test_pages_list_pending_first_then_oldest_first(queue: ReviewQueue, clock: Clock) -> None:
    ids = []
    for n in range(7):
        rule = "zone.enter" if n % 2 else "parcel.seen"
        camera = "dock-2" if n == 3 else "belt-1"
        ids.append(queue.add_event(event_with([], rule=rule, camera=camera, at=1e9 + n)).id)
    frame = queue.add_frame(
        camera="belt-1", captured_at=1e9 + 7, snapshot="review/f.jpg", proposed=[], threshold=0.4
    )
    queue.decide(ids[0], Decision(action="confirm"), actor="key:1")
    queue.decide(ids[4], Decision(action="reject"), actor="key:1")

    seen, cursor = [], None
    while True:
        page = queue.page(limit=3, cursor=cursor)
        seen += [item.id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    pending = [ids[n] for n in (1, 2, 3, 5, 6)] + [frame.id]
    assert seen == [*pending, ids[0], ids[4]]

    assert [i.id for i in queue.page(rule="zone.enter").items] == [ids[1], ids[3], ids[5]]
    assert [i.id for i in queue.page(camera="dock-2").items] == [ids[3]]
    assert [i.id for i in queue.page(kind="frame").items] == [frame.id]
    assert [i.id for i in queue.page(state="rejected").items] == [ids[4]]
    assert queue.pending_count() == 6
    with pytest.raises(InvalidCursorError):
        queue.page(cursor="bm90LWEtY3Vyc29y")


def test_precision_per_rule_from_a_mix_of_decisions(queue: ReviewQueue) -> None:
    def events(rule: str, n: int) -> list[str]:
        return [
            queue.add_event(event_with([("parcel", PARCEL)], rule=rule, at=1e9 + i)).id
            for i in range(n)
        ]

    mismatch = events("parcel.mismatch", 6)
    queue.decide(mismatch[0], Decision(action="confirm"), actor="key:a")
    queue.decide(mismatch[1], Decision(action="confirm"), actor="key:a")
    queue.decide(
        mismatch[2], Decision(action="relabel", object_id=0, class_name="envelope"), actor="key:a"
    )  # corrected: the rule was right, a label was not
    queue.decide(mismatch[3], Decision(action="confirm"), actor="key:a")
    queue.decide(mismatch[3], Decision(action="reject"), actor="key:b")  # re-reviewed: rejected
    entering = events("zone.enter", 2)
    queue.decide(entering[0], Decision(action="reject"), actor="key:a")
    queue.decide(entering[1], Decision(action="reject"), actor="key:a")
    events("line.cross", 1)
    sampled = queue.add_frame(
        camera="belt-1",
        captured_at=1e9,
        snapshot="review/f.jpg",
        proposed=[Label(id=0, class_name="parcel", box=PARCEL)],
    )
    queue.decide(sampled.id, Decision(action="reject"), actor="key:a")  # frames have no rule

    found = {p.rule: p for p in queue.precision_by_rule()}
    assert list(found) == ["line.cross", "parcel.mismatch", "zone.enter"]
    m = found["parcel.mismatch"]
    assert (m.confirmed, m.rejected, m.pending, m.precision) == (3, 1, 2, 0.75)
    z = found["zone.enter"]
    assert (z.confirmed, z.rejected, z.pending, z.precision) == (0, 2, 0, 0.0)
    c = found["line.cross"]
    assert (c.confirmed, c.rejected, c.pending, c.precision) == (0, 0, 1, None)
    assert queue.precision_by_rule(cameras=frozenset({"dock-2"})) == []
