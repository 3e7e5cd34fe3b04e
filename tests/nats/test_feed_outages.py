"""Feeds across a lost connection, against real servers: a JetStream feed resumes at once when
the connection is back (no gap, no duplicate, the consumer it no longer uses deleted by name) and
says "resuming from seq N" meanwhile; a core feed says since when it receives nothing, and after,
for how long it received nothing."""

from __future__ import annotations

import asyncio
import time

from nats.aio.client import Client

from jstui.nats.embedded import EmbeddedServer
from jstui.nats.feeds.feed import Feed
from jstui.nats.feeds.spec import FeedMode, FeedSpec
from jstui.nats.session import ConnectionState, Session
from tests.conftest import eventually
from tests.nats.test_ordered_feed import seqs


async def test_a_jetstream_feed_resumes_at_once_after_the_server_restarts(
    fresh_server: EmbeddedServer, unique: str
) -> None:
    async with Session([fresh_server.url]) as session:
        await session.js.add_stream(name=unique, subjects=[f"{unique}.>"])
        for i in range(10):
            await session.js.publish(f"{unique}.a", b"%d" % i)
        feed = Feed(session, FeedSpec.create(f"{unique}.>", FeedMode.JETSTREAM, stream=unique))
        await feed.start()
        try:
            await eventually(lambda: feed.count == 10, what="the first 10")
            fresh_server.kill()
            await eventually(lambda: feed.interrupted, what="interrupted")
            assert feed.outage_text() == "resuming from seq 11: nothing stored is missed"
            await asyncio.to_thread(fresh_server.restart)
            back = time.monotonic()
            await eventually(
                lambda: session.status.state is ConnectionState.CONNECTED,
                timeout=20,
                what="reconnected",
            )
            for i in range(10, 20):
                await session.js.publish(f"{unique}.a", b"%d" % i)
            # the heartbeat check alone took 10-15 s; a reset on reconnect takes a moment
            await eventually(lambda: feed.count == 20, timeout=8, what="resumed")
            assert time.monotonic() - back < 8
            assert seqs(feed) == list(range(1, 21))  # no gap, nothing twice
            assert not feed.interrupted and feed.outage_text() == ""
        finally:
            await feed.stop()


async def test_after_a_dropped_connection_the_old_consumer_is_deleted(
    session: Session, nc: Client, unique: str
) -> None:
    """The server kept the consumer through a short outage: the feed resumes on a new one and
    deletes the old one by name at once, not after its inactive threshold."""
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.>"])
    await js.publish(f"{unique}.a", b"1")
    feed = Feed(session, FeedSpec.create(f"{unique}.>", FeedMode.JETSTREAM, stream=unique))
    await feed.start()
    try:
        await eventually(lambda: feed.count == 1, what="the first message")
        old = feed.consumer
        assert await session.reconnect_now()
        await eventually(lambda: feed.consumer != old and not feed.interrupted, what="resumed")

        async def names() -> list[str]:
            return [info.name for info in await nc.jsm().consumers_info(unique)]

        deadline = time.monotonic() + 5
        while old in await names():
            assert time.monotonic() < deadline, "the old consumer is still there"
            await asyncio.sleep(0.1)
        assert await names() == [feed.consumer]
        await js.publish(f"{unique}.a", b"2")
        await eventually(lambda: feed.count == 2, what="the next message")
        assert seqs(feed) == [1, 2]
    finally:
        await feed.stop()


async def test_a_core_feed_says_what_it_missed(fresh_server: EmbeddedServer, unique: str) -> None:
    async with Session([fresh_server.url]) as session:
        feed = Feed(session, FeedSpec.create(f"{unique}.c", FeedMode.CORE))
        await feed.start()
        try:
            fresh_server.kill()
            await eventually(lambda: feed.interrupted, what="interrupted")
            assert feed.outage_text().startswith("connection lost since ")
            assert feed.outage_text().endswith(": messages now are missed")
            await asyncio.to_thread(fresh_server.restart)
            await eventually(lambda: not feed.interrupted, timeout=20, what="back")
            text = feed.outage_text()
            assert text.startswith("connection lost ") and text.endswith(
                ": messages then were missed"
            )
        finally:
            await feed.stop()
