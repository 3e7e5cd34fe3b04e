"""What the pool view and the watch view share: a line above a keyed table and lines under it,
redrawn with changed cells only, and polled while shown.

Data flow: a subclass's `poll_once` (run by a `PeriodicPoll` only while the panel is on screen and
the connection is up) fetches what it shows; its drawing goes through `update_rows` (a keyed
table brought up to date cell by cell) and `ShownText.set` (a Static updated only when its text
changed), so nothing is redrawn when nothing changed.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.widgets.data_table import RowDoesNotExist

from jstui.nats.session import ConnectionState
from jstui.widgets.base import Pane, PeriodicPoll
from jstui.widgets.workers.render import StyleOf

POLL_SECONDS = 1.0


class ShownText:
    """Static updates only when the text changed: an update re-renders (and re-lays out)."""

    def __init__(self) -> None:
        self._shown: dict[str, tuple[str, tuple[object, ...]]] = {}

    def set(self, static: Static, text: Text) -> None:
        key = (text.plain, tuple(text.spans))
        if self._shown.get(static.id or "") != key:
            self._shown[static.id or ""] = key
            static.update(text)


def update_rows(table: DataTable[Text], rows: dict[str, list[Text]]) -> None:
    """Bring a keyed table to `rows`: new rows added, changed cells updated, nothing else
    touched; when rows left or their order changed, rebuilt with the cursor on the same index."""
    existing = [key.value for key in table.rows]
    if existing != list(rows)[: len(existing)] or len(existing) > len(rows):
        cursor = table.cursor_row
        table.clear()
        for key, cells in rows.items():
            table.add_row(*cells, key=key)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))
        return
    columns = list(table.columns)
    for key, cells in rows.items():
        if key not in existing:
            table.add_row(*cells, key=key)
            continue
        try:
            current = table.get_row(key)
        except RowDoesNotExist:
            continue
        for column, old, new in zip(columns, current, cells, strict=False):
            if old != new:
                table.update_cell(key, column, new)


class TablePanel(Vertical):
    """`<PREFIX>-summary`, `<PREFIX>-table` and `<PREFIX>-details`, polled about once a second
    while shown (and `has_subject`)."""

    PREFIX: ClassVar[str] = ""
    POLL_DESCRIPTION: ClassVar[str] = ""

    def __init__(self, pane: Pane, style: StyleOf, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pane = pane
        self._style_of = style
        self._texts = ShownText()

    def compose(self) -> ComposeResult:
        yield Static(id=f"{self.PREFIX}-summary", markup=False)
        table: DataTable[Text] = DataTable(
            id=f"{self.PREFIX}-table", cursor_type="row", cell_padding=0, zebra_stripes=False
        )
        yield table
        yield Static(id=f"{self.PREFIX}-details", markup=False)

    def on_mount(self) -> None:
        session = self.pane.session
        self._poll = PeriodicPoll(
            self,
            POLL_SECONDS,
            self.poll_once,
            description=self.POLL_DESCRIPTION,
            when=lambda: (
                self.has_subject()
                and self.region.area > 0  # shown: neither this view nor the pane is hidden
                and session.status.state is ConnectionState.CONNECTED
            ),
        )

    def has_subject(self) -> bool:
        """Something to poll (a pool, a watched group)."""
        return False

    async def poll_once(self) -> None:
        """One poll; expected failures are the panel's own business."""

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one(f"#{self.PREFIX}-table", DataTable)

    def set_texts(self, summary: Text, details: Text) -> None:
        self._texts.set(self.query_one(f"#{self.PREFIX}-summary", Static), summary)
        self._texts.set(self.query_one(f"#{self.PREFIX}-details", Static), details)
