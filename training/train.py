"""Train ParcelNet on synthetic conveyor frames and export it as a YOLOv8-layout ONNX.

    .venv-train/bin/python -m training.train --out src/sightwire/inference/data/parcels/parcels.onnx

Steps: render a pool of frames in memory from the synth package's conveyor scene
(many seeds, belt speeds, parcel counts, lamps, motion blur, noise, scales), downscaled
to 480x270; train with online augmentation (scale/shift/flip, gain, colour, lamp maps,
blur, noise) on 320x192 letterboxed inputs; keep an exponential moving average of the
weights; export the average to ONNX with Ultralytics-style metadata; write the training
record beside the model as ``parcels.json`` (``training/evaluate.py`` adds the held-out
scores).
See training/README.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from training.evaluate import ClipSpec, Detections, decode_yolov8, letterbox, map50, to_input
from training.model import STRIDES, Exported, ParcelNet, anchor_points, decode, flatten
from training.scenes import CLASSES, ConveyorScene, Sample

INPUT_HW = (192, 320)
POOL_SCALE = 0.375
"""Pool frames are stored at this share of 1280x720 (480x270)."""
SHORT_SIDE = (40, 32)
"""A box goes to stride 8 when its short side is at most 40 px, to stride 16 when it is
at least 32 px (input pixels)."""
SPEEDS = (240, 300, 360, 420, 520, 600)
COUNTS = (0, 1, 2, 3, 4, 6, 8)
COUNT_WEIGHTS = (0.04, 0.12, 0.16, 0.18, 0.18, 0.18, 0.14)
SEED_BASE = 1000
"""Training scenes use seeds SEED_BASE + i (i < configs), validation 70_001-70_002;
the held-out sets in training/evaluate.py use 77_001 and 90_001-90_005."""
VAL_SPECS = (
    ClipSpec(
        "val-a",
        {
            "seed": 70001,
            "parcels": 4,
            "belt_speed_px_s": 420,
            "seconds": 12,
            "lighting": "uneven",
            "motion_blur": 0.5,
            "noise": 2.0,
        },
        ("step", 1.0, 0.6, 0.5, 0.5),
        every=5,
    ),
    ClipSpec(
        "val-b",
        {
            "seed": 70002,
            "parcels": 6,
            "belt_speed_px_s": 360,
            "seconds": 20,
            "lighting": "even",
            "motion_blur": 0.2,
            "noise": 1.5,
        },
        ("ramp", 0.8, 1.35, 0.0, 1.0),
        every=8,
    ),
)


def log(*parts: object) -> None:
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


# ------------------------------------------------------------------------------ data pool
def scene_options(rng: np.random.Generator, seed: int) -> dict[str, Any]:
    """Random knobs of one training scene (never the held-out speeds or counts)."""
    parcels = int(rng.choice(COUNTS, p=COUNT_WEIGHTS))
    speed = float(rng.choice(SPEEDS))
    fps = float(rng.choice([25.0, 25.0, 25.0, 15.0, 30.0]))
    need = (parcels * 520 + 1800) / speed + 2.0
    return {
        "seed": seed,
        "parcels": parcels,
        "belt_speed_px_s": speed,
        "fps": fps,
        "seconds": round(need * float(rng.uniform(1.0, 1.6)), 1),
        "lighting": "uneven" if rng.random() < 0.5 else "even",
        "motion_blur": 0.0 if rng.random() < 0.3 else float(rng.uniform(0.05, 0.85)),
        "noise": float(rng.uniform(0.5, 3.5)),
        "mm_per_pixel": float(rng.uniform(1.3, 1.8)),
    }


def build_pool(configs: int, per_config: int, seed: int) -> list[Sample]:
    """Render ``per_config`` frames of each of ``configs`` random scenes, at POOL_SCALE."""
    rng = np.random.default_rng(seed)
    pool: list[Sample] = []
    for i in range(configs):
        options = scene_options(rng, SEED_BASE + i)
        for _ in range(5):
            try:
                scene = ConveyorScene(**options)
                break
            except ValueError:  # too many parcels for the clip: lengthen it
                options["seconds"] = round(options["seconds"] * 1.4, 1)
        busy = [f for f in range(scene.frames) if any(f in t.boxes for t in scene.truths)]
        chosen = []
        for _ in range(per_config):
            source = busy if busy and rng.random() < 0.92 else range(scene.frames)
            chosen.append(int(rng.choice(source)))
        for index in chosen:
            sample = scene.render(index)
            inter = cv2.INTER_AREA if rng.random() < 0.5 else cv2.INTER_LINEAR
            sample.image = cv2.resize(
                sample.image, None, fx=POOL_SCALE, fy=POOL_SCALE, interpolation=inter
            )
            sample.boxes = sample.boxes * POOL_SCALE
            sample.full_area = sample.full_area * POOL_SCALE**2
            pool.append(sample)
        if (i + 1) % 50 == 0:
            log(f"pool: {i + 1}/{configs} scenes, {len(pool)} frames")
    return pool


# --------------------------------------------------------------------------- augmentation
def lamp_map(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(-0.2, 1.2) * w, rng.uniform(-0.2, 1.2) * h
    spread = rng.uniform(0.25, 0.7) * w
    low = rng.uniform(0.5, 0.85)
    return low + (1 - low) * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * spread**2))


def photometric(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    img = image.astype(np.float32)
    if rng.random() < 0.3:  # hue / saturation
        hsv = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_BGR2HSV)
        hsv = hsv.astype(np.float32)
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-6, 6)) % 180
        hsv[..., 1] *= rng.uniform(0.6, 1.4)
        img = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR)
        img = img.astype(np.float32)
    gain = rng.uniform(0.55, 1.45) * rng.uniform(0.94, 1.06, 3).astype(np.float32)
    img *= gain[None, None, :]
    if rng.random() < 0.35:
        img *= lamp_map(rng, *img.shape[:2])[:, :, None]
    if rng.random() < 0.25:
        gamma = rng.uniform(0.75, 1.3)
        img = 255.0 * (np.clip(img, 0, 255) / 255.0) ** gamma
    if rng.random() < 0.15:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.0))
    if rng.random() < 0.15:
        k = int(rng.choice([3, 5]))
        img = cv2.blur(img, (k, 1))
    if rng.random() < 0.5:
        img += rng.normal(0, rng.uniform(1, 5), img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def augment(sample: Sample, rng: np.random.Generator, train: bool = True) -> Sample:
    """A letterboxed INPUT_HW canvas (BGR) of a pool frame, randomly scaled, shifted,
    flipped and recoloured, with boxes and the visibility rule applied again."""
    out_h, out_w = INPUT_HW
    src_h, src_w = sample.image.shape[:2]
    base = min(out_h / src_h, out_w / src_w)
    scale = base * (rng.uniform(0.75, 1.3) if train else 1.0)
    fx = scale * (rng.uniform(0.95, 1.05) if train else 1.0)
    fy = scale * (rng.uniform(0.95, 1.05) if train else 1.0)
    new_w, new_h = max(1, round(src_w * fx)), max(1, round(src_h * fy))
    inter = cv2.INTER_AREA if rng.random() < 0.5 else cv2.INTER_LINEAR
    image = cv2.resize(sample.image, (new_w, new_h), interpolation=inter)
    if train:
        image = photometric(image, rng)
    left = round((out_w - new_w) / 2 + (rng.uniform(-0.15, 0.15) * out_w if train else 0))
    top = round((out_h - new_h) / 2 + (rng.uniform(-0.1, 0.1) * out_h if train else 0))
    canvas = np.full((out_h, out_w, 3), 114, np.uint8)
    x1, y1 = max(left, 0), max(top, 0)
    x2, y2 = min(left + new_w, out_w), min(top + new_h, out_h)
    if x1 < x2 and y1 < y2:
        canvas[y1:y2, x1:x2] = image[y1 - top : y2 - top, x1 - left : x2 - left]
    boxes = sample.boxes * np.array([fx, fy, fx, fy], np.float32)
    boxes += np.array([left, top, left, top], np.float32)
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(x1, x2)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(y1, y2)
    if train and rng.random() < 0.5:
        canvas = canvas[:, ::-1]
        boxes[:, [0, 2]] = out_w - boxes[:, [2, 0]]
    if train and rng.random() < 0.5:
        canvas = canvas[::-1]
        boxes[:, [1, 3]] = out_h - boxes[:, [3, 1]]
    wh = boxes[:, 2:] - boxes[:, :2]
    area = wh.prod(1)
    keep = (wh > 0).all(1)
    share = area / np.maximum(sample.full_area * fx * fy, 1e-6)
    ignored = (share < 0.2) | (wh.min(1) < 2)
    return Sample(
        np.ascontiguousarray(canvas),
        boxes[keep],
        sample.classes[keep],
        ignored[keep],
        sample.full_area[keep] * fx * fy,
    )


def collate(samples: list[Sample]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    images = torch.from_numpy(to_input([s.image for s in samples]))
    most = max(1, max(len(s.boxes) for s in samples))
    boxes = torch.zeros(len(samples), most, 4)
    classes = torch.zeros(len(samples), most, dtype=torch.long)
    state = torch.zeros(len(samples), most, dtype=torch.long)  # 0 pad, 1 positive, 2 ignored
    for i, s in enumerate(samples):
        n = len(s.boxes)
        boxes[i, :n] = torch.from_numpy(s.boxes)
        classes[i, :n] = torch.from_numpy(s.classes)
        state[i, :n] = torch.from_numpy(np.where(s.ignored, 2, 1))
    return images, boxes, classes, state


# ------------------------------------------------------------------------------------ loss
def box_iou_giou(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairwise-aligned IoU and GIoU of boxes [K, 4] (x1, y1, x2, y2)."""
    lt = torch.maximum(a[:, :2], b[:, :2])
    rb = torch.minimum(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(1)
    area_a = (a[:, 2:] - a[:, :2]).clamp(min=0).prod(1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(min=0).prod(1)
    union = area_a + area_b - inter + 1e-7
    iou = inter / union
    hull = (torch.maximum(a[:, 2:], b[:, 2:]) - torch.minimum(a[:, :2], b[:, :2])).prod(1) + 1e-7
    return iou, iou - (hull - union) / hull


def assign(
    points: torch.Tensor,
    strides: torch.Tensor,
    boxes: torch.Tensor,
    state: torch.Tensor,
    radius: float = 2.5,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Centre-sampling assignment: a cell is positive for a true box when its centre lies
    inside the box, within ``radius`` strides of the box centre, on a level that suits
    the box size; a cell claimed by several boxes takes the smallest. A box no cell
    claims gets the stride-8 cell nearest its centre. Returns (positive [B, N],
    index of the assigned box [B, N])."""
    px, py = points[:, 0], points[:, 1]
    x1, y1, x2, y2 = boxes.unbind(-1)
    inside = (
        (px > x1[..., None]) & (px < x2[..., None]) & (py > y1[..., None]) & (py < y2[..., None])
    )
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    reach = radius * strides
    near = ((px - cx[..., None]).abs() < reach) & ((py - cy[..., None]).abs() < reach)
    # Level by the short side: labels (about 22 px high at 320x192) and slivers of
    # parcels go to stride 8, whole parcels (43+ px) to stride 16, so that a label and
    # its parcel rarely compete for the same cells.
    side = torch.minimum(x2 - x1, y2 - y1)[..., None]
    level = torch.where(strides == STRIDES[0], side <= SHORT_SIDE[0], side >= SHORT_SIDE[1])
    valid = (state == 1)[..., None]
    cand = inside & near & level & valid
    lonely = valid[..., 0] & ~cand.any(-1)
    if lonely.any():
        fine = strides == STRIDES[0]
        dist = (px - cx[..., None]) ** 2 + (py - cy[..., None]) ** 2
        dist = dist.masked_fill(~fine, float("inf"))
        nearest = dist.argmin(-1)
        b_idx, m_idx = torch.nonzero(lonely, as_tuple=True)
        cand[b_idx, m_idx, nearest[b_idx, m_idx]] = True
    area = ((x2 - x1) * (y2 - y1))[..., None].expand_as(cand)
    cost = torch.where(cand, area, torch.full_like(area, float("inf")))
    best = cost.argmin(1)
    return cand.any(1), best


def detection_loss(
    levels: list[tuple[torch.Tensor, torch.Tensor]],
    boxes: torch.Tensor,
    classes: torch.Tensor,
    state: torch.Tensor,
    points: torch.Tensor,
    strides: torch.Tensor,
    box_weight: float = 2.5,
) -> tuple[torch.Tensor, dict[str, float]]:
    raw, logits = flatten(levels)
    pred = decode(raw, points, strides)
    positive, best = assign(points, strides, boxes, state)
    target_boxes = torch.gather(boxes, 1, best[..., None].expand(-1, -1, 4))
    target_cls = torch.gather(classes, 1, best)
    n_pos = int(positive.sum())
    cls_target = torch.zeros_like(logits)
    weight = torch.ones_like(logits)
    # Cells inside an ignored object: no loss for that object's class (unless positive).
    ign = state == 2
    if ign.any():
        px, py = points[:, 0], points[:, 1]
        x1, y1, x2, y2 = boxes.unbind(-1)
        inside = (
            (px >= x1[..., None])
            & (px <= x2[..., None])
            & (py >= y1[..., None])
            & (py <= y2[..., None])
        ) & ign[..., None]  # [B,M,N]
        onehot = F.one_hot(classes, logits.shape[-1]).float()  # [B,M,C]
        covered = torch.einsum("bmn,bmc->bnc", inside.float(), onehot) > 0
        weight = weight.masked_fill(covered & ~positive[..., None], 0.0)
    if n_pos:
        iou, giou = box_iou_giou(pred[positive], target_boxes[positive])
        loss_box = (1.0 - giou).mean()
        quality = iou.detach().clamp(min=0.05)
        b_idx, n_idx = torch.nonzero(positive, as_tuple=True)
        cls_target[b_idx, n_idx, target_cls[positive]] = quality
    else:
        loss_box = pred.sum() * 0.0
        iou = torch.zeros(1)
    prob = logits.sigmoid()
    qfl = F.binary_cross_entropy_with_logits(logits, cls_target, reduction="none")
    qfl = qfl * (prob - cls_target).abs().pow(2) * weight
    loss_cls = qfl.sum() / max(n_pos, 1)
    loss = loss_cls + box_weight * loss_box
    return loss, {
        "cls": float(loss_cls.detach()),
        "box": float(loss_box.detach()),
        "pos": n_pos,
        "iou": float(iou.mean()) if n_pos else 0.0,
    }


# ------------------------------------------------------------------------------ validation
def render_val() -> list[Sample]:
    samples = []
    for spec in VAL_SPECS:
        scene = ConveyorScene(**spec.options)
        for index in range(0, scene.frames, spec.every):
            s = scene.render(index)
            gain = spec.gain_at(index, scene.frames)
            s.image = cv2.convertScaleAbs(s.image, alpha=gain)
            samples.append(s)
    return samples


@torch.no_grad()
def validate(net: ParcelNet, samples: list[Sample]) -> dict[str, Any]:
    model = Exported(net, *INPUT_HW).eval()
    detections = []
    for start in range(0, len(samples), 16):
        chunk = samples[start : start + 16]
        boxed = [letterbox(s.image, INPUT_HW) for s in chunk]
        out = model(torch.from_numpy(to_input([b[0] for b in boxed]))).numpy()
        for _s, (_, ratio, (left, top)), o in zip(chunk, boxed, out, strict=True):
            det = decode_yolov8(o)
            det.boxes = (det.boxes - np.array([left, top, left, top], np.float32)) / ratio
            detections.append(Detections(det.boxes, det.scores, det.classes))
    return map50(detections, samples)


# ---------------------------------------------------------------------------------- export
def export(net: ParcelNet, path: Path, meta: dict[str, str]) -> None:
    import onnx

    model = Exported(copy.deepcopy(net).float(), *INPUT_HW).eval()
    dummy = torch.zeros(1, 3, *INPUT_HW)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (dummy,),
        str(path),
        dynamo=False,
        opset_version=17,
        input_names=["images"],
        output_names=["output0"],
        dynamic_axes={"images": {0: "batch"}, "output0": {0: "batch"}},
        do_constant_folding=True,
    )
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = meta["description"]
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


def onnx_metadata(version: str) -> dict[str, str]:
    names = dict(enumerate(CLASSES))
    return {
        "description": "Sightwire ParcelNet: parcels and shipping labels on a conveyor seen "
        "from above; trained from scratch on synthetic frames",
        "author": "Sightwire",
        "version": version,
        "license": "Apache-2.0",
        "docs": "training/README.md",
        "task": "detect",
        "stride": str(max(STRIDES)),
        "batch": "1",
        "imgsz": json.dumps(list(INPUT_HW)),
        "names": repr(names),
        "channels": "3",
    }


# ------------------------------------------------------------------------------------ main
BUNDLED = Path("src/sightwire/inference/data/parcels/parcels.onnx")
"""Where Sightwire ships the model (``sightwire.inference.bundled.PARCELS_MODEL``)."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", type=int, default=500, help="random scenes in the pool")
    parser.add_argument("--per-config", type=int, default=6, help="frames per scene")
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--val-every", type=int, default=250)
    parser.add_argument(
        "--out", type=Path, default=Path("src/sightwire/inference/data/parcels/parcels.onnx")
    )
    parser.add_argument(
        "--record", type=Path, default=None, help="JSON training record (default: OUT with .json)"
    )
    parser.add_argument("--version", default="1.0.0")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    started = time.time()
    log("rendering the pool", vars(args))
    pool = build_pool(args.configs, args.per_config, args.seed)
    pool_s = time.time() - started
    log(f"pool: {len(pool)} frames in {pool_s:.0f} s")
    val = render_val()
    net = ParcelNet(len(CLASSES))
    ema = copy.deepcopy(net).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    params = sum(p.numel() for p in net.parameters())
    log(f"ParcelNet: {params} parameters; validation frames: {len(val)}")
    decay, no_decay = [], []
    for _name, p in net.named_parameters():
        (decay if p.ndim == 4 else no_decay).append(p)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
    )
    points, strides = anchor_points(*INPUT_HW)
    warmup = max(1, min(100, args.iterations // 10))
    history = []
    train_started = time.time()
    for it in range(args.iterations):
        if it < warmup:
            lr = args.lr * (0.1 + 0.9 * it / warmup)
        else:
            t = (it - warmup) / max(1, args.iterations - warmup)
            lr = args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))
        for group in opt.param_groups:
            group["lr"] = lr
        batch = [augment(pool[int(i)], rng) for i in rng.integers(0, len(pool), args.batch)]
        images, boxes, classes, state = collate(batch)
        net.train()
        loss, parts = detection_loss(net(images), boxes, classes, state, points, strides)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
        d = 0.998 * (1 - math.exp(-(it + 1) / 100))
        with torch.no_grad():
            for e, p in zip(ema.state_dict().values(), net.state_dict().values(), strict=True):
                if e.dtype.is_floating_point:
                    e.mul_(d).add_(p.detach(), alpha=1 - d)
                else:
                    e.copy_(p)
        if it % 20 == 0 or it == args.iterations - 1:
            rate = (it + 1) * args.batch / (time.time() - train_started)
            log(
                f"it {it} lr {lr:.5f} loss {float(loss):.3f} cls {parts['cls']:.3f} "
                f"box {parts['box']:.3f} iou {parts['iou']:.2f} pos {parts['pos']} "
                f"({rate:.1f} img/s)"
            )
        if (it + 1) % args.val_every == 0 or it == args.iterations - 1:
            result = validate(ema, val)
            history.append({"iteration": it + 1, **result})
            aps = " ".join(f"{k} {v:.4f}" for k, v in result["ap50"].items())
            log(f"val it {it + 1}: mAP50 {result['map50']:.4f} ({aps})")
    train_s = time.time() - train_started
    meta = onnx_metadata(args.version)
    export(ema, args.out, meta)
    total_s = time.time() - started
    size = args.out.stat().st_size
    log(f"exported {args.out} ({size / 1e6:.2f} MB); total {total_s / 60:.1f} min")
    record_path = args.record or args.out.with_suffix(".json")
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    record.update(
        {
            "model": args.out.name,
            "classes": list(CLASSES),
            "input": {
                "name": "images",
                "shape": ["batch", 3, *INPUT_HW],
                "format": "RGB float32 0..1, letterboxed (centred, pad 114/255)",
            },
            "output": {
                "name": "output0",
                "shape": ["batch", 4 + len(CLASSES), int(points.shape[0])],
                "layout": "Ultralytics YOLOv8 detect: cx, cy, w, h (input pixels), "
                "then per-class sigmoid scores; no NMS",
            },
            "architecture": "ParcelNet (training/model.py): anchor-free, strides 8 and 16",
            "parameters": params,
            "onnx_bytes": size,
            "metadata": meta,
            "license": "Apache-2.0 (Sightwire's own weights, trained from scratch)",
            "training": {
                "command": " ".join(["python", "-m", "training.train", *(argv or sys.argv[1:])]),
                "args": {k: str(v) for k, v in vars(args).items()},
                "pool_frames": len(pool),
                "pool_seconds": round(pool_s, 1),
                "train_seconds": round(train_s, 1),
                "total_seconds": round(total_s, 1),
                "machine": f"{platform.machine()} CPU, torch {torch.__version__}, "
                f"{args.threads} threads (shared)",
                "validation": history,
            },
        }
    )
    record_path.write_text(json.dumps(record, indent=1) + "\n")
    log(f"wrote {record_path}")


if __name__ == "__main__":
    main()
