"""Which streams the Streams table shows, and in what order: `TableView` (a filter, a sort column
and a direction) turns the stream summaries the pane holds into the ordered list of row keys.

Data flow: the pane keeps every `StreamSummary` it listed; after each refresh, and when the user
types a filter or changes the sort, it asks `TableView.order` for the names to show and hands them
to `LiveTable.place_rows`. Pure: no widget, no I/O, so it is tested and timed without the app.
Numbers sort as numbers (from the summary, not from the formatted cell), text without case, and
ties by name, so equal rows never swap places between refreshes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from jstui.format.units import format_count
from jstui.nats.streams.summaries import StreamSummary
from jstui.widgets.streams.render import COLUMNS

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
