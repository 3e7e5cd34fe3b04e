"""Worker pools: N members sharing the work of one subject, and everything needed to watch them.

Three kinds of pool, all on the shared connection of `Session`:

- ``core``: N core queue subscriptions (subject, queue group). The server picks one member at
  random per message; nothing is acknowledged, a member that dies loses what it held.
- ``group``: a durable *push* consumer with a deliver group, and N queue subscriptions on its
  deliver subject: the pattern of ``js.subscribe(subject, queue="workers")`` in nats-py, which
  also uses the queue name as the durable name, so nats-py programs can join the same pool.
  Explicit acks.
- ``pull``: N members fetching batches from one durable pull consumer (any stream, including a
  work-queue stream).

Each member processes one message at a time, after an optional delay (fixed or random in a
range), and fails a chosen share of them (nak, or no ack at all so the server redelivers after the
ack wait). Members can be added, removed, paused, resumed and killed while messages flow. A killed
member stops at once without acknowledging what it holds; a JetStream server then redelivers
those messages to the others after the ack wait, and `TaskLedger` shows each redelivery.

NATS callbacks only bump counters (and the ledger); readers (the pane's timer) call
`WorkerPool.tick()` a few times a second to turn the counters into rates. Nothing here imports
Textual. The ``--workers`` start-up option is parsed by `parse_workers_option` (`WORKERS_SYNTAX`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import re
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import api
from nats.js.client import JetStreamContext

from jstui.format.units import parse_duration
from jstui.nats.errors import (
    JetStreamUnavailableError,
    JstuiError,
    SpecErrors,
    translate,
)
from jstui.nats.names import stream_name_problem, subject_problem
from jstui.nats.publish import BulkPublish, PublishMode, PublishSpec
from jstui.nats.session import Session
from jstui.nats.stats import RateMeter

__all__ = [
    "DEFAULT_COUNT",
    "DEFAULT_QUEUE",
    "MAX_MEMBERS",
    "WORKERS_SYNTAX",
    "ConsumerSnapshot",
    "Delay",
    "FailureKind",
    "Fairness",
    "LedgerReport",
    "LoadGenerator",
    "LoadSpec",
    "LoadState",
    "Member",
    "MemberSettings",
    "MemberState",
    "PoolMode",
    "PoolSpec",
    "PoolState",
    "TaskLedger",
    "WorkerPool",
    "default_task_subject",
    "fairness",
    "parse_delay",
    "parse_failure_rate",
    "parse_workers_option",
]

MAX_MEMBERS = 64
DEFAULT_QUEUE = "workers"
DEFAULT_COUNT = 3
DEFAULT_ACK_WAIT = 30.0
DEFAULT_MAX_ACK_PENDING = 1000
DEFAULT_BATCH = 10
MAX_BATCH = 1000
MAX_DELAY_MS = 600_000.0
MAX_ACK_PENDING_LIMIT = 1_000_000
FETCH_EXPIRES = 1.0
"""Seconds a pull member's fetch waits for messages before asking again."""
API_TIMEOUT = 3.0
CORE_PENDING_MSGS = 65_536
"""Per-member pending limit of core members (explicit, so a flood shows drops instead of memory)."""
PENDING_BYTES = 64 * 1024 * 1024
ORPHAN_TIMEOUT = 3600.0
"""inactive_threshold of consumers jstui creates and deletes: a crashed jstui leaves no litter."""
HISTORY_SPAN = 120

WORKERS_SYNTAX = (
    "SUBJECT[,option...]: mode=core|group|pull, queue=NAME, count=N (default 3), durable=NAME, "
    "stream=NAME, ack-wait=DURATION, max-ack-pending=N, batch=N, delay=MS|MIN-MAX, "
    "fail=PCT[:nak|noack]."
)


class PoolMode(StrEnum):
    CORE = "core"
    GROUP = "group"
    PULL = "pull"

    @property
    def label(self) -> str:
        return _MODE_LABELS[self]

    @property
    def jetstream(self) -> bool:
        return self is not PoolMode.CORE


_MODE_LABELS = {
    PoolMode.CORE: "core queue group",
    PoolMode.GROUP: "JetStream deliver group",
    PoolMode.PULL: "JetStream pull",
}

_MODE_ALIASES = {
    "core": PoolMode.CORE,
    "queue": PoolMode.CORE,
    "group": PoolMode.GROUP,
    "push": PoolMode.GROUP,
    "deliver-group": PoolMode.GROUP,
    "js": PoolMode.GROUP,
    "pull": PoolMode.PULL,
}


class FailureKind(StrEnum):
    NAK = "nak"
    """Negative acknowledgement: the server redelivers at once (to any member)."""
    NO_ACK = "noack"
    """No answer at all: the server redelivers after the ack wait."""


# -- member settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delay:
    """Processing time per message in ms: fixed (low == high) or uniform in [low, high]."""

    low_ms: float = 0.0
    high_ms: float = 0.0

    def pick(self, rng: random.Random) -> float:
        """A processing time in seconds."""
        if self.high_ms <= self.low_ms:
            return self.low_ms / 1000.0
        return rng.uniform(self.low_ms, self.high_ms) / 1000.0

    @property
    def zero(self) -> bool:
        return self.high_ms <= 0

    def __str__(self) -> str:
        if self.zero:
            return "0"
        if self.low_ms == self.high_ms:
            return f"{_num(self.low_ms)}ms"
        return f"{_num(self.low_ms)}-{_num(self.high_ms)}ms"


def _num(value: float) -> str:
    return f"{value:g}"


_DELAY_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?\s*", re.IGNORECASE)


def _delay_ms(text: str) -> float:
    match = _DELAY_PART.fullmatch(text)
    if match is None:
        raise ValueError
    value = float(match.group(1))
    return value * 1000.0 if (match.group(2) or "").lower() == "s" else value


def parse_delay(text: str) -> Delay:
    """``""``/``0`` -> none; ``50`` or ``50ms`` -> fixed; ``10-100`` -> random in a range; ``1.5s``.

    Raises ValueError with a message for the form.
    """
    text = text.strip()
    if not text:
        return Delay()
    if text.startswith("-"):
        raise ValueError("a delay cannot be negative")
    low_text, sep, high_text = text.partition("-")
    try:
        low = _delay_ms(low_text)
        high = _delay_ms(high_text) if sep else low
    except ValueError:
        raise ValueError("use milliseconds like 50, or a range like 10-100") from None
    if sep and high_text.strip().startswith("-"):
        raise ValueError("a delay cannot be negative")
    if high < low:
        raise ValueError("the range must go from low to high, e.g. 10-100")
    if high > MAX_DELAY_MS:
        raise ValueError(f"at most {MAX_DELAY_MS / 1000:g} s")
    return Delay(low, high)


def parse_failure_rate(text: str) -> float:
    """``10`` or ``10%`` -> 10.0; must be within 0 to 100. Raises ValueError with a message."""
    text = text.strip().removesuffix("%").strip()
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise ValueError("a percentage from 0 to 100, e.g. 10") from None
    if not math.isfinite(value) or value < 0 or value > 100:
        raise ValueError("must be between 0 and 100 %")
    return value


@dataclass(frozen=True)
class MemberSettings:
    """How one member behaves: processing time and failure injection."""

    delay: Delay = field(default_factory=Delay)
    fail_pct: float = 0.0
    fail_kind: FailureKind = FailureKind.NAK

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if self.delay.low_ms < 0 or self.delay.high_ms < 0:
            errors["delay"] = "a delay cannot be negative"
        elif self.delay.high_ms < self.delay.low_ms:
            errors["delay"] = "the range must go from low to high"
        elif self.delay.high_ms > MAX_DELAY_MS:
            errors["delay"] = f"at most {MAX_DELAY_MS / 1000:g} s"
        if not math.isfinite(self.fail_pct) or not 0 <= self.fail_pct <= 100:
            errors["fail_pct"] = "must be between 0 and 100 %"
        return errors

    def describe(self) -> str:
        parts = [f"delay {self.delay}"]
        if self.fail_pct:
            parts.append(f"fails {_num(self.fail_pct)}% ({self.fail_kind.value})")
        return ", ".join(parts)


# -- pool spec ------------------------------------------------------------------------------------


def _queue_problem(name: str, mode: PoolMode) -> str | None:
    if not name:
        return "a queue group needs a name"
    if mode.jetstream:
        # the deliver group doubles as the consumer name when no durable is given
        return _name_problem(name)
    if any(c.isspace() for c in name):
        return "may not contain whitespace"
    if any(not c.isprintable() for c in name):
        return "may not contain control characters"
    return None


def _name_problem(name: str) -> str | None:
    problem = stream_name_problem(name)
    if problem == "a stream needs a name":
        return "needs a name"
    return problem


@dataclass(frozen=True)
class PoolSpec:
    """What the pool dialog and ``--workers`` describe. `validate()` before `WorkerPool.start()`."""

    subject: str
    mode: PoolMode = PoolMode.CORE
    queue: str = DEFAULT_QUEUE
    count: int = DEFAULT_COUNT
    durable: str = ""
    """A durable name chosen by the user: the consumer is kept when the pool stops."""
    stream: str = ""
    """The stream; found from the subject when empty."""
    ack_wait: float = DEFAULT_ACK_WAIT
    max_ack_pending: int = DEFAULT_MAX_ACK_PENDING
    batch: int = DEFAULT_BATCH
    member: MemberSettings = field(default_factory=MemberSettings)

    @property
    def consumer_name(self) -> str:
        """The durable consumer (JetStream modes): the chosen durable, else the queue name (as
        nats-py's ``js.subscribe(subject, queue=...)`` does)."""
        return self.durable or self.queue

    @property
    def keep_consumer(self) -> bool:
        return bool(self.durable)

    def validate(self) -> dict[str, str]:
        """Problems keyed by field: subject, queue, count, durable, stream, ack_wait,
        max_ack_pending, batch, delay, fail_pct. Empty when the spec can be started."""
        errors: dict[str, str] = {}
        problem = subject_problem(self.subject)
        if problem:
            errors["subject"] = problem
        problem = _queue_problem(self.queue, self.mode)
        if problem:
            errors["queue"] = problem
        if not 1 <= self.count <= MAX_MEMBERS:
            errors["count"] = f"between 1 and {MAX_MEMBERS} members"
        if self.mode.jetstream:
            if self.durable and (problem := _name_problem(self.durable)):
                errors["durable"] = problem
            if self.stream and (problem := _name_problem(self.stream)):
                errors["stream"] = problem
            if not math.isfinite(self.ack_wait) or self.ack_wait < 0.1:
                errors["ack_wait"] = "at least 100ms, e.g. 2s or 30s"
            if not 1 <= self.max_ack_pending <= MAX_ACK_PENDING_LIMIT:
                errors["max_ack_pending"] = f"between 1 and {MAX_ACK_PENDING_LIMIT:,}"
        if self.mode is PoolMode.PULL and not 1 <= self.batch <= MAX_BATCH:
            errors["batch"] = f"between 1 and {MAX_BATCH}"
        errors.update(self.member.validate())
        return errors

    def describe(self) -> str:
        return f"{self.mode.label} {self.queue!r} on {self.subject}"


def _split_options(text: str) -> list[str]:
    return [part.strip() for part in text.split(",")]


def parse_workers_option(text: str) -> PoolSpec:
    """Parse one ``--workers`` value (see `WORKERS_SYNTAX`); raises `SpecErrors` when it is wrong.

    Examples: ``orders.*`` (core queue group ``workers`` of 3), ``orders.*,mode=pull,count=4``,
    ``my.subject.*,mode=group,queue=workers,count=2,ack-wait=2s``.
    """
    parts = _split_options(text)
    subject = parts[0] if parts else ""
    values: dict[str, Any] = {"subject": subject}
    member: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for option in parts[1:]:
        if not option:
            continue
        key, sep, value = option.partition("=")
        key = key.strip().lower().replace("_", "-")
        value = value.strip()
        if not sep:
            errors[key or "option"] = f"{option!r} should be KEY=VALUE"
            continue
        try:
            if key == "mode":
                mode = _MODE_ALIASES.get(value.lower())
                if mode is None:
                    raise ValueError("one of core, group, pull")
                values["mode"] = mode
            elif key in ("queue", "durable", "stream"):
                values[key] = value
            elif key in ("count", "max-ack-pending", "batch"):
                values[key.replace("-", "_")] = _whole(value)
            elif key == "ack-wait":
                seconds = parse_duration(value)
                if seconds is None:
                    raise ValueError("a duration like 2s or 30s")
                values["ack_wait"] = seconds
            elif key == "delay":
                member["delay"] = parse_delay(value)
            elif key == "fail":
                pct, _, kind = value.partition(":")
                member["fail_pct"] = parse_failure_rate(pct)
                if kind:
                    member["fail_kind"] = FailureKind(kind.strip().lower().replace("-", ""))
            else:
                raise ValueError("unknown option")
        except ValueError as exc:
            message = str(exc)
            if "is not a valid FailureKind" in message:
                message = "the kind is nak or noack, e.g. fail=10:noack"
            errors[key] = message
    if errors:
        raise SpecErrors(errors)
    spec = PoolSpec(**values, member=MemberSettings(**member))
    problems = spec.validate()
    if problems:
        raise SpecErrors(problems)
    return spec


def _whole(text: str) -> int:
    try:
        return int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise ValueError("a whole number") from None


# -- members --------------------------------------------------------------------------------------


class MemberState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSING = "pausing"
    PAUSED = "paused"
    STOPPING = "stopping"
    KILLED = "killed"
    STOPPED = "stopped"


_ACTIVE = frozenset({MemberState.STARTING, MemberState.RUNNING, MemberState.PAUSING})
_GONE = frozenset({MemberState.KILLED, MemberState.STOPPED})


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Member:
    """One worker of a pool. Counters are plain ints bumped by the message path; read them freely.

    `handled` counts messages whose processing finished (acked, nak'd, failed or dropped without an
    ack); `in_flight` those received and not finished yet (for push and core members including the
    ones queued in the client).
    """

    def __init__(self, pool: WorkerPool, index: int, settings: MemberSettings) -> None:
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


# -- the exactly-once ledger ----------------------------------------------------------------------

_DELIVERIES = 0b0000_0111
_ACKS = 0b0001_1000
_PUBLISHED = 0b0010_0000
_NAKED = 0b0100_0000


_Query = tuple[bytes, re.Pattern[bytes] | None]


def _byte_class(predicate: Callable[[int], bool]) -> _Query:
    """The byte values failing `predicate` (to delete) and a regex matching those passing."""
    passing = bytes(v for v in range(256) if predicate(v))
    failing = bytes(v for v in range(256) if not predicate(v))
    pattern = (
        re.compile(b"[" + b"".join(re.escape(bytes([v])) for v in passing) + b"]")
        if passing
        else None
    )
    return failing, pattern


def _deliveries(v: int) -> int:
    return v & _DELIVERIES


def _acks(v: int) -> int:
    return (v & _ACKS) >> 3


_Q_SEEN = _byte_class(lambda v: _deliveries(v) > 0)
_Q_ACKED_ONCE = _byte_class(lambda v: _acks(v) == 1)
_Q_ACKED_TWICE = _byte_class(lambda v: _acks(v) >= 2)
_Q_REDELIVERED = _byte_class(lambda v: _deliveries(v) >= 2)
_Q_NEVER = _byte_class(lambda v: bool(v & _PUBLISHED) and _deliveries(v) == 0)
_Q_UNACKED = _byte_class(lambda v: _deliveries(v) > 0 and _acks(v) == 0)
_Q_PUBLISHED_UNACKED = _byte_class(lambda v: bool(v & _PUBLISHED) and _acks(v) == 0)


@dataclass(frozen=True)
class LedgerReport:
    """The exactly-once check at one moment. Sequences are stream sequences."""

    seen: int
    """Tasks delivered at least once."""
    acked_once: int
    acked_twice: int
    """Tasks acked by two deliveries: processed twice (e.g. a slow member past the ack wait)."""
    redelivered: int
    """Tasks delivered more than once (expected after a kill, a nak or an ack-wait timeout)."""
    never_delivered: int
    """Tasks the load generator published that no member has received yet."""
    unacked: int
    """Tasks delivered but not acknowledged yet."""
    published: int
    """Tasks the load generator published (and the server stored)."""
    published_unacked: int
    twice_seqs: tuple[int, ...]
    redelivered_seqs: tuple[int, ...]
    never_seqs: tuple[int, ...]
    forgotten: int
    """Oldest tasks dropped from the ledger to bound its memory."""

    @property
    def exactly_once(self) -> bool:
        """Every task seen was acknowledged once and only once, and none published is missing."""
        return (
            self.seen > 0
            and self.acked_twice == 0
            and self.unacked == 0
            and self.published_unacked == 0
            and self.acked_once == self.seen
        )


class TaskLedger:
    """Per stream sequence: deliveries (0-7), acks (0-3), published by the generator, nak'd.

    One byte per task in a sliding window of `capacity` sequences (2 MiB by default), so the check
    runs for hours at full rate with bounded memory; counting uses C-level bytes operations.
    Deduplicated by stream sequence, as redeliveries after a reconnect may carry num_delivered == 1.
    """

    def __init__(self, capacity: int = 2 * 1024 * 1024) -> None:
        self.capacity = capacity
        self._base = 0
        self._marks = bytearray()
        self.forgotten = 0
        self.deliveries = 0
        self.acks = 0

    def reset(self) -> None:
        self._base = 0
        self._marks = bytearray()
        self.forgotten = 0
        self.deliveries = 0
        self.acks = 0

    def _slot(self, seq: int) -> int:
        marks = self._marks
        if not marks:
            self._base = seq
            marks.append(0)
            return 0
        index = seq - self._base
        if 0 <= index < len(marks):
            return index
        if index >= len(marks):
            marks.extend(bytes(index + 1 - len(marks)))
            if len(marks) > self.capacity:
                cut = len(marks) - self.capacity
                del marks[:cut]
                self._base += cut
                self.forgotten += cut
                index -= cut
            return index
        # an older sequence than any seen (a redelivery, or a task published before the pool)
        grow = -index
        if len(marks) + grow > self.capacity:
            return -1  # too old to track: ignore it
        marks[:0] = bytes(grow)
        self._base = seq
        return 0

    def delivered(self, seq: int, num_delivered: int = 1) -> None:
        """One delivery of `seq`. The server's count is trusted when higher: a member killed with
        messages still queued in the client never saw them, yet the server counts them."""
        self.deliveries += 1
        i = self._slot(seq)
        if i < 0:
            return
        v = self._marks[i]
        count = min(_DELIVERIES, max((v & _DELIVERIES) + 1, num_delivered))
        self._marks[i] = (v & ~_DELIVERIES) | count

    def acked(self, seq: int) -> None:
        self.acks += 1
        i = self._slot(seq)
        if i < 0:
            return
        v = self._marks[i]
        if v & _ACKS != _ACKS:
            v += 0b1000
        self._marks[i] = v

    def naked(self, seq: int) -> None:
        i = self._slot(seq)
        if i >= 0:
            self._marks[i] |= _NAKED

    def published(self, seq: int) -> None:
        i = self._slot(seq)
        if i >= 0:
            self._marks[i] |= _PUBLISHED

    def count_for(self, query: _Query) -> int:
        # deleting every byte that fails the query leaves those that pass: C speed, no loop
        return len(self._marks.translate(None, query[0]))

    def seqs_for(self, query: _Query, limit: int) -> tuple[int, ...]:
        pattern = query[1]
        if pattern is None or limit <= 0:
            return ()
        out: list[int] = []
        for match in pattern.finditer(self._marks):
            out.append(self._base + match.start())
            if len(out) >= limit:
                break
        return tuple(out)

    def deliveries_of(self, seq: int) -> int:
        index = seq - self._base
        if not self._marks or not 0 <= index < len(self._marks):
            return 0
        return self._marks[index] & _DELIVERIES

    def acks_of(self, seq: int) -> int:
        index = seq - self._base
        if not self._marks or not 0 <= index < len(self._marks):
            return 0
        return (self._marks[index] & _ACKS) >> 3

    def report(self, limit: int = 8) -> LedgerReport:
        return LedgerReport(
            seen=self.count_for(_Q_SEEN),
            acked_once=self.count_for(_Q_ACKED_ONCE),
            acked_twice=self.count_for(_Q_ACKED_TWICE),
            redelivered=self.count_for(_Q_REDELIVERED),
            never_delivered=self.count_for(_Q_NEVER),
            unacked=self.count_for(_Q_UNACKED),
            published=len(self._marks.translate(None, _PUBLISHED_OFF)),
            published_unacked=self.count_for(_Q_PUBLISHED_UNACKED),
            twice_seqs=self.seqs_for(_Q_ACKED_TWICE, limit),
            redelivered_seqs=self.seqs_for(_Q_REDELIVERED, limit),
            never_seqs=self.seqs_for(_Q_NEVER, limit),
            forgotten=self.forgotten,
        )


_PUBLISHED_OFF = bytes(v for v in range(256) if not v & _PUBLISHED)


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
        return self

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
        r = self._retired
        r.handled += member.handled
        r.acked += member.acked
        r.naked += member.naked
        r.no_acked += member.no_acked
        r.redelivered += member.redelivered
        r.abandoned += member.abandoned
        r.dropped += member.dropped

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
            t.handled += m.handled
            t.acked += m.acked
            t.naked += m.naked
            t.no_acked += m.no_acked
            t.redelivered += m.redelivered
            t.abandoned += m.abandoned
            t.in_flight += m.in_flight
            t.dropped += m.dropped
        return t

    def fairness(self, extra: Iterable[int] = ()) -> Fairness:
        """Fairness of the handled counts of the members still in the game (killed ones are out),
        plus `extra` counts (e.g. the deliveries of external members)."""
        counts = [m.handled for m in self.members if m.state not in _GONE]
        return fairness(counts + list(extra))

    @property
    def rate(self) -> float:
        return sum(m.rate for m in self.members)

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


# -- load generator -------------------------------------------------------------------------------

MAX_TASKS = 10_000_000


def default_task_subject(subject: str) -> str:
    """A concrete subject for tasks on a pool's (possibly wildcard) subject: ``*``/``>`` -> task."""
    return ".".join("task" if token in ("*", ">") else token for token in subject.split("."))


@dataclass(frozen=True)
class LoadSpec:
    """N tasks at a rate (0 = as fast as the client goes), core or JetStream publish."""

    subject: str
    count: int = 1000
    rate: float = 1000.0
    jetstream: bool = False

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        problem = subject_problem(self.subject, wildcards=False)
        if problem:
            errors["subject"] = problem
        if not 1 <= self.count <= MAX_TASKS:
            errors["count"] = f"between 1 and {MAX_TASKS:,} tasks"
        if not math.isfinite(self.rate) or self.rate < 0:
            errors["rate"] = "tasks per second, 0 for as fast as possible"
        return errors


class LoadState(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


class LoadGenerator:
    """Publishes ``task 1`` ... ``task N`` with `BulkPublish`; JetStream acks mark the ledger.

    Each task carries a message id, so a task retried after an unknown outcome is stored once.
    """

    def __init__(self, session: Session, spec: LoadSpec, ledger: TaskLedger | None = None) -> None:
        self.session = session
        self.spec = spec
        self.ledger = ledger
        self.state = LoadState.IDLE
        publish = PublishSpec(
            subject=spec.subject,
            payload="task {{i}}",
            mode=PublishMode.JETSTREAM if spec.jetstream else PublishMode.CORE,
            msg_id=f"jstui-{time.time_ns():x}-{{{{i}}}}" if spec.jetstream else "",
            count=spec.count,
            rate=spec.rate or None,
        )
        self._bulk = BulkPublish(session, publish, on_stored=self._stored)

    @property
    def published(self) -> int:
        return self._bulk.sent

    @property
    def stored(self) -> int:
        """JetStream: tasks the server acknowledged storing."""
        return self._bulk.acked

    @property
    def errors(self) -> int:
        return self._bulk.failed

    @property
    def last_error(self) -> str:
        return self._bulk.error

    @property
    def progress(self) -> float:
        return self.published / self.spec.count if self.spec.count else 1.0

    @property
    def elapsed(self) -> float:
        return self._bulk.elapsed

    @property
    def rate(self) -> float:
        elapsed = self.elapsed
        return self.published / elapsed if elapsed > 0 else 0.0

    async def run(self) -> None:
        """Publish every task at the spec's rate; raises when the load could not be delivered
        (core: any error; JetStream: no task stored)."""
        problems = self.spec.validate()
        if problems:
            raise SpecErrors(problems)
        self.session.check_writable("publishing tasks")
        self.state = LoadState.RUNNING
        try:
            await self._bulk.run()
        except asyncio.CancelledError:
            self.state = LoadState.CANCELLED
            self._bulk.abandon()
            raise
        if self.last_error and (not self.spec.jetstream or self.stored == 0):
            self.state = LoadState.FAILED
            raise JstuiError(self.last_error)
        self.state = LoadState.DONE

    def _stored(self, ack: api.PubAck) -> None:
        if self.ledger is not None:
            self.ledger.published(ack.seq)

    def cancel_pending(self) -> None:
        """Stop publishing and waiting for acknowledgements (the pool is going away)."""
        self._bulk.abandon()
