"""Pure builders of what the Key/Value pane draws: a bucket's row, a key's row, a value preview.

Data flow: `BucketSummary` and `KeyEntry` values from the service and the watch go in, plain
strings come out (already sanitized, values previewed by `jstui.nats.kv.preview`), and `cell`
(jstui/widgets/bucket_table.py, shared with the Object stores pane) makes them the table's `Text`
cells. No widget, no I/O: tested without the app.
"""

from __future__ import annotations

from rich.text import Text

from jstui.format.text import sanitize
from jstui.format.units import format_age, format_count, format_duration_short, format_size
from jstui.nats.kv.model import BucketSummary, KeyEntry
from jstui.nats.kv.preview import value_preview
from jstui.widgets.bucket_table import Column, cell, clip

KEY_WIDTH = 40
"""Widest a key or value cell gets; longer ones end in an ellipsis (the history shows all)."""


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
