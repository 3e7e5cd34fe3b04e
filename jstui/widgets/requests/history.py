"""The History tab's table: one keyed row per request in the console's bounded history.

Data flow: the pane's 2 Hz timer hands it `RequestConsole.history` and the ids that left it since
the last redraw. Rows whose record changed (a reply came, a timeout) get their status and latency
cells updated; new records are appended; a burst that pushed many rows out is one rebuild instead
of many `remove_row` calls. The cursor follows the newest row while it sits on the last one, or
once after the user sent a request (`follow_next`).
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import DataTable

from jstui.nats.requests.record import RequestRecord
from jstui.widgets.requests.render import history_cells

HISTORY_COLUMNS: tuple[tuple[str, int], ...] = (
    ("time", 8),
    ("mode", 7),
    ("subject", 20),
    ("status", 12),
    ("first", 8),
    ("last", 8),
)
REBUILD_AFTER = 20
"""More rows than this pushed out since the last redraw: rebuild the table instead."""
_CHANGING = ("status", "first", "last")
"""The columns a record's later versions change (the first three never do)."""


class HistoryTable(DataTable[Text]):
    """The request history; the row key is the record's id."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.shown: dict[int, int] = {}
        """Record id -> the record version its row shows."""
        self.follow_next = False
        """Move the cursor to the next row added (set when the user sends a request)."""

    def on_mount(self) -> None:
        for label, width in HISTORY_COLUMNS:
            self.add_column(label, key=label, width=width)

    @property
    def selected_id(self) -> int | None:
        if not self.row_count:
            return None
        return int(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value or 0)

    def forget(self) -> None:
        self.clear()
        self.shown.clear()

    def sync(
        self, records: Mapping[int, RequestRecord], gone: list[int], theme: Mapping[str, str]
    ) -> None:
        """Add new rows, update changed ones, drop the `gone` ones (no longer in the history)."""
        at_end = self.row_count == 0 or self.cursor_row >= self.row_count - 1
        if len(gone) > REBUILD_AFTER:
            # A burst (a script of requests) pushed many rows out: `remove_row` is O(rows) and
            # moves the cursor each time, so one rebuild of the bounded history is cheaper.
            self._rebuild(records, theme, at_end)
            return
        for record_id in gone:
            self.remove_row(str(record_id))
            del self.shown[record_id]
        added = False
        for record_id, record in records.items():
            version = self.shown.get(record_id)
            if version == record.version:
                continue
            cells = history_cells(record, theme)
            if version is None:
                self.add_row(*cells, key=str(record_id))
                added = True
            else:
                for column, new_cell in zip(_CHANGING, cells[3:], strict=True):
                    self.update_cell(str(record_id), column, new_cell)
            self.shown[record_id] = record.version
        if added and (at_end or self.follow_next):
            self.follow_next = False
            self.move_cursor(row=self.row_count - 1)

    def _rebuild(
        self, records: Mapping[int, RequestRecord], theme: Mapping[str, str], at_end: bool
    ) -> None:
        selected = self.selected_id
        self.forget()
        for record_id, record in records.items():
            self.add_row(*history_cells(record, theme), key=str(record_id))
            self.shown[record_id] = record.version
        if at_end or self.follow_next or selected is None or selected not in self.shown:
            self.follow_next = False
            self.move_cursor(row=self.row_count - 1)
        else:
            self.move_cursor(row=self.get_row_index(str(selected)))
