"""Matching: the exact solver maximises the total, both solvers respect the minimum."""

from __future__ import annotations

import numpy as np
import pytest

from sightwire.tracking.assignment import SOLVER, Solver, greedy, match

SOLVERS = pytest.mark.parametrize("solver", [SOLVER, greedy], ids=["default", "greedy"])


@SOLVERS
def test_pairs_only_above_minimum(solver: Solver) -> None:
    sim = np.array([[0.9, 0.1, 0.0], [0.15, 0.05, 0.6]])
    pairs, rows, cols = match(sim, 0.2, solver)
    assert pairs.tolist() == [[0, 0], [1, 2]]
    assert rows.tolist() == []
    assert cols.tolist() == [1]


@SOLVERS
@pytest.mark.parametrize("shape", [(0, 0), (0, 3), (3, 0)])
def test_empty(solver: Solver, shape: tuple[int, int]) -> None:
    pairs, rows, cols = match(np.zeros(shape), 0.2, solver)
    assert pairs.shape == (0, 2)
    assert rows.tolist() == list(range(shape[0]))
    assert cols.tolist() == list(range(shape[1]))


@SOLVERS
def test_nothing_similar_enough(solver: Solver) -> None:
    pairs, rows, cols = match(np.full((2, 2), 0.1), 0.5, solver)
    assert len(pairs) == 0 and rows.tolist() == [0, 1] and cols.tolist() == [0, 1]


def test_exact_solver_beats_greedy_on_total() -> None:
    pytest.importorskip("scipy")
    # Greedy takes 0.9 first and is left with 0.1; the best total is 0.8 + 0.8.
    sim = np.array([[0.9, 0.8], [0.8, 0.1]])
    pairs, _, _ = match(sim, 0.05, SOLVER)
    assert pairs.tolist() == [[0, 1], [1, 0]]
    greedy_pairs, _, _ = match(sim, 0.05, greedy)
    assert greedy_pairs.tolist() == [[0, 0], [1, 1]]


@SOLVERS
def test_each_row_and_column_used_once(solver: Solver) -> None:
    rng = np.random.default_rng(0)
    sim = rng.uniform(0, 1, (30, 25))
    pairs, rows, cols = match(sim, 0.3, solver)
    assert len(set(pairs[:, 0])) == len(pairs) and len(set(pairs[:, 1])) == len(pairs)
    assert (sim[pairs[:, 0], pairs[:, 1]] >= 0.3).all()
    assert sorted([*pairs[:, 0], *rows]) == list(range(30))
    assert sorted([*pairs[:, 1], *cols]) == list(range(25))
