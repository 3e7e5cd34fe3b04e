"""Watching other programs' requests on a subject and matching each with its replies and latency,
as natscli's ``nats sub --match-replies`` does, without changing what is watched.

`RequestWatch(session, subject)` subscribes to the subject (wildcards allowed). A message there is
a request when it has a reply subject, or a ``reply-to`` header (the stored-request pattern: the
request goes into a stream and a durable consumer answers to that header's inbox; the message's
own reply subject is then the publisher's inbox for the stream's acknowledgement, read for the
stream and sequence). Each request becomes a `WatchedRequest` (watched.py); its replies are
counted with their latency until its window ends, and then it says "replied", "N replies", "no
reply in N s" or "no responders" (a 503 status seen on its reply subject).

How replies are caught, and why that changes nothing:

- Only plain core subscriptions: no queue group, no consumer, no ack. A plain subscription gets
  a *copy* of every message on its subject; it never takes one away from another subscriber. So
  subscribing to a requester's reply inbox does not steal the reply (the requester gets it as
  before), and subscribing to the request subject does not take requests from a queue group of
  responders. This is also why no consumer is made for stored requests: a consumer of jstui's
  on the stream could take them from the responders (a work queue) or change what the stream
  keeps (an interest stream), while the request's core message is seen by a subscription anyway.
- Replies to the usual inboxes (``_INBOX.<requester>.<token>``, nats-py's, nats.go's and
  natscli's requests and JetStream acknowledgements) are caught by one subscription on
  ``_INBOX.*.*``, made *before* the watched subject's: a reply can then never beat the
  subscription to the server. Subscribing to each reply subject as its request is seen is too
  late for a fast responder (measured: 46 of 50 replies on loopback came before the new
  subscription reached the server). That subscription is bounded: past `OTHER_INBOX_BUDGET`
  messages a second that answer no watched request (a busy account's other replies) it is
  dropped, and the watcher falls back to the next rule for every request, saying so.
- Any other reply subject (a stored request's ``reply-to`` inbox, ``_INBOX.<id>`` of older
  clients, a custom subject) gets its own subscription while its request waits, removed when the
  request's window ends. A stored request's reply goes through the stream and a consumer first,
  so that subscription is in place long before; a core request's is marked ``late`` (a reply
  faster than jstui's subscription was not seen, and "no reply" then says "listened late").
- Pending requests are capped (`MAX_PENDING`): past it the oldest is closed at once as "no reply
  (cut short)". The records kept for the view are capped too (`MAX_ROWS`), the counts are not.

One effect of watching cannot be avoided, and natscli's ``nats sub`` has it too: a request sent
to the watched subject with no responder now reaches a subscriber, jstui, so the requester waits
out its timeout instead of getting "no responders" at once.

Every callback here runs in nats-py's read loop (direct delivery) and does O(1) work: it updates a
record and the counts and bumps ``version``, which the pane polls on its redraw timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine

import nats.errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from jstui.nats.direct import subscribe_direct
from jstui.nats.errors import ValidationError
from jstui.nats.names import subject_problem
from jstui.nats.requests.headers import REPLY_TO_HEADER
from jstui.nats.requests.watched import KEPT_BYTES, WatchCounts, WatchedRequest, WatchOutcome
from jstui.nats.session import Session

__all__ = [
    "DEFAULT_WINDOW",
    "INBOX_CATCH_ALL",
    "RequestWatch",
]

DEFAULT_WINDOW = 5.0
"""Seconds a request waits for its reply before it says "no reply"."""
INBOX_CATCH_ALL = "_INBOX.*.*"
"""Every client's multiplexed reply inbox (``_INBOX.<client>.<token>``)."""
OTHER_INBOX_BUDGET = 2_000
"""Messages a second on the inbox catch-all that answer no watched request before it is dropped."""
MAX_PENDING = 500
MAX_ROWS = 500
SWEEP_SECONDS = 0.2
_PENDING_MSGS = 10_000
_PENDING_BYTES = 16 << 20
_NO_RESPONDERS = "503"


def _reply_to_header(headers: dict[str, str] | None) -> str:
    if not headers:
        return ""
    value = headers.get(REPLY_TO_HEADER)
    if value is None:  # other spellings of the header name
        value = next((v for k, v in headers.items() if k.lower() == REPLY_TO_HEADER), "")
    return value.strip()


def _caught_by_catch_all(subject: str) -> bool:
    tokens = subject.split(".")
    return len(tokens) == 3 and tokens[0] == "_INBOX" and all(tokens)


class RequestWatch:
    """Watches `subject` for requests; see the module's doc. `start`, then `stop`."""

    def __init__(
        self,
        session: Session,
        subject: str,
        *,
        window: float = DEFAULT_WINDOW,
        max_pending: int = MAX_PENDING,
        max_rows: int = MAX_ROWS,
        other_inbox_budget: int = OTHER_INBOX_BUDGET,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        subject = subject.strip()
        problem = subject_problem(subject)
        if problem:
            raise ValidationError("subject", problem)
        if window <= 0:
            raise ValidationError("window", "the reply window must be more than 0s")
        self.session = session
        self.subject = subject
        self.window = window
        self.max_pending = max_pending
        self.max_rows = max_rows
        self.other_inbox_budget = other_inbox_budget
        self._clock = clock
        self.requests: OrderedDict[int, WatchedRequest] = OrderedDict()
        """The latest requests (at most `max_rows`), oldest first, by id."""
        self.counts = WatchCounts()
        self.version = 0
        """Bumped at every change a view shows."""
        self.running = False
        self.catch_all_note = ""
        """Why the ``_INBOX.*.*`` subscription is off ("" while it is on)."""
        self.error = ""
        """The last subscription that failed (the connection was lost, say)."""
        self._next_id = 1
        self._open: OrderedDict[int, WatchedRequest] = OrderedDict()
        """Requests whose window has not ended, oldest first (all have the same window)."""
        self._by_reply: dict[str, WatchedRequest] = {}
        self._by_ack: dict[str, WatchedRequest] = {}
        self._sub: Subscription | None = None
        self._catch_all: Subscription | None = None
        self._exact: dict[str, Subscription | None] = {}
        """Reply subjects listened on one by one (None while the subscription is being made)."""
        self._tasks: set[asyncio.Task[None]] = set()
        """Subscribing and unsubscribing reply subjects, started from the read loop."""
        self._sweeper: asyncio.Task[None] | None = None
        self._other_second = 0
        self._other_in_second = 0

    # -- start and stop ------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe: the inbox catch-all first, so that no reply can beat it, then the subject."""
        nc = self.session.nc
        self._catch_all = await subscribe_direct(
            nc,
            INBOX_CATCH_ALL,
            self._on_reply,
            pending_msgs_limit=_PENDING_MSGS,
            pending_bytes_limit=_PENDING_BYTES,
        )
        self._sub = await subscribe_direct(
            nc,
            self.subject,
            self._on_request,
            pending_msgs_limit=_PENDING_MSGS,
            pending_bytes_limit=_PENDING_BYTES,
        )
        await nc.flush()
        self.running = True
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        self.version += 1

    async def stop(self) -> None:
        """Unsubscribe everything; requests still waiting stay as they are."""
        self.running = False
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._tasks:
            # Not cancelled: a subscription cancelled half-way could be made at the server
            # without jstui holding it. Each one made after `running` went False undoes itself.
            await asyncio.wait(list(self._tasks), timeout=5)
        subs = [self._sub, self._catch_all, *self._exact.values()]
        self._sub = self._catch_all = None
        self._exact.clear()
        for sub in subs:
            if sub is not None:
                with contextlib.suppress(Exception):  # a lost connection has no subscriptions
                    await sub.unsubscribe()
        with contextlib.suppress(Exception):
            await self.session.nc.flush(timeout=2)
        self.version += 1

    @property
    def listening(self) -> int:
        """Subscriptions held now: the subject, the catch-all, one per uncaught reply subject."""
        held = [self._sub, self._catch_all, *self._exact.values()]
        return sum(1 for sub in held if sub is not None)

    # -- callbacks (nats-py's read loop, O(1)) -------------------------------------------------

    def _on_request(self, msg: Msg) -> None:
        header = _reply_to_header(msg.headers)
        reply_to = header or msg.reply
        counts = self.counts
        self.version += 1
        if not reply_to:
            counts.not_requests += 1
            return
        now = self._clock()
        record = WatchedRequest(
            id=self._next_id,
            subject=msg.subject,
            reply_to=reply_to,
            stored=bool(header),
            seen=time.time(),
            seen_at=now,
            window=self.window,
            size=len(msg.data),
            data=msg.data[:KEPT_BYTES],
            headers=dict(msg.headers) if msg.headers else None,
            ack_to=msg.reply if header else "",
        )
        self._next_id += 1
        counts.seen += 1
        counts.waiting += 1
        self.requests[record.id] = record
        while len(self.requests) > self.max_rows:
            self.requests.popitem(last=False)
        self._open[record.id] = record
        self._by_reply[reply_to] = record
        if record.ack_to:
            self._by_ack[record.ack_to] = record
        if not self._caught(reply_to):
            record.late = not record.stored
            self._spawn(self._listen(reply_to))
        while len(self._open) > self.max_pending:
            _, oldest = self._open.popitem(last=False)
            self._close(oldest, cut_short=True)

    def _on_reply(self, msg: Msg) -> None:
        record = self._by_reply.get(msg.subject)
        if record is None:
            acked = self._by_ack.pop(msg.subject, None)
            if acked is None or not acked.note_ack(msg.data):
                self._other_reply()
            self.version += 1
            return
        counts = self.counts
        headers = msg.headers
        if not msg.data and headers and headers.get("Status") == _NO_RESPONDERS:
            if record.outcome is WatchOutcome.WAITING:
                record.outcome = WatchOutcome.NO_RESPONDERS
                counts.waiting -= 1
                counts.no_responders += 1
                self._close(record)
            return
        latency = self._clock() - record.seen_at
        record.replies += 1
        counts.replies += 1
        record.last_latency = latency
        if record.outcome is WatchOutcome.WAITING:
            record.outcome = WatchOutcome.REPLIED
            counts.waiting -= 1
            counts.replied += 1
            record.first_latency = latency
            record.reply_size = len(msg.data)
            record.reply_data = msg.data[:KEPT_BYTES]
            record.reply_headers = dict(headers) if headers else None
        record.version += 1
        self.version += 1

    def _other_reply(self) -> None:
        """A message on an inbox that answers nothing watched; too many turn the catch-all off."""
        self.counts.other_inbox += 1
        second = int(self._clock())
        if second != self._other_second:
            self._other_second, self._other_in_second = second, 0
        self._other_in_second += 1
        if self._other_in_second > self.other_inbox_budget and self._catch_all is not None:
            self.catch_all_note = (
                f"stopped listening on {INBOX_CATCH_ALL}: more than "
                f"{self.other_inbox_budget:,} other replies a second; replies are now caught "
                "per request, and a very fast one can be missed"
            )
            sub, self._catch_all = self._catch_all, None
            self._spawn(self._unsubscribe(sub))
            for record in self._open.values():
                if record.reply_to not in self._exact:
                    record.late = not record.stored
                    self._spawn(self._listen(record.reply_to))

    # -- bookkeeping ---------------------------------------------------------------------------

    def _caught(self, reply_to: str) -> bool:
        return self._catch_all is not None and _caught_by_catch_all(reply_to)

    def _close(self, record: WatchedRequest, *, cut_short: bool = False) -> None:
        """End `record`'s window: "no reply" if nothing came; stop listening for it."""
        record.closed = True
        self._open.pop(record.id, None)
        if record.outcome is WatchOutcome.WAITING:
            record.outcome = WatchOutcome.NO_REPLY
            record.cut_short = cut_short
            self.counts.waiting -= 1
            self.counts.no_reply += 1
            self.counts.cut_short += cut_short
        if self._by_reply.get(record.reply_to) is record:
            del self._by_reply[record.reply_to]
            if record.reply_to in self._exact:
                self._spawn(self._unlisten(record.reply_to))
        if record.ack_to and self._by_ack.get(record.ack_to) is record:
            del self._by_ack[record.ack_to]
        record.version += 1
        self.version += 1

    def close_expired(self) -> None:
        """Close every request whose window has ended (the sweep calls it; tests may too)."""
        now = self._clock()
        while self._open:
            record = next(iter(self._open.values()))
            if record.expires_at > now:
                break
            self._close(record)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            self.close_expired()

    # -- reply subscriptions (tasks) -----------------------------------------------------------

    def _spawn(self, coroutine: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _listen(self, subject: str) -> None:
        if subject in self._exact or not self.running:
            return
        self._exact[subject] = None  # taken: a second request with this subject waits for it
        try:
            sub = await subscribe_direct(
                self.session.nc,
                subject,
                self._on_reply,
                pending_msgs_limit=_PENDING_MSGS,
                pending_bytes_limit=_PENDING_BYTES,
            )
        except (nats.errors.Error, OSError) as error:
            self._exact.pop(subject, None)
            self.error = f"cannot listen on {subject}: {error}"
            return
        if subject not in self._exact or subject not in self._by_reply or not self.running:
            self._exact.pop(subject, None)  # closed (or stopped) while subscribing
            await self._unsubscribe(sub)
            return
        self._exact[subject] = sub

    async def _unlisten(self, subject: str) -> None:
        sub = self._exact.get(subject)
        if sub is None:
            return  # still being made: `_listen` sees the request gone and undoes it
        del self._exact[subject]
        await self._unsubscribe(sub)

    @staticmethod
    async def _unsubscribe(sub: Subscription) -> None:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
