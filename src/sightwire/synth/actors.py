"""Things that walk through a room scene: people and carts with boxes.

Every actor crosses the whole picture at a constant speed, entering at one side and
leaving at the other, so it is always moving while it is in view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from sightwire.core.frame import Image
from sightwire.synth.truth import Box, ObjectTruth, clip_box
from sightwire.synth.video import check_size

Color = tuple[int, int, int]
CLOTHES: tuple[Color, ...] = ((70, 35, 25), (35, 35, 140), (40, 80, 35), (38, 38, 40), (30, 50, 85))
"""Dark clothes (BGR): they stand out against the light wall and the concrete floor."""
CRATES: tuple[Color, ...] = ((120, 50, 20), (40, 40, 40), (30, 30, 120))
HORIZON = 0.62
"""Where the wall meets the floor, share of the picture height (see room_texture)."""


@dataclass(frozen=True, slots=True)
class Actor:
    """A person or a cart crossing the picture: ``x`` of its left edge at
    ``start_frame`` is ``x0`` and it moves ``speed`` pixels per frame (signed)."""

    index: int
    kind: Literal["person", "box"]
    start_frame: int
    end_frame: int
    x0: float
    speed: float
    foot_y: int
    width: int
    height: int
    color: Color

    def box(self, frame: int) -> Box | None:
        """Where the actor is at ``frame`` (unclipped), or None outside its crossing."""
        if not self.start_frame <= frame <= self.end_frame:
            return None
        x = round(self.x0 + self.speed * (frame - self.start_frame))
        return (x, self.foot_y - self.height, x + self.width, self.foot_y)

    def draw(self, image: Image, frame: int) -> None:
        """Draw the actor into ``image`` as it is at ``frame`` (clipped by OpenCV)."""
        box = self.box(frame)
        if box is None:
            return
        if self.kind == "person":
            walked = abs(self.speed) * (frame - self.start_frame)
            _draw_person(image, box, self.color, walked)
        else:
            _draw_cart(image, box, self.color)


def plan_actors(
    rng: np.random.Generator,
    *,
    events: int | Sequence[float],
    frames: int,
    fps: float,
    size: tuple[int, int],
) -> list[Actor]:
    """Actors for a room clip: ``events`` is a count (spread over the clip by ``rng``)
    or the times, in seconds, at which each actor starts to enter."""
    check_size(size)
    width, height = size
    shapes = [
        _shape(rng, width, height)
        for _ in range(events if isinstance(events, int) else len(events))
    ]
    durations = [(width + w) / speed for _, w, _, speed in shapes]
    if isinstance(events, int):
        starts = _spread(rng, durations, frames / fps)
    else:
        starts = [float(t) for t in events]
    actors = []
    for index, ((kind, w, h, speed), start_s) in enumerate(zip(shapes, starts, strict=True)):
        rightward = bool(rng.random() < 0.5)
        start = round(start_s * fps)
        per_frame = speed / fps
        crossing = math.ceil((width + w) / per_frame)
        actors.append(
            Actor(
                index=index,
                kind=kind,
                start_frame=start,
                end_frame=start + crossing,
                x0=-w if rightward else width,
                speed=per_frame if rightward else -per_frame,
                foot_y=int(rng.uniform(0.75, 0.95) * height),
                width=w,
                height=h,
                color=CLOTHES[int(rng.integers(len(CLOTHES)))]
                if kind == "person"
                else CRATES[int(rng.integers(len(CRATES)))],
            )
        )
    return actors


def actor_truth(actor: Actor, frames: int, fps: float, size: tuple[int, int]) -> ObjectTruth:
    """Ground truth of one actor: its clipped box in every frame where it shows."""
    boxes = {}
    for frame in range(max(actor.start_frame, 0), min(actor.end_frame + 1, frames)):
        box = actor.box(frame)
        shown = None if box is None else clip_box(*box, *size)
        if shown is not None:
            boxes[frame] = shown
    seen = sorted(boxes) or [actor.start_frame]
    return ObjectTruth(
        id=f"O{actor.index + 1:03d}",
        kind=actor.kind,
        entry_frame=seen[0],
        exit_frame=seen[-1],
        entry_s=round(seen[0] / fps, 4),
        exit_s=round(seen[-1] / fps, 4),
        boxes=boxes,
    )


def _shape(
    rng: np.random.Generator, width: int, height: int
) -> tuple[Literal["person", "box"], int, int, float]:
    """Kind, width, height (pixels) and speed (pixels per second) of a new actor."""
    speed = float(rng.uniform(0.4, 0.6) * width)
    if rng.random() < 0.7:
        tall = int(rng.uniform(0.36, 0.46) * height)
        return "person", max(8, int(tall * 0.36)), tall, speed
    tall = int(rng.uniform(0.18, 0.24) * height)
    return "box", max(8, int(tall * 1.2)), tall, speed


def _spread(rng: np.random.Generator, durations: list[float], seconds: float) -> list[float]:
    """Start times that put each crossing in its own share of the clip."""
    if not durations:
        return []
    lead, tail = 1.0, 0.5
    slot = (seconds - lead - tail) / len(durations)
    if slot < max(durations):
        raise ValueError(
            f"{len(durations)} events need at least {max(durations) * len(durations) + 1.5:.1f} s"
            f" of clip, got {seconds:.1f} s: use fewer events or more seconds"
        )
    return [lead + i * slot + float(rng.uniform(0, slot - d)) for i, d in enumerate(durations)]


def _draw_person(image: Image, box: Box, color: Color, walked: float) -> None:
    """A person from the side: head, torso, swinging arms and legs."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    cx = x1 + w // 2
    swing = math.sin(walked / (0.35 * h) * math.pi) * 0.28 * w
    limb = max(2, int(0.12 * h))
    hip, shoulder = y1 + int(0.55 * h), y1 + int(0.25 * h)
    trousers = (45, 45, 50)
    for sign in (1, -1):
        foot = (int(cx + sign * swing), y2 - limb // 2 - 2)
        cv2.line(image, (cx, hip), foot, trousers, limb, cv2.LINE_AA)
        hand = (int(cx - sign * swing * 0.7), y1 + int(0.55 * h))
        cv2.line(image, (cx, shoulder), hand, color, max(2, limb * 2 // 3), cv2.LINE_AA)
    cv2.ellipse(
        image,
        (cx, y1 + int(0.4 * h)),
        (int(0.42 * w), int(0.2 * h)),
        0,
        0,
        360,
        color,
        -1,
        cv2.LINE_AA,
    )
    cv2.circle(image, (cx, y1 + int(0.1 * h)), int(0.09 * h), (60, 80, 110), -1, cv2.LINE_AA)


def _draw_cart(image: Image, box: Box, color: Color) -> None:
    """A hand cart carrying a crate: body, handle and two wheels."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    wheel = max(2, int(0.12 * h))
    edge = max(1, h // 40)
    body = (x2 - 1 - edge // 2, y2 - 2 * wheel)
    cv2.rectangle(image, (x1, y1), (x2 - 1, body[1]), color, -1)
    cv2.rectangle(image, (x1 + edge // 2, y1 + edge // 2), body, (20, 20, 20), edge)
    for cx in (x1 + w // 4, x2 - w // 4):
        cv2.circle(image, (cx, y2 - wheel - 1), wheel - 1, (25, 25, 25), -1, cv2.LINE_AA)
