"""A 3-node cluster loses the leader of an R3 stream (SIGKILL) while a JetStream feed, a worker
pool and a bulk publish run on it: the bulk publish ends with every message accounted for and a
resend leaves each in the stream once; the feed shows every stored sequence exactly once; the
pool's ledger adds up (every task stored was acked, none lost); a publish succeeds within 15 s of
the kill with no action by the user; the Streams pane names the new leader."""

from __future__ import annotations

import asyncio
import re
import time

from nats.js.api import StreamConfig

from jstui.app import JstuiApp
from jstui.config import Settings
from jstui.nats.cluster import EmbeddedCluster
from jstui.nats.feeds.feed import Feed
from jstui.nats.feeds.spec import FeedMode, FeedSpec
from jstui.nats.publish import BulkPublish, PublishSpec, publish_once
from jstui.nats.session import Session
from jstui.nats.workers.load import LoadGenerator, LoadSpec
from jstui.nats.workers.pool import WorkerPool
from jstui.nats.workers.spec import PoolMode, PoolSpec
from tests.app.conftest import screen_text, wait_connected, wait_until
from tests.app.test_streams_pane import select_stream
from tests.conftest import eventually
from tests.nats.test_ordered_feed import seqs


async def _leader(session: Session, stream: str) -> str:
    info = await session.jsm.stream_info(stream)
    assert info.cluster is not None
    return info.cluster.leader or ""


async def _leader_off_the_meta_leader(
    session: Session, cluster: EmbeddedCluster, stream: str
) -> str:
    """The stream's leader, moved off the meta leader first: killing the meta leader too would
    need a new meta leader, which takes up to ~40 s on two busy cores (another test's business)."""
    meta = cluster.meta_leader()
    for _ in range(10):
        leader = await _leader(session, stream)
        if leader and leader != meta:
            return leader
        await session.nc.request(f"$JS.API.STREAM.LEADER.STEPDOWN.{stream}", b"", timeout=5)
        await asyncio.sleep(1)
    raise AssertionError(f"the leader of {stream} stays on the meta leader {meta}")


async def _stored_numbers(
    session: Session, stream: str, subject: str, pattern: bytes = rb"n=(\d+)"
) -> list[int]:
    """The message numbers (`pattern`'s group) the stream holds on `subject`, in order."""
    info = await session.jsm.stream_info(stream)
    numbers: list[int] = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        stored = await session.jsm.get_msg(stream, seq)
        if stored.subject == subject:
            match = re.fullmatch(pattern, stored.data or b"")
            assert match is not None
            numbers.append(int(match.group(1)))
    return numbers


async def test_losing_the_stream_leader_loses_nothing_silently(
    fresh_cluster: EmbeddedCluster, unique: str
) -> None:
    count, tasks = 3000, 600
    started = time.monotonic()

    def step(what: str) -> None:
        # Printed: pytest shows it when the test runs out of time (once in CI, 120 s, under the
        # other worker's load), so the next failure says which step it was waiting in.
        print(f"{time.monotonic() - started:6.1f} s  {what}", flush=True)

    async with Session(list(fresh_cluster.urls)) as session:
        await session.jsm.add_stream(
            StreamConfig(name=unique, subjects=[f"{unique}.>"], num_replicas=3)
        )
        leader = await _leader_off_the_meta_leader(session, fresh_cluster, unique)
        step(f"stream leader {leader}")

        feed = Feed(session, FeedSpec.create(f"{unique}.>", FeedMode.JETSTREAM, stream=unique))
        await feed.start()
        pool_spec = PoolSpec(
            subject=f"{unique}.w", mode=PoolMode.PULL, stream=unique, count=2, ack_wait=2, batch=5
        )
        pool = await WorkerPool(session, pool_spec).start()
        load = LoadGenerator(
            session, LoadSpec(f"{unique}.w", count=tasks, rate=150, jetstream=True), pool.ledger
        )
        spec = PublishSpec.create(f"{unique}.b", "n={{i}}", mode="js", count=count, rate=600)
        bulk = BulkPublish(session, spec)
        running = asyncio.create_task(bulk.run())
        loading = asyncio.create_task(load.run())
        try:
            await eventually(lambda: bulk.sent >= 600, timeout=20, what="a part sent")
            fresh_cluster.node_named(leader).kill()
            killed_at = time.monotonic()
            step("leader killed")

            # A single publish, as the form sends it, succeeds without any action by the user.
            async def publish_when_elected() -> None:
                while True:
                    try:
                        await publish_once(session, PublishSpec.create(f"{unique}.one", "after"))
                        return
                    except Exception:
                        await asyncio.sleep(0.25)

            await asyncio.wait_for(publish_when_elected(), timeout=15)
            assert time.monotonic() - killed_at < 15
            new_leader = await _leader(session, unique)
            assert new_leader and new_leader != leader
            step(f"published again, new leader {new_leader}")

            await asyncio.wait_for(running, timeout=60)
            step(f"bulk publish done: {bulk.describe()}")
            outcomes = bulk.acked + bulk.duplicates + bulk.failed + bulk.unknown
            assert bulk.done and bulk.sent == outcomes, bulk.describe()
            run = bulk
            for _ in range(5):
                if not run.unacknowledged:
                    break
                run = run.resend()
                await run.run()
            assert not run.unacknowledged, run.describe()
            step("resends done")
            assert sorted(await _stored_numbers(session, unique, f"{unique}.b")) == list(
                range(1, count + 1)
            )
            await asyncio.wait_for(loading, timeout=60)
            step("tasks loaded")
            # every task stored once: those whose ack was lost in the election were sent again
            assert load.unconfirmed == 0 and load.stored == tasks
            stored_tasks = await _stored_numbers(session, unique, f"{unique}.w", rb"task (\d+)")
            assert sorted(stored_tasks) == list(range(1, tasks + 1))

            # The feed: every sequence the stream holds, once, in order.
            last = (await session.jsm.stream_info(unique)).state.last_seq
            await eventually(lambda: feed.count >= last, timeout=20, what="the feed caught up")
            step("feed caught up")
            assert seqs(feed) == list(range(1, last + 1))

            # The pool: every task the stream stored was delivered and acked; a task acked
            # twice is one redelivered after the kill (its first ack lost), never a silent one.
            def settled() -> bool:
                report = pool.ledger.report()
                return report.published_unacked == 0 and report.unacked == 0

            await eventually(settled, timeout=30, what="every task acked")
            step("every task acked")
            report = pool.ledger.report()
            assert report.published == load.stored > 0
            assert report.never_delivered == 0
            assert report.acked_once + report.acked_twice == report.seen
            assert set(report.twice_seqs) <= set(report.redelivered_seqs)
        finally:
            step("stopping the pool and the feed")
            await pool.stop()
            await feed.stop()


async def test_the_streams_detail_names_the_new_leader(
    fresh_cluster: EmbeddedCluster, unique: str
) -> None:
    """In the app, the selected R3 stream's detail follows its leader across a SIGKILL."""
    async with Session(list(fresh_cluster.urls)) as session:
        await session.jsm.add_stream(
            StreamConfig(name=unique, subjects=[f"{unique}.>"], num_replicas=3)
        )
        leader = await _leader_off_the_meta_leader(session, fresh_cluster, unique)
    app = JstuiApp(Settings(servers=tuple(fresh_cluster.urls)))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await select_stream(pilot, unique)
        await wait_until(pilot, lambda: f"Leader {leader}" in screen_text(app), what="leader")
        others = [node.name for node in fresh_cluster.nodes if node.name != leader]
        fresh_cluster.node_named(leader).kill()
        await wait_until(
            pilot,
            lambda: any(f"Leader {name}" in screen_text(app) for name in others),
            timeout=30,
            what="a new leader named",
        )
