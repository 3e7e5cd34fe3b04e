"""`LiveTable`: a `DataTable` whose cell updates redraw only the rows they change.

Textual's `DataTable.update_cell` bumps the table's update counter, which is part of every render
cache key: after any one cell changes, every visible line is rendered again from its cells (each
cell through Rich), the next frame. A table of 1,000 connections whose few changed cells are
updated every two seconds then costs a full redraw per poll (~150 ms of a 160-column table on
this machine, measured with `benchmarks/observe.py`), and keys wait behind it.

`update_cells` writes the new values and drops only the changed rows' entries from the render
caches (cells, row lines, screen lines, renderables), then refreshes those rows' regions (or the
whole widget, once, when more rows changed than a screen shows). A row added at the end of a table
whose owner gives the widths leaves the other rows cached; removing and sorting rows keep
Textual's own behaviour. A cursor on the last row stays in view when a horizontal scrollbar
comes and takes a line. A cursor move draws the two rows it changed (and a row scrolled into
view), not every visible line: Textual's line cache keys hold the cursor's position for all lines.

At 1,000 rows Textual's own bookkeeping is the cost: every changed or added cell is measured
again on idle (a smaller value re-measures its whole column), `remove_row` rebuilds the row index
per row, and `refresh_row` sums the heights of every row above. So a table that knows its values
can take over: `ColumnWidths` (`jstui.format.columns`) keeps the widest plain value per column
from counts (a change costs O(1), never a re-measure), `set_widths` hands those widths to the
table (and from then on added rows are not measured), and `place_rows` makes the table hold
exactly the given rows in the given order in one step (a filter, a sort, streams that came and
went). Writing rows nobody sees is the rest: an owner leaves a changed row out of view as it was
(`hold`), and the table hands it back (`rows_in_view`) when a scroll, a resize or a new order
brings it within `VIEW_MARGIN` rows of the screen; the Streams, Server and KV panes work so.

The caches are private to Textual's `DataTable`; Textual is pinned (pyproject.toml) and
tests/widgets/test_table.py checks that an update still shows, that other rows stay cached and
that `place_rows`/`set_widths` show what they promise, so an upgrade that changes them fails there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain
from typing import Any, Self, TypeVar

from rich.style import Style
from rich.text import TextType
from textual import events
from textual._segment_tools import line_crop
from textual._two_way_dict import TwoWayDict
from textual.coordinate import Coordinate
from textual.geometry import Size
from textual.render import measure
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets._data_table import default_cell_formatter
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, Row, RowKey

__all__ = ["LiveTable"]

CellType = TypeVar("CellType")

VIEW_MARGIN = 50
"""Rows above and below the screen that `in_view` counts as in view: a page key lands on them."""

_NOWHERE = Coordinate(-2, -2)
"""The cursor or hover as a line's cache key holds it when they are on another row."""


class LiveTable(DataTable[CellType]):
    """A `DataTable` with `update_cells`: changes redraw their rows, not the whole table; with
    `set_widths` and `place_rows` its owner sets widths and rows without any re-measuring; with
    `hold` and `rows_in_view` it leaves rows out of view unwritten until they come into view."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows_in_view: Callable[[list[str]], object] | None = None
        """The owner's writer of held rows (`hold`): called with their keys once in view."""
        self._held: set[str] = set()
        """Keys of rows showing older cells than their owner holds (`hold`)."""

    _height_before = 0
    """The table's height before the last resize."""

    _widths_given = False
    """`set_widths` was called: the owner keeps the widths, new rows need no measuring."""

    def set_widths(self, widths: Mapping[ColumnKey | str, int]) -> bool:
        """Give columns their content widths (padding excluded); returns whether any changed.

        Only a change costs a redraw of the visible rows; the same widths again cost nothing."""
        self._widths_given = True
        changed = False
        for key, width in widths.items():
            column = self.columns[ColumnKey(key) if isinstance(key, str) else key]
            if column.auto_width or column.width != width:
                column.auto_width = False
                column.width = column.content_width = width
                changed = True
        if changed:
            self._update_count += 1  # part of every render cache key: all rows draw anew
            self._size_to_widths()
            self.refresh()
        return changed

    def place_rows(self, keys: Sequence[str], cells: Callable[[str], Sequence[CellType]]) -> bool:
        """Hold exactly the rows `keys`, in that order; `cells(key)` gives a new row's values.

        Rows that stay keep their values (change them with `update_cells`). Returns whether
        anything changed; the same rows in the same order cost one comparison."""
        order = self._row_locations
        if len(keys) == len(order) and all(
            order.get(RowKey(key)) == index for index, key in enumerate(keys)
        ):
            return False
        wanted = {RowKey(key) for key in keys}
        for gone in [key for key in self.rows if key not in wanted]:
            del self.rows[gone]
            del self._data[gone]
        column_keys = [column.key for column in self.ordered_columns]
        for key in keys:
            row_key = RowKey(key)
            if row_key not in self.rows:
                self._data[row_key] = dict(zip(column_keys, cells(key), strict=True))
                self.rows[row_key] = Row(row_key, 1)
                if not self._widths_given:
                    self._new_rows.add(row_key)
        self._row_locations = TwoWayDict({RowKey(key): index for index, key in enumerate(keys)})
        if self._held:
            self._held.intersection_update(keys)
        self._update_count += 1
        self._require_update_dimensions = True
        self.check_idle()
        # Clamp the cursor into the new rows; the owner moves it onto its row afterwards.
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self.refresh()
        self.write_held()  # rows the new order (a filter, a sort) brought into view
        return True

    def rows_on_screen(self) -> range:
        """The indexes of the rows the table's height can show, as it is scrolled now."""
        top = max(int(self.scroll_y), 0)
        return range(top, top + max(self.size.height, 1))

    def _near_rows(self, margin: int = VIEW_MARGIN) -> range:
        """The indexes of the rows on screen and within `margin` rows of it, as the table is
        scrolled now."""
        screen = self.rows_on_screen()
        last = min(screen.stop + margin, len(self._row_locations) - 1)
        return range(max(screen.start - margin, 0), last + 1)

    def in_view(self, margin: int = VIEW_MARGIN) -> Callable[[str], bool]:
        """Whether the row of a key is among `_near_rows(margin)` (a row the table does not hold
        is not)."""
        near = self._near_rows(margin)
        where = self._row_locations

        def is_near(key: str) -> bool:
            index = where.get(RowKey(key))
            return index is not None and index in near

        return is_near

    def hold(self, key: str) -> None:
        """Leave the row of `key` showing older cells than its owner holds, while it is out of
        view (at 1,000 busy rows, writing rows nobody sees was a third of each refresh). Once a
        scroll or `place_rows` brings it into view, `rows_in_view` is called with it at once
        (after a resize, once the new size is laid out): the owner writes it then. An owner that
        moves rows otherwise (`add_row`, `remove_row`, `sort`) calls `write_held` afterwards."""
        self._held.add(key)

    def release(self, key: str) -> bool:
        """Stop holding the row of `key`; whether it was held (the owner writes all of it)."""
        if key in self._held:
            self._held.discard(key)
            return True
        return False

    def write_held(self) -> None:
        """Hand the held rows now in view (`in_view`) to `rows_in_view`. Costs what the smaller
        of the two costs: the held rows, or the rows in view (a KV bucket can hold thousands)."""
        held = self._held
        if not held or self.rows_in_view is None:
            return
        near = self._near_rows()
        if len(held) > len(near):
            key_at = self._row_locations.get_key
            window = (key_at(index) for index in near)
            arrived = [key.value for key in window if key is not None and key.value in held]
        else:
            is_near = self.in_view()
            arrived = [key for key in held if is_near(key)]
        held.difference_update(arrived)
        if arrived:
            self.rows_in_view(arrived)

    def add_row(
        self,
        *cells: CellType,
        height: int | None = 1,
        key: str | None = None,
        label: TextType | None = None,
    ) -> RowKey:
        """Textual's, except that a row added at the end of a table whose owner gives the widths
        leaves the other rows' rendering cached: Textual bumps the update counter that every
        render cache key holds, so each added row drew every visible line again, cell by cell
        (the request history, one row a request: ~5 ms a frame at 160 columns). Nothing of an
        earlier row depends on a row after it once no column can widen; a label (a new label
        column) or a row of automatic height still renews them all."""
        count = self._update_count
        row_key = super().add_row(*cells, height=height, key=key, label=label)
        if self._widths_given and label is None and height is not None:
            self._update_count = count
            # What does depend on the rows that exist, keyed by that counter:
            self._offset_cache.clear()
            self._ordered_row_cache.clear()
            self._row_renderable_cache.discard((count, self.row_count - 1))
        return row_key

    def remove_row(self, row_key: RowKey | str) -> None:
        super().remove_row(row_key)
        self._held.discard(row_key.value if isinstance(row_key, RowKey) else row_key)

    def clear(self, columns: bool = False) -> Self:
        self._held.clear()
        return super().clear(columns)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._held:
            self.write_held()  # scrolled to: written now, before the frame that shows them

    def on_resize(self, event: events.Resize) -> None:
        if self._held:
            self.call_after_refresh(self.write_held)  # a taller table shows more rows
        # A table made shorter (a maximized pane restored, a smaller terminal) kept its scroll:
        # the cursor's row could end below the bottom, with no row highlighted while a detail
        # still described it. Only then: a user who scrolled away from the cursor stays there.
        before, self._height_before = self._height_before, event.size.height
        if event.size.height < before and self.show_cursor and self.cursor_type == "row":
            top = int(self.scroll_y)
            if top <= self.cursor_row < top + before:  # it showed: keep it showing
                self.call_after_refresh(self._scroll_cursor_into_view)

    def watch_show_horizontal_scrollbar(self, shown: bool) -> None:
        # A table following its newest row (the request history, the events): the vertical
        # scrollbar that comes with more rows can make the columns too wide, and a horizontal
        # one then takes a line, the one the newest row was just scrolled to.
        if shown and self.row_count and self.cursor_row == self.row_count - 1:
            self.call_next(self.move_cursor, row=self.cursor_row, animate=False)

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        # Textual's own: the same, but with the cursor and hover in the cache keys only on the
        # rows they are on. Its keys hold them for every line, so each cursor move rendered every
        # visible line again, cell by cell (60-70 ms a key in a 160-column table, observe.py).
        if self.cursor_type != "row":
            return super()._render_line(y, x1, x2, base_style)
        width = self.size.width
        try:
            row_key, line_in_row = self._get_offsets(y)
        except LookupError:
            return Strip.blank(width, base_style)
        row = self._row_locations.get(row_key)
        if row is None:
            row = -1  # the header, as Textual numbers it: hovering it highlights it
        cursor = self.cursor_coordinate
        cursor = cursor if self.show_cursor and cursor.row == row else _NOWHERE
        hover = self.hover_coordinate
        hover = hover if self._show_hover_cursor and hover.row == row else _NOWHERE
        cache_key = (
            y,
            x1,
            x2,
            width,
            cursor,
            hover,
            base_style,
            self.cursor_type,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._line_cache.get(cache_key)
        if cached is not None:
            return cached
        fixed, scrollable = self._render_line_in_row(
            row_key, line_in_row, base_style, cursor_location=cursor, hover_location=hover
        )
        fixed_width = sum(
            column.get_render_width(self) for column in self.ordered_columns[: self.fixed_columns]
        )
        segments = list(chain.from_iterable(fixed)) if fixed else []
        segments += line_crop(list(chain.from_iterable(scrollable)), x1 + fixed_width, x2, width)
        strip = Strip(segments).adjust_cell_length(width, base_style).simplify()
        self._line_cache[cache_key] = strip
        return strip

    def _update_dimensions(self, new_rows: Iterable[Any]) -> None:
        if self._widths_given:
            self._size_to_widths()  # the owner's widths hold: nothing to measure
        else:
            super()._update_dimensions(new_rows)

    def _size_to_widths(self) -> None:
        width = sum(column.get_render_width(self) for column in self.columns.values())
        header = self.header_height if self.show_header else 0
        size = Size(width + self._row_label_column_width, self._total_row_height + header)
        if size == self.virtual_size:
            return
        if not self._sized_by_container():
            self.virtual_size = size  # (an auto-sized table grows: the layout must follow)
            return
        # More rows in a box of the same size: only the scrollbars change. Setting the reactive
        # lays the whole screen out again (~10 ms on the dashboard) for every row added, which
        # is what Textual itself avoids the same way when it sizes a widget (`_size_updated`).
        # A scrollbar that appears or goes still asks for its layout (`_refresh_scrollbars`).
        self.set_reactive(DataTable.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    def _sized_by_container(self) -> bool:
        """Whether the table's box is set by its styles (``height: 45%``, ``1fr``), not by its
        rows (DataTable's own ``height: auto``)."""
        height, width = self.styles.height, self.styles.width
        width_auto = width is not None and width.is_auto
        return height is not None and not height.is_auto and not width_auto

    def update_cells(
        self,
        changes: Iterable[tuple[RowKey | str, ColumnKey | str, CellType]],
        *,
        widen: bool = False,
    ) -> int:
        """Set each (row, column) to its value, without re-measuring column widths; returns how
        many rows changed. `CellDoesNotExist` for a row or column the table does not have.

        With `widen`, a sized-to-fit column grows to a new value wider than it (measuring that
        value only; a column never narrows here, which would mean measuring all of it)."""
        rows: set[RowKey] = set()
        widened = False
        for row, column, value in changes:
            row_key = RowKey(row) if isinstance(row, str) else row
            column_key = ColumnKey(column) if isinstance(column, str) else column
            if row_key not in self._row_locations or column_key not in self._column_locations:
                raise CellDoesNotExist(
                    f"No cell exists for row_key={row!r}, column_key={column!r}."
                )
            self._data[row_key][column_key] = value
            rows.add(row_key)
            if widen:
                widened |= self._widen(column_key, value)
        if widened:
            self._update_count += 1  # the columns to its right moved: every row draws anew
            self._require_update_dimensions = True
            self.check_idle()
            self.refresh()
        elif rows:
            self._forget_rows(rows)
            if len(rows) > max(self.size.height, 1):
                # Each `refresh_row` sums the heights above its row: at 1,000 rows one repaint
                # of what shows (the unchanged lines come from the cache) is far cheaper.
                self.refresh()
            else:
                for row_key in rows:
                    self.refresh_row(self.get_row_index(row_key))
        return len(rows)

    def _widen(self, column_key: ColumnKey, value: CellType) -> bool:
        column = self.columns[column_key]
        if not column.auto_width:
            return False
        width = measure(self.app.console, default_cell_formatter(value), 1)
        if width <= column.content_width:
            return False
        column.content_width = width
        return True

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
