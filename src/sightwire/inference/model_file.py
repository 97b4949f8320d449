"""What an ONNX file says about itself: inputs, outputs, class names, task.

>>> # info = inspect_onnx("models/parcels.onnx"); info.labels
>>> # ['parcel', 'label']
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sightwire.inference.onnx_runner import class_names_from_metadata

CHUNK = 1 << 20
DEFAULT_ALIAS = "production"
"""The alias a bare model name follows."""


class RegistryError(ValueError):
    """A registry request that cannot be met; the message says why."""


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class OnnxFileInfo:
    """The facts of a model file that the registry records."""

    input_name: str
    input_shape: tuple[int | str | None, ...]
    output_shapes: list[tuple[int | str | None, ...]]
    labels: list[str] = field(default_factory=list)
    task: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def input_size(self) -> tuple[int, int] | None:
        """(height, width) of the image input when fixed."""
        h, w = self.input_shape[-2:]
        return (h, w) if isinstance(h, int) and isinstance(w, int) else None


def inspect_onnx(path: Path) -> OnnxFileInfo:
    """Read an ONNX file's inputs, outputs and metadata (no inference is run).

    Raises ValueError with a clear message for a file ONNX Runtime cannot load.
    """
    import onnxruntime as ort  # imported here: the registry CLI lists models without it

    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own exception types per failure
        raise ValueError(f"{path} is not a loadable ONNX model: {exc}") from None
    first = session.get_inputs()[0]
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    return OnnxFileInfo(
        input_name=first.name,
        input_shape=tuple(_dim(d) for d in first.shape),
        output_shapes=[tuple(_dim(d) for d in o.shape) for o in session.get_outputs()],
        labels=class_names_from_metadata(metadata) or [],
        task=metadata.get("task"),
        metadata=metadata,
    )


def _dim(value: Any) -> int | str | None:
    return value if isinstance(value, int | str) else None
