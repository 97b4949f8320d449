"""Procedural textures, drawn once per clip: belt, floor, a storeroom wall with shelves.

>>> import numpy as np
>>> room = room_texture(np.random.default_rng(0), 64, 96)
>>> room.shape, room.dtype
((64, 96, 3), dtype('uint8'))
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from sightwire.core.frame import Image

Field = npt.NDArray[np.float32]
Color = tuple[int, int, int]


def smooth_noise(rng: np.random.Generator, height: int, width: int, cell: int) -> Field:
    """Noise with features about ``cell`` pixels wide, scaled to unit standard deviation."""
    small = rng.normal(size=(height // cell + 2, width // cell + 2)).astype(np.float32)
    field = np.asarray(
        cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC), np.float32
    )
    return np.asarray((field - field.mean()) / max(float(field.std()), 1e-6), np.float32)


def fine_grain(rng: np.random.Generator, height: int, width: int, sigma: float) -> Field:
    """Pixel-scale grain, slightly blurred like a real lens would."""
    grain = rng.normal(0.0, sigma, (height, width)).astype(np.float32)
    return np.asarray(cv2.GaussianBlur(grain, (0, 0), 0.8), dtype=np.float32)


def shade(base: Color, light: Field) -> Image:
    """A picture of colour ``base`` (BGR) brightened or darkened by ``light`` grey levels."""
    out = np.asarray(base, np.float32)[None, None, :] + light[:, :, None]
    return np.asarray(np.clip(out, 0, 255), np.uint8)


def belt_texture(rng: np.random.Generator, rows: int, period: int) -> Image:
    """One period of rubber belt (rows x period) that tiles seamlessly along x.

    Fine grain, faint longitudinal streaks, specks of dust and a seam at x = 0, all of
    low contrast, so the belt visibly moves but a downscaled view barely changes.
    """
    light = fine_grain(rng, rows, period, 6.0)
    light += np.repeat(smooth_noise(rng, rows, 1, 6) * 3.0, period, axis=1)
    specks = rng.integers(0, rows * period, size=rows * period // 2500)
    light.reshape(-1)[specks] += 28.0
    light[:, :3] -= 12.0  # the seam, exactly where the tiles meet
    return shade((64, 66, 68), light)


def floor_texture(rng: np.random.Generator, height: int, width: int) -> Image:
    """Concrete: large blotches and fine grain."""
    light = smooth_noise(rng, height, width, 90) * 8.0 + fine_grain(rng, height, width, 4.0)
    return shade((146, 150, 152), light)


def conveyor_background(
    rng: np.random.Generator, height: int, width: int, belt_rows: tuple[int, int]
) -> Image:
    """Floor with steel rails along the belt and yellow safety lines; the belt band is
    left for the frame loop to fill."""
    image = floor_texture(rng, height, width)
    top, bottom = belt_rows
    rail = max(4, height // 50)
    for y1, y2 in ((top - rail, top), (bottom, bottom + rail)):
        image[max(y1, 0) : y2] = (176, 178, 180)
        image[max(y1, 0) : max(y1, 0) + 2] = (96, 98, 100)
    stripe = max(3, height // 120)
    for y in (top - 3 * rail, bottom + 3 * rail):
        if y >= 0 and y + stripe <= height:
            image[y : y + stripe] = (30, 190, 225)
    return image


def room_texture(rng: np.random.Generator, height: int, width: int) -> Image:
    """A storeroom seen from the side: wall with shelves and a door, concrete floor."""
    horizon = int(height * 0.62)
    image = floor_texture(rng, height, width)
    wall = smooth_noise(rng, horizon, width, 120) * 5.0 + fine_grain(rng, horizon, width, 2.0)
    image[:horizon] = shade((178, 198, 210), wall)
    image[horizon - max(3, height // 90) : horizon] = (70, 72, 80)
    door_x = int(rng.uniform(0.05, 0.2) * width)
    door_w = max(8, width // 12)
    cv2.rectangle(image, (door_x, int(height * 0.2)), (door_x + door_w, horizon), (60, 90, 120), -1)
    for unit in range(2):
        x1 = int((0.35 + 0.32 * unit + rng.uniform(-0.03, 0.03)) * width)
        _draw_shelf(image, rng, x1, x1 + int(width * 0.22), int(height * 0.12), horizon)
    return image


def _draw_shelf(image: Image, rng: np.random.Generator, x1: int, x2: int, y1: int, y2: int) -> None:
    """A metal shelving unit with boards and a few boxes on each board."""
    post = max(2, (x2 - x1) // 40)
    cv2.rectangle(image, (x1, y1), (x1 + post, y2), (80, 80, 84), -1)
    cv2.rectangle(image, (x2 - post, y1), (x2, y2), (80, 80, 84), -1)
    boards = np.linspace(y1, y2, 4).astype(int)[1:]
    previous = y1
    for board in boards:
        cv2.rectangle(image, (x1, board - post), (x2, board), (110, 112, 118), -1)
        x = x1 + post + 2
        while x < x2 - post - 8:
            box_w = int(rng.uniform(0.12, 0.3) * (x2 - x1))
            box_h = int(rng.uniform(0.4, 0.85) * (board - post - previous))
            color = tuple(int(c) for c in rng.integers(70, 200, 3))
            right = min(x + box_w, x2 - post - 2)
            cv2.rectangle(image, (x, board - post - box_h), (right, board - post), color, -1)
            x = right + int(rng.integers(2, 10))
        previous = board


def illumination(kind: str, height: int, width: int) -> Image | None:
    """A multiplicative light map (255 = full light) or None for even light.

    ``uneven``: one overhead lamp, the corners get about 70 % of the light.
    """
    if kind == "even":
        return None
    if kind != "uneven":
        raise ValueError(f"lighting must be 'even' or 'uneven', got {kind!r}")
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy, spread = 0.42 * width, 0.45 * height, 0.35 * width
    gain = 0.65 + 0.35 * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * spread**2))
    light = np.clip(gain * 255.0, 0, 255).astype(np.uint8)
    return np.repeat(light[:, :, None], 3, axis=2)
