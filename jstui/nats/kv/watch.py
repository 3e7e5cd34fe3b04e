"""`KeyWatch`: the latest revision of every key of a bucket that matches a pattern, kept current.

A watch is jstui's `OrderedConsumer` (jstui/nats/feeds/ordered.py: gaps detected, the consumer
re-created from the last revision seen, deleted on `stop`) on the bucket's stream, filtered to
`$KV.<bucket>.<pattern>`, delivering the last message per key first and every change after. Each
message is handed over inside nats-py's read loop (`_on_message`): it is parsed into a `KeyEntry`,
stored by key and its key added to `changed`; nothing is drawn there. The pane takes the changed
keys on its own timer (`take_changes`), so a burst of 10,000 keys or 100 updates a second costs
one redraw per tick, never one per message.

`caught_up` turns true once every key stored when the watch started has arrived (the message the
server says nothing is pending after, or an empty start). `collect` is the one-shot form used for
a key's history and for finding delete markers: it gathers until caught up, then stops.

Revision, time and pending count come from the message's reply subject
(`$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>`, or the v2 form with domain
and account hash after `ACK`), as nats-py reads them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

from jstui.nats.errors import JstuiError, RequestTimeoutError
from jstui.nats.feeds.ordered import OrderedConsumer
from jstui.nats.kv.model import KV_STREAM_PREFIX, KeyEntry, operation_of
from jstui.nats.session import Session

__all__ = ["KeyWatch", "collect"]

_ACK_V1_TOKENS = 9


def _reply_fields(reply: str) -> tuple[int, float, int] | None:
    """(stream sequence, epoch seconds, pending) from a JetStream message's reply subject."""
    tokens = reply.split(".")
    if len(tokens) == _ACK_V1_TOKENS and tokens[1] == "ACK":
        sseq, ts, pending = tokens[5], tokens[7], tokens[8]
    elif len(tokens) > _ACK_V1_TOKENS + 1 and tokens[1] == "ACK":
        sseq, ts, pending = tokens[7], tokens[9], tokens[10]
    else:
        return None
    return int(sseq), int(ts) / 1e9, int(pending)


class KeyWatch:
    """Every key of `bucket` matching `pattern` (`>` is all) at its latest revision, live.

    `await start()`, read `entries`, call `take_changes()` now and then, `await stop()` at the end
    (the consumer is deleted). With `history`, every stored revision is delivered, not just the
    last of each key (`entries` then keeps the last; `on_entry` hears each one)."""

    def __init__(
        self,
        session: Session,
        bucket: str,
        pattern: str = ">",
        *,
        history: bool = False,
        on_entry: Callable[[KeyEntry], None] | None = None,
    ) -> None:
        self.session = session
        self.bucket = bucket
        self.pattern = pattern
        self.prefix = f"$KV.{bucket}."
        self.entries: dict[str, KeyEntry] = {}
        self.changed: set[str] = set()
        """Keys whose entry changed since the last `take_changes`."""
        self.caught_up = asyncio.Event()
        self.received = 0
        self._on_entry = on_entry
        self.stopped = ""
        """Why the watch ended on its own (a switch of server), '' while it runs."""
        policy = DeliverPolicy.ALL if history else DeliverPolicy.LAST_PER_SUBJECT
        self._consumer = OrderedConsumer(
            session,
            KV_STREAM_PREFIX + bucket,
            self.prefix + pattern,
            ConsumerConfig(deliver_policy=policy, headers_only=False),
            self._on_message,
        )

    @property
    def consumer(self) -> str:
        """The name of the consumer behind the watch ("" when stopped)."""
        return self._consumer.consumer

    @property
    def error(self) -> str:
        return self.stopped or self._consumer.error

    def _on_message(self, msg: Msg) -> None:
        fields = _reply_fields(msg.reply)
        if fields is None:
            return
        revision, created, pending = fields
        key = msg.subject[len(self.prefix) :]
        entry = KeyEntry(key, msg.data, revision, operation_of(msg.headers), created)
        self.received += 1
        self.entries[key] = entry
        self.changed.add(key)
        if self._on_entry is not None:
            self._on_entry(entry)
        if pending == 0:
            self.caught_up.set()

    async def start(self) -> None:
        """Create the consumer; `caught_up` is set at once when nothing matches yet."""
        await self._consumer.start()
        info = await self.session.jsm.consumer_info(
            KV_STREAM_PREFIX + self.bucket, self._consumer.consumer
        )
        if not info.num_pending and not info.delivered.consumer_seq and not self.received:
            self.caught_up.set()
        self.session.add_user(self)

    async def leave_connection(self) -> None:
        """The session switches servers: delete the watch's consumer on the old one."""
        await self._consumer.stop()

    async def join_connection(self) -> None:
        """The keys held are the old server's: the watch does not follow, it says so (the pane
        shows `error`); opening the bucket again watches it on the new server."""
        self.stopped = "stopped at the switch of server: open the bucket again to watch it there"
        raise JstuiError(self.stopped)

    def take_changes(self) -> dict[str, KeyEntry]:
        """The entries changed since the last call, by key; empties the set."""
        changed, self.changed = self.changed, set()
        return {key: self.entries[key] for key in changed}

    async def stop(self) -> None:
        """Unsubscribe and delete the consumer; safe to call twice."""
        self.session.remove_user(self)
        await self._consumer.stop()


async def collect(
    session: Session, bucket: str, pattern: str, *, history: bool, timeout: float = 10.0
) -> list[KeyEntry]:
    """Every entry matching `pattern` stored now (every revision with `history`, else the last of
    each key), in revision order; the consumer is deleted before this returns."""
    found: list[KeyEntry] = []
    watch = KeyWatch(session, bucket, pattern, history=history, on_entry=found.append)
    try:
        await watch.start()
        try:
            await asyncio.wait_for(watch.caught_up.wait(), timeout)
        except TimeoutError:
            raise RequestTimeoutError(f"reading bucket {bucket!r} took over {timeout:g}s") from None
    finally:
        await watch.stop()
    return found
