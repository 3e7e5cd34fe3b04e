"""What the Key/Value pane asks before a destructive change: each question names the bucket, the
key and how much goes, with every name sanitized and in bold (`Text`, never markup). Pure."""

from __future__ import annotations

from rich.text import Text

from jstui.format.text import sanitize
from jstui.format.units import format_count
from jstui.nats.kv.model import BucketSummary


def _count(count: int, one: str, many: str) -> tuple[tuple[str, str], str]:
    return (format_count(count), "bold"), f" {one if count == 1 else many}"


def delete_key(bucket: str, key: str) -> Text:
    return Text.assemble(
        "Delete key ",
        (sanitize(key), "bold"),
        " from bucket ",
        (sanitize(bucket), "bold"),
        "?\nA delete marker is stored; earlier revisions stay in its history until purged.",
    )


def purge_key(bucket: str, key: str, revisions: int) -> Text:
    return Text.assemble(
        "Purge key ",
        (sanitize(key), "bold"),
        " from bucket ",
        (sanitize(bucket), "bold"),
        " with its ",
        *_count(revisions, "kept revision", "kept revisions"),
        "?\nOnly a purge marker stays. This cannot be undone.",
    )


def purge_deletes(bucket: str, markers: int) -> Text:
    return Text.assemble(
        "Remove ",
        *_count(markers, "deleted key", "deleted keys"),
        " from bucket ",
        (sanitize(bucket), "bold"),
        " for good, with their markers and history?\nThis cannot be undone.",
    )


def delete_bucket(bucket: BucketSummary) -> Text:
    return Text.assemble(
        "Delete bucket ",
        (sanitize(bucket.name), "bold"),
        " with its ",
        *_count(bucket.keys, "key", "keys"),
        f" ({format_count(bucket.values)} stored values)?\nThis cannot be undone.",
    )
