"""Publishing: one message or many, core or JetStream, with templates, pacing and progress.

`PublishSpec.create` validates what the publish form holds (subject, payload, ``Key: Value``
header lines, message id, count, rate) and says which field is wrong. The payload is bytes: the
form's box read as text or as escaped bytes (`jstui.format.editable`), so a message published
again goes out exactly as it came; header values are read in the same escaped form, so control
characters from the server can be shown as ``\\x1b`` and sent back as they were.

`publish_once` sends one message and returns the JetStream acknowledgement (stream, sequence,
duplicate flag) when there is one. `BulkPublish` sends N messages at a chosen rate or as fast as
possible: JetStream publishes use `publish_async` with many acknowledgements in flight
(nats-notes section 5: about 5x the rate of awaiting each one), core publishes yield to the loop
every 100 messages so the UI keeps drawing; it counts sent / acknowledged / failed and can be
cancelled at any time.

Payload and message id may hold ``{{i}}`` (the message number, from 1) and ``{{time}}`` (the
send time, ISO 8601 UTC); an escaped payload is sent as it is, templates and all. This module
imports nothing from Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import nats.errors
import nats.js.errors
from nats.js.api import PubAck
from nats.js.client import JetStreamContext

from jstui.format.editable import EscapeError, PayloadFormat, payload_bytes
from jstui.nats.errors import JstuiError, NoStreamError, SpecErrors, translate
from jstui.nats.headers import parse_header_lines
from jstui.nats.names import subject_problem
from jstui.nats.session import Session
from jstui.nats.stats import RateMeter
from jstui.nats.stream_lookup import find_stream

__all__ = [
    "MSG_ID_HEADER",
    "BulkPublish",
    "PublishMode",
    "PublishResult",
    "PublishSpec",
    "has_template",
    "publish_once",
    "render_template",
    "resolve_jetstream",
]

MSG_ID_HEADER = "Nats-Msg-Id"
MAX_COUNT = 10_000_000
YIELD_EVERY = 100
"""Core `nc.publish` only yields when its buffer flushes: yield ourselves this often."""
MAX_IN_FLIGHT = 2_000
"""JetStream acknowledgements awaited at once by one bulk publish."""
ACK_TIMEOUT = 5  # whole seconds: nats-py types flush(timeout) as int
STREAM_PROBE_PAUSE = 0.25
"""While a stream has no leader, a bulk publish asks for its info this often until it answers."""

_TEMPLATE_RE = re.compile(r"\{\{\s*(i|time)\s*\}\}")


class PublishMode(StrEnum):
    AUTO = "auto"
    """JetStream when a stream captures the subject, else core."""
    CORE = "core"
    JETSTREAM = "js"


def has_template(text: str) -> bool:
    return bool(_TEMPLATE_RE.search(text))


def render_template(text: str, i: int, now: datetime | None = None) -> str:
    """Replace ``{{i}}`` with `i` and ``{{time}}`` with the time (ISO 8601, UTC)."""
    if "{{" not in text:
        return text

    def value(match: re.Match[str]) -> str:
        if match.group(1) == "i":
            return str(i)
        moment = now or datetime.now(UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    return _TEMPLATE_RE.sub(value, text)


@dataclass(frozen=True)
class PublishSpec:
    """A validated publish: build it with `PublishSpec.create`."""

    subject: str
    payload: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    mode: PublishMode = PublishMode.AUTO
    msg_id: str = ""
    count: int = 1
    rate: float | None = None
    """Messages per second for a bulk publish; None = as fast as possible."""
    template: bool = True
    """Fill ``{{i}}`` and ``{{time}}`` in the payload (False: send it exactly as it is)."""

    @classmethod
    def create(
        cls,
        subject: str,
        payload: str | bytes = "",
        headers: str | dict[str, str] = "",
        mode: PublishMode | str = PublishMode.AUTO,
        *,
        payload_format: PayloadFormat | str = PayloadFormat.TEXT,
        msg_id: str = "",
        count: int | str = 1,
        rate: float | str | None = None,
        max_payload: int | None = None,
    ) -> PublishSpec:
        """Validate every field; raise `SpecErrors` keyed by field name.

        A `str` payload is read as `payload_format` says (text: templates filled in; escaped:
        the bytes it stands for, sent exactly); `bytes` are sent exactly.
        """
        errors: dict[str, str] = {}
        data = b""
        try:
            payload_format = PayloadFormat(payload_format)
            template = isinstance(payload, str) and payload_format is PayloadFormat.TEXT
            data = payload if isinstance(payload, bytes) else payload_bytes(payload, payload_format)
        except EscapeError as error:
            errors["payload"] = str(error)
        except ValueError:
            errors["payload_format"] = "text or escaped"
            template = False
        subject = subject.strip()
        if problem := subject_problem(subject, wildcards=False):
            errors["subject"] = problem
        parsed: dict[str, str] = {}
        if isinstance(headers, dict):
            parsed = dict(headers)
        else:
            try:
                parsed = dict(parse_header_lines(headers))
            except ValueError as error:
                errors["headers"] = str(error)
        try:
            mode = PublishMode(mode)
        except ValueError:
            errors["mode"] = "auto, core or js"
            mode = PublishMode.AUTO
        msg_id = msg_id.strip()
        if any(ord(ch) < 0x20 for ch in msg_id):
            errors["msg_id"] = "no control characters in a message id"
        if msg_id and mode is PublishMode.CORE:
            errors["msg_id"] = "a message id de-duplicates JetStream publishes only"
        number = 1
        try:
            number = int(str(count).strip().replace(",", "").replace("_", "") or "1")
            if not 1 <= number <= MAX_COUNT:
                raise ValueError
        except ValueError:
            errors["count"] = f"a whole number from 1 to {MAX_COUNT:,}"
        speed: float | None = None
        if rate is not None and str(rate).strip() not in ("", "max", "0"):
            try:
                speed = float(str(rate).strip().removesuffix("/s").replace(",", ""))
                if not 0 < speed <= 10_000_000:
                    raise ValueError
            except ValueError:
                errors["rate"] = "messages per second (e.g. 1000), or empty for as fast as possible"
        if max_payload is not None and len(data) > max_payload:
            errors["payload"] = f"larger than the server's max_payload ({max_payload:,} bytes)"
        if errors:
            raise SpecErrors(errors)
        return cls(
            subject=subject,
            payload=data,
            headers=parsed,
            mode=mode,
            msg_id=msg_id,
            count=number,
            rate=speed,
            template=template,
        )

    def message(self, i: int, now: datetime | None = None) -> tuple[bytes, dict[str, str] | None]:
        """The payload and headers of message number `i` (templates filled in)."""
        payload = self.payload
        if self.template and b"{{" in payload:
            # surrogateescape: bytes that are not UTF-8 go through the template untouched
            text = render_template(payload.decode("utf-8", "surrogateescape"), i, now)
            payload = text.encode("utf-8", "surrogateescape")
        headers = dict(self.headers)
        if self.msg_id:
            msg_id = render_template(self.msg_id, i, now)
            if self.count > 1 and msg_id == self.msg_id:
                msg_id = f"{msg_id}-{i}"  # one id for N messages would store only the first
            headers[MSG_ID_HEADER] = msg_id
        return payload, headers or None


@dataclass(frozen=True)
class PublishResult:
    subject: str
    jetstream: bool
    size: int
    stream: str = ""
    seq: int = 0
    duplicate: bool = False

    def describe(self) -> str:
        if not self.jetstream:
            return f"published {self.size:,} bytes to {self.subject} (core: no acknowledgement)"
        if self.duplicate:
            return (
                f"duplicate: stream {self.stream} already holds this message id "
                f"as sequence {self.seq}; not stored again"
            )
        return f"stored in stream {self.stream} as sequence {self.seq}"


async def resolve_jetstream(session: Session, spec: PublishSpec) -> bool:
    """True when the publish goes through JetStream (AUTO: when a stream captures the subject)."""
    if spec.mode is PublishMode.CORE:
        return False
    if spec.mode is PublishMode.JETSTREAM:
        return True
    if not session.status.jetstream:
        return False
    try:
        await find_stream(session, spec.subject)
    except NoStreamError:
        return False
    return True


async def publish_once(session: Session, spec: PublishSpec, i: int = 1) -> PublishResult:
    """Publish message number `i` of `spec`; JetStream waits for its acknowledgement."""
    session.check_writable("publish")
    jetstream = await resolve_jetstream(session, spec)
    payload, headers = spec.message(i)
    try:
        if jetstream:
            ack = await session.js.publish(
                spec.subject, payload, timeout=ACK_TIMEOUT, headers=headers
            )
            return PublishResult(
                spec.subject,
                True,
                len(payload),
                stream=ack.stream,
                seq=ack.seq,
                duplicate=bool(ack.duplicate),
            )
        await session.nc.publish(spec.subject, payload, headers=headers)
        await session.nc.flush(timeout=ACK_TIMEOUT)
    except nats.errors.TimeoutError as error:
        raise JstuiError(
            "no acknowledgement in time: the message may or may not be stored "
            "(publish again with a message id to be sure)"
        ) from error
    except (nats.errors.Error, TimeoutError, ValueError) as error:
        raise translate(error, subject=spec.subject) from error
    return PublishResult(spec.subject, False, len(payload))


class BulkPublish:
    """Publish `spec.count` messages; read the counters from a timer while `run()` goes on.

    Every message ends in exactly one of: acked (stored), duplicates (the stream already held its
    id), failed (the server said no), unknown (no answer in time: it may or may not be stored).
    When `done` is set all four are final and add up to `sent`. JetStream messages always carry
    a message id (``jstui-<run>-<i>`` unless the user gave one), so `resend()` of the
    unacknowledged ones is safe within the stream's duplicate window.
    """

    def __init__(
        self,
        session: Session,
        spec: PublishSpec,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_in_flight: int = MAX_IN_FLIGHT,
        on_held: Callable[[PubAck], None] | None = None,
        numbers: Sequence[int] | None = None,
        run_id: str = "",
    ) -> None:
        self.session = session
        self._on_held = on_held
        """Called with each JetStream acknowledgement: the stream holds the message at `ack.seq`,
        stored now or, for a duplicate, by an earlier publish of the same id (a resend whose
        first acknowledgement was lost: its sequence must be known all the same)."""
        self.spec = spec
        self.numbers: Sequence[int] = numbers if numbers is not None else range(1, spec.count + 1)
        """The message numbers this run sends: all of them, or those a resend sends again."""
        self.run_id = run_id or secrets.token_hex(4)
        self.jetstream = False
        self.sent = 0
        self.acked = 0
        self.duplicates = 0
        self.failed = 0
        self.unknown = 0
        self.unacknowledged: list[int] = []
        """Numbers of the messages that failed or stayed unknown, in order once `done`."""
        self.error = ""
        """The first error, one line."""
        self.last_ack: PubAck | None = None
        self.done = False
        self.cancelled = False
        self.meter = RateMeter()
        self.ack_meter = RateMeter()
        self.started = 0.0
        self.finished = 0.0
        self._clock = clock
        self._max_in_flight = max(1, max_in_flight)
        self._in_flight: dict[asyncio.Future[PubAck], int] = {}
        self._room = asyncio.Event()
        self._room.set()
        self._cancel = asyncio.Event()
        self.stream_lost_at = 0.0
        """When a stream that had acknowledged messages stopped answering (503: no leader, in
        an election); sending waits until it answers again. 0 while it answers."""

    @property
    def total(self) -> int:
        return len(self.numbers)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def confirmed(self) -> int:
        """Messages known to be through: acknowledged (JetStream) or sent (core)."""
        return self.acked + self.duplicates if self.jetstream else self.sent

    @property
    def progress(self) -> float:
        return self.confirmed / self.total if self.total else 1.0

    @property
    def elapsed(self) -> float:
        if not self.started:
            return 0.0
        return (self.finished or self._clock()) - self.started

    def average_rate(self) -> float:
        elapsed = self.elapsed
        return self.confirmed / elapsed if elapsed > 0 else 0.0

    def message_id(self, i: int) -> str:
        """The id message number `i` carries (JetStream): the user's, or this run's own."""
        if self.spec.msg_id:
            return self.spec.msg_id  # templated per message in `PublishSpec.message`
        return f"jstui-{self.run_id}-{i}"

    def resend(self) -> BulkPublish:
        """A run that sends the unacknowledged messages again, with the same message ids."""
        return BulkPublish(
            self.session,
            self.spec,
            clock=self._clock,
            max_in_flight=self._max_in_flight,
            on_held=self._on_held,
            numbers=list(self.unacknowledged),
            run_id=self.run_id,
        )

    def cancel(self) -> None:
        """Stop sending; acknowledgements already in flight are still counted."""
        self.cancelled = True
        self._cancel.set()

    def abandon(self) -> None:
        """Stop sending and stop waiting: acknowledgements still in flight count as unknown."""
        self.cancel()
        self._give_up_waiting()

    def describe(self) -> str:
        kind = "JetStream" if self.jetstream else "core"
        parts = [f"{self.sent:,}/{self.total:,} sent ({kind})"]
        if self.jetstream:
            parts.append(f"{self.acked:,} acked")
            if self.duplicates:
                parts.append(f"{self.duplicates:,} already stored (duplicates)")
            if self.done:
                parts.append(f"{self.failed:,} failed")
                unknown = f"{self.unknown:,} unknown"
                if self.unknown:
                    unknown += " (no ack: may or may not be stored)"
                parts.append(unknown)
            else:
                if self.failed:
                    parts.append(f"{self.failed:,} failed")
                if self._in_flight:
                    parts.append(f"{len(self._in_flight):,} awaiting ack")
                if self.stream_lost_at:
                    waited = self._clock() - self.stream_lost_at
                    parts.append(f"waiting {waited:.0f}s for the stream to answer (no leader?)")
        elif self.failed:
            parts.append(f"{self.failed:,} failed")
        if self.elapsed > 0:
            parts.append(f"{self.average_rate():,.0f} msgs/s")
        if self.done:
            parts.append("cancelled" if self.cancelled else "done")
        return ", ".join(parts)

    def _on_ack(self, future: asyncio.Future[PubAck]) -> None:
        number = self._in_flight.pop(future, None)
        if number is None:
            return  # already counted as unknown when the run stopped waiting for it
        if len(self._in_flight) < self._max_in_flight:
            self._room.set()
        if future.cancelled():
            self._count_unknown(number)
            return
        error = future.exception()
        if error is not None:
            self.failed += 1
            self.unacknowledged.append(number)
            if not self.error:
                self.error = str(translate(error, subject=self.spec.subject))
            if isinstance(error, nats.js.errors.NoStreamResponseError):
                if self.last_ack is None:
                    self.cancel()  # no stream at all: every other message would fail the same way
                elif not self.stream_lost_at:
                    self.stream_lost_at = self._clock()  # it answered before: wait for it
            return
        ack = future.result()
        self.last_ack = ack
        if ack.duplicate:
            self.duplicates += 1
        else:
            self.acked += 1
        if self._on_held is not None:
            self._on_held(ack)
        self.ack_meter.add(1)

    def _count_unknown(self, number: int) -> None:
        self.unknown += 1
        self.unacknowledged.append(number)

    def _give_up_waiting(self) -> None:
        """Count what is still in flight as unknown now, not in callbacks that run later."""
        waiting, self._in_flight = self._in_flight, {}
        for future, number in waiting.items():
            future.remove_done_callback(self._on_ack)
            if future.done() and not future.cancelled():
                self._in_flight[future] = number
                self._on_ack(future)  # answered in this very turn: count the real outcome
            else:
                future.cancel()
                self._count_unknown(number)
        self._room.set()

    async def run(self) -> None:
        """Send everything (or until cancelled), then wait for the acknowledgements in flight."""
        self.session.check_writable("publish")
        spec = self.spec
        self.jetstream = await resolve_jetstream(self.session, spec)
        self.started = self._clock()
        try:
            await self._send_all()
            await self._settle()
        except (nats.errors.Error, TimeoutError, ValueError) as error:
            if not self.error:
                self.error = str(translate(error, subject=spec.subject))
        finally:
            self._give_up_waiting()
            self.unacknowledged.sort()
            self.finished = self._clock()
            self.done = True

    def _message(
        self, i: int, templated: bool, fixed: tuple[bytes, dict[str, str] | None]
    ) -> tuple[bytes, dict[str, str] | None]:
        payload, headers = self.spec.message(i) if templated else fixed
        if self.jetstream and not self.spec.msg_id:
            headers = {**(headers or {}), MSG_ID_HEADER: self.message_id(i)}
        return payload, headers

    async def _send_all(self) -> None:
        spec = self.spec
        nc = self.session.nc
        js = self.session.js if self.jetstream else None
        templated = bool(spec.msg_id) or (
            spec.template and has_template(spec.payload.decode("utf-8", "replace"))
        )
        fixed = spec.message(1)
        interval = 1.0 / spec.rate if spec.rate else 0.0
        batch = 0
        for position, i in enumerate(self.numbers):
            if self._cancel.is_set():
                return
            if self.stream_lost_at:
                await self._wait_for_stream()
                if self._cancel.is_set():
                    return
            payload, headers = self._message(i, templated, fixed)
            if interval:
                ahead = self.started + position * interval - self._clock()
                if ahead > 0.002:
                    await asyncio.sleep(ahead)  # paced: sleep off the lead, a batch at a time
                    batch = 0
            if js is not None:
                if not await self._publish_js(js, i, spec.subject, payload, headers):
                    return
            else:
                await nc.publish(spec.subject, payload, headers=headers)
            self.sent += 1
            self.meter.add(1, len(payload))
            batch += 1
            if batch >= YIELD_EVERY:
                batch = 0
                await asyncio.sleep(0)  # let the UI draw and the reader read

    async def _publish_js(
        self,
        js: JetStreamContext,
        number: int,
        subject: str,
        payload: bytes,
        headers: dict[str, str] | None,
        *,
        stream: str | None = None,
    ) -> bool:
        """Send message `number` with its acknowledgement counted when it comes (into `stream`
        only, when named); waits while too many are in flight. False when cancelled meanwhile."""
        while len(self._in_flight) >= self._max_in_flight:
            self._room.clear()
            await self._room.wait()
            if self._cancel.is_set():
                return False
        # No wait_stall: it costs an asyncio.wait_for (a task and a loop turn) per message,
        # and `_max_in_flight` stays below nats-py's own limit, so it would never wait.
        future = await js.publish_async(subject, payload, headers=headers, stream=stream)
        self._in_flight[future] = number
        future.add_done_callback(self._on_ack)
        return True

    async def _wait_for_stream(self) -> None:
        """Hold the sending until the stream answers its info again (a new leader elected)."""
        stream = self.last_ack.stream if self.last_ack is not None else ""
        while self.stream_lost_at and not self._cancel.is_set():
            with contextlib.suppress(nats.errors.Error, nats.js.errors.Error, TimeoutError):
                await self.session.jsm.stream_info(stream)
                self.stream_lost_at = 0.0
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._cancel.wait(), STREAM_PROBE_PAUSE)

    async def _settle(self) -> None:
        if self.jetstream:
            pending = list(self._in_flight)
            if pending:
                await asyncio.wait(pending, timeout=ACK_TIMEOUT + 1)
        else:
            with contextlib.suppress(nats.errors.Error, TimeoutError):
                await self.session.nc.flush(timeout=ACK_TIMEOUT)
