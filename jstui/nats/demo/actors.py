"""The demo's programs: each a nats-py connection of its own, named, like an outside program.

`Publisher` sends "Message N" through JetStream a few times a second, each with a message id, and
retries a message until the server acknowledges it (so an outage loses nothing and stores nothing
twice: the duplicate window drops a retry of a message already stored). `Requester` stores
"Hello, Consumers!" with a `reply-to` header naming an inbox of its own and times each reply.
`Replier` answers those requests from a durable consumer, to inbox subjects only, and acks.
`Worker` is a member of the deliver group: it takes a moment over each message, then acks;
killing it closes its connection without acking, so what it held comes back to the others as
redeliveries.

Every actor runs as tasks in the event loop it was started in (jstui's own: a few messages a
second cost nothing there) and reconnects by itself for ever, as nats-py does. What they count
is read by the story and by tests; what is worth telling goes through `Cast.say`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from jstui.nats.client_fixes import apply_client_fixes
from jstui.nats.demo.names import DemoNames

_log = logging.getLogger(__name__)

ACTOR_PREFIX = "jstui-demo-"
"""Every actor's connection name starts so: the Server pane and the Workers pane show them."""
REQUEST_TEXT = "Hello, Consumers!"
PUBLISH_TIMEOUT = 2.0
"""A PubAck not back in this long: outcome unknown, the same message is sent again."""
RETRY_SECONDS = 0.5
REPLY_TIMEOUT = 30.0
"""A request still unanswered after this long is forgotten (bounded memory)."""
WORK_SECONDS = (0.2, 0.8)
"""How long a worker takes over one message: long enough to hold messages when it is killed."""
ACKED_KEPT = 10_000
"""The stream sequences the publisher remembers (the tests compare them with the stream)."""

# nats-py raises these while a server is away or a leader is being elected; an actor waits and
# carries on, like a well-written outside program.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    nats.errors.Error,
    nats.js.errors.Error,
    asyncio.TimeoutError,
    OSError,
)

Task = Callable[[], Awaitable[None]]


@dataclass
class Cast:
    """What every actor shares: where the servers are, how to connect, the names, and how to
    tell the story (`say`) and report a redelivery (`redelivered`)."""

    servers: list[str]
    connect_options: dict[str, Any]
    names: DemoNames
    say: Callable[[str], None]
    redelivered: Callable[[str, int, int], None] = lambda worker, seq, count: None


class Actor:
    """One program: its connection and its tasks."""

    def __init__(self, role: str, cast: Cast) -> None:
        self.name = f"{ACTOR_PREFIX}{role}"
        self.cast = cast
        self.nc: Client | None = None
        self.last_error = ""
        self._tasks: set[asyncio.Task[None]] = set()

    async def connect(self) -> Client:
        async def error_cb(error: Exception) -> None:
            # nats-py's default logs every error at ERROR level; this keeps the last one instead
            self.last_error = str(error) or type(error).__name__

        self.nc = await nats.connect(
            servers=self.cast.servers,
            name=self.name,
            error_cb=error_cb,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=2,
            **self.cast.connect_options,
        )
        apply_client_fixes(self.nc)
        return self.nc

    def spawn(self, work: Task) -> None:
        """Run `work` for as long as the actor lives; a failure is logged, never lost."""

        async def guarded() -> None:
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.last_error = str(error)
                _log.exception("demo actor %s stopped", self.name)

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """End the tasks and close the connection (nothing queued is acked on the way out)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await self.nc.close()


class Traffic:
    """The pace the publisher and the requester keep, changed by the presenter's keys."""

    RATES = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0)
    """Messages a second the publisher can be set to; `faster` and `slower` step through them."""

    def __init__(self, rate_index: int = 3, request_seconds: float = 4.0) -> None:
        self.rate_index = rate_index
        self.request_seconds = request_seconds
        self.running = asyncio.Event()
        self.running.set()

    @property
    def rate(self) -> float:
        return self.RATES[self.rate_index]

    @property
    def paused(self) -> bool:
        return not self.running.is_set()

    def step(self, by: int) -> bool:
        """Change the rate by `by` steps; False when it is already at that end."""
        wanted = min(max(self.rate_index + by, 0), len(self.RATES) - 1)
        changed, self.rate_index = wanted != self.rate_index, wanted
        return changed


class Publisher(Actor):
    """Sends "Message N" to the test subject through JetStream, at the traffic's rate."""

    def __init__(self, cast: Cast, traffic: Traffic, run_id: str) -> None:
        super().__init__("publisher", cast)
        self.traffic = traffic
        self.run_id = run_id
        self.number = 1
        """The N of the next message."""
        self.acked: deque[int] = deque(maxlen=ACKED_KEPT)
        """Stream sequences the server acknowledged, oldest first."""
        self.acked_count = 0
        self.duplicates = 0
        """Retries the server had already stored (dropped by the duplicate window)."""
        self.failures = 0
        self.last_ack_time = 0.0
        """`time.monotonic()` of the last acknowledgement."""
        self.last_acked_send_time = 0.0
        """`time.monotonic()` when the publish acknowledged last was sent: an ack read after a
        kill may belong to a message sent before it."""

    async def start(self) -> None:
        self.spawn(self._publish_forever)

    async def _publish_forever(self) -> None:
        assert self.nc is not None
        js = self.nc.jetstream()
        subject = self.cast.names.test_subject
        while True:
            await self.traffic.running.wait()
            headers = {"Nats-Msg-Id": f"{self.run_id}-{self.number}"}
            sent = time.monotonic()
            try:
                ack = await js.publish(
                    subject,
                    f"Message {self.number}".encode(),
                    timeout=PUBLISH_TIMEOUT,
                    headers=headers,
                )
            except TRANSIENT_ERRORS as error:
                self.failures += 1
                self.last_error = str(error) or type(error).__name__
                await asyncio.sleep(RETRY_SECONDS)
                continue  # the same N and id again: stored once whatever happened
            # A duplicate is an earlier try of this N that the server stored without its
            # acknowledgement reaching us: its sequence is acknowledged only now.
            self.duplicates += bool(ack.duplicate)
            self.acked.append(ack.seq)
            self.acked_count += 1
            self.last_ack_time, self.last_acked_send_time = time.monotonic(), sent
            self.number += 1
            await asyncio.sleep(1 / self.traffic.rate)


class Requester(Actor):
    """Stores a request with a `reply-to` header every few seconds (or now, when asked), and
    matches each reply by its inbox: one inbox per request, so that a watcher can pair them."""

    def __init__(self, cast: Cast, traffic: Traffic, run_id: str) -> None:
        super().__init__("requester", cast)
        self.traffic = traffic
        self.run_id = run_id
        self.sent = 0
        self.replied = 0
        self.last_latency: float | None = None
        self.last_reply = ""
        self._waiting: dict[str, float] = {}
        """Reply inbox -> when its request was sent; bounded by REPLY_TIMEOUT."""
        self._now = asyncio.Event()
        self._inbox_root = ""

    async def start(self) -> None:
        assert self.nc is not None
        self._inbox_root = self.nc.new_inbox()
        await self.nc.subscribe(f"{self._inbox_root}.*", cb=self._reply)
        self.spawn(self._request_forever)

    def request_now(self) -> None:
        self._now.set()

    async def _reply(self, msg: Msg) -> None:
        sent = self._waiting.pop(msg.subject, None)
        if sent is None:
            return  # a second reply, or one for a request forgotten
        self.replied += 1
        self.last_latency = time.monotonic() - sent
        self.last_reply = msg.data.decode(errors="replace")

    async def _request_forever(self) -> None:
        asked_now = True  # the first at once: the audience sees a request from the start
        while True:
            if asked_now or not self.traffic.paused:
                await self.send()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._now.wait(), self.traffic.request_seconds)
            asked_now = self._now.is_set()
            self._now.clear()

    async def send(self) -> bool:
        """Store one request; False when the server did not acknowledge it."""
        assert self.nc is not None
        self.sent += 1
        inbox = f"{self._inbox_root}.{self.sent}"
        now = time.monotonic()
        self._waiting = {box: at for box, at in self._waiting.items() if now - at < REPLY_TIMEOUT}
        self._waiting[inbox] = now
        headers = {"reply-to": inbox, "Nats-Msg-Id": f"{self.run_id}-request-{self.sent}"}
        try:
            await self.nc.jetstream().publish(
                self.cast.names.requests_subject,
                REQUEST_TEXT.encode(),
                timeout=PUBLISH_TIMEOUT,
                headers=headers,
            )
        except TRANSIENT_ERRORS as error:
            self.last_error = str(error) or type(error).__name__
            return False
        return True


DEFAULT_INBOX_PREFIX = "_INBOX"


def inbox_prefixes(connect_options: dict[str, Any]) -> tuple[str, ...]:
    """The subject starts a reply may go to: nats-py's default inbox, and the prefix the
    connections were given (a context's `inbox_prefix`), each with its dot."""
    custom = connect_options.get("inbox_prefix")
    prefixes = {DEFAULT_INBOX_PREFIX, *([str(custom)] if custom else [])}
    return tuple(sorted(f"{prefix}." for prefix in prefixes))


def is_inbox(subject: str, prefixes: tuple[str, ...]) -> bool:
    """A subject a reply may be published to: under an inbox prefix, one token more at least, no
    wildcard, no empty token, no white space."""
    tokens = subject.split(".")
    return (
        subject.startswith(prefixes)
        and all(tokens)
        and not any(token in ("*", ">") for token in tokens)
        and not any(character.isspace() for character in subject)
    )


class Replier(Actor):
    """Answers each stored request to its `reply-to` inbox from a durable consumer, then acks.

    Only inbox subjects are answered (`_INBOX.…`, or the connections' own inbox prefix): with
    `--port` or `--server` anyone can store a request, and a `reply-to` naming any subject would
    otherwise make the demo's connection publish wherever a stranger likes. Other requests are
    acked unanswered and counted in `refused`."""

    def __init__(self, cast: Cast) -> None:
        super().__init__("replier", cast)
        self.answered = 0
        self.refused = 0
        self._inboxes = inbox_prefixes(cast.connect_options)

    async def start(self) -> None:
        assert self.nc is not None
        names = self.cast.names
        await self.nc.jetstream().subscribe(
            names.requests_subject,
            durable=names.replier,
            stream=names.stream,
            cb=self._answer,
            manual_ack=True,
        )

    async def _answer(self, msg: Msg) -> None:
        assert self.nc is not None
        reply_to = (msg.headers or {}).get("reply-to")
        if reply_to and not is_inbox(reply_to, self._inboxes):
            self.refused += 1
        elif reply_to:
            text = msg.data.decode(errors="replace").upper()
            await self.nc.publish(reply_to, f"Response from {self.name} : {text}".encode())
            self.answered += 1
        await msg.ack()


class Worker(Actor):
    """A member of the deliver group: each message takes it a moment, then it acks."""

    def __init__(self, number: int, cast: Cast) -> None:
        super().__init__(f"worker-{number}", cast)
        self.handled = 0
        self.redeliveries = 0
        """Messages it got that another member had held (delivered more than once)."""
        self.busy_with: int | None = None
        """The stream sequence of the message it is working on."""
        self._sub: Subscription | None = None

    async def start(self) -> None:
        assert self.nc is not None
        names = self.cast.names
        self._sub = await self.nc.jetstream().subscribe(
            names.wildcard,
            queue=names.workers,
            stream=names.stream,
            cb=self._work,
            manual_ack=True,
        )

    @property
    def held(self) -> int:
        """Messages delivered to it and not acked: the one at hand and those queued behind it."""
        queued = self._sub.pending_msgs if self._sub is not None else 0
        return queued + (self.busy_with is not None)

    async def _work(self, msg: Msg) -> None:
        meta = msg.metadata
        self.busy_with = meta.sequence.stream
        if meta.num_delivered > 1:
            self.redeliveries += 1
            self.cast.redelivered(self.name, meta.sequence.stream, meta.num_delivered)
        await asyncio.sleep(random.uniform(*WORK_SECONDS))
        with contextlib.suppress(*TRANSIENT_ERRORS):  # the server away: redelivered later
            await msg.ack()
            self.handled += 1
        self.busy_with = None


__all__ = [
    "ACTOR_PREFIX",
    "REQUEST_TEXT",
    "Actor",
    "Cast",
    "Publisher",
    "Replier",
    "Requester",
    "Traffic",
    "Worker",
    "inbox_prefixes",
    "is_inbox",
]
