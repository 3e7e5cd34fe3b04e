"""`Feed`: one live subscription, its ring buffer, counters, rates and acknowledgements.

A `Feed` is built from a `FeedSpec` (spec.py: what the subscribe dialog or `--feed SUBJECT[,opts]`
asked for) and runs in one of three modes:

- ``core``: a plain subscription (wildcards, optional queue group: refused read-only) handed by
  nats-py's read loop straight to the ring buffer (`direct.py`): no client-side queue to overflow;
- ``js`` (non-consuming, the default for streams): an ordered consumer on the stream that captures
  the subject, with a deliver policy (ordered.py; jetstream.py starts it). Work-queue and interest
  streams are never given a consumer in this mode (a consumer there removes or retains messages,
  nats-notes section 10): they are read with get-message by sequence instead (jetstream.py), so
  looking leaves them exactly as they were;
- ``consume``: a durable (or ephemeral) push consumer with explicit acks; the user acks, naks or
  terminates each message. `max_ack_pending` is kept within the client's pending limit, so the
  server throttles instead of the client dropping.

The hot path is `_receive`: it appends one plain tuple of a `FeedMessage`'s fields to the ring
buffer (`MessageRing`, message.py: a `deque(maxlen=buffer)` underneath, read as `FeedMessage`s)
and bumps two counters, nothing else. Readers (the pane's timer, tests) call `take_new`, which
returns at most a screenful of the newest messages and accounts for every message exactly once
(the definitions are in docs/architecture.md, "Feed counters"):

    received = shown + filtered + skipped + dropped + pending

`take_new` also marks each accounted message still in the ring buffer as shown, filtered or
skipped (one byte per slot, `_marks`), so that `refilter` can re-account the buffer under a new
filter and the counters keep adding up. `older` pages back through the buffer (skipped messages
stay reachable); `exportable` is what an export writes: the buffer, or what the filter shows.
No Textual here.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from jstui.format.lines import time_of_day
from jstui.format.units import format_duration_short
from jstui.nats.direct import subscribe_direct
from jstui.nats.errors import JstuiError, translate
from jstui.nats.feeds.counts import Accounts, FeedCounts
from jstui.nats.feeds.filter import NO_FILTER, FeedFilter
from jstui.nats.feeds.jetstream import (
    GetMessageReader,
    open_consuming,
    open_ordered,
    retention_of,
    stream_info,
)
from jstui.nats.feeds.message import AckKind, FeedMessage, JsMeta, MessageRing
from jstui.nats.feeds.saturation import Suspension, guard_for
from jstui.nats.feeds.spec import Deliver, FeedMode, FeedSpec
from jstui.nats.session import ConnectionState, Session
from jstui.nats.stats import RateMeter
from jstui.nats.stream_health import health_for
from jstui.nats.stream_lookup import find_stream, wait_for_stream

if TYPE_CHECKING:
    from jstui.nats.feeds.ordered import OrderedConsumer

__all__ = [
    "CORE_PENDING_BYTES",
    "CORE_PENDING_MSGS",
    "Feed",
    "FeedState",
    "choose_mode",
]

# Explicit pending limits (nats-notes section 8): nats-py's defaults (524,288 msgs / 128 MiB) hide a
# backlog of seconds; these bound it to well under a second at the rates one loop can take. Core
# feeds need them only if direct delivery is unavailable (direct.py); consuming feeds' are in
# jetstream.py.
CORE_PENDING_MSGS = 20_000
CORE_PENDING_BYTES = 32 * 1024 * 1024

API_TIMEOUT = 5  # whole seconds: nats-py types flush(timeout) as int
SLICE_SECONDS = 0.010
"""How long the callback may run back to back before it lets the loop run other tasks."""


class FeedState(StrEnum):
    WAITING = "waiting"
    """A start-up feed waits for the stream that will capture its subject."""
    STARTING = "starting"
    LIVE = "live"
    SUSPENDED = "suspended"
    """A core feed unsubscribed by the flood guard (saturation.py): nothing is received until
    `resume()`."""
    FAILED = "failed"
    CLOSED = "closed"


async def choose_mode(session: Session, spec: FeedSpec) -> FeedSpec:
    """Settle a spec whose mode was left open (`--feed SUBJECT` with no mode): JetStream,
    non-consuming, on the stream that captures the subject (what the user expects to see is
    what is stored), else core. The choice is made once, when the feed opens."""
    if not spec.auto_mode:
        return spec
    try:
        stream = await find_stream(session, spec.subject)
    except JstuiError:
        return replace(spec, auto_mode=False)
    return replace(spec, mode=FeedMode.JETSTREAM, stream=stream, auto_mode=False)


class Feed:
    """One live subscription with its ring buffer and counters. Use `await feed.start()` and
    `await feed.stop()` (or `async with feed:`, or `await feed.run()` until cancelled)."""

    def __init__(self, session: Session, spec: FeedSpec, *, clock: Any = None) -> None:
        self.session = session
        self.spec = spec
        self.buffer = MessageRing(spec.buffer)
        self._keep = self.buffer.append_fields
        """Appends a message's fields (in `FeedMessage`'s order) to the ring buffer."""
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
        self.accounts = Accounts(spec.buffer)
        """Where each message went (counts.py): shown, filtered, skipped, overwritten."""
        self.waiting = ""
        """While the feed waits for its stream (`FeedState.WAITING`): what it waits for."""
        self.meter = RateMeter(clock=session.clocks.monotonic)  # the session's clocks: see Clocks
        self.acks: dict[int, AckKind] = {}
        """Acknowledgements sent, by message index (consuming feeds): the one record of them,
        read by the feed's log and the detail screen alike."""
        self.acks_sent = 0
        """Bumped with every acknowledgement, so a view knows when to redraw without diffing."""
        self.flood_protection = True
        """A core feed that floods the connection is suspended (saturation.py); off, it keeps
        receiving whatever it costs (the ingest benchmark measures that way)."""
        self.suspended: Suspension | None = None
        """Set while the feed is suspended: since when, and how fast it was receiving."""
        self.started_at = 0.0
        """When `start()` began to subscribe (the feed's clock, like its messages' times)."""
        self._clock = session.clocks.wall if clock is None else clock
        self._metered_count = 0
        self._metered_bytes = 0
        self._sub: Subscription | None = None
        self._ordered: OrderedConsumer | None = None
        self._sids: set[int] = set()
        self._browse_task: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self._slice_start = time.perf_counter()
        self._started_at = 0.0
        """When it went live (wall clock): an outage before that is not this feed's gap."""
        self._watched_stream = ""
        """The stream registered with the session's leader checker (stream_health.py)."""
        self.wake_on_message: Callable[[], object] | None = None
        """Called by the next message, once (then cleared): a quiet view hears of it at once
        instead of looking at the counters several times a second while nothing comes."""

    # -- hot path ---------------------------------------------------------------------------------

    def _receive(self, msg: Msg) -> None:
        # Runs once per message on the UI loop (inside nats-py's read loop for core feeds, see
        # direct.py): append and count, nothing else.
        self.count += 1
        data = msg.data
        self.bytes += len(data)
        self._keep((self.count, self._clock(), msg.subject, msg.reply, data, msg.headers, None))
        if self.wake_on_message is not None:
            self._wake()

    async def _on_message(self, msg: Msg) -> None:
        # Consuming feeds get their messages through nats-py's callback task, which calls back to
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
        self._keep((self.count, self._clock(), subject, "", data, headers, js))
        if self.wake_on_message is not None:
            self._wake()

    def _wake(self) -> None:
        wake, self.wake_on_message = self.wake_on_message, None
        if wake is not None:
            wake()

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
        if self._ordered is not None:
            self._sids.update(self._ordered.sids)

    @property
    def pending(self) -> int:
        """Arrived since the last `take_new` (not yet accounted)."""
        return self.count - self.accounts.cursor

    def counts(self) -> FeedCounts:
        """The counters as defined in docs/architecture.md ("Feed counters")."""
        slow = self.slow_drops
        accounts = self.accounts
        return FeedCounts(
            received=self.count + slow,
            shown=accounts.shown,
            filtered=accounts.filtered,
            skipped=accounts.skipped,
            dropped=slow + accounts.overwritten,
            pending=self.pending,
            slow=slow,
            overwritten=accounts.overwritten,
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
        filtered (did not match), skipped (in the buffer, older than the newest `limit` matches
        or beyond the filter's scan budget) or dropped (already overwritten in the ring buffer).
        """
        return self.accounts.take(self.buffer, self.count, limit, flt)

    def skip_pending(self) -> None:
        """Count everything not yet drawn as skipped (e.g. the view was cleared)."""
        self.accounts.skip_pending(self.buffer, self.count)

    def skip_all_but(self, newest: int) -> None:
        """Count everything not yet drawn as skipped except the `newest` messages, which stay
        pending for the next `take_new` (a view that draws a flood less often than it ticks)."""
        self.accounts.skip_through(self.buffer, self.count - max(0, newest))

    def refilter(self, flt: FeedFilter, limit: int) -> list[FeedMessage]:
        """The newest `limit` accounted messages that pass `flt`, oldest first, for a redraw
        under a new filter; the counters are re-accounted so that they follow the filter."""
        return self.accounts.refilter(self.buffer, flt, limit)

    def older(self, before: int, flt: FeedFilter, limit: int) -> list[FeedMessage]:
        """Up to `limit` buffered messages older than index `before` that pass `flt`, oldest
        first: what paging back past the first drawn line brings (skipped ones included)."""
        return Accounts.older(self.buffer, before, flt, limit, self.accounts.cursor)

    def exportable(self, flt: FeedFilter = NO_FILTER) -> list[FeedMessage]:
        """The buffered messages an export writes (`export_messages`): all of them, or those
        that pass `flt`."""
        if not flt.active:
            return list(self.buffer)  # cheap (references)
        return [message for message in self.buffer if flt.matches(message)]

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

    async def start(self, *, wait_for_stream: bool = False) -> None:
        """Subscribe (or start browsing). Raises a `JstuiError` with a one-line reason.

        With `wait_for_stream` (start-up feeds), a JetStream feed whose stream does not exist yet
        waits for it in state `WAITING` instead of failing.
        """
        self.started_at = self._clock()
        try:
            if self.spec.mode is FeedMode.CORE:
                await self._start_core()
            else:
                await self._start_jetstream(wait_for_stream)
        except JstuiError as error:
            self.state, self.error = FeedState.FAILED, str(error)
            raise
        except (nats.errors.Error, TimeoutError, ValueError) as error:
            translated = translate(error, subject=self.spec.subject)
            self.state, self.error = FeedState.FAILED, str(translated)
            raise translated from error
        self.state = FeedState.LIVE
        self._started_at = self._clock()
        self.session.add_user(self)
        if self.spec.is_jetstream and self.stream and not self._watched_stream:
            self._watched_stream = self.stream
            health_for(self.session).register(self.stream)

    async def leave_connection(self) -> None:  # the session switches servers (ConnectionUser)
        await self._unsubscribe()  # its consumer there is deleted too

    async def join_connection(self) -> None:
        """Subscribe again from the spec (the old server's sequences mean nothing on the new
        one); raises, leaving the feed failed, when it cannot."""
        if self._closed.is_set():
            return
        self.stream, self.consumer, self.browsing = self.spec.stream or "", "", False
        self.state, self.error = FeedState.STARTING, ""
        self.notes.append(f"moved to {self.session.shown_servers} at {time_of_day(self._clock())}")
        await self.start()

    async def _start_core(self) -> None:
        if self.spec.queue:  # a member takes its share of the group's messages from the others
            self.session.check_writable("join a queue group (it takes messages from its members)")
        self._sub = await subscribe_direct(
            self.session.nc,
            self.spec.subject,
            self._receive,
            queue=self.spec.queue or "",
            pending_msgs_limit=CORE_PENDING_MSGS,
            pending_bytes_limit=CORE_PENDING_BYTES,
        )
        self._track_sid()
        guard_for(self.session).join(self)
        # "live" means the server has the subscription: nothing published after start() is missed
        await self.session.nc.flush(timeout=API_TIMEOUT)

    async def suspend(self, rate: float, lag: float = 0.0) -> None:
        """Unsubscribe a live core feed at the server: it floods the connection (`rate` msgs/s
        received while the connection fell `lag` seconds behind). Nothing more is received, so
        nothing more is counted; `resume()` subscribes again."""
        if self.state is not FeedState.LIVE or self.spec.mode is not FeedMode.CORE:
            return
        sub, self._sub = self._sub, None
        self.state = FeedState.SUSPENDED
        self.suspended = Suspension(since=self._clock(), rate=rate, lag=lag)
        guard_for(self.session).leave(self)
        if sub is not None:
            with contextlib.suppress(Exception):  # disconnected: the server has no subscription
                await sub.unsubscribe()

    async def resume(self) -> None:
        """Subscribe a suspended feed again (it may be suspended again if the flood goes on)."""
        if self.state is not FeedState.SUSPENDED:
            return
        try:
            await self._start_core()
        except (nats.errors.Error, TimeoutError) as error:
            raise translate(error, subject=self.spec.subject) from error
        self.state, self.suspended = FeedState.LIVE, None

    async def _start_jetstream(self, wait: bool) -> None:
        spec = self.spec
        if spec.mode is FeedMode.CONSUME:
            self.session.check_writable("open a consuming feed")
        if wait:
            self.stream = await wait_for_stream(
                self.session, spec.subject, stream=self.stream or None, waiting=self._waiting
            )
            self.state, self.waiting = FeedState.STARTING, ""
        elif not self.stream:
            self.stream = await find_stream(self.session, spec.subject)
        info = await stream_info(self.session, self.stream)
        self.retention = retention_of(info)
        if spec.mode is FeedMode.JETSTREAM and self.retention in ("workqueue", "interest"):
            # A consumer here would remove (work queue) or hold (interest) messages: browse instead.
            self.browsing = True
            self.notes.append(
                f"{self.retention} stream: read with get-message, nothing is consumed"
            )
            reader = GetMessageReader(self.session, self.stream, spec, self._append, self._problem)
            first = await reader.start(info.state.first_seq, info.state.last_seq)
            self._browse_task = asyncio.create_task(reader.run(first))
        elif spec.mode is FeedMode.JETSTREAM:
            self._ordered = await open_ordered(
                self.session,
                self.stream,
                spec,
                info.state.last_seq,
                self._receive,
                self._renamed,
                self._problem,
            )
            self._track_sid()
        else:
            await self._start_consuming()

    def _renamed(self, consumer: str) -> None:
        self.consumer = consumer

    def _problem(self, text: str) -> None:
        self.error = text

    def _waiting(self, text: str) -> None:
        self.state, self.waiting = FeedState.WAITING, text

    async def _start_consuming(self) -> None:
        self._sub, self.consumer = await open_consuming(
            self.session, self.stream, self.spec, self._on_message, self.notes.append
        )
        self.notes.append("consuming: acknowledged messages leave work-queue streams")
        self._track_sid()

    async def stop(self) -> None:
        """Unsubscribe (or stop browsing). Safe to call twice, and while disconnected."""
        self._closed.set()
        self.session.remove_user(self)
        await self._unsubscribe()
        if self.state is not FeedState.FAILED:
            self.state = FeedState.CLOSED

    async def _unsubscribe(self) -> None:
        watched, self._watched_stream = self._watched_stream, ""
        if watched:
            health_for(self.session).unregister(watched)
        if self.spec.mode is FeedMode.CORE:
            guard_for(self.session).leave(self)
        task, self._browse_task = self._browse_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        ordered, self._ordered = self._ordered, None
        if ordered is not None:  # unsubscribes and deletes its consumer
            self._sids.update(ordered.sids)
            await ordered.stop()
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

    async def run(self, *, wait_for_stream: bool = False) -> None:
        """Start, then keep the subscription until cancelled or `stop()`; always unsubscribes."""
        try:
            await self.start(wait_for_stream=wait_for_stream)
            await self._closed.wait()
        finally:
            await asyncio.shield(self.stop())

    async def __aenter__(self) -> Feed:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def interrupted(self) -> bool:
        """Live, but nothing can arrive this second: the connection is down, or the JetStream
        consumer is being made again after it."""
        if self.state is not FeedState.LIVE:
            return False
        ordered = self._ordered
        return self.session.status.state is not ConnectionState.CONNECTED or (
            ordered is not None and ordered.resuming
        )

    @property
    def leaderless_since(self) -> float | None:
        """Since when (wall clock) the stream of this live JetStream feed has had no leader
        while the connection is up (stream_health.py); None while it has one."""
        if not self._watched_stream or self.state is not FeedState.LIVE:
            return None
        if self.session.status.state is not ConnectionState.CONNECTED:
            return None  # the connection's outage is what the feed says then
        return health_for(self.session).leaderless_since(self._watched_stream)

    def outage_text(self) -> str:
        """What the connection's state means for this feed, '' while it receives: since when
        nothing arrives, since when its stream has no leader, where a JetStream feed goes on
        from, or the last gap of a core feed."""
        status = self.session.status
        ordered = self._ordered
        connected = status.state is ConnectionState.CONNECTED
        leaderless = self.leaderless_since
        if leaderless is not None:
            return f"stream leader unavailable since {time_of_day(leaderless)}: waiting"
        if ordered is not None and (ordered.resuming or not connected):
            seq = ordered.next_sequence
            where = f"from seq {seq:,}" if seq else "from where it started"
            return f"resuming {where}: nothing stored is missed"
        core = self.spec.mode is FeedMode.CORE
        if not connected and self.state is FeedState.LIVE:
            since = time_of_day(status.since) if status.since else "now"
            if core:
                return f"connection lost since {since}: messages now are missed"
            kept = "keeps them" if self.spec.durable else "keeps them while the consumer lasts"
            return f"connection lost since {since}: the server {kept}"
        outage = status.outage
        if core and outage is not None and outage.back > self._started_at:
            return (
                f"connection lost {time_of_day(outage.lost)} for "
                f"{format_duration_short(outage.seconds)}: messages then were missed"
            )
        return ""

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
