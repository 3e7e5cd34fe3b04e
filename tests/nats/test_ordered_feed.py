"""JetStream feeds on jstui's ordered consumer (jstui/nats/feeds/ordered.py), against a real server.

Every message stored is delivered once and in order, across resets: the consumer deleted under a
draining feed, a message lost on the way (a forced consumer-sequence gap), a stream purge; the
server's flow control is answered through a drain of 200k messages; nothing is left behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from jstui.nats.direct import is_direct
from jstui.nats.feeds import ordered as ordered_module
from jstui.nats.feeds.feed import Feed
from jstui.nats.feeds.ordered import OrderedConsumer
from jstui.nats.feeds.spec import FeedSpec
from jstui.nats.session import Session
from tests.conftest import eventually

SHORT_HEARTBEAT = 0.25


@pytest.fixture
def short_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Heartbeats every 0.25 s, so a consumer that went away is noticed within a second."""
    monkeypatch.setattr(ordered_module, "HEARTBEAT_SECONDS", SHORT_HEARTBEAT)


async def fill(nc: Client, stream: str, subject: str, count: int) -> None:
    """Store `count` messages `0`, `1`, ... quickly (core publishes), and wait until stored."""
    js = nc.jetstream()
    await js.add_stream(name=stream, subjects=[f"{subject}.>"])
    for start in range(0, count, 10_000):
        for i in range(start, min(count, start + 10_000)):
            await nc.publish(f"{subject}.a", str(i).encode())
        await nc.flush()

    async def stored() -> int:
        return (await js.stream_info(stream)).state.messages

    deadline = asyncio.get_running_loop().time() + 60
    while await stored() < count:
        assert asyncio.get_running_loop().time() < deadline, "messages not stored"
        await asyncio.sleep(0.05)


def seqs(feed: Feed) -> list[int]:
    return [m.meta.stream_seq for m in feed.buffer if m.meta is not None]


def ordered_of(feed: Feed) -> OrderedConsumer:
    assert feed._ordered is not None
    return feed._ordered


async def consumer_names(nc: Client, stream: str) -> list[str]:
    return [info.name for info in await nc.jsm().consumers_info(stream)]


async def test_drains_stored_messages_in_order_once_then_live(
    session: Session, nc: Client, unique: str
) -> None:
    await fill(nc, unique, unique, 5000)
    feed = Feed(session, FeedSpec.create(f"{unique}.>", "js", buffer=10_000))
    async with feed:
        ordered = ordered_of(feed)
        assert ordered._sub is not None and is_direct(ordered._sub)
        assert await consumer_names(nc, unique) == [feed.consumer]
        await eventually(lambda: feed.count == 5000, what="5000 stored messages")
        await nc.publish(f"{unique}.b", b"live")
        await eventually(lambda: feed.count == 5001, what="the live message")
        assert seqs(feed) == list(range(1, 5002))
        assert [m.data for m in feed.buffer][:3] == [b"0", b"1", b"2"]
        assert feed.buffer[-1].data == b"live" and feed.buffer[-1].subject == f"{unique}.b"
        assert ordered.resets == 0


async def test_stop_deletes_the_consumer(session: Session, nc: Client, unique: str) -> None:
    await fill(nc, unique, unique, 10)
    feed = Feed(session, FeedSpec.create(f"{unique}.>", "js"))
    await feed.start()
    await eventually(lambda: feed.count == 10)
    sids = set(feed._sids)
    assert await consumer_names(nc, unique) == [feed.consumer]
    await feed.stop()
    assert await consumer_names(nc, unique) == []
    assert not sids & set(session.nc._subs)
    await feed.stop()  # twice is fine


async def hold_flow_control(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Keep flow-control answers back until the returned event is set: the server stops pushing
    once its window is out, so the feed sits mid-drain for as long as the test needs."""
    release = asyncio.Event()
    original = OrderedConsumer._publish

    def held(self: OrderedConsumer, subject: str) -> None:
        if not release.is_set():
            return  # lost: after a reset the new consumer asks again
        original(self, subject)

    monkeypatch.setattr(OrderedConsumer, "_publish", held)
    return release


STALLED_TOTAL = 50_000


@pytest.fixture
async def stalled(
    session: Session,
    nc: Client,
    unique: str,
    short_heartbeat: None,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[Feed, asyncio.Event]]:
    """A started feed on 50k stored messages, sitting mid-drain until the event is set."""
    await fill(nc, unique, unique, STALLED_TOTAL)
    release = await hold_flow_control(monkeypatch)
    feed = Feed(session, FeedSpec.create(f"{unique}.>", "js", buffer=STALLED_TOTAL + 10))
    await feed.start()
    await eventually(lambda: feed.count > 0, what="the drain to start")
    await asyncio.sleep(0.3)  # the server waits for an answer to its flow control
    assert 0 < feed.count < STALLED_TOTAL
    yield feed, release
    await feed.stop()


async def test_consumer_deleted_mid_drain_resumes_without_gap_or_duplicate(
    nc: Client, unique: str, stalled: tuple[Feed, asyncio.Event]
) -> None:
    feed, release = stalled
    first = feed.consumer
    await nc.jsm().delete_consumer(unique, first)
    release.set()
    await eventually(lambda: feed.count == STALLED_TOTAL, timeout=30, what="the rest")
    assert seqs(feed) == list(range(1, STALLED_TOTAL + 1))
    assert ordered_of(feed).resets >= 1 and feed.consumer != first
    await eventually(lambda: ordered_of(feed)._background == set(), what="old deleted")
    assert await consumer_names(nc, unique) == [feed.consumer]
    await feed.stop()
    assert await consumer_names(nc, unique) == []


async def test_sequence_gap_resets_from_the_last_delivered(
    session: Session, nc: Client, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 3000
    await fill(nc, unique, unique, total)
    original: Callable[[OrderedConsumer, Msg], None] = OrderedConsumer._on_delivery
    lost: list[str] = []

    def lose_the_1000th(self: OrderedConsumer, msg: Msg) -> None:
        if not lost and msg.reply.startswith("$JS.ACK.") and msg.reply.split(".")[5] == "1000":
            lost.append(msg.reply)  # as if it never arrived: the next one shows a gap
            return
        original(self, msg)

    monkeypatch.setattr(OrderedConsumer, "_on_delivery", lose_the_1000th)
    feed = Feed(session, FeedSpec.create(f"{unique}.>", "js", buffer=total))
    async with feed:
        await eventually(lambda: feed.count == total, what="all after the reset")
        assert lost and ordered_of(feed).resets == 1
        assert seqs(feed) == list(range(1, total + 1))
        assert [m.data for m in feed.buffer] == [str(i).encode() for i in range(total)]


async def test_heartbeat_reveals_a_lost_last_message(
    session: Session,
    nc: Client,
    unique: str,
    short_heartbeat: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The last message lost: no later message shows the gap, the idle heartbeat's
    # Nats-Last-Consumer does, and the reset brings the message back.
    await fill(nc, unique, unique, 20)
    original: Callable[[OrderedConsumer, Msg], None] = OrderedConsumer._on_delivery
    lost: list[str] = []

    def lose_the_last(self: OrderedConsumer, msg: Msg) -> None:
        if not lost and msg.reply.startswith("$JS.ACK.") and msg.reply.split(".")[5] == "20":
            lost.append(msg.reply)
            return
        original(self, msg)

    monkeypatch.setattr(OrderedConsumer, "_on_delivery", lose_the_last)
    feed = Feed(session, FeedSpec.create(f"{unique}.>", "js"))
    async with feed:
        await eventually(lambda: feed.count == 20, what="the lost message, after a reset")
        assert lost and ordered_of(feed).resets == 1
        assert seqs(feed) == list(range(1, 21))


async def test_deliver_new_reset_before_any_message_replays_nothing(
    session: Session, nc: Client, unique: str, short_heartbeat: None
) -> None:
    # A reset before the first message starts where "new" started, not at the stream's start.
    await fill(nc, unique, unique, 30)
    feed = Feed(session, FeedSpec.create(f"{unique}.>", "js", deliver="new"))
    async with feed:
        first = feed.consumer
        await nc.jsm().delete_consumer(unique, first)
        await eventually(lambda: feed.consumer != first, what="a new consumer")
        await nc.jetstream().publish(f"{unique}.b", b"new")
        await eventually(lambda: feed.count >= 1, what="the new message")
        await asyncio.sleep(0.3)
        assert seqs(feed) == [31] and feed.buffer[0].data == b"new"


async def test_stream_deleted_then_back_the_feed_says_so_and_recovers(
    session: Session, nc: Client, unique: str, short_heartbeat: None
) -> None:
    await fill(nc, unique, unique, 5)
    js = nc.jetstream()
    feed = Feed(session, FeedSpec.create(f"{unique}.>", "js"))
    async with feed:
        await eventually(lambda: feed.count == 5)
        await js.delete_stream(unique)
        await eventually(lambda: "not found" in feed.error, what="the reason on the feed")
        assert feed.state.value == "live"  # it keeps trying
        await js.add_stream(name=unique, subjects=[f"{unique}.>"])
        await js.publish(f"{unique}.b", b"back")
        await eventually(lambda: feed.count == 6, timeout=20, what="the message after")
        assert feed.buffer[-1].data == b"back"
        # The new consumer's first message can come before the answer that made it, and the
        # error clears once that answer is read: a loop turn or two later.
        await eventually(lambda: feed.error == "", what="the error cleared")


async def test_purge_during_a_feed_shows_nothing_twice(
    session: Session, nc: Client, unique: str
) -> None:
    await fill(nc, unique, unique, 100)
    js = nc.jetstream()
    feed = Feed(session, FeedSpec.create(f"{unique}.>", "js"))
    async with feed:
        await eventually(lambda: feed.count == 100)
        await js.purge_stream(unique)
        for i in range(50):
            await js.publish(f"{unique}.after", f"after{i}".encode())
        await eventually(lambda: feed.count == 150, what="the messages after the purge")
        await asyncio.sleep(0.2)
        assert feed.count == 150
        assert seqs(feed) == list(range(1, 151))
        assert feed.buffer[-1].data == b"after49"


async def test_purge_mid_drain_then_new_messages(
    nc: Client, unique: str, stalled: tuple[Feed, asyncio.Event]
) -> None:
    # The flow-control answers held back are lost; the server's next heartbeat names the one it
    # waits for (Nats-Consumer-Stalled), and answering that one gets the drain going again.
    feed, release = stalled
    await nc.jetstream().purge_stream(unique)
    release.set()
    await nc.jetstream().publish(f"{unique}.after", b"after")
    await eventually(lambda: feed.buffer[-1].data == b"after", what="the new message")
    got = seqs(feed)
    assert got == sorted(set(got)) and got[-1] == STALLED_TOTAL + 1  # in order, none twice
    assert ordered_of(feed).resets == 0  # the stalled answer sufficed


async def test_flow_control_through_200k_messages(
    session: Session, nc: Client, unique: str
) -> None:
    total = 200_000
    await fill(nc, unique, unique, total)
    feed = Feed(session, FeedSpec.create(f"{unique}.>", "js", buffer=1000))
    async with feed:
        await eventually(lambda: feed.count == total, timeout=120, what="200k messages")
        assert [m.meta.stream_seq for m in feed.buffer if m.meta] == list(
            range(total - 999, total + 1)
        )
        assert ordered_of(feed).resets == 0
