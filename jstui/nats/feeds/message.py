"""One received message (`FeedMessage`), its JetStream metadata, and its JSON / NDJSON form.

`FeedMessage` is what readers of a feed get: a named tuple of plain values. The feed's ring buffer
(`MessageRing`) stores each one as a plain tuple of the same fields and names it when it is read:
building a named tuple costs about 0.35 us more per message than a plain one, and the garbage
collector tracks it for good (CPython untracks only exact tuples of atomic values). `JsMeta` is
read from the `$JS.ACK...` reply subject (`parse_ack_reply`) only when something asks for it.
`message_to_json` is the export and "copy as JSON" format; `export_messages` writes a buffer of
them in a thread (never over an existing file unless told to), to the path `export_target` makes
absolute. `AckKind` is what a consuming feed answers.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, overload

from jstui.nats.errors import ValidationError

__all__ = [
    "AckKind",
    "FeedMessage",
    "JsMeta",
    "MessageRing",
    "export_messages",
    "export_ndjson",
    "export_target",
    "message_to_json",
    "parse_ack_reply",
]


class AckKind(StrEnum):
    ACK = "ack"
    NAK = "nak"
    TERM = "term"

    @property
    def payload(self) -> bytes:
        return {"ack": b"+ACK", "nak": b"-NAK", "term": b"+TERM"}[self.value]


@dataclass(frozen=True)
class JsMeta:
    """JetStream delivery metadata, from the ack reply subject (or a get-message reply)."""

    stream: str
    consumer: str = ""
    delivered: int = 1
    stream_seq: int = 0
    consumer_seq: int = 0
    timestamp: datetime | None = None
    pending: int | None = None
    domain: str = ""


def parse_ack_reply(reply: str) -> JsMeta | None:
    """Metadata from a `$JS.ACK...` reply subject (v1 with 9 tokens, v2 with domain and account)."""
    if not reply.startswith("$JS.ACK."):
        return None
    tokens = reply.split(".")
    try:
        if len(tokens) == 9:
            domain = ""
            stream, consumer, delivered, sseq, cseq, ts, pending = tokens[2:9]
        elif len(tokens) >= 11:
            domain = "" if tokens[2] == "_" else tokens[2]
            stream, consumer, delivered, sseq, cseq, ts, pending = tokens[4:11]
        else:
            return None
        return JsMeta(
            stream=stream,
            consumer=consumer,
            delivered=int(delivered),
            stream_seq=int(sseq),
            consumer_seq=int(cseq),
            timestamp=datetime.fromtimestamp(int(ts) / 1e9, UTC),
            pending=int(pending),
            domain=domain,
        )
    except (ValueError, OverflowError, OSError):
        return None


class FeedMessage(NamedTuple):
    """One received message, as a feed's readers see it (`MessageRing` keeps it as a plain
    tuple of these fields)."""

    index: int  # type: ignore[assignment]  # a field, shadowing tuple.index on purpose
    """1-based position in the feed (counts every message the callback saw)."""
    time: float
    """When it arrived (wall clock, seconds since the epoch)."""
    subject: str
    reply: str
    data: bytes
    headers: dict[str, str] | None
    js: JsMeta | None = None
    """Set for browsed (get-message) messages; others derive `meta` from the reply subject."""

    @property
    def meta(self) -> JsMeta | None:
        return self.js if self.js is not None else parse_ack_reply(self.reply)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def header_count(self) -> int:
        return len(self.headers) if self.headers else 0


_named = partial(tuple.__new__, FeedMessage)
"""Names a plain tuple of `FeedMessage`'s fields (in C: no Python-level `__new__`)."""


class MessageRing(Sequence[FeedMessage]):
    """A feed's ring buffer: the newest `capacity` messages, oldest first.

    The receive path appends plain tuples of `FeedMessage`'s fields with `append_fields` (a
    deque's own `append`); reading names them, so indexing, iterating and `reversed` give
    `FeedMessage`s. Readers take a screenful at a time, so naming on the way out costs little;
    two reads of one slot give equal messages, not the same object."""

    __slots__ = ("_fields", "append_fields")

    def __init__(self, capacity: int) -> None:
        self._fields: deque[tuple[Any, ...]] = deque(maxlen=capacity)
        self.append_fields = self._fields.append

    @property
    def capacity(self) -> int:
        return self._fields.maxlen or 0

    def append(self, message: FeedMessage) -> None:
        self.append_fields(tuple(message))

    def clear(self) -> None:
        self._fields.clear()

    def __len__(self) -> int:
        return len(self._fields)

    @overload
    def __getitem__(self, position: int) -> FeedMessage: ...
    @overload
    def __getitem__(self, position: slice) -> list[FeedMessage]: ...
    def __getitem__(self, position: int | slice) -> FeedMessage | list[FeedMessage]:
        if isinstance(position, slice):
            return [_named(fields) for fields in list(self._fields)[position]]
        return _named(self._fields[position])

    def __iter__(self) -> Iterator[FeedMessage]:
        return map(_named, self._fields)

    def __reversed__(self) -> Iterator[FeedMessage]:
        return map(_named, reversed(self._fields))


def message_to_json(message: FeedMessage) -> dict[str, Any]:
    """One message as a JSON-able object: the NDJSON export format and the "copy as JSON" text.

    Payload: UTF-8 text where valid (``payload_encoding: "utf-8"``), else base64.
    """
    obj: dict[str, Any] = {
        "subject": message.subject,
        "received": datetime.fromtimestamp(message.time, UTC).isoformat().replace("+00:00", "Z"),
    }
    meta = message.meta
    if meta is not None:
        obj["stream"] = meta.stream
        obj["stream_seq"] = meta.stream_seq
        if meta.consumer:
            obj["consumer"] = meta.consumer
            obj["consumer_seq"] = meta.consumer_seq
            obj["delivered"] = meta.delivered
        if meta.timestamp is not None:
            obj["time"] = meta.timestamp.isoformat().replace("+00:00", "Z")
    elif message.reply:
        obj["reply"] = message.reply
    obj["headers"] = dict(message.headers or {})
    obj["size"] = len(message.data)
    try:
        obj["payload"] = message.data.decode("utf-8")
        obj["payload_encoding"] = "utf-8"
    except UnicodeDecodeError:
        obj["payload"] = base64.b64encode(message.data).decode("ascii")
        obj["payload_encoding"] = "base64"
    return obj


def export_target(path: Path | str) -> Path:
    """Where an export goes, as an absolute path: ``~`` expanded, a relative path taken from the
    working directory, ``..`` and symbolic links resolved (the file that will really be
    written, which is what the dialog shows)."""
    return Path(path).expanduser().resolve()


def export_ndjson(messages: Iterable[FeedMessage], path: Path, *, overwrite: bool = False) -> int:
    """Write one JSON object per line (see `message_to_json`); return how many. An existing file
    raises `FileExistsError` unless `overwrite` (checked by the open itself, so nothing written
    between a check and the open is lost). Blocking: run it in a thread (`export_messages` does)."""
    count = 0
    with path.open("w" if overwrite else "x", encoding="utf-8") as out:
        for message in messages:
            out.write(json.dumps(message_to_json(message), ensure_ascii=True))
            out.write("\n")
            count += 1
    return count


async def export_messages(
    messages: Iterable[FeedMessage], path: Path | str, *, overwrite: bool = False
) -> tuple[Path, int]:
    """Write `messages` (a feed's `exportable()`) as NDJSON, in a thread; return the absolute
    path and the count. An existing file is refused unless `overwrite` (`FileExistsError`, so
    that the caller can ask); relative paths are taken from the working directory
    (`export_target` says where that is)."""
    target = export_target(path)
    if target.is_dir():
        raise ValidationError("path", "is a folder; give a file name")
    if not target.parent.is_dir():
        raise ValidationError("path", f"no such folder: {target.parent}")
    # a snapshot of references: the loop goes on filling the buffer while it is written
    snapshot = list(messages)
    try:
        count = await asyncio.to_thread(export_ndjson, snapshot, target, overwrite=overwrite)
    except FileExistsError:
        raise
    except OSError as error:
        raise ValidationError("path", error.strerror or str(error)) from error
    return target, count
