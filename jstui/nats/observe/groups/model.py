"""The groups' vocabulary: what a group is, what a watch sees, and `--watch NAME` matching.

Frozen dataclasses only (plus a few pure helpers), shared by discovery (`discovery.py`) and the
watch (`watch.py`) and handed to the Workers pane as they are. Every text in them that came from
the server (subjects, names, notes built from them) is untrusted: the widgets sanitize it.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ConsumerFigures",
    "GroupKind",
    "GroupRef",
    "GroupSummary",
    "WatchSnapshot",
    "WatchState",
    "WatchedMember",
    "fairness",
    "is_inbox",
    "match_groups",
    "short_inbox",
    "subjects_collide",
]

INBOX_PREFIX = "_INBOX."


class GroupKind(StrEnum):
    CORE = "core queue group"
    """subject + queue from connection subscriptions"""
    PUSH = "deliver group"
    """a JetStream push consumer with a deliver_group"""
    PULL = "pull consumer"
    """a JetStream pull consumer (members cannot be attributed)"""
    SERVICE = "micro service"
    """one endpoint of a NATS micro service"""


@dataclass(frozen=True)
class GroupRef:
    """Which group: enough to find it again on the next poll."""

    kind: GroupKind
    subject: str = ""
    """CORE: the subscribed subject; PUSH: the consumer's deliver subject; SERVICE: the endpoint
    subject; PULL: "" (its filter subjects are in the consumer figures)."""
    queue: str = ""
    """CORE/PUSH: the queue group; SERVICE: the endpoint's queue group."""
    stream: str = ""
    consumer: str = ""
    service: str = ""
    endpoint: str = ""

    def _names(self) -> tuple[str, str, str]:
        """The kind's key prefix and the two names that identify the group."""
        if self.kind is GroupKind.CORE:
            return "core", self.subject, self.queue
        if self.kind is GroupKind.SERVICE:
            return "srv", self.service, self.endpoint
        return "js", self.stream, self.consumer

    @property
    def key(self) -> str:
        """Unique and stable over polls: "core:SUBJECT@QUEUE", "js:STREAM/CONSUMER",
        "srv:SERVICE/ENDPOINT"."""
        prefix, first, second = self._names()
        return f"{prefix}:{first}{'@' if prefix == 'core' else '/'}{second}"

    @property
    def title(self) -> str:
        """What the user reads (untrusted parts inside: sanitize)."""
        prefix, first, second = self._names()
        return first + {"core": "@", "srv": " · "}.get(prefix, "/") + second


@dataclass(frozen=True)
class GroupSummary:
    """One row of the group list."""

    ref: GroupRef
    members: int
    """Subscriptions / instances seen now (PULL: waiting pull requests)."""
    delivered: int
    """Sum of what the server delivered to them (PUSH/PULL: the consumer's delivered
    consumer_seq; SERVICE: the instances' num_requests)."""


class WatchState(StrEnum):
    ACTIVE = "active"
    IDLE = "idle"
    LEFT = "left"
    ORPHAN = "orphan"
    OTHER_FILTER = "other filter"


@dataclass(frozen=True)
class WatchedMember:
    key: str
    """Stable across polls (server/cid/sid; a service instance id)."""
    label: str
    """Connection name, or ip:port + client library; untrusted (sanitize)."""
    server: str
    """The server holding the connection."""
    subject: str
    """Its subscription's subject (untrusted)."""
    client: str
    """E.g. "python3 2.16.0"."""
    delivered: int
    """Since its connection connected (SERVICE: num_requests)."""
    rate: float
    """Per second, from the last two polls."""
    share: float
    """delivered / sum over the present members (0..1)."""
    first_seen: float
    last_seen: float
    state: WatchState
    note: str = ""
    """Why: orphan explanation, other filter, idle for how long (untrusted parts inside)."""
    errors: int = 0
    """SERVICE only."""
    average_ns: int = 0
    """SERVICE only: average processing time."""


@dataclass(frozen=True)
class ConsumerFigures:
    """A push or pull consumer's figures, from consumer info (JetStream API, read-only)."""

    delivered: int
    stream_seq: int
    ack_floor: int
    pending: int
    ack_pending: int
    redelivered: int
    waiting: int
    rate: float
    """Delivered per second between the last two polls."""
    deliver_subject: str
    deliver_group: str
    filter_subjects: tuple[str, ...]
    push_bound: bool


@dataclass(frozen=True)
class WatchSnapshot:
    ref: GroupRef
    members: tuple[WatchedMember, ...]
    """Present ones first (by delivered, descending), then the ones that left."""
    consumer: ConsumerFigures | None
    max_min: float | None
    """Fairness over ACTIVE members: max/min of delivered (None: fewer than 2 or a 0)."""
    cv: float | None
    """Coefficient of variation of delivered over ACTIVE members."""
    members_total: int
    """Sum of delivered over present members."""
    notes: tuple[str, ...]
    source: str
    """The Observer source that answered (e.g. "system account")."""
    at: float
    """Wall clock of the poll."""


def match_groups(name: str, groups: Sequence[GroupSummary]) -> list[GroupRef]:
    """`--watch NAME`: a queue group name (all subjects using it), SUBJECT@QUEUE,
    STREAM/CONSUMER, or a micro service name (all its endpoints); [] when none.

    A consumer's name alone matches it too (a pull consumer has no queue name)."""
    subject, at, queue = name.rpartition("@")
    stream, slash, consumer = name.partition("/")

    def matches(ref: GroupRef) -> bool:
        if ref.kind in (GroupKind.CORE, GroupKind.PUSH) and ref.queue == name:
            return True
        if at and ref.kind is not GroupKind.PULL and (ref.subject, ref.queue) == (subject, queue):
            return True
        if ref.kind in (GroupKind.PUSH, GroupKind.PULL):
            return (bool(slash) and (ref.stream, ref.consumer) == (stream, consumer)) or (
                ref.consumer == name
            )
        return ref.kind is GroupKind.SERVICE and ref.service == name

    found: dict[str, GroupRef] = {}
    for summary in groups:
        if matches(summary.ref):
            found.setdefault(summary.ref.key, summary.ref)
    return list(found.values())


def is_inbox(subject: str) -> bool:
    """A client's reply/deliver inbox, as nats-py (and most clients) name them."""
    return subject.startswith(INBOX_PREFIX)


def short_inbox(subject: str) -> str:
    """`_INBOX.…XTi`: an inbox cut to its last characters, as the notes show it."""
    if is_inbox(subject) and len(subject) > len(INBOX_PREFIX) + 4:
        return f"{INBOX_PREFIX}…{subject[-3:]}"
    return subject


def subjects_collide(first: str, second: str) -> bool:
    """Some subject matches both patterns (`*` one token, `>` the rest)."""
    a, b = first.split("."), second.split(".")
    for x, y in zip(a, b, strict=False):
        if x == ">" or y == ">":
            return True
        if x != y and "*" not in (x, y):
            return False
    return len(a) == len(b)


def fairness(counts: Sequence[int]) -> tuple[float | None, float | None]:
    """max/min (None with fewer than 2 or a 0) and the coefficient of variation (None with fewer
    than 2 or a mean of 0)."""
    if len(counts) < 2:
        return None, None
    lowest = min(counts)
    max_min = max(counts) / lowest if lowest > 0 else None
    mean = statistics.fmean(counts)
    cv = statistics.pstdev(counts) / mean if mean > 0 else None
    return max_min, cv
