"""OCR on the synthetic conveyor (the tracking number printed under each barcode), and
the pattern matching with OCR's letter/digit confusions."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sightwire.config.models import ReadOptions
from sightwire.core import Detections
from sightwire.inference.ocr import CROP_LIMIT, OcrAnalyser, TextLine, ocr_engine
from sightwire.inference.readings import PatternMatcher

from .test_barcode import PATTERN, Scene, conveyor_scene, parcels_in

pytest.importorskip("rapidocr")


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    return conveyor_scene(tmp_path_factory)


@pytest.fixture(scope="module")
def reader() -> OcrAnalyser:
    return OcrAnalyser(ReadOptions(within="parcel", pattern=PATTERN))


def test_reads_each_tracking_number_within_its_parcel(scene: Scene, reader: OcrAnalyser) -> None:
    timings = []
    for parcel_id, index in scene.shown.items():
        parcel = scene.parcel(parcel_id)
        present = [p for p in scene.truth.parcels if index in p.boxes]
        started = time.perf_counter()
        found = reader.analyse(scene.frame(index), parcels_in(scene, index))
        timings.append((time.perf_counter() - started) * 1000 / len(present))
        row = present.index(parcel)
        text, confidence = found.data["text"][row], found.data["text_confidence"][row]
        if not parcel.label_readable:
            assert (text, confidence) == ("", 0.0)
            continue
        assert text == parcel.tracking_number
        assert 0.8 < confidence <= 1.0
        person = found.data["class_name"].tolist().index("person")
        assert found.data["text"][person] == ""  # not a parcel: not read
    assert reader.stats.reads >= len(scene.shown)
    print(f"OCR: {np.mean(timings):.0f} ms per parcel crop (mean of {len(timings)} frames)")


def test_a_reading_that_does_not_match_the_pattern_is_dropped(scene: Scene) -> None:
    parcel = next(p for p in scene.truth.parcels if p.label_readable)
    index = scene.shown[parcel.id]
    present = [p for p in scene.truth.parcels if index in p.boxes]
    strict = OcrAnalyser(ReadOptions(within="parcel", pattern=r"^1Z\d{16}$"))
    found = strict.analyse(scene.frame(index), parcels_in(scene, index))
    assert set(found.data["text"]) == {""}
    free = OcrAnalyser(ReadOptions(within="parcel"))
    found = free.analyse(scene.frame(index), parcels_in(scene, index))
    text = found.data["text"][present.index(parcel)]
    assert parcel.tracking_number in text.replace(" ", "")


def test_zone_only_reading_adds_text_objects_where_the_labels_are(scene: Scene) -> None:
    reader = OcrAnalyser(ReadOptions(zone="belt", pattern=PATTERN), zones={"belt": scene.belt})
    parcel = next(p for p in scene.truth.parcels if p.label_readable)
    index = scene.shown[parcel.id]
    found = reader.analyse(scene.frame(index), Detections.empty())
    assert set(found.data["class_name"]) == {"text"} and (found.class_id == -1).all()
    texts = list(found.data["text"])
    assert parcel.tracking_number in texts
    box = found.xyxy[texts.index(parcel.tracking_number)]
    x1, y1, x2, y2 = parcel.label_boxes[index]
    assert x1 - 4 <= box[0] < box[2] <= x2 + 4 and y1 + (y2 - y1) / 2 <= box[1] < box[3] <= y2 + 4
    assert (found.data["text_confidence"] > 0.8).all()


def test_the_engine_is_tuned_for_speed_and_shared() -> None:
    engine = ocr_engine(CROP_LIMIT)
    assert engine is ocr_engine(CROP_LIMIT)  # loaded once
    assert str(engine.cfg.Det.limit_type) == "max" and engine.cfg.Det.limit_side_len == 640
    assert not engine.cfg.Global.use_cls
    assert OcrAnalyser(ReadOptions(zone=None)).engine.cfg.Det.limit_side_len == 960


def lines(*texts: str) -> list[TextLine]:
    quads = [
        np.array([[0, 20 * i], [100, 20 * i], [100, 20 * i + 15], [0, 20 * i + 15]], np.float32)
        for i in range(len(texts))
    ]
    return [TextLine(t, 0.9, q) for t, q in zip(texts, quads, strict=True)]


def test_choosing_text_from_lines() -> None:
    tracking = OcrAnalyser(ReadOptions(pattern=PATTERN))
    chosen = tracking.choose(lines("SHIP TO", "1Z 4WSJLB 0018695697"))
    assert chosen is not None and chosen.text == "1Z4WSJLB0018695697"
    assert chosen.box.tolist() == [0, 20, 100, 35]  # the line it came from
    split = tracking.choose(lines("1Z4WSJLB", "0018695697"))  # wrapped over two lines
    assert split is not None and split.text == "1Z4WSJLB0018695697"
    assert split.box.tolist() == [0, 0, 100, 35]
    assert tracking.choose(lines("1Z3DG", "46421")) is None  # a smudged label
    everything = OcrAnalyser(ReadOptions()).choose(lines("FRAGILE", "this side up"))
    assert everything is not None and everything.text == "FRAGILE this side up"


@pytest.mark.parametrize(
    ("pattern", "reading", "expected"),
    [
        # the pattern demands digits: letters OCR mistakes for digits are read as digits
        (r"1Z[0-9A-Z]{6}\d{10}", "IZ4WSJLB OO1869S697", None),  # space: no match
        (r"1Z[0-9A-Z]{6}\d{10}", "IZ4WSJLBOO1869S697", "1Z4WSJLB0018695697"),
        (r"[0-9]{4}-[0-9]{2}", "2O24-I2", "2024-12"),
        # where letters are allowed too, nothing is changed
        (r"1Z[0-9A-Z]{16}", "1ZY0BEQO8544651779", "1ZY0BEQO8544651779"),
        (r"1Z[0-9A-Z]{16}", "IZY0BEQO8544651779", "1ZY0BEQO8544651779"),  # literal 1 only
        (r"[A-Z]{3}\d{3}", "OIS015", "OIS015"),
        (r"[A-Z]{3}\d{3}", "OISOIS", "OIS015"),
        # quantifier numbers are not digits to fix; anchors still hold
        (r"^\d{2}$", "1O", "10"),
        (r"^\d{2}$", "x1O", None),
        (r"(?P<n1>\d)X", "IX", "1X"),
    ],
)
def test_pattern_fixes_confusions_only_where_digits_are_demanded(
    pattern: str, reading: str, expected: str | None
) -> None:
    assert PatternMatcher(pattern, fix_confusions=True).find(reading) == expected


def test_barcode_style_matching_never_fixes() -> None:
    assert PatternMatcher(r"\d{4}").find("2O24") is None
    assert PatternMatcher(r"\d{4}").find("order 2024 x") == "2024"
    assert PatternMatcher(None).find("anything") == "anything"
