"""Barcode reading on the synthetic conveyor: the tracking numbers the labels carry.

The helpers at the top (``Scene``, ``conveyor_scene``, ``parcels_in``) are shared with
the OCR tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest
import zxingcpp

from sightwire.config.models import CameraConfig, ReadOptions
from sightwire.core import Detections, Frame
from sightwire.inference import barcode as barcode_module
from sightwire.inference.barcode import BarcodeAnalyser
from sightwire.inference.ocr import OcrAnalyser
from sightwire.inference.ocr_tracks import TrackOcrAnalyser
from sightwire.runtime.pipeline import CameraPipeline, ZoneReader
from sightwire.synth import GroundTruth, ParcelTruth
from tests.synth.scenes import CONVEYOR, session_clip

Image = npt.NDArray[np.uint8]
PATTERN = "1Z[0-9A-Z]{16}"


@dataclass(frozen=True)
class Scene:
    """Decoded frames of the conveyor clip: one per parcel, with its label in full view."""

    truth: GroundTruth
    frames: dict[int, Image]
    shown: dict[str, int]  # parcel id -> the frame that shows its whole label

    def parcel(self, parcel_id: str) -> ParcelTruth:
        return next(p for p in self.truth.parcels if p.id == parcel_id)

    def frame(self, index: int) -> Frame:
        return Frame(
            camera="belt-1",
            seq=index,
            captured_at=0.0,
            pts=index / self.truth.scene.fps,
            image=self.frames[index],
        )

    @property
    def belt(self) -> list[tuple[float, float]]:
        top, bottom = self.truth.scene.belt_rows or (0, self.truth.scene.height)
        width = self.truth.scene.width
        return [(0, top), (width, top), (width, bottom), (0, bottom)]


def conveyor_scene(factory: pytest.TempPathFactory) -> Scene:
    """The session's conveyor clip, decoded at the middle frame of each label's full view."""
    clip = session_clip(factory, "conveyor", "conveyor", CONVEYOR)
    shown = {}
    for parcel in clip.truth.parcels:
        full = [f for f in sorted(parcel.label_boxes) if parcel.label_fully_visible(f)]
        assert full, f"{parcel.id} never shows its whole label"
        shown[parcel.id] = full[len(full) // 2]
    wanted, frames = set(shown.values()), {}
    with av.open(str(clip.path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                frames[index] = frame.to_ndarray(format="bgr24")
            if len(frames) == len(wanted):
                break
    return Scene(clip.truth, frames, shown)


def parcels_in(scene: Scene, index: int, extra: dict[str, Any] | None = None) -> Detections:
    """Ground-truth parcel boxes of frame ``index`` as detections of class ``parcel``,
    followed by a ``person`` standing on the first parcel (never to be read)."""
    parcels = [p for p in scene.truth.parcels if index in p.boxes]
    boxes = [p.boxes[index] for p in parcels] + [parcels[0].boxes[index]]
    names = ["parcel"] * len(parcels) + ["person"]
    return Detections(
        xyxy=np.array(boxes, np.float32),
        confidence=np.full(len(boxes), 0.9, np.float32),
        class_id=np.array([0] * len(parcels) + [1]),
        data={"class_name": np.array(names), **(extra or {})},
    )


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    return conveyor_scene(tmp_path_factory)


@pytest.fixture(scope="module")
def reader() -> BarcodeAnalyser:
    return BarcodeAnalyser(ReadOptions(within="parcel", pattern=PATTERN), formats=["Code128"])


def test_the_scene_has_readable_and_damaged_labels(scene: Scene) -> None:
    readable = [p.label_readable for p in scene.truth.parcels]
    assert any(readable) and not all(readable)


def test_reads_each_tracking_number_within_its_parcel(
    scene: Scene, reader: BarcodeAnalyser
) -> None:
    for parcel_id, index in scene.shown.items():
        parcel = scene.parcel(parcel_id)
        found = reader.analyse(scene.frame(index), parcels_in(scene, index))
        names = found.data["class_name"].tolist()
        row = next(
            i
            for i, p in enumerate(p for p in scene.truth.parcels if index in p.boxes)
            if p.id == parcel_id
        )
        expected = parcel.tracking_number if parcel.label_readable else ""
        assert found.data["barcode"][row] == expected, parcel
        assert found.data["barcode_format"][row] == ("Code128" if expected else "")
        assert found.data["barcode"][names.index("person")] == ""  # not a parcel: not read
        for number in found.data["barcode"]:  # labels partly in view: right or nothing
            assert number in {"", *(p.tracking_number for p in scene.truth.parcels)}
    assert reader.stats.reads >= len(scene.shown)


def test_a_reading_that_does_not_match_the_pattern_is_dropped(scene: Scene) -> None:
    readable = next(p for p in scene.truth.parcels if p.label_readable)
    index = scene.shown[readable.id]
    digits_only = BarcodeAnalyser(ReadOptions(within="parcel", pattern=r"^\d{18}$"))
    found = digits_only.analyse(scene.frame(index), parcels_in(scene, index))
    assert set(found.data["barcode"]) == {""}
    anything = BarcodeAnalyser(ReadOptions(within="parcel"))
    found = anything.analyse(scene.frame(index), parcels_in(scene, index))
    assert readable.tracking_number in found.data["barcode"].tolist()


def test_zone_only_reading_adds_barcode_objects_where_the_labels_are(scene: Scene) -> None:
    reader = BarcodeAnalyser(ReadOptions(zone="belt", pattern=PATTERN), zones={"belt": scene.belt})
    for parcel_id, index in scene.shown.items():
        parcel = scene.parcel(parcel_id)
        before = parcels_in(scene, index)
        found = reader.analyse(scene.frame(index), before)
        added = found[len(before) :]
        kept = found.data["class_name"][: len(before)]
        assert kept.tolist() == before.data["class_name"].tolist()
        assert set(added.data["class_name"]) <= {"barcode"}
        assert (added.class_id == -1).all()
        texts = added.data["barcode"].tolist()
        if not parcel.label_readable:
            assert parcel.tracking_number not in texts
            continue
        assert parcel.tracking_number in texts
        box = added.xyxy[texts.index(parcel.tracking_number)]
        x1, y1, x2, y2 = parcel.label_boxes[index]
        assert x1 - 3 <= box[0] < box[2] <= x2 + 3 and y1 - 3 <= box[1] < box[3] <= y2 + 3
        assert box[2] - box[0] > 0.6 * (x2 - x1)  # the bars span most of the label


def test_pixels_outside_the_zone_are_not_read(scene: Scene) -> None:
    parcel = next(p for p in scene.truth.parcels if p.label_readable)
    index = scene.shown[parcel.id]
    x1, y1, x2, y2 = parcel.label_boxes[index]
    # the zone's bounding rectangle holds the whole label, but the polygon only its left tip
    sliver = [(x1 - 10, y1 - 10), (x2 + 10, y1 - 10), (x1 - 10, y2 + 10)]
    reader = BarcodeAnalyser(ReadOptions(zone="sliver"), zones={"sliver": sliver})
    assert len(reader.analyse(scene.frame(index), Detections.empty())) == 0
    whole = [(x1 - 10, y1 - 10), (x2 + 10, y1 - 10), (x2 + 10, y2 + 10), (x1 - 10, y2 + 10)]
    reader = BarcodeAnalyser(ReadOptions(zone="label"), zones={"label": whole})
    assert reader.analyse(scene.frame(index), Detections.empty()).data["barcode"].tolist() == [
        parcel.tracking_number
    ]


def test_within_and_zone_read_only_objects_centred_in_the_zone(scene: Scene) -> None:
    parcel = next(p for p in scene.truth.parcels if p.label_readable)
    index = scene.shown[parcel.id]
    left_half = [(0, 0), (640, 0), (640, 720), (0, 720)]
    right_half = [(640, 0), (1280, 0), (1280, 720), (640, 720)]
    centre = (parcel.boxes[index][0] + parcel.boxes[index][2]) / 2
    inside, outside = (left_half, right_half) if centre < 640 else (right_half, left_half)
    for zone, expected in [(inside, parcel.tracking_number), (outside, "")]:
        reader = BarcodeAnalyser(ReadOptions(within="parcel", zone="z"), zones={"z": zone})
        found = reader.analyse(scene.frame(index), parcels_in(scene, index))
        present = [p for p in scene.truth.parcels if index in p.boxes]
        assert found.data["barcode"][present.index(parcel)] == expected


def test_new_objects_keep_the_columns_and_tracks_of_the_old(scene: Scene) -> None:
    parcel = next(p for p in scene.truth.parcels if p.label_readable)
    index = scene.shown[parcel.id]
    tracked = parcels_in(scene, index)
    tracked.tracker_id = np.arange(1, len(tracked) + 1)
    tracked.data["length_mm"] = np.full(len(tracked), 300.0)
    reader = BarcodeAnalyser(ReadOptions(pattern=PATTERN))  # no within, no zone: whole frame
    found = reader.analyse(scene.frame(index), tracked)
    assert found.tracker_id is not None
    assert found.tracker_id[: len(tracked)].tolist() == tracked.tracker_id.tolist()
    assert (found.tracker_id[len(tracked) :] == -1).all() and len(found) > len(tracked)
    assert np.isnan(found.data["length_mm"][len(tracked) :]).all()
    assert set(found.data["barcode"][: len(tracked)]) == {""}


def test_small_crops_are_read_again_at_twice_the_size(monkeypatch: pytest.MonkeyPatch) -> None:
    shapes: list[tuple[int, ...]] = []
    real = zxingcpp.read_barcodes

    def spy(image: Image, **kwargs: Any) -> Any:
        shapes.append(image.shape)
        return real(image, **kwargs)

    monkeypatch.setattr(barcode_module.zxingcpp, "read_barcodes", spy)
    reader = BarcodeAnalyser(ReadOptions(), upscale_below=640)
    blank = np.full((100, 200, 3), 255, np.uint8)
    assert reader.read(blank) == [] and shapes == [(100, 200), (200, 400)]
    shapes.clear()
    assert reader.read(np.full((400, 800, 3), 255, np.uint8)) == [] and shapes == [(400, 800)]
    shapes.clear()
    label = zxingcpp.create_barcode("1Z4WSJLB0018695697", zxingcpp.BarcodeFormat.Code128)
    bars = np.asarray(label.to_image(scale=2, add_quiet_zones=True), np.uint8)[:60]
    [reading] = reader.read(np.ascontiguousarray(bars))
    assert reading.text == "1Z4WSJLB0018695697" and shapes == [bars.shape]
    assert reading.quad.shape == (4, 2)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown zone 'dock'"):
        BarcodeAnalyser(ReadOptions(zone="dock"), zones={"belt": [(0, 0), (1, 0), (1, 1)]})
    with pytest.raises(ValueError, match="unknown barcode format"):
        BarcodeAnalyser(ReadOptions(), formats=["Code129"])


def test_a_zone_edited_while_running_is_read_from_the_next_frame(scene: Scene) -> None:
    """Zones edited in the UI reach a running camera's reading steps (Runner.apply_zones
    → CameraPipeline.use_zones), not only its rules."""
    parcel = next(p for p in scene.truth.parcels if p.label_readable)
    index = scene.shown[parcel.id]
    x1, y1, x2, y2 = parcel.label_boxes[index]
    away = [(0.0, 0.0), (20.0, 0.0), (20.0, 20.0), (0.0, 20.0)]  # a corner, no label
    label = [(x1 - 10, y1 - 10), (x2 + 10, y1 - 10), (x2 + 10, y2 + 10), (x1 - 10, y2 + 10)]
    camera = CameraConfig(source="belt.mp4", zones={"label": away})
    pipeline = CameraPipeline(
        "belt-1", camera, [BarcodeAnalyser(ReadOptions(zone="label"), zones=camera.zones)]
    )
    assert len(pipeline.process(scene.frame(index)).detections) == 0
    pipeline.use_zones({"label": label})
    read = pipeline.process(scene.frame(index)).detections
    assert read.data["barcode"].tolist() == [parcel.tracking_number]


@pytest.mark.parametrize("analyser", [BarcodeAnalyser, OcrAnalyser, TrackOcrAnalyser])
def test_every_step_that_reads_inside_a_zone_takes_edited_zones(analyser: type) -> None:
    assert issubclass(analyser, ZoneReader)
