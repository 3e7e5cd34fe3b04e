"""Where a JetStream feed starts, and how work-queue and interest streams are read without one.

`Feed._start_jetstream` (feed.py) settles the stream, then:

- `retention_of` says whether a consumer may look at the stream at all (nats-notes section 10: a
  consumer removes messages from a work queue and holds them in an interest stream);
- `open_ordered` starts a non-consuming feed's ordered consumer (ordered.py) where its deliver
  policy says, "since" and "new" resolved to stream sequences so that a reset before the first
  message starts there again; `open_consuming` subscribes a consuming feed's push consumer, with
  the policy `deliver_config` gives it;
- `GetMessageReader` reads the other streams by get-message, sequence after sequence, and hands
  each message to the feed's `append`, so looking leaves them exactly as they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy, StreamInfo

from jstui.nats.errors import JstuiError, translate
from jstui.nats.feeds.message import JsMeta
from jstui.nats.feeds.ordered import OrderedConsumer
from jstui.nats.feeds.spec import Deliver, FeedSpec
from jstui.nats.session import Session

__all__ = [
    "JS_MAX_ACK_PENDING",
    "JS_PENDING_BYTES",
    "JS_PENDING_MSGS",
    "GetMessageReader",
    "deliver_config",
    "open_consuming",
    "open_ordered",
    "retention_of",
    "stream_info",
]

API_TIMEOUT = 5  # whole seconds: nats-py types request timeouts loosely, flush as int
BROWSE_IDLE_SECONDS = 0.25
"""How long a browsing feed (work-queue or interest stream) waits when it has caught up."""
BROWSE_RETRY_MAX = 2.0
JS_PENDING_MSGS = 20_000
"""A consuming feed's client-side pending limits (nats-notes section 8; see feed.py)."""
JS_PENDING_BYTES = 64 * 1024 * 1024
JS_MAX_ACK_PENDING = 1_000
"""Consuming feeds: at most this many unacknowledged messages out (<= JS_PENDING_MSGS)."""

_POLICIES = {
    Deliver.ALL: DeliverPolicy.ALL,
    Deliver.NEW: DeliverPolicy.NEW,
    Deliver.LAST: DeliverPolicy.LAST,
    Deliver.LAST_PER_SUBJECT: DeliverPolicy.LAST_PER_SUBJECT,
    Deliver.SEQUENCE: DeliverPolicy.BY_START_SEQUENCE,
    Deliver.TIME: DeliverPolicy.BY_START_TIME,
}


async def stream_info(session: Session, stream: str) -> StreamInfo:
    try:
        return await session.jsm.stream_info(stream)
    except nats.js.errors.NotFoundError:
        raise JstuiError(f"stream {stream!r} not found") from None


def retention_of(info: StreamInfo) -> str:
    """ "limits", "workqueue" or "interest"."""
    retention = info.config.retention
    return retention.value if isinstance(retention, RetentionPolicy) else str(retention)


def deliver_config(spec: FeedSpec) -> ConsumerConfig:
    """A consumer config with the spec's deliver policy (and its start sequence or time)."""
    config = ConsumerConfig(deliver_policy=_POLICIES[spec.deliver])
    if spec.deliver is Deliver.SEQUENCE:
        config.opt_start_seq = spec.start_seq
    elif spec.deliver is Deliver.TIME:
        config.opt_start_time = spec.start_time()
    return config


async def open_consuming(
    session: Session,
    stream: str,
    spec: FeedSpec,
    on_message: Callable[[Msg], Any],
    note: Callable[[str], object],
) -> tuple[Subscription, str]:
    """Subscribe a consuming feed's push consumer (a durable's own, or a new one with explicit
    acks); its subscription and consumer name. `max_ack_pending` stays within the client's
    pending limit, so the server throttles instead of the client dropping; `note` hears what
    the user should know."""
    pending_limit = JS_PENDING_MSGS
    if spec.durable:
        with contextlib.suppress(nats.js.errors.NotFoundError):
            existing = await session.jsm.consumer_info(stream, spec.durable)
            max_ack = existing.config.max_ack_pending or 0
            if max_ack > 0:
                # keep max_ack_pending <= pending limit: the server throttles, we never drop
                pending_limit = max(pending_limit, max_ack)
            else:
                note("this durable has no max_ack_pending: a burst may be dropped client side")
    config = deliver_config(spec)
    config.ack_policy = AckPolicy.EXPLICIT
    config.max_ack_pending = min(JS_MAX_ACK_PENDING, pending_limit)
    sub = await session.js.subscribe(
        spec.subject,
        stream=stream,
        durable=spec.durable,
        cb=on_message,
        manual_ack=True,
        config=config,
        pending_msgs_limit=pending_limit,
        pending_bytes_limit=JS_PENDING_BYTES,
    )
    return sub, getattr(sub, "_consumer", "") or (spec.durable or "")


async def open_ordered(
    session: Session,
    stream: str,
    spec: FeedSpec,
    last_seq: int,
    deliver: Callable[[Msg], None],
    renamed: Callable[[str], None],
    problem: Callable[[str], None],
) -> OrderedConsumer:
    """Start the ordered consumer of a non-consuming feed on `stream` (whose last sequence is
    `last_seq`), handing each message to `deliver`; `renamed` learns each consumer's name and
    `problem` why a reset cannot re-create it ("" once it can)."""
    start = await _ordered_start(session, stream, spec, last_seq)
    ordered = OrderedConsumer(
        session, stream, spec.subject, start, deliver, renamed=renamed, problem=problem
    )
    await ordered.start()
    return ordered


async def _ordered_start(
    session: Session, stream: str, spec: FeedSpec, last_seq: int
) -> ConsumerConfig:
    """Where an ordered consumer starts; "since" and "new" become stream sequences, which a
    reset before the first message can start from again (`last_seq`: the stream's last one)."""
    if spec.deliver is Deliver.TIME:
        when = spec.start_time()
        assert when is not None
        first = await start_seq_for_time(session, stream, when, last_seq)
        return ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=first)
    if spec.deliver is Deliver.NEW:
        return ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=last_seq + 1
        )
    return deliver_config(spec)


async def start_seq_for_time(session: Session, stream: str, moment: datetime, last_seq: int) -> int:
    """The first stream sequence at or after `moment` (last_seq + 1 when there is none)."""
    request = json.dumps({"start_time": moment.isoformat().replace("+00:00", "Z")})
    prefix = getattr(session.jsm, "_prefix", "$JS.API")
    try:
        reply = await session.nc.request(
            f"{prefix}.STREAM.MSG.GET.{stream}", request.encode(), timeout=API_TIMEOUT
        )
        answer = json.loads(reply.data)
    except (nats.errors.Error, TimeoutError, ValueError) as error:
        raise translate(error) from error
    seq = answer.get("message", {}).get("seq") if isinstance(answer, dict) else None
    return int(seq) if seq else last_seq + 1


Append = Callable[[str, bytes, "dict[str, str] | None", JsMeta], None]


class GetMessageReader:
    """Reads `stream` by get-message for a feed: `start` delivers what the deliver policy asks
    for first, `run` follows the stream from there until cancelled. Each message goes to
    `append(subject, data, headers, meta)`; a transient problem to `problem(text)` ("" once it
    reads again)."""

    def __init__(
        self,
        session: Session,
        stream: str,
        spec: FeedSpec,
        append: Append,
        problem: Callable[[str], None],
    ) -> None:
        self.session = session
        self.stream = stream
        self.spec = spec
        self._append = append
        self._problem = problem

    async def start(self, first_seq: int, last_seq: int) -> int:
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
            return await start_seq_for_time(self.session, self.stream, when, last_seq)
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

    async def run(self, seq: int) -> None:
        jsm = self.session.jsm
        backoff = 0.1
        while True:
            try:
                raw = await jsm.get_msg(self.stream, seq=seq, subject=self.spec.subject, next=True)
            except nats.js.errors.NotFoundError:
                await asyncio.sleep(BROWSE_IDLE_SECONDS)
                continue
            except (nats.errors.Error, TimeoutError, JstuiError) as error:
                self._problem(str(translate(error)))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BROWSE_RETRY_MAX)
                continue
            backoff = 0.1
            self._problem("")
            self._append_raw(raw)
            seq = (raw.seq or seq) + 1
