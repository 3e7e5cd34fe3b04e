"""Responders run by jstui on the shared connection, so the request console works with jstui alone.

Two modes:

- **core**: ``nc.subscribe(subject, queue)`` and ``msg.respond(...)``.
- **stored**: the stored-request pattern. A durable push consumer with manual ack on the stream that
  captures the subject; for each message it reads the ``reply-to`` header, publishes its reply to
  that inbox, then acks. External requesters (the tutorial's publisher) are answered too.

Behaviours: ``echo`` (the payload back), ``upper`` (``Response from <name> : <PAYLOAD IN UPPER
CASE>``, the tutorial replier's format), ``delay=MS`` (echo after a fixed delay), ``random=MIN-MAX``
(echo after a random delay, in ms), ``fail`` (no reply at all) and ``error`` (an empty reply with
``Nats-Service-Error`` headers). Each reply carries a ``Jstui-Responder: <name>`` header.

Which stored requests get answered. The consumer filters on the request subject. A new durable
starts delivering at *now minus the answer window* (deliver policy by start time): a responder
started after a request was sent still answers it while the requester listens, but a new responder
does not replay the stream's whole history. An existing durable resumes where it stopped, so every
message is also checked on arrival: one older than its window is acked without a reply and counted
as skipped.
The window is the request's own ``Jstui-Timeout`` header when it has one (jstui's console sets it),
else the responder's ``max_age`` (default 60 s).

A core responder leaves alone a message that carries a ``reply-to`` header: it is a stored request
on its way into a stream, and its reply subject is the JetStream publish acknowledgment, which a
core answer would spoil (the tutorial runs both kinds on ``my.subject.requests``).

Each `Responder` is one member with its own counters. `ResponderManager.start(spec)` creates
``count`` members: with a queue group they share the load (core queue subscribers, or one durable
with a deliver group); without one each member answers every request (core subscribers, or one
durable per member). `Responder.run()` is the long-lived coroutine of a member (the UI runs it as a
Textual worker); `stop()` ends it.

The ``--responder`` short form: ``SUBJECT[,option...]`` with options ``mode=core|stored``,
``queue=NAME``, ``count=N``, ``behaviour=echo|upper|delay=MS|random=MIN-MAX|fail|error``,
``name=NAME``, ``stream=NAME``, ``durable=NAME``, ``max-age=DURATION``
(see `parse_responder_option`).

No Textual import here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from jstui.format.units import parse_duration
from jstui.nats.errors import SpecErrors, ValidationError, translate
from jstui.nats.names import stream_name_problem, subject_problem
from jstui.nats.requests import (
    REPLY_TO_HEADER,
    RESPONDER_HEADER,
    SERVICE_ERROR_CODE_HEADER,
    SERVICE_ERROR_HEADER,
    TIMEOUT_HEADER,
)
from jstui.nats.session import Session

__all__ = [
    "Behaviour",
    "BehaviourKind",
    "Responder",
    "ResponderManager",
    "ResponderMode",
    "ResponderSpec",
    "ResponderState",
    "parse_responder_option",
]

DEFAULT_MAX_AGE = 60.0
MAX_COUNT = 64
MAX_DELAY_MS = 60_000
DURABLE_INACTIVE_THRESHOLD = 3600.0
"""A durable jstui creates is removed by the server an hour after its last responder stopped."""
_PENDING_LIMIT = 2_000
_MAX_ACK_PENDING = 1_000  # at or below the client's pending limit: the server throttles, no drops
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ResponderMode(StrEnum):
    CORE = "core"
    STORED = "stored"


class BehaviourKind(StrEnum):
    ECHO = "echo"
    UPPER = "upper"
    DELAY = "delay"
    RANDOM = "random"
    FAIL = "fail"
    ERROR = "error"


@dataclass(frozen=True)
class Behaviour:
    """What a responder does with a request; `low_ms`/`high_ms` are the delay (equal for DELAY)."""

    kind: BehaviourKind = BehaviourKind.ECHO
    low_ms: int = 0
    high_ms: int = 0

    @classmethod
    def parse(cls, text: str) -> Behaviour:
        """``echo``, ``upper``, ``delay=MS``, ``random=MIN-MAX``, ``fail`` or ``error``."""
        raw = text.strip().lower()
        name, _, argument = raw.partition("=")
        name = {"uppercase": "upper", "upper-case": "upper"}.get(name, name)
        try:
            kind = BehaviourKind(name)
        except ValueError:
            raise ValidationError(
                "behaviour", "echo, upper, delay=MS, random=MIN-MAX, fail or error"
            ) from None
        if kind is BehaviourKind.DELAY:
            ms = _milliseconds(argument, "delay=MS, e.g. delay=200")
            return cls(kind, ms, ms)
        if kind is BehaviourKind.RANDOM:
            low_text, dash, high_text = argument.partition("-")
            if not dash:
                raise ValidationError("behaviour", "random=MIN-MAX in ms, e.g. random=50-500")
            low = _milliseconds(low_text, "random=MIN-MAX in ms")
            high = _milliseconds(high_text, "random=MIN-MAX in ms")
            if high < low:
                raise ValidationError("behaviour", "random=MIN-MAX: MAX is below MIN")
            return cls(kind, low, high)
        if argument:
            raise ValidationError("behaviour", f"{kind.value} takes no value")
        return cls(kind)

    def __str__(self) -> str:
        if self.kind is BehaviourKind.DELAY:
            return f"delay={self.low_ms}"
        if self.kind is BehaviourKind.RANDOM:
            return f"random={self.low_ms}-{self.high_ms}"
        return self.kind.value

    def delay(self) -> float:
        """Seconds to wait before answering (0 for no delay)."""
        if self.kind is BehaviourKind.RANDOM:
            return random.uniform(self.low_ms, self.high_ms) / 1000
        return self.low_ms / 1000

    def reply(self, name: str, data: bytes) -> tuple[bytes, dict[str, str]] | None:
        """The reply payload and headers for a request, or None for no reply (fail)."""
        headers = {RESPONDER_HEADER: name}
        if self.kind is BehaviourKind.FAIL:
            return None
        if self.kind is BehaviourKind.ERROR:
            headers[SERVICE_ERROR_HEADER] = f"{name}: simulated failure"
            headers[SERVICE_ERROR_CODE_HEADER] = "500"
            return b"", headers
        if self.kind is BehaviourKind.UPPER:
            text = data.decode("utf-8", "replace").upper()
            return f"Response from {name} : {text}".encode(), headers
        return data, headers


def _milliseconds(text: str, hint: str) -> int:
    raw = text.strip().lower().removesuffix("ms")
    if not raw.isdigit():
        raise ValidationError("behaviour", hint)
    value = int(raw)
    if value > MAX_DELAY_MS:
        raise ValidationError("behaviour", f"at most {MAX_DELAY_MS} ms")
    return value


def _check_name(value: str, field_name: str, what: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValidationError(field_name, f"{what}: 1-64 letters, digits, - or _")
    return value


@dataclass(frozen=True)
class ResponderSpec:
    """What to start: validated by `from_form` / `parse_responder_option`."""

    subject: str
    mode: ResponderMode = ResponderMode.CORE
    queue: str | None = None
    count: int = 1
    behaviour: Behaviour = field(default_factory=Behaviour)
    name: str | None = None
    stream: str | None = None
    """Stored mode: the stream; found from the subject when not given."""
    durable: str | None = None
    """Stored mode: the durable consumer (the queue name when there is a queue group)."""
    max_age: float = DEFAULT_MAX_AGE
    """Stored mode: skip requests older than this that carry no Jstui-Timeout header."""

    @classmethod
    def from_form(
        cls,
        *,
        subject: str,
        mode: str = "core",
        queue: str = "",
        count: str = "1",
        behaviour: str = "echo",
        name: str = "",
        stream: str = "",
        durable: str = "",
        max_age: str = "",
    ) -> ResponderSpec:
        """Check every field; raise `SpecErrors` keyed by field with all problems at once."""
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        subject = subject.strip()
        problem = subject_problem(subject)
        if problem:
            errors["subject"] = problem
        try:
            values["mode"] = ResponderMode(mode.strip().lower() or "core")
        except ValueError:
            errors["mode"] = "core or stored"
        checks: list[tuple[str, Callable[[], Any]]] = [
            ("queue", lambda: _optional_name(queue, "queue", "a queue group")),
            ("count", lambda: _count(count)),
            ("behaviour", lambda: Behaviour.parse(behaviour or "echo")),
            ("name", lambda: _optional_name(name, "name", "a name")),
            ("stream", lambda: _optional_stream(stream)),
            ("durable", lambda: _optional_name(durable, "durable", "a durable name")),
            ("max_age", lambda: _max_age(max_age)),
        ]
        for key, check in checks:
            try:
                values[key] = check()
            except ValidationError as exc:
                errors[key] = exc.message
        if not errors and values["mode"] is ResponderMode.CORE:
            for key in ("stream", "durable"):
                if values[key]:
                    errors[key] = "only for stored responders"
        if (
            not errors
            and values["queue"]
            and values["durable"]
            and values["durable"] != values["queue"]
        ):
            errors["durable"] = "with a queue group, the durable is the queue name"
        if errors:
            raise SpecErrors(errors)
        return cls(subject=subject, **values)

    def short_form(self) -> str:
        """The ``--responder`` option that starts this spec."""
        parts = [self.subject]
        if self.mode is not ResponderMode.CORE:
            parts.append(f"mode={self.mode.value}")
        if self.queue:
            parts.append(f"queue={self.queue}")
        if self.count != 1:
            parts.append(f"count={self.count}")
        if self.behaviour != Behaviour():
            parts.append(f"behaviour={self.behaviour}")
        for key in ("name", "stream", "durable"):
            value = getattr(self, key)
            if value:
                parts.append(f"{key}={value}")
        if self.max_age != DEFAULT_MAX_AGE:
            parts.append(f"max-age={self.max_age:g}s")
        return ",".join(parts)


def _optional_name(text: str, field_name: str, what: str) -> str | None:
    text = text.strip()
    return _check_name(text, field_name, what) if text else None


def _optional_stream(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    problem = stream_name_problem(text)
    if problem:
        raise ValidationError("stream", problem)
    return text


def _count(text: str) -> int:
    raw = text.strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise ValidationError("count", f"a whole number from 1 to {MAX_COUNT}")
    return int(raw)


def _max_age(text: str) -> float:
    if not text.strip():
        return DEFAULT_MAX_AGE
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise ValidationError("max_age", str(exc)) from exc
    if seconds is None:
        raise ValidationError("max_age", "must be more than 0")
    return seconds


_OPTION_FIELDS = {
    "mode": "mode",
    "queue": "queue",
    "q": "queue",
    "count": "count",
    "n": "count",
    "behaviour": "behaviour",
    "behavior": "behaviour",
    "b": "behaviour",
    "name": "name",
    "stream": "stream",
    "durable": "durable",
    "max-age": "max_age",
    "max_age": "max_age",
    "maxage": "max_age",
}
_BARE_FLAGS = {"core": ("mode", "core"), "stored": ("mode", "stored")}


def parse_responder_option(text: str) -> ResponderSpec:
    """Parse ``SUBJECT[,option...]`` (the ``--responder`` short form) into a spec.

    Options: ``mode=core|stored`` (or bare ``core`` / ``stored``), ``queue=NAME``, ``count=N``,
    ``behaviour=echo|upper|delay=MS|random=MIN-MAX|fail|error`` (or bare ``upper``, ``fail``...),
    ``name=NAME``, ``stream=NAME``, ``durable=NAME``, ``max-age=DURATION``. Raises
    `ValidationError` with a message that names the option at fault.
    """
    subject, *options = [part.strip() for part in text.split(",")]
    fields: dict[str, str] = {"subject": subject}
    for option in options:
        if not option:
            continue
        key, eq, value = option.partition("=")
        key = key.strip().lower()
        if not eq:
            if key in _BARE_FLAGS:
                target, value = _BARE_FLAGS[key]
            else:
                try:
                    Behaviour.parse(key)
                except ValidationError:
                    raise ValidationError(
                        "responder", f"unknown option {option!r} in {text!r}"
                    ) from None
                target, value = "behaviour", key
        else:
            target = _OPTION_FIELDS.get(key, "")
            if not target:
                known = "mode, queue, count, behaviour, name, stream, durable, max-age"
                raise ValidationError("responder", f"unknown option {key!r} ({known})")
        if target in fields:
            raise ValidationError("responder", f"{target} is given twice in {text!r}")
        fields[target] = value
    try:
        return ResponderSpec.from_form(**fields)
    except SpecErrors as exc:
        detail = "; ".join(f"{key}: {message}" for key, message in exc.errors.items())
        raise ValidationError("responder", f"{text!r}: {detail}") from None


# -- running responders ------------------------------------------------------------------------


class ResponderState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"


def _header(headers: dict[str, str] | None, name: str) -> str | None:
    """A header by name, any case (the tutorial writes ``reply-to``; others ``Reply-To``)."""
    if not headers:
        return None
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


@dataclass(eq=False)
class Responder:
    """One member: subscribes in `run()`, answers until `stop()`; counters read by the UI."""

    id: int
    name: str
    spec: ResponderSpec
    session: Session
    stream: str | None = None
    durable: str | None = None
    state: ResponderState = ResponderState.STARTING
    error: str = ""
    answered: int = 0
    """Requests answered with a reply (an error reply counts)."""
    failed: int = 0
    """Requests left unanswered on purpose (behaviour fail) or because the reply failed."""
    skipped: int = 0
    """Requests not answered on purpose: stored ones too old or without a reply-to header (acked
    without a reply); for core responders, stored requests seen on their way into a stream."""
    handling_seconds: float = 0.0
    ready: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _stop: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _sub: Any = field(default=None, repr=False)

    @property
    def mean_handling(self) -> float | None:
        handled = self.answered + self.failed
        return self.handling_seconds / handled if handled else None

    @property
    def running(self) -> bool:
        return self.state in (ResponderState.STARTING, ResponderState.RUNNING)

    def stop(self) -> None:
        """Ask `run()` to unsubscribe and return."""
        self._stop.set()

    async def run(self) -> None:
        """Subscribe, answer until stopped (or cancelled), then unsubscribe.

        Raises a `JstuiError` when the subscription cannot be made (bad subject, no stream, a
        durable bound elsewhere); `state` and `error` say so too.
        """
        try:
            self.session.check_writable("starting a responder")
            self._sub = await self._subscribe()
            self.state = ResponderState.RUNNING
            self.ready.set()
            await self._stop.wait()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = translate(exc, subject=self.spec.subject)
            self.state = ResponderState.FAILED
            self.error = str(error)
            raise error from exc
        finally:
            sub, self._sub = self._sub, None
            if sub is not None:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
            if self.state is not ResponderState.FAILED:
                self.state = ResponderState.STOPPED
            self.ready.set()  # nobody waits forever on a responder that never started

    async def _subscribe(self) -> Any:
        spec = self.spec
        if spec.mode is ResponderMode.CORE:
            return await self.session.nc.subscribe(
                spec.subject,
                queue=spec.queue or "",
                cb=self._on_core,
                pending_msgs_limit=_PENDING_LIMIT,
                pending_bytes_limit=64 << 20,
            )
        return await self.session.js.subscribe(
            spec.subject,
            queue=spec.queue,
            durable=self.durable,
            stream=self.stream,
            cb=self._on_stored,
            manual_ack=True,
            pending_msgs_limit=_PENDING_LIMIT,
            pending_bytes_limit=64 << 20,
        )

    async def _on_core(self, msg: Msg) -> None:
        if _header(msg.headers, REPLY_TO_HEADER) is not None:
            # A stored request on its way into a stream: its reply subject is the JetStream
            # publish acknowledgment, which a core answer would spoil. Durables answer it.
            self.skipped += 1
            return
        start = time.perf_counter()
        try:
            answer = await self._answer(msg.data)
            if answer is None or not msg.reply:
                self.failed += 1
            else:
                data, headers = answer
                msg.headers = headers  # msg.respond sends msg.headers: make them the reply's
                await msg.respond(data)
                self.answered += 1
        except (nats.errors.Error, OSError) as exc:
            self.failed += 1
            self.error = str(translate(exc))
        finally:
            self.handling_seconds += time.perf_counter() - start

    async def _on_stored(self, msg: Msg) -> None:
        start = time.perf_counter()
        handled = False
        try:
            reply_to = _header(msg.headers, REPLY_TO_HEADER)
            if not reply_to or self._too_old(msg):
                self.skipped += 1
                await msg.ack()
                return
            handled = True
            answer = await self._answer(msg.data)
            if answer is None:
                self.failed += 1
            else:
                data, headers = answer
                await self.session.nc.publish(reply_to, data, headers=headers)
                self.answered += 1
            await msg.ack()
        except (nats.errors.Error, OSError) as exc:
            self.failed += 1
            self.error = str(translate(exc))
        finally:
            if handled:
                self.handling_seconds += time.perf_counter() - start

    async def _answer(self, data: bytes) -> tuple[bytes, dict[str, str]] | None:
        delay = self.spec.behaviour.delay()
        if delay > 0:
            await asyncio.sleep(delay)
        return self.spec.behaviour.reply(self.name, data)

    def _too_old(self, msg: Msg) -> bool:
        window = self.spec.max_age
        declared = _header(msg.headers, TIMEOUT_HEADER)
        if declared:
            with contextlib.suppress(ValueError):
                window = float(declared)
        try:
            stored_at = msg.metadata.timestamp
        except (nats.errors.Error, ValueError, IndexError):
            return False
        age = (datetime.now(UTC) - stored_at).total_seconds()
        return age > window


def default_durable(name: str, subject: str) -> str:
    """The durable of a stored responder named `name` on `subject` when none is given.

    The subject is part of it so that a responder of an earlier run with the same name but another
    subject does not collide with this one (durables outlive the app, see
    `DURABLE_INACTIVE_THRESHOLD`).
    """
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", subject).strip("_")[:40] or "subject"
    return f"{name}_{slug}"


class ResponderManager:
    """The responders of one session: start a spec's members, stop them, list them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.responders: dict[int, Responder] = {}
        self._ids = itertools.count(1)

    def __iter__(self) -> Iterator[Responder]:
        return iter(self.responders.values())

    def __len__(self) -> int:
        return len(self.responders)

    async def start(
        self, spec: ResponderSpec, runner: Callable[[Responder], object] | None = None
    ) -> list[Responder]:
        """Create `spec.count` members and start each with `runner(responder)` (default: an
        asyncio task running `responder.run()`). Stored mode finds the stream and creates (or
        checks) the durable consumer first, so members only bind to it."""
        self.session.check_writable("starting a responder")
        ids = [next(self._ids) for _ in range(spec.count)]
        base = spec.name or f"responder-{ids[0]}"
        names = [base] if spec.count == 1 else [f"{base}-{i}" for i in range(1, spec.count + 1)]
        members = [
            Responder(id=i, name=n, spec=spec, session=self.session)
            for i, n in zip(ids, names, strict=True)
        ]
        if spec.mode is ResponderMode.STORED:
            await self._prepare_stored(spec, members)
        for member in members:
            self.responders[member.id] = member
            if runner is None:
                asyncio.create_task(member.run(), name=f"responder {member.name}")  # noqa: RUF006
            else:
                runner(member)
        return members

    async def _prepare_stored(self, spec: ResponderSpec, members: list[Responder]) -> None:
        try:
            stream = spec.stream or await self.session.jsm.find_stream_name_by_subject(spec.subject)
        except nats.js.errors.NotFoundError:
            raise ValidationError(
                "subject", f"no stream captures {spec.subject!r}: create one first"
            ) from None
        except Exception as exc:
            raise translate(exc, subject=spec.subject) from exc
        if spec.queue:
            durables = [spec.queue] * len(members)
        else:
            base = spec.durable or default_durable(spec.name or members[0].name, spec.subject)
            durables = (
                [base] if len(members) == 1 else [f"{base}-{i + 1}" for i in range(len(members))]
            )
        start_time = datetime.now(UTC) - timedelta(seconds=spec.max_age)
        for durable in dict.fromkeys(durables):
            await self._ensure_consumer(spec, stream, durable, start_time)
        for member, durable in zip(members, durables, strict=True):
            member.stream, member.durable = stream, durable

    async def _ensure_consumer(
        self, spec: ResponderSpec, stream: str, durable: str, start_time: datetime
    ) -> None:
        jsm = self.session.jsm
        try:
            info = await jsm.consumer_info(stream, durable)
        except nats.js.errors.NotFoundError:
            info = None
        except Exception as exc:
            raise translate(exc, subject=spec.subject) from exc
        if info is not None:
            config = info.config
            filters = [config.filter_subject] if config.filter_subject else []
            filters += list(config.filter_subjects or [])
            if filters and spec.subject not in filters:
                raise ValidationError(
                    "durable",
                    f"durable {durable!r} on {stream} filters {', '.join(filters)!r}, "
                    "not this subject: choose another name",
                )
            if not config.deliver_subject:
                raise ValidationError("durable", f"durable {durable!r} is a pull consumer")
            if (config.deliver_group or None) != (spec.queue or None):
                raise ValidationError(
                    "durable", f"durable {durable!r} exists with another queue group"
                )
            return
        config = ConsumerConfig(
            durable_name=durable,
            description=f"jstui responder on {spec.subject}",
            deliver_subject=self.session.nc.new_inbox(),
            deliver_group=spec.queue,
            deliver_policy=DeliverPolicy.BY_START_TIME,
            opt_start_time=start_time,
            ack_policy=AckPolicy.EXPLICIT,
            filter_subject=spec.subject,
            max_ack_pending=_MAX_ACK_PENDING,
            inactive_threshold=DURABLE_INACTIVE_THRESHOLD,
        )
        try:
            await jsm.add_consumer(stream, config=config)
        except Exception as exc:
            raise translate(exc, subject=spec.subject) from exc

    def stop(self, responder_id: int) -> Responder | None:
        """Stop one member and forget it; returns it (None when unknown)."""
        responder = self.responders.pop(responder_id, None)
        if responder is not None:
            responder.stop()
        return responder

    def stop_all(self) -> None:
        for responder_id in list(self.responders):
            self.stop(responder_id)

    def connection_lost(self, reason: str) -> None:
        """The connection is closed for good: every running member ends, failed with `reason`
        (they stay listed, so the user sees what stopped answering and why)."""
        for responder in self.responders.values():
            if responder.running:
                responder.state = ResponderState.FAILED
                responder.error = reason
                responder.stop()

    def forget_finished(self) -> None:
        """Drop members that stopped on their own (failed ones stay until stopped by hand)."""
        for responder_id, responder in list(self.responders.items()):
            if responder.state is ResponderState.STOPPED:
                del self.responders[responder_id]
