"""Export reviewed items as a training dataset (YOLO or COCO).

What goes in: items a person confirmed or corrected (and, on request, pending ones
with the model's boxes); never rejected ones. Their labels are the decisions applied:
removed boxes are gone, relabels and added boxes are in. Images are the stored
snapshots, byte for byte: the redacted JPEGs the pipeline wrote (nothing here ever
sees an unredacted frame). Boxes are clipped to the image. An item left with no box
is written as a background image only when a reviewer removed the model's boxes
(a hard negative); otherwise there is nothing to learn from it and it is skipped.

>>> # summary = export_dataset(queue, blobs, Path("out"), "yolo", since=t0)
>>> # summary.images, summary.classes, summary.skipped
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from sightwire.review.formats import IMAGES, ExportedImage, write_coco, write_yolo
from sightwire.review.labels import ItemState, Label
from sightwire.review.query import QueueFilter
from sightwire.review.records import ReviewItem
from sightwire.review.store import ReviewQueue
from sightwire.storage.blobs import BlobNotFoundError, BlobStore

Format = Literal["yolo", "coco"]
REVIEWED: tuple[ItemState, ...] = ("confirmed", "corrected")


class ExportError(ValueError):
    """An export that cannot start (e.g. the output folder has files in it)."""


@dataclass
class ExportSummary:
    """What an export wrote and what it skipped (reason -> count)."""

    format: Format
    folder: str
    images: int = 0
    boxes: int = 0
    classes: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


def export_dataset(
    queue: ReviewQueue,
    blobs: BlobStore,
    folder: Path,
    format: Format,
    *,
    since: float | None = None,
    cameras: frozenset[str] | None = None,
    include_unreviewed: bool = False,
    on_image: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write the dataset into ``folder`` (absent or empty); returns the summary.

    ``since`` bounds the capture time (epoch seconds); ``cameras`` limits the cameras;
    ``on_image(n)`` is called after each image written (progress).

    >>> # export_dataset(queue, blobs, Path("dataset"), "coco", cameras=frozenset({"belt-1"}))
    """
    if format not in ("yolo", "coco"):
        raise ExportError(f"unknown format {format!r}: use yolo or coco")
    _prepare(folder)
    states = (*REVIEWED, "pending") if include_unreviewed else REVIEWED
    where = QueueFilter(cameras=cameras, states=states, since=since)
    skipped: Counter[str] = Counter()
    images = list(_write_images(queue.iterate(where), blobs, folder / IMAGES, skipped, on_image))
    classes = sorted({label.class_name for image in images for label in image.labels})
    if format == "yolo":
        write_yolo(folder, images, classes)
    else:
        write_coco(folder, images, classes)
    return ExportSummary(
        format=format,
        folder=str(folder),
        images=len(images),
        boxes=sum(len(image.labels) for image in images),
        classes=classes,
        skipped=dict(sorted(skipped.items())),
    )


def _prepare(folder: Path) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ExportError(f"{folder}: not an empty folder; export into a new one")
    (folder / IMAGES).mkdir(parents=True, exist_ok=True)


def _write_images(
    items: Iterable[ReviewItem],
    blobs: BlobStore,
    images: Path,
    skipped: Counter[str],
    on_image: Callable[[int], None] | None,
) -> Iterable[ExportedImage]:
    written = 0
    for item in items:
        reason, jpeg, size = _snapshot(item, blobs)
        if reason:
            skipped[reason] += 1
            continue
        width, height = size
        labels, outside = clip_labels(item.labels, width, height)
        if outside:
            skipped["box outside the image"] += outside
        if not labels and not (item.proposed and item.state in REVIEWED):
            skipped["no box"] += 1
            continue
        file_name = f"{item.id}.jpg"
        (images / file_name).write_bytes(jpeg)
        written += 1
        if on_image is not None:
            on_image(written)
        yield ExportedImage(item.id, file_name, width, height, labels)


def _snapshot(item: ReviewItem, blobs: BlobStore) -> tuple[str, bytes, tuple[int, int]]:
    """(reason to skip or "", the JPEG, (width, height))."""
    if item.snapshot is None:
        return "no snapshot", b"", (0, 0)
    try:
        jpeg = blobs.get(item.snapshot)
    except BlobNotFoundError:
        return "snapshot missing", b"", (0, 0)
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        return "snapshot unreadable", b"", (0, 0)
    return "", jpeg, (int(image.shape[1]), int(image.shape[0]))


def clip_labels(labels: Sequence[Label], width: int, height: int) -> tuple[list[Label], int]:
    """Labels with boxes clipped to the image, and how many fell outside it entirely.

    >>> box = Label(id=0, class_name="parcel", box=(-5, 10, 50, 120))
    >>> clip_labels([box], 40, 100)[0][0].box
    (0.0, 10.0, 40.0, 100.0)
    """
    kept: list[Label] = []
    for label in labels:
        x1, y1, x2, y2 = label.box
        box = (max(0.0, x1), max(0.0, y1), min(float(width), x2), min(float(height), y2))
        if box[2] - box[0] < 1 or box[3] - box[1] < 1:
            continue  # less than a pixel inside: nothing to learn from
        kept.append(label if box == label.box else label.model_copy(update={"box": box}))
    return kept, len(labels) - len(kept)
