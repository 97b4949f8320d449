"""Tiny ONNX models made in the test, so registry tests need no model download."""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper


def tiny_detector(
    path: Path,
    *,
    tag: str,
    names: str = "{0: 'parcel', 1: 'label'}",
    channels: int | str = 6,
) -> Path:
    """A model with a YOLOv8-style signature: images [N,3,64,64] → [N,6,1] (a mean).

    ``channels`` may be a name, declaring the output's second axis symbolic, as some
    exporters leave it.
    """
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, 64, 64])
    output = helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", channels, 1])
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["images"], ["pooled"], axes=[2, 3], keepdims=0),
            helper.make_node("Concat", ["pooled", "pooled"], ["six"], axis=1),
            # A reshape to a shape computed at run time: [N, -1, 1]. Only a real run
            # tells the size of the middle axis, as with some exporters' outputs.
            helper.make_node("Shape", ["six"], ["six_shape"], start=0, end=1),
            helper.make_node("Concat", ["six_shape", "rest"], ["target"], axis=0),
            helper.make_node("Reshape", ["six", "target"], ["output0"]),
        ],
        "tiny",
        [images],
        [output],
        initializer=[helper.make_tensor("rest", TensorProto.INT64, [2], [-1, 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    model.ir_version = 8
    for key, value in {"names": names, "task": "detect", "tag": tag}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path
