"""FpsSampler: keeps frames on a fixed time grid, robust to jitter and gaps."""

from __future__ import annotations

import itertools
import random

import pytest

from sightwire.sources.sampling import FpsSampler


def kept(sampler: FpsSampler, pts: list[float | None]) -> list[float]:
    """The resolved pts of the frames ``sampler`` keeps."""
    return [t for p in pts if (t := sampler.offer(p)) is not None]


def test_25_to_5_fps_keeps_every_fifth_frame() -> None:
    result = kept(FpsSampler(5.0), [i / 25 for i in range(100)])
    assert result == pytest.approx([i / 5 for i in range(20)])


def test_unset_fps_keeps_every_frame() -> None:
    assert len(kept(FpsSampler(None), [i / 25 for i in range(100)])) == 100


def test_fractional_rate_does_not_drift() -> None:
    result = kept(FpsSampler(7.0), [i / 30 for i in range(300)])  # 10 s
    assert len(result) == 70
    gaps = [b - a for a, b in itertools.pairwise(result)]
    assert min(gaps) >= 1 / 7 - 1 / 30 and max(gaps) <= 1 / 7 + 1 / 30


def test_jitter_keeps_the_rate_and_spacing() -> None:
    rng = random.Random(7)
    pts = [i / 30 + rng.uniform(-0.006, 0.006) for i in range(600)]  # 20 s, 30 fps
    result = kept(FpsSampler(10.0), pts)
    assert 199 <= len(result) <= 201
    gaps = [b - a for a, b in itertools.pairwise(result)]
    assert min(gaps) > 0.06 and max(gaps) < 0.14


def test_stream_slower_than_target_keeps_everything_without_bursts() -> None:
    pts = [i / 3 for i in range(30)]
    assert kept(FpsSampler(5.0), pts) == pytest.approx(pts)


def test_gap_restarts_the_grid() -> None:
    pts = [i / 25 for i in range(25)] + [10 + i / 25 for i in range(25)]
    result = kept(FpsSampler(5.0), pts)
    assert result == pytest.approx([i / 5 for i in range(5)] + [10 + i / 5 for i in range(5)])


def test_missing_pts_are_estimated_from_the_frame_step() -> None:
    sampler = FpsSampler(5.0, nominal_step=0.04)
    result = kept(sampler, [None] * 50)
    assert result == pytest.approx([i / 5 for i in range(10)])


def test_missing_pts_use_the_learnt_step_between_real_ones() -> None:
    pts: list[float | None] = [i / 25 if i % 3 else None for i in range(1, 101)]
    result = kept(FpsSampler(5.0), pts)
    assert len(result) == 20


def test_missing_pts_without_a_step_use_the_wall_clock() -> None:
    now = [100.0]
    sampler = FpsSampler(2.0, clock=lambda: now[0])
    decisions = []
    for _ in range(10):
        decisions.append(sampler.offer(None) is not None)
        now[0] += 0.25
    assert decisions == [True, False] * 5


def test_backwards_jump_restarts_the_grid() -> None:
    pts = [100 + i / 25 for i in range(25)] + [i / 25 for i in range(25)]
    result = kept(FpsSampler(5.0), pts)
    assert len(result) == 10 and result[5] == 0.0


def test_rejects_nonpositive_fps() -> None:
    with pytest.raises(ValueError, match="positive"):
        FpsSampler(0.0)
