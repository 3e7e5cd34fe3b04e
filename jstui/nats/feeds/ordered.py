"""`OrderedConsumer`: jstui's own ordered push consumer, its messages handed over directly.

A non-consuming JetStream feed reads a stream through an ephemeral push consumer that delivers
every stored message once, in order, with no acks (what nats-py and the Go client call an ordered
consumer). nats-py's version gives each message to a callback task, and checks each one with
awaits on the read path; here the subscription to the consumer's inbox uses direct delivery
(`jstui.nats.direct`), so nats-py's read loop calls `_on_delivery` for each message, which checks
the consumer sequence and hands the message to the feed's `deliver` (append and count). Nothing
awaits per message: the UI gets its turns between the read loop's reads, as with core feeds.

The checks are nats-py 2.16's (`nats/aio/client.py` `_process_msg`, `nats/js/client.py` `_JSI`):

- every message's `$JS.ACK.<domain.account.>stream.consumer.delivered.sseq.cseq.ts.pending` reply
  subject is split once: a consumer sequence that is not the next one means a gap;
- flow-control requests (status 100 with a reply subject) are answered at once: every message sent
  before one has already been handed over when it arrives. Without the answers the server stalls;
- idle heartbeats (status 100, no reply) carry `Nats-Last-Consumer`: a count other than what was
  delivered means a gap; a `Nats-Consumer-Stalled` subject is answered like a flow-control request;
- no message and no heartbeat for `MISSED_HEARTBEATS` intervals (the consumer was deleted, or the
  server lost it), or a 409 "Consumer Deleted", counts as a gap too.

On a gap the consumer is RESET: the old inbox is dropped at once (nothing more of it reaches the
feed), a new consumer on a new inbox starts at the last stream sequence delivered + 1 (nothing
missed, nothing twice), the old one is deleted in the background, and the feed goes on counting.
A failed re-creation (stream gone, no connection) is retried with back-off and said in `error`.
Two things differ from nats-py: a reset before the first message starts where the feed started
(nats-py starts at stream sequence 1, replaying a "new" feed's stream), and a stream deleted and
made again (its sequences start over) is read from its first message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import replace

import nats.errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from jstui.nats.direct import subscribe_direct
from jstui.nats.errors import JstuiError, translate
from jstui.nats.session import ConnectionState, ConnectionStatus, Session

__all__ = ["HEARTBEAT_SECONDS", "MISSED_HEARTBEATS", "OrderedConsumer", "ordered_config"]

_log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
"""The server's idle heartbeat: one tiny message every 5 s while the feed is quiet."""
MISSED_HEARTBEATS = 3
"""Intervals with neither a message nor a heartbeat before the consumer is taken for gone."""
INACTIVE_SECONDS = 30.0
"""The server drops the consumer this long after its inbox lost interest (jstui went away
without deleting it); a reconnect shorter than that finds it still there."""
API_TIMEOUT = 5.0
RETRY_FIRST, RETRY_MAX = 0.25, 5.0
# Only the fallback subscription (a nats-py without what direct delivery needs) queues messages.
PENDING_MSGS = 20_000
PENDING_BYTES = 64 * 1024 * 1024

_ACK_V1_TOKENS = 9
"""`$JS.ACK.stream.consumer.delivered.sseq.cseq.ts.pending`; the v2 form adds domain and account
hash after `ACK` (and may end in a random token), 11 or 12 tokens."""


def ordered_config(subject: str, start: ConsumerConfig, heartbeat: float) -> ConsumerConfig:
    """The consumer an ordered feed asks for: `start`'s deliver policy (and start sequence) on
    `subject`, pushed with flow control and heartbeats, no acks, in memory, one replica."""
    return replace(
        start,
        filter_subject=subject,
        ack_policy=AckPolicy.NONE,
        max_deliver=1,
        ack_wait=22 * 3600,  # unused without acks; what nats-py and nats.go ask for
        flow_control=True,
        idle_heartbeat=heartbeat,
        num_replicas=1,
        mem_storage=True,
        inactive_threshold=INACTIVE_SECONDS,
    )


class OrderedConsumer:
    """An ordered push consumer on `stream` for the messages on `subject`: hands each one to
    `deliver(msg)`, in stream order, exactly once, across resets. `await start()`, then
    `await stop()` (deletes it)."""

    def __init__(
        self,
        session: Session,
        stream: str,
        subject: str,
        start: ConsumerConfig,
        deliver: Callable[[Msg], None],
        *,
        heartbeat: float | None = None,
        renamed: Callable[[str], None] | None = None,
        problem: Callable[[str], None] | None = None,
    ) -> None:
        self.session = session
        self.stream = stream
        self.heartbeat = HEARTBEAT_SECONDS if heartbeat is None else heartbeat
        self.config = ordered_config(subject, start, self.heartbeat)
        """What the first consumer asks for (`start` gives the deliver policy); a reset asks for
        the same from a sequence on."""
        self.consumer = ""
        self.sids: list[int] = []
        """Every subscription id this consumer had (one more per reset)."""
        self.resets = 0
        self.error = ""
        """Why the last re-creation failed ("" once a consumer runs again); `problem` hears
        each change."""
        self._deliver = deliver
        self._renamed = renamed
        self._problem = problem
        self._sub: Subscription | None = None
        self._next_cseq = 1
        """The consumer sequence the next message must carry."""
        self._last_sseq = ""
        """The stream sequence of the last message delivered (as its reply token; "" = none)."""
        self._beats = 0
        self._reset_task: asyncio.Task[None] | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._closing = False
        self._offline = False
        """The connection is down: nothing arrives until it is back and the consumer reset."""

    # -- hot path: runs in nats-py's read loop, once per message ---------------------------------

    def _on_delivery(self, msg: Msg) -> None:
        tokens = msg.reply.split(".")
        count = len(tokens)
        if count == _ACK_V1_TOKENS and tokens[1] == "ACK":
            cseq, sseq = tokens[6], tokens[5]
        elif count > _ACK_V1_TOKENS + 1 and tokens[1] == "ACK":
            cseq, sseq = tokens[8], tokens[7]
        else:
            self._on_control(msg)
            return
        if int(cseq) != self._next_cseq:
            self._reset(f"consumer sequence {cseq}, expected {self._next_cseq}")
            return
        self._next_cseq += 1
        self._last_sseq = sseq
        self._deliver(msg)

    def _on_control(self, msg: Msg) -> None:
        self._beats += 1
        headers = msg.headers or {}
        status = headers.get("Status")
        if status == "100":
            if msg.reply:  # flow control: everything sent before it has been handed over
                self._publish(msg.reply)
                return
            stalled = headers.get("Nats-Consumer-Stalled")
            if stalled:
                self._publish(stalled)
            last = headers.get("Nats-Last-Consumer")
            if last is not None and last != str(self._next_cseq - 1):
                self._reset(f"heartbeat says {last} delivered, {self._next_cseq - 1} arrived")
        elif status == "409" and "consumer deleted" in headers.get("Description", "").lower():
            self._reset("consumer deleted")

    def _publish(self, subject: str) -> None:
        # The read loop cannot await: the (empty) answer goes out from a task of its own.
        self._spawn(self.session.nc.publish(subject, b""))

    def _spawn(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- life cycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the first consumer; raises what nats-py raises (the feed translates it)."""
        try:
            await self._create()
        except BaseException:
            await self._drop_inbox()
            raise
        self._watch_task = asyncio.create_task(self._watch_heartbeats())
        self.session.add_listener(self._connection_changed)

    @property
    def resuming(self) -> bool:
        """Not receiving: the connection is down, or the consumer is being made again."""
        return self._offline or self._reset_task is not None

    @property
    def next_sequence(self) -> int | None:
        """The stream sequence it goes on from (None before the first message: from where the
        feed started)."""
        return int(self._last_sseq) + 1 if self._last_sseq else None

    def _connection_changed(self, status: ConnectionStatus) -> None:
        """Reset as soon as the connection is back: a consumer made before the outage may be
        gone (a restarted server, an outage longer than its inactive threshold) or may have
        pushed into the gap; waiting for the heartbeat check took 10-15 s. The reset goes on
        from the last sequence delivered and deletes the old consumer by name."""
        if status.state is ConnectionState.RECONNECTING:
            self._offline = True
        elif status.state is ConnectionState.CONNECTED and self._offline:
            self._offline = False
            self._reset("the connection is back")

    async def _create(self) -> None:
        """Subscribe to a fresh inbox, then ask for a consumer that pushes to it."""
        nc = self.session.nc
        if self._sub is None:
            inbox = nc.new_inbox()
            self._sub = await subscribe_direct(
                nc,
                inbox,
                self._on_delivery,
                pending_msgs_limit=PENDING_MSGS,
                pending_bytes_limit=PENDING_BYTES,
            )
            self.sids.append(self._sub._id)
        config = replace(self.config, deliver_subject=self._sub.subject)
        if self._last_sseq:
            config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
            config.opt_start_seq = int(self._last_sseq) + 1
            config.opt_start_time = None
        self._next_cseq = 1
        # The SUB above is queued before this request on the same connection: no message is lost.
        info = await self.session.jsm.add_consumer(self.stream, config=config, timeout=API_TIMEOUT)
        self.consumer = info.name
        if self._renamed is not None:
            self._renamed(info.name)

    def _reset(self, why: str) -> None:
        """Drop the current inbox now and re-create the consumer from the last delivered sequence
        + 1 in a task (the read loop cannot await)."""
        if self._closing or self._reset_task is not None:
            return
        _log.info("ordered consumer %s on %s: reset (%s)", self.consumer, self.stream, why)
        self.resets += 1
        old_sub, self._sub = self._sub, None
        if old_sub is not None:
            # what is still on its way to the old inbox is never handed over
            self.session.nc._remove_sub(old_sub._id)
        self._reset_task = asyncio.get_running_loop().create_task(
            self._recreate(old_sub, self.consumer)
        )

    async def _recreate(self, old_sub: Subscription | None, old_consumer: str) -> None:
        try:
            if old_sub is not None:
                with contextlib.suppress(Exception):
                    await old_sub.unsubscribe()
            if old_consumer:  # not waited for: if it is already gone, so much the better
                self._spawn(self._delete(old_consumer))
            delay = RETRY_FIRST
            while not self._closing:
                try:
                    await self._check_stream_sequences()
                    await self._create()
                except (nats.errors.Error, TimeoutError, JstuiError) as error:
                    # A request that timed out may still have made a consumer: a new inbox for
                    # the next try, so that it never pushes next to its successor.
                    await self._drop_inbox()
                    self._set_error(f"re-creating the consumer: {translate(error)}")
                    _log.info("ordered consumer on %s: %s", self.stream, self.error)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX)
                    continue
                self._set_error("")
                return
        finally:
            self._reset_task = None

    async def _check_stream_sequences(self) -> None:
        """A stream whose last sequence is below the last one delivered was deleted and made
        again: its sequences start over and all it holds is new here, so start from 1."""
        if not self._last_sseq:
            return
        info = await self.session.jsm.stream_info(self.stream)
        if info.state.last_seq < int(self._last_sseq):
            self._last_sseq = "0"

    def _set_error(self, text: str) -> None:
        if text != self.error:
            self.error = text
            if self._problem is not None:
                self._problem(text)

    async def _drop_inbox(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _watch_heartbeats(self) -> None:
        """Reset when neither a message nor a heartbeat came for `MISSED_HEARTBEATS` intervals."""
        seen = (self._next_cseq, self._beats, self.resets)
        missed = 0
        while not self._closing:
            await asyncio.sleep(self.heartbeat)
            now = (self._next_cseq, self._beats, self.resets)
            if now != seen or self._reset_task is not None or not self.session.nc.is_connected:
                seen, missed = now, 0
                continue
            missed += 1
            if missed >= MISSED_HEARTBEATS:
                missed = 0
                self._reset(f"no heartbeat for {MISSED_HEARTBEATS * self.heartbeat:g} s")

    async def _delete(self, consumer: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.session.jsm.delete_consumer(self.stream, consumer), 2)

    async def stop(self) -> None:
        """Unsubscribe and delete the consumer (a durable never comes here). Safe to call twice."""
        self._closing = True
        self.session.remove_listener(self._connection_changed)
        for task in (self._watch_task, self._reset_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._watch_task = self._reset_task = None
        await self._drop_inbox()
        consumer, self.consumer = self.consumer, ""
        if consumer:
            # The server would drop it after INACTIVE_SECONDS; deleting it now keeps the stream's
            # consumer count right at once.
            await self._delete(consumer)
        for task in list(self._background):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 2)
