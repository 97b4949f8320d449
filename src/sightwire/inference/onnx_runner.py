"""An ONNX Runtime session as Sightwire uses it: providers by plain names, thread
budget, a warm-up run at load, and what the model says about its input and classes.

Providers are named as users say them (``CPU``, ``CUDA``, ``TensorRT``,
``OpenVINO``, ``CoreML``, ``DirectML``, or ORT's own ``...ExecutionProvider``
names). Asked-for providers this machine lacks are skipped with one warning, and
the model runs on the CPU.

>>> runner = OnnxRunner("parcels.onnx", providers=["CUDA", "CPU"], threads=2)  # doctest: +SKIP
>>> runner.input_size, runner.input_dtype, runner.dynamic_batch  # doctest: +SKIP
((640, 640), dtype('float32'), True)
>>> outputs = runner.run(blob)  # doctest: +SKIP
"""

from __future__ import annotations

import ast
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from sightwire.inference.decoders.base import Dim, Shape
from sightwire.inference.letterbox import Size

log = logging.getLogger("sightwire.inference")

PROVIDERS: dict[str, str] = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "directml": "DmlExecutionProvider",
}
"""User-facing provider names → ONNX Runtime's."""
CPU = PROVIDERS["cpu"]
DEFAULT_INPUT_SIZE: Size = (640, 640)
"""Input size of a model whose image axes are dynamic and whose metadata is silent."""
_INPUT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}
_warned: set[tuple[str, ...]] = set()
_warned_lock = threading.Lock()


def provider_names(names: Sequence[str]) -> list[str]:
    """ORT provider names for user-facing ``names``, in order, CPU last if absent.

    >>> provider_names(["CUDA"])
    ['CUDAExecutionProvider', 'CPUExecutionProvider']
    """
    resolved: list[str] = []
    for name in names:
        full = PROVIDERS.get(name.lower(), name)
        if not full.endswith("ExecutionProvider"):
            known = ", ".join(["CPU", "CUDA", "TensorRT", "OpenVINO", "CoreML", "DirectML"])
            raise ValueError(f"unknown execution provider {name!r} (known: {known})")
        if full not in resolved:
            resolved.append(full)
    if CPU not in resolved:
        resolved.append(CPU)
    return resolved


def class_names_from_metadata(metadata: dict[str, str]) -> list[str] | None:
    """Class names from Ultralytics' ``names`` metadata, indexed by class id.

    The value is a Python literal (a dict of id → name, or a list), parsed with
    ``ast.literal_eval`` (never ``eval``); ids missing from a dict are named by number.

    >>> class_names_from_metadata({"names": "{0: 'person', 2: 'car'}"})
    ['person', '1', 'car']
    """
    raw = metadata.get("names")
    if not raw:
        return None
    try:
        names: Any = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        log.warning("model metadata 'names' is not a literal, ignored: %.80s", raw)
        return None
    if isinstance(names, list):
        return [str(n) for n in names]
    if isinstance(names, dict) and all(isinstance(k, int) and k >= 0 for k in names):
        return [str(names.get(i, i)) for i in range(max(names) + 1)] if names else []
    log.warning("model metadata 'names' is neither a list nor an id dict, ignored")
    return None


class OnnxRunner:
    """One loaded ONNX model, ready to run batches of input blobs."""

    def __init__(
        self,
        path: str | Path,
        *,
        providers: Sequence[str] = ("CPU",),
        threads: int | None = None,
        inter_op_threads: int | None = None,
        input_size: Size | None = None,
        warm_up: bool = True,
    ) -> None:
        """Load ``path`` on the first available of ``providers``.

        ``threads`` is ONNX Runtime's intra-op thread count (None: one per core),
        ``inter_op_threads`` its inter-op count; ``input_size`` (height, width) is
        needed only for models whose image axes are dynamic and whose metadata has
        no ``imgsz``.
        """
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"model file {self.path} does not exist")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads is not None:
            options.intra_op_num_threads = threads
        if inter_op_threads is not None:
            options.inter_op_num_threads = inter_op_threads
        wanted = provider_names(providers)
        self.session = ort.InferenceSession(
            str(self.path), sess_options=options, providers=_available(wanted)
        )
        self.providers: list[str] = list(self.session.get_providers())
        _warn_missing(self.path, wanted, self.providers)
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        self._read_input(input_size)
        self.output_shapes: tuple[Shape, ...] = tuple(
            tuple(_dim(d) for d in output.shape) for output in self.session.get_outputs()
        )
        if warm_up:
            outputs = self.run(
                np.zeros((self.batch_size or 1, 3, *self.input_size), self.input_dtype)
            )
            self.output_shapes = _observed(self.output_shapes, outputs)

    def _read_input(self, input_size: Size | None) -> None:
        first = self.session.get_inputs()[0]
        self.input_name: str = first.name
        shape = [_dim(d) for d in first.shape]
        if len(shape) != 4:
            raise ValueError(f"{self.path}: expected an image input [N, 3, H, W], got {shape}")
        dtype = _INPUT_TYPES.get(first.type)
        if dtype is None:
            raise ValueError(f"{self.path}: input type {first.type} is not float or float16")
        self.input_dtype: np.dtype[Any] = np.dtype(dtype)
        batch, channels, height, width = shape
        if isinstance(channels, int) and channels != 3:
            raise ValueError(f"{self.path}: expected 3 colour channels, the input is {shape}")
        self.batch_size: int | None = batch if isinstance(batch, int) else None
        if isinstance(height, int) and isinstance(width, int):
            self.input_size: Size = (height, width)
        else:
            self.input_size = input_size or _metadata_size(self.metadata) or DEFAULT_INPUT_SIZE

    @property
    def dynamic_batch(self) -> bool:
        """True when one run may take any number of images."""
        return self.batch_size is None

    @property
    def class_names(self) -> list[str] | None:
        """Class names the model carries in its metadata, or None."""
        return class_names_from_metadata(self.metadata)

    @property
    def task(self) -> str | None:
        """The task the metadata declares (Ultralytics: detect, segment, classify...)."""
        return self.metadata.get("task")

    @property
    def end_to_end(self) -> bool:
        """True when the metadata declares the outputs final (no NMS needed)."""
        return self.metadata.get("end2end", "").lower() == "true"

    def run(self, blob: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
        """Every output of one session run on ``blob`` (N, 3, H, W)."""
        feed = blob if blob.dtype == self.input_dtype else blob.astype(self.input_dtype)
        outputs: list[npt.NDArray[Any]] = self.session.run(None, {self.input_name: feed})
        return outputs


def _observed(declared: tuple[Shape, ...], outputs: list[npt.NDArray[Any]]) -> tuple[Shape, ...]:
    """Declared output shapes with symbolic dims (other than the batch axis) replaced
    by the sizes a real run produced. Exporters often leave e.g. ``[batch,
    'Transpose_dim_1', 1200]``; the decoders need the channel count to pick a layout.
    """
    return tuple(
        tuple(
            d if isinstance(d, int) or axis == 0 else int(out.shape[axis])
            for axis, d in enumerate(shape)
        )
        if len(shape) == out.ndim
        else shape
        for shape, out in zip(declared, outputs, strict=True)
    )


def _available(wanted: list[str]) -> list[str]:
    present = set(ort.get_available_providers())
    return [name for name in wanted if name in present] or [CPU]


def _warn_missing(path: Path, wanted: list[str], active: list[str]) -> None:
    """One warning per process for each set of asked-for providers that is not active."""
    missing = tuple(name for name in wanted if name not in active)
    if not missing:
        return
    with _warned_lock:
        if missing in _warned:
            return
        _warned.add(missing)
    log.warning(
        "execution provider %s not available here; %s runs on %s",
        ", ".join(missing),
        path.name,
        ", ".join(active),
    )


def _metadata_size(metadata: dict[str, str]) -> Size | None:
    try:
        size = ast.literal_eval(metadata.get("imgsz", ""))
    except (ValueError, SyntaxError):
        return None
    if isinstance(size, list | tuple) and len(size) == 2 and all(isinstance(v, int) for v in size):
        return (size[0], size[1])
    if isinstance(size, int):
        return (size, size)
    return None


def _dim(value: Any) -> Dim:
    return value if isinstance(value, int | str) else None
