"""Whether the streams jstui's feeds and pools use have a leader: one home for the question.

A consumer's idle heartbeats keep coming from a surviving node while a replicated stream has no
leader (an election after its leader died, or a lost quorum), so a feed or a pool cannot tell
from its own messages. JetStream feeds and worker pools `register` the stream they read while
they run; one background task per session (`StreamHealth.run`) asks stream info of those streams
only, every `CHECK_SECONDS` while any is registered and the connection is up, with a short
timeout: without a leader the request is not answered (nats-notes: `stream_info` times out while
there is no leader), unless the connection itself is too busy to answer a PING then (a flood
delays every reply: that is not the stream's fault). Nothing runs while none is registered
(idle CPU: issue #11).

What it learns goes into a `LeaderRecord` (pure: `observe(stream, has_leader, now)`), read by
`Feed.outage_text` and the pools' status line through `leaderless_since(stream)`: the wall-clock
time (the session's clocks) since when no leader answers, None while one does. A stream that
no longer exists is not "leaderless": its record is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import Counter

import nats.errors
import nats.js.errors

from jstui.nats.errors import NotConnectedError
from jstui.nats.session import ConnectionState, Session

__all__ = ["CHECK_SECONDS", "CHECK_TIMEOUT", "LeaderRecord", "StreamHealth", "health_for"]

CHECK_SECONDS = 2.0
"""How often the registered streams are asked about their leader."""
CHECK_TIMEOUT = 1.5
"""Seconds before an unanswered stream info counts as "no leader" (a healthy one answers in ms)."""


class LeaderRecord:
    """Per stream: since when it has had no leader (wall clock), absent while it has one."""

    def __init__(self) -> None:
        self._leaderless: dict[str, float] = {}

    def observe(self, stream: str, has_leader: bool, now: float) -> None:
        """Record one answer (or its absence) about `stream`'s leader at `now`."""
        if has_leader:
            self._leaderless.pop(stream, None)
        else:
            self._leaderless.setdefault(stream, now)  # the first time it was missed

    def forget(self, stream: str) -> None:
        self._leaderless.pop(stream, None)

    def leaderless_since(self, stream: str) -> float | None:
        return self._leaderless.get(stream)


class StreamHealth:
    """The session's leader checker: `register`/`unregister` streams; the task runs by itself
    while any stream is registered (made on first use by `health_for`)."""

    def __init__(self, session: Session, *, interval: float = CHECK_SECONDS) -> None:
        self.session = session
        self.interval = interval
        self.record = LeaderRecord()
        self._users: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    @property
    def streams(self) -> list[str]:
        """The streams registered now."""
        return sorted(self._users)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def register(self, stream: str) -> None:
        """A feed or a pool reads `stream` from now on (call `unregister` once per call)."""
        self._users[stream] += 1
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self.run())

    def unregister(self, stream: str) -> None:
        self._users[stream] -= 1
        if self._users[stream] <= 0:
            del self._users[stream]
            self.record.forget(stream)
        if not self._users:
            self._wake.set()  # the task ends at once instead of sleeping out its interval
            if _HEALTH.get(id(self.session)) is self:
                del _HEALTH[id(self.session)]  # nothing keeps a closed session alive

    def leaderless_since(self, stream: str) -> float | None:
        """Since when (wall clock) `stream` has had no leader; None while it has one."""
        return self.record.leaderless_since(stream) if stream in self._users else None

    async def run(self) -> None:
        """Check the registered streams every `interval` while connected; end when none is left."""
        try:
            while self._users:
                if self.session.status.state is ConnectionState.CONNECTED:
                    await asyncio.gather(*(self.check(stream) for stream in list(self._users)))
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)
        finally:
            self._task = None

    async def check(self, stream: str) -> None:
        """Ask `stream`'s info once and record whether a leader answered."""
        has_leader: bool | None
        asked_at = self.session.clocks.wall()  # a missed leader was missing from this moment on
        try:
            info = await asyncio.wait_for(self.session.jsm.stream_info(stream), CHECK_TIMEOUT)
        except nats.js.errors.NotFoundError:
            has_leader = None  # deleted: the feed or pool says that in its own way
        except NotConnectedError:
            return
        except (TimeoutError, nats.errors.Error) as error:
            # unanswered, or refused as "JetStream temporarily unavailable": no leader to answer
            if self.session.status.state is not ConnectionState.CONNECTED:
                return  # the connection went meanwhile: that outage is said elsewhere
            if isinstance(error, TimeoutError) and not await self._connection_answers():
                return  # a flooded connection, not a missing leader: the PING waits too
            has_leader = False
        else:
            cluster = info.cluster
            has_leader = cluster is None or bool(cluster.leader)
        if stream not in self._users:
            return
        if has_leader is None:
            self.record.forget(stream)
        else:
            self.record.observe(stream, has_leader, asked_at)

    async def _connection_answers(self) -> bool:
        """The server jstui is connected to answers a PING within `CHECK_TIMEOUT`: a stream info
        left unanswered then is the stream's (no leader), not the connection's (busy)."""
        try:
            await self.session.nc.flush(timeout=math.ceil(CHECK_TIMEOUT))
        except (TimeoutError, nats.errors.Error, NotConnectedError):
            return False
        return True


_HEALTH: dict[int, StreamHealth] = {}


def health_for(session: Session) -> StreamHealth:
    """The session's leader checker (made on first use, dropped when its last stream is
    unregistered; it runs only while streams are registered, so idle costs nothing)."""
    health = _HEALTH.get(id(session))
    if health is None or health.session is not session:
        health = _HEALTH[id(session)] = StreamHealth(session)
    return health
