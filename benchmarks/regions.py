"""Motion-gated region inference against whole-frame inference, in one process.

On a conveyor clip with sparse parcels, the same detector runs (a) on every sampled
frame, whole, and (b) only on frames with motion, on model-sized crops around it.
Both are checked against ground truth: every parcel fully in view must be found.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import av

from sightwire.config.models import (
    CameraConfig,
    DetectOptions,
    DetectStep,
    ModelConfig,
    MotionConfig,
    SightwireConfig,
)
from sightwire.core import Frame
from sightwire.runtime.analysers import build_analysers
from sightwire.runtime.models import ModelHub
from sightwire.runtime.pipeline import CameraPipeline
from sightwire.synth import GroundTruth, ParcelTruth


def _frames(clip: Path, fps: float) -> list[tuple[int, Frame]]:
    out, due = [], 0.0
    with av.open(str(clip)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if (frame.time or 0.0) + 1e-6 >= due:
                due += 1 / fps
                image = frame.to_ndarray(format="bgr24")
                out.append((index, Frame("belt", len(out), time.time(), frame.time or 0, image)))
    return out


def _whole(parcel: ParcelTruth, index: int) -> bool:
    """Whether the parcel is entirely in the picture at frame ``index``."""
    box = parcel.boxes.get(index)
    return box is not None and (box[2] - box[0], box[3] - box[1]) == tuple(parcel.size_px)


def _run(clip: Path, model: Path, *, gated: bool) -> dict[str, Any]:
    camera = CameraConfig(
        source=str(clip),
        fps=5,
        motion=MotionConfig() if gated else None,
        analyse=[DetectStep(detect=DetectOptions(model="parcels", regions=gated))],
    )
    config = SightwireConfig(
        models={"parcels": ModelConfig(path=str(model))}, cameras={"belt": camera}
    )
    hub = ModelHub(config)
    pipeline = CameraPipeline("belt", camera, build_analysers(camera, hub))
    truth = GroundTruth.load(clip)
    frames = _frames(clip, 5)
    started = time.perf_counter()
    found: dict[str, int] = {}
    for index, frame in frames:
        result = pipeline.process(frame)
        names = result.detections.data.get("class_name")
        count = 0 if names is None else int((names == "parcel").sum())
        visible = sum(1 for p in truth.parcels if _whole(p, index))
        found[str(index)] = count - visible
    seconds = time.perf_counter() - started
    detector = hub.detector("parcels")
    calls, images = detector.calls, detector.images
    hub.close()
    missed = sum(1 for d in found.values() if d < 0)
    return {
        "seconds": round(seconds, 3),
        "calls": calls,
        "images": images,
        "frames": len(frames),
        "frames_missing": missed,
    }


def run(clip: Path, model: Path) -> dict[str, Any]:
    """Whole-frame against motion-gated regions: calls, time and frames with misses."""
    whole = _run(clip, model, gated=False)
    regions = _run(clip, model, gated=True)
    return {
        "name": "motion-gated regions vs whole frames (sparse conveyor)",
        "whole": whole,
        "regions": regions,
        "call_ratio": round(regions["calls"] / max(whole["calls"], 1), 3),
        "time_ratio": round(whole["seconds"] / max(regions["seconds"], 1e-9), 2),
    }
