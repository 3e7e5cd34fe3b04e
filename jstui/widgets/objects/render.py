"""Pure builders of what the Object stores pane draws: a bucket's row and an object's row.

Data flow: `StoreSummary` and `ObjectEntry` values from the service and the watch go in, plain
strings come out (every name, description and link sanitized: they come from whoever put the
object), and the Key/Value pane's `cell` makes them the table's `Text` cells. No widget, no I/O:
tested without the app.
"""

from __future__ import annotations

from datetime import datetime

from jstui.format.units import format_count, format_duration_short, format_size
from jstui.nats.objects.model import ObjectEntry, StoreSummary, digest_hex
from jstui.widgets.bucket_table import Column, clip

NAME_WIDTH = 40
"""Widest a name or description cell gets; longer ones end in an ellipsis."""
DIGEST_CHARS = 12
"""Hex digits of the SHA-256 shown: enough to tell objects apart and to compare by eye with
`sha256sum`; the get dialog shows all of it."""

STORE_COLUMNS: tuple[Column, ...] = (
    Column("name", "Bucket"),
    Column("description", "Description"),
    Column("objects", "Objects", numeric=True),
    Column("bytes", "Bytes", numeric=True),
    Column("storage", "Storage"),
    Column("replicas", "R", numeric=True),
    Column("sealed", "Sealed"),
    Column("ttl", "TTL", numeric=True),
)

OBJECT_COLUMNS: tuple[Column, ...] = (
    Column("name", "Name"),
    Column("size", "Size", numeric=True),
    Column("chunks", "Chunks", numeric=True),
    Column("digest", "SHA-256"),
    Column("modified", "Modified"),
    Column("description", "Description"),
    Column("link", "Link"),
)


def store_cells(store: StoreSummary, objects: int | None) -> tuple[str, ...]:
    """A bucket's row; `objects` is its live object count (None while not counted yet)."""
    return (
        clip(store.name, NAME_WIDTH),
        clip(store.description, NAME_WIDTH) if store.description else "",
        format_count(objects) if objects is not None else "…",
        format_size(store.bytes),
        clip(store.storage, 8),
        str(store.replicas),
        "sealed" if store.sealed else "",
        format_duration_short(store.ttl) if store.ttl else "-",
    )


def modified_text(when: datetime | None) -> str:
    """Local time to the second ("" when the meta has none)."""
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S") if when is not None else ""


def link_text(entry: ObjectEntry) -> str:
    """Where a link points: `-> bucket/name`, or `-> bucket/` for a link to a whole bucket."""
    if not entry.is_link:
        return ""
    return "-> " + clip(f"{entry.link_bucket}/{entry.link_name}", NAME_WIDTH)


def object_cells(entry: ObjectEntry) -> tuple[str, ...]:
    digest = digest_hex(entry.digest)
    return (
        clip(entry.name, NAME_WIDTH),
        format_size(entry.size) if not entry.is_link else "",
        format_count(entry.chunks) if not entry.is_link else "",
        digest[:DIGEST_CHARS] if digest else ("" if entry.is_link else "?"),
        modified_text(entry.modified),
        clip(entry.description, NAME_WIDTH) if entry.description else "",
        link_text(entry),
    )


def object_order(entries: dict[str, ObjectEntry]) -> list[str]:
    """The row keys (meta subjects) in name order."""
    return sorted(entries, key=lambda subject: (entries[subject].name, subject))
