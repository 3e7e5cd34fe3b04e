"""Direct delivery: nats-py's read loop hands each message of a subscription to a plain function.

A callback subscription in nats-py 2.16 has its own `asyncio.Queue` and task: the read loop puts
every message on the queue, then the task takes it off again and awaits the callback. For a
handler that only appends the message to a ring buffer and counts, that hop costs more than the
handler: `python benchmarks/direct_delivery.py` measures a bare subscriber both ways (README,
"Performance").

`subscribe_direct` subscribes without a callback, then puts a `DirectDelivery` where nats-py keeps
the subscription's pending queue, so the read loop's `put_nowait(msg)` is the call. Nothing is ever
pending: the handler is the bounded buffer. The read loop still gives the event loop a turn after
each socket read (at most 32 KiB), so a flood cannot hold the UI for long.

This leans on two private attributes of nats-py's `Subscription` (`_pending_queue`,
`_pending_size`); nats-py is pinned, and when they are missing `subscribe_direct` falls back to an
ordinary callback subscription, so an upgrade degrades speed, never correctness
(`tests/nats/test_direct.py` says which path the pinned version takes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import nats.aio.client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

__all__ = ["DirectDelivery", "is_direct", "subscribe_direct"]

_log = logging.getLogger(__name__)


class DirectDelivery:
    """Stands in for a subscription's pending queue and calls `handler(msg)` for each message.

    The handler runs inside nats-py's read loop: it must be quick and must not block. An exception
    from it would end the read loop (and with it the connection), so it is caught and counted here.
    """

    __slots__ = ("_handler", "_sub", "errors", "last_error")

    def __init__(self, sub: Subscription, handler: Callable[[Msg], None]) -> None:
        self._sub = sub
        self._handler = handler
        self.errors = 0
        self.last_error: Exception | None = None

    def put_nowait(self, msg: Msg) -> None:
        # nats-py adds each payload to the subscription's pending bytes before queueing it; nothing
        # stays pending here, so keep the count at zero and its limit check never trips.
        self._sub._pending_size = 0
        try:
            self._handler(msg)
        except Exception as error:
            self.errors += 1
            if self.last_error is None:
                _log.exception("direct delivery handler failed", exc_info=error)
            self.last_error = error

    # The rest of asyncio.Queue's interface that nats-py uses on a subscription without callback.
    def qsize(self) -> int:
        return 0

    def empty(self) -> bool:
        return True

    def full(self) -> bool:
        return False

    def task_done(self) -> None:
        return None

    async def join(self) -> None:
        return None


async def subscribe_direct(
    nc: nats.aio.client.Client,
    subject: str,
    handler: Callable[[Msg], None],
    *,
    queue: str = "",
    pending_msgs_limit: int,
    pending_bytes_limit: int,
) -> Subscription:
    """Subscribe with `handler(msg)` called from the read loop (see the module's doc).

    The pending limits apply only when nats-py lacks what direct delivery needs and an ordinary
    callback subscription is made instead.
    """
    sub = await nc.subscribe(subject, queue=queue)
    if _supports_direct(sub):
        queued = sub._pending_queue
        delivery = DirectDelivery(sub, handler)
        sub._pending_queue = delivery  # type: ignore[assignment]
        while not queued.empty():  # anything that arrived before the switch, in order
            delivery.put_nowait(queued.get_nowait())
        return sub
    await sub.unsubscribe()

    async def callback(msg: Msg) -> None:
        handler(msg)

    return await nc.subscribe(
        subject,
        queue=queue,
        cb=callback,
        pending_msgs_limit=pending_msgs_limit,
        pending_bytes_limit=pending_bytes_limit,
    )


def is_direct(sub: Subscription) -> bool:
    """True when messages of `sub` are delivered directly (not queued)."""
    return isinstance(getattr(sub, "_pending_queue", None), DirectDelivery)


def _supports_direct(sub: Subscription) -> bool:
    return isinstance(getattr(sub, "_pending_queue", None), asyncio.Queue) and isinstance(
        getattr(sub, "_pending_size", None), int
    )
