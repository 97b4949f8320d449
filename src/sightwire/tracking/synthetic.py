"""Synthetic detections with known identities, to measure trackers.

Objects move across a frame at roughly constant velocity (the heading wanders a
little), crossing one another's paths; one that leaves the frame is replaced by a
new object entering from an edge, with a new id. Now and then one is hidden for a
few frames. A simulated detector reports them with box jitter,
occasional misses, some weak (low-confidence) detections and a few false positives.
Each frame also carries the truth: the boxes of the visible objects with their ids
in ``tracker_id``.

>>> frames = make_scene(SceneSpec(objects=3, frames=10, seed=1))
>>> len(frames), round(frames[1].pts, 3)
(10, 0.04)
>>> sorted(frames[0].truth.tracker_id.tolist())
[0, 1, 2]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sightwire.core.detections import Detections

Array = npt.NDArray[np.float64]

MIN_INSIDE = 0.3
"""An object counts as visible (and detectable) with this share of its box inside."""


@dataclass(frozen=True, slots=True)
class SceneSpec:
    """What to simulate. Sizes in pixels, speeds in pixels per second.

    ``jitter``: detector box noise (std, share of the box size); ``miss_rate``:
    chance a visible object goes undetected in a frame; ``weak_rate``: chance a
    detection comes with a low confidence (0.15-0.45); ``false_positives``: mean
    spurious detections per frame; ``occlusions``: mean times each object is hidden,
    for ``occlusion_frames`` frames each; ``skip_rate``: share of frames never
    analysed (as the motion gate or sampling would skip them).
    """

    objects: int = 10
    frames: int = 250
    fps: float = 25.0
    size: tuple[int, int] = (1280, 720)
    box_size: tuple[float, float] = (40.0, 120.0)
    speed: tuple[float, float] = (40.0, 200.0)
    turn: float = 0.3  # std of heading change, radians per √second
    classes: int = 2
    jitter: float = 0.03
    miss_rate: float = 0.03
    weak_rate: float = 0.1
    false_positives: float = 0.3
    occlusions: float = 1.0
    occlusion_frames: int = 5
    skip_rate: float = 0.0
    seed: int = 0


@dataclass(frozen=True, slots=True)
class SyntheticFrame:
    """One analysed frame: its time, what the detector saw, and the truth (visible
    objects' true boxes and classes, with their ids in ``tracker_id``)."""

    pts: float
    detections: Detections
    truth: Detections


def make_scene(spec: SceneSpec) -> list[SyntheticFrame]:
    """Simulate ``spec``: one :class:`SyntheticFrame` per analysed frame (skipped
    frames are left out, so their ``pts`` leave gaps)."""
    rng = np.random.default_rng(spec.seed)
    objects = _Objects.start(spec, rng)
    hidden = _occlusion_windows(spec, rng)
    frames = []
    for index in range(spec.frames):
        if not index or rng.random() >= spec.skip_rate:
            truth = objects.truth(spec, ~hidden[index])
            frames.append(SyntheticFrame(index / spec.fps, _detect(spec, rng, truth), truth))
        objects.move(spec, rng)
    return frames


@dataclass(slots=True)
class _Objects:
    """The simulated objects: a fixed number of slots, each holding one object at a
    time (``ids``), with centres, velocities and sizes (N × 2 each)."""

    ids: npt.NDArray[np.int64]
    classes: npt.NDArray[np.int64]
    centres: Array
    velocities: Array
    sizes: Array
    next_id: int

    @classmethod
    def start(cls, spec: SceneSpec, rng: np.random.Generator) -> _Objects:
        """Objects anywhere in the frame, heading anywhere."""
        n = spec.objects
        sizes = rng.uniform(*spec.box_size, size=(n, 2))
        frame = np.array(spec.size, np.float64)
        heading = rng.uniform(0, 2 * np.pi, n)
        return cls(
            ids=np.arange(n),
            classes=np.arange(n) % max(spec.classes, 1),
            centres=rng.uniform(sizes / 2, frame - sizes / 2),
            velocities=_velocity(heading, rng.uniform(*spec.speed, n)),
            sizes=sizes,
            next_id=n,
        )

    def truth(self, spec: SceneSpec, shown: npt.NDArray[np.bool_]) -> Detections:
        """The boxes, cut to the frame, of the objects ``shown`` and mostly inside."""
        corners = _corners(self.centres, self.sizes)
        cut = np.clip(corners, 0, np.tile(np.array(spec.size, np.float64), 2))
        inside = np.prod(cut[:, 2:] - cut[:, :2], axis=1) / np.prod(self.sizes, axis=1)
        visible = shown & (inside >= MIN_INSIDE)
        return Detections(
            xyxy=cut[visible],
            confidence=np.ones(int(visible.sum()), np.float32),
            class_id=self.classes[visible],
            tracker_id=self.ids[visible],
        )

    def move(self, spec: SceneSpec, rng: np.random.Generator) -> None:
        """Advance one frame: wander the headings, step, replace objects that left."""
        dt = 1.0 / spec.fps
        angle = rng.normal(0.0, spec.turn * np.sqrt(dt), len(self.ids))
        cos, sin = np.cos(angle), np.sin(angle)
        vx, vy = self.velocities[:, 0], self.velocities[:, 1]
        self.velocities = np.stack([cos * vx - sin * vy, sin * vx + cos * vy], axis=1)
        self.centres = self.centres + self.velocities * dt
        frame = np.array(spec.size, np.float64)
        gone = np.flatnonzero(
            ((self.centres + self.sizes / 2) < 0).any(axis=1)
            | ((self.centres - self.sizes / 2) > frame).any(axis=1)
        )
        for slot in gone:
            self._enter(spec, rng, int(slot))

    def _enter(self, spec: SceneSpec, rng: np.random.Generator, slot: int) -> None:
        """A new object in ``slot``, just outside a random edge, heading inwards."""
        frame = np.array(spec.size, np.float64)
        size = rng.uniform(*spec.box_size, size=2)
        edge = int(rng.integers(4))  # left, top, right, bottom
        axis, far = edge % 2, edge >= 2
        centre = rng.uniform(size / 2, frame - size / 2)
        centre[axis] = frame[axis] + size[axis] / 2 if far else -size[axis] / 2
        inward = np.pi * (edge % 2) / 2 + (np.pi if far else 0.0)
        heading = inward + rng.uniform(-np.pi / 3, np.pi / 3)
        self.ids[slot], self.next_id = self.next_id, self.next_id + 1
        self.centres[slot], self.sizes[slot] = centre, size
        self.velocities[slot] = _velocity(np.array([heading]), rng.uniform(*spec.speed, 1))[0]


def _velocity(heading: Array, speed: Array) -> Array:
    velocity: Array = np.stack([np.cos(heading), np.sin(heading)], axis=1) * speed[:, None]
    return velocity


def _occlusion_windows(spec: SceneSpec, rng: np.random.Generator) -> npt.NDArray[np.bool_]:
    """(frames, objects): True where an object is hidden."""
    hidden = np.zeros((spec.frames, spec.objects), bool)
    for obj in range(spec.objects):
        for start in rng.integers(1, max(spec.frames - 1, 2), rng.poisson(spec.occlusions)):
            hidden[start : start + spec.occlusion_frames, obj] = True
    return hidden


def _detect(spec: SceneSpec, rng: np.random.Generator, truth: Detections) -> Detections:
    """What a noisy detector reports for the visible objects ``truth``."""
    n = len(truth)
    found = rng.random(n) >= spec.miss_rate
    wh = truth.xyxy[:, 2:] - truth.xyxy[:, :2]
    scale = np.concatenate([wh, wh], axis=1)
    xyxy = truth.xyxy + rng.normal(0.0, spec.jitter, (n, 4)) * scale
    confidence = np.clip(rng.normal(0.8, 0.08, n), 0.5, 0.99)
    weak = rng.random(n) < spec.weak_rate
    confidence[weak] = rng.uniform(0.15, 0.45, int(weak.sum()))
    real = Detections(xyxy[found], confidence[found].astype(np.float32), truth.class_id[found])
    detections = Detections.merge([real, _false_positives(spec, rng)])
    return detections[rng.permutation(len(detections))]


def _false_positives(spec: SceneSpec, rng: np.random.Generator) -> Detections:
    """Spurious boxes anywhere, mostly weak, a few confident."""
    n = rng.poisson(spec.false_positives)
    sizes = rng.uniform(*spec.box_size, size=(n, 2))
    centres = rng.uniform(sizes / 2, np.array(spec.size, np.float64) - sizes / 2)
    confident = rng.random(n) < 0.1
    confidence = np.where(confident, rng.uniform(0.5, 0.7, n), rng.uniform(0.1, 0.45, n))
    return Detections(
        _corners(centres, sizes).astype(np.float32),
        confidence.astype(np.float32),
        rng.integers(0, max(spec.classes, 1), n),
    )


def _corners(centres: Array, sizes: Array) -> Array:
    corners: Array = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
    return corners
