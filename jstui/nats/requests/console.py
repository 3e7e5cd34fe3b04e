"""The request-reply console, with no UI: send requests, keep their history and latency statistics.

Three modes:

- **request**: a core request (``nc.request``), the first reply wins.
- **gather**: publish once with a fresh inbox as the reply subject and collect every reply until the
  timeout or until N replies (scatter-gather to every responder listening).
- **stored**: the stored-request pattern: subscribe to a fresh inbox, publish the request into a
  stream through JetStream with a ``reply-to: <inbox>`` header, keep the publish acknowledgment
  (stream, sequence), then collect replies until the timeout or N replies. Durable consumers answer
  by publishing to the inbox, so a responder that starts after the request was stored still answers
  it while the requester listens.

In read-only mode (`check_allowed`) a request is a publish like any other: stored requests are
refused, and so are core and gather requests on a subject a stream captures (the stream would store
the request, and its "reply" is the PubAck) or on NATS's own API subjects (``$JS.``, ``$SYS.``,
a custom JetStream API prefix), where a request can delete a stream or ack a message. The
capturing stream is found with the JetStream API's ``STREAM.NAMES`` (`find_stream`) before
anything is sent.

Every request becomes a `RequestRecord` (record.py) in a bounded history; the NATS callbacks only
append replies to it and bump a version number, which the UI polls on a timer. Latency statistics
are kept per subject (first-reply latency of each request).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import OrderedDict

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg

from jstui.nats.errors import (
    JstuiError,
    NoRespondersError,
    NoStreamError,
    ReadOnlyError,
    RequestTimeoutError,
    translate,
)
from jstui.nats.feeds.feed import find_stream
from jstui.nats.requests.headers import REPLY_TO_HEADER, TIMEOUT_HEADER
from jstui.nats.requests.record import Reply, RequestRecord, RequestStatus
from jstui.nats.requests.spec import RequestMode, RequestSpec
from jstui.nats.session import Session
from jstui.nats.stats import LatencyStats

__all__ = ["RequestConsole"]

_STATUS_HEADER = "Status"
_NO_RESPONDERS_STATUS = "503"

MAX_REPLIES_KEPT = 200
"""Replies kept per request; more are counted, not stored (a gather can get thousands)."""
MAX_HISTORY = 500
MAX_HISTORY_BYTES = 64 * 1024 * 1024
"""Payload bytes kept across the whole history; the oldest requests go first past it."""
_PENDING_LIMIT = 10_000

API_PREFIXES = ("$JS.", "$SYS.")
"""NATS's own request subjects: JetStream's API, acks and advisories, the system account's."""

MAX_UNFOLDED = 4096
"""Latencies kept aside before they are folded into the statistics even if no view reads them."""


class RequestConsole:
    """Sends requests on the session's connection and keeps the history and statistics.

    `version` changes whenever anything a view shows changed, so a UI timer redraws only then.
    """

    def __init__(
        self,
        session: Session,
        *,
        max_history: int = MAX_HISTORY,
        max_bytes: int = MAX_HISTORY_BYTES,
        max_replies_kept: int = MAX_REPLIES_KEPT,
    ) -> None:
        self.session = session
        self.max_history = max_history
        self.max_bytes = max_bytes
        self.max_replies_kept = max_replies_kept
        self.history: OrderedDict[int, RequestRecord] = OrderedDict()
        self._stats: dict[str, LatencyStats] = {}
        # First-reply latencies not yet folded into `_stats`: the request path only appends,
        # the statistics are brought up to date when a view reads them (a few times a second).
        self._unfolded: list[tuple[str, float]] = []
        self.version = 0
        self._next_id = 1
        self._bytes = 0

    # -- public --------------------------------------------------------------------------------

    def get(self, record_id: int) -> RequestRecord | None:
        return self.history.get(record_id)

    @property
    def stats(self) -> dict[str, LatencyStats]:
        """Latency statistics per subject, over the first reply of every request."""
        self._fold()
        return self._stats

    def _fold(self) -> None:
        pending, self._unfolded = self._unfolded, []
        for subject, latency in pending:
            stats = self._stats.get(subject)
            if stats is None:
                stats = self._stats[subject] = LatencyStats(window=10_000)
            stats.add(latency)

    def clear(self) -> None:
        """Forget the history and the statistics (requests in flight finish unrecorded)."""
        self.history.clear()
        self._stats.clear()
        self._unfolded.clear()
        self._bytes = 0
        self.version += 1

    async def send(self, spec: RequestSpec) -> RequestRecord:
        """Send `spec`, wait for its outcome and return its record (also kept in the history).

        Failures (no responders, timeout, no stream, connection lost) are recorded in the record's
        status and error, never raised, except `ReadOnlyError` for a request that read-only mode
        refuses (`check_allowed`), raised before anything is sent or recorded.
        """
        if self.session.read_only:  # (tested here: one coroutine less on every request's path)
            await self.check_allowed(spec)
        record = self._new_record(spec)
        try:
            if spec.mode is RequestMode.REQUEST:
                await self._request(record)
            else:
                await self._collect(record)
        except asyncio.CancelledError:
            self._finish(record, RequestStatus.ERROR, "cancelled")
            raise
        except NoRespondersError:
            self._finish(record, RequestStatus.NO_RESPONDERS)
        except RequestTimeoutError:
            self._finish(record, RequestStatus.TIMED_OUT)
        except Exception as exc:  # anything else is shown as the request's error, never raised
            self._finish(record, RequestStatus.ERROR, str(translate(exc, subject=spec.subject)))
        return record

    async def check_allowed(self, spec: RequestSpec) -> None:
        """Raise `ReadOnlyError` when read-only mode refuses `spec`, saying why.

        A request is a publish: a stored request always stores one, and any other request is
        stored when a stream captures its subject. Requests on NATS's own API subjects can change
        streams, consumers or the server. When the capturing stream cannot be looked up, the
        request is refused too (nobody can tell whether it would be stored).
        """
        session = self.session
        if not session.read_only:
            return
        if spec.mode is RequestMode.STORED:
            raise ReadOnlyError("a stored request", "it publishes the request into a stream")
        subject = spec.subject
        action = f"a request on {subject}"
        if subject.startswith((*API_PREFIXES, f"{session.jetstream_api_prefix}.")):
            raise ReadOnlyError(
                action,
                "it is a NATS API subject, where a request can change streams, consumers, "
                "acknowledgements or the server",
            )
        try:
            stream = await find_stream(session, subject)
        except NoStreamError:
            return
        except NoRespondersError:
            return  # no JetStream API answers: nothing can store the request
        except JstuiError as error:
            raise ReadOnlyError(
                action, f"cannot tell whether a stream captures it ({error}), so it might be stored"
            ) from error
        raise ReadOnlyError(
            action, f"stream {stream} captures {subject}, so a request there would store a message"
        )

    # -- modes ---------------------------------------------------------------------------------

    async def _request(self, record: RequestRecord) -> None:
        spec = record.spec
        nc = self.session.nc
        headers = dict(spec.headers) or None
        start = time.perf_counter()
        try:
            msg = await nc.request(
                spec.subject, spec.payload, timeout=spec.timeout, headers=headers
            )
        except nats.errors.NoRespondersError as exc:
            raise NoRespondersError(f"no responders on {spec.subject!r}") from exc
        except nats.errors.TimeoutError as exc:
            raise RequestTimeoutError("timed out") from exc
        latency = time.perf_counter() - start
        self._add_reply(record, msg, latency)
        self._finish(record, RequestStatus.REPLIED)

    async def _collect(self, record: RequestRecord) -> None:
        """Gather and stored modes: replies to a fresh inbox until the timeout or N replies."""
        spec = record.spec
        nc = self.session.nc
        inbox = nc.new_inbox()
        record.inbox = inbox
        enough = asyncio.Event()
        no_responders = False
        start = 0.0

        async def on_reply(msg: Msg) -> None:
            nonlocal no_responders
            if (
                not msg.data
                and msg.headers
                and msg.headers.get(_STATUS_HEADER) == _NO_RESPONDERS_STATUS
            ):
                no_responders = True  # the server's own answer: nobody subscribed
                enough.set()
                return
            if spec.max_replies and record.reply_count >= spec.max_replies:
                return  # already queued behind the last one wanted: not part of the answer
            self._add_reply(record, msg, time.perf_counter() - start)
            if spec.max_replies and record.reply_count >= spec.max_replies:
                enough.set()

        sub = await nc.subscribe(
            inbox, cb=on_reply, pending_msgs_limit=_PENDING_LIMIT, pending_bytes_limit=16 << 20
        )
        try:
            headers = dict(spec.headers)
            start = time.perf_counter()
            if spec.mode is RequestMode.STORED:
                await self._publish_stored(record, headers, inbox)
            else:
                await nc.publish(spec.subject, spec.payload, reply=inbox, headers=headers or None)
            remaining = spec.timeout - (time.perf_counter() - start)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(enough.wait(), max(remaining, 0.0))
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        if record.reply_count:
            self._finish(record, RequestStatus.REPLIED)
        elif no_responders:
            self._finish(record, RequestStatus.NO_RESPONDERS)
        else:
            self._finish(record, RequestStatus.TIMED_OUT)

    async def _publish_stored(
        self, record: RequestRecord, headers: dict[str, str], inbox: str
    ) -> None:
        spec = record.spec
        headers[REPLY_TO_HEADER] = inbox
        headers[TIMEOUT_HEADER] = f"{spec.timeout:g}"
        # A publish that times out has an unknown outcome; the id makes a retry safe.
        headers.setdefault("Nats-Msg-Id", f"jstui-{uuid.uuid4().hex}")
        record.sent_headers = dict(headers)
        try:
            ack = await self.session.js.publish(
                spec.subject, spec.payload, timeout=min(spec.timeout, 5.0), headers=headers
            )
        except nats.js.errors.NoStreamResponseError as exc:
            raise NoStreamError(spec.subject) from exc
        except nats.errors.TimeoutError as exc:
            raise JstuiError("the stream did not acknowledge the publish in time") from exc
        except ValueError as exc:  # the "ack" was not JSON: a core subscriber answered first
            raise JstuiError(
                "the publish was answered by a core subscriber, not by the stream"
            ) from exc
        record.stream, record.seq, record.duplicate = ack.stream, ack.seq, bool(ack.duplicate)
        self._touch(record)

    # -- bookkeeping (on the loop, O(1) per reply) ---------------------------------------------

    def _new_record(self, spec: RequestSpec) -> RequestRecord:
        record = RequestRecord(id=self._next_id, spec=spec, started=time.time())
        record.nbytes = len(spec.payload)
        self._next_id += 1
        self.history[record.id] = record
        self._bytes += record.nbytes
        self._evict()
        self.version += 1
        return record

    def _evict(self) -> None:
        while len(self.history) > 1 and (
            len(self.history) > self.max_history or self._bytes > self.max_bytes
        ):
            _, old = self.history.popitem(last=False)
            self._bytes -= old.nbytes

    def _add_reply(self, record: RequestRecord, msg: Msg, latency: float) -> None:
        if len(record.replies) >= self.max_replies_kept:
            record.replies_not_kept += 1
        else:
            record.replies.append(Reply(msg.subject, msg.data, msg.headers, latency))
            size = len(msg.data)
            record.nbytes += size
            if record.id in self.history:
                self._bytes += size
        self._touch(record)

    def _touch(self, record: RequestRecord) -> None:
        record.version += 1
        self.version += 1

    def _finish(self, record: RequestRecord, status: RequestStatus, error: str = "") -> None:
        if record.finished:
            return
        record.status = status
        record.error = error
        record.finished = True
        if record.id in self.history:
            if record.replies:
                self._unfolded.append((record.spec.subject, record.replies[0].latency))
                if len(self._unfolded) >= MAX_UNFOLDED:  # nobody is reading: stay bounded
                    self._fold()
            self._evict()
        self._touch(record)
