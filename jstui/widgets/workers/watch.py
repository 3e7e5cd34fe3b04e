"""The watch view of the Workers pane: one group seen from outside, never joined.

Data flow: the pane calls `follow(ref)` when the user picks a group in the group list; a
`PeriodicPoll` (about 1 Hz, only while this view is shown and the connection is up) asks
`GroupWatch.poll()` for a `WatchSnapshot`, and `draw` brings the table to it with keyed rows and
changed cells only (nothing is redrawn when nothing changed), and the texts above and under it
(built by `watch_render`, which sanitizes everything the server said). For a deliver group or
a pull consumer the lines under it end with the consumer's dead letters (`ConsumerDeadLetters`:
the deque is read only when one came; missing originals are read in this poll, a few at most).
"""

from __future__ import annotations

from functools import cached_property

from rich.text import Text

from jstui.format.text import sanitize
from jstui.nats.observe.groups import GroupKind, GroupRef, GroupWatch, WatchSnapshot
from jstui.widgets.base import Pane
from jstui.widgets.workers.dead_letters import ConsumerDeadLetters
from jstui.widgets.workers.panel import TablePanel, update_rows
from jstui.widgets.workers.render import StyleOf
from jstui.widgets.workers.watch_render import (
    clustered,
    subjects_differ,
    watch_columns,
    watch_details,
    watch_rows,
    watch_summary,
)


class WatchPanel(TablePanel):
    """The group being watched (`ref`), its last snapshot, and its picture."""

    PREFIX = "watch"
    POLL_DESCRIPTION = "watched group poll"

    def __init__(self, pane: Pane, style: StyleOf, *, id: str | None = None) -> None:
        super().__init__(pane, style, id=id)
        self.group: GroupWatch | None = None
        self.snapshot: WatchSnapshot | None = None
        self._columns_for: tuple[object, ...] | None = None

    def has_subject(self) -> bool:
        return self.group is not None

    @cached_property
    def dead(self) -> ConsumerDeadLetters:
        """The dead letters of the watched consumer (none followed for core groups, services)."""
        # D is offered only when the group shown has dead letters
        return ConsumerDeadLetters(self.pane.host.dead_letters, self.pane.refresh_bindings)

    @property
    def ref(self) -> GroupRef | None:
        return self.group.ref if self.group else None

    def follow(self, ref: GroupRef) -> None:
        """Watch `ref` from now on (a new `GroupWatch`: first seen times start now)."""
        if self.ref == ref:
            return
        self.group = GroupWatch(self.pane.session, self.pane.host.observer, ref)
        self.snapshot = None
        jetstream = ref.kind in (GroupKind.PUSH, GroupKind.PULL)
        self.dead.show(ref.stream if jetstream else None, ref.consumer)
        self.table.clear()
        waiting = Text("watching ", style=self._style_of("label"))
        waiting.append(sanitize(ref.title, max_len=200), style="bold")
        waiting.append(" \u00b7 asking the server\u2026", style=self._style_of("muted"))
        self.set_texts(waiting, Text())
        self._poll.wake()

    async def poll_once(self) -> None:
        group = self.group
        if group is None:
            return
        snapshot = await group.poll()
        await self.dead.fetch()
        if group is self.group:  # (not when the user picked another group meanwhile)
            self.snapshot = snapshot
            self.draw()

    def draw(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        table = self.table
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
            self.set_texts(
                watch_summary(snapshot, self._style_of),
                watch_details(snapshot, self._style_of, self.dead.line(self._style_of)),
            )

    def on_resize(self) -> None:
        self.draw()
