"""Exact histograms of durations: each distinct value with how many cases had it. No I/O.

Adding histograms keeps every value, so a median or a percentile of the sum
is the one of all the values together, to the last bit.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

Values = npt.NDArray[Any]
Counts = npt.NDArray[np.int64]


class Histogram:
    """An exact histogram: each distinct value with how many times it occurred."""

    def __init__(self, dtype: type[np.generic]) -> None:
        self._dtype = dtype
        self._added: Counter[float | int] = Counter()
        self._parts: list[tuple[Values, Counts]] = []

    def add(self, value: float) -> None:
        """Count one occurrence of ``value``."""
        self._added[value] += 1

    def extend(self, values: Values, counts: Counts) -> None:
        """Add a stored histogram's values and counts."""
        if len(values):
            self._parts.append((values, counts))

    def merge(self, other: Histogram) -> None:
        """Add everything ``other`` counted."""
        self._added.update(other._added)
        self._parts.extend(other._parts)

    def arrays(self) -> tuple[Values, Counts]:
        """Return the distinct values in ascending order and their counts."""
        parts = list(self._parts)
        if self._added:
            keys = sorted(self._added)
            parts.append(
                (
                    np.array(keys, dtype=self._dtype),
                    np.array([self._added[k] for k in keys], dtype=np.int64),
                )
            )
        if not parts:
            return np.array([], dtype=self._dtype), np.array([], dtype=np.int64)
        if len(parts) == 1:
            return parts[0]
        values = np.concatenate([p[0] for p in parts])
        counts = np.concatenate([p[1] for p in parts])
        distinct, where = np.unique(values, return_inverse=True)
        return distinct, np.bincount(where, weights=counts).astype(np.int64)

    def ranks(self, positions: Iterable[int]) -> list[Any]:
        """Return the values at ``positions`` (0-based) of all occurrences in ascending order."""
        values, counts = self.arrays()
        cumulative = np.cumsum(counts)
        return [values[int(np.searchsorted(cumulative, k, side="right"))].item() for k in positions]


def median_and_p90(
    histogram: Histogram, total: int, hours: Callable[[Any], float]
) -> tuple[float, float]:
    """Return the median and p90 (in hours) as ``statistics.median`` and the report's p90 do."""
    middle = [total // 2] if total % 2 else [total // 2 - 1, total // 2]
    p90 = min(total - 1, int(0.9 * total))
    found = histogram.ranks([*middle, p90])
    median = statistics.median([hours(v) for v in found[:-1]])
    return median, hours(found[-1])
