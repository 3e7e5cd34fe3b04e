"""The Request/Reply pane's Watch tab: other programs' requests on a subject, each matched with its
replies and latency (`RequestWatch`, jstui.nats.requests.watch).

Data flow: the watcher's callbacks (nats-py's read loop) only update records and counts and bump
``watch.version``. A 2 Hz timer, running only while a watch runs, compares that version with the
one drawn and, when it moved, brings the table up to date (`WatchTable.sync`: new rows appended,
changed rows get their reply, latency and outcome cells updated, a burst rebuilds the bounded
table once), the counts line and the selected row's detail. Nothing is drawn while nothing
changes, and nothing while the tab is hidden (it catches up when shown).

`watch(subject, window)` starts a watch (stopping the one before), `stop()` ends it; both post
`Changed`, on which the pane puts the subject in its title.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import DataTable, Static

from jstui.format.text import sanitize
from jstui.nats.errors import JstuiError
from jstui.nats.requests.watch import DEFAULT_WINDOW, RequestWatch
from jstui.nats.requests.watched import WatchedRequest
from jstui.widgets.base import SessionHost
from jstui.widgets.requests.history import RecordTable
from jstui.widgets.requests.watch_render import (
    WATCH_CHANGING,
    WATCH_COLUMNS,
    counts_line,
    watch_cells,
    watch_detail,
)

REFRESH_SECONDS = 0.5
WRAP_MARGIN = 16
"""Characters a word wrap may move to the next line early: the counts line's estimate of its
height errs towards one more line (a relayout a little early, never a line cut off)."""


class WatchTable(RecordTable[WatchedRequest]):
    """The watched requests."""

    COLUMNS = WATCH_COLUMNS
    CHANGING = WATCH_CHANGING

    def cells(self, record: WatchedRequest, theme: Mapping[str, str]) -> list[Text]:
        return list(watch_cells(record, theme).values())


class RequestWatchView(Vertical):
    """The Watch tab's content: the counts line, the table and the selected request's detail."""

    class Changed(Message):
        """A watch started (`subject`) or stopped (`subject` is None)."""

        def __init__(self, subject: str | None) -> None:
            super().__init__()
            self.subject = subject

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.request_watch: RequestWatch | None = None
        self._drawn_version = -1
        self._detail_key: tuple[int, int] | None = None
        self._changing = asyncio.Lock()
        self._counts_lines = 0
        """Held while a watch starts or stops."""

    def compose(self) -> ComposeResult:
        yield Static(counts_line(None), id="watch-counts", markup=False)
        yield WatchTable(id="requests-watch")
        with VerticalScroll(id="watch-detail-box"):
            yield Static("", id="watch-detail", markup=False)

    def on_mount(self) -> None:
        try:
            self._table = self.query_one(WatchTable)
            self._counts = self.query_one("#watch-counts", Static)
            self._detail = self.query_one("#watch-detail", Static)
        except NoMatches:
            return  # mounted while the app quits, before its widgets: nothing to set up
        self._timer = self.set_interval(REFRESH_SECONDS, self.redraw, pause=True)

    @property
    def watching(self) -> str | None:
        """The subject watched now, or None."""
        watch = self.request_watch
        return watch.subject if watch is not None and watch.running else None

    @property
    def window(self) -> float:
        return self.request_watch.window if self.request_watch is not None else DEFAULT_WINDOW

    # -- start and stop (workers: they subscribe and unsubscribe) ------------------------------

    # Not `exclusive`: a start cancelled half-way by the next one could leave a subscription made
    # at the server that nobody holds. Starts and stops wait for each other instead.
    @work(group="request-watch", exit_on_error=False, description="watch requests")
    async def start(self, subject: str, window: float = DEFAULT_WINDOW) -> None:
        """Watch `subject` (replacing the watch before); an error is shown, nothing raised."""
        async with self._changing:
            await self._start(subject, window)

    async def _start(self, subject: str, window: float) -> None:
        await self._stop_watch()
        session = cast(SessionHost, self.app).session
        try:
            watch = RequestWatch(session, subject, window=window)
            await watch.start()
        except JstuiError as error:
            self._report(f"cannot watch {subject}: {error}")
            return
        self.request_watch = watch
        self._table.forget()
        self._drawn_version = -1
        self._detail_key = None
        self._timer.resume()
        self.redraw()
        self.post_message(self.Changed(subject))

    @work(group="request-watch", exit_on_error=False, description="stop watching")
    async def stop(self) -> None:
        """Stop watching; the rows stay on screen until the next watch."""
        async with self._changing:
            await self._stop_watch()

    async def _stop_watch(self) -> None:
        watch = self.request_watch
        if watch is None or not watch.running:
            return
        await watch.stop()
        self._timer.pause()
        self._drawn_version = -1
        self.redraw()
        self.post_message(self.Changed(None))

    def on_unmount(self) -> None:
        watch = self.request_watch
        if watch is not None and watch.running:  # the app closes: unsubscribe on the way out
            self.app.run_worker(watch.stop(), exit_on_error=False, description="stop watching")

    def _report(self, message: str) -> None:
        self.notify(sanitize(message, max_len=500), title="Watch", severity="error", markup=False)

    # -- redraw (timer) ------------------------------------------------------------------------

    def redraw(self) -> None:
        """Bring the view up to date, if anything changed and the tab can be seen."""
        watch = self.request_watch
        if watch is None or watch.version == self._drawn_version:
            return
        if not self._table.is_on_screen and self._drawn_version != -1:
            return  # hidden (another tab, another pane): catch up when shown
        self._drawn_version = watch.version
        self._show_counts(counts_line(watch))
        self._table.sync(watch.requests, self.app.theme_variables)
        self._update_detail()

    def _show_counts(self, text: Text) -> None:
        """Update the counts line; lay the tab out again only when it may need another number of
        lines (a relayout at every count would cost a layout of the screen twice a second)."""
        width = max(20, self._counts.size.width)
        lines = sum((len(line) + WRAP_MARGIN) // width + 1 for line in text.plain.split("\n"))
        self._counts.update(text, layout=lines != self._counts_lines)
        self._counts_lines = lines

    @on(DataTable.RowHighlighted, "#requests-watch")
    def _highlighted(self) -> None:
        self._update_detail()

    def selected(self) -> WatchedRequest | None:
        selected = self._table.selected_id
        if self.request_watch is None or selected is None:
            return None
        return self.request_watch.requests.get(selected)

    def _update_detail(self) -> None:
        record = self.selected()
        if record is None:
            if self._detail_key is not None:
                self._detail.update("")
            self._detail_key = None
            return
        key = (record.id, record.version)
        if key != self._detail_key:
            self._detail_key = key
            self._detail.update(watch_detail(record))
