"""Match tracks to detections: the pairing that maximises total similarity.

SciPy's ``linear_sum_assignment`` (an exact solver) is used when SciPy is
installed; otherwise a greedy matcher takes the most similar free pair first, which
gives the same answer whenever boxes of different objects barely overlap.

>>> import numpy as np
>>> similarity = np.array([[0.9, 0.3], [0.4, 0.0]])
>>> pairs, rows, cols = match(similarity, minimum=0.2)
>>> pairs.tolist(), rows.tolist(), cols.tolist()
([[0, 0]], [1], [1])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
Matrix = npt.NDArray[np.float64]
Solver = Callable[[Matrix], tuple[IntArray, IntArray]]


def _scipy_solver() -> Solver | None:
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError:  # pragma: no cover - depends on the installation
        return None

    def solve(similarity: Matrix) -> tuple[IntArray, IntArray]:
        rows, cols = linear_sum_assignment(similarity, maximize=True)
        return np.asarray(rows, np.int64), np.asarray(cols, np.int64)

    return solve


def greedy(similarity: Matrix) -> tuple[IntArray, IntArray]:
    """Rows and columns of pairs picked most-similar first; zero entries never pair."""
    candidates = np.argwhere(similarity > 0)
    order = np.argsort(-similarity[candidates[:, 0], candidates[:, 1]], kind="stable")
    used_rows: set[int] = set()
    used_cols: set[int] = set()
    rows: list[int] = []
    cols: list[int] = []
    for r, c in candidates[order].tolist():
        if r not in used_rows and c not in used_cols:
            used_rows.add(r)
            used_cols.add(c)
            rows.append(r)
            cols.append(c)
    return np.array(rows, np.int64), np.array(cols, np.int64)


SOLVER: Solver = _scipy_solver() or greedy
"""The solver :func:`match` uses: SciPy's exact one when available, else :func:`greedy`."""


def match(
    similarity: npt.NDArray[np.floating[Any]], minimum: float, solver: Solver | None = None
) -> tuple[IntArray, IntArray, IntArray]:
    """Pair rows with columns of ``similarity`` (N, M), maximising the total, using
    only entries of at least ``minimum`` (> 0).

    Returns the pairs (K, 2) as ``[row, column]``, the unmatched rows and the
    unmatched columns, each in ascending order.
    """
    sim = np.asarray(similarity, np.float64)
    n, m = sim.shape
    allowed = np.where(sim >= minimum, sim, 0.0)
    if n and m and allowed.any():
        # Zero entries add nothing to the total, so dropping the pairs the exact solver
        # filled in with them leaves the best matching over allowed entries.
        rows, cols = (solver or SOLVER)(allowed)
        keep = allowed[rows, cols] > 0
        rows, cols = rows[keep], cols[keep]
    else:
        rows = cols = np.zeros(0, np.int64)
    order = np.argsort(rows)
    pairs = np.stack([rows[order], cols[order]], axis=1).reshape(-1, 2)
    return pairs, _left(n, rows), _left(m, cols)


def _left(size: int, used: IntArray) -> IntArray:
    """The indices below ``size`` not in ``used``, ascending."""
    free = np.ones(size, bool)
    free[used] = False
    return np.flatnonzero(free).astype(np.int64)
