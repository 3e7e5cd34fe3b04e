"""The tables of the bucket panes (Key/Value, Object stores): their columns, the `Text` of a cell,
which cells changed between two sets of rows and how wide each column needs to be, the row under
the cursor, and `show_rows`, which puts rows into a `LiveTable` writing only what changed.

Data flow: a pane's pure row builders (jstui/widgets/kv/render.py, jstui/widgets/objects/render.py)
make each row's strings, already sanitized; `cell` turns a string into a plain `Text` (never
markup) and `show_rows` places the rows. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets.data_table import ColumnKey

from jstui.format.text import sanitize
from jstui.nats.kv.preview import JSON_MARK
from jstui.widgets.table import LiveTable

__all__ = [
    "Column",
    "cell",
    "changed_cells",
    "clip",
    "row_key_at_cursor",
    "show_rows",
    "widest",
]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool = False


def clip(value: str | bytes, width: int) -> str:
    """The sanitized value, cut to `width` characters with an ellipsis."""
    text = sanitize(value, max_len=width + 16)
    return text if len(text) <= width else text[: width - 1] + "…"


def _style(column: Column, value: str) -> str:
    # The looks of the keys table (a JSON value, a delete marker); no other column has them.
    if column.key == "value" and value.startswith(JSON_MARK):
        return "cyan"
    if (column.key == "operation" and value != "PUT") or value == "<deleted>":
        return "dim"
    return ""


def cell(column: Column, value: str) -> Text:
    """A table cell: numbers right-aligned, never wrapped; values stay plain (never markup)."""
    return Text(
        value,
        style=_style(column, value),
        justify="right" if column.numeric else "left",
        no_wrap=True,
        end="",
    )


def changed_cells(
    columns: Sequence[Column],
    before: Mapping[str, tuple[str, ...]],
    after: Mapping[str, tuple[str, ...]],
) -> list[tuple[str, str, Text]]:
    """The cells of rows in both `before` and `after` whose text changed, to be written."""
    return [
        (name, column.key, cell(column, new))
        for name, row in after.items()
        if (old_row := before.get(name)) is not None and old_row != row
        for column, old, new in zip(columns, old_row, row, strict=True)
        if old != new
    ]


def widest(
    columns: Sequence[Column], rows: Iterable[tuple[str, ...]]
) -> dict[ColumnKey | str, int]:
    """Each column's width: its widest value, or its label when that is wider (a few rows only;
    the keys table counts widths with `ColumnWidths` instead)."""
    widths = [cell_len(column.label) for column in columns]
    for row in rows:
        widths = [max(width, cell_len(value)) for width, value in zip(widths, row, strict=True)]
    return {column.key: width for column, width in zip(columns, widths, strict=True)}


def row_key_at_cursor(table: LiveTable[Any]) -> str | None:
    """The key of the row under the table's cursor (None when the table is empty)."""
    if table.row_count == 0:
        return None
    row = min(max(table.cursor_row, 0), table.row_count - 1)
    key = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
    return str(key) if key is not None else None


def show_rows(
    table: LiveTable[Text],
    columns: Sequence[Column],
    before: dict[str, tuple[str, ...]],
    after: dict[str, tuple[str, ...]],
) -> None:
    """Make `table` hold `after`'s rows in its order, writing only the cells that changed."""
    table.place_rows(
        list(after), lambda key: [cell(c, v) for c, v in zip(columns, after[key], strict=True)]
    )
    if changes := changed_cells(columns, before, after):
        table.update_cells(changes)
    table.set_widths(widest(columns, after.values()))
