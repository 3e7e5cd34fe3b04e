"""Feeds against the real server: every mode and deliver policy, counters, filter, export, acks."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js.api import RetentionPolicy

from jstui.nats import direct as direct_module
from jstui.nats.direct import is_direct
from jstui.nats.errors import NoStreamError, ReadOnlyError, SpecErrors, ValidationError
from jstui.nats.feeds import feed as feeds_module
from jstui.nats.feeds.feed import Feed, FeedState
from jstui.nats.feeds.filter import FeedFilter
from jstui.nats.feeds.message import (
    AckKind,
    FeedMessage,
    export_messages,
    message_to_json,
    parse_ack_reply,
)
from jstui.nats.feeds.spec import Deliver, FeedMode, FeedSpec, parse_feed_option, parse_since
from jstui.nats.session import Session
from tests.conftest import eventually


def assert_balanced(feed: Feed) -> None:
    c = feed.counts()
    assert c.received == c.shown + c.filtered + c.skipped + c.dropped + c.pending, c
    assert c.dropped == c.slow + c.overwritten, c


# -- parsing ----------------------------------------------------------------------------------


def test_short_form_modes_and_options() -> None:
    # no mode: settled when the feed opens (JetStream if a stream captures the subject)
    assert parse_feed_option("orders.>") == FeedSpec("orders.>", auto_mode=True)
    assert parse_feed_option("orders.>,core") == FeedSpec("orders.>")
    spec = parse_feed_option("orders.*,queue=q1", buffer=500)
    assert (spec.mode, spec.queue, spec.buffer) == (FeedMode.CORE, "q1", 500)
    spec = parse_feed_option("my.subject.*,js,deliver=last-per-subject")
    assert (spec.mode, spec.deliver) == (FeedMode.JETSTREAM, Deliver.LAST_PER_SUBJECT)
    spec = parse_feed_option("a.b,seq=42")  # seq implies a JetStream feed from that sequence
    assert (spec.mode, spec.deliver, spec.start_seq) == (FeedMode.JETSTREAM, Deliver.SEQUENCE, 42)
    spec = parse_feed_option("a.b, since=10m ,stream=S")
    assert (spec.deliver, spec.since, spec.stream) == (Deliver.TIME, "10m", "S")
    spec = parse_feed_option("jobs.>,consume,durable=viewer,buffer=200")
    assert (spec.mode, spec.durable, spec.buffer) == (FeedMode.CONSUME, "viewer", 200)
    for spec in (
        parse_feed_option("x.>,consume,durable=d,seq=3,stream=S,buffer=300"),
        parse_feed_option("x.*,queue=g"),
        parse_feed_option("x.*"),
        parse_feed_option("x.*,core"),
        parse_feed_option("x,js,deliver=new"),
        parse_feed_option("x,js,since=2024-05-01T10:00:00Z"),
    ):
        assert parse_feed_option(spec.to_option()) == spec


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("a..b", "empty token"),
        ("a.>.b", "last token"),
        ("a b", "spaces"),
        ("a,bogus", "unknown option"),
        ("a,queue=", "needs a value"),
        ("a,js,queue=q", "core feeds"),
        ("a,durable=d", "consume"),
        ("a,js,durable=d", "consuming"),
        ("a,deliver=sometimes", "deliver"),
        ("a,seq=0", "whole number"),
        ("a,since=yesterday", "ISO time"),
        ("a,buffer=5", "buffer"),
        ("a,js,stream=bad.name", "stream"),
    ],
)
def test_short_form_errors_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_feed_option(text)
    assert fragment in str(info.value)


def test_spec_create_reports_every_bad_field() -> None:
    with pytest.raises(SpecErrors) as info:
        FeedSpec.create("a..b", "js", deliver="seq", queue="q", buffer="x")
    assert set(info.value.errors) == {"subject", "queue", "start_seq", "buffer"}


def test_since_durations_and_iso_times() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_since("10m", now=now) == now - timedelta(minutes=10)
    assert parse_since("1h30m", now=now) == now - timedelta(minutes=90)
    assert parse_since("2024-05-01T10:00:00Z") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert parse_since("2024-05-01T10:00:00+02:00") == datetime(2024, 5, 1, 8, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_since("10 parsecs")


def test_ack_reply_metadata_v1_and_v2() -> None:
    v1 = parse_ack_reply("$JS.ACK.ORDERS.view.2.17.5.1714560000000000000.3")
    assert v1 is not None
    assert (v1.stream, v1.consumer, v1.delivered, v1.stream_seq, v1.consumer_seq) == (
        "ORDERS",
        "view",
        2,
        17,
        5,
    )
    assert v1.pending == 3
    assert v1.timestamp == datetime.fromtimestamp(1714560000, UTC)
    v2 = parse_ack_reply("$JS.ACK.hub.ACCHASH.ORDERS.view.1.9.4.1714560000000000000.0.abc")
    assert v2 is not None
    assert (v2.domain, v2.stream, v2.stream_seq, v2.consumer_seq) == ("hub", "ORDERS", 9, 4)
    assert parse_ack_reply("_INBOX.x") is None
    assert parse_ack_reply("$JS.ACK.too.short") is None


# -- core feeds -------------------------------------------------------------------------------


async def test_core_feed_receives_counts_and_stays_bounded(
    session: Session, nc: Client, unique: str
) -> None:
    feed = Feed(session, FeedSpec.create(f"{unique}.core.*", buffer=100))
    async with feed:
        for i in range(1000):
            await nc.publish(f"{unique}.core.{i % 3}", f"m{i}".encode(), headers={"k": str(i)})
        await nc.flush()
        await eventually(lambda: feed.count == 1000, what="1000 messages")
        assert len(feed.buffer) == 100  # the ring buffer holds the newest 100
        assert feed.buffer[-1].data == b"m999"
        assert feed.buffer[-1].headers == {"k": "999"}
        assert feed.bytes == sum(len(f"m{i}") for i in range(1000))
        shown = feed.take_new(limit=30)
        assert [m.data for m in shown] == [f"m{i}".encode() for i in range(970, 1000)]
        c = feed.counts()
        # 900 were pushed out of the ring buffer unseen (lost), 70 are still in it (skipped)
        assert (c.received, c.shown, c.skipped, c.dropped, c.pending) == (1000, 30, 70, 900, 0)
        assert c.overwritten == 900
        assert feed.take_new(limit=30) == []
        await nc.publish(f"{unique}.core.x", b"late")
        await nc.flush()
        await eventually(lambda: feed.pending == 1)
        assert_balanced(feed)
        assert [m.data for m in feed.take_new(limit=30)] == [b"late"]
        assert_balanced(feed)
        feed.sample_rates()
        assert feed.meter.total == 1001


async def test_core_feed_queue_group_shares_messages(
    session: Session, nc: Client, unique: str
) -> None:
    a = Feed(session, FeedSpec.create(f"{unique}.q", queue="grp"))
    b = Feed(session, FeedSpec.create(f"{unique}.q", queue="grp"))
    async with a, b:
        for i in range(400):
            await nc.publish(f"{unique}.q", str(i).encode())
        await nc.flush()
        await eventually(lambda: a.count + b.count == 400, what="400 messages")
        assert a.count > 0 and b.count > 0


async def test_stop_unsubscribes(session: Session, nc: Client, unique: str) -> None:
    feed = Feed(session, FeedSpec.create(f"{unique}.stop"))
    await feed.start()
    sids = set(feed._sids)
    await feed.stop()
    assert not sids & set(session.nc._subs)
    await nc.publish(f"{unique}.stop", b"x")
    await nc.flush()
    await asyncio.sleep(0.1)
    assert feed.count == 0
    await feed.stop()  # twice is fine


async def test_run_until_cancelled_then_unsubscribes(session: Session, unique: str) -> None:
    feed = Feed(session, FeedSpec.create(f"{unique}.run"))
    task = asyncio.create_task(feed.run())
    await eventually(lambda: feed.state.value == "live")
    sids = set(feed._sids)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not sids & set(session.nc._subs)
    assert feed.state.value == "closed"


async def test_core_feed_burst_is_delivered_directly_and_never_dropped(
    session: Session, nc: Client, unique: str
) -> None:
    feed = Feed(session, FeedSpec.create(f"{unique}.burst", buffer=1000))
    async with feed:
        assert feed._sub is not None and is_direct(feed._sub)
        for _ in range(5000):
            await nc.publish(f"{unique}.burst", b"0123456789abcdef")
        await nc.flush()
        await eventually(lambda: feed.counts().received == 5000, what="all 5000 received")
        c = feed.counts()
        assert c.slow == 0 and feed.count == 5000
        assert len(feed.buffer) == 1000  # the ring buffer holds the newest, memory stays bounded
        assert feed.buffer[-1].index == 5000
        assert [m.index for m in feed.take_new(limit=50)] == list(range(4951, 5001))
        assert_balanced(feed)
        c = feed.counts()
        assert (c.shown, c.skipped, c.dropped) == (50, 950, 4000)


async def test_slow_consumer_drops_are_counted_and_balance(
    session: Session, nc: Client, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without direct delivery (a nats-py that lacks what it needs), a core feed is an ordinary
    # callback subscription with pending limits. A tiny limit: a burst overflows it while the
    # callback task waits its turn, and every drop is counted.
    monkeypatch.setattr(direct_module, "_supports_direct", lambda sub: False)
    monkeypatch.setattr(feeds_module, "CORE_PENDING_MSGS", 5)
    feed = Feed(session, FeedSpec.create(f"{unique}.slow"))
    async with feed:
        assert feed._sub is not None and not is_direct(feed._sub)
        for _ in range(5000):
            await nc.publish(f"{unique}.slow", b"0123456789abcdef")
        await nc.flush()
        await eventually(lambda: feed.counts().received == 5000, what="all 5000 accounted")
        c = feed.counts()
        assert c.slow > 0
        assert feed.count == 5000 - c.slow
        feed.take_new(limit=50)
        assert_balanced(feed)
        c = feed.counts()
        assert c.shown == min(50, feed.count) and c.dropped == c.slow == 5000 - feed.count
        assert c.skipped == feed.count - c.shown


async def test_filter_by_subject_and_payload(session: Session, nc: Client, unique: str) -> None:
    feed = Feed(session, FeedSpec.create(f"{unique}.f.>"))
    async with feed:
        for i in range(20):
            kind = "eu" if i % 2 else "us"
            await nc.publish(f"{unique}.f.{kind}", f'{{"n": {i}, "ok": {i % 4 == 1}}}'.encode())
        await nc.flush()
        await eventually(lambda: feed.count == 20)
        flt = FeedFilter.create(subject=f"{unique}.f.eu", payload=r'"ok": True')
        shown = feed.take_new(limit=100, flt=flt)
        assert [json.loads(m.data.replace(b"True", b"true"))["n"] for m in shown] == [
            1,
            5,
            9,
            13,
            17,
        ]
        c = feed.counts()
        assert (c.shown, c.filtered, c.skipped, c.dropped) == (5, 15, 0, 0)
        # another filter accounts the buffer again: the counters follow the filter
        redraw = feed.refilter(FeedFilter.create(subject=f"{unique}.f.us"), limit=3)
        assert [m.subject for m in redraw] == [f"{unique}.f.us"] * 3
        c = feed.counts()
        assert (c.shown, c.filtered, c.skipped, c.dropped) == (3, 10, 7, 0)
        assert_balanced(feed)
    with pytest.raises(SpecErrors) as info:
        FeedFilter.create(subject="a..b", payload="(unclosed")
    assert set(info.value.errors) == {"subject", "payload"}


# -- JetStream --------------------------------------------------------------------------------


async def make_stream(
    nc: Client, name: str, subjects: list[str], count: int = 0, **config: object
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=name, subjects=subjects, **config)
    for i in range(1, count + 1):
        await js.publish(subjects[0].replace("*", "a").replace(">", "a"), f"m{i}".encode())


async def stream_seqs(feed: Feed, n: int) -> list[int]:
    await eventually(lambda: feed.count >= n, what=f"{n} messages")
    await asyncio.sleep(0.05)
    return [m.meta.stream_seq for m in feed.buffer if m.meta is not None]


async def test_jetstream_feed_every_deliver_policy(
    session: Session, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.>"])
    for i in range(1, 7):
        await js.publish(f"{unique}.{'x' if i % 2 else 'y'}", f"m{i}".encode())
    subject = f"{unique}.>"

    async def seqs(expect: int, **options: object) -> list[int]:
        feed = Feed(session, FeedSpec.create(subject, "js", **options))  # type: ignore[arg-type]
        async with feed:
            assert feed.stream == unique and not feed.browsing
            return await stream_seqs(feed, expect)

    assert await seqs(6) == [1, 2, 3, 4, 5, 6]
    assert await seqs(1, deliver="last") == [6]
    assert await seqs(2, deliver="last-per-subject") == [5, 6]
    assert await seqs(3, deliver="seq", start_seq=4) == [4, 5, 6]
    assert await seqs(6, deliver="since", since="1h") == [1, 2, 3, 4, 5, 6]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    feed = Feed(session, FeedSpec.create(subject, "js", deliver="since", since=future))
    async with feed:
        await js.publish(f"{unique}.z", b"after")
        assert await stream_seqs(feed, 1) == [7]
    feed = Feed(session, FeedSpec.create(subject, "js", deliver="new"))
    async with feed:
        await js.publish(f"{unique}.z", b"new one")
        assert await stream_seqs(feed, 1) == [8]
        message = feed.buffer[0]
        assert message.data == b"new one"
        meta = message.meta
        assert meta is not None and meta.stream == unique and meta.consumer_seq == 1
    info = await js.stream_info(unique)
    assert info.state.messages == 8


async def test_jetstream_feed_without_stream_says_so(session: Session, unique: str) -> None:
    feed = Feed(session, FeedSpec.create(f"{unique}.nowhere", "js"))
    with pytest.raises(NoStreamError) as info:
        await feed.start()
    assert "no stream captures" in str(info.value)
    assert feed.state.value == "failed"


@pytest.mark.parametrize("retention", [RetentionPolicy.WORK_QUEUE, RetentionPolicy.INTEREST])
async def test_non_consuming_feed_leaves_work_queue_and_interest_streams_intact(
    session: Session, nc: Client, unique: str, retention: RetentionPolicy
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.>"], retention=retention)
    if retention is RetentionPolicy.INTEREST:
        await js.add_consumer(unique, durable_name="keeper", ack_policy="explicit")
    for i in range(1, 4):
        await js.publish(f"{unique}.a", f"m{i}".encode())
    feed = Feed(session, FeedSpec.create(f"{unique}.>", "js"))
    async with feed:
        assert feed.browsing
        assert await stream_seqs(feed, 3) == [1, 2, 3]
        await js.publish(f"{unique}.b", b"m4")
        assert await stream_seqs(feed, 4) == [1, 2, 3, 4]
        assert feed.buffer[-1].subject == f"{unique}.b"
    last = Feed(session, FeedSpec.create(f"{unique}.>", "js", deliver="last"))
    async with last:
        assert await stream_seqs(last, 1) == [4]
    info = await js.stream_info(unique)
    assert info.state.messages == 4
    names = [c.name for c in await nc.jsm().consumers_info(unique)]
    assert names == ([] if retention is RetentionPolicy.WORK_QUEUE else ["keeper"])


async def test_consuming_feed_ack_nak_term(session: Session, nc: Client, unique: str) -> None:
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.>"], retention=RetentionPolicy.WORK_QUEUE)
    for i in range(1, 4):
        await js.publish(f"{unique}.job", f"job{i}".encode())
    spec = FeedSpec.create(f"{unique}.>", "consume", durable="viewer")
    feed = Feed(session, spec)
    async with feed:
        assert feed.can_ack and feed.consumer == "viewer"
        await eventually(lambda: feed.count == 3)
        first, second, third = list(feed.buffer)
        await feed.acknowledge(first, AckKind.ACK)
        await feed.acknowledge(third, AckKind.TERM)
        await feed.acknowledge(second, AckKind.NAK)
        with pytest.raises(Exception, match="already"):
            await feed.acknowledge(first, AckKind.ACK)
        # a nak'd message comes back, marked as a redelivery
        await eventually(lambda: feed.count == 4, what="redelivery")
        again = feed.buffer[-1]
        assert again.data == b"job2" and again.meta is not None and again.meta.delivered == 2
        await feed.acknowledge(again, AckKind.ACK)
        await asyncio.sleep(0.1)
    info = await js.stream_info(unique)
    assert info.state.messages == 0  # acked and terminated messages left the work queue
    assert (await js.consumer_info(unique, "viewer")).name == "viewer"  # the durable stays


async def test_consuming_and_acks_refused_in_read_only(
    nats_url: str, nc: Client, unique: str
) -> None:
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.>"])
    session = Session(servers=[nats_url], read_only=True)
    await session.connect()
    try:
        feed = Feed(session, FeedSpec.create(f"{unique}.>", "consume"))
        with pytest.raises(ReadOnlyError):
            await feed.start()
        viewer = Feed(session, FeedSpec.create(f"{unique}.>", "js"))  # looking is allowed
        async with viewer:
            assert viewer.state.value == "live"
    finally:
        await session.close()


async def test_ordered_feed_consumer_is_deleted_on_stop(
    session: Session, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.>"])
    feed = Feed(session, FeedSpec.create(f"{unique}.>", "js"))
    await feed.start()
    assert (await js.stream_info(unique)).state.consumer_count == 1
    await feed.stop()
    assert (await js.stream_info(unique)).state.consumer_count == 0


# -- export -------------------------------------------------------------------------------------


async def test_export_ndjson_text_binary_headers_and_sequences(
    session: Session, nc: Client, unique: str, tmp_path: Path
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.>"])
    await js.publish(f"{unique}.t", "héllo [b]".encode(), headers={"Trace": "1"})
    await js.publish(f"{unique}.b", b"\xff\x00\x1b[2J")
    await js.publish(f"{unique}.e", b"")
    feed = Feed(session, FeedSpec.create(f"{unique}.>", "js"))
    async with feed:
        await eventually(lambda: feed.count == 3)
        path, count = await export_messages(feed.exportable(), tmp_path / "out.ndjson")
    assert count == 3 and path.is_absolute()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows[0]["subject"] == f"{unique}.t"
    assert rows[0]["payload"] == "héllo [b]" and rows[0]["payload_encoding"] == "utf-8"
    assert rows[0]["headers"] == {"Trace": "1"}
    assert (rows[0]["stream"], rows[0]["stream_seq"], rows[0]["consumer_seq"]) == (unique, 1, 1)
    assert rows[1]["payload_encoding"] == "base64"
    assert base64.b64decode(rows[1]["payload"]) == b"\xff\x00\x1b[2J"
    assert rows[2]["payload"] == "" and rows[2]["size"] == 0
    assert "time" in rows[0] and rows[0]["received"].endswith("Z")
    with pytest.raises(ValidationError):
        await export_messages(feed.exportable(), tmp_path / "missing" / "x.ndjson")


def test_message_to_json_core_message_keeps_reply() -> None:
    message = FeedMessage(1, 0.0, "a.b", "_INBOX.1", b"hi", None)
    obj = message_to_json(message)
    assert obj["reply"] == "_INBOX.1" and "stream" not in obj
    assert obj["received"] == "1970-01-01T00:00:00Z"


# -- flood protection -----------------------------------------------------------------------------

FLOOD_SCRIPT = """
import asyncio, sys, nats
async def main(url, subject):
    nc = await nats.connect(url, pending_size=8 * 1024 * 1024)
    print("ready", flush=True)
    while True:
        for _ in range(100):
            await nc.publish(subject, b"0123456789abcdef")
        await asyncio.sleep(0)
asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@contextlib.contextmanager
def flooding(url: str, subject: str) -> Iterator[subprocess.Popen[str]]:
    """A separate process publishing 16-byte messages on `subject` as fast as it can, until the
    block ends: more than one Python client can read (the case of issue #11)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", FLOOD_SCRIPT, url, subject], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


async def test_a_flooding_core_feed_is_suspended_and_the_rest_keeps_working(
    session: Session, nc: Client, nats_url: str, unique: str
) -> None:
    flood = Feed(session, FeedSpec(f"{unique}.flood"))
    quiet = Feed(session, FeedSpec(f"{unique}.quiet"))

    async def echo(msg: Any) -> None:
        await msg.respond(msg.data)

    await nc.subscribe(f"{unique}.echo", cb=echo)
    await nc.flush()
    stop = asyncio.Event()

    async def paced() -> None:  # the quiet feed's publisher: 100 msgs/s
        while not stop.is_set():
            await nc.publish(f"{unique}.quiet", b"tick")
            await asyncio.sleep(0.01)

    async with flood, quiet:
        ticker = asyncio.create_task(paced())
        try:
            with flooding(nats_url, f"{unique}.flood"):
                await eventually(lambda: flood.count > 0, 20, "the flood to arrive")
                # a request on the shared connection is answered while the flood goes on
                reply = await session.nc.request(f"{unique}.echo", b"still here", timeout=30)
                assert reply.data == b"still here"
                await eventually(
                    lambda: flood.state is FeedState.SUSPENDED, 30, "the flooding feed to suspend"
                )
                suspension = flood.suspended
                assert suspension is not None and suspension.rate >= 5_000
                received = flood.count
                before = quiet.count
                # the quiet feed is not blamed and keeps receiving while the flood goes on
                await eventually(lambda: quiet.count > before + 20, 30, "the quiet feed")
                assert quiet.state is FeedState.LIVE
                assert flood.count == received  # nothing is received, nothing counted
                reply = await session.nc.request(f"{unique}.echo", b"fast again", timeout=30)
                assert reply.data == b"fast again"
                assert_balanced(flood)
                await flood.resume()  # the flood goes on: it is suspended again
                assert flood.state in (FeedState.LIVE, FeedState.SUSPENDED)
                await eventually(lambda: flood.count > received, 30, "the resumed feed")
                await eventually(
                    lambda: flood.state is FeedState.SUSPENDED, 30, "a second suspension"
                )
            # once the flood is over, resuming keeps the feed live and receiving
            await flood.resume()
            assert flood.state is FeedState.LIVE and flood.suspended is None
            await nc.publish(f"{unique}.flood", b"after")
            await eventually(
                lambda: flood.buffer and flood.buffer[-1].data == b"after", 20, "a late message"
            )
            assert quiet.state is FeedState.LIVE
            assert_balanced(flood)
            assert_balanced(quiet)
        finally:
            stop.set()
            await ticker
    assert flood.state is FeedState.CLOSED


async def test_a_feed_without_flood_protection_keeps_receiving(
    session: Session, nats_url: str, unique: str
) -> None:
    feed = Feed(session, FeedSpec(f"{unique}.flood"))
    feed.flood_protection = False
    async with feed:
        with flooding(nats_url, f"{unique}.flood"):
            await eventually(lambda: feed.count > 200_000, 60, "200,000 messages")
        assert feed.state is FeedState.LIVE
