"""What a worker pool is asked to be: its spec, its members' settings, and the ``--workers`` option.

The pool dialog, the member dialog and ``--workers`` (`parse_workers_option`, `WORKERS_SYNTAX`)
all end in a `PoolSpec` (subject, mode, queue, count, consumer options) holding one
`MemberSettings` (processing `Delay`, failure rate and `FailureKind`). `validate()` returns the
problems per form field; `WorkerPool.start()` (pool.py) refuses a spec that has any, and each
`Member` (member.py) reads its settings on every message. Plain data: no I/O here.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from jstui.format.units import parse_duration
from jstui.nats.errors import SpecErrors
from jstui.nats.names import (
    consumer_name_problem,
    queue_group_problem,
    stream_name_problem,
    subject_problem,
)

__all__ = [
    "DEFAULT_ACK_WAIT",
    "DEFAULT_BATCH",
    "DEFAULT_COUNT",
    "DEFAULT_MAX_ACK_PENDING",
    "DEFAULT_QUEUE",
    "MAX_MEMBERS",
    "WORKERS_SYNTAX",
    "Delay",
    "FailureKind",
    "MemberSettings",
    "PoolMode",
    "PoolSpec",
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
    if mode.jetstream:
        # the deliver group doubles as the consumer name when no durable is given
        return consumer_name_problem(name)
    return queue_group_problem(name)


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
            if self.durable and (problem := consumer_name_problem(self.durable)):
                errors["durable"] = problem
            if self.stream and (problem := stream_name_problem(self.stream)):
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
