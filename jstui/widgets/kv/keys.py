"""What the keys table holds: `HeldKeys`, every key the watch delivered, its row's strings, the
rows on screen in key order, and their column widths.

Data flow: the pane hands each batch of changed entries (`KeyWatch.take_changes`) to `take`, which
returns the changed cells of keys already shown (written with `LiveTable.update_cells`) and whether
keys were added; only then does `place` put the sorted keys into the table (`place_rows`, one step
however many came). Ages are the one thing that changes without a message: `ages` rewrites them
for the rows in view only, so 10,000 keys cost what a screenful costs. Widths come from the
strings held (`ColumnWidths`), never from measuring cells.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping

from rich.text import Text

from jstui.nats.kv.model import KeyEntry
from jstui.widgets.kv.render import AGE_COLUMN, KEY_COLUMNS, age_text, cell, key_cells
from jstui.widgets.table import ColumnWidths, LiveTable

AGE_KEY = KEY_COLUMNS[AGE_COLUMN].key


class HeldKeys:
    """Every key of the current watch and the strings its row shows."""

    def __init__(self) -> None:
        self.entries: dict[str, KeyEntry] = {}
        self.order: list[str] = []
        """The keys, sorted: the table's rows top to bottom."""
        self._cells: dict[str, tuple[str, ...]] = {}
        self._widths = ColumnWidths([column.label for column in KEY_COLUMNS])
        self._placed = True

    def clear(self) -> None:
        self.entries.clear()
        self.order.clear()
        self._cells.clear()
        self._widths.clear()
        self._placed = False

    def take(self, changed: Mapping[str, KeyEntry], now: float) -> list[tuple[str, str, Text]]:
        """Hold the changed entries; returns the changed cells of rows already in the table."""
        updates: list[tuple[str, str, Text]] = []
        for key, entry in changed.items():
            cells = key_cells(entry, now)
            before = self._cells.get(key)
            self.entries[key] = entry
            self._cells[key] = cells
            if before is None:
                bisect.insort(self.order, key)
                self._widths.add(cells)
                self._placed = False
                continue
            self._widths.change(before, cells)
            updates.extend(
                (key, column.key, cell(column, new))
                for column, old, new in zip(KEY_COLUMNS, before, cells, strict=True)
                if old != new
            )
        return updates

    def place(self, table: LiveTable[Text]) -> bool:
        """Put new keys into the table in order and size the columns; False when none came."""
        if self._placed:
            return False
        self._placed = True
        table.place_rows(self.order, self._row_of)
        return True

    def size(self, table: LiveTable[Text]) -> None:
        """Give the table the widest value of each column (costs nothing when none changed)."""
        table.set_widths(
            dict(zip((c.key for c in KEY_COLUMNS), self._widths.widths(), strict=True))
        )

    def ages(self, keys: Iterable[str], now: float) -> list[tuple[str, str, Text]]:
        """New age cells for `keys` (the rows in view) whose shown age is out of date."""
        column = KEY_COLUMNS[AGE_COLUMN]
        updates: list[tuple[str, str, Text]] = []
        for key in keys:
            entry, cells = self.entries.get(key), self._cells.get(key)
            if entry is None or cells is None:
                continue
            age = age_text(entry, now)
            if age != cells[AGE_COLUMN]:
                new = (*cells[:AGE_COLUMN], age, *cells[AGE_COLUMN + 1 :])
                self._widths.change(cells, new)
                self._cells[key] = new
                updates.append((key, AGE_KEY, cell(column, age)))
        return updates

    def _row_of(self, key: str) -> list[Text]:
        return [
            cell(column, value) for column, value in zip(KEY_COLUMNS, self._cells[key], strict=True)
        ]
