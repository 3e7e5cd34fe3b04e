"""Switching the session to another server without restarting (#15): the new connection is
made first (a failure changes nothing), every feed moves over or is stopped with why, the
consumers jstui made on the old server are deleted, and nothing comes from the old server after."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client

from jstui.nats.embedded import EmbeddedServer, free_port
from jstui.nats.errors import ConnectError
from jstui.nats.feeds.feed import Feed, FeedState
from jstui.nats.feeds.spec import FeedMode, FeedSpec
from jstui.nats.kv.watch import KeyWatch
from jstui.nats.responders.running import ResponderManager, ResponderState
from jstui.nats.responders.spec import ResponderMode, ResponderSpec
from jstui.nats.session import ConnectionState, Session
from jstui.nats.workers.pool import PoolState, WorkerPool
from jstui.nats.workers.spec import PoolMode, PoolSpec
from tests.conftest import eventually
from tests.nats.test_ordered_feed import seqs


@pytest.fixture
def other_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """A second server of the test's own: the one switched to."""
    with EmbeddedServer(store_dir=tmp_path / "other", server_name="jstui-other") as server:
        yield server


async def _consumers(nc: Client, stream: str) -> list[str]:
    return [info.name for info in await nc.jsm().consumers_info(stream)]


async def test_feeds_follow_the_switch_to_another_server(
    fresh_server: EmbeddedServer, other_server: EmbeddedServer, unique: str
) -> None:
    stream, only_old = unique, f"{unique}-old"
    old_nc = await nats.connect(fresh_server.url)
    new_nc = await nats.connect(other_server.url)
    try:
        for nc in (old_nc, new_nc):
            await nc.jetstream().add_stream(name=stream, subjects=[f"{unique}.s.>"])
        await old_nc.jetstream().add_stream(name=only_old, subjects=[f"{unique}.o.>"])
        async with Session([fresh_server.url]) as session:
            core = Feed(session, FeedSpec.create(f"{unique}.c", FeedMode.CORE))
            stored = Feed(session, FeedSpec.create(f"{unique}.s.>", FeedMode.JETSTREAM))
            orphan = Feed(session, FeedSpec.create(f"{unique}.o.>", FeedMode.JETSTREAM))
            feeds = (core, stored, orphan)
            for feed in feeds:
                await feed.start()
            try:
                await old_nc.jetstream().publish(f"{unique}.s.a", b"old")
                await old_nc.publish(f"{unique}.c", b"old")
                await eventually(lambda: stored.count == 1 and core.count == 1, what="on A")
                assert await _consumers(old_nc, stream) == [stored.consumer]

                with pytest.raises(ConnectError):  # nothing listens there: nothing changes
                    await session.switch_to([f"nats://127.0.0.1:{free_port()}"], timeout=2)
                assert session.status.url == fresh_server.url
                assert session.status.state is ConnectionState.CONNECTED

                stopped = await session.switch_to([other_server.url])
                assert list(stopped) == [orphan] and "stream" in stopped[orphan]
                assert orphan.state is FeedState.FAILED and orphan.error
                assert session.status.url == other_server.url
                assert session.status.server_name == "jstui-other"
                assert (core.state, stored.state) == (FeedState.LIVE, FeedState.LIVE)
                assert await _consumers(old_nc, stream) == []  # jstui's are gone from A
                assert await _consumers(old_nc, only_old) == []
                assert await _consumers(new_nc, stream) == [stored.consumer]

                await old_nc.jetstream().publish(f"{unique}.s.a", b"old again")
                await old_nc.publish(f"{unique}.c", b"old again")
                await new_nc.jetstream().publish(f"{unique}.s.b", b"new")
                await new_nc.publish(f"{unique}.c", b"new")
                await eventually(lambda: stored.count == 2 and core.count == 2, what="on B")
                await session.nc.flush()
                assert [m.data for m in stored.buffer] == [b"old", b"new"]
                assert [m.data for m in core.buffer] == [b"old", b"new"]
                assert seqs(stored) == [1, 1]  # A's first message, then B's first
            finally:
                for feed in feeds:
                    await feed.stop()
            assert await _consumers(new_nc, stream) == []
    finally:
        await old_nc.close()
        await new_nc.close()


async def test_worker_pools_follow_the_switch_or_stop_saying_why(
    fresh_server: EmbeddedServer, other_server: EmbeddedServer, unique: str
) -> None:
    only_old = f"{unique}-old"
    old_nc = await nats.connect(fresh_server.url)
    new_nc = await nats.connect(other_server.url)
    try:
        await old_nc.jetstream().add_stream(name=only_old, subjects=[f"{unique}.o.>"])
        async with Session([fresh_server.url]) as session:
            core = await WorkerPool(session, PoolSpec(subject=f"{unique}.w", count=2)).start()
            pulled = PoolSpec(subject=f"{unique}.o.>", mode=PoolMode.PULL, count=1)
            orphan = await WorkerPool(session, pulled).start()
            try:
                await old_nc.publish(f"{unique}.w", b"old")
                await eventually(lambda: core.totals().handled == 1, what="handled on A")
                assert await _consumers(old_nc, only_old) == [orphan.consumer_name]

                stopped = await session.switch_to([other_server.url])
                assert list(stopped) == [orphan] and "stream" in stopped[orphan]
                assert orphan.state is PoolState.STOPPED
                assert await _consumers(old_nc, only_old) == []  # jstui's consumer deleted
                assert core.state is PoolState.RUNNING and len(core.members) == 2

                await old_nc.publish(f"{unique}.w", b"old again")
                for _ in range(3):
                    await new_nc.publish(f"{unique}.w", b"new")
                await eventually(lambda: core.totals().handled == 4, what="handled on B")
                await session.nc.flush()
                assert core.totals().handled == 4  # nothing more from A
            finally:
                await core.stop()
                await orphan.stop()
    finally:
        await old_nc.close()
        await new_nc.close()


async def test_responders_follow_the_switch_or_stop_saying_why(
    fresh_server: EmbeddedServer, other_server: EmbeddedServer, unique: str
) -> None:
    """A core responder answers on the new server; a stored one (its durable is on the old
    server) stops with why, and stays listed so the user sees it."""
    old_nc = await nats.connect(fresh_server.url)
    new_nc = await nats.connect(other_server.url)
    try:
        await old_nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.st.>"])
        async with Session([fresh_server.url]) as session:
            manager = ResponderManager(session)
            (core,) = await manager.start(ResponderSpec(f"{unique}.svc"))
            spec = ResponderSpec(f"{unique}.st.q", mode=ResponderMode.STORED)
            (stored,) = await manager.start(spec)
            for member in (core, stored):
                await asyncio.wait_for(member.ready.wait(), 10)
            try:
                assert (await old_nc.request(f"{unique}.svc", b"a", timeout=5)).data == b"a"
                stopped = await session.switch_to([other_server.url])
                assert list(stopped) == [stored] and "old one" in stopped[stored]
                assert stored.state is ResponderState.FAILED and stored.error
                assert core.state is ResponderState.RUNNING
                assert (await new_nc.request(f"{unique}.svc", b"b", timeout=5)).data == b"b"
                with pytest.raises(nats.errors.NoRespondersError):
                    await old_nc.request(f"{unique}.svc", b"c", timeout=2)
            finally:
                manager.stop_all()
                await asyncio.sleep(0)
    finally:
        await old_nc.close()
        await new_nc.close()


async def test_a_key_watch_stops_at_the_switch_saying_why(
    fresh_server: EmbeddedServer, other_server: EmbeddedServer, unique: str
) -> None:
    """The keys a watch holds are the old server's: it does not pretend to follow; its consumer
    on the old server is deleted and its error says what to do."""
    old_nc = await nats.connect(fresh_server.url)
    try:
        kv = await old_nc.jetstream().create_key_value(bucket=unique)
        await kv.put("k", b"v")
        async with Session([fresh_server.url]) as session:
            watch = KeyWatch(session, unique)
            await watch.start()
            try:
                await asyncio.wait_for(watch.caught_up.wait(), 10)
                assert list(watch.entries) == ["k"]
                stopped = await session.switch_to([other_server.url])
                assert list(stopped) == [watch] and "open the bucket again" in watch.error
                assert await _consumers(old_nc, f"KV_{unique}") == []
            finally:
                await watch.stop()
    finally:
        await old_nc.close()
