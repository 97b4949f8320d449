"""A simulated belt scale for the conveyor scene: one weighing per parcel, stamped with
the moment (on the clip's clock) its centre passes the scale.

>>> # readings = scale_readings(truth, line_x=640)   # [(seconds into the clip, kg), ...]
"""

from __future__ import annotations

import numpy as np

from sightwire.synth.truth import GroundTruth, ParcelTruth

NOISE = 0.002
"""Relative noise of a weighing (a belt scale's typical accuracy: 0.1-0.5 %)."""


def crossing_s(parcel: ParcelTruth, truth: GroundTruth, line_x: float) -> float | None:
    """When (seconds into the clip) the parcel's centre passes x = ``line_x``; None if
    it is never wholly in view."""
    speed = truth.scene.belt_speed_px_s
    whole = [(f, b) for f, b in parcel.boxes.items() if b[2] - b[0] == parcel.size_px[0]]
    if not speed or not whole:
        return None
    frame, box = whole[0]
    centre = box[0] + parcel.size_px[0] / 2
    return frame / truth.scene.fps + (line_x - centre) / speed


def scale_readings(
    truth: GroundTruth, line_x: float, *, offset_s: float = 0.0, seed: int = 0
) -> list[tuple[float, float]]:
    """``(time, kg)`` per parcel: its true weight (with a little noise) at the moment it
    crosses ``line_x`` plus ``offset_s``, in time order. The manifest's wrong weights
    are what these readings catch."""
    rng = np.random.default_rng([truth.scene.seed, seed, 5])
    readings = []
    for parcel in truth.parcels:
        t = crossing_s(parcel, truth, line_x)
        if t is not None:
            kg = parcel.weight_kg * (1 + rng.normal(0, NOISE))
            readings.append((round(t + offset_s, 3), round(kg, 3)))
    return sorted(readings)
