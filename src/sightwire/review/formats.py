"""Dataset layouts: YOLO (one label file per image) and COCO (one annotations.json).

YOLO::

    DIR/images/ID.jpg
    DIR/labels/ID.txt       # "class cx cy w h" per box, normalised to 0..1
    DIR/data.yaml           # path, train, val, nc, names

COCO::

    DIR/images/ID.jpg
    DIR/annotations.json    # images, annotations (bbox x y w h, area, iscrowd), categories

>>> yolo_line(1, (10, 20, 30, 60), width=100, height=200)
'1 0.200000 0.200000 0.200000 0.200000'
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sightwire import __version__
from sightwire.review.labels import Box, Label

IMAGES = "images"
LABELS = "labels"
COCO_FILE = "annotations.json"
YOLO_FILE = "data.yaml"


@dataclass(frozen=True, slots=True)
class ExportedImage:
    """An image written to ``images/``, its size and its final labels (pixels)."""

    item_id: str
    file_name: str
    width: int
    height: int
    labels: list[Label]


def yolo_line(class_index: int, box: Box, width: int, height: int) -> str:
    """One YOLO label line: class, then centre x/y and width/height over the image size."""
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
    w, h = (x2 - x1) / width, (y2 - y1) / height
    return f"{class_index} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"


def write_yolo(folder: Path, images: Sequence[ExportedImage], classes: Sequence[str]) -> None:
    """Label files and ``data.yaml`` for images already in ``folder/images``."""
    index = {name: i for i, name in enumerate(classes)}
    labels = folder / LABELS
    labels.mkdir(parents=True, exist_ok=True)
    for image in images:
        lines = [
            yolo_line(index[label.class_name], label.box, image.width, image.height)
            for label in image.labels
        ]
        # an empty file is YOLO's "background image": reviewed, and nothing is there
        text = "\n".join(lines) + ("\n" if lines else "")
        (labels / f"{Path(image.file_name).stem}.txt").write_text(text, encoding="utf-8")
    data = {
        "path": str(folder.resolve()),
        "train": IMAGES,
        "val": IMAGES,
        "nc": len(classes),
        "names": list(classes),
    }
    (folder / YOLO_FILE).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def coco_document(images: Sequence[ExportedImage], classes: Sequence[str]) -> dict[str, Any]:
    """The COCO detection document; category ids start at 1, as in COCO itself."""
    category = {name: i + 1 for i, name in enumerate(classes)}
    coco_images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image_id, image in enumerate(images, start=1):
        coco_images.append(
            {
                "id": image_id,
                "file_name": image.file_name,
                "width": image.width,
                "height": image.height,
                "sightwire_item": image.item_id,
            }
        )
        for label in image.labels:
            x1, y1, x2, y2 = label.box
            w, h = x2 - x1, y2 - y1
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": category[label.class_name],
                    "bbox": [round(v, 2) for v in (x1, y1, w, h)],
                    "area": round(w * h, 2),
                    "iscrowd": 0,
                    "segmentation": [],
                }
            )
    return {
        "info": {
            "description": "Reviewed Sightwire images",
            "version": __version__,
            "date_created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        "licenses": [],
        "images": coco_images,
        "annotations": annotations,
        "categories": [
            {"id": i, "name": name, "supercategory": "object"} for name, i in category.items()
        ],
    }


def write_coco(folder: Path, images: Sequence[ExportedImage], classes: Sequence[str]) -> None:
    """``annotations.json`` for images already in ``folder/images``."""
    document = coco_document(images, classes)
    (folder / COCO_FILE).write_text(json.dumps(document, indent=1), encoding="utf-8")
