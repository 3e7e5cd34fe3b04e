"""The tutorial case of issue #13: three tutorial-style worker programs plus a task publisher, no
jstui pool, watched from outside: every one of their subscriptions is a member, and the members'
counts add up to what the consumer delivered. And the deliver-group race's orphan, made on
purpose, is marked with its explanation."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig

from jstui.nats.embedded import EmbeddedServer
from jstui.nats.observe.groups import (
    GroupKind,
    GroupRef,
    GroupWatch,
    WatchState,
    discover_groups,
)
from jstui.nats.observe.observer import Observer
from jstui.nats.observe.system import SystemConnection
from jstui.nats.session import Session

WORKER = Path(__file__).resolve().parent / "tutorial_worker.py"


class TutorialWorker:
    """One `tutorial_worker.py` process."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, url: str, subject: str, queue: str) -> TutorialWorker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            url,
            subject,
            queue,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line.strip() == b"ready", line
        return cls(process)

    async def stop(self) -> int:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        await asyncio.wait_for(self.process.wait(), 30)
        return int(line)

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


@pytest.fixture
async def system_observer(session: Session, nats_server: EmbeddedServer) -> AsyncIterator[Observer]:
    system = SystemConnection(
        [nats_server.url],
        {"user": nats_server.system_user, "password": nats_server.system_password},
    )
    observer = Observer(session, system=system, probe_monitor=False)
    await observer.start()
    yield observer
    await observer.close()


async def test_the_tutorial_workers_are_watched_without_a_pool(
    session: Session, nats_server: EmbeddedServer, system_observer: Observer, unique: str
) -> None:
    subject = f"{unique}.subject.*"
    await session.jsm.add_stream(name=unique, subjects=[subject])
    workers: list[TutorialWorker] = []
    try:
        for _ in range(3):  # one after the other: the first creates the consumer, no race
            workers.append(await TutorialWorker.start(nats_server.url, subject, "workers"))
        publisher = await nats.connect(nats_server.url)
        js = publisher.jetstream()
        for n in range(60):
            await js.publish(f"{unique}.subject.{n % 4}", b"task %d" % n)
        await publisher.close()

        info = None

        async def settled() -> bool:
            nonlocal info
            info = await session.jsm.consumer_info(unique, "workers")
            return info.delivered.consumer_seq == 60 and info.num_ack_pending == 0

        for _ in range(200):
            if await settled():
                break
            await asyncio.sleep(0.05)
        assert info is not None and info.delivered.consumer_seq == 60

        groups, note = await discover_groups(session, system_observer)
        assert note == ""
        found = [g for g in groups if g.ref.stream == unique]
        assert len(found) == 1
        assert found[0].ref.kind is GroupKind.PUSH
        assert found[0].ref.title == f"{unique}/workers"
        assert (found[0].members, found[0].delivered) == (3, 60)
        deliver = info.config.deliver_subject
        assert not [g for g in groups if g.ref.kind is GroupKind.CORE and g.ref.subject == deliver]

        watch = GroupWatch(session, system_observer, found[0].ref)
        snapshot = await watch.poll()
        after = await session.jsm.consumer_info(unique, "workers")
        # the watcher changed nothing: same figures, same config, no new consumer
        assert after.delivered == info.delivered and after.num_pending == info.num_pending
        assert after.config == info.config
        assert [c.name for c in await session.jsm.consumers_info(unique)] == ["workers"]

        assert snapshot.source == "system account"
        assert snapshot.consumer is not None and snapshot.consumer.delivered == 60
        members = [m for m in snapshot.members if m.state is not WatchState.ORPHAN]
        assert len(members) == 3 and {m.state for m in members} == {WatchState.ACTIVE}
        assert all(m.subject == deliver for m in members)
        assert all("python3" in m.label for m in members)  # unnamed: address + client library
        assert sum(m.delivered for m in members) == snapshot.members_total == 60
        assert "members 60 = consumer delivered 60 ✔" in snapshot.notes
        assert abs(sum(m.share for m in members) - 1) < 1e-9
        assert snapshot.max_min is not None and snapshot.cv is not None
        # jstui's connection holds no subscription in the group
        own = session.nc.client_id
        view = await system_observer.connections(filter_subject=deliver)
        assert not [c for c in view.connections if c.cid == own]

        handled = [await worker.stop() for worker in workers]
        assert sum(handled) == 60
        assert sorted(handled) == sorted(m.delivered for m in members)
        snapshot = await watch.poll()
        assert {m.state for m in snapshot.members} == {WatchState.LEFT}
        assert sum(m.delivered for m in snapshot.members) == 60
    finally:
        for worker in workers:
            worker.kill()


async def test_a_subscription_on_an_old_inbox_is_an_orphan(
    session: Session, nats_server: EmbeddedServer, unique: str
) -> None:
    monitor_observer = Observer(session, monitor_urls=[nats_server.monitor_url])
    await monitor_observer.start()
    await session.jsm.add_stream(name=unique, subjects=[f"{unique}.>"])
    deliver, stale = f"_INBOX.{unique}deliverO9", f"_INBOX.{unique}staleXTi"
    await session.jsm.add_consumer(
        unique,
        ConsumerConfig(
            durable_name="workers",
            deliver_subject=deliver,
            deliver_group="workers",
            ack_policy=AckPolicy.NONE,
        ),
    )
    # another stream's consumer with the same deliver group name, on another inbox
    await session.jsm.add_stream(name=f"{unique}B", subjects=[f"{unique}B.>"])
    neighbour = f"_INBOX.{unique}neighbour"
    await session.jsm.add_consumer(
        f"{unique}B",
        ConsumerConfig(
            durable_name="workers",
            deliver_subject=neighbour,
            deliver_group="workers",
            ack_policy=AckPolicy.NONE,
        ),
    )
    bound = await nats.connect(nats_server.url, name="bound")
    orphan = await nats.connect(nats_server.url, name="orphan")
    try:
        await bound.subscribe(deliver, queue="workers")
        await bound.subscribe(neighbour, queue="workers")
        await orphan.subscribe(stale, queue="workers")
        await bound.flush()
        await orphan.flush()
        for n in range(10):
            await session.js.publish(f"{unique}.task", b"%d" % n)
        ref = GroupRef(GroupKind.PUSH, deliver, "workers", stream=unique, consumer="workers")
        watch = GroupWatch(session, monitor_observer, ref)
        snapshot = await watch.poll()
        for _ in range(100):
            if snapshot.members_total == 10:
                break
            await asyncio.sleep(0.05)
            snapshot = await watch.poll()
        assert len(snapshot.members) == 2  # not the neighbour consumer's member
        states = {m.label: m for m in snapshot.members}
        assert states["bound"].state is WatchState.ACTIVE and states["bound"].delivered == 10
        lost = states["orphan"]
        assert lost.state is WatchState.ORPHAN and lost.delivered == 0
        assert lost.note.startswith("subscribed to _INBOX.…XTi, but consumer workers delivers to")
        assert "_INBOX.…rO9: it gets nothing" in lost.note
        assert "ConsumerConfig(deliver_subject=...)" in lost.note
        assert "members 10 = consumer delivered 10 ✔" in snapshot.notes
        # the orphan is not also listed as a core group of its own
        groups, _ = await discover_groups(session, monitor_observer)
        assert not [g for g in groups if g.ref.subject == stale]
    finally:
        await bound.close()
        await orphan.close()
        await monitor_observer.close()
