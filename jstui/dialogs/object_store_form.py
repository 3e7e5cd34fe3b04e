"""The create form of an object store: name, description, TTL, max bytes, storage, replicas and
compression, in human units ("7d", "10GiB").

`ObjectStoreFormScreen(service)` dismisses with the new store's `StoreSummary`, or None when
cancelled. Each field is checked when the user leaves it by the parser `StoreSpec.validate` uses;
on save every bad field shows its message and nothing is sent; a refusal from the server (a name
in use, replicas the server cannot place, more bytes than it has) shows above the buttons. The
form stays open either way. The form itself is `BucketFormScreen` (jstui/dialogs/bucket_form.py),
shared with key-value buckets; this module says what an object store's fields are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from jstui.dialogs.bucket_form import BucketFormScreen
from jstui.format.units import parse_count, parse_duration, parse_size
from jstui.nats.objects.model import StoreSpec, StoreSummary, store_name_problem
from jstui.nats.objects.service import ObjectService

__all__ = ["ObjectStoreFormScreen"]


class ObjectStoreFormScreen(BucketFormScreen[StoreSummary]):
    """Create an object store."""

    PREFIX = "object-store"
    TITLE = "New object store"
    READ_ONLY_NOTICE = "object stores are not created."
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        # (StoreSpec attribute, label, placeholder)
        ("name", "Name", "e.g. files (letters, digits, - and _)"),
        ("description", "Description", "optional"),
        ("ttl", "TTL", "how long an object lives: 1h, 7d; empty = for ever"),
        ("max_bytes", "Max bytes", "the whole store, e.g. 10GiB; empty = unlimited"),
        ("storage", "Storage", ""),
        ("replicas", "Replicas", "1"),
        ("compression", "Compression", ""),
    )
    PARSERS: ClassVar[dict[str, Callable[[str], object]]] = {
        "ttl": parse_duration,
        "max_bytes": parse_size,
        "replicas": parse_count,
    }
    DEFAULT_WHEN_EMPTY: ClassVar[dict[str, str]] = {"replicas": "1"}
    DEFAULT_CSS = """
    ObjectStoreFormScreen .object-store-form { max-width: 96; height: auto; max-height: 90%; }
    ObjectStoreFormScreen #object-store-fields { height: auto; }
    """
    spec_type = StoreSpec
    name_problem = staticmethod(store_name_problem)

    def __init__(self, service: ObjectService) -> None:
        super().__init__(service.create_bucket)
