"""The watch view of the Workers pane: one group seen from outside, never joined.

Data flow: the pane calls `watch(ref)` when the user picks a group in the group list; a
`PeriodicPoll` (about 1 Hz, only while this view is shown and the connection is up) asks
`GroupWatch.poll()` for a `WatchSnapshot`, and `draw` brings the table to it with keyed rows and
changed cells only (nothing is redrawn when nothing changed), and the texts above and under it
(built by `watch_render`, which sanitizes everything the server said).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from jstui.format.text import sanitize
from jstui.nats.observe.groups import GroupRef, GroupWatch, WatchSnapshot
from jstui.nats.session import ConnectionState
from jstui.widgets.base import Pane, PeriodicPoll
from jstui.widgets.workers.pools import ShownText, update_rows
from jstui.widgets.workers.render import StyleOf
from jstui.widgets.workers.watch_render import (
    clustered,
    subjects_differ,
    watch_columns,
    watch_details,
    watch_rows,
    watch_summary,
)

POLL_SECONDS = 1.0


class WatchPanel(Vertical):
    """The group being watched (`ref`), its last snapshot, and its picture."""

    def __init__(self, pane: Pane, style: StyleOf, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pane = pane
        self._style_of = style
        self.group: GroupWatch | None = None
        self.snapshot: WatchSnapshot | None = None
        self._columns_for: tuple[object, ...] | None = None
        self._texts = ShownText()

    def compose(self) -> ComposeResult:
        yield Static(id="watch-summary", markup=False)
        table: DataTable[Text] = DataTable(
            id="watch-table", cursor_type="row", cell_padding=0, zebra_stripes=False
        )
        yield table
        yield Static(id="watch-details", markup=False)

    def on_mount(self) -> None:
        session = self.pane.session
        self._poll = PeriodicPoll(
            self,
            POLL_SECONDS,
            self._poll_group,
            description="watched group poll",
            when=lambda: (
                self.group is not None
                and self.display
                and session.status.state is ConnectionState.CONNECTED
            ),
        )

    @property
    def ref(self) -> GroupRef | None:
        return self.group.ref if self.group else None

    def follow(self, ref: GroupRef) -> None:
        """Watch `ref` from now on (a new `GroupWatch`: first seen times start now)."""
        if self.ref == ref:
            return
        self.group = GroupWatch(self.pane.session, self.pane.host.observer, ref)
        self.snapshot = None
        self.query_one("#watch-table", DataTable).clear()
        waiting = Text("watching ", style=self._style_of("label"))
        waiting.append(sanitize(ref.title, max_len=200), style="bold")
        waiting.append(" \u00b7 asking the server\u2026", style=self._style_of("muted"))
        self._texts.set(self.query_one("#watch-summary", Static), waiting)
        self._texts.set(self.query_one("#watch-details", Static), Text())
        self._poll.wake()

    async def _poll_group(self) -> None:
        group = self.group
        if group is None:
            return
        snapshot = await group.poll()
        if group is self.group:  # (not when the user picked another group meanwhile)
            self.snapshot = snapshot
            self.draw()

    def draw(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        table = self.query_one("#watch-table", DataTable)
        width = table.size.width or self.size.width or 78
        cluster, subjects = clustered(snapshot), subjects_differ(snapshot)
        columns = watch_columns(snapshot.ref.kind, width, cluster, subjects)
        wanted = (snapshot.ref.kind, cluster, subjects, width)
        with self.app.batch_update():
            if self._columns_for != wanted:
                self._columns_for = wanted
                table.clear(columns=True)
                for column in columns:
                    table.add_column(column.header(), key=column.key, width=column.width)
            update_rows(table, watch_rows(snapshot, columns, self._style_of))
            self._texts.set(
                self.query_one("#watch-summary", Static), watch_summary(snapshot, self._style_of)
            )
            self._texts.set(
                self.query_one("#watch-details", Static), watch_details(snapshot, self._style_of)
            )

    def on_resize(self) -> None:
        self.draw()
