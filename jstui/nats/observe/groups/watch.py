"""`GroupWatch`: the live picture of one group, poll after poll, without joining it.

A poll asks the sources the group's kind needs (see `GroupWatch`), turns what they say into
sightings (`sighting`: a `WatchedMember` as one poll saw it, without rate, share or times), and
folds them into the watch's history: rates from the previous poll, first/last seen, idle members,
members that left (kept with their last counts), shares and fairness. The result is a frozen
`WatchSnapshot`. Expected failures (a denied question, a consumer that is gone) become notes,
never exceptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import nats.errors
import nats.js.errors

from jstui.format.units import counted
from jstui.nats.errors import JstuiError
from jstui.nats.observe.groups.discovery import discovery_for, is_own, jetstream_problem
from jstui.nats.observe.groups.model import (
    ConsumerFigures,
    GroupKind,
    GroupRef,
    WatchedMember,
    WatchSnapshot,
    WatchState,
    fairness,
    is_inbox,
    short_inbox,
    subjects_collide,
)
from jstui.nats.observe.micro import service_stats
from jstui.nats.observe.model import Connection, Subscription
from jstui.nats.observe.observer import Observer
from jstui.nats.session import Session

__all__ = ["GroupWatch"]

FULL_EVERY = 5
"""A push group's watch asks for every connection (to find orphans) once in this many polls."""
IDLE_SECONDS = 30.0
"""A member without a delivery this long, while others got some, is idle."""
MAX_LEFT = 50
"""Members that left, kept with their last counts."""
IN_GROUP = (WatchState.ACTIVE, WatchState.IDLE)
"""The states of the group's members proper: fairness and the sum check count only these."""
PULL_CAVEAT = (
    "the server cannot attribute pull deliveries to clients (waiting counts pull requests, not "
    "clients); when the clients are micro-service instances, their per-instance figures are in "
    "the service's group"
)


@dataclass
class _History:
    member: WatchedMember
    delivered: int
    polled: float
    """Monotonic time of the poll that saw `delivered`."""
    grew_at: float | None
    """Wall time its count was last seen growing (None: not since it was first seen)."""


def sighting(
    key: str,
    label: str,
    server: str,
    subject: str,
    client: str,
    delivered: int,
    *,
    state: WatchState = WatchState.ACTIVE,
    note: str = "",
    errors: int = 0,
    average_ns: int = 0,
) -> WatchedMember:
    """One member as one poll saw it: rate, share and times are filled in by the history."""
    return WatchedMember(
        key, label, server, subject, client, delivered, 0.0, 0.0, 0.0, 0.0, state, note,
        errors, average_ns,
    )  # fmt: skip


def _member_of(conn: Connection, sub: Subscription, **extra: Any) -> WatchedMember:
    return sighting(
        f"{conn.key}/{sub.sid}",
        conn.label,
        conn.server,
        sub.subject,
        conn.client,
        sub.msgs,
        **extra,
    )


def _core_neighbour(sub: Subscription, subject: str, queue: str) -> str:
    """Why a subscription next to a core group matters, or '' when it does not: another queue
    group on the same subject (each message is handled by both), or the same queue name on an
    overlapping subject (a separate group to the server: messages matching both are handled
    twice). Plain subscriptions (taps, monitors) are left out."""
    if sub.queue and sub.queue != queue and sub.subject == subject:
        return f"in queue {sub.queue}: another group on this subject, gets every message too"
    if sub.queue == queue and sub.subject != subject and subjects_collide(sub.subject, subject):
        return (
            f"subscribed to {sub.subject}: a separate group on the server; messages matching "
            "both subjects are handled twice"
        )
    return ""


class GroupWatch:
    """The live picture of one group, poll after poll, without joining it.

    Each poll asks only what the group needs: CORE the connections filtered on its subject; PUSH
    the consumer's info plus the connections filtered on its deliver subject, and every
    `FULL_EVERY` polls (or when the member count or the deliver subject changed) the unfiltered
    connections, to find orphans (subscriptions in the deliver group on an inbox the consumer no
    longer delivers to; they get nothing, so their counts from the last full answer stay right in
    between); PULL the consumer's info only; SERVICE `$SRV.STATS.<service>`, plus the connections
    filtered on the endpoint subject when a new instance appears (to name its connection).
    """

    def __init__(self, session: Session, observer: Observer, ref: GroupRef) -> None:
        self.session = session
        self.observer = observer
        self.ref = ref
        self._history: dict[str, _History] = {}
        self._polls = 0
        self._orphans: list[WatchedMember] = []
        self._last_present = -1
        self._deliver_subject = ""
        self._consumer_seen: tuple[int, float] | None = None
        self._instance_connections: dict[str, Connection] = {}
        self._filter_refused = False
        """The source refused `filter_subject`: ask for every connection and filter here."""
        self._everyone: Sequence[Connection] = ()
        """The last unfiltered answer, when the filter was refused (orphans are found in it)."""
        self._own_members = 0
        """jstui's own subscriptions in the group (its pools), left out of the members."""
        self._own_delivered = 0

    async def poll(self) -> WatchSnapshot:
        """Never raises for expected failures: they go into the snapshot's notes."""
        at = self.session.clocks.wall()
        notes: list[str] = []
        consumer: ConsumerFigures | None = None
        observed: list[WatchedMember] | None = []
        source = ""
        try:
            if self.ref.kind is GroupKind.CORE:
                observed, source = await self._core(notes)
            elif self.ref.kind is GroupKind.SERVICE:
                observed, source = await self._service(notes)
            else:
                consumer = await self._consumer(notes)
                if consumer is None:
                    observed = None
                elif self.ref.kind is GroupKind.PUSH:
                    observed, source = await self._push(consumer, notes)
                else:
                    notes.append(PULL_CAVEAT)
        except (JstuiError, nats.errors.Error, TimeoutError) as error:
            notes.append(str(error) or type(error).__name__)
            observed = None
        self._polls += 1
        snapshot = self._snapshot(observed, consumer, notes, source, at)
        if consumer is not None and self.ref.kind is GroupKind.PUSH:
            notes.append(_sum_check(snapshot, self._own_delivered))
            snapshot = replace(snapshot, notes=tuple(notes))
        return snapshot

    # -- sources ---------------------------------------------------------------------------

    async def _connections(
        self, notes: list[str], filter_subject: str | None
    ) -> tuple[Sequence[Connection], str]:
        """Connections with a subscription colliding with `filter_subject` (all when None).

        A source that refuses the filter (nats-server answers a `$SYS` CONNZ with
        `filter_subject` but no account with "filter by subject only valid with account
        filtering") makes the watch ask unfiltered from then on and filter here."""
        if filter_subject and self._filter_refused:
            return await self._filtered_here(notes, filter_subject)
        view = await self.observer.connections(filter_subject=filter_subject)
        if not view.servers and view.note:
            if filter_subject and "filter" in view.note:
                self._filter_refused = True
                return await self._filtered_here(notes, filter_subject)
            raise JstuiError(view.note)  # no server answered: keep the members as they were
        if view.note:
            notes.append(view.note)
        if view.partial and not view.note:
            notes.append("a partial answer: some connections or servers are missing")
        return view.connections, str(view.source)

    async def _filtered_here(
        self, notes: list[str], filter_subject: str
    ) -> tuple[Sequence[Connection], str]:
        connections, source = await self._connections(notes, None)
        self._everyone = connections
        return [
            conn
            for conn in connections
            if any(subjects_collide(sub.subject, filter_subject) for sub in conn.subscriptions)
        ], source

    def _split_own(self, connections: Sequence[Connection]) -> list[Connection]:
        """The connections that are not jstui's; counts jstui's own members in the group."""
        self._own_members = 0
        self._own_delivered = 0
        others = []
        for conn in connections:
            if is_own(self.session, conn):
                for sub in conn.subscriptions:
                    if (sub.subject, sub.queue) == (self.ref.subject, self.ref.queue):
                        self._own_members += 1
                        self._own_delivered += sub.msgs
            else:
                others.append(conn)
        return others

    def _own_note(self, notes: list[str]) -> None:
        if self._own_members:
            notes.append(
                f"jstui's own pool has {counted(self._own_members, 'member')} in this group "
                f"({self._own_delivered} delivered); they are in the pool view, not here"
            )

    async def _core(self, notes: list[str]) -> tuple[list[WatchedMember], str]:
        subject, queue = self.ref.subject, self.ref.queue
        connections, source = await self._connections(notes, subject)
        observed = []
        for conn in self._split_own(connections):
            for sub in conn.subscriptions:
                if (sub.subject, sub.queue) == (subject, queue):
                    observed.append(_member_of(conn, sub))
                elif note := _core_neighbour(sub, subject, queue):
                    observed.append(_member_of(conn, sub, state=WatchState.OTHER_FILTER, note=note))
        self._own_note(notes)
        return observed, source

    async def _consumer(self, notes: list[str]) -> ConsumerFigures | None:
        try:
            info = await self.session.jsm.consumer_info(self.ref.stream, self.ref.consumer)
        except nats.js.errors.NotFoundError:
            notes.append(f"consumer {self.ref.consumer} of stream {self.ref.stream} is gone")
            return None
        except (nats.errors.Error, TimeoutError) as error:
            notes.append(f"consumer info: {jetstream_problem(error)}")
            return None
        config = info.config
        delivered = (info.delivered.consumer_seq or 0) if info.delivered else 0
        now = self.session.clocks.monotonic()
        rate = 0.0
        if self._consumer_seen is not None and now > self._consumer_seen[1]:
            rate = max(0, delivered - self._consumer_seen[0]) / (now - self._consumer_seen[1])
        self._consumer_seen = (delivered, now)
        filters = tuple(
            config.filter_subjects or ([config.filter_subject] if config.filter_subject else [])
        )
        return ConsumerFigures(
            delivered=delivered,
            stream_seq=(info.delivered.stream_seq or 0) if info.delivered else 0,
            ack_floor=(info.ack_floor.stream_seq or 0) if info.ack_floor else 0,
            pending=info.num_pending or 0,
            ack_pending=info.num_ack_pending or 0,
            redelivered=info.num_redelivered or 0,
            waiting=info.num_waiting or 0,
            rate=rate,
            deliver_subject=config.deliver_subject or "",
            deliver_group=config.deliver_group or "",
            filter_subjects=filters,
            push_bound=bool(info.push_bound),
        )

    async def _push(
        self, consumer: ConsumerFigures, notes: list[str]
    ) -> tuple[list[WatchedMember], str]:
        deliver, group = consumer.deliver_subject, consumer.deliver_group
        if not deliver:
            notes.append("the consumer has no deliver subject now: it became a pull consumer")
            return [], ""
        self.ref = replace(self.ref, subject=deliver, queue=group)
        connections, source = await self._connections(notes, deliver)
        observed: list[WatchedMember] = []
        for conn in self._split_own(connections):
            for sub in conn.subscriptions:
                if sub.subject != deliver:
                    continue
                if sub.queue == group:
                    observed.append(_member_of(conn, sub))
                else:
                    where = f"in queue {sub.queue}" if sub.queue else "without a queue group"
                    note = f"{where}: gets a copy of every delivery, outside the deliver group"
                    observed.append(_member_of(conn, sub, state=WatchState.OTHER_FILTER, note=note))
        present = len(observed)
        if self._filter_refused:  # every connection was fetched anyway
            self._orphans = await self._find_orphans(self._everyone, consumer)
        elif (
            self._polls % FULL_EVERY == 0
            or present != self._last_present
            or deliver != self._deliver_subject
        ):
            everyone, _ = await self._connections([], None)
            self._orphans = await self._find_orphans(everyone, consumer)
        self._last_present, self._deliver_subject = present, deliver
        self._own_note(notes)
        if self._orphans:
            notes.append(
                f"{counted(len(self._orphans), 'orphan member')}: they subscribed while the "
                "consumer was being created and get nothing; a fixed deliver subject avoids it"
            )
        return observed + self._orphans, source

    async def _find_orphans(
        self, connections: Sequence[Connection], consumer: ConsumerFigures
    ) -> list[WatchedMember]:
        """Subscriptions in the deliver group on an inbox that is not the consumer's deliver
        subject: the deliver-group race of nats-py's `js.subscribe(queue=...)` (nats-notes §14).
        Inbox subjects only, so that a core group that happens to use the same queue name is not
        taken for one; and not another push consumer's deliver subject (the tutorial's queue
        name "workers" is often the deliver group of consumers on several streams)."""
        deliver, group = consumer.deliver_subject, consumer.deliver_group
        candidates = [
            (conn, sub)
            for conn in connections
            if not is_own(self.session, conn)
            for sub in conn.subscriptions
            if sub.queue == group and sub.subject != deliver and is_inbox(sub.subject)
        ]
        if not candidates:
            return []
        others = await discovery_for(self.session, self.observer).push_deliver_subjects()
        note = (
            f"subscribed to {{}}, but consumer {self.ref.consumer} delivers to "
            f"{short_inbox(deliver)}: it gets nothing. Give the consumer a fixed deliver subject "
            "(ConsumerConfig(deliver_subject=...))"
        )
        return [
            _member_of(
                conn, sub, state=WatchState.ORPHAN, note=note.format(short_inbox(sub.subject))
            )
            for conn, sub in candidates
            if sub.subject not in others
        ]

    async def _service(self, notes: list[str]) -> tuple[list[WatchedMember], str]:
        instances, note = await service_stats(self.session.nc, self.ref.service)
        if note:
            notes.append(note)
        serving = [
            (instance, endpoint)
            for instance in instances
            if (endpoint := instance.endpoint(self.ref.endpoint)) is not None
        ]
        if any(instance.id not in self._instance_connections for instance, _ in serving):
            await self._match_instances(notes)
        observed = []
        for instance, endpoint in serving:
            conn = self._instance_connections.get(instance.id)
            label = instance.label + (f" · {conn.label}" if conn is not None else "")
            observed.append(
                sighting(
                    instance.id,
                    label,
                    conn.server if conn is not None else "",
                    endpoint.subject,
                    conn.client if conn is not None else "",
                    endpoint.num_requests,
                    note=endpoint.last_error and f"last error: {endpoint.last_error}",
                    errors=endpoint.num_errors,
                    average_ns=endpoint.average_ns,
                )
            )
        return observed, "service stats ($SRV.STATS)"

    async def _match_instances(self, notes: list[str]) -> None:
        """Each instance's connection: the one subscribed to `$SRV.PING.<name>.<id>` (connections
        filtered on the endpoint subject come with all their subscriptions)."""
        try:
            connections, _ = await self._connections([], self.ref.subject or None)
        except JstuiError as error:
            notes.append(f"the instances' connections are not visible: {error}")
            return
        prefix = f"$SRV.PING.{self.ref.service}."
        for conn in connections:
            for sub in conn.subscriptions:
                if sub.subject.startswith(prefix):
                    self._instance_connections[sub.subject[len(prefix) :]] = conn

    # -- history ---------------------------------------------------------------------------

    def _snapshot(
        self,
        observed: Sequence[WatchedMember] | None,
        consumer: ConsumerFigures | None,
        notes: list[str],
        source: str,
        at: float,
    ) -> WatchSnapshot:
        """Fold this poll's sightings into the history; None (the question failed) keeps the
        members as the last poll saw them, rather than marking them all as gone."""
        if observed is None:
            members = [seen.member for seen in self._history.values()]
            present = [m for m in members if m.state is not WatchState.LEFT]
            left = [m for m in members if m.state is WatchState.LEFT]
        else:
            present = self._fold(observed, at)
            left = self._left({member.key for member in observed})
        present.sort(key=lambda member: (-member.delivered, member.first_seen))
        in_group = [m.delivered for m in present if m.state in IN_GROUP]
        max_min, cv = fairness(in_group)
        return WatchSnapshot(
            ref=self.ref,
            members=tuple(present + left),
            consumer=consumer,
            max_min=max_min,
            cv=cv,
            members_total=sum(member.delivered for member in present),
            notes=tuple(dict.fromkeys(notes)),
            source=source,
            at=at,
        )

    def _fold(self, observed: Sequence[WatchedMember], at: float) -> list[WatchedMember]:
        now = self.session.clocks.monotonic()
        total = sum(member.delivered for member in observed)
        rates: dict[str, float] = {}
        grew_at: dict[str, float | None] = {}
        for member in observed:
            seen = self._history.get(member.key)
            if seen is None:
                rates[member.key], grew_at[member.key] = 0.0, None
                continue
            grew = member.delivered - seen.delivered  # < 0 after a reconnect: rate 0
            elapsed = now - seen.polled
            rates[member.key] = max(0, grew) / elapsed if elapsed > 0 else 0.0
            grew_at[member.key] = at if grew > 0 else seen.grew_at
        current = []
        for member in observed:
            seen = self._history.get(member.key)
            first_seen = seen.member.first_seen if seen is not None else at
            state, note = member.state, member.note
            quiet = at - (grew_at[member.key] or first_seen)
            others_got_some = any(
                when is not None and at - when <= IDLE_SECONDS
                for key, when in grew_at.items()
                if key != member.key
            )
            if state is WatchState.ACTIVE and quiet > IDLE_SECONDS and others_got_some:
                state = WatchState.IDLE
                note = note or f"no message for {quiet:.0f} s"
            watched = replace(
                member,
                rate=rates[member.key],
                share=member.delivered / total if total else 0.0,
                first_seen=first_seen,
                last_seen=at,
                state=state,
                note=note,
            )
            current.append(watched)
            self._history[member.key] = _History(
                watched, member.delivered, now, grew_at[member.key]
            )
        return current

    def _left(self, present: set[str]) -> list[WatchedMember]:
        """The members not seen now, marked LEFT with their last counts; the oldest forgotten
        beyond `MAX_LEFT`."""
        left = []
        for key, seen in self._history.items():
            if key in present:
                continue
            if seen.member.state is not WatchState.LEFT:
                seen.member = replace(
                    seen.member, state=WatchState.LEFT, rate=0.0, share=0.0, note=""
                )
            left.append(seen.member)
        left.sort(key=lambda member: member.last_seen, reverse=True)
        for stale in left[MAX_LEFT:]:
            del self._history[stale.key]
        return left[:MAX_LEFT]


def _sum_check(snapshot: WatchSnapshot, own: int) -> str:
    """Whether the members' counts add up to what the consumer delivered, and why not."""
    assert snapshot.consumer is not None
    delivered = snapshot.consumer.delivered
    members = sum(m.delivered for m in snapshot.members if m.state in IN_GROUP)
    left = sum(m.delivered for m in snapshot.members if m.state is WatchState.LEFT)
    own_part = f" + jstui's pool {own}" if own else ""
    if members + own == delivered:
        return f"members {members}{own_part} = consumer delivered {delivered} ✔"
    if left and members + own + left == delivered:
        return (
            f"members {members}{own_part} + {left} of members that left = consumer delivered "
            f"{delivered} ✔"
        )
    return (
        f"members {members}{own_part} ≠ consumer delivered {delivered}: the difference went to "
        "members that left before the watch saw them or before a reconnect (a connection's "
        "counts restart when it connects), or was in flight between the two questions"
    )
