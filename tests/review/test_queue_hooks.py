"""The queue's hooks for the run loop and the API: events queued in batches, and a
decision whose audit entry is written in the decision's own transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from sightwire.review import Decision, ReviewItem, ReviewQueue
from sightwire.security.audit import AuditTrail
from tests.review.scenes import event_with


def test_events_are_queued_in_a_batch_and_only_once(queue: ReviewQueue) -> None:
    first = event_with([("parcel", (10, 10, 50, 50))], snapshot="snapshots/a.jpg")
    second = event_with([("parcel", (60, 10, 90, 50))], camera="dock-2")
    assert queue.add_events([first, second]) == 2
    item = queue.get(first.id)
    assert item.kind == "event" and item.snapshot == "snapshots/a.jpg"
    assert item.model == "parcels@3" and [b.class_name for b in item.proposed] == ["parcel"]
    third = event_with([("label", (1, 1, 5, 5))])
    # A batch with one event queued already: the others still go in.
    assert queue.add_events([second, third]) == 1
    assert queue.get(third.id).camera == "belt-1"
    assert queue.add_events([]) == 0


def test_a_decision_and_its_audit_entry_commit_together(queue: ReviewQueue) -> None:
    trail = AuditTrail(queue.db)
    event = event_with([("parcel", (10, 10, 50, 50))])
    queue.add_event(event)

    def audit(conn: Connection, item: ReviewItem) -> None:
        trail.append(conn, "key:01J", "review.decide", item.id, {"state": item.state})

    decided = queue.decide(event.id, Decision(action="reject"), actor="key:01J", also=audit)
    assert decided.state == "rejected"
    [entry] = [e for e in trail.entries() if e.action == "review.decide"]
    assert entry.target == event.id and entry.detail == {"state": "rejected"}


def test_a_failing_hook_leaves_no_decision(queue: ReviewQueue) -> None:
    event = event_with([("parcel", (10, 10, 50, 50))])
    queue.add_event(event)

    def broken(conn: Connection, item: ReviewItem) -> None:
        raise RuntimeError("the audit trail is away")

    with pytest.raises(RuntimeError):
        queue.decide(event.id, Decision(action="reject"), actor="key:01J", also=broken)
    assert queue.get(event.id).state == "pending"
    assert queue.history(event.id) == []
