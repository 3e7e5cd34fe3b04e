"""What the keys table holds: `HeldKeys`, every key the watch delivered, its row's strings, the
rows in key order, what the table was last given, and the column widths.

Data flow: the pane hands each batch of changed entries (`KeyWatch.take_changes`) to `take`, which
records the new strings; a new key is inserted in order and `place` puts the keys into the table
in one step (`LiveTable.place_rows`). A changed key that is already in the table is only marked
out of date: the pane's tick hands the keys `changed` since the last tick to the table to hold
(`LiveTable.hold`), and the table asks `writes(keys)` for those in view, at once, and for the
others when a scroll brings them into view; the pane writes them with `LiveTable.update_cells`.
So 100 updates a second spread over 10,000 keys cost what the few in view cost (each write of an
unseen row would still cost Textual a walk over every row above it). Ages change without a
message: `age` marks a few rows in view out of date each tick. Widths come from the strings held
(`ColumnWidths`), never from measuring cells, and never narrow while a watch runs.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence

from jstui.format.columns import ColumnWidths
from jstui.nats.kv.model import KeyEntry
from jstui.widgets.kv.render import AGE_COLUMN, KEY_COLUMNS, KeyCell, age_text, key_cells
from jstui.widgets.table import LiveTable


class KeysTable(LiveTable[KeyCell]):
    """The keys table. A cursor move draws only the rows it leaves and enters: `LiveTable`."""


class HeldKeys:
    """Every key of the current watch and the strings its row shows."""

    def __init__(self) -> None:
        self.entries: dict[str, KeyEntry] = {}
        self.order: list[str] = []
        """The keys, sorted: the table's rows top to bottom."""
        self._cells: dict[str, tuple[str, ...]] = {}
        """Each key's row as it should read now."""
        self._written: dict[str, tuple[str, ...]] = {}
        """Each row as the table was given it."""
        self._stale: set[str] = set()
        """Keys whose `_cells` changed since `changed` was last asked (their rows in the table
        are out of date)."""
        self._widths = ColumnWidths([column.label for column in KEY_COLUMNS])
        self._sizes: tuple[int, ...] = ()
        """The widths the table was given (see `size`)."""
        self._placed = True

    def clear(self) -> None:
        self.entries.clear()
        self.order.clear()
        self._cells.clear()
        self._written.clear()
        self._stale.clear()
        self._widths.clear()
        self._sizes = ()
        self._placed = False

    def take(self, changed: Mapping[str, KeyEntry], now: float) -> None:
        """Hold the changed entries: new keys wait for `place`, the others for `writes`."""
        for key, entry in changed.items():
            self.entries[key] = entry
            self._set(key, key_cells(entry, now))

    def _set(self, key: str, cells: tuple[str, ...]) -> None:
        before = self._cells.get(key)
        self._cells[key] = cells
        if before is None:
            bisect.insort(self.order, key)
            self._widths.add(cells)
            self._placed = False
        elif before != cells:
            self._widths.change(before, cells)
            if key in self._written:
                self._stale.add(key)

    def place(self, table: LiveTable[KeyCell]) -> bool:
        """Put new keys into the table in order; False when none came."""
        if self._placed:
            return False
        self._placed = True
        table.place_rows(self.order, self._row_of)
        return True

    def changed(self) -> set[str]:
        """The keys in the table whose rows changed since the last call."""
        stale, self._stale = self._stale, set()
        return stale

    def writes(self, keys: Iterable[str]) -> list[tuple[str, str, KeyCell]]:
        """The changed cells of the rows of `keys` (out of date rows that came into view)."""
        changes: list[tuple[str, str, KeyCell]] = []
        for key in keys:
            before, now = self._written.get(key), self._cells.get(key)
            if before is None or now is None or before == now:
                continue
            self._written[key] = now
            changes.extend(
                (key, column.key, KeyCell(column, new))
                for column, old, new in zip(KEY_COLUMNS, before, now, strict=True)
                if old != new
            )
        return changes

    def age(self, keys: Sequence[str], now: float, most: int) -> int:
        """Mark out of date at most `most` of `keys` whose shown age is behind; returns how many
        keys were looked at (the pane starts there next time, so every row gets its turn)."""
        examined = marked = 0
        for key in keys:
            examined += 1
            entry, cells = self.entries.get(key), self._cells.get(key)
            if entry is None or cells is None:
                continue
            age = age_text(entry, now)
            if age != cells[AGE_COLUMN]:
                self._set(key, (*cells[:AGE_COLUMN], age, *cells[AGE_COLUMN + 1 :]))
                marked += 1
                if marked >= most:
                    break
        return examined

    def size(self, table: LiveTable[KeyCell]) -> None:
        """Give the table the widest value each column has held since the watch started.

        Columns never narrow while a watch runs: a width that changes redraws every row, and
        ages and values ("59s ago", "1m0s ago") would otherwise change widths every few ticks."""
        widths = self._widths.widths()
        self._sizes = tuple(max(a, b) for a, b in zip(self._sizes or widths, widths, strict=True))
        table.set_widths(dict(zip((c.key for c in KEY_COLUMNS), self._sizes, strict=True)))

    def _row_of(self, key: str) -> list[KeyCell]:
        cells = self._written[key] = self._cells[key]
        self._stale.discard(key)
        return [KeyCell(column, value) for column, value in zip(KEY_COLUMNS, cells, strict=True)]
