"""The Streams pane at scale: 1,000 real streams on a server of this module's own.

The streams are created once (memory storage, concurrently) on a server no other test lists, so
the rest of the suite keeps its small tables. What is checked is what a user sees: every row,
a filter that narrows, sorts that order, the detail of the stream under the cursor, and a message
that changes one row and no other. No timing thresholds: only generous liveness deadlines.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import StorageType, StreamConfig
from rich.text import Text
from textual import events
from textual.pilot import Pilot
from textual.widgets.data_table import RowKey

from jstui.app import JstuiApp
from jstui.config import Settings
from jstui.nats.embedded import EmbeddedServer
from jstui.widgets.streams import StreamsPane
from jstui.widgets.streams.pane import POLL_SECONDS
from tests.app.conftest import screen_text, wait_connected, wait_until

STREAMS = 1000
BUSY = {"scale_0500": 5, "scale_0007": 3, "scale_0123": 2}
"""Streams given messages when created: the others are empty, so sorting by Msgs is known."""


def name_of(index: int) -> str:
    return f"scale_{index:04d}"


async def _create(url: str) -> None:
    nc = await nats.connect(url)
    jsm = nc.jsm()
    js = nc.jetstream()
    names = [name_of(i) for i in range(STREAMS)]
    for start in range(0, STREAMS, 100):  # a hundred at a time: quick, and no API queue overflow
        await asyncio.gather(
            *(
                jsm.add_stream(
                    StreamConfig(
                        name=name, subjects=[f"scale.{name[6:]}.*"], storage=StorageType.MEMORY
                    )
                )
                for name in names[start : start + 100]
            )
        )
    for name, count in BUSY.items():
        for _ in range(count):
            await js.publish(f"scale.{name[6:]}.x", b"x")
    await nc.close()


@pytest.fixture(scope="module")
def scale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """A server of this module's own with 1,000 memory streams scale_0000 ... scale_0999."""
    store: Path = tmp_path_factory.mktemp("scale-store")
    server = EmbeddedServer(store_dir=store, server_name="jstui-scale")
    server.start()
    try:
        asyncio.run(_create(server.url))
        yield server
    finally:
        server.stop()


async def _filled(pilot: Pilot[Any]) -> StreamsPane:
    await wait_connected(pilot)
    pane = pilot.app.query_one(StreamsPane)  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: pane.table.row_count == STREAMS, 30, "1,000 rows")
    return pane


@contextlib.asynccontextmanager
async def filled_app(
    server: EmbeddedServer,
) -> AsyncIterator[tuple[JstuiApp, Pilot[Any], StreamsPane]]:
    """The app at 160x45 on `server`, once its Streams table shows all 1,000 rows."""
    app = JstuiApp(Settings(servers=(server.url,)))
    async with app.run_test(size=(160, 45)) as pilot:
        yield app, pilot, await _filled(pilot)


def _detail_shows(app: JstuiApp, name: str) -> bool:
    """The detail's title line (the name alone on its line) is on screen."""
    return any(line.strip(" │┃▌▐█") == name for line in screen_text(app).splitlines())


def _plain(pane: StreamsPane, name: str, column: str) -> str:
    value = pane.table.get_cell(name, column)
    return value.plain if isinstance(value, Text) else str(value)


async def test_every_stream_is_a_row_and_the_cursor_shows_its_detail_without_listing(
    scale_server: EmbeddedServer,
) -> None:
    async with filled_app(scale_server) as (app, pilot, pane):
        assert pane.row_names == [name_of(i) for i in range(STREAMS)]
        assert _plain(pane, "scale_0500", "messages") == "5"
        pane.table.focus()  # a click would land on a header, which sorts
        runs = pane._poll.runs if pane._poll else 0
        started = time.monotonic()
        for _ in range(12):
            await pilot.press("down")
        await wait_until(pilot, lambda: pane.selected == pane.row_names[pane.table.cursor_row])
        assert pane.selected is not None
        selected = pane.selected
        await wait_until(pilot, lambda: _detail_shows(app, selected), what="its detail")
        elapsed = time.monotonic() - started
        # Cursor moves do not list the streams: only the 1 Hz poll does (a liveness bound).
        assert pane._poll is not None
        assert pane._poll.runs - runs <= elapsed / POLL_SECONDS + 2


async def test_a_filter_narrows_and_escape_clears_it(scale_server: EmbeddedServer) -> None:
    async with filled_app(scale_server) as (app, pilot, pane):
        pane.table.focus()  # a click would land on a header, which sorts
        await pilot.press("slash")
        app.post_message(events.Paste("SCALE_001"))  # any case
        await wait_until(pilot, lambda: len(pane.row_names) == 10, what="ten matches")
        assert pane.row_names == [name_of(i) for i in range(10, 20)]
        assert "10 of 1,000 streams" in str(pane.border_title)
        await pilot.press("enter")
        assert app.focused is pane.table
        assert pane.selected in pane.row_names
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(pane.row_names) == STREAMS, what="all rows back")
        assert "of 1,000" not in str(pane.border_title)


async def test_a_filter_by_subject(scale_server: EmbeddedServer) -> None:
    async with filled_app(scale_server) as (app, pilot, pane):
        pane.table.focus()  # a click would land on a header, which sorts
        await pilot.press("slash")
        app.post_message(events.Paste("scale.0999."))
        await wait_until(pilot, lambda: pane.row_names == ["scale_0999"], what="one match")
        await wait_until(pilot, lambda: pane.selected == "scale_0999", what="cursor on it")


async def test_sorting_orders_numbers_and_keeps_the_cursor_on_its_stream(
    scale_server: EmbeddedServer,
) -> None:
    async with filled_app(scale_server) as (_app, pilot, pane):
        pane.table.focus()  # a click would land on a header, which sorts
        for _ in range(3):
            await pilot.press("down")
        await wait_until(pilot, lambda: pane.selected == "scale_0003", what="scale_0003")
        await pilot.press("s")  # Msgs, ascending: the empty streams first, by name
        await wait_until(pilot, lambda: pane.row_names[-1] == "scale_0500", what="sorted by Msgs")
        assert pane.row_names[-3:] == ["scale_0123", "scale_0007", "scale_0500"]
        assert pane.selected == "scale_0003"
        assert pane.table.cursor_row == pane.row_names.index("scale_0003")
        await pilot.press("S")
        await wait_until(pilot, lambda: pane.row_names[0] == "scale_0500", what="descending")
        assert pane.row_names[:4] == ["scale_0500", "scale_0007", "scale_0123", "scale_0000"]
        assert "by Msgs, descending" in str(pane.border_title)
        assert pane.table.cursor_row == pane.row_names.index("scale_0003")
        # A click on the Name header sorts by name again.
        name_header = pane.table.columns[next(iter(pane.table.columns))]
        await pilot.click("#streams-table", offset=(2, 0))
        await wait_until(pilot, lambda: pane.row_names[0] == "scale_0000", what="by name")
        assert name_header.label.plain == "Name"
        assert pane.selected == "scale_0003"


async def test_a_message_to_one_stream_changes_only_its_row(scale_server: EmbeddedServer) -> None:
    async with filled_app(scale_server) as (_app, pilot, pane):
        await wait_until(pilot, lambda: pane._poll is not None and pane._poll.runs >= 2)
        changed_rows: list[RowKey | str] = []
        table = pane.table
        original = table.update_cells

        def recording(changes: Any) -> int:
            changes = list(changes)
            changed_rows.extend(row for row, _column, _value in changes)
            return original(changes)

        table.update_cells = recording  # type: ignore[method-assign]
        before = {name: _plain(pane, name, "messages") for name in pane.row_names}
        nc = await nats.connect(scale_server.url)
        try:
            await nc.jetstream().publish("scale.0042.x", b"hello")
        finally:
            await nc.close()
        await wait_until(pilot, lambda: _plain(pane, "scale_0042", "messages") == "1", 15)
        await wait_until(pilot, lambda: pane._poll is not None and pane._poll.runs >= 1)
        assert set(changed_rows) == {"scale_0042"}
        after = {name: _plain(pane, name, "messages") for name in pane.row_names}
        assert {name for name in after if after[name] != before[name]} == {"scale_0042"}


async def test_a_refresh_between_a_key_and_its_highlight_keeps_the_cursor(
    scale_server: EmbeddedServer,
) -> None:
    """The cursor moved, its RowHighlighted is still queued, and a refresh lands in between: the
    refresh must follow the cursor, not pull it back to the previous stream."""
    async with filled_app(scale_server) as (app, pilot, pane):
        pane.table.focus()
        await wait_until(pilot, lambda: pane.selected == "scale_0000", what="first row")
        pane.table.move_cursor(row=5)  # as the down key does; the highlight is handled later
        pane.apply(list(pane._summaries.values()))
        assert pane.table.cursor_row == 5
        await wait_until(pilot, lambda: pane.selected == "scale_0005", what="row 5 selected")
        await wait_until(pilot, lambda: _detail_shows(app, "scale_0005"), what="its detail")
        assert pane.table.cursor_row == 5


async def test_a_row_out_of_view_is_written_when_it_comes_into_view(
    scale_server: EmbeddedServer,
) -> None:
    """A stream far below the screen changes: its row is not written while nobody can see it
    (at 1,000 busy streams that was a third of every refresh), and shows the new count as soon
    as the user scrolls to it, or after a filter that brings it into view."""
    async with filled_app(scale_server) as (app, pilot, pane):
        await wait_until(pilot, lambda: pane._poll is not None and pane._poll.runs >= 2)
        far = "scale_0995"
        assert not pane.table.in_view()(far)
        runs = pane._poll.runs if pane._poll else 0
        nc = await nats.connect(scale_server.url)
        try:
            for _ in range(7):
                await nc.jetstream().publish("scale.0995.x", b"far")
        finally:
            await nc.close()
        await wait_until(pilot, lambda: pane._summaries[far].messages == 7, 15, "listed")
        await wait_until(pilot, lambda: pane._poll is not None and pane._poll.runs > runs + 1)
        assert _plain(pane, far, "messages") == "0"  # out of view: not written
        pane.table.focus()
        assert pane._poll is not None
        held, pane._poll._when = pane._poll._when, lambda: False  # no list: the scroll writes
        await pilot.pause(3 * POLL_SECONDS)  # a list already under way ends meanwhile
        runs = pane._poll.runs
        await pilot.press("ctrl+end")  # the last rows come into view, scale_0995 among them
        await pilot.pause()
        assert pane.table.in_view()(far) and pane._poll.runs == runs
        assert _plain(pane, far, "messages") == "7"
        pane._poll._when = held
        await wait_until(
            pilot,
            lambda: any(
                far in line and line.split(far)[1].split()[0] == "7"
                for line in screen_text(app).splitlines()
            ),
            what="the row on screen with its new count",
        )
        # A row that a filter brings into view is written too.
        await pilot.press("ctrl+home")
        runs = pane._poll.runs if pane._poll else 0
        async with await nats.connect(scale_server.url) as publisher:
            await publisher.jetstream().publish("scale.0900.x", b"filtered")
        await wait_until(pilot, lambda: pane._summaries["scale_0900"].messages == 1, 15)
        await wait_until(pilot, lambda: pane._poll is not None and pane._poll.runs > runs + 1)
        assert _plain(pane, "scale_0900", "messages") == "0"
        await pilot.press("slash", *"0900", "enter")
        await wait_until(pilot, lambda: pane.row_names == ["scale_0900"], what="filtered")
        assert _plain(pane, "scale_0900", "messages") == "1"
