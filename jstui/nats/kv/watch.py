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

Revision, time and pending count come from the message's reply subject (`BucketWatch`,
jstui/nats/buckets.py, the consumer and catching up this watch shares with `ObjectWatch`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from jstui.nats.buckets import BucketWatch
from jstui.nats.errors import RequestTimeoutError
from jstui.nats.kv.model import KV_STREAM_PREFIX, KeyEntry, operation_of
from jstui.nats.session import Session

__all__ = ["KeyWatch", "collect"]


class KeyWatch(BucketWatch):
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
        policy = DeliverPolicy.ALL if history else DeliverPolicy.LAST_PER_SUBJECT
        self.bucket = bucket
        self.pattern = pattern
        self.prefix = f"$KV.{bucket}."
        self.entries: dict[str, KeyEntry] = {}
        self.changed: set[str] = set()
        """Keys whose entry changed since the last `take_changes`."""
        self._on_entry = on_entry
        super().__init__(session, KV_STREAM_PREFIX + bucket, self.prefix + pattern, policy)

    def _take(self, msg: Msg, sequence: int, created: float) -> None:
        key = msg.subject[len(self.prefix) :]
        entry = KeyEntry(key, msg.data, sequence, operation_of(msg.headers), created)
        self.entries[key] = entry
        self.changed.add(key)
        if self._on_entry is not None:
            self._on_entry(entry)

    def take_changes(self) -> dict[str, KeyEntry]:
        """The entries changed since the last call, by key; empties the set."""
        changed, self.changed = self.changed, set()
        return {key: self.entries[key] for key in changed}


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
