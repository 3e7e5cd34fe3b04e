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
- Replies to the usual inboxes are caught by two standing subscriptions made *before* the watched
  subject's: ``_INBOX.*.*`` (``_INBOX.<client>.<token>``: nats-py's, nats.go's and natscli's
  requests and JetStream acknowledgements) and ``_INBOX.*`` (``_INBOX.<id>``: the tutorial's
  stored requester, gathers, older clients). On one server a reply is caused by its request, so
  jstui always reads the request first and the reply after it, however busy its own event loop
  is (in a cluster the two can come over different routes, and a reply read before its request
  is not matched). Subscribing to each reply subject as its request is seen is too late: measured on
  loopback, 46 of 50 fast replies came before such a subscription reached the server, and in
  the app a durable consumer's answer to a stored request beat it while a frame was drawn. The
  catch-alls are bounded: push consumers deliver to ``_INBOX.<id>`` too, and a busy account
  has many other replies, so past `OTHER_INBOX_BUDGET` messages a second that answer no watched
  request one is dropped (the counts line says so) and its requests fall to the next rule.
- Any other reply subject (a custom one, another inbox prefix) gets its own subscription while
  its request waits, written to the server from the read loop at once (listen.py; 44 of 50 of
  the fast replies above were then caught) and removed when the request's window ends. Such a
  core request is marked ``late``: a reply faster than that was not seen, and "no reply" then
  says "listened late". A ``reply-to`` header that is no valid subject (a space, a wildcard) is
  never subscribed to.
- Pending requests are capped (`MAX_PENDING`): past it the oldest is closed at once as "no reply
  (cut short)". The records kept for the view are capped too (`MAX_ROWS`), the counts are not.

Latency is measured where jstui stands: from reading the request to reading its reply. That is the
responder's time as the server passed both on, not the requester's round trip (which adds its own
two trips): when both reach jstui in one read it is near zero (a stream's acknowledgement of a
core request on loopback: median 0.07 ms seen by jstui, 1.7 ms at the requester).

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
from jstui.nats.requests.listen import subscribe_at_once
from jstui.nats.requests.watched import KEPT_BYTES, WatchCounts, WatchedRequest, WatchOutcome
from jstui.nats.session import Session
from jstui.nats.stats import LatencyStats

__all__ = [
    "DEFAULT_WINDOW",
    "INBOX_CATCH_ALLS",
    "RequestWatch",
]

DEFAULT_WINDOW = 5.0
"""Seconds a request waits for its reply before it says "no reply"."""
INBOX_CATCH_ALLS = ("_INBOX.*.*", "_INBOX.*")
"""Every client's multiplexed reply inbox (``_INBOX.<client>.<token>``: nats-py's, nats.go's and
natscli's requests, JetStream acknowledgements) and every single inbox (``_INBOX.<id>``: a stored
request's ``reply-to``, gathers, older clients; but push consumers deliver there too)."""
OTHER_INBOX_BUDGET = 2_000
"""Messages a second on one catch-all that answer no watched request before it is dropped."""
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


def _catch_all_of(subject: str) -> str | None:
    """The catch-all pattern that `subject` (a valid subject, no wildcard) falls under, or None."""
    if not subject.startswith("_INBOX."):
        return None
    dots = subject.count(".")
    return INBOX_CATCH_ALLS[0] if dots == 2 else INBOX_CATCH_ALLS[1] if dots == 1 else None


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
        self.latency = LatencyStats()
        """First-reply latency of the requests matched (percentiles over the latest 10,000)."""
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
        self._catch_alls: dict[str, Subscription] = {}
        """The standing inbox subscriptions (`INBOX_CATCH_ALLS`) still on."""
        self._exact: dict[str, Subscription | None] = {}
        """Reply subjects listened on one by one (None while the subscription is being made)."""
        self._tasks: set[asyncio.Task[None]] = set()
        """Subscribing and unsubscribing reply subjects, started from the read loop."""
        self._sweeper: asyncio.Task[None] | None = None
        self._other: dict[str, tuple[int, int]] = {}
        """Per catch-all: the second and how many unmatched messages came in it."""

    # -- start and stop ------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe: the inbox catch-all first, so that no reply can beat it, then the subject."""
        nc = self.session.nc
        for pattern in INBOX_CATCH_ALLS:
            self._catch_alls[pattern] = await subscribe_direct(
                nc,
                pattern,
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
        subs = [self._sub, *self._catch_alls.values(), *self._exact.values()]
        self._sub = None
        self._catch_alls.clear()
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
        held = [self._sub, *self._catch_alls.values(), *self._exact.values()]
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
        if problem := subject_problem(reply_to, wildcards=False):
            record.unheard = f"cannot listen on its reply subject: {problem}"
        elif not self._caught(reply_to):
            record.late = not record.stored
            self._listen_now(reply_to)
        while len(self._open) > self.max_pending:
            _, oldest = self._open.popitem(last=False)
            self._close(oldest, cut_short=True)

    def _on_reply(self, msg: Msg) -> None:
        record = self._by_reply.get(msg.subject)
        if record is None:
            acked = self._by_ack.pop(msg.subject, None)
            if acked is not None and acked.note_ack(msg.data):
                self.version += 1
            else:  # nothing shown changes: no redraw for another program's traffic
                self._other_reply(msg.subject)
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
            self.latency.add(latency)
            record.reply_size = len(msg.data)
            record.reply_data = msg.data[:KEPT_BYTES]
            record.reply_headers = dict(headers) if headers else None
        record.version += 1
        self.version += 1

    def _other_reply(self, subject: str) -> None:
        """A message on an inbox that answers nothing watched; too many in one catch-all a
        second turn that catch-all off (its pending requests are then listened for one by one)."""
        self.counts.other_inbox += 1
        pattern = _catch_all_of(subject)
        if pattern is None or pattern not in self._catch_alls:
            return  # on a subscription of one request's own, closed a moment ago
        second = int(self._clock())
        started, count = self._other.get(pattern, (second, 0))
        count = count + 1 if started == second else 1
        self._other[pattern] = (second, count)
        if count <= self.other_inbox_budget:
            return
        note = (
            f"stopped listening on {pattern}: more than {self.other_inbox_budget:,} other "
            "messages a second; replies there are now listened for per request"
        )
        self.catch_all_note = "; ".join(filter(None, (self.catch_all_note, note)))
        self.version += 1
        self._spawn(self._unsubscribe(self._catch_alls.pop(pattern)))
        for record in self._open.values():
            if _catch_all_of(record.reply_to) == pattern and not record.unheard:
                record.late = not record.stored
                self._listen_now(record.reply_to)

    # -- bookkeeping ---------------------------------------------------------------------------

    def _caught(self, reply_to: str) -> bool:
        return _catch_all_of(reply_to) in self._catch_alls

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

    def _listen_now(self, subject: str) -> None:
        """Listen on `subject` from the read loop: at once if nats-py allows (listen.py), else
        through a task (a turn of the loop later)."""
        if subject in self._exact or not self.running:
            return
        sub = subscribe_at_once(self.session.nc, subject, self._on_reply)
        if sub is not None:
            self._exact[subject] = sub
        else:
            self._spawn(self._listen(subject))

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
