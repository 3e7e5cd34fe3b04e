"""The request-reply console, with no UI: send requests, keep their history and latency statistics,
and save requests by name.

Three modes:

- **request**: a core request (``nc.request``), the first reply wins.
- **gather**: publish once with a fresh inbox as the reply subject and collect every reply until the
  timeout or until N replies (scatter-gather to every responder listening).
- **stored**: the stored-request pattern: subscribe to a fresh inbox, publish the request into a
  stream through JetStream with a ``reply-to: <inbox>`` header, keep the publish acknowledgment
  (stream, sequence), then collect replies until the timeout or N replies. Durable consumers answer
  by publishing to the inbox, so a responder that starts after the request was stored still answers
  it while the requester listens.

Every request becomes a `RequestRecord` in a bounded history; the NATS callbacks only append
replies to it and bump a version number, which the UI polls on a timer. Latency statistics are kept
per subject (first-reply latency of each request). `SavedRequests` keeps named requests in a JSON
file in the user's config directory (`platformdirs`); the directory is injectable for tests.

No Textual import here.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import tempfile
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import nats.errors
import nats.js.errors
import platformdirs
from nats.aio.msg import Msg

from jstui.format.units import parse_duration
from jstui.nats.errors import (
    JstuiError,
    NoRespondersError,
    NoStreamError,
    RequestTimeoutError,
    SpecErrors,
    ValidationError,
    translate,
)
from jstui.nats.names import subject_problem
from jstui.nats.session import Session
from jstui.nats.stats import LatencyStats

__all__ = [
    "REPLY_TO_HEADER",
    "RESPONDER_HEADER",
    "SERVICE_ERROR_CODE_HEADER",
    "SERVICE_ERROR_HEADER",
    "TIMEOUT_HEADER",
    "Reply",
    "RequestConsole",
    "RequestMode",
    "RequestRecord",
    "RequestSpec",
    "RequestStatus",
    "SavedRequests",
    "default_config_dir",
    "format_headers",
    "format_latency",
    "parse_headers",
    "reply_identity",
]

REPLY_TO_HEADER = "reply-to"
"""Names the inbox a stored request's answer goes to (the tutorial's header, lower case)."""
TIMEOUT_HEADER = "Jstui-Timeout"
"""Seconds the requester listens; jstui's stored responders skip requests older than this."""
RESPONDER_HEADER = "Jstui-Responder"
"""The name of the jstui responder that sent a reply."""
SERVICE_ERROR_HEADER = "Nats-Service-Error"
"""The NATS micro-services convention for an error reply (with the code below)."""
SERVICE_ERROR_CODE_HEADER = "Nats-Service-Error-Code"
_STATUS_HEADER = "Status"
_NO_RESPONDERS_STATUS = "503"

DEFAULT_TIMEOUT = 2.0
MAX_TIMEOUT = 3600.0
MAX_REPLIES_KEPT = 200
"""Replies kept per request; more are counted, not stored (a gather can get thousands)."""
MAX_HISTORY = 500
MAX_HISTORY_BYTES = 64 * 1024 * 1024
"""Payload bytes kept across the whole history; the oldest requests go first past it."""
_PENDING_LIMIT = 10_000

# A header name is an RFC 7230 token: visible ASCII but no separators (':' ends the name anyway).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FROM_TUTORIAL = re.compile(r"^Response from (.{1,64}?) : ")
_SAVED_NAME_MAX = 64


class RequestMode(StrEnum):
    REQUEST = "request"
    GATHER = "gather"
    STORED = "stored"


class RequestStatus(StrEnum):
    WAITING = "waiting"
    REPLIED = "replied"
    TIMED_OUT = "timed out"
    NO_RESPONDERS = "no responders"
    ERROR = "error"


# -- parsing what the user typed ---------------------------------------------------------------


def parse_headers(text: str) -> tuple[tuple[str, str], ...]:
    """``Key: Value`` lines to header pairs, in order; blank lines are ignored.

    Raises `ValidationError` naming the first bad line: no colon, an empty or invalid name, or a
    name given twice (nats-py sends one value per name).
    """
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon:
            raise ValidationError("headers", f"line {number}: expected 'Key: Value'")
        if not name:
            raise ValidationError("headers", f"line {number}: the header name is empty")
        if not _HEADER_NAME.fullmatch(name):
            raise ValidationError(
                "headers", f"line {number}: invalid header name (letters, digits, - and _ only)"
            )
        if name.lower() in seen:
            raise ValidationError("headers", f"line {number}: {name} is given twice")
        if any(not c.isprintable() for c in value):
            raise ValidationError("headers", f"line {number}: the value has control characters")
        seen.add(name.lower())
        pairs.append((name, value.strip()))
    return tuple(pairs)


def format_headers(headers: Iterable[tuple[str, str]]) -> str:
    """The form text of header pairs, one ``Key: Value`` per line."""
    return "\n".join(f"{key}: {value}" for key, value in headers)


def parse_timeout(text: str) -> float:
    """Seconds from "2", "2s", "500ms", "1m"; must be more than 0 and at most an hour."""
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise ValidationError("timeout", str(exc)) from exc
    if seconds is None:
        raise ValidationError("timeout", "a timeout must be more than 0")
    if seconds > MAX_TIMEOUT:
        raise ValidationError("timeout", "at most 1h")
    return seconds


def parse_max_replies(text: str) -> int:
    """N for "until N replies"; "" or 0 means until the timeout."""
    raw = text.strip()
    if not raw:
        return 0
    if not raw.isdigit():
        raise ValidationError("max_replies", "a whole number (empty = until the timeout)")
    return int(raw)


def format_latency(seconds: float | None) -> str:
    """``0.42 ms``, ``12.3 ms``, ``250 ms``, ``1.25 s``; ``-`` for none. At most 8 characters."""
    if seconds is None:
        return "-"
    ms = seconds * 1000
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 100:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{seconds:.2f} s"


def _format_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class RequestSpec:
    """One request as the form describes it; validated on construction through `from_form`."""

    subject: str
    mode: RequestMode = RequestMode.REQUEST
    payload: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    max_replies: int = 0
    """Gather and stored modes: stop after this many replies (0 = collect until the timeout)."""

    @classmethod
    def from_form(
        cls,
        *,
        subject: str,
        mode: str,
        payload: str = "",
        headers: str = "",
        timeout: str = "2s",
        max_replies: str = "",
    ) -> RequestSpec:
        """Check every field; raise `SpecErrors` keyed by field name with all problems at once."""
        errors: dict[str, str] = {}
        subject = subject.strip()
        problem = subject_problem(subject, wildcards=False)
        if problem:
            errors["subject"] = problem
        try:
            request_mode = RequestMode(mode)
        except ValueError:
            errors["mode"] = "request, gather or stored"
            request_mode = RequestMode.REQUEST
        pairs: tuple[tuple[str, str], ...] = ()
        try:
            pairs = parse_headers(headers)
        except ValidationError as exc:
            errors["headers"] = exc.message
        if request_mode is RequestMode.STORED and any(
            key.lower() == REPLY_TO_HEADER for key, _ in pairs
        ):
            errors["headers"] = "stored mode sets reply-to itself (to jstui's inbox)"
        seconds = DEFAULT_TIMEOUT
        try:
            seconds = parse_timeout(timeout)
        except ValidationError as exc:
            errors["timeout"] = exc.message
        limit = 0
        try:
            limit = parse_max_replies(max_replies)
        except ValidationError as exc:
            errors["max_replies"] = exc.message
        if errors:
            raise SpecErrors(errors)
        return cls(
            subject=subject,
            mode=request_mode,
            payload=payload.encode("utf-8", "surrogatepass"),
            headers=pairs,
            timeout=seconds,
            max_replies=limit,
        )

    @property
    def payload_text(self) -> str:
        return self.payload.decode("utf-8", "replace")

    @property
    def timeout_text(self) -> str:
        return _format_seconds(self.timeout)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "subject": self.subject,
            "mode": self.mode.value,
            "headers": [list(pair) for pair in self.headers],
            "timeout": self.timeout,
            "max_replies": self.max_replies,
        }
        try:
            data["payload"] = self.payload.decode("utf-8")
        except UnicodeDecodeError:
            data["payload_base64"] = base64.b64encode(self.payload).decode("ascii")
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestSpec:
        """Read back `to_json`; raises `ValueError` (with the field) on anything unexpected."""
        subject = data.get("subject")
        if not isinstance(subject, str) or subject_problem(subject, wildcards=False):
            raise ValueError("subject: missing or invalid")
        mode = RequestMode(str(data.get("mode", "request")))
        if "payload_base64" in data:
            payload = base64.b64decode(str(data["payload_base64"]), validate=True)
        else:
            text = data.get("payload", "")
            if not isinstance(text, str):
                raise ValueError("payload: not text")
            payload = text.encode("utf-8", "surrogatepass")
        raw_headers = data.get("headers", [])
        if not isinstance(raw_headers, list):
            raise ValueError("headers: not a list")
        headers = parse_headers(
            "\n".join(f"{pair[0]}: {pair[1]}" for pair in raw_headers if len(pair) == 2)
        )
        timeout = float(data.get("timeout", DEFAULT_TIMEOUT))
        if not 0 < timeout <= MAX_TIMEOUT:
            raise ValueError("timeout: out of range")
        max_replies = int(data.get("max_replies", 0))
        if max_replies < 0:
            raise ValueError("max_replies: negative")
        return cls(subject, mode, payload, headers, timeout, max_replies)


# -- history -----------------------------------------------------------------------------------


def reply_identity(headers: Mapping[str, str] | None, data: bytes) -> str | None:
    """Who answered, when the reply says: jstui's responder header, a NATS micro service id, a
    stream (its publish acknowledgment: a stream captures the request's subject), or the
    tutorial's ``Response from <name> : ...`` payload. Unsanitized: format before showing."""
    if headers:
        for key in (RESPONDER_HEADER, "Nats-Service-Id", "Nats-Service-Name"):
            value = headers.get(key)
            if value:
                return value
    if data.startswith(b'{"stream":'):  # the subject is also captured by a stream
        with contextlib.suppress(ValueError):
            ack = json.loads(data)
            if isinstance(ack, dict) and "seq" in ack:
                return f"stream {ack['stream']}"
    match = _FROM_TUTORIAL.match(data[:200].decode("utf-8", "replace"))
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply as received; `latency` is seconds from sending the request."""

    subject: str
    data: bytes
    headers: dict[str, str] | None
    latency: float

    @property
    def responder(self) -> str | None:
        return reply_identity(self.headers, self.data)

    @property
    def error(self) -> str | None:
        """The service error a reply carries (``Nats-Service-Error``), if any."""
        if not self.headers or SERVICE_ERROR_HEADER not in self.headers:
            return None
        code = self.headers.get(SERVICE_ERROR_CODE_HEADER, "")
        text = self.headers[SERVICE_ERROR_HEADER]
        return f"{code} {text}".strip()


@dataclass(eq=False, slots=True)
class RequestRecord:
    """A request and what came back. Mutated on the event loop only; `version` bumps each change."""

    id: int
    spec: RequestSpec
    started: float
    """Wall-clock time (time.time()) the request was sent."""
    status: RequestStatus = RequestStatus.WAITING
    replies: list[Reply] = field(default_factory=list)
    replies_not_kept: int = 0
    """Replies past `MAX_REPLIES_KEPT`: counted, not stored."""
    error: str = ""
    sent_headers: dict[str, str] | None = None
    """Stored mode: the headers as published (with reply-to, Jstui-Timeout and Nats-Msg-Id)."""
    stream: str | None = None
    """Stored mode: the stream and sequence of the publish acknowledgment."""
    seq: int | None = None
    duplicate: bool = False
    inbox: str = ""
    nbytes: int = 0
    version: int = 0
    finished: bool = False

    @property
    def reply_count(self) -> int:
        return len(self.replies) + self.replies_not_kept

    @property
    def first_latency(self) -> float | None:
        return self.replies[0].latency if self.replies else None

    @property
    def last_latency(self) -> float | None:
        return self.replies[-1].latency if self.replies else None

    @property
    def status_text(self) -> str:
        """What the history shows: replied, N replies, timed out, no responders, error..."""
        if self.status is RequestStatus.WAITING:
            count = self.reply_count
            return f"waiting ({count})" if count else "waiting"
        if self.status is RequestStatus.REPLIED:
            if self.replies and self.replies[0].error and self.reply_count == 1:
                return "error reply"
            if self.spec.mode is RequestMode.REQUEST:
                return "replied"
            count = self.reply_count
            return "1 reply" if count == 1 else f"{count:,} replies"
        return self.status.value

    def summary(self) -> str:
        """One line for a status bar or a notification (unsanitized subject: format it)."""
        what = f"{self.spec.mode.value} {self.spec.subject}"
        if self.status is RequestStatus.ERROR:
            return f"{what}: {self.error}"
        if self.status is RequestStatus.REPLIED and self.first_latency is not None:
            return f"{what}: {self.status_text} in {format_latency(self.first_latency)}"
        return f"{what}: {self.status_text}"


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
        status and error, never raised, except `ReadOnlyError` for a stored request in read-only
        mode, raised before anything is sent or recorded.
        """
        if spec.mode is RequestMode.STORED:
            self.session.check_writable("a stored request (it publishes into a stream)")
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


# -- saved requests ----------------------------------------------------------------------------


def default_config_dir() -> Path:
    """Where jstui keeps its files: the user's config directory (platformdirs)."""
    return Path(platformdirs.user_config_dir("jstui"))


class SavedRequests:
    """Named requests in ``<directory>/requests.json``; written atomically.

    A file that cannot be read or parsed is reported (`JstuiError` with its path) and never
    overwritten, so nothing the user saved is lost by a save that follows.
    """

    FILE_NAME = "requests.json"

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else default_config_dir()

    @property
    def path(self) -> Path:
        return self.directory / self.FILE_NAME

    def load(self) -> dict[str, RequestSpec]:
        """Every saved request by name ({} when there is no file yet); skips unreadable entries."""
        raw = self._read()
        out: dict[str, RequestSpec] = {}
        for name, data in raw.items():
            if not isinstance(data, dict):
                continue
            with contextlib.suppress(ValueError, TypeError, ValidationError):
                out[name] = RequestSpec.from_json(data)
        return out

    def save(self, name: str, spec: RequestSpec) -> None:
        """Save (or replace) `spec` under `name`."""
        name = self.check_name(name)
        raw = self._read()
        raw[name] = spec.to_json()
        self._write(raw)

    def delete(self, name: str) -> bool:
        raw = self._read()
        if name not in raw:
            return False
        del raw[name]
        self._write(raw)
        return True

    @staticmethod
    def check_name(name: str) -> str:
        name = name.strip()
        if not name:
            raise ValidationError("name", "give the request a name to save it")
        if len(name) > _SAVED_NAME_MAX:
            raise ValidationError("name", f"at most {_SAVED_NAME_MAX} characters")
        if any(not c.isprintable() for c in name):
            raise ValidationError("name", "no control characters")
        return name

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise JstuiError(f"cannot read {self.path}: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise JstuiError(
                f"{self.path} is not valid JSON (line {exc.lineno}); fix or move it"
            ) from None
        requests = data.get("requests") if isinstance(data, dict) else None
        if not isinstance(requests, dict):
            raise JstuiError(f"{self.path} does not hold saved requests; fix or move it")
        return dict(requests)

    def _write(self, requests: dict[str, Any]) -> None:
        text = json.dumps({"version": 1, "requests": requests}, indent=2, ensure_ascii=False)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".requests-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            raise JstuiError(f"cannot save to {self.path}: {exc.strerror or exc}") from exc
