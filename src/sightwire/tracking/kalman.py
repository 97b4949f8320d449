"""A constant-velocity Kalman filter over boxes, batched over every track at once.

The state of a box is ``[cx, cy, w, h, vx, vy, vw, vh]``: centre, size and their
rates in pixels per **second**, so the filter is the same at any frame rate and
across skipped frames. Noise is proportional to the box size (x and w to the width,
y and h to the height), so near and far objects are treated alike.

>>> import numpy as np
>>> noise = MotionNoise()
>>> mean, cov = initiate(np.array([[100.0, 50.0, 20.0, 40.0]]), noise)
>>> mean, cov = update(*predict(mean, cov, 0.1, noise), np.array([[102.0, 50, 20, 40]]), noise)
>>> bool(mean[0, 4] > 0)  # it has started to learn the rightward motion
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class MotionNoise:
    """Standard deviations of the motion model, as shares of the box size.

    ``measurement``: detector box error per coordinate. ``position`` and
    ``velocity``: process noise per √second (how far the true motion wanders from
    constant velocity). ``initial_velocity``: prior spread of a new track's speed,
    in box sizes per second.
    """

    measurement: float = 0.05
    position: float = 0.25
    velocity: float = 0.8
    initial_velocity: float = 1.5


def _scale(boxes: Array) -> Array:
    """Per-coordinate size of each box (N, 4): width for x and w, height for y and h."""
    wh = np.maximum(boxes[:, 2:4], 1.0)
    scale: Array = np.concatenate([wh, wh], axis=1)
    return scale


def initiate(boxes: Array, noise: MotionNoise) -> tuple[Array, Array]:
    """State (N, 8) and covariance (N, 8, 8) of new tracks at measured ``boxes``
    (N, 4, centre x, centre y, width, height), at rest."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    mean = np.concatenate([boxes, np.zeros_like(boxes)], axis=1)
    scale = _scale(boxes)
    std = np.concatenate([2 * noise.measurement * scale, noise.initial_velocity * scale], axis=1)
    cov: Array = np.zeros((len(boxes), 8, 8))
    idx = np.arange(8)
    cov[:, idx, idx] = std**2
    return mean, cov


def predict(mean: Array, cov: Array, dt: float, noise: MotionNoise) -> tuple[Array, Array]:
    """Advance every state ``dt`` seconds; the uncertainty grows with ``dt``."""
    if dt <= 0 or len(mean) == 0:
        return mean, cov
    # F = [[I, dt·I], [0, I]] applied blockwise to P = [[A, B], [Bᵀ, C]]:
    # F P Fᵀ = [[A + dt(B + Bᵀ) + dt²C, B + dt·C], [(B + dt·C)ᵀ, C]].
    new_mean: Array = mean.copy()
    new_mean[:, :4] += dt * mean[:, 4:]
    a, b, c = cov[:, :4, :4], cov[:, :4, 4:], cov[:, 4:, 4:]
    new_cov: Array = cov.copy()
    new_cov[:, :4, :4] = a + dt * (b + b.transpose(0, 2, 1)) + dt * dt * c
    new_cov[:, :4, 4:] = b + dt * c
    new_cov[:, 4:, :4] = new_cov[:, :4, 4:].transpose(0, 2, 1)
    scale = _scale(mean)
    var = np.concatenate([(noise.position * scale) ** 2, (noise.velocity * scale) ** 2], axis=1)
    idx = np.arange(8)
    new_cov[:, idx, idx] += var * dt
    return new_mean, new_cov


def update(mean: Array, cov: Array, boxes: Array, noise: MotionNoise) -> tuple[Array, Array]:
    """Correct states (N, 8) with measured ``boxes`` (N, 4, centre/size), row by row."""
    if len(mean) == 0:
        return mean, cov
    r = (noise.measurement * _scale(mean)) ** 2
    innovation_cov = cov[:, :4, :4].copy()
    idx = np.arange(4)
    innovation_cov[:, idx, idx] += r
    # Gain K = P Hᵀ S⁻¹, computed as a solve of S Kᵀ = H P (S is symmetric).
    gain = np.linalg.solve(innovation_cov, cov[:, :4, :]).transpose(0, 2, 1)
    innovation = np.asarray(boxes, np.float64).reshape(-1, 4) - mean[:, :4]
    new_mean: Array = mean + (gain @ innovation[:, :, None])[:, :, 0]
    new_cov: Array = cov - gain @ cov[:, :4, :]
    new_cov = (new_cov + new_cov.transpose(0, 2, 1)) / 2
    return new_mean, new_cov
