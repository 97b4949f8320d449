"""Tiny ONNX models, made in the test, whose outputs are known tensors in each layout.

Each output is ``base + brightness * shift``: ``brightness`` is the mean of the input
image (0..1), so images of different brightness give different, predictable
outputs, and a batched run can be checked image by image.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from sightwire.inference.letterbox import Letterbox

Array = npt.NDArray[np.float32]


def fixed_output_model(
    path: Path,
    outputs: Sequence[Array],
    *,
    shifts: Sequence[Array | None] | None = None,
    input_size: tuple[int | str, int | str] = (64, 64),
    batch: int | str = "batch",
    half: bool = False,
    channels: int = 3,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write a model with input ``images`` [batch, 3, H, W] whose outputs are
    ``outputs[k] + mean(image) * shifts[k]`` (each given without the batch axis)."""
    elem = TensorProto.FLOAT16 if half else TensorProto.FLOAT
    images = helper.make_tensor_value_info("images", elem, [batch, channels, *input_size])
    nodes = [helper.make_node("ReduceMean", ["images"], ["mean_in"], axes=[1, 2, 3], keepdims=1)]
    nodes.append(
        helper.make_node("Cast", ["mean_in"], ["mean"], to=TensorProto.FLOAT)
        if half
        else helper.make_node("Identity", ["mean_in"], ["mean"])
    )
    initializers, graph_outputs = [], []
    for k, base in enumerate(outputs):
        shift = None if shifts is None else shifts[k]
        shift = np.zeros_like(base) if shift is None else shift
        rank = base.ndim + 1
        initializers += [
            numpy_helper.from_array(base[None].astype(np.float32), f"base{k}"),
            numpy_helper.from_array(shift[None].astype(np.float32), f"shift{k}"),
            numpy_helper.from_array(np.array([-1] + [1] * (rank - 1), np.int64), f"rank{k}"),
        ]
        nodes += [
            helper.make_node("Reshape", ["mean", f"rank{k}"], [f"m{k}"]),
            helper.make_node("Mul", [f"m{k}", f"shift{k}"], [f"moved{k}"]),
            helper.make_node("Add", [f"base{k}", f"moved{k}"], [f"output{k}"]),
        ]
        dims: list[int | str] = [batch, *base.shape]
        graph_outputs.append(helper.make_tensor_value_info(f"output{k}", TensorProto.FLOAT, dims))
    graph = helper.make_graph(nodes, "fixed", [images], graph_outputs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def anchor_count(height: int, width: int) -> int:
    """Boxes of a YOLOv8 head (strides 8, 16, 32) at this input size."""
    return sum(-(-height // s) * -(-width // s) for s in (8, 16, 32))


def v8_tensor(
    frame_boxes: Array,
    classes: Sequence[int],
    scores: Sequence[float],
    class_count: int,
    placement: Letterbox,
    extra_rows: int = 0,
) -> Array:
    """A YOLOv8 [4 + C (+ extra), N] output holding ``frame_boxes`` (frame pixels)."""
    h, w = placement.input_size
    out = np.zeros((4 + class_count + extra_rows, anchor_count(h, w)), np.float32)
    boxes = placement.to_input(frame_boxes)
    for i, (box, cls, score) in enumerate(zip(boxes, classes, scores, strict=True)):
        column = 7 * i + 3  # spread over the anchors
        out[:4, column] = [
            (box[0] + box[2]) / 2,
            (box[1] + box[3]) / 2,
            box[2] - box[0],
            box[3] - box[1],
        ]
        out[4 + cls, column] = score
    return out


def v5_tensor(
    frame_boxes: Array,
    classes: Sequence[int],
    objectness: Sequence[float],
    class_count: int,
    placement: Letterbox,
) -> Array:
    """A YOLOv5 [N, 5 + C] output holding ``frame_boxes`` (class score 1)."""
    h, w = placement.input_size
    out = np.zeros((3 * anchor_count(h, w), 5 + class_count), np.float32)
    boxes = placement.to_input(frame_boxes)
    for i, (box, cls, obj) in enumerate(zip(boxes, classes, objectness, strict=True)):
        row = 11 * i + 5
        out[row, :5] = [
            (box[0] + box[2]) / 2,
            (box[1] + box[3]) / 2,
            box[2] - box[0],
            box[3] - box[1],
            obj,
        ]
        out[row, 5 + cls] = 1.0
    return out


def e2e_tensor(
    frame_boxes: Array,
    classes: Sequence[int],
    scores: Sequence[float],
    placement: Letterbox,
    rows: int = 300,
) -> Array:
    """An end-to-end [K, 6] output holding ``frame_boxes``: x1, y1, x2, y2, score, class."""
    out = np.zeros((rows, 6), np.float32)
    boxes = placement.to_input(frame_boxes)
    for i, (box, cls, score) in enumerate(zip(boxes, classes, scores, strict=True)):
        out[i] = [*box, score, cls]
    return out
