"""The project's own detector, ``sightwire.inference.bundled.PARCELS_MODEL`` (classes
parcel and label):
it speaks the Ultralytics YOLOv8 layout and finds parcels and labels on a fresh
held-out conveyor clip (a seed, belt speed and parcel count training never saw, an
uneven lamp, motion blur and a 35 % brightness drop halfway), scored with
onnxruntime alone (see training/evaluate.py and training/README.md)."""

from __future__ import annotations

import ast
import json
from typing import Any

import numpy as np
import pytest

from sightwire.inference.bundled import PARCELS_MODEL

ort = pytest.importorskip("onnxruntime")

from training.evaluate import (  # noqa: E402
    SMOKE,
    Sample,
    evaluate_onnx,
    heldout_samples,
    letterbox,
    onnx_session,
    to_input,
)

MODEL = PARCELS_MODEL


@pytest.fixture(scope="module")
def session() -> Any:
    assert MODEL.exists(), f"{MODEL} is missing: see training/README.md"
    return onnx_session(MODEL, threads=2)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Sample]:
    return heldout_samples(SMOKE, tmp_path_factory.mktemp("parcels-heldout"))


def test_the_model_is_small_and_says_what_it_is(session: Any) -> None:
    assert MODEL.stat().st_size < 10_000_000
    meta = session.get_modelmeta().custom_metadata_map
    assert ast.literal_eval(meta["names"]) == {0: "parcel", 1: "label"}
    assert meta["task"] == "detect"
    assert meta["license"] == "Apache-2.0"
    height, width = json.loads(meta["imgsz"])
    (image,) = session.get_inputs()
    assert image.name == "images"
    assert image.shape[1:] == [3, height, width]
    assert not isinstance(image.shape[0], int), "the batch axis must be dynamic"


def test_the_output_is_yolov8_layout(session: Any) -> None:
    height, width = json.loads(session.get_modelmeta().custom_metadata_map["imgsz"])
    blank = np.full((720, 1280, 3), 90, np.uint8)
    canvas, _, _ = letterbox(blank, (height, width))
    (out,) = session.run(None, {"images": to_input([canvas, canvas])})
    cells = (height // 8) * (width // 8) + (height // 16) * (width // 16)
    assert out.shape == (2, 4 + 2, cells)
    assert out[:, 4:].min() >= 0.0 and out[:, 4:].max() <= 1.0, "scores are sigmoid outputs"
    assert out[:, 4:].max() < 0.25, "nothing to find on a plain grey frame"


def test_map50_on_a_fresh_heldout_clip(samples: list[Sample]) -> None:
    assert len(samples) == 100
    assert any(s.ignored.any() for s in samples), "parcels entering and leaving are included"
    result = evaluate_onnx(MODEL, samples, threads=2)
    assert result["objects"]["parcel"] >= 100 and result["objects"]["label"] >= 100
    assert result["map50"] >= 0.9, result
    assert min(result["ap50"].values()) >= 0.85, result
