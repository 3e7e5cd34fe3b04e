"""Flood protection for core feeds: notice when the shared connection falls behind, and which feed
floods it, so that the feed can be suspended at the server before keys and requests suffer.

Why a connection lag and not a rate: every reply, PONG and message on the one connection queues
behind what the server has already sent. When a core feed receives more than the client can read,
that queue grows without bound and a request waits seconds for its reply. A PING sent on the
connection measures exactly that wait: its PONG comes back behind the queue.

Data flow: a core feed joins its session's `FloodGuard` (`guard_for`) when it subscribes and
leaves when it is suspended or stops. While a feed is registered, the guard's ticker (an asyncio
task, no Textual) wakes every `QUIET_TICK` seconds, or every `BUSY_TICK` while a feed receives at
least `MIN_RATE`. While a feed receives at least `PING_RATE` it keeps one PING in flight and reads
how long the oldest unanswered one has waited (the lag), and how late the ticker itself woke (a
loop frozen by other work delays the PONG too, without any queue on the wire). It hands these and
each feed's message count to a `SaturationDetector`, which is pure (unit-tested with a fake clock)
and says when to suspend which feed: the one receiving the most, never a quiet one below
`MIN_RATE`. The guard then calls `Feed.suspend(rate, lag)`, which unsubscribes at the server; the
user resumes the feed by hand.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from jstui.nats.session import Session

__all__ = [
    "BUSY_TICK",
    "LAG_LIMIT",
    "MIN_RATE",
    "QUIET_TICK",
    "FloodGuard",
    "SaturationDetector",
    "Suspension",
    "guard_for",
]

Key = TypeVar("Key", bound=Hashable)

LAG_LIMIT = 0.050
"""Seconds a PONG may queue behind messages before the connection counts as saturated. A
connection that keeps up answers in a few milliseconds, even at 40k msgs/s. Every request waits
behind the backlog piled up before the suspension, so the sooner the better: at 0.1 s (and the
ticks below doubled) the suspension came 0.17-0.20 s into a flood and requests waited up to 0.6 s
on a loaded machine (`benchmarks/feed_ingest.py --only flood` beside a busy core)."""
SUSTAIN = 0.025
"""How long the lag must stay over the limit (two samples in a row at least, however quick the
ticks): one slow PONG or one backlog after a frozen loop is not a flood."""
MIN_RATE = 5_000.0
"""A feed receiving less than this (msgs/s) is never suspended: it cannot be the flood."""
PING_RATE = 1_000.0
"""While some feed receives at least this (msgs/s), a PING is kept in flight, so that the lag is
already being measured when a flood starts."""
COOLDOWN = 1.0
"""After a suspension, the backlog already on the wire still drains for a moment: wait this long
before judging again, so that a second feed is not blamed for the first one's queue."""
BUSY_TICK = 0.025
QUIET_TICK = 0.050
"""Ticker periods while some feed is fast, and otherwise (twenty cheap wake-ups a second, only
while a core feed is open: a flood is noticed within this)."""
PING_TIMEOUT = 10  # whole seconds: nats-py types flush(timeout) as int
WIRE_OVERHEAD = 32
"""Bytes of protocol around each message's payload (`MSG subject sid size` and two CRLFs), to turn
nats-py's payload byte count into what was read from the socket."""


@dataclass(frozen=True)
class Suspension:
    """Why and since when a feed does not receive: shown in its view."""

    since: float
    """Wall-clock time (seconds since the epoch) when it was unsubscribed."""
    rate: float
    """Messages per second it received while the connection fell behind (the offered rate was
    higher still: this is what the client managed to read)."""
    lag: float
    """How long its unanswered PING had waited when it was suspended: a lower bound of how far
    behind the connection was (the PONG may still have had far to go)."""


class SaturationDetector(Generic[Key]):
    """Decides, from samples, when the connection is saturated and by which feed. Pure: it reads
    no clock (the caller passes `now`) and touches no network."""

    def __init__(
        self,
        *,
        lag_limit: float = LAG_LIMIT,
        sustain: float = SUSTAIN,
        min_rate: float = MIN_RATE,
        cooldown: float = COOLDOWN,
    ) -> None:
        self.lag_limit = lag_limit
        self.sustain = sustain
        self.min_rate = min_rate
        self.cooldown = cooldown
        self._last_time: float | None = None
        self._last_counts: dict[Key, int] = {}
        self._since: float | None = None
        """When the lag went over the limit (None: it is under it)."""
        self._window = 0.0
        """Where the rates of a saturated stretch are measured from (the sample before it)."""
        self._since_counts: dict[Key, int] = {}
        self._quiet_until = float("-inf")

    def rates(self, now: float, counts: Mapping[Key, int]) -> dict[Key, float]:
        """Messages per second of each feed since the previous sample (0 for a new feed)."""
        if self._last_time is None or now <= self._last_time:
            return dict.fromkeys(counts, 0.0)
        elapsed = now - self._last_time
        last = self._last_counts
        return {key: (count - last.get(key, count)) / elapsed for key, count in counts.items()}

    def observe(
        self,
        now: float,
        lag: float,
        late: float,
        counts: Mapping[Key, int],
        backlog: float = 0.0,
    ) -> tuple[Key, float] | None:
        """One sample: `lag` is how long the connection's oldest unanswered PING has waited (or
        the last round trip), `late` how late the sampling itself woke (a frozen loop delays the
        PONG without any queue on the wire), `counts` each feed's messages received so far, and
        `backlog` how many seconds of reading the data already waiting unread would take.

        Returns the feed to suspend and its rate while saturated, or None.
        """
        fast = max(self.rates(now, counts).values(), default=0.0) >= self.min_rate
        previous_time, previous_counts = self._last_time, self._last_counts
        self._last_time, self._last_counts = now, dict(counts)
        # what a frozen loop let pile up is not a queue the client cannot read: discounted
        behind = max(lag, backlog) - max(0.0, late)
        if now < self._quiet_until or behind < self.lag_limit or not fast:
            self._since = None
            return None
        if self._since is None:
            # saturated from now on; the rates are measured from the previous sample
            self._since = now
            self._window = previous_time if previous_time is not None else now
            self._since_counts = previous_counts
        if now - self._since < self.sustain or now <= self._window:
            return None
        elapsed = now - self._window
        base = self._since_counts
        window = {key: (count - base.get(key, count)) / elapsed for key, count in counts.items()}
        key, rate = max(window.items(), key=lambda item: item[1])
        if rate < self.min_rate:
            return None
        self._since = None
        self._quiet_until = now + self.cooldown
        return key, rate


class Guarded(Protocol):
    """What the guard needs of a feed (`Feed` in feed.py)."""

    count: int
    flood_protection: bool

    async def suspend(self, rate: float, lag: float) -> None: ...


class FloodGuard:
    """The ticker of one session: samples the connection's lag and its core feeds' counts, and
    suspends the feed that floods the connection. Built by `guard_for`; runs while feeds joined."""

    def __init__(self, session: Session, detector: SaturationDetector[int] | None = None) -> None:
        self.session = session
        self.detector: SaturationDetector[int] = detector or SaturationDetector()
        self.feeds: dict[int, Guarded] = {}
        self._task: asyncio.Task[None] | None = None
        self._ping: asyncio.Task[None] | None = None
        self._ping_sent = 0.0
        self._ping_answered: float | None = None
        self._read: tuple[float, int] | None = None
        """When the wire counters were last read, and the bytes read by then (`backlog`)."""

    def join(self, feed: Guarded) -> None:
        self.feeds[id(feed)] = feed
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def leave(self, feed: Guarded) -> None:
        self.feeds.pop(id(feed), None)
        if not self.feeds:
            _GUARDS.pop(id(self.session), None)
            task, self._task = self._task, None
            if task is not None and task is not asyncio.current_task():
                task.cancel()

    def lag(self, now: float) -> float:
        """How long the connection's newest PING took, or its unanswered one has waited so far."""
        if self._ping is None:
            return 0.0
        answered = self._ping_answered
        return (answered if answered is not None else now) - self._ping_sent

    def backlog(self, now: float) -> float:
        """Seconds of reading that the data waiting unread would take at the rate the client read
        since the last call: seen at once, while a PONG behind the same data is still on its way.
        0 when unknown."""
        with contextlib.suppress(Exception):  # not connected, or not a TCP transport
            nc = self.session.nc
            read = nc.stats["in_bytes"] + nc.stats["in_msgs"] * WIRE_OVERHEAD
            previous, self._read = self._read, (now, read)
            waiting = _unread_bytes(nc)
            if previous is not None and now > previous[0] and read > previous[1]:
                return waiting / ((read - previous[1]) / (now - previous[0]))
        return 0.0

    def _send_ping(self, now: float) -> None:
        if self._ping is not None and not self._ping.done():
            return  # one in flight at a time: its age is the lag
        with contextlib.suppress(Exception):  # not connected: no lag to measure
            nc = self.session.nc
            self._ping_sent, self._ping_answered = now, None
            self._ping = asyncio.get_running_loop().create_task(nc.flush(timeout=PING_TIMEOUT))
            self._ping.add_done_callback(self._answered)

    def _answered(self, task: asyncio.Task[None]) -> None:
        self._ping_answered = time.perf_counter()
        if not task.cancelled():
            task.exception()  # a timeout or a closed connection: the lag was measured anyway

    async def _run(self) -> None:
        period = QUIET_TICK
        try:
            while self.feeds:
                started = time.perf_counter()
                await asyncio.sleep(period)
                now = time.perf_counter()
                counts = {key: feed.count for key, feed in self.feeds.items()}
                guarded = {k: c for k, c in counts.items() if self.feeds[k].flood_protection}
                busy = max(self.detector.rates(now, guarded).values(), default=0.0)
                lag = self.lag(now)
                backlog = self.backlog(now)
                late = now - started - period
                verdict = self.detector.observe(now, lag, late, guarded, backlog)
                period = BUSY_TICK if busy >= self.detector.min_rate else QUIET_TICK
                if busy >= PING_RATE:
                    self._send_ping(now)
                elif self._ping is not None and self._ping.done():
                    self._ping = None  # quiet again: an old round trip says nothing of the next
                if verdict is not None:
                    key, rate = verdict
                    feed = self.feeds.get(key)
                    if feed is not None:
                        await feed.suspend(rate, max(lag, backlog))
        finally:
            if self._ping is not None:
                self._ping.cancel()


def _unread_bytes(nc: Any) -> int:
    """Bytes received on the connection and not parsed yet: the socket's receive queue (FIONREAD)
    plus asyncio's reader buffer. Raises where either cannot be read (not TCP, not POSIX)."""
    import fcntl
    import termios

    transport = nc._transport
    sock = transport._io_writer.get_extra_info("socket")
    queued = array.array("i", [0])
    fcntl.ioctl(sock.fileno(), termios.FIONREAD, queued)
    return queued[0] + len(transport._io_reader._buffer)


_GUARDS: dict[int, FloodGuard] = {}
"""One guard per session, by the session's id, while any of its core feeds is registered (the
guard holds the session, so the id cannot be reused meanwhile)."""


def guard_for(session: Session) -> FloodGuard:
    """The session's flood guard (made on first use, dropped when its last feed leaves)."""
    guard = _GUARDS.get(id(session))
    if guard is None:
        guard = _GUARDS[id(session)] = FloodGuard(session)
    return guard
