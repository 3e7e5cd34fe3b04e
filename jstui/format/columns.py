"""Column widths from the plain strings a table shows: never measured from rendered cells."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.cells import cell_len

__all__ = ["ColumnWidths"]


class ColumnWidths:
    """The widest value of each column (at least its label), from the plain strings shown.

    Each column keeps how many of its values have each width, so adding, removing or changing a
    row costs a few dictionary updates, and a column narrows as soon as its widest value goes.
    """

    def __init__(self, labels: Sequence[str]) -> None:
        self._labels = [cell_len(label) for label in labels]
        self._counts: list[Counter[int]] = [Counter() for _ in labels]

    def add(self, values: Sequence[str]) -> None:
        for counts, value in zip(self._counts, values, strict=True):
            counts[cell_len(value)] += 1

    def remove(self, values: Sequence[str]) -> None:
        for counts, value in zip(self._counts, values, strict=True):
            width = cell_len(value)
            counts[width] -= 1
            if counts[width] <= 0:
                del counts[width]

    def change(self, before: Sequence[str], after: Sequence[str]) -> None:
        for counts, old, new in zip(self._counts, before, after, strict=True):
            if old != new:
                old_width, new_width = cell_len(old), cell_len(new)
                if old_width != new_width:
                    counts[old_width] -= 1
                    if counts[old_width] <= 0:
                        del counts[old_width]
                    counts[new_width] += 1

    def clear(self) -> None:
        for counts in self._counts:
            counts.clear()

    def widths(self) -> tuple[int, ...]:
        """Each column's width: its widest value, or its label when that is wider."""
        return tuple(
            max(label, max(counts, default=0))
            for label, counts in zip(self._labels, self._counts, strict=True)
        )
