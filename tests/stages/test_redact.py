"""Privacy redaction on real photos: faces are gone, for the detector and for the eye."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from sightwire.config.models import PrivacyConfig
from sightwire.core import Detections, Frame
from sightwire.inference.faces import BlazeFaceDetector, HaarDetector, faces_detections
from sightwire.stages.redact import BLOCKS, REDACTED, Redactor, padded_boxes

skimage_data = pytest.importorskip("skimage.data")
cbook = pytest.importorskip("matplotlib.cbook")

Image = npt.NDArray[np.uint8]


@pytest.fixture(scope="module")
def photos() -> dict[str, Image]:
    path = Path(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    hopper = cv2.imread(str(path))
    assert hopper is not None
    astronaut = np.ascontiguousarray(skimage_data.astronaut()[:, :, ::-1])
    return {"astronaut": astronaut, "hopper": np.asarray(hopper, np.uint8)}


@pytest.fixture(scope="module")
def finder() -> BlazeFaceDetector:
    return BlazeFaceDetector()


def frame_of(image: Image) -> Frame:
    return Frame(camera="lobby", seq=7, captured_at=1.0, pts=0.28, image=image)


def laplacian(image: Image, box: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    x1, y1, x2, y2 = (int(v) for v in box)
    grey = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
    return np.asarray(cv2.Laplacian(grey, cv2.CV_64F), np.float64)


def overlaps(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> bool:
    return bool(min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1]))


@pytest.mark.parametrize("method", ["blur", "pixelate", "fill"])
@pytest.mark.parametrize("photo", ["astronaut", "hopper"])
def test_redacted_faces_are_gone(
    photo: str, method: str, photos: dict[str, Image], finder: BlazeFaceDetector
) -> None:
    image = photos[photo]
    before = image.copy()
    faces = finder.detect(image)
    assert len(faces) == 1
    out = Redactor(PrivacyConfig(faces=method), finder)(frame_of(image))  # type: ignore[arg-type]

    assert np.array_equal(image, before)  # the source frame is left alone
    box = faces.xyxy[0]
    assert len(finder.detect(out.image)) == 0
    haar = HaarDetector().detect(out.image)  # it sees faces in blocky edges elsewhere
    assert not any(overlaps(found, box) for found in haar.xyxy), haar.xyxy
    detail_before, detail_after = laplacian(image, box), laplacian(out.image, box)
    if method == "pixelate":
        # what is left is the edges of flat blocks: no detail inside them
        assert (detail_after == 0).mean() > 0.8
        x1, y1, x2, y2 = (int(v) for v in box)
        colours = np.unique(out.image[y1:y2, x1:x2].reshape(-1, 3), axis=0)
        assert (
            len(colours)
            <= (BLOCKS + 2) ** 2
            < len(np.unique(image[y1:y2, x1:x2].reshape(-1, 3), axis=0)) / 10
        )
        assert detail_after.var() < detail_before.var() / 3
    else:
        assert detail_after.var() < detail_before.var() / 100
    [record] = out.metadata[REDACTED]
    assert record["class_name"] == "face" and record["method"] == method
    covered = np.asarray(record["box"])
    assert (covered[:2] < box[:2]).all() and (covered[2:] > box[2:]).all()  # padded
    outside = np.ones(image.shape[:2], bool)
    outside[int(covered[1]) : int(covered[3]), int(covered[0]) : int(covered[2])] = False
    assert np.array_equal(out.image[outside], image[outside])  # nothing else touched


def test_padding_grows_boxes_and_stays_inside_the_picture() -> None:
    boxes = np.array([[100, 100, 140, 150], [0, 0, 20, 20]], np.float32)
    grown = padded_boxes(boxes, 0.25, 160, 160)
    assert grown.tolist() == [[90, 87, 150, 160], [0, 0, 25, 25]]  # clipped at 160


def test_classes_from_a_detector_are_covered_and_recorded(photos: dict[str, Image]) -> None:
    image = photos["astronaut"]
    detections = Detections(
        xyxy=np.array([[300, 200, 400, 330], [10, 10, 60, 60]], np.float32),
        confidence=np.array([0.9, 0.8], np.float32),
        class_id=np.array([0, 1]),
        data={"class_name": np.array(["person", "cup"])},
    )
    redactor = Redactor(PrivacyConfig(classes=["person"], method="fill", padding=0.1))
    assert redactor.finder is None  # faces and plates are off: nothing to find
    out = redactor.redact(frame_of(image), detections)
    assert (out.image[187:343, 290:410] == 0).all()
    assert np.array_equal(out.image[10:60, 10:60], image[10:60, 10:60])  # cups stay
    assert out.metadata[REDACTED] == [
        {"class_name": "person", "box": [290.0, 187.0, 410.0, 343.0], "method": "fill"}
    ]
    assert out.seq == 7 and out.captured_at == 1.0  # the same frame, redacted


class FixedFinder:
    """A finder that always reports the same face and plate."""

    def detect(self, image: Image) -> Detections:
        found = faces_detections(np.array([[20, 20, 40, 40]], np.float32), np.ones(1, np.float32))
        plate = faces_detections(
            np.array([[60, 60, 100, 70]], np.float32), np.ones(1, np.float32), "plate"
        )
        return Detections.merge([found, plate])


def test_faces_and_plates_each_get_their_method() -> None:
    image = np.random.default_rng(1).integers(0, 255, (120, 160, 3), np.uint8)
    out = Redactor(PrivacyConfig(faces="fill", plates="pixelate", padding=0), FixedFinder())(
        frame_of(image)
    )
    assert (out.image[20:40, 20:40] == 0).all()
    plate = out.image[60:70, 60:100]
    assert 0 < len(np.unique(plate.reshape(-1, 3), axis=0)) <= 8  # blocks, not black
    assert [r["method"] for r in out.metadata[REDACTED]] == ["fill", "pixelate"]
    only_faces = Redactor(PrivacyConfig(faces="fill", padding=0), FixedFinder())(frame_of(image))
    assert np.array_equal(only_faces.image[60:70, 60:100], image[60:70, 60:100])


def test_a_frame_with_nothing_to_cover_passes_unchanged(photos: dict[str, Image]) -> None:
    frame = frame_of(np.ascontiguousarray(skimage_data.coffee()[:, :, ::-1]))
    out = Redactor(PrivacyConfig(faces="blur"), BlazeFaceDetector())(frame)
    assert out is frame
    assert not Redactor(PrivacyConfig()).active


def test_in_place_redaction_writes_into_the_frame() -> None:
    image = np.full((120, 160, 3), 200, np.uint8)
    out = Redactor(PrivacyConfig(faces="fill", padding=0), FixedFinder(), in_place=True)(
        frame_of(image)
    )
    assert out.image is image and (image[20:40, 20:40] == 0).all()
