"""OnnxDetector on tiny ONNX models made in the test, one per output layout."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sightwire.config.models import ModelConfig
from sightwire.core import Detections, Frame
from sightwire.inference import onnx_runner
from sightwire.inference.decoders import UnknownLayoutError
from sightwire.inference.detector import DetectAnalyser, OnnxDetector
from sightwire.inference.letterbox import PAD_VALUE, Letterbox
from sightwire.inference.onnx_runner import OnnxRunner, class_names_from_metadata
from tests.inference.onnx_layouts import e2e_tensor, fixed_output_model, v5_tensor, v8_tensor

FRAME = (120, 160)  # (height, width) of the test images
INPUT = (64, 64)
PLACEMENT = Letterbox.fit(FRAME, INPUT)
BOXES = np.array([[10, 20, 50, 80], [90, 30, 150, 110]], np.float32)
NAMES = "{0: 'parcel', 1: 'label', 2: 'person'}"


def grey(level: int) -> np.ndarray:
    return np.full((*FRAME, 3), level, np.uint8)


def box0_shift(level: int) -> float:
    """How far (frame px) the moving model shifts box 0 for a ``grey(level)`` image:
    40 input px times the blob's mean, grey padding bands included."""
    picture_rows = PLACEMENT.resized_size[0]
    mean = (picture_rows * level + (INPUT[0] - picture_rows) * PAD_VALUE) / INPUT[0] / 255
    return 40 * mean / PLACEMENT.scale


def moving_v8_model(path: Path, **options: Any) -> Path:
    """YOLOv8 layout; box 0 moves right by 40 input px times the image brightness."""
    base = v8_tensor(BOXES, [0, 2], [0.9, 0.8], 3, PLACEMENT)
    shift = np.zeros_like(base)
    shift[0, np.flatnonzero(base[4] > 0)] = 40.0  # centre-x of box 0
    return fixed_output_model(path, [base], shifts=[shift], metadata={"names": NAMES}, **options)


class CountingSession:
    """An ORT session that counts its runs and the images each run took."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.batches: list[int] = []

    def run(self, names: Any, feed: dict[str, np.ndarray]) -> Any:
        self.batches.append(len(next(iter(feed.values()))))
        return self.session.run(names, feed)


def test_yolov8_model_gives_named_frame_boxes(tmp_path: Path) -> None:
    detector = OnnxDetector(moving_v8_model(tmp_path / "v8.onnx"), confidence=0.5)

    found = detector.detect([grey(0)])[0]

    assert detector.spec.name == "yolov8" and detector.input_size == INPUT
    expected = BOXES + np.array([[box0_shift(0), 0, box0_shift(0), 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(found.xyxy, expected, atol=1e-3)
    assert found.data["class_name"].tolist() == ["parcel", "person"]


def test_a_dynamic_batch_goes_through_one_session_run(tmp_path: Path) -> None:
    detector = OnnxDetector(moving_v8_model(tmp_path / "v8.onnx"), confidence=0.5)
    images = [grey(0), grey(255), grey(128)]
    singles = [detector.detect([image])[0] for image in images]
    counter = CountingSession(detector.runner.session)
    detector.runner.session = counter

    batched = detector.detect(images)

    assert detector.runner.dynamic_batch
    assert counter.batches == [3]
    for one, many in zip(singles, batched, strict=True):
        np.testing.assert_allclose(many.xyxy, one.xyxy, atol=1e-3)
        assert many.class_id.tolist() == one.class_id.tolist()
    # each image's brightness moved its box 0 by its own amount: the order is kept
    moved = [d.xyxy[0, 0] - BOXES[0, 0] for d in batched]
    np.testing.assert_allclose(moved, [box0_shift(v) for v in (0, 255, 128)], atol=0.01)


def test_max_batch_splits_long_lists(tmp_path: Path) -> None:
    detector = OnnxDetector(moving_v8_model(tmp_path / "v8.onnx"), max_batch=2)
    counter = CountingSession(detector.runner.session)
    detector.runner.session = counter

    found = detector.detect([grey(v) for v in (0, 50, 100, 150, 200)])

    assert counter.batches == [2, 2, 1] and len(found) == 5


def test_a_fixed_batch_axis_runs_image_by_image(tmp_path: Path) -> None:
    detector = OnnxDetector(moving_v8_model(tmp_path / "v8.onnx", batch=1), confidence=0.5)
    images = [grey(0), grey(255)]
    counter = CountingSession(detector.runner.session)
    detector.runner.session = counter

    found = detector.detect(images)

    assert not detector.runner.dynamic_batch
    assert counter.batches == [1, 1]
    assert found[1].xyxy[0, 0] == pytest.approx(BOXES[0, 0] + box0_shift(255), abs=0.01)


def test_half_precision_input_is_fed_float16(tmp_path: Path) -> None:
    detector = OnnxDetector(moving_v8_model(tmp_path / "half.onnx", half=True), confidence=0.5)

    found = detector.detect([grey(255)])[0]

    assert detector.runner.input_dtype == np.float16
    assert found.xyxy[0, 0] == pytest.approx(BOXES[0, 0] + box0_shift(255), abs=0.2)


def test_yolov5_model(tmp_path: Path) -> None:
    out = v5_tensor(BOXES, [1, 0], [0.9, 0.7], 3, PLACEMENT)
    detector = OnnxDetector(fixed_output_model(tmp_path / "v5.onnx", [out]), labels=["a", "b", "c"])

    found = detector.detect([grey(0)])[0]

    assert detector.spec.name == "yolov5"
    np.testing.assert_allclose(found.xyxy, BOXES, atol=1e-3)
    assert found.data["class_name"].tolist() == ["b", "a"]  # configured labels


def test_end_to_end_model(tmp_path: Path) -> None:
    out = e2e_tensor(BOXES, [2, 2], [0.9, 0.8], PLACEMENT)
    model = fixed_output_model(tmp_path / "e2e.onnx", [out], metadata={"names": NAMES})

    found = OnnxDetector(model).detect([grey(0)])[0]

    np.testing.assert_allclose(found.xyxy, BOXES, atol=1e-3)
    assert found.data["class_name"].tolist() == ["person", "person"]


def test_segment_model_gives_frame_sized_masks(tmp_path: Path) -> None:
    rows = v8_tensor(BOXES, [0, 1], [0.9, 0.8], 3, PLACEMENT, extra_rows=1)
    rows[7, np.flatnonzero(rows[4:7].max(axis=0) > 0)] = 1.0
    protos = np.ones((1, 16, 16), np.float32)
    model = fixed_output_model(tmp_path / "seg.onnx", [rows, protos], metadata={"names": NAMES})

    found = OnnxDetector(model, task="segment").detect([grey(0)])[0]

    assert found.mask is not None and found.mask.shape == (2, *FRAME)
    assert found.mask[0, 20:80, 10:50].all() and found.mask[0].sum() == 60 * 40


def test_classifier_model(tmp_path: Path) -> None:
    model = fixed_output_model(
        tmp_path / "cls.onnx",
        [np.array([0.1, 0.2, 0.7], np.float32)],
        metadata={"names": NAMES, "task": "classify"},
    )

    found = OnnxDetector(model, confidence=0.15).detect([grey(0)])[0]

    assert found.data["class_name"].tolist() == ["person", "label"]
    np.testing.assert_allclose(found.xyxy, [[0, 0, 160, 120]] * 2)


def test_unknown_layout_is_refused_at_load_with_shapes(tmp_path: Path) -> None:
    model = fixed_output_model(tmp_path / "odd.onnx", [np.zeros((3, 7, 7), np.float32)])

    with pytest.raises(UnknownLayoutError, match=r"odd\.onnx.*\[batch, 3, 7, 7\]"):
        OnnxDetector(model)


def test_task_mismatch_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnknownLayoutError, match="not look like a segment model"):
        OnnxDetector(moving_v8_model(tmp_path / "v8.onnx"), task="segment")


def test_missing_provider_warns_once_and_runs_on_cpu(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onnx_runner, "_warned", set())
    model = moving_v8_model(tmp_path / "v8.onnx")

    with caplog.at_level(logging.WARNING, logger="sightwire.inference"):
        first = OnnxDetector(model, providers=["CUDA"], confidence=0.5)
        OnnxDetector(model, providers=["cuda", "CPU"])

    warnings = [r for r in caplog.records if "CUDAExecutionProvider" in r.getMessage()]
    assert len(warnings) == 1
    assert "not available" in warnings[0].getMessage()
    assert first.runner.providers == ["CPUExecutionProvider"]
    assert len(first.detect([grey(0)])[0]) == 2


def test_unknown_provider_name_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown execution provider 'Vulkan'"):
        OnnxRunner(moving_v8_model(tmp_path / "v8.onnx"), providers=["Vulkan"])


def test_a_model_without_three_colour_channels_is_refused(tmp_path: Path) -> None:
    base = v8_tensor(BOXES, [0, 2], [0.9, 0.8], 3, PLACEMENT)
    model = fixed_output_model(tmp_path / "grey.onnx", [base], channels=1)

    with pytest.raises(ValueError, match="expected 3 colour channels"):
        OnnxRunner(model)


def test_thread_settings_reach_the_session(tmp_path: Path) -> None:
    runner = OnnxRunner(moving_v8_model(tmp_path / "v8.onnx"), threads=1, inter_op_threads=1)

    options = runner.session.get_session_options()

    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1


def test_dynamic_image_axes_take_the_size_from_metadata(tmp_path: Path) -> None:
    base = v8_tensor(BOXES, [0, 2], [0.9, 0.8], 3, PLACEMENT)
    model = fixed_output_model(
        tmp_path / "dyn.onnx",
        [base],
        input_size=("h", "w"),
        metadata={"imgsz": "[64, 64]", "names": NAMES},
    )

    detector = OnnxDetector(model)

    assert detector.input_size == INPUT
    np.testing.assert_allclose(detector.detect([grey(0)])[0].xyxy, BOXES, atol=1e-3)


def test_class_names_are_parsed_as_literals_never_run() -> None:
    assert class_names_from_metadata({"names": "['a', 'b']"}) == ["a", "b"]
    assert class_names_from_metadata({"names": "{1: 'b', 0: 'a'}"}) == ["a", "b"]
    assert class_names_from_metadata({"names": "__import__('os').getcwd()"}) is None
    assert class_names_from_metadata({}) is None


def test_unnamed_classes_are_named_by_number(tmp_path: Path) -> None:
    base = v8_tensor(BOXES, [0, 2], [0.9, 0.8], 3, PLACEMENT)
    detector = OnnxDetector(fixed_output_model(tmp_path / "anon.onnx", [base]))

    assert detector.detect([grey(0)])[0].data["class_name"].tolist() == ["0", "2"]


def test_from_config_uses_the_model_entry(tmp_path: Path) -> None:
    config = ModelConfig(
        path=str(moving_v8_model(tmp_path / "v8.onnx")), confidence=0.85, threads=1, max_batch=2
    )

    detector = OnnxDetector.from_config(config)
    found = detector.detect([grey(0)])[0]

    assert found.data["class_name"].tolist() == ["parcel"]  # 0.8 < 0.85
    assert detector.max_batch == 2
    assert detector.runner.session.get_session_options().intra_op_num_threads == 1


def test_bad_images_are_refused_clearly(tmp_path: Path) -> None:
    detector = OnnxDetector(moving_v8_model(tmp_path / "v8.onnx"))

    with pytest.raises(ValueError, match=r"shape \(H, W, 3\), got \(120, 160\)"):
        detector.detect([np.zeros(FRAME, np.uint8)])
    with pytest.raises(ValueError, match="uint8"):
        detector.detect([np.zeros((*FRAME, 3), np.float32)])


def test_detect_analyser_filters_and_adds_to_earlier_detections(tmp_path: Path) -> None:
    detector = OnnxDetector(moving_v8_model(tmp_path / "v8.onnx"), confidence=0.5)
    frame = Frame(camera="cam", seq=0, captured_at=0.0, pts=0.0, image=grey(0))
    earlier = Detections(
        xyxy=[[0, 0, 5, 5]], confidence=[1.0], class_id=[9], data={"class_name": np.array(["cart"])}
    )

    people = DetectAnalyser(detector, classes=["person"]).analyse(frame, earlier)
    sure = DetectAnalyser(detector, confidence=0.85).analyse(frame, Detections.empty())

    assert people.data["class_name"].tolist() == ["cart", "person"]
    assert sure.data["class_name"].tolist() == ["parcel"]


def test_detect_analyser_refuses_classes_the_model_lacks(tmp_path: Path) -> None:
    detector = OnnxDetector(moving_v8_model(tmp_path / "v8.onnx"))

    with pytest.raises(ValueError, match=r"\['forklift'\] are not among.*parcel, label, person"):
        DetectAnalyser(detector, classes=["forklift", "person"])
