"""Plain objects the Streams pane shows, read from the JetStream API's raw JSON.

`StreamSummary` (a stream's config highlights, state and placement: see `placement`; `bucket`
says when it is the backing stream of a key/value bucket or an object store),
`ConsumerSummary`, `StoredMessage` (read without consuming) and `MessagePage` are frozen values
built by `summary_from_raw`,
`consumer_from_raw` and `parse_header_block` from what `StreamService` receives. The raw JSON is
read because nats-py's models drop fields the UI shows (first_ts, last_ts, num_subjects).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nats.js.api import StreamConfig

from jstui.nats.streams.placement import StreamPlacement, placement_from_raw

__all__ = [
    "DIRECT_GET_HEADERS",
    "Bucket",
    "ConsumerSummary",
    "MessagePage",
    "StoredMessage",
    "StreamSummary",
    "backing_bucket",
    "consumer_from_raw",
    "parse_header_block",
    "parse_time",
    "summary_from_raw",
]


@dataclass(frozen=True)
class Bucket:
    """A key/value bucket or an object store kept in a stream (`KV_<name>`, `OBJ_<name>`)."""

    kind: str
    """"kv" or "obj"."""
    name: str

    @property
    def label(self) -> str:
        return "key/value bucket" if self.kind == "kv" else "object store"


def backing_bucket(name: str, subjects: Iterable[str], *, replicated: bool) -> Bucket | None:
    """The bucket `name` stores, when the stream is one: `KV_b` on `$KV.b.>`, `OBJ_b` on
    `$O.b.C.>` and `$O.b.M.>` (what nats-py, the Go client and natscli create); a mirror or a
    sourced copy of one (`replicated`) has no subjects of its own."""
    subjects = tuple(subjects)
    for kind, prefix, expected in (
        ("kv", "KV_", lambda b: {f"$KV.{b}.>"}),
        ("obj", "OBJ_", lambda b: {f"$O.{b}.C.>", f"$O.{b}.M.>"}),
    ):
        bucket = name[len(prefix) :]
        matching = set(subjects) == expected(bucket) or (replicated and not subjects)
        if name.startswith(prefix) and bucket and matching:
            return Bucket(kind, bucket)
    return None


@dataclass(frozen=True)
class StreamSummary:
    """One stream's config highlights and state, as a list row or a header shows them."""

    name: str
    description: str
    subjects: tuple[str, ...]
    retention: str
    storage: str
    replicas: int
    messages: int
    bytes: int
    first_seq: int
    last_seq: int
    first_time: datetime | None
    last_time: datetime | None
    consumer_count: int
    num_deleted: int
    num_subjects: int
    created: datetime | None
    sealed: bool
    allow_direct: bool
    raw_config: Mapping[str, Any] | None = field(default=None, hash=False, repr=False)
    """The config as the server sent it (JSON); `config` models it when someone asks. Compared:
    an edit that changes only a limit must still count as a change."""
    placement: StreamPlacement | None = field(default=None, repr=False)
    """Leader, replicas, mirror and sources (None on a standalone server with neither)."""

    @property
    def bucket(self) -> Bucket | None:
        """The key/value bucket or object store this stream keeps, if it is one."""
        placement = self.placement
        replicated = placement is not None and bool(placement.mirror or placement.sources)
        return backing_bucket(self.name, self.subjects, replicated=replicated)

    @property
    def purge_refusal(self) -> str:
        """Why the server refuses any purge of this stream ("" when it does not)."""
        if self.sealed:
            return "it is sealed: the server refuses every purge (it can still be deleted)"
        if (self.raw_config or {}).get("deny_purge"):
            return "it denies purges, for good: the server refuses every purge"
        return ""

    @property
    def delete_refusal(self) -> str:
        """Why the server refuses to delete any message of this stream ("" when it does not)."""
        if self.sealed:
            return "it is sealed: no message can be deleted"
        if (self.raw_config or {}).get("deny_delete"):
            return "it denies deletes (deny_delete): its messages go only by its limits"
        return ""

    @property
    def is_mirror(self) -> bool:
        return self.placement is not None and self.placement.mirror is not None

    @functools.cached_property
    def config(self) -> StreamConfig | None:
        """The full config as nats-py models it, for a detail view or a form.

        Built on first use: the table lists 1,000 streams a second and shows no config, and
        modelling one costs ~40 µs (most of a summary's parse time at scale)."""
        if self.raw_config is None:
            return None
        return StreamConfig.from_response(copy.deepcopy(dict(self.raw_config)))


@dataclass(frozen=True)
class ConsumerSummary:
    """One consumer of a stream and its progress."""

    name: str
    durable: bool
    description: str
    filter_subjects: tuple[str, ...]
    deliver_policy: str
    ack_policy: str
    deliver_group: str
    push: bool
    num_pending: int
    num_ack_pending: int
    num_redelivered: int
    num_waiting: int
    delivered_stream_seq: int
    ack_floor_stream_seq: int
    last_active: datetime | None
    paused: bool
    created: datetime | None


@dataclass(frozen=True)
class StoredMessage:
    """A message read from a stream without consuming it.

    `headers` are the message's own (the server's `Nats-Stream`/`Nats-Sequence`/... of a direct get
    are removed); with a repeated header the last value is kept, as nats-py does.
    """

    stream: str
    seq: int
    subject: str
    time: datetime | None
    headers: dict[str, str] | None
    data: bytes


class MessagePage(list[StoredMessage]):
    """Messages of one page, in the order asked for, plus where the next page starts.

    `next_start` is the sequence to pass as `start` for the following page in the same direction,
    or None when the end (or the beginning) of the stream was reached. A page can hold fewer than
    `count` messages and still have a `next_start`: the per-page call budget ran out in a sparse
    stretch of a filtered backwards walk.
    """

    def __init__(self, messages: Iterable[StoredMessage] = (), next_start: int | None = None):
        super().__init__(messages)
        self.next_start = next_start


TIMES_REMEMBERED = 8192
"""Parsed times kept: a few per stream listed, for a few thousand streams."""

_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)")


def parse_time(text: Any) -> datetime | None:
    """An RFC 3339 time with nanoseconds (cut to microseconds) in UTC; None for Go's zero time."""
    return _parse_time_text(text) if isinstance(text, str) else None


@functools.lru_cache(maxsize=TIMES_REMEMBERED)
def _parse_time_text(text: str) -> datetime | None:
    # Remembered: each list of 1,000 streams brings the same creation and first-message times
    # again (a third of parsing a summary; benchmarks/streams.py times one refresh).
    if text.startswith("0001-01-01"):
        return None
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    fraction = (match[2] or "")[:6].ljust(6, "0")
    zone = "+00:00" if match[3] == "Z" else match[3]
    return datetime.fromisoformat(f"{match[1]}.{fraction}{zone}").astimezone(UTC)


def summary_from_raw(raw: dict[str, Any]) -> StreamSummary:
    """A summary from a raw STREAM.INFO / STREAM.LIST entry (nats-py drops first_ts, last_ts and
    num_subjects, so the raw JSON is read)."""
    cfg = raw.get("config") or {}
    state = raw.get("state") or {}
    return StreamSummary(
        name=str(cfg.get("name", "")),
        description=str(cfg.get("description") or ""),
        subjects=tuple(cfg.get("subjects") or ()),
        retention=str(cfg.get("retention") or "limits"),
        storage=str(cfg.get("storage") or "file"),
        replicas=int(cfg.get("num_replicas") or 1),
        messages=int(state.get("messages") or 0),
        bytes=int(state.get("bytes") or 0),
        first_seq=int(state.get("first_seq") or 0),
        last_seq=int(state.get("last_seq") or 0),
        first_time=parse_time(state.get("first_ts")),
        last_time=parse_time(state.get("last_ts")),
        consumer_count=int(state.get("consumer_count") or 0),
        num_deleted=int(state.get("num_deleted") or 0),
        num_subjects=int(state.get("num_subjects") or 0),
        created=parse_time(raw.get("created")),
        sealed=bool(cfg.get("sealed")),
        allow_direct=bool(cfg.get("allow_direct")),
        raw_config=cfg,
        placement=placement_from_raw(raw),
    )


def consumer_from_raw(raw: dict[str, Any]) -> ConsumerSummary:
    cfg = raw.get("config") or {}
    delivered = raw.get("delivered") or {}
    ack_floor = raw.get("ack_floor") or {}
    filters = cfg.get("filter_subjects") or (
        [cfg["filter_subject"]] if cfg.get("filter_subject") else []
    )
    active = [
        t
        for t in (
            parse_time(delivered.get("last_active")),
            parse_time(ack_floor.get("last_active")),
        )
        if t
    ]
    return ConsumerSummary(
        name=str(raw.get("name", "")),
        durable=bool(cfg.get("durable_name")),
        description=str(cfg.get("description") or ""),
        filter_subjects=tuple(filters),
        deliver_policy=str(cfg.get("deliver_policy") or ""),
        ack_policy=str(cfg.get("ack_policy") or ""),
        deliver_group=str(cfg.get("deliver_group") or ""),
        push=bool(cfg.get("deliver_subject")),
        num_pending=int(raw.get("num_pending") or 0),
        num_ack_pending=int(raw.get("num_ack_pending") or 0),
        num_redelivered=int(raw.get("num_redelivered") or 0),
        num_waiting=int(raw.get("num_waiting") or 0),
        delivered_stream_seq=int(delivered.get("stream_seq") or 0),
        ack_floor_stream_seq=int(ack_floor.get("stream_seq") or 0),
        last_active=max(active) if active else None,
        paused=bool(raw.get("paused")),
        created=parse_time(raw.get("created")),
    )


DIRECT_GET_HEADERS = frozenset(
    {
        "Nats-Stream",
        "Nats-Subject",
        "Nats-Sequence",
        "Nats-Time-Stamp",
        "Nats-Num-Pending",
        "Nats-Last-Sequence",
        "Nats-UpTo-Sequence",
    }
)


def parse_header_block(block: bytes) -> dict[str, str] | None:
    """Headers from a stored `NATS/1.0\\r\\nKey: value\\r\\n...` block; the last of a repeated key
    wins, like nats-py's own parsing of a direct-get reply."""
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", errors="replace").split("\r\n")[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip():
            headers[key.strip()] = value.strip()
    return headers or None
