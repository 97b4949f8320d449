"""Evaluate a YOLOv8-layout detector ONNX on held-out synthetic conveyor clips (no torch).

Everything here needs only numpy, OpenCV, PyAV, onnxruntime and ``sightwire.synth``,
so the product's own environment reproduces the published metrics:

    .venv/bin/python -m training.evaluate src/sightwire/inference/data/parcels/parcels.onnx \
        --set heldout --write src/sightwire/inference/data/parcels/parcels.json

The held-out clips are written by ``write_conveyor`` (so they go through H.264 like a
real camera file) with seeds, belt speeds and parcel counts never used in training,
with the lamp (``lighting="uneven"``) and motion blur, then decoded and multiplied
frame by frame by a brightness gain (a step or a ramp: lights switched, daylight),
which the clip writer itself has no knob for.

Metric: per-class average precision at IoU 0.5, all-point interpolated (VOC 2010+):
detections of all frames sorted by score, each matched to the unmatched true box it
overlaps most (IoU >= 0.5) as a true positive, else a false positive, except that a
detection on an *ignored* object (less than 20 % in view, see ``training.scenes``) is
left out, as COCO does with its ignore flag. mAP@0.5 is the mean over both classes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from training.scenes import CLASSES, Sample, objects_in_frame

FloatArray = npt.NDArray[np.float32]
PAD_VALUE = 114


# ----------------------------------------------------------------------------- held-out sets
@dataclass(frozen=True)
class ClipSpec:
    """A held-out clip: ``write_conveyor`` options, a brightness gain schedule, and
    which frames to score (every ``every``-th)."""

    name: str
    options: dict[str, Any]
    gain: tuple[str, float, float, float, float] = ("const", 1.0, 1.0, 0.0, 1.0)
    """(kind, gain_before, gain_after, start, end): kind "const", "step" (at ``start``)
    or "ramp" (``start`` → ``end``); times as shares of the clip."""
    every: int = 4

    def gain_at(self, frame: int, frames: int) -> float:
        kind, before, after, start, end = self.gain
        t = frame / max(frames - 1, 1)
        if kind == "const":
            return before
        if kind == "step":
            return before if t < start else after
        if t <= start:
            return before
        if t >= end:
            return after
        return before + (after - before) * (t - start) / (end - start)


# Training never uses these seeds (it uses 1000-1499, see training.train.SEED_BASE), nor
# these belt speeds (it uses 240/300/360/420/520/600 px/s) nor parcel counts (0-4, 6, 8).
HELDOUT: tuple[ClipSpec, ...] = (
    ClipSpec(
        "uneven-blur0.6-330pxs-step0.6",
        {
            "seed": 90001,
            "parcels": 5,
            "belt_speed_px_s": 330,
            "seconds": 22,
            "lighting": "uneven",
            "motion_blur": 0.6,
            "noise": 2.0,
        },
        ("step", 1.0, 0.6, 0.4, 0.4),
    ),
    ClipSpec(
        "uneven-blur0.3-450pxs-ramp1.4",
        {
            "seed": 90002,
            "parcels": 7,
            "belt_speed_px_s": 450,
            "seconds": 20,
            "lighting": "uneven",
            "motion_blur": 0.3,
            "noise": 1.5,
        },
        ("ramp", 1.0, 1.4, 0.3, 0.7),
    ),
    ClipSpec(
        "even-blur0.8-560pxs-gain0.65",
        {
            "seed": 90003,
            "parcels": 5,
            "belt_speed_px_s": 560,
            "seconds": 14,
            "lighting": "even",
            "motion_blur": 0.8,
            "noise": 2.5,
        },
        ("const", 0.65, 0.65, 0.0, 1.0),
    ),
    ClipSpec(
        "even-sharp-330pxs-step1.35",
        {
            "seed": 90004,
            "parcels": 7,
            "belt_speed_px_s": 330,
            "seconds": 30,
            "lighting": "even",
            "motion_blur": 0.0,
            "noise": 1.5,
        },
        ("step", 1.0, 1.35, 0.5, 0.5),
    ),
    ClipSpec(
        "uneven-blur0.5-450pxs-1.7mmpp-ramp",
        {
            "seed": 90005,
            "parcels": 5,
            "belt_speed_px_s": 450,
            "seconds": 16,
            "lighting": "uneven",
            "motion_blur": 0.5,
            "noise": 3.0,
            "mm_per_pixel": 1.7,
        },
        ("ramp", 0.7, 1.2, 0.0, 1.0),
    ),
)
"""The published held-out set: 5 clips, every 4th frame (about 640 frames)."""

SMOKE: tuple[ClipSpec, ...] = (
    ClipSpec(
        "smoke-uneven-blur0.5-560pxs-step0.65",
        {
            "seed": 77001,
            "parcels": 5,
            "belt_speed_px_s": 560,
            "seconds": 8,
            "lighting": "uneven",
            "motion_blur": 0.5,
            "noise": 2.0,
        },
        ("step", 1.0, 0.65, 0.5, 0.5),
        every=2,
    ),
)
"""A small held-out set for the test suite: one 8 s clip, every 2nd frame (100 frames)."""

SETS = {"heldout": HELDOUT, "smoke": SMOKE}
DESCRIPTIONS = {
    "heldout": "5 clips written by write_conveyor (H.264, 1280x720, 25 fps) with seeds "
    "(90001-90005), belt speeds (330/450/560 px/s) and parcel counts (5, 7) never used in "
    "training; uneven lamp in 3, motion blur 0.3-0.8 in 4, noise 1.5-3, one at 1.7 mm/px; "
    "decoded frames multiplied by a brightness gain (step to 0.6, ramp to 1.4, constant "
    "0.65, step to 1.35, ramp 0.7-1.2); every 4th frame scored; objects less than 20 % in "
    "view ignored",
    "smoke": "1 clip written by write_conveyor (8 s, seed 77001, 560 px/s, 5 parcels, "
    "uneven lamp, motion blur 0.5, noise 2, brightness step to 0.65 halfway); every 2nd "
    "frame (100 frames); objects less than 20 % in view ignored",
}


def write_clips(specs: Sequence[ClipSpec], folder: str | Path) -> list[Path]:
    """Write each clip (MP4 + ground truth JSON) under ``folder``, reusing ones there."""
    from sightwire.synth import GroundTruth, write_conveyor

    paths = []
    for spec in specs:
        path = Path(folder) / f"{spec.name}.mp4"
        if not (path.exists() and GroundTruth.path_for(path).exists()):
            write_conveyor(path, **spec.options)
        paths.append(path)
    return paths


def clip_samples(spec: ClipSpec, path: str | Path) -> Iterator[Sample]:
    """Decode the scored frames of a written clip, with its gain applied, and their boxes."""
    import av

    from sightwire.synth import GroundTruth

    truth = GroundTruth.load(path)
    frames = truth.scene.frames
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % spec.every:
                continue
            image = frame.to_ndarray(format="bgr24")
            gain = spec.gain_at(index, frames)
            if gain != 1.0:
                image = cv2.convertScaleAbs(image, alpha=gain)
            yield objects_in_frame(image, truth.parcels, index)


def heldout_samples(specs: Sequence[ClipSpec], folder: str | Path) -> list[Sample]:
    """All scored frames of ``specs`` (clips written under ``folder`` if missing)."""
    samples: list[Sample] = []
    for spec, path in zip(specs, write_clips(specs, folder), strict=True):
        samples.extend(clip_samples(spec, path))
    return samples


# ----------------------------------------------------------------- pre- and post-processing
def letterbox(
    image: npt.NDArray[np.uint8], size: tuple[int, int], interpolation: int = cv2.INTER_LINEAR
) -> tuple[npt.NDArray[np.uint8], float, tuple[int, int]]:
    """Resize ``image`` to fit ``size`` (H, W) keeping its aspect, centred on a grey
    (114) canvas, as Ultralytics does. Returns the canvas, the scale and (left, top)."""
    height, width = image.shape[:2]
    out_h, out_w = size
    ratio = min(out_h / height, out_w / width)
    new_w, new_h = round(width * ratio), round(height * ratio)
    left, top = round((out_w - new_w) / 2 - 0.1), round((out_h - new_h) / 2 - 0.1)
    canvas = np.full((out_h, out_w, 3), PAD_VALUE, np.uint8)
    resized = (
        image
        if (new_w, new_h) == (width, height)
        else cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    )
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas, ratio, (left, top)


def to_input(canvases: Sequence[npt.NDArray[np.uint8]]) -> FloatArray:
    """BGR uint8 canvases → the model's input [B, 3, H, W], RGB, 0..1, float32."""
    batch = np.stack([c[:, :, ::-1] for c in canvases]).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(batch, dtype=np.float32) / np.float32(255.0)


def iou_matrix(a: FloatArray, b: FloatArray) -> FloatArray:
    """IoU of every box of ``a`` [n, 4] with every box of ``b`` [m, 4] (x1, y1, x2, y2)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).clip(0).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).clip(0).prod(-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.asarray(inter / np.maximum(union, 1e-9), np.float32)


def nms(
    boxes: FloatArray, scores: FloatArray, threshold: float, limit: int | None = None
) -> npt.NDArray[np.int64]:
    """Indices of the boxes greedy non-maximum suppression keeps, best first (at most
    ``limit``)."""
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = (np.ascontiguousarray(boxes[order, i]) for i in range(4))
    areas = (x2 - x1).clip(0) * (y2 - y1).clip(0)
    rest = np.arange(len(order))
    keep: list[int] = []
    while rest.size and (limit is None or len(keep) < limit):
        i, rest = rest[0], rest[1:]
        keep.append(int(order[i]))
        w = (np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest])).clip(0)
        h = (np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest])).clip(0)
        inter = w * h
        rest = rest[inter <= threshold * np.maximum(areas[i] + areas[rest] - inter, 1e-9)]
    return np.asarray(keep, np.int64)


@dataclass
class Detections:
    boxes: FloatArray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    scores: FloatArray = field(default_factory=lambda: np.zeros(0, np.float32))
    classes: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))


def decode_yolov8(
    output: FloatArray,
    *,
    conf: float = 0.001,
    iou: float = 0.6,
    max_det: int = 100,
    multi_label: bool = True,
    max_candidates: int = 1000,
) -> Detections:
    """One image's YOLOv8 detection output [4 + C, N] (cx, cy, w, h, class scores) →
    boxes (x1, y1, x2, y2, input pixels) after per-class NMS, best first."""
    pred = np.asarray(output, np.float32)
    xywh, scores = pred[:4].T, pred[4:].T
    xyxy = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], 1)
    if multi_label:
        rows, cls = np.nonzero(scores > conf)
        score = scores[rows, cls]
    else:
        cls = scores.argmax(1)
        score = scores[np.arange(len(scores)), cls]
        rows = np.nonzero(score > conf)[0]
        cls, score = cls[rows], score[rows]
    if rows.size == 0:
        return Detections()
    if rows.size > max_candidates:
        top = np.argsort(-score, kind="stable")[:max_candidates]
        rows, cls, score = rows[top], cls[top], score[top]
    boxes = xyxy[rows]
    # Per-class NMS in one pass: shift each class's boxes far apart.
    offset = cls[:, None].astype(np.float32) * 10_000.0
    keep = nms(boxes + offset, score, iou, max_det)
    return Detections(boxes[keep], score[keep].astype(np.float32), cls[keep].astype(np.int64))


def unletterbox(
    boxes: FloatArray, ratio: float, pad: tuple[int, int], size: tuple[int, int]
) -> FloatArray:
    """Boxes in model-input pixels → pixels of the original ``size`` (H, W) picture."""
    out = (boxes - np.array([pad[0], pad[1], pad[0], pad[1]], np.float32)) / ratio
    height, width = size
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, width)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, height)
    return np.asarray(out, np.float32)


# ---------------------------------------------------------------------------------- metric
def average_precision(recall: FloatArray, precision: FloatArray) -> float:
    """All-point interpolated AP: area under the precision envelope (VOC 2010+)."""
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[1.0], precision, [0.0]])
    p = np.flip(np.maximum.accumulate(np.flip(p)))
    changes = np.nonzero(r[1:] != r[:-1])[0]
    return float(np.sum((r[changes + 1] - r[changes]) * p[changes + 1]))


def map50(
    detections: Sequence[Detections],
    truths: Sequence[Sample],
    classes: int = len(CLASSES),
    threshold: float = 0.5,
) -> dict[str, Any]:
    """Per-class AP at IoU ``threshold`` and their mean, over matching lists of
    detections and true objects (boxes in the same pixels)."""
    per_class: dict[str, float] = {}
    counts: dict[str, int] = {}
    for c in range(classes):
        records: list[tuple[float, bool]] = []  # (score, true positive)
        positives = 0
        for det, truth in zip(detections, truths, strict=True):
            gt_boxes = truth.boxes[truth.classes == c]
            gt_ignored = truth.ignored[truth.classes == c]
            positives += int((~gt_ignored).sum())
            mine = det.classes == c
            boxes, scores = det.boxes[mine], det.scores[mine]
            order = np.argsort(-scores, kind="stable")
            used = np.zeros(len(gt_boxes), bool)
            overlaps = iou_matrix(boxes, gt_boxes) if len(gt_boxes) else None
            for i in order:
                if overlaps is None:
                    records.append((float(scores[i]), False))
                    continue
                candidates = np.where(~gt_ignored & ~used, overlaps[i], -1.0)
                best = int(np.argmax(candidates))
                if candidates[best] >= threshold:
                    used[best] = True
                    records.append((float(scores[i]), True))
                elif np.any(np.where(gt_ignored, overlaps[i], -1.0) >= threshold):
                    continue  # on an ignored object: neither true nor false
                else:
                    records.append((float(scores[i]), False))
        name = CLASSES[c] if c < len(CLASSES) else str(c)
        counts[name] = positives
        if positives == 0:
            per_class[name] = float("nan")
            continue
        records.sort(key=lambda r: -r[0])
        hits = np.array([r[1] for r in records], bool)
        tp = np.cumsum(hits)
        fp = np.cumsum(~hits)
        recall = tp / positives
        precision = tp / np.maximum(tp + fp, 1)
        per_class[name] = average_precision(recall.astype(np.float32), precision.astype(np.float32))
    valid = [v for v in per_class.values() if not np.isnan(v)]
    return {
        "map50": float(np.mean(valid)) if valid else float("nan"),
        "ap50": per_class,
        "objects": counts,
    }


# --------------------------------------------------------------------------------- runner
def onnx_session(model: str | Path, threads: int = 2) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def input_size(session: Any) -> tuple[int, int]:
    """(H, W) of the model: from its ``imgsz`` metadata, else its input shape."""
    meta = session.get_modelmeta().custom_metadata_map
    if "imgsz" in meta:
        height, width = json.loads(meta["imgsz"])
        return int(height), int(width)
    shape = session.get_inputs()[0].shape
    return int(shape[2]), int(shape[3])


def evaluate_onnx(
    model: str | Path,
    samples: Sequence[Sample],
    *,
    threads: int = 2,
    batch: int = 8,
    interpolation: int = cv2.INTER_LINEAR,
) -> dict[str, Any]:
    """mAP@0.5 of the ONNX ``model`` on ``samples`` (full-size frames), scored in the
    frames' own pixels."""
    session = onnx_session(model, threads)
    name = session.get_inputs()[0].name
    size = input_size(session)
    detections: list[Detections] = []
    for start in range(0, len(samples), batch):
        chunk = samples[start : start + batch]
        boxed = [letterbox(s.image, size, interpolation) for s in chunk]
        outputs = session.run(None, {name: to_input([b[0] for b in boxed])})[0]
        for sample, (_, ratio, pad), out in zip(chunk, boxed, outputs, strict=True):
            det = decode_yolov8(out)
            det.boxes = unletterbox(det.boxes, ratio, pad, sample.image.shape[:2])
            detections.append(det)
    result = map50(detections, samples)
    result["frames"] = len(samples)
    return result


def time_onnx(
    model: str | Path,
    image: npt.NDArray[np.uint8] | None = None,
    *,
    threads: int = 2,
    runs: int = 50,
) -> dict[str, float]:
    """Median milliseconds of one frame (batch 1): the model alone, and letterbox +
    model + decode/NMS (score 0.25, IoU 0.7) on ``image`` (default: random 1280x720)."""
    session = onnx_session(model, threads)
    name = session.get_inputs()[0].name
    size = input_size(session)
    if image is None:
        image = np.random.default_rng(0).integers(0, 255, (720, 1280, 3), np.uint8)
    canvas, _, _ = letterbox(image, size)
    blob = to_input([canvas])
    for _ in range(5):
        session.run(None, {name: blob})
    model_ms, full_ms = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        session.run(None, {name: blob})
        model_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        canvas, _, _ = letterbox(image, size)
        out = session.run(None, {name: to_input([canvas])})[0][0]
        decode_yolov8(out, conf=0.25, iou=0.7, multi_label=False)
        full_ms.append((time.perf_counter() - t0) * 1000)
    return {
        "model_ms": round(statistics.median(model_ms), 2),
        "pipeline_ms": round(statistics.median(full_ms), 2),
        "threads": threads,
        "input": f"batch 1, {size[1]}x{size[0]}; pipeline = letterbox of a "
        f"{image.shape[1]}x{image.shape[0]} frame + model + decode/NMS",
    }


def describe(specs: Sequence[ClipSpec]) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "write_conveyor": s.options,
            "gain": dict(zip(("kind", "before", "after", "start", "end"), s.gain, strict=True)),
            "every_nth_frame": s.every,
        }
        for s in specs
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--set", choices=sorted(SETS), default="heldout")
    parser.add_argument(
        "--clips",
        type=Path,
        default=Path("/tmp/sightwire-heldout"),
        help="where the held-out clips are written (reused when present)",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write", type=Path, help="merge the results into this JSON file")
    args = parser.parse_args(argv)
    specs = SETS[args.set]
    t0 = time.perf_counter()
    samples = heldout_samples(specs, args.clips)
    t1 = time.perf_counter()
    result = evaluate_onnx(args.model, samples, threads=args.threads)
    area = evaluate_onnx(args.model, samples, threads=args.threads, interpolation=cv2.INTER_AREA)
    t2 = time.perf_counter()
    timing = time_onnx(args.model, samples[len(samples) // 2].image, threads=args.threads)
    report = {
        "set": args.set,
        "description": DESCRIPTIONS[args.set],
        "metric": "AP at IoU 0.5 per class, all-point interpolated; mAP50 = mean of both; "
        "letterbox INTER_LINEAR, NMS IoU 0.6 per class, score >= 0.001, <= 100 per frame",
        "clips": describe(specs),
        **result,
        "map50_inter_area": area["map50"],
        "ap50_inter_area": area["ap50"],
        "onnxruntime_cpu": timing,
        "seconds": {"clips_and_decode": round(t1 - t0, 1), "scoring": round(t2 - t1, 1)},
    }
    print(json.dumps(report, indent=1))
    if args.write:
        data = json.loads(args.write.read_text()) if args.write.exists() else {}
        data.setdefault("evaluation", {})[args.set] = report
        args.write.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
