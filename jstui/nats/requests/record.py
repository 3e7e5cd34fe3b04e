"""What came back from a request: `RequestRecord` (the history's entries) and each `Reply`.

The console (console.py) creates a record per request and, on the event loop, appends replies
and sets the outcome (`RequestStatus`), bumping ``version`` at each change; the pane reads the
records on its timer and shows `status_text`, `summary()`, latencies (`format_latency`) and who
answered (`reply_identity`).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from jstui.format.units import counted
from jstui.nats.requests.headers import (
    RESPONDER_HEADER,
    SERVICE_ERROR_CODE_HEADER,
    SERVICE_ERROR_HEADER,
)
from jstui.nats.requests.spec import RequestMode, RequestSpec

__all__ = ["Reply", "RequestRecord", "RequestStatus", "format_latency", "reply_identity"]

_FROM_TUTORIAL = re.compile(r"^Response from (.{1,64}?) : ")


class RequestStatus(StrEnum):
    WAITING = "waiting"
    REPLIED = "replied"
    TIMED_OUT = "timed out"
    NO_RESPONDERS = "no responders"
    ERROR = "error"


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
            return counted(count, "reply", "replies")
        return self.status.value

    def summary(self) -> str:
        """One line for a status bar or a notification (unsanitized subject: format it)."""
        what = f"{self.spec.mode.value} {self.spec.subject}"
        if self.status is RequestStatus.ERROR:
            return f"{what}: {self.error}"
        if self.status is RequestStatus.REPLIED and self.first_latency is not None:
            return f"{what}: {self.status_text} in {format_latency(self.first_latency)}"
        return f"{what}: {self.status_text}"
