"""`LiveTable`: `update_cells` shows changed rows and keeps the others cached; `place_rows` and
`set_widths` show what they promise; held rows are written as they come into view.

These tests pin what `LiveTable` relies on in Textual's private `DataTable` caches: an upgrade of
Textual that changes them fails here, not on a user's screen.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets.data_table import CellDoesNotExist, ColumnKey

from jstui.widgets.table import LiveTable
from tests.app.conftest import screen_text


class TableApp(App[None]):
    """One `LiveTable` of `rows` rows ("row-N", "N") keyed "rN"."""

    def __init__(self, rows: int = 30) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table: LiveTable[str] = LiveTable(id="t")
        table.add_column("name", key="name")
        table.add_column("count", key="count")
        for n in range(self.rows):
            table.add_row(f"row-{n}", str(n), key=f"r{n}")
        yield table


async def test_an_update_shows_and_other_rows_stay_cached() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        assert "row-3" in screen_text(app)
        count = table._update_count
        cached = {key for key in list(table._row_render_cache.keys()) if key[0].value != "r3"}
        assert cached
        assert table.update_cells([("r3", "name", "new-3"), ("r3", "count", "99")]) == 1
        await pilot.pause()
        text = screen_text(app)
        assert "new-3" in text and "99" in text and "row-3" not in text
        assert "row-4" in text
        assert table._update_count == count  # the whole table was not invalidated
        kept = {key for key in list(table._row_render_cache.keys()) if key[0].value != "r3"}
        assert cached <= kept
        assert table.get_cell("r3", "count") == "99"


async def test_an_update_of_a_missing_cell_is_refused() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 20)):
        table = app.query_one(LiveTable)
        with pytest.raises(CellDoesNotExist):
            table.update_cells([("nope", "name", "x")])
        assert table.update_cells([]) == 0


async def test_place_rows_orders_adds_and_removes_in_one_step() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(LiveTable)
        table.set_widths({"name": 8, "count": 3})
        table.move_cursor(row=table.get_row_index("r5"))
        keys = ["r5", "new", "r1"]
        assert table.place_rows(keys, lambda key: (f"{key}-x", "7"))
        assert [row.key.value for row in table.ordered_rows] == keys
        assert table.get_cell("new", "name") == "new-x"
        assert table.get_cell("r5", "name") == "row-5"  # kept rows keep their values
        assert not table.place_rows(keys, lambda key: ("never", "asked"))
        assert table.row_count == 3 and table.cursor_row <= 2
        await pilot.pause()
        text = screen_text(app)
        assert "row-5" in text and "new-x" in text and "row-1" in text and "row-2" not in text
        assert table.virtual_size.height == 3 + 1  # rows and the header


async def test_set_widths_sizes_columns_and_new_rows_are_not_measured() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        assert table.set_widths({"name": 12, "count": 5})
        assert not table.set_widths({"name": 12, "count": 5})  # the same widths cost nothing
        table.place_rows(["r1", "long"], lambda key: ("a-much-longer-value", "1"))
        await pilot.pause()
        assert [c.get_render_width(table) for c in table.ordered_columns] == [14, 7]
        assert "a-much-longe" in screen_text(app)  # cut at the given width, not re-measured


async def test_widen_grows_a_column_to_a_wider_value() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        assert table.columns[ColumnKey("name")].content_width == len("row-29")
        table.update_cells([("r3", "name", "a-much-longer-value")], widen=True)
        await pilot.pause()
        assert table.columns[ColumnKey("name")].content_width == len("a-much-longer-value")
        assert "a-much-longer-value" in screen_text(app)
        table.update_cells([("r3", "name", "x")], widen=True)  # never narrows here
        assert table.columns[ColumnKey("name")].content_width == len("a-much-longer-value")


class FollowApp(App[None]):
    """Twelve rows under a table of 8 lines: a vertical scrollbar; two columns of 8 cells (10 with
    their padding) that fit a table 30 wide but not one 20 wide with its scrollbar."""

    CSS = "LiveTable { width: 30; height: 8; }"

    def compose(self) -> ComposeResult:
        table: LiveTable[str] = LiveTable(id="t", cursor_type="row")
        table.add_column("name", key="name", width=8)
        table.add_column("count", key="count", width=8)
        for n in range(12):
            table.add_row(f"row-{n}", str(n), key=f"r{n}")
        yield table


async def test_a_cursor_on_the_last_row_stays_in_view_when_a_horizontal_scrollbar_comes() -> None:
    # What the request history met when its 7th row brought a vertical scrollbar: a horizontal
    # one followed and took the line the newest row had just been scrolled to.
    app = FollowApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(LiveTable)
        table.move_cursor(row=11)  # following the newest row
        await pilot.pause()
        assert "row-11" in screen_text(app) and not table.show_horizontal_scrollbar
        table.styles.width = 20
        await pilot.pause()
        await pilot.pause()
        assert table.show_horizontal_scrollbar
        assert "row-11" in screen_text(app), (table.scroll_y, table.max_scroll_y)


async def test_a_cursor_move_renders_only_the_rows_it_leaves_and_enters() -> None:
    """Textual's DataTable keys every line's cache on the cursor's position, so each move drew
    every visible line again, cell by cell; a LiveTable draws the two rows the cursor changed
    (and, when it scrolls, the row that comes into view) and shows the cursor where it is."""
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.cursor_type = "row"
        table.focus()
        await pilot.pause()
        rendered: list[str] = []
        in_row = table._render_line_in_row

        def counting(row_key, *args, **kwargs):  # type: ignore[no-untyped-def]
            rendered.append(row_key.value)
            return in_row(row_key, *args, **kwargs)

        table._render_line_in_row = counting  # type: ignore[method-assign]
        for expected in range(1, 20):  # past the bottom: from the 10th on, every move scrolls
            rendered.clear()
            await pilot.press("down")
            await pilot.pause()
            assert table.cursor_row == expected
            # the row left and the row entered (when it scrolls, the one that came into view)
            assert set(rendered) <= {f"r{expected - 1}", f"r{expected}"}, rendered
            assert len(rendered) <= 3, rendered
        cursor_style = table.get_component_rich_style("datatable--cursor")
        line = table.render_line(table.cursor_row - int(table.scroll_y) + 1)  # under the header
        assert "row-19" in line.text
        assert any(
            segment.style and segment.style.bgcolor == cursor_style.bgcolor for segment in line
        )
        above = table.render_line(table.cursor_row - int(table.scroll_y))
        assert "row-18" in above.text
        assert not any(
            segment.style and segment.style.bgcolor == cursor_style.bgcolor for segment in above
        )


async def test_the_cursor_row_stays_in_view_when_the_table_gets_shorter() -> None:
    """Restoring a maximized pane shrinks its table: the cursor's row must still show."""
    app = TableApp()
    async with app.run_test(size=(40, 24)) as pilot:
        table = app.query_one(LiveTable)
        table.cursor_type = "row"
        table.move_cursor(row=18)
        await pilot.pause()
        assert table.scroll_y == 0  # row 18 fits in 24 lines
        await pilot.resize_terminal(40, 10)
        await pilot.pause()
        await pilot.pause()
        visible = table.scrollable_content_region.height - 1  # under the header
        assert table.scroll_y <= 18 < table.scroll_y + visible
        assert "row-18" in screen_text(app)


async def test_held_rows_are_written_when_they_come_into_view_and_not_before() -> None:
    app = TableApp(rows=200)  # rows past about 70 are out of view at first (with the margin)
    async with app.run_test(size=(40, 20)) as pilot:
        table: LiveTable[str] = app.query_one(LiveTable)
        await pilot.pause()
        heard: list[list[str]] = []

        def write(keys: list[str]) -> None:
            heard.append(sorted(keys))
            table.update_cells([(key, "name", f"new-{key}") for key in keys])

        table.rows_in_view = write
        near = table.in_view()
        assert near("r0") and near("r60") and not near("r100")
        for key in ("r100", "r190", "r199"):
            table.hold(key)
        table.remove_row("r199")  # a held row that goes is forgotten, never handed over
        assert not table.release("r199")
        table.write_held()
        assert heard == []  # nothing held is in view: nothing written
        assert table.get_cell("r100", "name") == "row-100"

        table.scroll_to(y=60, animate=False)  # rows 60-79 on screen, 10-129 near enough
        assert heard == [["r100"]]  # written by the scroll itself, before any frame
        await pilot.pause()
        assert table.get_cell("r100", "name") == "new-r100"
        assert table.get_cell("r190", "name") == "row-190"  # still out of view: still held
        assert table.release("r190") and not table.release("r190")  # the owner writes it itself

        table.scroll_to(y=0, animate=False)
        await pilot.pause()
        table.hold("r150")
        keys = [f"r{n}" for n in range(199)]
        assert table.place_rows(keys[::-1], lambda key: [key, "0"])  # r150 is now row 48
        assert heard == [["r100"], ["r150"]]
        assert table.get_cell("r150", "name") == "new-r150"
        table.hold("r0")  # row 198 of the new order
        await pilot.resize_terminal(40, 12)  # shorter: nothing comes into view
        await pilot.pause()
        assert heard == [["r100"], ["r150"]]
        table.scroll_end(animate=False)
        await pilot.pause()
        assert heard == [["r100"], ["r150"], ["r0"]]
        table.hold("r5")
        table.clear()
        assert not table.release("r5")  # cleared with its rows


async def test_writing_held_rows_looks_only_at_the_rows_in_view() -> None:
    """A table holding more rows than are in view (a KV bucket's changed keys out of view)
    finds those in view from the rows in view, and never hands over one that is not."""
    app = TableApp(rows=2000)
    async with app.run_test(size=(40, 20)) as pilot:
        table: LiveTable[str] = app.query_one(LiveTable)
        await pilot.pause()
        heard: list[str] = []
        table.rows_in_view = heard.extend
        for n in range(0, 2000, 2):
            table.hold(f"r{n}")
        table.write_held()
        near = table.in_view()
        assert heard and all(near(key) for key in heard)
        assert sorted(heard) == sorted(f"r{n}" for n in range(0, 2000, 2) if near(f"r{n}"))
        assert not table.release(heard[0]) and table.release("r1998")


async def test_a_row_added_at_the_end_leaves_the_others_cached() -> None:
    app = TableApp(rows=5)
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(LiveTable)
        table.styles.height = 10  # (as a pane's tables: no resize as rows come)
        table.set_widths({"name": 8, "count": 3})
        await pilot.pause()
        assert "row-4" in screen_text(app)
        count = table._update_count
        cached = set(table._row_render_cache.keys())
        assert cached

        table.add_row("row-new", "42", key="new")
        table.move_cursor(row=table.row_count - 1)
        await pilot.pause()

        text = screen_text(app)
        assert "row-new" in text and "row-4" in text
        assert table._update_count == count  # the earlier rows were not invalidated
        kept = set(table._row_render_cache.keys())
        assert {key for key in cached if key[0].value not in ("r0", "new")} <= kept
        assert [row.key.value for row in table.ordered_rows][-2:] == ["r4", "new"]
        assert table.get_row_at(5) == ["row-new", "42"]
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == "new"
        table.add_row("row-last", "43", key="last")
        await pilot.pause()
        assert table.get_row_index("last") == 6 and "row-last" in screen_text(app)


async def test_rows_added_to_a_table_of_fixed_height_ask_for_no_layout() -> None:
    # A layout reflows the whole screen (~10 ms on the dashboard): more rows in a box of the same
    # size change only the scrollbars. The scrollbar still comes when the rows outgrow the box,
    # and a table that grows with its rows (DataTable's `height: auto`) is still laid out.
    app = TableApp(rows=3)
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(LiveTable)
        table.styles.height = 8
        table.set_widths({"name": 8, "count": 3})
        await pilot.pause()
        assert not table.show_vertical_scrollbar
        layouts: list[int] = []
        refresh = table.refresh

        def counted(*regions: Any, layout: bool = False, **kwargs: Any) -> LiveTable[str]:
            if layout:
                layouts.append(table.row_count)
            return refresh(*regions, layout=layout, **kwargs)

        table.refresh = counted  # type: ignore[method-assign]
        for n in range(3, 6):
            table.add_row(f"row-{n}", str(n), key=f"r{n}")
            await pilot.pause()
        assert table.virtual_size.height == 6 + 1  # the rows and the header
        assert layouts == []
        for n in range(6, 12):  # outgrows the box: the scrollbar comes, with its layout
            table.add_row(f"row-{n}", str(n), key=f"r{n}")
        await pilot.pause()
        assert table.show_vertical_scrollbar and table.max_scroll_y == 13 - 8
        table.move_cursor(row=11)
        await pilot.pause()
        assert "row-11" in screen_text(app)

        table.styles.height = "auto"
        await pilot.pause()
        layouts.clear()
        table.add_row("row-12", "12", key="r12")
        await pilot.pause()
        assert layouts == [13]
