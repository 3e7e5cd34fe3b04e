"""The leader checker (jstui/nats/stream_health.py): its record without a server, its life cycle
on one server (it runs only while streams are registered), and on a real 3-node cluster that
loses 2 of its 3 nodes: a JetStream feed and a worker pool on an R3 stream say that the stream
leader is unavailable (not "live", not "running"), and are back to normal by themselves once the
nodes return, the feed having shown every stored sequence exactly once."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from nats.js.api import StreamConfig

from jstui.format.lines import time_of_day
from jstui.nats.cluster import EmbeddedCluster
from jstui.nats.feeds.feed import Feed
from jstui.nats.feeds.spec import FeedMode, FeedSpec
from jstui.nats.responders.running import ResponderManager
from jstui.nats.responders.spec import ResponderMode, ResponderSpec
from jstui.nats.session import ConnectionState, Session
from jstui.nats.stream_health import LeaderRecord, StreamHealth, health_for
from jstui.nats.workers.pool import WorkerPool
from jstui.nats.workers.spec import PoolMode, PoolSpec
from jstui.widgets.feeds.view import FeedView
from jstui.widgets.requests.render import responder_values
from jstui.widgets.workers.render import PoolView, summary_text
from tests.conftest import eventually
from tests.nats.test_ordered_feed import seqs
from tests.widgets.test_workers_render import make_view, plain


def test_the_record_keeps_the_first_miss_until_a_leader_answers() -> None:
    record = LeaderRecord()
    assert record.leaderless_since("S") is None
    record.observe("S", has_leader=False, now=100.0)
    record.observe("S", has_leader=False, now=102.0)  # still since the first miss
    assert record.leaderless_since("S") == 100.0
    assert record.leaderless_since("other") is None
    record.observe("S", has_leader=True, now=104.0)
    assert record.leaderless_since("S") is None
    record.observe("S", has_leader=False, now=106.0)
    record.forget("S")
    assert record.leaderless_since("S") is None


async def test_a_pool_on_a_leaderless_stream_says_so_instead_of_running() -> None:
    view = make_view(PoolMode.PULL)
    pool = view.pool
    session = pool.session
    session.status = replace(session.status, state=ConnectionState.CONNECTED)
    health = health_for(session)
    pool._watched_stream = "ORDERS"
    health.register("ORDERS")
    try:
        health.record.observe("ORDERS", has_leader=False, now=time.time())
        text = summary_text(view, 0, 1, plain).plain
        assert "2/2 waiting: stream leader unavailable since " in text, text
        assert "running" not in text
        health.record.observe("ORDERS", has_leader=True, now=time.time())
        assert "2/2 running" in summary_text(view, 0, 1, plain).plain
    finally:
        health.unregister("ORDERS")


async def test_the_checker_runs_only_while_a_stream_is_registered(
    session: Session, unique: str
) -> None:
    await session.jsm.add_stream(StreamConfig(name=unique, subjects=[f"{unique}.>"]))
    health = StreamHealth(session, interval=0.05)
    assert not health.running  # nothing registered: no task, no wake-ups
    health.register(unique)
    health.register(f"{unique}_GONE")  # no such stream: not "leaderless"
    assert health.running
    await asyncio.sleep(0.3)
    assert health.leaderless_since(unique) is None
    assert health.leaderless_since(f"{unique}_GONE") is None
    health.unregister(unique)
    health.unregister(f"{unique}_GONE")
    await eventually(lambda: not health.running, timeout=5, what="the checker ended")
    await session.jsm.delete_stream(unique)


async def test_feed_and_pool_say_when_their_stream_has_no_leader(
    fresh_cluster: EmbeddedCluster, unique: str
) -> None:
    async with Session(list(fresh_cluster.urls)) as session:
        await session.jsm.add_stream(
            StreamConfig(name=unique, subjects=[f"{unique}.>"], num_replicas=3)
        )
        for n in range(20):
            await session.js.publish(f"{unique}.a", f"before {n}".encode())
        feed = Feed(session, FeedSpec.create(f"{unique}.>", FeedMode.JETSTREAM, stream=unique))
        await feed.start()
        pool_spec = PoolSpec(subject=f"{unique}.w", mode=PoolMode.PULL, stream=unique, count=2)
        pool = await WorkerPool(session, pool_spec).start()
        responders = ResponderManager(session)
        (responder,) = await responders.start(ResponderSpec(f"{unique}.r", ResponderMode.STORED))
        await asyncio.wait_for(responder.ready.wait(), 10)
        view = FeedView(feed)
        pool_view = PoolView(pool)
        try:
            await eventually(lambda: feed.count >= 20, timeout=10, what="the feed read the 20")
            assert feed.outage_text() == "" and view._info_text().plain.startswith("\u25cf live")

            # 2 of 3 nodes gone (not the one jstui is connected to): the stream has no quorum
            survivor = session.status.server_name
            lost = [node for node in fresh_cluster.nodes if node.name != survivor]
            killed_at = time.time()
            for node in lost:
                node.kill()

            await eventually(
                lambda: feed.outage_text().startswith("stream leader unavailable since "),
                timeout=20,
                what="the feed says the leader is unavailable",
            )
            since = feed.leaderless_since
            assert since is not None and since >= killed_at - 1
            assert feed.outage_text().endswith(f"since {time_of_day(since)}: waiting")
            info = view._info_text().plain
            assert info.startswith("\u25cc waiting  stream leader unavailable since "), info
            assert "\u25cf live" not in info and ": waiting" not in info, info
            summary = summary_text(pool_view, 0, 1, plain).plain
            assert "2/2 waiting: stream leader unavailable since " in summary, summary
            assert "running" not in summary
            await eventually(
                lambda: responder.leaderless_since is not None, timeout=10, what="responder"
            )
            row_state = responder_values(responder)[4]
            assert row_state.startswith("waiting: stream leader unavailable since "), row_state

            for node in lost:
                await asyncio.to_thread(node.restart)
            await eventually(
                lambda: feed.outage_text() == "" and pool.leaderless_since is None,
                timeout=30,
                what="the leader is back for feed and pool",
            )
            assert view._info_text().plain.startswith("\u25cf live")
            assert "2/2 running" in summary_text(pool_view, 0, 1, plain).plain
            await eventually(
                lambda: responder.leaderless_since is None, timeout=10, what="responder back"
            )
            assert responder_values(responder)[4] == "running"

            for n in range(20):
                await session.js.publish(f"{unique}.a", f"after {n}".encode(), timeout=10)
            await eventually(lambda: feed.count >= 40, timeout=20, what="the feed caught up")
            last = (await session.jsm.stream_info(unique)).state.last_seq
            assert seqs(feed) == list(range(1, last + 1))
        finally:
            responders.stop_all()
            await pool.stop()
            await feed.stop()
        assert not health_for(session).running or not health_for(session).streams
