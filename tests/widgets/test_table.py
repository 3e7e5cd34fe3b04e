"""`LiveTable.update_cells`: the changed rows show their new values, the others stay cached.

These tests pin what `LiveTable` relies on in Textual's private `DataTable` caches: an upgrade of
Textual that changes them fails here, not on a user's screen.
"""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets.data_table import CellDoesNotExist

from jstui.widgets.table import LiveTable


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        table: LiveTable[str] = LiveTable(id="t")
        table.add_column("name", key="name")
        table.add_column("count", key="count")
        for n in range(30):
            table.add_row(f"row-{n}", str(n), key=f"r{n}")
        yield table


def _screen(app: App[None]) -> str:
    return "\n".join(
        "".join(segment.text for segment in strip)
        for strip in app.screen._compositor.render_strips()
    )


async def test_an_update_shows_and_other_rows_stay_cached() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()
        assert "row-3" in _screen(app)
        count = table._update_count
        cached = {key for key in list(table._row_render_cache.keys()) if key[0].value != "r3"}
        assert cached
        assert table.update_cells([("r3", "name", "new-3"), ("r3", "count", "99")]) == 1
        await pilot.pause()
        text = _screen(app)
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
