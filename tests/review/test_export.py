"""Dataset export, read back by independent readers: COCO by pycocotools, YOLO by a
parser written here from the format's definition; faces stay blurred."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from sightwire.config.models import PrivacyConfig
from sightwire.config.review import ReviewConfig
from sightwire.core import Detections, Frame
from sightwire.inference.faces import BlazeFaceDetector
from sightwire.review import Decision, ReviewQueue
from sightwire.review.export import ExportError, export_dataset
from sightwire.review.labels import Box
from sightwire.review.sampler import ActiveLearningSampler
from sightwire.stages.redact import Redactor
from sightwire.storage.blobs import FileBlobStore
from tests.review.dataset import T0, Expected, Reviewed, populate

coco_api = pytest.importorskip("pycocotools.coco")


def read_coco(folder: Path) -> dict[str, Expected]:
    """Each image's labels as pycocotools reads them, by Sightwire item id."""
    coco = coco_api.COCO(str(folder / "annotations.json"))
    names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    found: dict[str, Expected] = {}
    for image in coco.loadImgs(coco.getImgIds()):
        picture = cv2.imread(str(folder / "images" / image["file_name"]))
        assert picture is not None and picture.shape[:2] == (image["height"], image["width"])
        labels: Expected = []
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=image["id"])):
            x, y, w, h = ann["bbox"]
            assert ann["area"] == pytest.approx(w * h, abs=0.05) and ann["iscrowd"] == 0
            labels.append((names[ann["category_id"]], (x, y, x + w, y + h)))
        found[image["sightwire_item"]] = sorted(labels)
    return found


def read_yolo(folder: Path) -> dict[str, Expected]:
    """Each image's labels from ``labels/*.txt`` and ``data.yaml``, by file stem."""
    names = yaml.safe_load((folder / "data.yaml").read_text())["names"]
    images = {p.stem: p for p in (folder / "images").iterdir()}
    labels = {p.stem: p for p in (folder / "labels").iterdir()}
    assert set(images) == set(labels)  # every image has its label file, and no more
    found: dict[str, Expected] = {}
    for stem, path in labels.items():
        picture = cv2.imread(str(images[stem]))
        assert picture is not None
        height, width = picture.shape[:2]
        boxes: Expected = []
        for line in path.read_text().splitlines():
            index, cx, cy, w, h = line.split()
            values = [float(cx), float(cy), float(w), float(h)]
            assert all(0 <= v <= 1 for v in values), line
            x1, y1 = (values[0] - values[2] / 2) * width, (values[1] - values[3] / 2) * height
            box = (x1, y1, x1 + values[2] * width, y1 + values[3] * height)
            boxes.append((names[int(index)], box))
        found[stem] = sorted(boxes)
    return found


def assert_same(found: dict[str, Expected], expected: dict[str, Expected]) -> None:
    assert set(found) == set(expected)
    for item_id, labels in expected.items():
        got = found[item_id]
        assert [name for name, _ in got] == [name for name, _ in sorted(labels)], item_id
        for (_, box), (_, want) in zip(got, sorted(labels), strict=True):
            assert box == pytest.approx(want, abs=0.01), item_id


@pytest.fixture
def reviewed(sqlite_queue: ReviewQueue, blobs: FileBlobStore) -> Reviewed:
    return populate(sqlite_queue, blobs)


def test_coco_export_applies_every_decision(
    sqlite_queue: ReviewQueue, blobs: FileBlobStore, reviewed: Reviewed, tmp_path: Path
) -> None:
    summary = export_dataset(sqlite_queue, blobs, tmp_path / "coco", "coco")
    assert_same(read_coco(tmp_path / "coco"), reviewed.expected)
    assert summary.classes == ["envelope", "pallet", "parcel", "person"]
    assert (summary.images, summary.boxes) == (5, 7)
    assert summary.skipped == {"no snapshot": 1}


def test_yolo_export_applies_every_decision(
    sqlite_queue: ReviewQueue, blobs: FileBlobStore, reviewed: Reviewed, tmp_path: Path
) -> None:
    export_dataset(sqlite_queue, blobs, tmp_path / "yolo", "yolo")
    assert_same(read_yolo(tmp_path / "yolo"), reviewed.expected)
    data = yaml.safe_load((tmp_path / "yolo" / "data.yaml").read_text())
    assert (data["train"], data["nc"]) == ("images", 4)
    for item_id in reviewed.expected:  # the snapshot itself, not a re-encoded copy
        image = (tmp_path / "yolo" / "images" / f"{item_id}.jpg").read_bytes()
        assert image == sqlite_queue_blob(sqlite_queue, blobs, item_id)


def sqlite_queue_blob(queue: ReviewQueue, blobs: FileBlobStore, item_id: str) -> bytes:
    snapshot = queue.get(item_id).snapshot
    assert snapshot is not None
    assert ".pack:" in snapshot or snapshot.startswith("review/")  # events' are packed
    return blobs.get(snapshot)


def test_filters_and_unreviewed_items(
    sqlite_queue: ReviewQueue, blobs: FileBlobStore, reviewed: Reviewed, tmp_path: Path
) -> None:
    docks = frozenset({"dock-2"})
    export_dataset(sqlite_queue, blobs, tmp_path / "dock", "coco", cameras=docks)
    dock = {i: e for i, e in reviewed.expected.items() if reviewed.cameras[i] == "dock-2"}
    assert_same(read_coco(tmp_path / "dock"), dock)

    since = T0 + 3 * 60 - 1  # from the third item on
    export_dataset(sqlite_queue, blobs, tmp_path / "recent", "yolo", since=since)
    recent = {i: e for i, e in reviewed.expected.items() if reviewed.captured[i] >= since}
    assert 0 < len(recent) < len(reviewed.expected)
    assert_same(read_yolo(tmp_path / "recent"), recent)

    export_dataset(sqlite_queue, blobs, tmp_path / "all", "coco", include_unreviewed=True)
    assert_same(read_coco(tmp_path / "all"), reviewed.expected | reviewed.pending)


def test_an_export_never_writes_into_a_folder_with_files(
    sqlite_queue: ReviewQueue, blobs: FileBlobStore, tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.txt").write_text("keep me")
    with pytest.raises(ExportError, match="not an empty folder"):
        export_dataset(sqlite_queue, blobs, tmp_path / "out", "yolo")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["old.txt"]


def test_exported_images_keep_faces_blurred(
    sqlite_queue: ReviewQueue, blobs: FileBlobStore, tmp_path: Path
) -> None:
    skimage_data = pytest.importorskip("skimage.data")
    photo = np.ascontiguousarray(skimage_data.astronaut()[:, :, ::-1])
    finder = BlazeFaceDetector()
    assert len(finder.detect(photo)) == 1  # the source has a face
    redactor = Redactor(PrivacyConfig(faces="blur"), finder)
    frame = redactor(Frame(camera="lobby", seq=1, captured_at=T0, pts=0.0, image=photo))
    person: Box = (120.0, 20.0, 470.0, 512.0)
    found = Detections(
        xyxy=np.array([person], np.float32),
        confidence=np.array([0.46], np.float32),
        class_id=np.array([0]),
        data={"class_name": np.array(["person"])},
    )
    item = ActiveLearningSampler(ReviewConfig(), sqlite_queue, blobs).offer(frame, found, 0.4)
    assert item is not None
    sqlite_queue.decide(item.id, Decision(action="confirm"), actor="key:reviewer")

    export_dataset(sqlite_queue, blobs, tmp_path / "faces", "coco")
    assert_same(read_coco(tmp_path / "faces"), {item.id: [("person", person)]})
    exported = cv2.imread(str(tmp_path / "faces" / "images" / f"{item.id}.jpg"))
    assert exported is not None and exported.shape == photo.shape
    assert len(finder.detect(np.asarray(exported, np.uint8))) == 0
