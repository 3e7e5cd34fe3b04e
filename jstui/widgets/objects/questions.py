"""What the Object stores pane asks before a destructive change: each question names the bucket,
the object or file and how much goes, every name sanitized and in bold (`Text`, never markup).
Pure."""

from __future__ import annotations

from rich.text import Text

from jstui.format.text import sanitize
from jstui.format.units import counted, format_count, format_size
from jstui.nats.objects.model import ObjectEntry, StoreSummary


def delete_object(bucket: str, entry: ObjectEntry) -> Text:
    what = (
        f"a link to {sanitize(entry.link_bucket)}/{sanitize(entry.link_name)}"
        if entry.is_link
        else f"{format_size(entry.size)} in {format_count(entry.chunks)} chunks"
    )
    return Text.assemble(
        "Delete object ",
        (sanitize(entry.name), "bold"),
        " from bucket ",
        (sanitize(bucket), "bold"),
        f" ({what})?\nIts chunks are purged; only a deleted marker stays. This cannot be undone.",
    )


def delete_bucket(store: StoreSummary, objects: int | None) -> Text:
    count = "every object" if objects is None else counted(objects, "object")
    return Text.assemble(
        "Delete object store ",
        (sanitize(store.name), "bold"),
        f" with {count} ({format_size(store.bytes)} stored)?\nThis cannot be undone.",
    )
