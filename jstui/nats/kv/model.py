"""The values of the KV pane and the rules for what a user types into it.

`BucketSummary` is read from the backing stream's summary (`KV_<bucket>`, the stream the Streams
pane lists): history is the stream's max messages per subject, the TTL its max age, the max value
size its max message size, the keys count its number of subjects (a deleted key keeps its marker,
and so its subject, until the markers are purged). `KeyEntry` is one revision of one key, built
from a message of the bucket's stream. `BucketSpec` is the create form as typed ("1h", "1MiB"),
validated field by field (`validate`) and turned into the stream config nats-py's
`create_key_value` would send (`wire_config`), so buckets made here are ordinary buckets to every
other client. Pure values and functions, no I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from jstui.format.editable import EscapeError, unescape_bytes
from jstui.format.text import quote_input
from jstui.format.units import duration_ns, parse_count, parse_size
from jstui.nats.bucket_spec import BucketSpecBase, bucket_name_problem_for, bucket_of
from jstui.nats.streams.summaries import StreamSummary

__all__ = [
    "KV_STREAM_PREFIX",
    "MAX_HISTORY",
    "BucketSpec",
    "BucketSummary",
    "KeyEntry",
    "Operation",
    "bucket_name_problem",
    "bucket_of_stream",
    "key_pattern_problem",
    "key_problem",
    "value_bytes",
]

KV_STREAM_PREFIX = "KV_"
"""A bucket `b` is stored in the stream `KV_b`, on the subjects `$KV.b.>`."""
MAX_HISTORY = 64
"""The server's limit on revisions kept per key."""

Operation = Literal["PUT", "DEL", "PURGE"]

_KEY = re.compile(r"[-/_=.a-zA-Z0-9]+")
"""What nats-py and nats.go accept as a key (tokens separated by dots)."""


def bucket_of_stream(stream: str) -> str | None:
    """The bucket a stream backs (`KV_config` -> `config`), or None for any other stream."""
    return bucket_of(stream, KV_STREAM_PREFIX)


def bucket_name_problem(name: str) -> str | None:
    """Why `name` cannot name a bucket (letters, digits, "-" and "_", as every client checks)."""
    return bucket_name_problem_for(name, KV_STREAM_PREFIX)


def key_problem(key: str) -> str | None:
    """Why `key` cannot be put (letters, digits, and - / _ = . with no empty token), or None."""
    if not key:
        return "a key is required"
    if not _KEY.fullmatch(key):
        return f"{quote_input(key)}: only letters, digits and - / _ = ."
    if key.startswith(".") or key.endswith(".") or ".." in key:
        return f"{quote_input(key)} has an empty token (a leading, trailing or double dot)"
    return None


def key_pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot filter keys (key tokens, `*` for any one, a last `>` for the rest)."""
    if not pattern:
        return "a pattern is required (> is every key)"
    tokens = pattern.split(".")
    for index, token in enumerate(tokens):
        if token == ">" and index != len(tokens) - 1:
            return f"{quote_input(pattern)}: '>' must be the last token"
        if not token:
            return f"{quote_input(pattern)} has an empty token (a leading, trailing or double dot)"
        if token not in ("*", ">") and not _KEY.fullmatch(token):
            return f"{quote_input(pattern)}: only letters, digits, - / _ = and the wildcards * >"
    return None


VALUE_FORMATS = ("text", "json", "escaped")
"""How a put form's value box is read: UTF-8 text as typed; the same, checked to be JSON; or
backslash escapes turned into the bytes they stand for (`jstui.format.editable`)."""


def value_bytes(text: str, value_format: str) -> bytes:
    """The bytes a value box holding `text` stores; `ValueError` saying what is wrong (JSON that
    does not parse, with line and column; a bad escape, with where)."""
    if value_format == "escaped":
        try:
            return unescape_bytes(text)
        except EscapeError as error:
            raise ValueError(f"not valid escaped text: {error}") from None
    if value_format == "json":
        try:
            json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
            ) from None
        except RecursionError:
            raise ValueError("not valid JSON: nested too deeply") from None
    elif value_format != "text":
        raise ValueError("text, json or escaped")
    return text.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class KeyEntry:
    """One revision of one key: its value, the stream sequence that is its revision, what was done
    (PUT, DEL, PURGE) and when (epoch seconds)."""

    key: str
    value: bytes
    revision: int
    operation: Operation
    created: float

    @property
    def deleted(self) -> bool:
        return self.operation != "PUT"


def operation_of(headers: dict[str, str] | None) -> Operation:
    """The operation a bucket message records: its `KV-Operation` header, or the server's marker
    reason (nats-server 2.11+ places markers for expired keys: MaxAge and Purge purge, Remove
    deletes)."""
    if not headers:
        return "PUT"
    op = headers.get("KV-Operation")
    if op in ("DEL", "PURGE"):
        return op  # type: ignore[return-value]  # narrowed by the test above
    reason = headers.get("Nats-Marker-Reason")
    if reason in ("MaxAge", "Purge"):
        return "PURGE"
    if reason == "Remove":
        return "DEL"
    return "PUT"


@dataclass(frozen=True)
class BucketSummary:
    """One bucket as the list shows it, from its backing stream."""

    name: str
    stream: str
    description: str
    history: int
    ttl: float | None
    """Seconds a value lives (None: for ever)."""
    max_value_size: int | None
    max_bytes: int | None
    bytes: int
    values: int
    """Messages stored: every kept revision and delete marker."""
    keys: int
    """Subjects stored: live keys plus deleted keys whose marker is still kept."""
    storage: str
    replicas: int
    compression: str

    @classmethod
    def from_stream(cls, summary: StreamSummary) -> BucketSummary:
        raw: dict[str, Any] = dict(summary.raw_config or {})

        def limit(key: str) -> int | None:
            value = int(raw.get(key) or -1)
            return value if value > 0 else None

        max_age = int(raw.get("max_age") or 0)
        return cls(
            name=bucket_of_stream(summary.name) or summary.name,
            stream=summary.name,
            description=summary.description,
            history=max(int(raw.get("max_msgs_per_subject") or 1), 1),
            ttl=max_age / 1e9 if max_age > 0 else None,
            max_value_size=limit("max_msg_size"),
            max_bytes=limit("max_bytes"),
            bytes=summary.bytes,
            values=summary.messages,
            keys=summary.num_subjects,
            storage=summary.storage,
            replicas=summary.replicas,
            compression=str(raw.get("compression") or "none"),
        )


@dataclass(frozen=True)
class BucketSpec(BucketSpecBase):
    """The create-bucket form as typed; `validate` says what is wrong, field by field."""

    STREAM_PREFIX: ClassVar[str] = KV_STREAM_PREFIX
    SIZE_FIELDS: ClassVar[tuple[str, ...]] = ("max_value_size", "max_bytes")

    history: str = "1"
    max_value_size: str = ""

    def _own_problems(self) -> dict[str, str]:
        try:
            history = parse_count(self.history) or 1
        except ValueError as error:
            return {"history": str(error)}
        if not 1 <= history <= MAX_HISTORY:
            return {"history": f"from 1 to {MAX_HISTORY} revisions per key"}
        return {}

    def wire_config(self) -> dict[str, Any]:
        """The backing stream's config, as nats-py's `create_key_value` builds it (call
        `validate` first: this raises `ValueError` on what it reports)."""
        ttl = duration_ns(self.ttl) or 0
        config = self.stream_config([f"$KV.{self.name}.>"])
        config.update(
            max_msgs_per_subject=parse_count(self.history) or 1,
            max_msg_size=parse_size(self.max_value_size) or -1,
            deny_delete=True,
            # Two minutes, or the TTL when shorter: what nats.go and nats-py choose.
            duplicate_window=min(ttl, 120 * 10**9) if ttl else 120 * 10**9,
        )
        return config
