"""`LiveTable`: a `DataTable` whose cell updates redraw only the rows they change.

Textual's `DataTable.update_cell` bumps the table's update counter, which is part of every render
cache key: after any one cell changes, every visible line is rendered again from its cells (each
cell through Rich), the next frame. A table of 1,000 connections whose few changed cells are
updated every two seconds then costs a full redraw per poll (~150 ms of a 160-column table on
this machine, measured with `benchmarks/observe.py`), and keys wait behind it.

`update_cells` writes the new values and drops only the changed rows' entries from the render
caches (cells, row lines, screen lines, renderables), then refreshes those rows' regions. Adding,
removing and sorting rows keep Textual's own behaviour. The caches are private to Textual's
`DataTable`; Textual is pinned (pyproject.toml) and tests/widgets/test_table.py checks that an
update still shows and that other rows stay cached, so an upgrade that changes them fails there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

__all__ = ["LiveTable"]

CellType = TypeVar("CellType")


class LiveTable(DataTable[CellType]):
    """A `DataTable` with `update_cells`: changes redraw their rows, not the whole table."""

    def update_cells(
        self, changes: Iterable[tuple[RowKey | str, ColumnKey | str, CellType]]
    ) -> int:
        """Set each (row, column) to its value, without re-measuring column widths; returns how
        many rows changed. `CellDoesNotExist` for a row or column the table does not have."""
        rows: set[RowKey] = set()
        for row, column, value in changes:
            row_key = RowKey(row) if isinstance(row, str) else row
            column_key = ColumnKey(column) if isinstance(column, str) else column
            if row_key not in self._row_locations or column_key not in self._column_locations:
                raise CellDoesNotExist(
                    f"No cell exists for row_key={row!r}, column_key={column!r}."
                )
            self._data[row_key][column_key] = value
            rows.add(row_key)
        if rows:
            self._forget_rows(rows)
            for row_key in rows:
                self.refresh_row(self.get_row_index(row_key))
        return len(rows)

    def _forget_rows(self, rows: set[RowKey]) -> None:
        """Drop the render cache entries of `rows`; every other row's stay valid."""
        for index in (self.get_row_index(row_key) for row_key in rows):
            self._row_renderable_cache.discard((self._update_count, index))
        _discard_where(self._cell_render_cache, lambda key: key[0] in rows)
        _discard_where(self._row_render_cache, lambda key: key[0] in rows)

        def on_changed_row(key: Any) -> bool:
            try:
                return self._get_offsets(key[0])[0] in rows
            except LookupError:
                return False

        _discard_where(self._line_cache, on_changed_row)


def _discard_where(cache: Any, doomed: Callable[[Any], bool]) -> None:
    keys = cache.keys()  # an LRUCache: no iteration of its own
    for key in [key for key in keys if doomed(key)]:
        cache.discard(key)
