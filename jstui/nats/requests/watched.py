"""What the request watcher (watch.py) records: one `WatchedRequest` per request seen on the
watched subject, its `WatchOutcome`, and the `WatchCounts` that add up.

Data flow: `RequestWatch` creates a record when a request arrives (from nats-py's read loop),
adds replies to it and closes it when its window ends, bumping ``version`` at each change; the
Request/Reply pane's Watch tab reads the records and counts on its redraw timer. Payloads are kept
only up to `KEPT_BYTES` each (the request and its first reply), so memory stays bounded whatever
the traffic. Nothing here is sanitized: format every value before showing it.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from enum import StrEnum

from jstui.format.units import counted
from jstui.nats.requests.record import format_latency

__all__ = ["KEPT_BYTES", "WatchCounts", "WatchOutcome", "WatchedRequest"]

KEPT_BYTES = 4096
"""Bytes kept of a request's payload and of its first reply (the sizes are kept whole)."""


class WatchOutcome(StrEnum):
    WAITING = "waiting"
    REPLIED = "replied"
    NO_REPLY = "no reply"
    NO_RESPONDERS = "no responders"


@dataclass(eq=False, slots=True)
class WatchedRequest:
    """A request another program sent, and what jstui saw come back. Mutated on the event loop."""

    id: int
    subject: str
    reply_to: str
    """Where the answer goes: the message's reply subject, or its ``reply-to`` header."""
    stored: bool
    """The stored-request pattern: the answer goes to the ``reply-to`` header's inbox."""
    seen: float
    """Wall-clock time (time.time()) jstui saw the request."""
    seen_at: float
    """The same moment on the monotonic clock the latencies are measured with."""
    window: float
    """Seconds the watcher waits for a reply before saying "no reply"."""
    size: int
    data: bytes
    """The first `KEPT_BYTES` of the payload."""
    headers: dict[str, str] | None = None
    ack_to: str = ""
    """A stored request published through JetStream: the publisher's inbox for the stream's
    acknowledgement (the message's own reply subject)."""
    stream: str | None = None
    """The stream and sequence the acknowledgement named, once seen."""
    seq: int | None = None
    outcome: WatchOutcome = WatchOutcome.WAITING
    replies: int = 0
    first_latency: float | None = None
    last_latency: float | None = None
    reply_size: int = 0
    reply_data: bytes = b""
    """The first `KEPT_BYTES` of the first reply's payload."""
    reply_headers: dict[str, str] | None = None
    late: bool = False
    """jstui began listening on the reply subject only after it saw the request: a reply sent
    faster than that subscription reached the server was not seen."""
    unheard: str = ""
    """Why jstui could not listen for the reply at all (a reply-to header that is no subject)."""
    cut_short: bool = False
    """Closed before its window ended: more requests were waiting than the watcher keeps."""
    closed: bool = False
    """The window ended (or was cut short): later replies are no longer counted."""
    version: int = 0

    @property
    def expires_at(self) -> float:
        return self.seen_at + self.window

    @property
    def outcome_text(self) -> str:
        """What the row shows: replied, N replies, no reply within N s, no responders, waiting."""
        if self.outcome is WatchOutcome.REPLIED:
            return "replied" if self.replies == 1 else f"{self.replies:,} replies"
        if self.outcome is WatchOutcome.NO_REPLY:
            if self.cut_short:
                return "no reply (cut short)"
            text = f"no reply in {self.window:g}s"
            if self.unheard:
                return f"{text}, not listened"
            return f"{text}, listened late" if self.late else text
        return self.outcome.value

    def summary(self) -> str:
        """One line (unsanitized subject: format it)."""
        latency = f" in {format_latency(self.first_latency)}" if self.first_latency else ""
        return f"{self.subject}: {self.outcome_text}{latency}"

    def note_ack(self, data: bytes) -> bool:
        """Read the stream's acknowledgement of a stored request; False if `data` is none."""
        if not data.startswith(b"{"):
            return False
        with contextlib.suppress(ValueError):
            ack = json.loads(data)
            if isinstance(ack, dict) and "stream" in ack and "seq" in ack:
                self.stream, self.seq = str(ack["stream"]), int(ack["seq"])
                self.version += 1
                return True
        return False


@dataclass(slots=True)
class WatchCounts:
    """The watcher's counters since it started. Every request seen is in exactly one of
    replied, no responders, no reply (timed out) and waiting, so ``seen`` is their sum."""

    seen: int = 0
    replied: int = 0
    no_responders: int = 0
    no_reply: int = 0
    waiting: int = 0
    cut_short: int = 0
    """Of `no_reply`: closed early because too many requests were waiting."""
    replies: int = 0
    """Every reply matched, several per request included."""
    not_requests: int = 0
    """Messages on the watched subject with neither a reply subject nor a reply-to header."""
    other_inbox: int = 0
    """Messages on the inboxes jstui listens on that answered no request it watches."""

    @property
    def adds_up(self) -> bool:
        return self.seen == self.replied + self.no_responders + self.no_reply + self.waiting

    def describe(self) -> str:
        """``seen 12 = replied 10 + no reply 1 + waiting 1`` and the other counts."""
        text = f"seen {self.seen:,} = replied {self.replied:,} + no reply {self.no_reply:,}"
        if self.cut_short:
            text += f" ({self.cut_short:,} cut short)"
        if self.no_responders:
            text += f" + no responders {self.no_responders:,}"
        text += f" + waiting {self.waiting:,}"
        extras = [counted(self.replies, "reply", "replies")]
        if self.not_requests:
            extras.append(f"{self.not_requests:,} not requests")
        return f"{text} · {' · '.join(extras)}"
