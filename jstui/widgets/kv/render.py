"""Pure builders of what the Key/Value pane draws: a bucket's row, a key's row, a value preview.

Data flow: `BucketSummary` and `KeyEntry` values from the service and the watch go in, plain
strings come out (already sanitized, values previewed by `jstui.nats.kv.preview`), and `cell`
makes them the table's `Text` cells. No widget, no I/O: tested without the app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.widgets.data_table import ColumnKey

from jstui.format.text import sanitize
from jstui.format.units import format_age, format_count, format_duration_short, format_size
from jstui.nats.kv.model import BucketSummary, KeyEntry
from jstui.nats.kv.preview import JSON_MARK, value_preview

KEY_WIDTH = 40
"""Widest a key or value cell gets; longer ones end in an ellipsis (the history shows all)."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool = False


BUCKET_COLUMNS: tuple[Column, ...] = (
    Column("name", "Bucket"),
    Column("keys", "Keys", numeric=True),
    Column("values", "Values", numeric=True),
    Column("bytes", "Bytes", numeric=True),
    Column("history", "History", numeric=True),
    Column("ttl", "TTL", numeric=True),
    Column("max_value", "Max value", numeric=True),
    Column("storage", "Storage"),
    Column("replicas", "R", numeric=True),
    Column("compression", "Compr"),
)

KEY_COLUMNS: tuple[Column, ...] = (
    Column("key", "Key"),
    Column("value", "Value"),
    Column("revision", "Rev", numeric=True),
    Column("operation", "Op"),
    Column("age", "Age", numeric=True),
)
AGE_COLUMN = len(KEY_COLUMNS) - 1


def clip(value: str | bytes, width: int) -> str:
    """The sanitized value, cut to `width` characters with an ellipsis."""
    text = sanitize(value, max_len=width + 16)
    return text if len(text) <= width else text[: width - 1] + "…"


def bucket_cells(bucket: BucketSummary) -> tuple[str, ...]:
    return (
        clip(bucket.name, KEY_WIDTH),
        format_count(bucket.keys),
        format_count(bucket.values),
        format_size(bucket.bytes),
        str(bucket.history),
        format_duration_short(bucket.ttl) if bucket.ttl else "-",
        format_size(bucket.max_value_size) if bucket.max_value_size else "-",
        sanitize(bucket.storage, max_len=16),
        str(bucket.replicas),
        sanitize(bucket.compression, max_len=16),
    )


def key_cells(entry: KeyEntry, now: float) -> tuple[str, ...]:
    value = value_preview(entry.value) if not entry.deleted else "<deleted>"
    return (
        clip(entry.key, KEY_WIDTH),
        value,
        format_count(entry.revision),
        entry.operation,
        age_text(entry, now),
    )


def age_text(entry: KeyEntry, now: float) -> str:
    return format_age(max(0.0, now - entry.created)) if entry.created else ""


def _style(column: Column, value: str) -> str:
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


class KeyCell:
    """A cell of the keys table: its text and look, made a `Text` (`cell`) only when Textual
    draws it, which it does for the rows in view and caches.

    The table holds five cells a key: as `Text` (with its two lists) that is 150,000 objects the
    garbage collector walks at 10,000 keys, and a full collection took 50-60 ms of a key's wait
    in benchmarks/kv.py; one small object a cell is a third of that."""

    __slots__ = ("column", "text")

    def __init__(self, column: Column, text: str) -> None:
        self.column = column
        self.text = text

    def __rich__(self) -> Text:
        return cell(self.column, self.text)

    def __str__(self) -> str:
        return self.text


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
