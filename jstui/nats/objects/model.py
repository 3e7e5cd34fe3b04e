"""The values of the Object stores pane and the rules for what a user types into it.

`StoreSummary` is read from the backing stream's summary (`OBJ_<bucket>`, the stream the Streams
pane lists): the TTL is the stream's max age, sealed its sealed flag, bytes its bytes (chunks and
meta messages together). `ObjectEntry` is one object as its meta message (`$O.<bucket>.M.<name in
base64url>`, JSON) describes it: name, size, chunks, SHA-256 digest, modification time,
description, and a link to another object or bucket. Every string in it comes from whoever put
the object: the pane sanitizes each one. `StoreSpec` is the create form as typed ("1h", "1GiB"),
validated field by field (`validate`) and turned into the stream config nats.go and nats-py's
`create_object_store` send (`wire_config`), so stores made here are ordinary stores to every
other client. Pure values and functions, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from jstui.format.text import quote_input
from jstui.nats.bucket_spec import BucketSpecBase, bucket_name_problem_for, bucket_of
from jstui.nats.streams.summaries import StreamSummary, parse_time

__all__ = [
    "OBJ_STREAM_PREFIX",
    "ObjectEntry",
    "StoreSpec",
    "StoreSummary",
    "chunk_subject",
    "digest_hex",
    "digest_text",
    "meta_subject",
    "object_name_problem",
    "store_name_problem",
    "store_of_stream",
]

OBJ_STREAM_PREFIX = "OBJ_"
"""A bucket `b` is stored in the stream `OBJ_b`, on `$O.b.C.>` (chunks) and `$O.b.M.>` (meta)."""
DIGEST_PREFIX = "SHA-256="
MAX_OBJECT_NAME = 1024
"""The longest object name jstui puts (the server limits the meta subject, not the name)."""


def store_of_stream(stream: str) -> str | None:
    """The bucket a stream backs (`OBJ_files` -> `files`), or None for any other stream."""
    return bucket_of(stream, OBJ_STREAM_PREFIX)


def store_name_problem(name: str) -> str | None:
    """Why `name` cannot name a bucket (letters, digits, "-" and "_", as every client checks)."""
    return bucket_name_problem_for(name, OBJ_STREAM_PREFIX)


def object_name_problem(name: str) -> str | None:
    """Why jstui will not put an object called `name`: empty, too long, or holding control
    characters (the name travels base64-encoded, so anything else is fine to the server)."""
    if not name:
        return "an object needs a name"
    if len(name) > MAX_OBJECT_NAME:
        return f"at most {MAX_OBJECT_NAME} characters"
    if not name.isprintable():
        return f"{quote_input(name)} holds control characters"
    return None


def meta_subject(bucket: str, name: str) -> str:
    """Where the object's meta message lives: its name base64url-encoded, padding kept (what
    nats.go and nats-py write)."""
    encoded = base64.urlsafe_b64encode(name.encode("utf-8", "surrogatepass")).decode()
    return f"$O.{bucket}.M.{encoded}"


def chunk_subject(bucket: str, nuid: str) -> str:
    return f"$O.{bucket}.C.{nuid}"


def digest_text(sha256: bytes) -> str:
    """A SHA-256 as the meta message writes it: `SHA-256=<base64url>`."""
    return DIGEST_PREFIX + base64.urlsafe_b64encode(sha256).decode()


def digest_bytes(text: str) -> bytes | None:
    """The SHA-256 a meta digest names (either case of the prefix), or None if it names none."""
    for prefix in (DIGEST_PREFIX, DIGEST_PREFIX.upper()):
        if text.startswith(prefix):
            try:
                value = base64.urlsafe_b64decode(text[len(prefix) :])
            except (binascii.Error, ValueError):
                return None
            return value if len(value) == 32 else None
    return None


def digest_hex(text: str) -> str:
    """The digest as `sha256sum` prints it (hex), so that a user can compare with a file; "" when
    the meta names no SHA-256."""
    value = digest_bytes(text)
    return value.hex() if value is not None else ""


@dataclass(frozen=True)
class ObjectEntry:
    """One object as its latest meta message says (a deleted one keeps a meta with `deleted`)."""

    name: str
    bucket: str
    nuid: str
    size: int
    chunks: int
    digest: str
    """As stored: `SHA-256=<base64url>` ("" for a deleted object or a link)."""
    modified: datetime | None
    description: str
    deleted: bool
    link_bucket: str = ""
    link_name: str = ""
    """A link points at another bucket (`link_name` ""), or at one object of it."""
    meta_subject: str = ""

    @property
    def is_link(self) -> bool:
        return bool(self.link_bucket)

    @classmethod
    def from_meta(cls, data: bytes, subject: str = "") -> ObjectEntry | None:
        """The entry a meta message holds; None when it is not a meta message at all (another
        program may publish anything on these subjects)."""
        try:
            raw = json.loads(data)
        except (ValueError, RecursionError):
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            return None

        def mapping(value: Any) -> dict[str, Any]:
            return value if isinstance(value, dict) else {}

        link = mapping(mapping(raw.get("options")).get("link"))

        def text(value: Any) -> str:
            return value if isinstance(value, str) else ""

        def number(value: Any) -> int:
            return value if isinstance(value, int) and value > 0 else 0

        return cls(
            name=raw["name"],
            bucket=text(raw.get("bucket")),
            nuid=text(raw.get("nuid")),
            size=number(raw.get("size")),
            chunks=number(raw.get("chunks")),
            digest=text(raw.get("digest")),
            modified=parse_time(raw.get("mtime")),
            description=text(raw.get("description")),
            deleted=raw.get("deleted") is True,
            link_bucket=text(link.get("bucket")),
            link_name=text(link.get("name")),
            meta_subject=subject,
        )


@dataclass(frozen=True)
class StoreSummary:
    """One bucket as the list shows it, from its backing stream."""

    name: str
    stream: str
    description: str
    ttl: float | None
    """Seconds an object lives (None: for ever)."""
    max_bytes: int | None
    bytes: int
    messages: int
    last_seq: int
    """Moves with every put and delete: the pane counts a bucket's objects again when it did."""
    storage: str
    replicas: int
    sealed: bool
    compression: str

    @classmethod
    def from_stream(cls, summary: StreamSummary) -> StoreSummary:
        raw: dict[str, Any] = dict(summary.raw_config or {})
        max_age = int(raw.get("max_age") or 0)
        max_bytes = int(raw.get("max_bytes") or -1)
        return cls(
            name=store_of_stream(summary.name) or summary.name,
            stream=summary.name,
            description=summary.description,
            ttl=max_age / 1e9 if max_age > 0 else None,
            max_bytes=max_bytes if max_bytes > 0 else None,
            bytes=summary.bytes,
            messages=summary.messages,
            last_seq=summary.last_seq,
            storage=summary.storage,
            replicas=summary.replicas,
            sealed=summary.sealed,
            compression=str(raw.get("compression") or "none"),
        )


@dataclass(frozen=True)
class StoreSpec(BucketSpecBase):
    """The create-bucket form as typed; `validate` says what is wrong, field by field."""

    STREAM_PREFIX: ClassVar[str] = OBJ_STREAM_PREFIX

    def wire_config(self) -> dict[str, Any]:
        """The backing stream's config, as nats.go's `CreateObjectStore` builds it (call
        `validate` first: this raises `ValueError` on what it reports)."""
        return self.stream_config([f"$O.{self.name}.C.>", f"$O.{self.name}.M.>"])
