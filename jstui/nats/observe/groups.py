"""Groups of workers, watched from outside: discovery and the live picture of one group.

A *group* is anything that shares work among members: a core queue group (subject + queue on
connection subscriptions), a JetStream push consumer with a deliver group, a pull consumer, or
one endpoint of a NATS micro service. `discover_groups` lists every group visible now (one
connections question, one stream/consumer listing, one `$SRV.PING` round); `GroupWatch.poll`
gives the live picture of one group (members, their counts, rates, shares, fairness, notes)
without joining it: it only asks the `Observer` (connections), the JetStream API (consumer info,
read-only) and the micro services (`$SRV.STATS`). `match_groups` resolves `--watch NAME`.

Every text that came from the server (subjects, names, notes built from them) is untrusted: the
widgets sanitize it before display.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from jstui.nats.errors import JstuiError
from jstui.nats.observe.model import Connection
from jstui.nats.observe.observer import Observer
from jstui.nats.session import Session

__all__ = [
    "ConsumerFigures",
    "GroupKind",
    "GroupRef",
    "GroupSummary",
    "GroupWatch",
    "WatchSnapshot",
    "WatchState",
    "WatchedMember",
    "discover_groups",
    "match_groups",
]


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

    @property
    def key(self) -> str:
        """Unique and stable over polls."""
        if self.kind is GroupKind.CORE:
            return f"core:{self.subject}@{self.queue}"
        if self.kind is GroupKind.SERVICE:
            return f"srv:{self.service}/{self.endpoint}"
        return f"js:{self.stream}/{self.consumer}"

    @property
    def title(self) -> str:
        """What the user reads (untrusted parts inside: sanitize)."""
        if self.kind is GroupKind.CORE:
            return f"{self.subject}@{self.queue}"
        if self.kind is GroupKind.SERVICE:
            return f"{self.service} · {self.endpoint}"
        return f"{self.stream}/{self.consumer}"


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


def is_own(session: Session, conn: Connection) -> bool:
    """The connection is jstui's own shared one (its pools are drawn by the pool view)."""
    if not session.connected:
        return False
    own_server = session.status.server_name
    return conn.cid == session.nc.client_id and (not own_server or conn.server == own_server)


def core_groups(
    session: Session, connections: Sequence[Connection], *, exclude: Collection[str] = ()
) -> list[GroupSummary]:
    """The (subject, queue) pairs of the connections' queue subscriptions, except the subjects in
    `exclude` (deliver subjects of push consumers, micro endpoints), jstui's own left out."""
    members: dict[tuple[str, str], list[int]] = {}
    for conn in connections:
        if is_own(session, conn):
            continue
        for sub in conn.subscriptions:
            if sub.queue and sub.subject not in exclude:
                members.setdefault((sub.subject, sub.queue), []).append(sub.msgs)
    return [
        GroupSummary(GroupRef(GroupKind.CORE, subject, queue), len(counts), sum(counts))
        for (subject, queue), counts in sorted(members.items())
    ]


async def discover_groups(session: Session, observer: Observer) -> tuple[list[GroupSummary], str]:
    """Every group visible now, and a note ('' or what could not be seen and why)."""
    notes: list[str] = []
    connections: Sequence[Connection] = ()
    try:
        view = await observer.connections()
        connections = view.connections
        if view.note and view.partial:
            notes.append(view.note)
    except JstuiError as error:
        notes.append(str(error))
    return core_groups(session, connections), "; ".join(notes)


def match_groups(name: str, groups: Sequence[GroupSummary]) -> list[GroupRef]:
    """`--watch NAME`: a queue group name (all subjects using it), SUBJECT@QUEUE,
    STREAM/CONSUMER, or a micro service name (all its endpoints); [] when none."""
    raise NotImplementedError


class GroupWatch:
    """The live picture of one group, poll after poll, without joining it."""

    def __init__(self, session: Session, observer: Observer, ref: GroupRef) -> None:
        self.session = session
        self.observer = observer
        self.ref = ref

    async def poll(self) -> WatchSnapshot:
        """Never raises for expected failures: they go into the snapshot's notes."""
        raise NotImplementedError
