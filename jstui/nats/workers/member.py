"""One worker of a pool: its message paths, its counters and its life cycle.

A `Member` subscribes on the shared connection the way its pool's mode says (core queue
subscription, deliver-group subscription, or a pull subscription with a fetch loop), processes
one message at a time after its `MemberSettings` delay, and acks, naks or drops it. The NATS
callbacks only bump plain int counters and mark the pool's `TaskLedger` (ledger.py); the pool's
`tick()` turns ``handled`` into the rates of the member's `RateMeter`. The member reads its pool
through `PoolView` (the pool in pool.py creates the members, so this module does not import it).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from enum import StrEnum
from typing import Protocol

import nats.errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.client import JetStreamContext

from jstui.nats.errors import JstuiError, SpecErrors, translate
from jstui.nats.session import Session
from jstui.nats.stats import RateMeter
from jstui.nats.workers.ledger import TaskLedger
from jstui.nats.workers.spec import FailureKind, MemberSettings, PoolMode, PoolSpec

__all__ = ["GONE_STATES", "Member", "MemberState", "PoolView"]

FETCH_EXPIRES = 1.0
"""Seconds a pull member's fetch waits for messages before asking again."""
CORE_PENDING_MSGS = 65_536
"""Per-member pending limit of core members (explicit, so a flood shows drops instead of memory)."""
PENDING_BYTES = 64 * 1024 * 1024
HISTORY_SPAN = 120


class PoolView(Protocol):
    """What a member reads from (and asks of) its pool: `WorkerPool` in pool.py is one.

    The consumer fields are those of the JetStream modes, set by the pool before members start.
    """

    session: Session
    spec: PoolSpec
    ledger: TaskLedger
    stream: str
    consumer_name: str
    deliver_subject: str
    deliver_group: str
    max_ack_pending: int
    ack_wait: float

    async def remove_member(self, member: Member, *, graceful: bool = True) -> None: ...


class MemberState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSING = "pausing"
    PAUSED = "paused"
    STOPPING = "stopping"
    KILLED = "killed"
    STOPPED = "stopped"


_ACTIVE = frozenset({MemberState.STARTING, MemberState.RUNNING, MemberState.PAUSING})
GONE_STATES = frozenset({MemberState.KILLED, MemberState.STOPPED})


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Member:
    """One worker of a pool. Counters are plain ints bumped by the message path; read them freely.

    `handled` counts messages whose processing finished (acked, nak'd, failed or dropped without an
    ack); `in_flight` those received and not finished yet (for push and core members including the
    ones queued in the client).
    """

    def __init__(self, pool: PoolView, index: int, settings: MemberSettings) -> None:
        self.pool = pool
        self.index = index
        self.name = f"w{index}"
        self._killed = False
        self._fast = False
        self._settings = settings
        self.state = MemberState.STARTING
        self.handled = 0
        self.acked = 0
        """JetStream: acks sent. Core: messages processed without an injected failure."""
        self.naked = 0
        """JetStream: naks sent. Core: injected failures."""
        self.no_acked = 0
        """Injected failures left without any answer (redelivered after the ack wait)."""
        self.redelivered = 0
        """Messages received that the server had delivered before (JetStream num_delivered > 1)."""
        self.abandoned = 0
        """Messages held when the member was killed: lost (core), redelivered later (JetStream)."""
        self.errors = 0
        self.last_error = ""
        self.busy = False
        self.meter = RateMeter(span=HISTORY_SPAN)
        self._metered = 0
        self._update_fast()
        self._rng = random.Random()
        self._sub: Subscription | None = None
        self._psub: JetStreamContext.PullSubscription | None = None
        self._sids: list[int] = []
        self._held = 0
        self._loop_task: asyncio.Task[None] | None = None
        self._drain_task: asyncio.Task[None] | None = None
        self._generation = 0
        self._resume = asyncio.Event()
        self._resume.set()
        self._parked = asyncio.Event()
        self._want_running = True
        self._sleeper: asyncio.Future[None] | None = None
        self._stopped = asyncio.Event()

    # -- figures ----------------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        if self.state in (MemberState.KILLED, MemberState.STOPPED):
            return 0
        if self.pool.spec.mode is PoolMode.PULL:
            return self._held
        sub = self._sub
        queued = sub.pending_msgs if sub is not None else 0
        return queued + (1 if self.busy else 0)

    @property
    def dropped(self) -> int:
        """Messages the client dropped for this member because its pending limit was reached."""
        return sum(self.pool.session.dropped(sid) for sid in self._sids)

    @property
    def rate(self) -> float:
        return self.meter.rate(window=2.0)

    def history(self, seconds: int) -> list[float]:
        return self.meter.history(seconds)

    @property
    def active(self) -> bool:
        return self.state in _ACTIVE

    def _tick(self) -> None:
        delta = self.handled - self._metered
        self._metered = self.handled
        self.meter.add(delta)

    def seed(self, value: int) -> None:
        """Make the failure draws and random delays repeatable (tests)."""
        self._rng.seed(value)

    # -- message paths ----------------------------------------------------------------------------
    # These run inside nats-py's subscription task (or the pull loop): counters only, and the
    # configured processing delay, which suspends this member alone.

    async def _sleep(self, seconds: float) -> None:
        # A plain asyncio.sleep that `kill()` can cut short without cancelling nats-py's task
        # (cancelling it in the middle of a drain would leave the drain waiting forever).
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        handle = loop.call_later(seconds, _wake, future)
        self._sleeper = future
        try:
            await future
        finally:
            handle.cancel()
            self._sleeper = None

    async def _on_core(self, msg: Msg) -> None:
        if self._fast:  # no delay, no failures, not killed: count and return (the hot path)
            self.handled += 1
            self.acked += 1
            return
        if self._killed:
            self.abandoned += 1
            return
        settings = self.settings
        self.busy = True
        try:
            if settings.delay.high_ms > 0:
                await self._sleep(settings.delay.pick(self._rng))
                if self._killed:
                    self.abandoned += 1
                    return
            if settings.fail_pct > 0 and self._rng.random() * 100.0 < settings.fail_pct:
                self.naked += 1
            else:
                self.acked += 1
            self.handled += 1
        finally:
            self.busy = False

    async def _on_push(self, msg: Msg) -> None:
        if self._killed:
            self.abandoned += 1
            return
        seq = self._received(msg)
        if seq is not None:
            await self._work(msg, seq)

    def _received(self, msg: Msg) -> int | None:
        """Note a JetStream delivery in the counters and the ledger; its stream sequence."""
        try:
            meta = msg.metadata
        except nats.errors.Error:
            self.errors += 1
            self.last_error = "a message without JetStream metadata reached the member"
            return None
        seq = meta.sequence.stream
        delivered = meta.num_delivered
        if delivered > 1:
            self.redelivered += 1
        self.pool.ledger.delivered(seq, delivered)
        return seq

    async def _work(self, msg: Msg, seq: int) -> None:
        self.busy = True
        try:
            settings = self.settings
            if settings.delay.high_ms > 0:
                await self._sleep(settings.delay.pick(self._rng))
                if self._killed:
                    self.abandoned += 1
                    return
            ledger = self.pool.ledger
            try:
                if settings.fail_pct > 0 and self._rng.random() * 100.0 < settings.fail_pct:
                    if settings.fail_kind is FailureKind.NAK:
                        await msg.nak()
                        self.naked += 1
                        ledger.naked(seq)
                    else:
                        self.no_acked += 1
                else:
                    await msg.ack()
                    self.acked += 1
                    ledger.acked(seq)
            except nats.errors.Error as exc:
                self.errors += 1
                self.last_error = str(translate(exc))
            self.handled += 1
        finally:
            self.busy = False

    async def _pull_loop(self) -> None:
        psub = self._psub
        assert psub is not None
        batch = self.pool.spec.batch
        backoff = 0.1
        while True:
            if not self._want_running:
                # paused or leaving: park between batches, never in the middle of one
                if self.state is MemberState.PAUSING:
                    self.state = MemberState.PAUSED
                self._resume.clear()
                self._parked.set()
                await self._resume.wait()
                self._parked.clear()
                continue
            try:
                msgs = await psub.fetch(batch, timeout=FETCH_EXPIRES)
            except TimeoutError:  # nats.errors.TimeoutError too: nothing to do right now
                continue
            except (nats.errors.Error, OSError) as exc:
                # reconnecting, consumer leader moving, consumer deleted: never end the loop
                self.errors += 1
                self.last_error = str(translate(exc))
                await asyncio.sleep(backoff)
                backoff = min(2.0, backoff * 2)
                continue
            backoff = 0.1
            self._held = len(msgs)
            # the whole batch is in this member's hands now (a kill abandons all of it)
            seqs = [self._received(msg) for msg in msgs]
            for msg, seq in zip(msgs, seqs, strict=True):
                if seq is not None:
                    await self._work(msg, seq)
                self._held -= 1

    # -- life cycle -------------------------------------------------------------------------------
    # States: starting -> running <-> pausing -> paused; running/paused -> stopping -> stopped;
    # any -> killed (-> starting again on resume). Core and push members pause and leave by
    # draining their subscription (unsubscribe, finish what is queued); pull members by parking
    # their fetch loop between batches.

    async def _subscribe(self) -> None:
        pool = self.pool
        nc = pool.session.nc
        mode = pool.spec.mode
        if mode is PoolMode.CORE:
            sub = await nc.subscribe(
                pool.spec.subject,
                queue=pool.spec.queue,
                cb=self._on_core,
                pending_msgs_limit=CORE_PENDING_MSGS,
                pending_bytes_limit=PENDING_BYTES,
            )
            self._sub = sub
            self._sids.append(sub._id)  # the sid slow-consumer errors name
        elif mode is PoolMode.GROUP:
            assert pool.deliver_subject and pool.deliver_group
            sub = await nc.subscribe(
                pool.deliver_subject,
                queue=pool.deliver_group,
                cb=self._on_push,
                # the server never has more than max_ack_pending unacked messages out, so a
                # limit above it can never drop (nats-notes section 8)
                pending_msgs_limit=pool.max_ack_pending + 100,
                pending_bytes_limit=PENDING_BYTES,
            )
            self._sub = sub
            self._sids.append(sub._id)
        else:
            psub = await pool.session.js.pull_subscribe_bind(
                pool.consumer_name,
                stream=pool.stream,
                pending_msgs_limit=max(pool.spec.batch * 4, 1000),
                pending_bytes_limit=PENDING_BYTES,
            )
            self._psub = psub
            self._sids.append(psub._sub._id)
            self._loop_task = asyncio.create_task(self._pull_loop(), name=f"jstui {self.name}")

    async def start(self) -> None:
        self._generation += 1
        self._killed = False
        self._update_fast()
        self._want_running = True
        self._stopped.clear()
        self._parked.clear()
        self._resume.set()
        self.state = MemberState.STARTING
        try:
            await self._subscribe()
        except Exception as exc:
            self.state = MemberState.STOPPED
            raise translate(exc) from exc
        self.state = MemberState.RUNNING

    def _draining(self) -> bool:
        return self._drain_task is not None and not self._drain_task.done()

    def _start_drain(self) -> None:
        if not self._draining():
            self._drain_task = asyncio.create_task(self._drain_then_park(self._generation))

    async def _drain_then_park(self, generation: int) -> None:
        sub = self._sub
        try:
            if sub is not None:
                await sub.drain()  # unsubscribe, then let the queued messages finish
        except (nats.errors.Error, OSError):
            pass
        finally:
            if self._sub is sub:
                self._sub = None
        if generation != self._generation:
            return  # killed and started again meanwhile: that is another life
        if self._killed or self.state is MemberState.STOPPING:
            self._stopped.set()
            return
        self.state = MemberState.PAUSED
        if self._want_running:  # resumed while it was still pausing
            try:
                await self.resume()
            except JstuiError as error:  # e.g. the connection went meanwhile
                self.errors += 1
                self.last_error = str(error)

    async def pause(self) -> None:
        """Take no new messages; finish (and acknowledge) those already held."""
        if self.state is not MemberState.RUNNING:
            return
        self._want_running = False
        self.state = MemberState.PAUSING
        if self.pool.spec.mode is not PoolMode.PULL:
            self._start_drain()

    async def resume(self) -> None:
        """Take messages again (a killed member is started afresh, keeping its counters)."""
        if self.state is MemberState.KILLED:
            await self.start()
            return
        if self.state not in (MemberState.PAUSING, MemberState.PAUSED):
            return
        self._want_running = True
        if self.pool.spec.mode is PoolMode.PULL:
            self.state = MemberState.RUNNING
            self._resume.set()
            return
        if self.state is MemberState.PAUSED:
            await self.start()
        # pausing: the drain resumes the member when it is done

    async def toggle_pause(self) -> None:
        if self.state in (MemberState.RUNNING, MemberState.STARTING):
            await self.pause()
        else:
            await self.resume()

    async def kill(self) -> int:
        """Stop at once without acknowledging anything held; returns how many were held."""
        if self.state in (MemberState.KILLED, MemberState.STOPPED):
            return 0
        held = self.in_flight
        self._killed = True
        self._update_fast()
        self._want_running = False
        if self._sleeper is not None:
            _wake(self._sleeper)
        self.state = MemberState.KILLED
        if self.pool.spec.mode is PoolMode.PULL:
            task, self._loop_task = self._loop_task, None
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.abandoned += self._held
            self._held = 0
            await self._unsubscribe_pull()
            self._stopped.set()
            self._parked.set()  # a graceful stop waiting for the loop to park may go on
            return held
        if self._draining():
            # the killed flag makes the rest of the queue drop at once, so the drain ends by
            # itself in a moment (cancelling nats-py's task mid-drain would leave it hanging)
            return held
        sub, self._sub = self._sub, None
        if sub is not None:
            self.abandoned += sub.pending_msgs + (1 if self.busy else 0)
            with contextlib.suppress(nats.errors.Error, OSError):
                await sub.unsubscribe()
        self._stopped.set()
        return held

    async def _unsubscribe_pull(self) -> None:
        psub, self._psub = self._psub, None
        if psub is not None:
            with contextlib.suppress(nats.errors.Error, OSError):
                await psub.unsubscribe()

    async def _end_pull_loop(self) -> None:
        task, self._loop_task = self._loop_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._unsubscribe_pull()

    async def stop(self, graceful: bool = True) -> None:
        """Leave the pool: gracefully (finish what is held) or at once (like `kill`)."""
        if self.state in (MemberState.KILLED, MemberState.STOPPED):
            self.state = MemberState.STOPPED
            return
        if not graceful:
            await self.kill()
            self.state = MemberState.STOPPED
            return
        self._want_running = False
        if self.pool.spec.mode is PoolMode.PULL:
            if self.state is not MemberState.PAUSED:
                self.state = MemberState.STOPPING
                await self._parked.wait()  # after the batch in hand
            await self._end_pull_loop()
            self.state = MemberState.STOPPED
            return
        if self.state is MemberState.PAUSED and not self._draining():
            self.state = MemberState.STOPPED
            return
        self.state = MemberState.STOPPING
        self._start_drain()
        await self._stopped.wait()
        self.state = MemberState.STOPPED

    @property
    def settings(self) -> MemberSettings:
        return self._settings

    @settings.setter
    def settings(self, settings: MemberSettings) -> None:
        self._settings = settings
        self._update_fast()

    def set_settings(self, settings: MemberSettings) -> None:
        problems = settings.validate()
        if problems:
            raise SpecErrors(problems)
        self.settings = settings

    def _update_fast(self) -> None:
        settings = self._settings
        self._fast = settings.delay.zero and settings.fail_pct <= 0 and not self._killed
