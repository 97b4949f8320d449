"""Output decoders on synthetic tensors built from known frame boxes."""

from __future__ import annotations

import numpy as np
import pytest

from sightwire.inference.decoders import (
    DecodeParams,
    OutputLayout,
    UnknownLayoutError,
    choose_decoder,
)
from sightwire.inference.decoders.classify import ClassifyDecoder
from sightwire.inference.decoders.end_to_end import EndToEndDecoder
from sightwire.inference.decoders.segment import SegmentDecoder
from sightwire.inference.decoders.yolov5 import YoloV5Decoder
from sightwire.inference.decoders.yolov8 import YoloV8Decoder
from sightwire.inference.letterbox import Letterbox
from tests.inference.onnx_layouts import e2e_tensor, v5_tensor, v8_tensor

FRAME = (720, 1280)
INPUT = (320, 320)
PLACEMENT = Letterbox.fit(FRAME, INPUT)
BOXES = np.array([[100, 200, 300, 500], [700, 100, 1000, 400], [1100, 600, 1280, 720]], np.float32)
CLASSES = [0, 2, 1]


def test_yolov8_gives_back_the_exact_frame_boxes() -> None:
    out = v8_tensor(BOXES, CLASSES, [0.9, 0.8, 0.7], 3, PLACEMENT)

    found = YoloV8Decoder(3).decode([out], PLACEMENT, DecodeParams(confidence=0.5))

    np.testing.assert_allclose(found.xyxy, BOXES, atol=1e-3)
    assert found.class_id.tolist() == CLASSES
    np.testing.assert_allclose(found.confidence, [0.9, 0.8, 0.7], atol=1e-6)


def test_yolov8_drops_boxes_below_the_confidence() -> None:
    out = v8_tensor(BOXES, CLASSES, [0.9, 0.3, 0.7], 3, PLACEMENT)

    found = YoloV8Decoder(3).decode([out], PLACEMENT, DecodeParams(confidence=0.5))

    assert found.class_id.tolist() == [0, 1]


def test_yolov5_multiplies_objectness_by_class_score() -> None:
    out = v5_tensor(BOXES, CLASSES, [0.9, 0.6, 0.3], 3, PLACEMENT)

    found = YoloV5Decoder(3).decode([out], PLACEMENT, DecodeParams(confidence=0.5))

    np.testing.assert_allclose(found.xyxy, BOXES[:2], atol=1e-3)
    np.testing.assert_allclose(found.confidence, [0.9, 0.6], atol=1e-6)
    assert found.class_id.tolist() == CLASSES[:2]


def test_end_to_end_keeps_overlapping_boxes_without_nms() -> None:
    twins = np.array([[100, 100, 300, 300], [105, 105, 305, 305]], np.float32)
    out = e2e_tensor(twins, [4, 4], [0.7, 0.9], PLACEMENT)

    found = EndToEndDecoder().decode([out], PLACEMENT, DecodeParams(confidence=0.5))

    assert len(found) == 2  # the model already decided: both stay
    np.testing.assert_allclose(found.xyxy, twins[::-1], atol=1e-3)  # best first
    assert found.class_id.tolist() == [4, 4]


def test_nms_suppresses_same_class_duplicates_and_keeps_other_classes() -> None:
    near = np.array([[100, 100, 300, 300], [104, 104, 304, 304], [104, 104, 304, 304]])
    out = v8_tensor(near.astype(np.float32), [0, 0, 1], [0.9, 0.8, 0.7], 2, PLACEMENT)

    found = YoloV8Decoder(2).decode([out], PLACEMENT, DecodeParams(confidence=0.5, iou=0.5))

    assert found.class_id.tolist() == [0, 1]
    np.testing.assert_allclose(found.confidence, [0.9, 0.7], atol=1e-6)


def test_max_detections_keeps_the_most_confident() -> None:
    out = v8_tensor(BOXES, CLASSES, [0.6, 0.9, 0.7], 3, PLACEMENT)

    found = YoloV8Decoder(3).decode([out], PLACEMENT, DecodeParams(max_detections=2))

    np.testing.assert_allclose(found.confidence, [0.9, 0.7], atol=1e-6)


def _segment_outputs() -> tuple[np.ndarray, np.ndarray]:
    """Two objects; prototype 0 is positive in the left half of the input picture,
    prototype 1 everywhere; object 0 uses prototype 0, object 1 prototype 1."""
    rows = v8_tensor(BOXES[:2], [0, 1], [0.9, 0.8], 2, PLACEMENT, extra_rows=2)
    columns = np.flatnonzero(rows[4:6].max(axis=0) > 0)
    rows[6, columns[0]] = 1.0  # coefficients of object 0: prototype 0
    rows[7, columns[1]] = 1.0  # object 1: prototype 1
    ph, pw = INPUT[0] // 4, INPUT[1] // 4
    protos = np.full((2, ph, pw), -1.0, np.float32)
    protos[0, :, : pw // 2] = 1.0
    protos[1] = 1.0
    return rows, protos


def test_segment_masks_fill_the_box_where_the_prototype_is_on() -> None:
    rows, protos = _segment_outputs()

    found = SegmentDecoder(2, 2).decode([rows, protos], PLACEMENT, DecodeParams())

    assert found.mask is not None and found.mask.shape == (2, *FRAME)
    # object 1 (prototype on everywhere): exactly its box
    expected = np.zeros(FRAME, bool)
    expected[100:400, 700:1000] = True
    np.testing.assert_array_equal(found.mask[1], expected)
    # object 0 is left of the picture's centre (x = 640): all of its box
    assert found.mask[0][200:500, 100:300].all()
    assert found.mask[0].sum() == 200 * 300


def test_segment_mask_is_cut_where_the_prototype_turns_off() -> None:
    rows, protos = _segment_outputs()
    box = np.array([[540, 200, 740, 400]], np.float32)  # across the centre line x = 640
    rows[:4, np.flatnonzero(rows[6] > 0)[0]] = _cxcywh(PLACEMENT.to_input(box)[0])

    found = SegmentDecoder(2, 2).decode([rows, protos], PLACEMENT, DecodeParams())

    mask = found.mask[found.class_id.tolist().index(0)]
    assert mask[200:400, 540:636].all() and not mask[:, 644:].any()
    assert not mask[:200].any() and not mask[400:].any()


def test_segment_accepts_prototypes_listed_first() -> None:
    rows, protos = _segment_outputs()
    layout = OutputLayout(shapes=((1, *protos.shape), (1, *rows.shape)), input_size=INPUT)
    spec, decoder = choose_decoder(layout, task="segment")

    found = decoder.decode([protos, rows], PLACEMENT, DecodeParams())

    assert spec.name == "yolov8-seg"
    np.testing.assert_allclose(found.xyxy, BOXES[:2], atol=1e-3)


def _cxcywh(box: np.ndarray) -> list[float]:
    return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1]]


def test_classify_gives_top_k_whole_frame_rows_best_first() -> None:
    scores = np.array([0.05, 0.6, 0.1, 0.25], np.float32)

    found = ClassifyDecoder().decode([scores], PLACEMENT, DecodeParams(confidence=0.08, top_k=3))

    assert found.class_id.tolist() == [1, 3, 2]
    np.testing.assert_allclose(found.xyxy, [[0, 0, 1280, 720]] * 3)


def test_classify_turns_logits_into_probabilities() -> None:
    logits = np.array([2.0, -1.0, 0.5], np.float32)

    found = ClassifyDecoder().decode([logits], PLACEMENT, DecodeParams(confidence=0.0))

    expected = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(found.confidence, np.sort(expected)[::-1], rtol=1e-5)


@pytest.mark.parametrize(
    ("shapes", "size", "classes", "expected"),
    [
        (((1, 6, 8400),), (640, 640), 2, "yolov8"),  # Ultralytics v8, two classes
        (((1, 84, 8400),), (640, 640), None, "yolov8"),
        ((("batch", 84, "anchors"),), None, 80, "yolov8"),  # dynamic export
        (((1, 25200, 85),), (640, 640), 80, "yolov5"),
        (((1, 25200, 6),), (640, 640), 1, "yolov5"),  # one class: 6 columns, not end-to-end
        (((1, 300, 6),), (640, 640), 80, "end2end"),
        (((1, 300, 6),), (640, 640), 1, "end2end"),
        (((1, 116, 8400), (1, 32, 160, 160)), (640, 640), 80, "yolov8-seg"),
        (((1, 1000),), (224, 224), None, "classify"),
        ((("batch", 6, 1),), (64, 64), 2, "yolov8"),  # the registry tests' tiny model
    ],
)
def test_layout_is_chosen_from_the_output_shapes(
    shapes: tuple, size: tuple[int, int] | None, classes: int | None, expected: str
) -> None:
    layout = OutputLayout(shapes=shapes, input_size=size, class_count=classes)

    spec, _ = choose_decoder(layout)

    assert spec.name == expected


def test_declared_end_to_end_wins() -> None:
    layout = OutputLayout(shapes=((1, 25200, 6),), input_size=(640, 640), end_to_end=True)

    assert choose_decoder(layout)[0].name == "end2end"


@pytest.mark.parametrize("shapes", [((1, 3, 7, 7),), ((1, 4, 100),), ((1, 2, 3), (1, 4, 5))])
def test_unknown_layouts_are_refused_with_their_shapes(shapes: tuple) -> None:
    layout = OutputLayout(shapes=shapes, input_size=(640, 640))

    with pytest.raises(UnknownLayoutError) as error:
        choose_decoder(layout)

    assert layout.describe() in str(error.value)
    assert str(list(shapes[0])).replace(" ", "") in str(error.value).replace(" ", "")


def test_a_layout_of_another_task_is_refused_by_name() -> None:
    layout = OutputLayout(shapes=((1, 84, 8400),), input_size=(640, 640))

    with pytest.raises(UnknownLayoutError, match=r"\[1, 84, 8400\].*not look like a segment"):
        choose_decoder(layout, task="segment")


def test_ambiguous_layouts_ask_for_a_layout_name() -> None:
    layout = OutputLayout(shapes=((1, "n", 6),), input_size=None, class_count=None)

    with pytest.raises(UnknownLayoutError, match="several layouts"):
        choose_decoder(layout)
    assert choose_decoder(layout, name="end2end")[0].name == "end2end"


def test_a_forced_layout_must_fit() -> None:
    layout = OutputLayout(shapes=((1, 84, 8400),), input_size=(640, 640))

    with pytest.raises(UnknownLayoutError, match="not a classify layout"):
        choose_decoder(layout, name="classify")
    with pytest.raises(UnknownLayoutError, match="unknown layout 'yolov99'"):
        choose_decoder(layout, name="yolov99")
