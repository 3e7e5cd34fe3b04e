"""Groups watched from outside: core queue groups, pull consumers and micro services against a
real server, and `--watch NAME` matching, fairness and the member history offline."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import nats
import nats.micro
import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig
from nats.micro.request import Request

from jstui.nats.embedded import EmbeddedServer
from jstui.nats.errors import JstuiError
from jstui.nats.observe.groups import (
    GroupKind,
    GroupRef,
    GroupSummary,
    GroupWatch,
    WatchSnapshot,
    WatchState,
    discover_groups,
    match_groups,
)
from jstui.nats.observe.groups.model import fairness, short_inbox, subjects_collide
from jstui.nats.observe.groups.watch import PULL_CAVEAT, sighting
from jstui.nats.observe.micro import instances_from_replies
from jstui.nats.observe.observer import ConnectionsView, Observer
from jstui.nats.session import Clocks, Session


@pytest.fixture
async def monitor_observer(
    session: Session, nats_server: EmbeddedServer
) -> AsyncIterator[Observer]:
    observer = Observer(session, monitor_urls=[nats_server.monitor_url])
    await observer.start()
    yield observer
    await observer.close()


async def connect(server: EmbeddedServer, name: str) -> Client:
    return await nats.connect(server.url, name=name)


async def test_an_external_core_group_is_watched_as_members_come_and_go(
    session: Session, nats_server: EmbeddedServer, monitor_observer: Observer, unique: str
) -> None:
    subject = f"{unique}.jobs"
    first, second = await connect(nats_server, "first"), await connect(nats_server, "second")
    late = await connect(nats_server, "late")
    try:
        for worker in (first, second):
            await worker.subscribe(subject, queue="crew")
            await worker.flush()
        for n in range(40):
            await session.nc.publish(subject, b"%d" % n)
        await session.nc.flush()

        groups, note = await discover_groups(session, monitor_observer)
        assert note == ""
        core = [g for g in groups if g.ref.subject == subject]
        assert [(g.ref.kind, g.ref.queue, g.members) for g in core] == [(GroupKind.CORE, "crew", 2)]
        assert core[0].ref.title == f"{subject}@crew" and core[0].ref.key == f"core:{subject}@crew"

        watch = GroupWatch(session, monitor_observer, core[0].ref)
        snapshot = await watch.poll()
        for _ in range(100):
            if snapshot.members_total == 40:
                break
            await asyncio.sleep(0.05)
            snapshot = await watch.poll()
        assert snapshot.members_total == 40 and snapshot.source == "monitoring endpoint"
        assert {m.label for m in snapshot.members} == {"first", "second"}
        assert {m.state for m in snapshot.members} == {WatchState.ACTIVE}
        assert sorted(m.share for m in snapshot.members) == sorted(
            m.delivered / 40 for m in snapshot.members
        )
        assert snapshot.consumer is None
        counts = {m.label: m.delivered for m in snapshot.members}

        await second.close()
        await late.subscribe(subject, queue="crew")
        await late.flush()
        snapshot = await watch.poll()
        by_label = {m.label: m for m in snapshot.members}
        assert by_label["second"].state is WatchState.LEFT
        assert by_label["second"].delivered == counts["second"]  # its last count
        assert by_label["late"].state is WatchState.ACTIVE and by_label["late"].delivered == 0
        assert snapshot.members[-1].label == "second"  # present members first
        assert snapshot.members_total == by_label["first"].delivered
        # jstui's own subscription in the group is said, not drawn
        own = await session.nc.subscribe(subject, queue="crew")
        await session.nc.flush()
        snapshot = await watch.poll()
        assert "jstui's own pool has 1 member in this group" in " ".join(snapshot.notes)
        assert not [m for m in snapshot.members if m.label.startswith("jstui")]
        assert len(snapshot.members) == 3
        await own.unsubscribe()
    finally:
        for client in (first, second, late):
            await client.close()


async def test_a_pull_consumer_shows_its_figures_and_no_members(
    session: Session, nats_server: EmbeddedServer, unique: str
) -> None:
    await session.jsm.add_stream(name=unique, subjects=[f"{unique}.>"])
    await session.jsm.add_consumer(
        unique, ConsumerConfig(durable_name="pullers", ack_policy=AckPolicy.EXPLICIT)
    )
    for n in range(10):
        await session.js.publish(f"{unique}.task", b"%d" % n)
    puller = await connect(nats_server, "puller")
    # no monitoring URL, no system user: the account's own view
    observer = Observer(session, probe_monitor=False)
    await observer.start()
    try:
        psub = await puller.jetstream().pull_subscribe_bind("pullers", unique)
        msgs = await psub.fetch(10, timeout=5)
        for msg in msgs[:3]:
            await msg.ack()
        # a pull request left waiting (nothing is pending any more)
        inbox = puller.new_inbox()
        await puller.subscribe(inbox)
        await puller.publish(
            f"$JS.API.CONSUMER.MSG.NEXT.{unique}.pullers",
            json.dumps({"batch": 1, "expires": 20_000_000_000}).encode(),
            reply=inbox,
        )
        await puller.flush()

        groups, note = await discover_groups(session, observer)
        assert note.startswith("Other accounts' groups are not visible; for the whole server")
        found = [g for g in groups if g.ref.stream == unique]
        assert [(g.ref.kind, g.ref.consumer, g.ref.title) for g in found] == [
            (GroupKind.PULL, "pullers", f"{unique}/pullers")
        ]
        watch = GroupWatch(session, observer, found[0].ref)
        snapshot = await watch.poll()
        figures = snapshot.consumer
        assert figures is not None
        assert (figures.delivered, figures.pending, figures.ack_pending) == (10, 0, 7)
        assert figures.waiting == 1 and figures.deliver_subject == ""
        assert snapshot.members == () and PULL_CAVEAT in snapshot.notes
    finally:
        await puller.close()
        await observer.close()


async def test_three_instances_of_a_micro_service_share_its_requests(
    session: Session, nats_server: EmbeddedServer, monitor_observer: Observer, unique: str
) -> None:
    name = f"{unique}svc"

    async def work(request: Request) -> None:
        await request.respond(b"done")

    instances = [await connect(nats_server, f"instance {n}") for n in range(3)]
    try:
        for nc in instances:
            service = await nats.micro.add_service(nc, name=name, version="1.0.0")
            await service.add_endpoint(name="work", subject=f"{unique}.work", handler=work)
            await nc.flush()
        for n in range(30):
            await session.nc.request(f"{unique}.work", b"%d" % n, timeout=5)

        groups, note = await discover_groups(session, monitor_observer)
        assert note == ""
        found = [g for g in groups if g.ref.service == name]
        assert [(g.ref.kind, g.ref.endpoint, g.members, g.delivered) for g in found] == [
            (GroupKind.SERVICE, "work", 3, 30)
        ]
        assert found[0].ref.title == f"{name} · work" and found[0].ref.queue == "q"
        # the endpoint's queue subscriptions are the service's group, not a core group too
        assert not [g for g in groups if g.ref.kind is GroupKind.CORE and unique in g.ref.subject]

        snapshot = await GroupWatch(session, monitor_observer, found[0].ref).poll()
        assert len(snapshot.members) == 3 and snapshot.members_total == 30
        assert {m.state for m in snapshot.members} == {WatchState.ACTIVE}
        assert all(m.label.startswith(f"{name} …") for m in snapshot.members)
        # each instance is matched to its connection through $SRV.PING.<name>.<id>
        assert {m.label.rpartition(" · ")[2] for m in snapshot.members} == {
            "instance 0",
            "instance 1",
            "instance 2",
        }
        assert all(m.client.startswith("python3") for m in snapshot.members)
        assert all(m.errors == 0 and m.average_ns > 0 for m in snapshot.members)
        assert abs(sum(m.share for m in snapshot.members) - 1) < 1e-9
    finally:
        for nc in instances:
            await nc.close()


def summary(ref: GroupRef) -> GroupSummary:
    return GroupSummary(ref, members=1, delivered=0)


def test_watch_names_match_queue_subject_consumer_and_service() -> None:
    groups = [
        summary(GroupRef(GroupKind.CORE, "a.x", "workers")),
        summary(GroupRef(GroupKind.CORE, "b.y", "workers")),
        summary(GroupRef(GroupKind.CORE, "b.y", "other")),
        summary(GroupRef(GroupKind.PUSH, "_INBOX.1", "workers", stream="S", consumer="workers")),
        summary(GroupRef(GroupKind.PULL, stream="S", consumer="pullers")),
        summary(GroupRef(GroupKind.SERVICE, "calc.add", "q", service="calc", endpoint="add")),
        summary(GroupRef(GroupKind.SERVICE, "calc.sub", "q", service="calc", endpoint="sub")),
    ]
    titles = lambda name: [ref.title for ref in match_groups(name, groups)]  # noqa: E731
    assert titles("workers") == ["a.x@workers", "b.y@workers", "S/workers"]  # ambiguous
    assert titles("b.y@workers") == ["b.y@workers"]
    assert titles("S/pullers") == ["S/pullers"]
    assert titles("pullers") == ["S/pullers"]
    assert titles("calc") == ["calc · add", "calc · sub"]
    assert titles("calc.add@q") == ["calc · add"]
    assert titles("nothing") == [] and titles("S/nothing") == []


def test_fairness_inboxes_and_colliding_subjects() -> None:
    assert fairness([10]) == (None, None)
    assert fairness([10, 0]) == (None, 1.0)
    max_min, cv = fairness([10, 20, 30])
    assert max_min == 3.0 and cv is not None and abs(cv - 0.4082) < 1e-3
    assert short_inbox("_INBOX.W1SRucfK0hdflifad4meEC") == "_INBOX.…eEC"
    assert short_inbox("jobs.deliver") == "jobs.deliver"
    assert subjects_collide("orders.*", "orders.new")
    assert subjects_collide("orders.>", "orders.new.eu")
    assert not subjects_collide("orders.*", "orders.new.eu")
    assert not subjects_collide("orders.new", "orders.old")


def test_service_stats_replies_tolerate_garbage() -> None:
    replies = [
        {"name": "svc", "id": "abcdef", "endpoints": [{"name": "e", "num_requests": "7"}, 3]},
        {"name": "svc", "id": "abcdef", "endpoints": []},  # the same instance twice
        {"name": "svc"},  # no id
        {"id": "x", "endpoints": None},  # no name
    ]
    (instance,) = instances_from_replies(replies)
    assert instance.label == "svc …cdef"
    endpoint = instance.endpoint("e")
    assert endpoint is not None and endpoint.num_requests == 7


async def test_rates_idle_members_and_reconnects_from_successive_polls(
    session: Session, monitor_observer: Observer
) -> None:
    """The history alone, fed by hand: rate from the last poll, 0 after a count went down,
    idle after 30 s without a message while another got some."""
    clock = [1_000.0]
    session.clocks = Clocks(wall=lambda: clock[0], monotonic=lambda: clock[0])
    watch = GroupWatch(session, monitor_observer, GroupRef(GroupKind.CORE, "s", "q"))

    def poll(a: int, b: int) -> WatchSnapshot:
        sightings = [sighting(key, key, "n1", "s", "python3", n) for key, n in (("a", a), ("b", b))]
        return watch._snapshot(sightings, None, [], "", clock[0])

    first = poll(0, 0)
    assert [m.rate for m in first.members] == [0.0, 0.0]
    clock[0] += 10
    second = poll(50, 0)
    assert {m.key: m.rate for m in second.members} == {"a": 5.0, "b": 0.0}
    clock[0] += 25
    third = poll(60, 0)
    by_key = {m.key: m for m in third.members}
    assert by_key["b"].state is WatchState.IDLE and by_key["b"].note == "no message for 35 s"
    assert by_key["a"].state is WatchState.ACTIVE and third.max_min is None
    clock[0] += 10
    fourth = poll(3, 1)
    by_key = {m.key: m for m in fourth.members}
    assert by_key["a"].rate == 0.0  # reconnected: its count restarted
    assert by_key["b"].state is WatchState.ACTIVE and by_key["b"].rate == 0.1
    assert fourth.max_min == 3.0


class DeniedObserver(Observer):
    """An observer whose connections question is refused, as a user without rights sees it."""

    denied = False

    async def connections(
        self, *, filter_subject: str | None = None, closed: bool = False
    ) -> ConnectionsView:
        if self.denied:
            raise JstuiError("this account's connections are not visible (not permitted)")
        return await super().connections(filter_subject=filter_subject, closed=closed)


async def test_a_refused_question_is_a_note_and_the_members_stay(
    session: Session, nats_server: EmbeddedServer, unique: str
) -> None:
    observer = DeniedObserver(session, monitor_urls=[nats_server.monitor_url])
    await observer.start()
    worker = await connect(nats_server, "worker")
    try:
        await worker.subscribe(f"{unique}.jobs", queue="crew")
        await worker.flush()
        watch = GroupWatch(session, observer, GroupRef(GroupKind.CORE, f"{unique}.jobs", "crew"))
        assert [m.label for m in (await watch.poll()).members] == ["worker"]
        observer.denied = True
        snapshot = await watch.poll()
        assert [(m.label, m.state) for m in snapshot.members] == [("worker", WatchState.ACTIVE)]
        assert snapshot.notes == ("this account's connections are not visible (not permitted)",)
        groups, note = await discover_groups(session, observer)
        assert note.startswith("this account's connections are not visible")
        assert not [g for g in groups if g.ref.kind is GroupKind.CORE]
    finally:
        await worker.close()
        await observer.close()


async def test_a_consumer_created_after_the_first_discovery_is_a_deliver_group(
    session: Session, nats_server: EmbeddedServer, monitor_observer: Observer, unique: str
) -> None:
    """The stream list is remembered between rounds, but a new stream or consumer is seen at once:
    its deliver subject must never show as a core group of its own."""
    await discover_groups(session, monitor_observer)
    await session.jsm.add_stream(name=unique, subjects=[f"{unique}.*"])
    worker = await connect(nats_server, "worker")
    try:
        await worker.jetstream().subscribe(f"{unique}.*", queue="workers")
        await worker.flush()
        groups, _ = await discover_groups(session, monitor_observer)
        mine = [(g.ref.kind, g.ref.title) for g in groups if g.ref.stream == unique]
        assert mine == [(GroupKind.PUSH, f"{unique}/workers")]
        assert not [g for g in groups if g.ref.kind is GroupKind.CORE and g.ref.queue == "workers"]
    finally:
        await worker.close()
