"""A review queue with one item per kind of decision, and the labels an export must
write for each; shared by the export and CLI tests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sightwire.review import Decision, Label, ReviewQueue
from sightwire.review.labels import Box
from sightwire.storage.blobs import BlobStore
from tests.review.scenes import HEIGHT, WIDTH, event_with, jpeg, picture

T0 = 1_795_000_000.0
A, B, C = (10.0, 20.0, 60.0, 80.0), (100.0, 40.0, 150.0, 90.0), (200.0, 100.0, 260.0, 160.0)
Expected = list[tuple[str, Box]]


@dataclass
class Reviewed:
    """Item ids by what happened to them, and each exported item's expected labels."""

    expected: dict[str, Expected] = field(default_factory=dict)
    pending: dict[str, Expected] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    no_snapshot: list[str] = field(default_factory=list)
    cameras: dict[str, str] = field(default_factory=dict)
    captured: dict[str, float] = field(default_factory=dict)


def populate(queue: ReviewQueue, blobs: BlobStore) -> Reviewed:
    """Fill ``queue`` (and ``blobs`` with the snapshots) with decided items."""
    out = Reviewed()
    n = 0

    def event(boxes: list[tuple[str, Box]], camera: str = "belt-1", snapshot: bool = True) -> str:
        nonlocal n
        n += 1
        key = None
        if snapshot:  # as the event store writes it: a range of a pack in a file store
            image, now = jpeg(picture([box for _, box in boxes], seed=n)), time.time()
            day = time.strftime("%Y/%m/%d", time.gmtime(now))
            key = blobs.put_snapshot(f"snapshots/{camera}/{day}/{n}.jpg", image, now)
        item = queue.add_event(event_with(boxes, camera=camera, at=T0 + n * 60, snapshot=key))
        out.cameras[item.id] = camera
        out.captured[item.id] = item.captured_at
        return item.id

    def frame(boxes: list[tuple[str, Box]]) -> str:
        nonlocal n
        n += 1
        key = f"review/belt-1/{n}.jpg"
        blobs.put(key, jpeg(picture([box for _, box in boxes], seed=n)))
        proposed = [
            Label(id=i, class_name=c, box=b, confidence=0.45) for i, (c, b) in enumerate(boxes)
        ]
        item = queue.add_frame(
            camera="belt-1", captured_at=T0 + n * 60, snapshot=key, proposed=proposed, threshold=0.4
        )
        out.cameras[item.id] = "belt-1"
        out.captured[item.id] = item.captured_at
        return item.id

    def decide(item_id: str, *decisions: Decision) -> None:
        for decision in decisions:
            queue.decide(item_id, decision, actor="key:reviewer")

    confirmed = event([("parcel", A), ("parcel", B)])
    decide(confirmed, Decision(action="confirm"))
    out.expected[confirmed] = [("parcel", A), ("parcel", B)]

    relabelled = event([("parcel", A), ("parcel", C)])
    decide(
        relabelled,
        Decision(action="relabel", object_id=1, class_name="envelope"),
        Decision(action="confirm"),
    )
    out.expected[relabelled] = [("parcel", A), ("envelope", C)]

    added = frame([("parcel", B)])  # the reviewer's box runs off the image: clipped
    decide(added, Decision(action="add_box", class_name="pallet", box=(280, 180, 400, 300)))
    out.expected[added] = [("parcel", B), ("pallet", (280.0, 180.0, float(WIDTH), float(HEIGHT)))]

    removed = event([("parcel", A), ("person", C)], camera="dock-2")
    decide(removed, Decision(action="remove_box", object_id=0), Decision(action="confirm"))
    out.expected[removed] = [("person", C)]

    background = frame([("parcel", C)])  # nothing there after all: a hard negative
    decide(background, Decision(action="remove_box", object_id=0))
    out.expected[background] = []

    rejected = event([("parcel", B)])
    decide(rejected, Decision(action="confirm"), Decision(action="reject"))
    out.rejected.append(rejected)

    out.pending[event([("parcel", C)])] = [("parcel", C)]

    blind = event([("parcel", A)], snapshot=False)
    decide(blind, Decision(action="confirm"))
    out.no_snapshot.append(blind)
    return out
