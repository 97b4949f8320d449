"""Tiny ONNX models made in the test, so registry tests need no model download."""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper


def tiny_detector(path: Path, *, tag: str, names: str = "{0: 'parcel', 1: 'label'}") -> Path:
    """A model with a YOLOv8-style signature: images [N,3,64,64] → [N,6,1] (a mean)."""
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, 64, 64])
    output = helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", 6, 1])
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["images"], ["pooled"], axes=[2, 3], keepdims=0),
            helper.make_node("Concat", ["pooled", "pooled"], ["six"], axis=1),
            helper.make_node("Unsqueeze", ["six", "axis"], ["output0"]),
        ],
        "tiny",
        [images],
        [output],
        initializer=[helper.make_tensor("axis", TensorProto.INT64, [1], [2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    for key, value in {"names": names, "task": "detect", "tag": tag}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path
