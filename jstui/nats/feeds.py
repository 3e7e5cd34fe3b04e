"""Live message feeds: one subscription each, a ring buffer, counters, rates, filter, export.

A `Feed` is built from a `FeedSpec` (what the subscribe dialog or `--feed SUBJECT[,opts]` asked for)
and runs in one of three modes:

- ``core``: a plain subscription (wildcards, optional queue group) whose messages nats-py's read
  loop hands straight to the ring buffer (`direct.py`): no client-side queue, so no slow-consumer
  drops; what a screen cannot show is counted as skipped;
- ``js`` (non-consuming, the default for streams): an ordered consumer on the stream that captures
  the subject, with a deliver policy. Work-queue and interest streams are never given a consumer in
  this mode (a consumer there removes or retains messages, nats-notes section 10): they are browsed
  with get-message by sequence instead, so looking leaves them exactly as they were;
- ``consume``: a durable (or ephemeral) push consumer with explicit acks; the user acks, naks or
  terminates each message. `max_ack_pending` is kept within the client's pending limit, so the
  server throttles instead of the client dropping.

The hot path is `_receive`: it appends one tuple to a `deque(maxlen=buffer)` and bumps two
counters, nothing else. Readers (the pane's timer, tests) call `take_new`, which returns at most a
screenful of the newest messages and accounts for every message exactly once:

    received = shown + filtered + dropped + pending

`dropped` counts messages nats-py threw away past the pending limit of a JetStream feed (slow
consumer, counted per subscription id by `Session`), plus those not drawn because more arrived
than a screen shows, or because they were overwritten in the ring buffer while the view was
paused. `pending` is what
arrived since the last `take_new` (the "+N new" of a paused view). This module imports nothing
from Textual.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy

from jstui.nats.direct import subscribe_direct
from jstui.nats.errors import (
    JstuiError,
    NoStreamError,
    SpecErrors,
    ValidationError,
    translate,
)
from jstui.nats.session import Session
from jstui.nats.stats import RateMeter

__all__ = [
    "CORE_PENDING_BYTES",
    "CORE_PENDING_MSGS",
    "DEFAULT_BUFFER",
    "JS_MAX_ACK_PENDING",
    "JS_PENDING_BYTES",
    "JS_PENDING_MSGS",
    "AckKind",
    "Deliver",
    "Feed",
    "FeedCounts",
    "FeedFilter",
    "FeedMessage",
    "FeedMode",
    "FeedSpec",
    "FeedState",
    "JsMeta",
    "export_ndjson",
    "find_stream",
    "message_to_json",
    "parse_ack_reply",
    "parse_feed_option",
    "parse_since",
    "subject_matches",
    "subject_problem",
]

DEFAULT_BUFFER = 10_000
"""Messages kept per feed unless `--feed-buffer` says otherwise."""

# Explicit pending limits (nats-notes section 8): nats-py's defaults (524,288 msgs / 128 MiB) hide a
# backlog of seconds; these bound it to well under a second at the rates one loop can take. Core
# feeds need them only if direct delivery is unavailable (direct.py).
CORE_PENDING_MSGS = 20_000
CORE_PENDING_BYTES = 32 * 1024 * 1024
JS_PENDING_MSGS = 20_000
JS_PENDING_BYTES = 64 * 1024 * 1024
JS_MAX_ACK_PENDING = 1_000
"""Consuming feeds: at most this many unacknowledged messages out (<= JS_PENDING_MSGS)."""

BROWSE_IDLE_SECONDS = 0.25
"""How long a browsing feed (work-queue or interest stream) waits when it has caught up."""
BROWSE_RETRY_MAX = 2.0
FILTER_SCAN_BUDGET = 5_000
"""At most this many new messages are matched against a filter per `take_new` call."""
FILTER_PAYLOAD_BYTES = 64 * 1024
"""The payload regex looks at the first 64 KiB of each payload."""
API_TIMEOUT = 5  # whole seconds: nats-py types flush(timeout) as int
SLICE_SECONDS = 0.010
"""How long the callback may run back to back before it lets the loop run other tasks."""


class FeedMode(StrEnum):
    CORE = "core"
    JETSTREAM = "js"
    CONSUME = "consume"

    @property
    def label(self) -> str:
        return {"core": "core", "js": "JetStream", "consume": "consuming"}[self.value]


class Deliver(StrEnum):
    """Where a JetStream feed starts."""

    ALL = "all"
    NEW = "new"
    LAST = "last"
    LAST_PER_SUBJECT = "last-per-subject"
    SEQUENCE = "seq"
    TIME = "since"


class FeedState(StrEnum):
    STARTING = "starting"
    LIVE = "live"
    FAILED = "failed"
    CLOSED = "closed"


class AckKind(StrEnum):
    ACK = "ack"
    NAK = "nak"
    TERM = "term"

    @property
    def payload(self) -> bytes:
        return {"ack": b"+ACK", "nak": b"-NAK", "term": b"+TERM"}[self.value]


# --------------------------------------------------------------------------------------------------
# subjects


def subject_problem(subject: str, *, wildcards: bool = True) -> str | None:
    """Why `subject` cannot be subscribed to (or published to, with `wildcards=False`), or None."""
    if not subject:
        return "a subject is required"
    if any(ch.isspace() for ch in subject):
        return "a subject cannot contain spaces"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in subject):
        return "a subject cannot contain control characters"
    tokens = subject.split(".")
    if any(token == "" for token in tokens):
        return "empty token (a leading, trailing or double dot)"
    for index, token in enumerate(tokens):
        if token in ("*", ">"):
            if not wildcards:
                return "wildcards (* and >) cannot be published to"
            if token == ">" and index != len(tokens) - 1:
                return "> must be the last token"
        elif ("*" in token or ">" in token) and wildcards:
            return "a wildcard must be a whole token (a.*.c, a.>)"
    return None


def _name_problem(name: str, what: str) -> str | None:
    if not name:
        return f"{what} is required"
    if any(ch in name for ch in ". *>\t\r\n/\\") or any(ord(ch) < 0x20 for ch in name):
        return f"{what} cannot contain . * > / \\ or spaces"
    if len(name) > 255:
        return f"{what} is too long (255 at most)"
    return None


def subject_matches(pattern: str, subject: str) -> bool:
    """True when `subject` matches the NATS `pattern` (`*`: one token, `>`: the rest)."""
    if pattern == subject or pattern == ">":
        return True
    return _match_tokens(_tokens(pattern), subject.split("."))


_TOKEN_CACHE: dict[str, tuple[str, ...]] = {}


def _tokens(pattern: str) -> tuple[str, ...]:
    tokens = _TOKEN_CACHE.get(pattern)
    if tokens is None:
        if len(_TOKEN_CACHE) > 256:
            _TOKEN_CACHE.clear()
        tokens = _TOKEN_CACHE[pattern] = tuple(pattern.split("."))
    return tokens


def _match_tokens(pattern: Sequence[str], tokens: Sequence[str]) -> bool:
    for index, want in enumerate(pattern):
        if want == ">":
            return len(tokens) > index
        if index >= len(tokens):
            return False
        if want != "*" and want != tokens[index]:
            return False
    return len(tokens) == len(pattern)


# --------------------------------------------------------------------------------------------------
# time options

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_DURATIONS_RE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """`10m`, `1h30m`, `2d` (that long ago) or an ISO time (naive = local time) -> aware UTC.

    Raises `ValueError` with a short message.
    """
    value = text.strip()
    if not value:
        raise ValueError("a duration (10m, 2h) or an ISO time is required")
    now = now or datetime.now(UTC)
    compact = value.replace(" ", "").lower()
    if _DURATIONS_RE.fullmatch(compact):
        seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_RE.findall(compact))
        return now - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a duration (10m, 2h) nor an ISO time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive means the user's local time
    return moment.astimezone(UTC)


# --------------------------------------------------------------------------------------------------
# the spec


@dataclass(frozen=True)
class FeedSpec:
    """What to subscribe to and how. Build it with `FeedSpec.create` (validates) or
    `parse_feed_option` (the `--feed` short form)."""

    subject: str
    mode: FeedMode = FeedMode.CORE
    queue: str | None = None
    deliver: Deliver = Deliver.ALL
    start_seq: int | None = None
    since: str | None = None
    durable: str | None = None
    stream: str | None = None
    buffer: int = DEFAULT_BUFFER

    @classmethod
    def create(
        cls,
        subject: str,
        mode: FeedMode | str = FeedMode.CORE,
        *,
        queue: str | None = None,
        deliver: Deliver | str = Deliver.ALL,
        start_seq: int | str | None = None,
        since: str | None = None,
        durable: str | None = None,
        stream: str | None = None,
        buffer: int | str = DEFAULT_BUFFER,
    ) -> FeedSpec:
        """Validate everything at once; raise `SpecErrors` keyed by field name."""
        errors: dict[str, str] = {}
        subject = subject.strip()
        if problem := subject_problem(subject):
            errors["subject"] = problem
        try:
            mode = FeedMode(mode)
        except ValueError:
            errors["mode"] = f"unknown mode {mode!r} (core, js, consume)"
            mode = FeedMode.CORE
        try:
            deliver = Deliver(deliver)
        except ValueError:
            known = ", ".join(d.value for d in Deliver)
            errors["deliver"] = f"unknown deliver policy {deliver!r} ({known})"
            deliver = Deliver.ALL
        queue = (queue or "").strip() or None
        durable = (durable or "").strip() or None
        stream = (stream or "").strip() or None
        since = (since or "").strip() or None
        seq: int | None = None
        if isinstance(start_seq, str):
            start_seq = start_seq.strip() or None
        if start_seq is not None:
            try:
                seq = int(start_seq)
                if seq < 1:
                    raise ValueError
            except ValueError:
                errors["start_seq"] = "a stream sequence is a whole number from 1"
        try:
            size = int(buffer)
            if not 100 <= size <= 10_000_000:
                raise ValueError
        except ValueError:
            errors["buffer"] = "buffer: a number of messages from 100 to 10,000,000"
            size = DEFAULT_BUFFER
        if mode is FeedMode.CORE:
            if queue and (problem := _name_problem(queue, "a queue group")):
                errors["queue"] = problem
            for name, value in (("durable", durable), ("stream", stream), ("since", since)):
                if value:
                    errors[name] = f"{name} applies to JetStream feeds (js or consume)"
            if seq is not None:
                errors["start_seq"] = "a start sequence applies to JetStream feeds"
            if deliver is not Deliver.ALL:
                errors["deliver"] = "a deliver policy applies to JetStream feeds"
        else:
            if queue:
                errors["queue"] = "queue groups apply to core feeds"
            if stream and (problem := _name_problem(stream, "a stream name")):
                errors["stream"] = problem
            if durable:
                if mode is not FeedMode.CONSUME:
                    errors["durable"] = "a durable consumer consumes: choose the consuming mode"
                elif problem := _name_problem(durable, "a durable name"):
                    errors["durable"] = problem
            if deliver is Deliver.SEQUENCE and seq is None and "start_seq" not in errors:
                errors["start_seq"] = "give the stream sequence to start from"
            if deliver is not Deliver.SEQUENCE and seq is not None:
                errors["start_seq"] = "a start sequence goes with deliver=seq"
            if deliver is Deliver.TIME:
                if not since:
                    errors["since"] = "give a duration (10m) or an ISO time"
                else:
                    try:
                        parse_since(since)
                    except ValueError as error:
                        errors["since"] = str(error)
            elif since:
                errors["since"] = "a start time goes with deliver=since"
        if errors:
            raise SpecErrors(errors)
        return cls(
            subject=subject,
            mode=mode,
            queue=queue,
            deliver=deliver,
            start_seq=seq,
            since=since,
            durable=durable,
            stream=stream,
            buffer=size,
        )

    @property
    def is_jetstream(self) -> bool:
        return self.mode is not FeedMode.CORE

    def start_time(self, now: datetime | None = None) -> datetime | None:
        """The resolved start time for deliver=since (relative durations count from `now`)."""
        return parse_since(self.since, now=now) if self.since else None

    @property
    def label(self) -> str:
        """A short name for a tab: the subject and a mode mark."""
        mark = {FeedMode.CORE: "", FeedMode.JETSTREAM: " js", FeedMode.CONSUME: " consume"}
        queue = f" q={self.queue}" if self.queue else ""
        return f"{self.subject}{mark[self.mode]}{queue}"

    def to_option(self) -> str:
        """The `--feed` short form of this spec (round-trips through `parse_feed_option`)."""
        parts = [self.subject]
        if self.mode is FeedMode.JETSTREAM:
            parts.append("js")
        elif self.mode is FeedMode.CONSUME:
            parts.append("consume")
        if self.queue:
            parts.append(f"queue={self.queue}")
        if self.is_jetstream:
            if self.deliver is Deliver.SEQUENCE:
                parts.append(f"seq={self.start_seq}")
            elif self.deliver is Deliver.TIME:
                parts.append(f"since={self.since}")
            elif self.deliver is not Deliver.ALL:
                parts.append(f"deliver={self.deliver.value}")
        if self.durable:
            parts.append(f"durable={self.durable}")
        if self.stream:
            parts.append(f"stream={self.stream}")
        if self.buffer != DEFAULT_BUFFER:
            parts.append(f"buffer={self.buffer}")
        return ",".join(parts)


_OPTION_KEYS = ("queue", "deliver", "seq", "since", "durable", "stream", "buffer")


def parse_feed_option(text: str, *, buffer: int = DEFAULT_BUFFER) -> FeedSpec:
    """Parse the `--feed` short form: ``SUBJECT[,option...]``.

    Options: ``js`` (JetStream, non-consuming), ``consume`` (JetStream, consuming), ``queue=NAME``,
    ``deliver=all|new|last|last-per-subject``, ``seq=N``, ``since=10m|ISO-TIME``,
    ``durable=NAME``, ``stream=NAME``, ``buffer=N``. ``deliver``, ``seq`` and ``since`` imply ``js``
    unless ``consume`` is given; ``seq=N`` means deliver from that sequence, ``since=`` from that
    time. Raises `ValidationError` (field ``feed``) with one line naming the problem.
    """
    raw = text.strip()
    if not raw:
        raise ValidationError("feed", "empty --feed value; expected SUBJECT[,option...]")
    subject, *options = (part.strip() for part in raw.split(","))
    mode: FeedMode | None = None
    values: dict[str, str] = {}
    for option in options:
        if not option:
            continue
        key, sep, value = option.partition("=")
        key = key.strip().lower()
        value = value.strip()
        if not sep:
            if key in ("js", "jetstream"):
                mode = mode if mode is FeedMode.CONSUME else FeedMode.JETSTREAM
                continue
            if key in ("consume", "consuming"):
                mode = FeedMode.CONSUME
                continue
            if key == "core":
                mode = FeedMode.CORE
                continue
            raise ValidationError("feed", f"unknown option {key!r} in {raw!r}")
        if key == "mode":
            try:
                mode = FeedMode(value.lower())
            except ValueError:
                raise ValidationError("feed", f"mode={value!r}: core, js or consume") from None
            continue
        if key not in _OPTION_KEYS:
            raise ValidationError("feed", f"unknown option {key!r} in {raw!r}")
        if not value:
            raise ValidationError("feed", f"{key}= needs a value")
        values[key] = value
    deliver = values.get("deliver", Deliver.ALL.value).lower()
    if "seq" in values:
        deliver = Deliver.SEQUENCE.value
    elif "since" in values:
        deliver = Deliver.TIME.value
    if mode is None:
        jetstream_hint = any(k in values for k in ("deliver", "seq", "since", "stream"))
        mode = FeedMode.JETSTREAM if jetstream_hint else FeedMode.CORE
    try:
        return FeedSpec.create(
            subject,
            mode,
            queue=values.get("queue"),
            deliver=deliver,
            start_seq=values.get("seq"),
            since=values.get("since"),
            durable=values.get("durable"),
            stream=values.get("stream"),
            buffer=values.get("buffer", buffer),
        )
    except SpecErrors as errors:
        first = next(iter(errors.errors.values()))
        raise ValidationError("feed", f"{raw!r}: {first}") from None


# --------------------------------------------------------------------------------------------------
# messages


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
    """One received message. A tuple of plain values: cheap to build in the callback, and not
    tracked by the garbage collector once its fields are atomic (nats-notes section 6)."""

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


def export_ndjson(messages: Iterable[FeedMessage], path: Path) -> int:
    """Write one JSON object per line (see `message_to_json`); return how many. Blocking: run it
    in a thread (`Feed.export` does)."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for message in messages:
            out.write(json.dumps(message_to_json(message), ensure_ascii=True))
            out.write("\n")
            count += 1
    return count


# --------------------------------------------------------------------------------------------------
# filter


@dataclass(frozen=True)
class FeedFilter:
    """Which messages a view shows: a NATS subject pattern and/or a regex on the payload text."""

    subject: str = ""
    payload: str = ""
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def create(cls, subject: str = "", payload: str = "") -> FeedFilter:
        """Validate; raise `SpecErrors` keyed `subject` / `payload`."""
        errors: dict[str, str] = {}
        subject = subject.strip()
        if subject and (problem := subject_problem(subject)):
            errors["subject"] = problem
        regex = None
        if payload:
            try:
                regex = re.compile(payload)
            except re.error as error:
                errors["payload"] = f"invalid regular expression: {error}"
        if errors:
            raise SpecErrors(errors)
        return cls(subject=subject, payload=payload, _regex=regex)

    @property
    def active(self) -> bool:
        return bool(self.subject or self.payload)

    def matches(self, message: FeedMessage) -> bool:
        if self.subject and not subject_matches(self.subject, message.subject):
            return False
        if self._regex is not None:
            text = message.data[:FILTER_PAYLOAD_BYTES].decode("utf-8", "replace")
            if self._regex.search(text) is None:
                return False
        return True

    def describe(self) -> str:
        parts = []
        if self.subject:
            parts.append(f"subject {self.subject}")
        if self.payload:
            parts.append(f"payload /{self.payload}/")
        return ", ".join(parts)


NO_FILTER = FeedFilter()
_new_tuple = tuple.__new__


# --------------------------------------------------------------------------------------------------
# the feed


@dataclass(frozen=True)
class FeedCounts:
    """A consistent snapshot: received = shown + filtered + dropped + pending."""

    received: int
    shown: int
    filtered: int
    dropped: int
    pending: int
    slow: int
    """Of `dropped`: thrown away by nats-py past the pending limit (slow consumer)."""
    skipped: int
    """Of `dropped`: not drawn (more than a screenful at once, or overwritten while paused)."""
    bytes: int


async def find_stream(session: Session, subject: str) -> str:
    """The stream that captures `subject` (wildcards allowed); `NoStreamError` when none does."""
    try:
        return await session.jsm.find_stream_name_by_subject(subject)
    except nats.js.errors.NotFoundError:
        raise NoStreamError(subject) from None
    except (nats.errors.Error, TimeoutError) as error:
        raise translate(error, subject=subject) from error


class Feed:
    """One live subscription with its ring buffer and counters. Use `await feed.start()` and
    `await feed.stop()` (or `async with feed:`, or `await feed.run()` until cancelled)."""

    def __init__(self, session: Session, spec: FeedSpec, *, clock: Any = time.time) -> None:
        self.session = session
        self.spec = spec
        self.buffer: deque[FeedMessage] = deque(maxlen=spec.buffer)
        self.state = FeedState.STARTING
        self.error = ""
        """Why the feed failed, or the last transient problem of a browsing feed."""
        self.notes: list[str] = []
        """What the user should know about how the feed runs (e.g. browsing a work queue)."""
        self.stream = spec.stream or ""
        self.consumer = ""
        self.retention = ""
        self.browsing = False
        """True when the feed reads a work-queue/interest stream by get-message, not a consumer."""
        self.count = 0
        """Messages handed to the callback (and appended to the buffer)."""
        self.bytes = 0
        self.shown = 0
        self.filtered = 0
        self.skipped = 0
        self.meter = RateMeter()
        self.acks: dict[int, AckKind] = {}
        """Acknowledgements sent, by message index (consuming feeds): the one record of them,
        read by the feed's log and the detail screen alike."""
        self.acks_sent = 0
        """Bumped with every acknowledgement, so a view knows when to redraw without diffing."""
        self._clock = clock
        self._cursor = 0
        self._metered_count = 0
        self._metered_bytes = 0
        self._sub: Subscription | None = None
        self._sids: set[int] = set()
        self._browse_task: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self._slice_start = time.perf_counter()

    # -- hot path ---------------------------------------------------------------------------------

    def _receive(self, msg: Msg) -> None:
        # Runs once per message on the UI loop (inside nats-py's read loop for core feeds, see
        # direct.py): append and count, nothing else.
        self.count += 1
        data = msg.data
        self.bytes += len(data)
        # tuple.__new__ skips NamedTuple's Python-level __new__ (0.2 us a message saved)
        self.buffer.append(
            _new_tuple(
                FeedMessage,
                (self.count, self._clock(), msg.subject, msg.reply, data, msg.headers, None),
            )
        )

    async def _on_message(self, msg: Msg) -> None:
        # JetStream feeds get their messages through nats-py's callback task, which calls back to
        # back while its queue holds messages and never yields, so a flood would hold the loop
        # (and every key press) for the whole queue. Every 64 messages, check how long this
        # burst has run; past a slice, give the loop a turn.
        self._receive(msg)
        if not self.count & 63 and time.perf_counter() - self._slice_start > SLICE_SECONDS:
            await asyncio.sleep(0)
            self._slice_start = time.perf_counter()

    def _append(
        self, subject: str, data: bytes, headers: dict[str, str] | None, js: JsMeta
    ) -> None:
        self.count += 1
        self.bytes += len(data)
        self.buffer.append(FeedMessage(self.count, self._clock(), subject, "", data, headers, js))

    # -- reading ---------------------------------------------------------------------------------

    @property
    def slow_drops(self) -> int:
        """Messages nats-py dropped for this feed's subscription(s) (slow consumer)."""
        self._track_sid()
        return sum(self.session.dropped(sid) for sid in self._sids)

    def _track_sid(self) -> None:
        # An ordered consumer re-subscribes under a new sid after a reset; keep every sid it had.
        if self._sub is not None:
            self._sids.add(self._sub._id)

    @property
    def pending(self) -> int:
        """Arrived since the last `take_new` (not yet drawn)."""
        return self.count - self._cursor

    def counts(self) -> FeedCounts:
        slow = self.slow_drops
        return FeedCounts(
            received=self.count + slow,
            shown=self.shown,
            filtered=self.filtered,
            dropped=self.skipped + slow,
            pending=self.pending,
            slow=slow,
            skipped=self.skipped,
            bytes=self.bytes,
        )

    def sample_rates(self) -> None:
        """Feed the rate meter with what arrived since the last call (call it from a timer)."""
        delta = self.count - self._metered_count
        delta_bytes = self.bytes - self._metered_bytes
        self._metered_count = self.count
        self._metered_bytes = self.bytes
        self.meter.add(delta, delta_bytes)

    def take_new(self, limit: int, flt: FeedFilter = NO_FILTER) -> list[FeedMessage]:
        """The newest messages since the last call that pass `flt`, at most `limit`, oldest first.

        Every message that arrived since the last call is accounted for once: shown (returned),
        filtered (did not match), or skipped (older than the newest `limit` matches, beyond the
        filter's scan budget, or already overwritten in the ring buffer).
        """
        new = self.count - self._cursor
        if new <= 0:
            return []
        self._cursor = self.count
        in_buffer = min(new, len(self.buffer))
        overrun = new - in_buffer
        out: list[FeedMessage] = []
        examined = 0
        limit = max(0, limit)
        if flt.active:
            budget = max(limit, FILTER_SCAN_BUDGET)
            for message in itertools.islice(reversed(self.buffer), in_buffer):
                if len(out) >= limit or examined >= budget:
                    break
                examined += 1
                if flt.matches(message):
                    out.append(message)
            self.filtered += examined - len(out)
        else:
            take = min(limit, in_buffer)
            out = list(itertools.islice(reversed(self.buffer), take))
            examined = take
        self.skipped += overrun + in_buffer - examined
        self.shown += len(out)
        out.reverse()
        return out

    def skip_pending(self) -> None:
        """Count everything not yet drawn as skipped (e.g. the view was cleared)."""
        self.skipped += self.pending
        self._cursor = self.count

    def matching(self, flt: FeedFilter, limit: int) -> list[FeedMessage]:
        """The newest `limit` buffered messages that pass `flt`, oldest first, for a redraw.

        Counters are not touched: these messages were accounted for when they arrived.
        """
        out: list[FeedMessage] = []
        drawn = self.count - self.pending
        for message in reversed(self.buffer):
            if len(out) >= limit:
                break
            if message.index > drawn:
                continue  # not taken yet: still "+N new"
            if not flt.active or flt.matches(message):
                out.append(message)
        out.reverse()
        return out

    def find(self, index: int) -> FeedMessage | None:
        """The buffered message with this index, if it is still in the ring buffer."""
        if not self.buffer:
            return None
        first = self.buffer[0].index
        position = index - first
        if 0 <= position < len(self.buffer):
            message = self.buffer[position]
            if message.index == index:
                return message
        return None

    async def export(self, path: Path | str) -> tuple[Path, int]:
        """Write the ring buffer as NDJSON (in a thread); return the absolute path and the count."""
        target = Path(path).expanduser()
        if target.is_dir():
            raise ValidationError("path", "is a folder; give a file name")
        if not target.parent.is_dir():
            raise ValidationError("path", f"no such folder: {target.parent}")
        snapshot = list(self.buffer)  # cheap (references); the loop goes on while it is written
        try:
            count = await asyncio.to_thread(export_ndjson, snapshot, target)
        except OSError as error:
            raise ValidationError("path", error.strerror or str(error)) from error
        return target.resolve(), count

    # -- acknowledgements ----------------------------------------------------------------------

    @property
    def can_ack(self) -> bool:
        return self.spec.mode is FeedMode.CONSUME

    async def acknowledge(self, message: FeedMessage, kind: AckKind) -> None:
        """Send ack / nak / term for a message of a consuming feed."""
        if not self.can_ack:
            raise JstuiError("only consuming feeds acknowledge messages")
        self.session.check_writable(f"{kind.value} a message")
        if not message.reply.startswith("$JS.ACK."):
            raise JstuiError("this message has no acknowledgement subject")
        if message.index in self.acks:
            raise JstuiError(f"already answered with {self.acks[message.index].value}")
        try:
            await self.session.nc.publish(message.reply, kind.payload)
            await self.session.nc.flush(timeout=API_TIMEOUT)
        except (nats.errors.Error, TimeoutError) as error:
            raise translate(error) from error
        self.acks[message.index] = kind
        self.acks_sent += 1
        if len(self.acks) > self.spec.buffer:
            oldest = self.buffer[0].index if self.buffer else self.count
            self.acks = {i: k for i, k in self.acks.items() if i >= oldest}

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe (or start browsing). Raises a `JstuiError` with a one-line reason."""
        try:
            if self.spec.mode is FeedMode.CORE:
                await self._start_core()
            else:
                await self._start_jetstream()
        except JstuiError as error:
            self.state, self.error = FeedState.FAILED, str(error)
            raise
        except (nats.errors.Error, TimeoutError, ValueError) as error:
            translated = translate(error, subject=self.spec.subject)
            self.state, self.error = FeedState.FAILED, str(translated)
            raise translated from error
        self.state = FeedState.LIVE

    async def _start_core(self) -> None:
        self._sub = await subscribe_direct(
            self.session.nc,
            self.spec.subject,
            self._receive,
            queue=self.spec.queue or "",
            pending_msgs_limit=CORE_PENDING_MSGS,
            pending_bytes_limit=CORE_PENDING_BYTES,
        )
        self._track_sid()
        # "live" means the server has the subscription: nothing published after start() is missed
        await self.session.nc.flush(timeout=API_TIMEOUT)

    async def _start_jetstream(self) -> None:
        spec = self.spec
        if spec.mode is FeedMode.CONSUME:
            self.session.check_writable("open a consuming feed")
        jsm = self.session.jsm
        if not self.stream:
            self.stream = await find_stream(self.session, spec.subject)
        try:
            info = await jsm.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            raise JstuiError(f"stream {self.stream!r} not found") from None
        retention = info.config.retention
        self.retention = (
            retention.value if isinstance(retention, RetentionPolicy) else str(retention)
        )
        if spec.mode is FeedMode.JETSTREAM and self.retention in ("workqueue", "interest"):
            # A consumer here would remove (work queue) or hold (interest) messages: browse instead.
            self.browsing = True
            self.notes.append(
                f"{self.retention} stream: read with get-message, nothing is consumed"
            )
            first = await self._browse_start(info.state.first_seq, info.state.last_seq)
            self._browse_task = asyncio.create_task(self._browse_loop(first))
            return
        if spec.mode is FeedMode.JETSTREAM:
            await self._start_ordered(info.state.last_seq)
        else:
            await self._start_consuming()

    async def _start_seq_for_time(self, moment: datetime, last_seq: int) -> int:
        """The first stream sequence at or after `moment` (last_seq + 1 when there is none)."""
        request = json.dumps({"start_time": moment.isoformat().replace("+00:00", "Z")})
        try:
            reply = await self.session.nc.request(
                f"{self._api_prefix()}.STREAM.MSG.GET.{self.stream}",
                request.encode(),
                timeout=API_TIMEOUT,
            )
            answer = json.loads(reply.data)
        except (nats.errors.Error, TimeoutError, ValueError) as error:
            raise translate(error) from error
        seq = answer.get("message", {}).get("seq") if isinstance(answer, dict) else None
        return int(seq) if seq else last_seq + 1

    def _api_prefix(self) -> str:
        return getattr(self.session.jsm, "_prefix", "$JS.API")

    async def _start_ordered(self, last_seq: int) -> None:
        spec = self.spec
        config = ConsumerConfig()
        if spec.deliver is Deliver.TIME:
            # Ordered consumers restart from a sequence after a gap; nats-py keeps opt_start_time
            # in that request, so start from the sequence of that time instead.
            when = spec.start_time()
            assert when is not None
            config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
            config.opt_start_seq = await self._start_seq_for_time(when, last_seq)
        else:
            self._apply_deliver(config)
        sub = await self.session.js.subscribe(
            spec.subject,
            stream=self.stream,
            cb=self._on_message,
            ordered_consumer=True,
            config=config,
            pending_msgs_limit=JS_PENDING_MSGS,
            pending_bytes_limit=JS_PENDING_BYTES,
        )
        self._sub = sub
        self.consumer = getattr(sub, "_consumer", "")
        self._track_sid()

    def _apply_deliver(self, config: ConsumerConfig) -> None:
        spec = self.spec
        policy = {
            Deliver.ALL: DeliverPolicy.ALL,
            Deliver.NEW: DeliverPolicy.NEW,
            Deliver.LAST: DeliverPolicy.LAST,
            Deliver.LAST_PER_SUBJECT: DeliverPolicy.LAST_PER_SUBJECT,
            Deliver.SEQUENCE: DeliverPolicy.BY_START_SEQUENCE,
            Deliver.TIME: DeliverPolicy.BY_START_TIME,
        }[spec.deliver]
        config.deliver_policy = policy
        if spec.deliver is Deliver.SEQUENCE:
            config.opt_start_seq = spec.start_seq
        elif spec.deliver is Deliver.TIME:
            config.opt_start_time = spec.start_time()

    async def _start_consuming(self) -> None:
        spec = self.spec
        pending_limit = JS_PENDING_MSGS
        config: ConsumerConfig | None = None
        if spec.durable:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                existing = await self.session.jsm.consumer_info(self.stream, spec.durable)
                max_ack = existing.config.max_ack_pending or 0
                if max_ack > 0:
                    # keep max_ack_pending <= pending limit: the server throttles, we never drop
                    pending_limit = max(pending_limit, max_ack)
                else:
                    self.notes.append(
                        "this durable has no max_ack_pending: a burst may be dropped client side"
                    )
        if config is None:
            config = ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                max_ack_pending=min(JS_MAX_ACK_PENDING, pending_limit),
            )
            self._apply_deliver(config)
        self.notes.append("consuming: acknowledged messages leave work-queue streams")
        sub = await self.session.js.subscribe(
            spec.subject,
            stream=self.stream,
            durable=spec.durable,
            cb=self._on_message,
            manual_ack=True,
            config=config,
            pending_msgs_limit=pending_limit,
            pending_bytes_limit=JS_PENDING_BYTES,
        )
        self._sub = sub
        self.consumer = getattr(sub, "_consumer", "") or (spec.durable or "")
        self._track_sid()

    # -- browsing (work-queue and interest streams, non-consuming) -------------------------------

    async def _browse_start(self, first_seq: int, last_seq: int) -> int:
        """Deliver the starting messages a policy asks for; return the sequence to go on from."""
        spec = self.spec
        jsm = self.session.jsm
        if spec.deliver is Deliver.ALL:
            return max(1, first_seq)
        if spec.deliver is Deliver.NEW:
            return last_seq + 1
        if spec.deliver is Deliver.SEQUENCE:
            return max(1, spec.start_seq or 1)
        if spec.deliver is Deliver.TIME:
            when = spec.start_time()
            assert when is not None
            return await self._start_seq_for_time(when, last_seq)
        if spec.deliver is Deliver.LAST:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                raw = await jsm.get_msg(self.stream, subject=spec.subject)
                self._append_raw(raw)
            return last_seq + 1
        # last per subject: the last message of every subject the filter matches, in order
        info = await jsm.stream_info(self.stream, subjects_filter=spec.subject)
        lasts = []
        for subject in list(info.state.subjects or {})[: spec.buffer]:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                lasts.append(await jsm.get_msg(self.stream, subject=subject))
        for raw in sorted(lasts, key=lambda r: r.seq or 0):
            self._append_raw(raw)
        return last_seq + 1

    def _append_raw(self, raw: Any) -> None:
        meta = JsMeta(stream=self.stream, stream_seq=raw.seq or 0, timestamp=raw.time)
        self._append(raw.subject or "", raw.data or b"", raw.headers, meta)

    async def _browse_loop(self, seq: int) -> None:
        jsm = self.session.jsm
        backoff = 0.1
        while True:
            try:
                raw = await jsm.get_msg(self.stream, seq=seq, subject=self.spec.subject, next=True)
            except nats.js.errors.NotFoundError:
                await asyncio.sleep(BROWSE_IDLE_SECONDS)
                continue
            except (nats.errors.Error, TimeoutError, JstuiError) as error:
                self.error = str(translate(error))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BROWSE_RETRY_MAX)
                continue
            backoff = 0.1
            self.error = ""
            self._append_raw(raw)
            seq = (raw.seq or seq) + 1

    async def stop(self) -> None:
        """Unsubscribe (or stop browsing). Safe to call twice, and while disconnected."""
        self._closed.set()
        task, self._browse_task = self._browse_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        sub, self._sub = self._sub, None
        if sub is not None:
            self._sids.add(sub._id)
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            # The server would drop an unused ephemeral consumer after a few seconds; delete it
            # now so consumer counts are right at once. A durable is the user's: it stays.
            consumer = getattr(sub, "_consumer", "") or self.consumer
            if self.spec.is_jetstream and consumer and not self.spec.durable:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        self.session.jsm.delete_consumer(self.stream, consumer), 2
                    )
        if self.state is not FeedState.FAILED:
            self.state = FeedState.CLOSED

    async def run(self) -> None:
        """Start, then keep the subscription until cancelled or `stop()`; always unsubscribes."""
        try:
            await self.start()
            await self._closed.wait()
        finally:
            await asyncio.shield(self.stop())

    async def __aenter__(self) -> Feed:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def describe(self) -> str:
        """One line: mode, subject, stream and consumer."""
        spec = self.spec
        parts = [f"{spec.mode.label} feed on {spec.subject}"]
        if spec.queue:
            parts.append(f"queue group {spec.queue}")
        if self.stream:
            parts.append(f"stream {self.stream}")
        if spec.is_jetstream:
            if spec.deliver is Deliver.SEQUENCE:
                parts.append(f"from sequence {spec.start_seq}")
            elif spec.deliver is Deliver.TIME:
                parts.append(f"since {spec.since}")
            else:
                parts.append(f"deliver {spec.deliver.value}")
        if self.consumer and not self.browsing:
            parts.append(f"consumer {self.consumer}")
        return ", ".join(parts)
