"""JetStream advisories, watched on the app's shared connection: `AdvisoryWatch` and `Advisory`.

The server publishes an advisory on `$JS.EVENT.ADVISORY.<KIND...>` for what happens to streams
and consumers: created, deleted, a new leader, a message that ran out of deliveries or was
terminated, and (`.API`) every JetStream API call (nats-notes §14, "Advisories"). No system
account is needed: each account gets its own.

Data flow: one subscription on `$JS.EVENT.ADVISORY.>`, with messages handed over straight from
nats-py's read loop (`jstui.nats.direct`); the handler decodes the JSON into a frozen `Advisory`,
appends it to a bounded deque and bumps counters, nothing else, and never raises. The API audit
advisory fires on every API call, jstui's own polls included, so it is counted and not kept
unless `include_api` is set (the subject is checked before any decoding). Dead-letter advisories
(max deliveries, terminated) are also appended to a deque of their own, so a flood of other
events cannot push them out; `deadletters.py` reads them from there. Panes read the deques on a
timer (`since`). nats-py subscribes again by itself after a reconnect.

The counters always add up: received = kept + api_skipped + undecodable + dropped, where dropped
counts the advisories the bounded deque let go (the oldest, when full).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from jstui.nats.direct import subscribe_direct
from jstui.nats.session import Session

__all__ = [
    "ADVISORY_PREFIX",
    "ADVISORY_SUBJECT",
    "API_KIND",
    "DEAD_LETTER_KINDS",
    "MAX_DELIVERIES",
    "MSG_TERMINATED",
    "Advisory",
    "AdvisoryCounts",
    "AdvisoryWatch",
    "decode_advisory",
    "kind_of",
    "shown_of",
]

ADVISORY_SUBJECT = "$JS.EVENT.ADVISORY.>"
ADVISORY_PREFIX = "$JS.EVENT.ADVISORY."
API_KIND = "API"
API_SUBJECT = ADVISORY_PREFIX + API_KIND
MAX_DELIVERIES = "CONSUMER.MAX_DELIVERIES"
MSG_TERMINATED = "CONSUMER.MSG_TERMINATED"
DEAD_LETTER_KINDS = frozenset({MAX_DELIVERIES, MSG_TERMINATED})

DEFAULT_CAPACITY = 2_000
"""Advisories kept; the oldest go first (counted as dropped)."""
DEAD_LETTER_CAPACITY = 1_000
MAX_DECODED_BYTES = 64 * 1024
"""A larger payload is not decoded on the read loop (counted as undecodable): real advisories
are under 2 KB, and parsing a hostile megabyte there would stall every pane."""
MAX_RAW_CHARS = 8 * 1024
"""Characters of an advisory's JSON text kept for the detail view."""
MAX_FIELD_CHARS = 1_024
"""Characters kept of a string field (names, reasons); the server's own are far shorter."""
_PENDING_MSGS = 10_000
_PENDING_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Advisory:
    """One decoded advisory. Every string is as the server (or anyone who may publish on the
    subject) sent it: untrusted, to be sanitized before display."""

    index: int
    """1, 2, ... in the order kept: a key for table rows and for `AdvisoryWatch.since`."""
    received: float
    """When jstui received it (seconds since the epoch, from the session's clock)."""
    kind: str
    """The subject's type tokens: ``CONSUMER.MAX_DELIVERIES``, ``STREAM.CREATED``, ``API``..."""
    subject: str
    type: str = ""
    """The JSON ``type``, e.g. ``io.nats.jetstream.advisory.v1.max_deliver``."""
    stream: str = ""
    consumer: str = ""
    stream_seq: int | None = None
    consumer_seq: int | None = None
    deliveries: int | None = None
    reason: str = ""
    action: str = ""
    leader: str = ""
    call: str = ""
    """For an API audit advisory: the API subject called and the client's name."""
    raw: str = ""
    """The JSON text, at most `MAX_RAW_CHARS` characters (`raw_cut` says if it was longer)."""
    raw_cut: bool = False

    @property
    def is_dead_letter(self) -> bool:
        return self.kind in DEAD_LETTER_KINDS

    @property
    def seq(self) -> int | None:
        """The stream sequence, else the consumer sequence: what the table's seq column shows."""
        return self.stream_seq if self.stream_seq is not None else self.consumer_seq

    @property
    def detail(self) -> str:
        """One short line of what else the advisory says (reason, action, leader)."""
        parts = []
        if self.reason:
            parts.append(f"reason: {self.reason}")
        if self.action:
            parts.append(f"action: {self.action}")
        if self.leader:
            parts.append(f"leader: {self.leader}")
        if self.call:
            parts.append(self.call)
        return "; ".join(parts)

    def matches(self, text: str) -> bool:
        """True when `text` (any case) is part of the kind, the stream or the consumer."""
        needle = text.casefold()
        return any(needle in field.casefold() for field in (self.kind, self.stream, self.consumer))


@dataclass(frozen=True)
class AdvisoryCounts:
    """The watch's counters at one moment; received = kept + api_skipped + undecodable + dropped."""

    received: int = 0
    kept: int = 0
    api_skipped: int = 0
    undecodable: int = 0
    dropped: int = 0
    dead_letters: int = 0
    """Dead-letter advisories received (kept in their own deque, not part of the sum)."""


def kind_of(subject: str) -> tuple[str, list[str]]:
    """The advisory type of `subject` and the tokens after it (stream, consumer).

    ``$JS.EVENT.ADVISORY.API`` is ``API``; the others are two tokens, ``STREAM.CREATED``,
    ``CONSUMER.MAX_DELIVERIES``, ``DOMAIN.LEADER_ELECTED``, ``SERVER.OUT_OF_RESOURCES``...
    """
    tail = subject[len(ADVISORY_PREFIX) :] if subject.startswith(ADVISORY_PREFIX) else subject
    tokens = tail.split(".")
    if len(tokens) == 1:
        return tokens[0], []
    return ".".join(tokens[:2]), tokens[2:]


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if isinstance(value, str):
        return value[:MAX_FIELD_CHARS]
    return ""


def _number(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    # bool is an int in Python; JSON true is no sequence number
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _api_call(body: dict[str, Any]) -> str:
    """``$JS.API.STREAM.INFO.x by jstui``: what an API audit advisory says was called, by whom."""
    subject = _text(body, "subject")
    client = body.get("client")
    name = _text(client, "name") if isinstance(client, dict) else ""
    return f"{subject} by {name}" if name else subject


def decode_advisory(subject: str, data: bytes, *, index: int, received: float) -> Advisory:
    """The `Advisory` in `data`; `ValueError` when it is not a JSON object (or too large)."""
    if len(data) > MAX_DECODED_BYTES:
        raise ValueError(f"advisory of {len(data):,} bytes is too large to decode")
    body = json.loads(data)
    if not isinstance(body, dict):
        raise ValueError("an advisory is a JSON object")
    kind, rest = kind_of(subject)
    raw = data.decode("utf-8", "replace")
    # The JSON names the stream and consumer; the subject's tokens are the fallback.
    stream = _text(body, "stream") or (rest[0][:MAX_FIELD_CHARS] if rest else "")
    consumer = _text(body, "consumer")
    if not consumer and kind.startswith("CONSUMER.") and len(rest) > 1:
        consumer = ".".join(rest[1:])[:MAX_FIELD_CHARS]
    return Advisory(
        index=index,
        received=received,
        kind=kind[:MAX_FIELD_CHARS],
        subject=subject[:MAX_FIELD_CHARS],
        type=_text(body, "type"),
        stream=stream,
        consumer=consumer,
        stream_seq=_number(body, "stream_seq"),
        consumer_seq=_number(body, "consumer_seq"),
        deliveries=_number(body, "deliveries"),
        reason=_text(body, "reason"),
        action=_text(body, "action"),
        leader=_text(body, "leader"),
        call=_api_call(body) if kind == API_KIND else "",
        raw=raw[:MAX_RAW_CHARS],
        raw_cut=len(raw) > MAX_RAW_CHARS,
    )


class AdvisoryWatch:
    """The advisories of the account, as they come: `start(session)` once, `stop()` at the end.

    Read `advisories` (oldest first), `since(index)` for what is new, `dead_letter_advisories`
    and `counts()`. `include_api` may be switched at any time; it decides only about advisories
    still to come.
    """

    def __init__(
        self,
        *,
        capacity: int = DEFAULT_CAPACITY,
        dead_letter_capacity: int = DEAD_LETTER_CAPACITY,
        include_api: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.advisories: deque[Advisory] = deque(maxlen=capacity)
        self.dead_letter_advisories: deque[Advisory] = deque(maxlen=dead_letter_capacity)
        self.include_api = include_api
        self._clock = clock
        self._sub: Subscription | None = None
        self._next_index = 1
        self.received = 0
        self.api_skipped = 0
        self.undecodable = 0
        self.dropped = 0
        self.dead_letters = 0
        self.last_error = ""
        """Why the last undecodable advisory could not be read (for the pane's counters line)."""

    @property
    def started(self) -> bool:
        return self._sub is not None

    @property
    def version(self) -> int:
        """Changes whenever anything arrived: a pane redraws only then."""
        return self.received

    async def start(self, session: Session) -> None:
        """Subscribe on the session's connection (and read its clock). A second call does nothing.
        Raises `NotConnectedError` when the session has no connection yet."""
        if self._sub is not None:
            return
        self._clock = session.clocks.wall
        self._sub = await subscribe_direct(
            session.nc,
            ADVISORY_SUBJECT,
            self.on_message,
            pending_msgs_limit=_PENDING_MSGS,
            pending_bytes_limit=_PENDING_BYTES,
        )

    async def stop(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            # the connection may be gone already: then there is nothing left to undo
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    def on_message(self, msg: Msg) -> None:
        """The message path: decode, append, count. Runs in nats-py's read loop; never raises."""
        self.received += 1
        try:
            subject = msg.subject
            if subject == API_SUBJECT and not self.include_api:
                self.api_skipped += 1
                return
            advisory = decode_advisory(
                subject, msg.data, index=self._next_index, received=self._clock()
            )
        except Exception as error:  # hostile or broken JSON: counted, never raised
            self.undecodable += 1
            self.last_error = str(error)[:200]
            return
        self._next_index += 1
        if len(self.advisories) == self.advisories.maxlen:
            self.dropped += 1
        self.advisories.append(advisory)
        if advisory.is_dead_letter:
            self.dead_letters += 1
            self.dead_letter_advisories.append(advisory)

    def since(self, index: int) -> list[Advisory]:
        """The advisories kept after `index` (0: all), oldest first."""
        newer: list[Advisory] = []
        for advisory in reversed(self.advisories):
            if advisory.index <= index:
                break
            newer.append(advisory)
        newer.reverse()
        return newer

    def counts(self) -> AdvisoryCounts:
        return AdvisoryCounts(
            received=self.received,
            kept=len(self.advisories),
            api_skipped=self.api_skipped,
            undecodable=self.undecodable,
            dropped=self.dropped,
            dead_letters=self.dead_letters,
        )

    def matching(self, text: str, *, include_api: bool, limit: int) -> list[Advisory]:
        """The newest `limit` kept advisories that match `text` (all when empty), oldest first;
        API audit advisories only when `include_api`."""
        found: list[Advisory] = []
        for advisory in reversed(self.advisories):
            if len(found) >= limit:
                break
            if _shown(advisory, text, include_api):
                found.append(advisory)
        found.reverse()
        return found


def _shown(advisory: Advisory, text: str, include_api: bool) -> bool:
    if advisory.kind == API_KIND and not include_api:
        return False
    return not text or advisory.matches(text)


def shown_of(advisories: Iterable[Advisory], text: str, *, include_api: bool) -> list[Advisory]:
    """The advisories a view with filter `text` and the API switch shows, in the same order."""
    return [advisory for advisory in advisories if _shown(advisory, text, include_api)]
