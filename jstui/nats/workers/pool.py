"""The worker pool: a checked `PoolSpec` turned into running members, and the pool's figures.

`WorkerPool.start()` checks the spec, finds the stream and creates (or adopts) the consumer for
the JetStream modes, then starts ``count`` `Member` objects (member.py) that share one
`TaskLedger` (ledger.py). Members can be added and removed while messages flow; the counters of
removed ones are kept in `Totals`. The pane's timer calls `tick()` (counters -> rates), `totals()`,
`fairness()` (how evenly the members share the work) and `refresh_consumer()` (consumer info as
a `ConsumerSnapshot`). `stop()` stops every member and deletes a consumer jstui created.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

import nats.js.errors
from nats.js import api

from jstui.nats.errors import JetStreamUnavailableError, JstuiError, SpecErrors, translate
from jstui.nats.session import ConnectionState, Session
from jstui.nats.stream_health import health_for
from jstui.nats.workers.ledger import TaskLedger
from jstui.nats.workers.member import GONE_STATES, Member
from jstui.nats.workers.spec import MAX_MEMBERS, MemberSettings, PoolMode, PoolSpec

__all__ = ["ConsumerSnapshot", "Fairness", "PoolState", "Totals", "WorkerPool", "fairness"]

API_TIMEOUT = 3.0
ORPHAN_TIMEOUT = 3600.0
"""inactive_threshold of consumers jstui creates and deletes: a crashed jstui leaves no litter."""


# -- fairness -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fairness:
    """How evenly the work is spread: max/min of the counts (inf when one is 0), and the
    coefficient of variation (standard deviation / mean) of the shares."""

    members: int
    total: int
    ratio: float | None
    cv: float | None


def fairness(counts: Iterable[int]) -> Fairness:
    values = list(counts)
    total = sum(values)
    if len(values) < 2 or total == 0:
        return Fairness(len(values), total, None, None)
    low, high = min(values), max(values)
    ratio = math.inf if low == 0 else high / low
    mean = total / len(values)
    cv = statistics.pstdev(values) / mean
    return Fairness(len(values), total, ratio, cv)


# -- the pool -------------------------------------------------------------------------------------


class PoolState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


@dataclass(frozen=True)
class ConsumerSnapshot:
    """What consumer info says about the pool's consumer."""

    name: str
    num_pending: int
    num_ack_pending: int
    num_redelivered: int
    num_waiting: int
    delivered_stream_seq: int
    ack_floor_stream_seq: int
    ack_wait: float | None
    max_ack_pending: int | None
    push_bound: bool


@dataclass
class Totals:
    """Sums over every member that ever belonged to the pool (removed ones included)."""

    handled: int = 0
    acked: int = 0
    naked: int = 0
    no_acked: int = 0
    redelivered: int = 0
    abandoned: int = 0
    in_flight: int = 0
    dropped: int = 0

    @property
    def delivered(self) -> int:
        return self.handled + self.in_flight + self.abandoned

    def add(self, member: Member) -> None:
        """Add a member's lasting counters (not its in-flight count, which ends with it)."""
        self.handled += member.handled
        self.acked += member.acked
        self.naked += member.naked
        self.no_acked += member.no_acked
        self.redelivered += member.redelivered
        self.abandoned += member.abandoned
        self.dropped += member.dropped


class WorkerPool:
    """A pool of members on one subject. Build with a checked `PoolSpec`, then `await start()`."""

    def __init__(self, session: Session, spec: PoolSpec, *, name: str = "") -> None:
        self.session = session
        self.spec = spec
        self.name = name or spec.queue
        self.state = PoolState.STARTING
        self.members: list[Member] = []
        self.ledger = TaskLedger()
        self.stream = spec.stream
        self.consumer_name = spec.consumer_name if spec.mode.jetstream else ""
        self.created_consumer = False
        self.deliver_subject = ""
        self.deliver_group = ""
        self.max_ack_pending = spec.max_ack_pending
        self.ack_wait = spec.ack_wait
        self.consumer: ConsumerSnapshot | None = None
        self.consumer_error = ""
        self._retired = Totals()
        self._next_index = 1
        self.started_at = 0.0
        self._watched_stream = ""
        """The stream registered with the session's leader checker (stream_health.py)."""

    # -- start and stop ---------------------------------------------------------------------------

    async def start(self) -> WorkerPool:
        """Check, find the stream, create or bind the consumer, start the members.

        Raises `SpecErrors` (per field, e.g. a subject no stream captures), `ReadOnlyError`, or
        another `JstuiError`; on failure nothing is left behind.
        """
        problems = self.spec.validate()
        if problems:
            raise SpecErrors(problems)
        # Members take messages away from whoever else is in the queue group, and JetStream pools
        # create consumers (and consume from work queues): a change, so refused when read-only.
        self.session.check_writable("starting a worker pool")
        try:
            if self.spec.mode.jetstream:
                await self._prepare_consumer()
            for _ in range(self.spec.count):
                await self.add_member()
        except BaseException:
            await self.stop()
            raise
        self.state = PoolState.RUNNING
        self.started_at = time.monotonic()
        self.session.add_user(self)
        if self.spec.mode.jetstream and self.stream and not self._watched_stream:
            self._watched_stream = self.stream
            health_for(self.session).register(self.stream)
        return self

    async def leave_connection(self) -> None:
        """The session switches servers (a `ConnectionUser`): stop the members here and delete
        the consumer jstui created; their counts stay in the totals."""
        await self._halt()
        for member in self.members:
            self._retire(member)
        self.members.clear()

    async def join_connection(self) -> None:
        """Start again on the new connection from the spec; raises when it cannot (a stream that
        is not there), leaving the pool stopped. The ledger starts over: sequences are the new
        server's."""
        self.state, self.stream, self.consumer = PoolState.STARTING, self.spec.stream, None
        self.consumer_error = ""
        self.ledger.reset()
        await self.start()

    async def _prepare_consumer(self) -> None:
        spec = self.spec
        if not self.session.status.jetstream:
            raise JetStreamUnavailableError("JetStream is not enabled on this server or account")
        jsm = self.session.jsm
        if not self.stream:
            try:
                self.stream = await asyncio.wait_for(
                    jsm.find_stream_name_by_subject(spec.subject), API_TIMEOUT
                )
            except nats.js.errors.NotFoundError:
                raise SpecErrors(
                    {"subject": f"no stream captures {spec.subject!r}: create one first"}
                ) from None
            except Exception as exc:
                raise translate(exc) from exc
        try:
            info = await asyncio.wait_for(
                jsm.consumer_info(self.stream, self.consumer_name), API_TIMEOUT
            )
        except nats.js.errors.NotFoundError as exc:
            if exc.err_code == 10059:  # stream not found
                raise SpecErrors({"stream": f"no stream named {self.stream!r}"}) from None
            info = None
        except Exception as exc:
            raise translate(exc) from exc
        if info is not None:
            self._adopt(info)
            return
        config = api.ConsumerConfig(
            durable_name=self.consumer_name,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=spec.ack_wait,
            max_ack_pending=spec.max_ack_pending,
            filter_subject=spec.subject,
            deliver_policy=api.DeliverPolicy.ALL,
            description="jstui worker pool",
        )
        if not spec.keep_consumer:
            config.inactive_threshold = ORPHAN_TIMEOUT
        if spec.mode is PoolMode.GROUP:
            config.deliver_subject = self.session.nc.new_inbox()
            config.deliver_group = spec.queue
        else:
            config.name = self.consumer_name
        try:
            info = await asyncio.wait_for(jsm.add_consumer(self.stream, config=config), API_TIMEOUT)
        except nats.js.errors.APIError as exc:
            raise self._consumer_error(exc) from exc
        except Exception as exc:
            raise translate(exc) from exc
        self.created_consumer = True
        self._adopt(info)

    def _consumer_error(self, exc: nats.js.errors.APIError) -> JstuiError:
        description = exc.description or ""
        if (
            exc.err_code == 10100
            or "multiple non-filtered" in description
            or "overlap" in description
        ):
            return SpecErrors(
                {
                    "subject": "this work-queue stream already has a consumer for these subjects "
                    f"({description})"
                }
            )
        return translate(exc)

    def _adopt(self, info: api.ConsumerInfo) -> None:
        """Use an existing (or just created) consumer, if it suits the mode."""
        config = info.config
        mode = self.spec.mode
        if mode is PoolMode.GROUP:
            if not config.deliver_subject:
                raise SpecErrors(
                    {"durable": f"consumer {info.name!r} is a pull consumer: use the pull mode"}
                )
            if not config.deliver_group:
                raise SpecErrors(
                    {"durable": f"consumer {info.name!r} has no deliver group: pick another name"}
                )
            self.deliver_subject = config.deliver_subject
            self.deliver_group = config.deliver_group
        elif config.deliver_subject:
            raise SpecErrors(
                {"durable": f"consumer {info.name!r} is a push consumer: use the group mode"}
            )
        self.consumer_name = info.name
        if config.max_ack_pending:
            self.max_ack_pending = config.max_ack_pending
        if config.ack_wait:
            self.ack_wait = float(config.ack_wait)
        self.consumer = _snapshot(info)

    async def stop(self) -> None:
        """Stop every member at once and delete the consumer jstui created (unless it is kept)."""
        self.session.remove_user(self)
        await self._halt()

    async def _halt(self) -> None:
        watched, self._watched_stream = self._watched_stream, ""
        if watched:
            health_for(self.session).unregister(watched)
        if self.state is PoolState.STOPPED:
            return
        self.state = PoolState.STOPPING
        for member in list(self.members):
            with contextlib.suppress(Exception):
                await member.stop(graceful=False)
        if self.created_consumer and not self.spec.keep_consumer:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self.session.jsm.delete_consumer(self.stream, self.consumer_name), API_TIMEOUT
                )
            self.created_consumer = False
        self.state = PoolState.STOPPED

    # -- members ----------------------------------------------------------------------------------

    async def add_member(self, settings: MemberSettings | None = None) -> Member:
        if len(self.members) >= MAX_MEMBERS:
            raise JstuiError(f"a pool has at most {MAX_MEMBERS} members")
        member = Member(self, self._next_index, settings or self.spec.member)
        self._next_index += 1
        self.members.append(member)
        try:
            await member.start()
        except BaseException:
            self.members.remove(member)
            raise
        return member

    async def remove_member(self, member: Member, *, graceful: bool = True) -> None:
        """Take the member out: it finishes what it holds first (unless not `graceful`)."""
        await member.stop(graceful=graceful)
        if member in self.members:
            self.members.remove(member)
            self._retire(member)

    def _retire(self, member: Member) -> None:
        self._retired.add(member)

    def member(self, index: int) -> Member | None:
        return next((m for m in self.members if m.index == index), None)

    # -- figures ----------------------------------------------------------------------------------

    def tick(self) -> None:
        """Turn the counters into per-second rates; call a few times a second (the pane does)."""
        for member in self.members:
            member._tick()

    def totals(self) -> Totals:
        t = replace(self._retired)
        for m in self.members:
            t.add(m)
            t.in_flight += m.in_flight
        return t

    def fairness(self, extra: Iterable[int] = ()) -> Fairness:
        """Fairness of the handled counts of the members still in the game (killed ones are out),
        plus `extra` counts (e.g. the deliveries of external members)."""
        counts = [m.handled for m in self.members if m.state not in GONE_STATES]
        return fairness(counts + list(extra))

    @property
    def rate(self) -> float:
        return sum(m.rate for m in self.members)

    @property
    def leaderless_since(self) -> float | None:
        """Since when (wall clock) the stream of this running JetStream pool has had no leader
        while the connection is up (stream_health.py); None while it has one."""
        if not self._watched_stream or self.session.status.state is not ConnectionState.CONNECTED:
            return None
        return health_for(self.session).leaderless_since(self._watched_stream)

    async def refresh_consumer(self) -> ConsumerSnapshot | None:
        """Fetch consumer info (JetStream modes); errors are kept in `consumer_error`."""
        if not self.spec.mode.jetstream or self.state is PoolState.STOPPED:
            return None
        try:
            info = await asyncio.wait_for(
                self.session.jsm.consumer_info(self.stream, self.consumer_name), API_TIMEOUT
            )
        except Exception as exc:
            self.consumer_error = str(translate(exc))
            return self.consumer
        self.consumer_error = ""
        self.consumer = _snapshot(info)
        return self.consumer

    def queue_identity(self) -> tuple[str, str] | None:
        """(subject, queue group) the server knows the members by, for spotting external members
        in the monitoring endpoint; None for pull pools (pull clients are not queue members)."""
        if self.spec.mode is PoolMode.CORE:
            return self.spec.subject, self.spec.queue
        if self.spec.mode is PoolMode.GROUP and self.deliver_subject:
            return self.deliver_subject, self.deliver_group
        return None


def _snapshot(info: api.ConsumerInfo) -> ConsumerSnapshot:
    return ConsumerSnapshot(
        name=info.name,
        num_pending=info.num_pending or 0,
        num_ack_pending=info.num_ack_pending or 0,
        num_redelivered=info.num_redelivered or 0,
        num_waiting=info.num_waiting or 0,
        delivered_stream_seq=(info.delivered.stream_seq or 0) if info.delivered else 0,
        ack_floor_stream_seq=(info.ack_floor.stream_seq or 0) if info.ack_floor else 0,
        ack_wait=info.config.ack_wait,
        max_ack_pending=info.config.max_ack_pending,
        push_bound=bool(info.push_bound),
    )
