"""The create form of a key-value bucket: name, description, history, TTL, sizes, storage,
replicas and compression, in human units ("1h30m", "10MiB").

`KvBucketFormScreen(service)` dismisses with the new bucket's `BucketSummary`, or None when
cancelled. Each field is checked when the user leaves it by the parser `BucketSpec.validate` uses;
on save every bad field shows its message and nothing is sent; a refusal from the server (a name
in use, replicas the server cannot place) shows above the buttons. The form stays open either way.
The form itself is `BucketFormScreen` (jstui/dialogs/bucket_form.py), shared with object stores;
this module says what a KV bucket's fields are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from jstui.dialogs.bucket_form import BucketFormScreen
from jstui.format.units import parse_count, parse_duration, parse_size
from jstui.nats.kv.model import BucketSpec, BucketSummary, bucket_name_problem
from jstui.nats.kv.service import KvService

__all__ = ["KvBucketFormScreen"]


class KvBucketFormScreen(BucketFormScreen[BucketSummary]):
    """Create a key-value bucket."""

    PREFIX = "kv-bucket"
    TITLE = "New key-value bucket"
    READ_ONLY_NOTICE = "buckets are not created."
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        # (BucketSpec attribute, label, placeholder)
        ("name", "Name", "e.g. config (letters, digits, - and _)"),
        ("description", "Description", "optional"),
        ("history", "History", "revisions kept per key, 1 to 64 (default 1)"),
        ("ttl", "TTL", "how long a value lives: 1h, 7d; empty = for ever"),
        ("max_value_size", "Max value size", "e.g. 1MiB; empty = unlimited"),
        ("max_bytes", "Max bytes", "the whole bucket, e.g. 1GiB; empty = unlimited"),
        ("storage", "Storage", ""),
        ("replicas", "Replicas", "1"),
        ("compression", "Compression", ""),
    )
    PARSERS: ClassVar[dict[str, Callable[[str], object]]] = {
        "history": parse_count,
        "ttl": parse_duration,
        "max_value_size": parse_size,
        "max_bytes": parse_size,
        "replicas": parse_count,
    }
    PREFILLED = frozenset({"replicas"})
    DEFAULT_WHEN_EMPTY: ClassVar[dict[str, str]] = {"history": "1", "replicas": "1"}
    DEFAULT_CSS = """
    KvBucketFormScreen .kv-bucket-form { max-width: 96; height: 90%; }
    KvBucketFormScreen #kv-bucket-fields { height: 1fr; }
    """
    spec_type = BucketSpec
    name_problem = staticmethod(bucket_name_problem)

    def __init__(self, service: KvService) -> None:
        super().__init__(service.create_bucket)
