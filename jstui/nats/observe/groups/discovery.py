"""Discovery: every group visible now, cheaply enough to run every few seconds.

`GroupDiscovery.discover` asks three things at once: the connections (`Observer.connections`,
every connection with its subscriptions), the JetStream consumers (`session.jsm`, read-only
listings, remembered between rounds) and the micro services (`$SRV.STATS` gathered on the app
connection, `micro.py`). Push consumers with a deliver group become PUSH groups and pull consumers
PULL groups; micro endpoints SERVICE groups; the remaining queue subscriptions CORE groups. jstui's
own connection is left out (its pools are drawn by the pool view). The app keeps one discovery per
`Observer` (`discovery_for`), so the memory survives between rounds without the pane holding it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import nats.errors
from nats.js.api import ConsumerInfo

from jstui.nats.errors import JstuiError
from jstui.nats.observe.groups.model import GroupKind, GroupRef, GroupSummary, is_inbox
from jstui.nats.observe.micro import ServiceInstance, service_stats
from jstui.nats.observe.model import Connection
from jstui.nats.observe.observer import Observer, SourceKind
from jstui.nats.session import Session

__all__ = [
    "ConsumerGroup",
    "GroupDiscovery",
    "consumer_group",
    "core_groups",
    "discover_groups",
    "discovery_for",
    "is_own",
    "jetstream_problem",
]

STREAMS_REFRESH = 30.0
"""Seconds between two listings of the streams (new streams show up this late in discovery)."""
CONSUMER_LISTS_PER_ROUND = 20
"""At most this many `CONSUMER.LIST` requests per discovery round; more streams take turns."""
API_PAGE = 256
"""The JetStream API's page size for stream and consumer lists."""


def is_own(session: Session, conn: Connection) -> bool:
    """The connection is jstui's own shared one (its pools are drawn by the pool view).

    A connection id is unique per server only; the server is named by its name (`$SYS`) or by
    its id (an HTTP `/connz` answer has no `server_name`), so either is accepted."""
    if not session.connected or conn.cid != session.nc.client_id:
        return False
    status = session.status
    return conn.server in (status.server_name, status.server_id) or not (
        status.server_name or status.server_id
    )


@dataclass(frozen=True)
class ConsumerGroup:
    """A JetStream consumer seen as a group, from one consumer listing."""

    ref: GroupRef
    delivered: int
    waiting: int

    @property
    def deliver_subject(self) -> str:
        return self.ref.subject if self.ref.kind is GroupKind.PUSH else ""


def consumer_group(stream: str, info: ConsumerInfo) -> ConsumerGroup | None:
    """PUSH for a push consumer with a deliver group, PULL for a pull consumer, None for a push
    consumer without a group (one subscriber: not a shared group)."""
    config = info.config
    name = info.name or config.durable_name or config.name or ""
    delivered = info.delivered.consumer_seq if info.delivered else 0
    waiting = info.num_waiting or 0
    if config.deliver_subject:
        if not config.deliver_group:
            return None
        ref = GroupRef(
            GroupKind.PUSH,
            subject=config.deliver_subject,
            queue=config.deliver_group,
            stream=stream,
            consumer=name,
        )
    else:
        ref = GroupRef(GroupKind.PULL, stream=stream, consumer=name)
    return ConsumerGroup(ref, delivered or 0, waiting)


def jetstream_problem(error: BaseException) -> str:
    if isinstance(error, nats.errors.NoRespondersError):
        return "JetStream is not available for this account"
    if isinstance(error, TimeoutError | nats.errors.TimeoutError):
        return "the JetStream API did not answer in time"
    return str(error) or type(error).__name__


class GroupDiscovery:
    """Discovery with a memory, so that a poll every few seconds stays cheap.

    Per round: one connections question, one `$SRV.STATS` gather (every instance of every micro
    service at once, instead of `$SRV.PING` then one STATS per service), the account's JetStream
    info (`$JS.API.INFO`: stream and consumer counts, ~300 B), and consumer listings. The stream
    list (with each stream's consumer count) is refreshed when those counts change, or every
    `STREAMS_REFRESH` seconds; consumers are listed only for streams that have some, at most
    `CONSUMER_LISTS_PER_ROUND` streams per round, round-robin, the others kept from earlier rounds.
    """

    def __init__(self, session: Session, observer: Observer) -> None:
        self.session = session
        self.observer = observer
        self._streams: list[str] = []
        self._streams_at = -STREAMS_REFRESH
        self._consumers: dict[str, list[ConsumerGroup]] = {}
        self._cursor = 0
        self._counts = (-1, -1)
        """The account's stream and consumer counts when the streams were last listed."""
        self.deliver_subjects: dict[str, GroupRef] = {}
        """Every known push consumer's deliver subject, for orphan detection."""

    async def discover(self) -> tuple[list[GroupSummary], str]:
        notes: list[str] = []
        (connections, note), consumers, services = await asyncio.gather(
            self._connections(), self._jetstream(notes), self._services(notes)
        )
        if note:
            notes.append(note)
        endpoints = {(i.subject, i.queue_group) for s in services for i in s.endpoints}
        groups = {group.ref.queue for group in consumers if group.ref.kind is GroupKind.PUSH}
        others = [conn for conn in connections if not is_own(self.session, conn)]
        summaries: list[GroupSummary] = []
        pushed: dict[tuple[str, str], int] = {}
        for conn in others:
            for sub in conn.subscriptions:
                if sub.queue:
                    pushed[sub.subject, sub.queue] = pushed.get((sub.subject, sub.queue), 0) + 1
        for group in consumers:
            members = (
                pushed.get((group.ref.subject, group.ref.queue), 0)
                if group.ref.kind is GroupKind.PUSH
                else group.waiting
            )
            summaries.append(GroupSummary(group.ref, members, group.delivered))
        summaries.extend(_service_groups(services))
        core = core_groups(
            others,
            exclude=lambda subject, queue: (
                subject in self.deliver_subjects
                or (subject, queue) in endpoints
                or (queue in groups and is_inbox(subject))
            ),
        )
        summaries.extend(core)
        summaries.sort(
            key=lambda summary: (list(GroupKind).index(summary.ref.kind), summary.ref.title)
        )
        return summaries, "; ".join(dict.fromkeys(notes))

    async def push_deliver_subjects(self) -> set[str]:
        """The deliver subjects of every push consumer with a group, from the consumer listings
        (remembered; refreshed as a discovery round would)."""
        await self._jetstream([])
        return set(self.deliver_subjects)

    async def _connections(self) -> tuple[Sequence[Connection], str]:
        try:
            view = await self.observer.connections()
        except JstuiError as error:
            return (), str(error)
        if view.source is SourceKind.ACCOUNT:
            hint = self.observer.status.hint()
            return view.connections, "Other accounts' groups are not visible" + (
                f"; {hint}." if hint else "."
            )
        return view.connections, (view.note if view.partial or not view.servers else "")

    async def _services(self, notes: list[str]) -> list[ServiceInstance]:
        try:
            instances, note = await service_stats(self.session.nc, "")
        except JstuiError as error:
            notes.append(f"micro services: {error}")
            return []
        if note:
            notes.append(f"micro services: {note}")
        return instances

    async def _jetstream(self, notes: list[str]) -> list[ConsumerGroup]:
        now = self.session.clocks.monotonic()
        try:
            account = await self.session.jsm.account_info()
            counts = (account.streams, account.consumers)
            if now - self._streams_at >= STREAMS_REFRESH or counts != self._counts:
                self._counts = counts
                self._streams = await self._list_streams()
                self._streams_at = now
                for gone in set(self._consumers) - set(self._streams):
                    del self._consumers[gone]
            await self._list_some_consumers()
        except (JstuiError, nats.errors.Error, TimeoutError) as error:
            notes.append(f"consumers: {jetstream_problem(error)}")
        groups = [group for stream in self._streams for group in self._consumers.get(stream, [])]
        self.deliver_subjects = {
            group.deliver_subject: group.ref for group in groups if group.deliver_subject
        }
        return groups

    async def _list_streams(self) -> list[str]:
        """The streams that have consumers (`STREAM.LIST`, paged by the server)."""
        names: list[str] = []
        offset = 0
        while True:
            page = await self.session.jsm.streams_info(offset)
            names.extend(
                info.config.name
                for info in page
                if info.config.name and (info.state.consumer_count or 0) > 0
            )
            offset += len(page)
            if len(page) < API_PAGE:
                return sorted(names)

    async def _list_some_consumers(self) -> None:
        streams = self._streams
        if len(streams) <= CONSUMER_LISTS_PER_ROUND:
            chosen = streams
        else:
            start = self._cursor % len(streams)
            chosen = (streams + streams)[start : start + CONSUMER_LISTS_PER_ROUND]
            self._cursor = start + CONSUMER_LISTS_PER_ROUND
        listed = await asyncio.gather(
            *(self._list_consumers(stream) for stream in chosen), return_exceptions=True
        )
        for stream, result in zip(chosen, listed, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, JstuiError | nats.errors.Error | TimeoutError):
                    raise result
                self._consumers.pop(stream, None)  # deleted since the stream list, or refused
            else:
                self._consumers[stream] = result

    async def _list_consumers(self, stream: str) -> list[ConsumerGroup]:
        found: list[ConsumerGroup] = []
        offset = 0
        while True:
            page = await self.session.jsm.consumers_info(stream, offset)
            found.extend(
                group for info in page if (group := consumer_group(stream, info)) is not None
            )
            offset += len(page)
            if len(page) < API_PAGE:
                return found


def core_groups(
    connections: Sequence[Connection], *, exclude: Callable[[str, str], bool]
) -> list[GroupSummary]:
    """The (subject, queue) pairs of the connections' queue subscriptions, except those `exclude`
    rejects (deliver subjects of push consumers, micro endpoints)."""
    counts: dict[tuple[str, str], list[int]] = {}
    for conn in connections:
        for sub in conn.subscriptions:
            if sub.queue and not exclude(sub.subject, sub.queue):
                counts.setdefault((sub.subject, sub.queue), []).append(sub.msgs)
    return [
        GroupSummary(GroupRef(GroupKind.CORE, subject, queue), len(msgs), sum(msgs))
        for (subject, queue), msgs in counts.items()
    ]


def _service_groups(instances: Sequence[ServiceInstance]) -> list[GroupSummary]:
    """One SERVICE group per (service, endpoint), its members the instances serving it."""
    refs: dict[tuple[str, str], GroupRef] = {}
    counts: dict[tuple[str, str], list[int]] = {}
    for instance in instances:
        for endpoint in instance.endpoints:
            key = (instance.name, endpoint.name)
            refs.setdefault(
                key,
                GroupRef(
                    GroupKind.SERVICE,
                    subject=endpoint.subject,
                    queue=endpoint.queue_group,
                    service=instance.name,
                    endpoint=endpoint.name,
                ),
            )
            counts.setdefault(key, []).append(endpoint.num_requests)
    return [GroupSummary(ref, len(counts[key]), sum(counts[key])) for key, ref in refs.items()]


_DISCOVERIES: weakref.WeakKeyDictionary[Observer, GroupDiscovery] = weakref.WeakKeyDictionary()


def discovery_for(session: Session, observer: Observer) -> GroupDiscovery:
    """The app's one `GroupDiscovery` (per observer), made on first use."""
    found = _DISCOVERIES.get(observer)
    if found is None or found.session is not session:
        found = _DISCOVERIES[observer] = GroupDiscovery(session, observer)
    return found


async def discover_groups(session: Session, observer: Observer) -> tuple[list[GroupSummary], str]:
    """Every group visible now, and a note ('' or what could not be seen and why)."""
    return await discovery_for(session, observer).discover()
