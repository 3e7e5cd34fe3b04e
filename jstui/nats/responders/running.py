"""Running responders: each `Responder` member answers requests until stopped; the manager
starts a spec's members and keeps the list the pane shows.

`ResponderManager.start(spec)` creates ``count`` members (and, in stored mode, finds the stream
and creates or checks the durable consumer first); `Responder.run()` subscribes and answers
until `stop()`. The NATS callbacks apply the spec's `Behaviour` (spec.py) and bump the member's
counters (answered, failed, skipped, handling time), which the pane reads on its timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
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

from jstui.nats.errors import JstuiError, ValidationError, translate
from jstui.nats.requests.headers import REPLY_TO_HEADER, TIMEOUT_HEADER
from jstui.nats.responders.spec import ResponderMode, ResponderSpec
from jstui.nats.session import ConnectionState, Session
from jstui.nats.stream_health import health_for

__all__ = ["Responder", "ResponderManager", "ResponderState", "default_durable"]

DURABLE_INACTIVE_THRESHOLD = 3600.0
"""A durable jstui creates is removed by the server an hour after its last responder stopped."""
_PENDING_LIMIT = 2_000
_MAX_ACK_PENDING = 1_000  # at or below the client's pending limit: the server throttles, no drops


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
    _watched_stream: str = field(default="", repr=False)

    @property
    def mean_handling(self) -> float | None:
        handled = self.answered + self.failed
        return self.handling_seconds / handled if handled else None

    @property
    def running(self) -> bool:
        return self.state in (ResponderState.STARTING, ResponderState.RUNNING)

    @property
    def leaderless_since(self) -> float | None:
        """Since when (wall clock) a running stored responder's stream has had no leader while
        the connection is up (stream_health.py): no stored request reaches it then."""
        if not self._watched_stream or self.state is not ResponderState.RUNNING:
            return None
        if self.session.status.state is not ConnectionState.CONNECTED:
            return None  # the connection's outage is what the row says then
        return health_for(self.session).leaderless_since(self._watched_stream)

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
            self.session.add_user(self)
            if self.stream:  # a stored responder: say when its stream has no leader
                self._watched_stream = self.stream
                health_for(self.session).register(self.stream)
            await self._stop.wait()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = translate(exc, subject=self.spec.subject)
            self.state = ResponderState.FAILED
            self.error = str(error)
            raise error from exc
        finally:
            self.session.remove_user(self)
            watched, self._watched_stream = self._watched_stream, ""
            if watched:
                health_for(self.session).unregister(watched)
            await self.leave_connection()
            if self.state is not ResponderState.FAILED:
                self.state = ResponderState.STOPPED
            self.ready.set()  # nobody waits forever on a responder that never started

    async def leave_connection(self) -> None:
        """Unsubscribe (the session switches servers, or the responder stops)."""
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def join_connection(self) -> None:
        """Answer on the session's new connection: a core responder subscribes again; a stored
        one stops, saying why (its durable consumer is on the old server)."""
        if self.spec.mode is not ResponderMode.CORE:
            self.state = ResponderState.FAILED
            self.error = "stopped at the switch of server: its durable consumer is on the old one"
            self.stop()
            raise JstuiError(self.error)
        self._sub = await self._subscribe()
        await self.session.nc.flush()  # answering means the server has the subscription

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
