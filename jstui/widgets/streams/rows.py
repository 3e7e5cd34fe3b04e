"""What the Streams table holds and shows: `HeldRows` (every listed stream, its row's strings, the
rows on screen and their column widths) and `TableView` (a filter, a sort column and a
direction), which turns the held summaries into the ordered list of row keys.

Data flow: the pane hands each page of summaries to `HeldRows.take`, which returns only the cells
that changed on rows in view (written with `LiveTable.update_cells`; rows out of view are held
back, `LiveTable.hold`, and written from `HeldRows.written` when a scroll, a sort or a filter
brings them into view); after the last page, and when the user types a filter or changes the
sort, `HeldRows.place` puts `TableView.order`'s names into the table with `LiveTable.place_rows`
and gives it the widths `ColumnWidths` counted. Nothing is measured from the table. Numbers sort
as numbers (from the summary, not from the formatted cell), text without case, and ties by name,
so equal rows never swap places between refreshes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text

from jstui.format.columns import ColumnWidths
from jstui.format.units import format_count
from jstui.nats.streams.summaries import StreamSummary
from jstui.widgets.streams.render import COLUMNS, cell, row_cells
from jstui.widgets.table import LiveTable

SORT_KEYS: dict[str, Callable[[StreamSummary], Any]] = {
    "name": lambda s: s.name.casefold(),
    "messages": lambda s: s.messages,
    "bytes": lambda s: s.bytes,
    "subjects": lambda s: ", ".join(s.subjects).casefold(),
    "retention": lambda s: s.retention,
    "storage": lambda s: s.storage,
    "replicas": lambda s: s.replicas,
    "first": lambda s: s.first_seq,
    "last": lambda s: s.last_seq,
    "consumers": lambda s: s.consumer_count,
}
"""How each column of `COLUMNS` sorts, by its key."""

LABELS = {column.key: column.label for column in COLUMNS}


@dataclass(frozen=True)
class TableView:
    """The table's filter (a piece of a name or subject, any case) and its sort."""

    filter: str = ""
    sort: str = "name"
    descending: bool = False

    def matches(self, summary: StreamSummary) -> bool:
        wanted = self.filter.strip().casefold()
        if not wanted:
            return True
        return wanted in summary.name.casefold() or any(
            wanted in subject.casefold() for subject in summary.subjects
        )

    def order(self, summaries: Iterable[StreamSummary]) -> list[str]:
        """The names to show, filtered and sorted (ties by name, always ascending)."""
        shown = [s for s in summaries if self.matches(s)]
        shown.sort(key=lambda s: (s.name.casefold(), s.name))
        if self.sort != "name" or self.descending:
            # Stable: equal keys keep the name order, whichever the direction.
            shown.sort(key=SORT_KEYS[self.sort], reverse=self.descending)
        return [s.name for s in shown]

    def next_sort(self) -> TableView:
        """Sort by the next column (after the last comes the name again), ascending."""
        keys = list(SORT_KEYS)
        return replace(self, sort=keys[(keys.index(self.sort) + 1) % len(keys)], descending=False)

    def sorted_by(self, column: str) -> TableView:
        """Sort by `column`; the column already sorted by flips its direction."""
        if column == self.sort:
            return replace(self, descending=not self.descending)
        return replace(self, sort=column, descending=False)

    def describe(self, shown: int, total: int) -> str:
        """What the title adds: "12 of 1,000 streams", "by Msgs, descending"; "" by default."""
        parts = []
        if self.filter.strip():
            parts.append(f"{format_count(shown)} of {format_count(total)} streams")
        if self.sort != "name" or self.descending:
            direction = "descending" if self.descending else "ascending"
            parts.append(f"by {LABELS[self.sort]}, {direction}")
        return " · ".join(parts)


class HeldRows:
    """Every stream of the last list, its row's strings, and the rows the table shows."""

    def __init__(self) -> None:
        self.summaries: dict[str, StreamSummary] = {}
        """Every stream of the last list, by name (shown or filtered out)."""
        self._cells: dict[str, tuple[str, ...]] = {}
        """The plain text of each stream's row, by name: the diff is made against it."""
        self.shown: dict[str, tuple[str, ...]] = {}
        """The rows in the table, top to bottom, and the text they show (what widths count)."""
        self._widths = ColumnWidths([column.label for column in COLUMNS])
        self.version = 0
        """Counts the changes to `summaries`: equal before and after a list, nothing changed."""

    def take(
        self, summaries: Iterable[StreamSummary], table: LiveTable[Text]
    ) -> list[tuple[str, str, Text]]:
        """Hold these streams; returns the changed cells of rows in view of `table`, to be
        written. A row out of view is left as it was (`LiveTable.hold`) until it comes into view
        and `written` gives its cells."""
        in_view = table.in_view()
        changes: list[tuple[str, str, Text]] = []
        for summary in summaries:
            name = summary.name
            if self.summaries.get(name) == summary:
                continue  # the common case at scale: one comparison, nothing drawn
            self.summaries[name] = summary
            self.version += 1
            self._cells[name] = cells = row_cells(summary)
            before = self.shown.get(name)
            if before is None or before == cells:
                continue
            self.shown[name] = cells
            self._widths.change(before, cells)
            if not in_view(name):
                table.hold(name)
                continue
            if table.release(name):  # some of its cells are older than `before`
                changes.extend(self.written([name]))
                continue
            changes.extend(
                (name, column.key, cell(column, new))
                for column, old, new in zip(COLUMNS, before, cells, strict=True)
                if old != new
            )
        return changes

    def written(self, names: Iterable[str]) -> list[tuple[str, str, Text]]:
        """Every cell of the rows of `names` (those the table shows), to be written."""
        return [
            (name, column.key, cell(column, value))
            for name in names
            if (shown := self.shown.get(name)) is not None
            for column, value in zip(COLUMNS, shown, strict=True)
        ]

    def keep_only(self, listed: set[str]) -> None:
        """Forget the streams that are no longer listed."""
        for name in [name for name in self.summaries if name not in listed]:
            del self.summaries[name]
            del self._cells[name]
            self.version += 1

    def place(self, table: LiveTable[Text], names: Sequence[str]) -> None:
        """Make `table` show `names` in that order, sized to the widest values shown."""
        if table.place_rows(names, self._row_of):
            wanted = set(names)
            for name in [name for name in self.shown if name not in wanted]:
                self._widths.remove(self.shown.pop(name))
            shown: dict[str, tuple[str, ...]] = {}
            for name in names:
                cells = self.shown.get(name)
                if cells is None:
                    cells = self._cells[name]
                    self._widths.add(cells)
                shown[name] = cells
            self.shown = shown
        table.set_widths(dict(zip((c.key for c in COLUMNS), self._widths.widths(), strict=True)))

    def _row_of(self, name: str) -> list[Text]:
        return [
            cell(column, value) for column, value in zip(COLUMNS, self._cells[name], strict=True)
        ]
