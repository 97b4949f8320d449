"""The constant-velocity filter: learns velocity in pixels per second at any fps."""

from __future__ import annotations

import numpy as np
import pytest

from sightwire.tracking.kalman import MotionNoise, initiate, predict, update

NOISE = MotionNoise()


@pytest.mark.parametrize("fps", [5.0, 25.0, 60.0])
def test_learns_velocity_in_pixels_per_second(fps: float) -> None:
    velocity = np.array([120.0, -30.0])
    start = np.array([[100.0, 400.0, 40.0, 60.0]])
    mean, cov = initiate(start, NOISE)
    for i in range(1, round(2 * fps)):
        mean, cov = predict(mean, cov, 1 / fps, NOISE)
        measured = start.copy()
        measured[0, :2] += velocity * i / fps
        mean, cov = update(mean, cov, measured, NOISE)
    np.testing.assert_allclose(mean[0, 4:6], velocity, rtol=0.05)
    np.testing.assert_allclose(mean[0, 6:], 0.0, atol=1.0)


def test_prediction_independent_of_step_count() -> None:
    mean, cov = initiate(np.array([[0.0, 0, 10, 10]]), NOISE)
    mean[0, 4:6] = [50.0, 20.0]
    one_mean, _ = predict(mean, cov, 1.0, NOISE)
    many_mean, many_cov = mean, cov
    for _ in range(25):
        many_mean, many_cov = predict(many_mean, many_cov, 0.04, NOISE)
    np.testing.assert_allclose(one_mean, many_mean)
    np.testing.assert_allclose(one_mean[0, :2], [50.0, 20.0])
    assert np.trace(many_cov[0]) > np.trace(cov[0])


def test_uncertainty_grows_with_time_and_shrinks_with_measurement() -> None:
    mean, cov = initiate(np.array([[0.0, 0, 10, 10]]), NOISE)
    _, short = predict(mean, cov, 0.1, NOISE)
    _, long = predict(mean, cov, 1.0, NOISE)
    assert short[0, 0, 0] < long[0, 0, 0]
    _, corrected = update(mean, long, np.array([[0.0, 0, 10, 10]]), NOISE)
    assert corrected[0, 0, 0] < long[0, 0, 0]
    np.testing.assert_allclose(corrected, corrected.transpose(0, 2, 1))


def test_zero_step_and_no_tracks_are_no_ops() -> None:
    mean, cov = initiate(np.array([[5.0, 5, 10, 10]]), NOISE)
    same_mean, same_cov = predict(mean, cov, 0.0, NOISE)
    assert same_mean is mean and same_cov is cov
    empty_mean, empty_cov = initiate(np.zeros((0, 4)), NOISE)
    assert predict(empty_mean, empty_cov, 1.0, NOISE)[0].shape == (0, 8)
    assert update(empty_mean, empty_cov, np.zeros((0, 4)), NOISE)[1].shape == (0, 8, 8)
