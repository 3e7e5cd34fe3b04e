"""The History tab's table: one keyed row per request in the console's bounded history (and
`RecordTable`, what it shares with the Watch tab's table).

Data flow: the pane's 2 Hz timer hands it `RequestConsole.history` and the ids that left it since
the last redraw. Rows whose record changed (a reply came, a timeout) get their status and latency
cells updated; new records are appended; a burst that pushed many rows out is one rebuild instead
of many `remove_row` calls. The cursor follows the newest row while it sits on the last one, or
once after the user sent a request (`follow_next`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Generic, Protocol, TypeVar

from rich.text import Text

from jstui.nats.requests.record import RequestRecord
from jstui.widgets.requests.render import history_cells
from jstui.widgets.table import LiveTable

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


class Versioned(Protocol):
    """A record whose `version` changes whenever what its row shows changed."""

    @property
    def version(self) -> int: ...


RecordT = TypeVar("RecordT", bound=Versioned)


class RecordTable(LiveTable[Text], Generic[RecordT]):
    """A table of one keyed row per record (the row key is the record's id) that follows a bounded,
    ordered mapping of records: the History and Watch tabs' tables. Rows whose record changed get
    their `CHANGING` cells updated, new records are appended, a burst that pushed many rows out is
    one rebuild instead of many `remove_row` calls. The cursor follows the newest row while it sits
    on the last one, or once after `follow_next` was set."""

    COLUMNS: ClassVar[tuple[tuple[str, int], ...]] = ()
    """Label (also the column key) and width of each column."""
    CHANGING: ClassVar[tuple[str, ...]] = ()
    """The columns a record's later versions change (the others never do)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.shown: dict[int, int] = {}
        """Record id -> the record version its row shows."""
        self.follow_next = False
        """Move the cursor to the next row added (set when the user sends a request)."""

    def cells(self, record: RecordT, theme: Mapping[str, str]) -> list[Text]:
        """The row of `record`, in column order."""
        raise NotImplementedError

    def on_mount(self) -> None:
        for label, width in self.COLUMNS:
            self.add_column(label, key=label, width=width)
        # The widths are fixed: without this, Textual measures every cell of every added row on
        # idle (for columns that never resize), 50 rows at a time in a burst of requests.
        self.set_widths(dict(self.COLUMNS))

    @property
    def selected_id(self) -> int | None:
        if not self.row_count:
            return None
        return int(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value or 0)

    def forget(self) -> None:
        self.clear()
        self.shown.clear()

    def sync(
        self,
        records: Mapping[int, RecordT],
        theme: Mapping[str, str],
        gone: list[int] | None = None,
    ) -> None:
        """Add new rows, update changed ones, drop the `gone` ones (no longer in `records`;
        found here when not given)."""
        at_end = self.row_count == 0 or self.cursor_row >= self.row_count - 1
        if gone is None:
            gone = [record_id for record_id in self.shown if record_id not in records]
        if len(gone) > REBUILD_AFTER:
            # A burst (a script of requests) pushed many rows out: `remove_row` is O(rows) and
            # moves the cursor each time, so one rebuild of the bounded table is cheaper.
            self._rebuild(records, theme, at_end)
            return
        for record_id in gone:
            self.remove_row(str(record_id))
            del self.shown[record_id]
        changing = [i for i, (label, _) in enumerate(self.COLUMNS) if label in self.CHANGING]
        changes: list[tuple[str, str, Text]] = []
        added = False
        for record_id, record in records.items():
            version = self.shown.get(record_id)
            if version == record.version:
                continue
            cells = self.cells(record, theme)
            if version is None:
                self.add_row(*cells, key=str(record_id))
                added = True
            else:
                key = str(record_id)
                changes += [(key, self.COLUMNS[index][0], cells[index]) for index in changing]
            self.shown[record_id] = record.version
        if changes:
            self.update_cells(changes)  # redraws the changed rows only, not every visible one
        if added and (at_end or self.follow_next):
            self.follow_next = False
            self.move_cursor(row=self.row_count - 1)

    def _rebuild(
        self, records: Mapping[int, RecordT], theme: Mapping[str, str], at_end: bool
    ) -> None:
        selected = self.selected_id
        self.forget()
        for record_id, record in records.items():
            self.add_row(*self.cells(record, theme), key=str(record_id))
            self.shown[record_id] = record.version
        if at_end or self.follow_next or selected is None or selected not in self.shown:
            self.follow_next = False
            self.move_cursor(row=self.row_count - 1)
        else:
            self.move_cursor(row=self.get_row_index(str(selected)))


class HistoryTable(RecordTable[RequestRecord]):
    """The request history."""

    COLUMNS = HISTORY_COLUMNS
    CHANGING = ("status", "first", "last")

    def cells(self, record: RequestRecord, theme: Mapping[str, str]) -> list[Text]:
        return history_cells(record, theme)
