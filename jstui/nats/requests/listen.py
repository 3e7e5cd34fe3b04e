"""Subscribing from inside nats-py's read loop *at once*, for the request watcher (watch.py).

When the watcher sees a request whose reply subject no standing subscription covers (a stored
request's ``reply-to`` inbox, an older client's ``_INBOX.<id>``), it must subscribe to that subject
before the reply reaches the server. `nc.subscribe` only queues the SUB: nats-py's flusher task
writes it on a later turn of the event loop, and on jstui's loop a turn can wait behind a frame
being drawn (tens of milliseconds), while a durable consumer answers a stored request in a few. In
the app, the stored request of the tutorial went unmatched that way.

`subscribe_at_once` does what `nc.subscribe` does (a new sid, a `Subscription` in the client's
table, so that unsubscribing and re-subscribing after a reconnect work as for any other) but
writes the SUB line to the transport itself, right away: the transport keeps the order of writes,
and a SUB may go ahead of a PUB still queued for the flusher. Messages are handed to `handler`
from the read loop (`DirectDelivery`). This leans on private attributes of nats-py's client
(`_sid`, `_subs`, `_transport`, `_error_cb`); nats-py is pinned, and when they are missing it
returns None and the caller subscribes the ordinary way (later, so a fast reply may be missed).
"""

from __future__ import annotations

from collections.abc import Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from jstui.nats.direct import DirectDelivery

__all__ = ["subscribe_at_once"]


def subscribe_at_once(
    nc: Client, subject: str, handler: Callable[[Msg], None]
) -> Subscription | None:
    """Subscribe to `subject` now, without waiting for the flusher; None when it cannot."""
    transport = getattr(nc, "_transport", None)
    subs = getattr(nc, "_subs", None)
    sid = getattr(nc, "_sid", None)
    if not nc.is_connected or transport is None or not isinstance(subs, dict):
        return None
    if not isinstance(sid, int) or not hasattr(nc, "_error_cb"):
        return None
    sid += 1
    nc._sid = sid
    sub = Subscription(nc, sid, subject)
    sub._start(nc._error_cb)
    sub._pending_queue = DirectDelivery(sub, handler)  # type: ignore[assignment]
    subs[sid] = sub
    transport.write(f"SUB {subject}  {sid}\r\n".encode())
    return sub
