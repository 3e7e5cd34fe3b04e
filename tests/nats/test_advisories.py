"""JetStream advisories and dead letters against a real nats-server: `AdvisoryWatch` on jstui's
shared connection, `DeadLetters` reading the originals by sequence without consuming."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from jstui.nats.embedded import EmbeddedServer
from jstui.nats.observe.advisories import (
    API_KIND,
    MAX_DELIVERIES,
    MSG_TERMINATED,
    AdvisoryWatch,
    decode_advisory,
    kind_of,
)
from jstui.nats.observe.deadletters import GONE, DeadLetters
from jstui.nats.session import ConnectionState, Session
from jstui.nats.streams.service import StreamService
from tests.conftest import eventually


@pytest.fixture
async def watch(session: Session) -> AsyncIterator[AdvisoryWatch]:
    started = AdvisoryWatch()
    await started.start(session)
    await session.nc.flush()
    yield started
    await started.stop()


def balanced(watch: AdvisoryWatch) -> bool:
    counts = watch.counts()
    return counts.received == counts.kept + counts.api_skipped + counts.undecodable + counts.dropped


async def make_stream(nc: Client, name: str) -> None:
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=name, subjects=[f"{name}.>"]))


async def test_max_deliveries_becomes_a_dead_letter_with_its_original(
    nc: Client, session: Session, watch: AdvisoryWatch, unique: str
) -> None:
    """A consumer with max_deliver=2 and ack_wait=1 s never acked: the advisory arrives about
    2 s later, and the dead letter's original is read back, headers and payload, unconsumed."""
    await make_stream(nc, unique)
    js = nc.jetstream()
    inbox = nc.new_inbox()
    received: list[int] = []

    async def never_ack(msg: object) -> None:
        received.append(1)

    await nc.subscribe(inbox, cb=never_ack)
    await js.add_consumer(
        unique,
        ConsumerConfig(
            durable_name="slow",
            deliver_subject=inbox,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=1,
            max_deliver=2,
        ),
    )
    await js.publish(f"{unique}.orders", b'{"order": 7}', headers={"Trace": "abc"})
    letters = DeadLetters(watch, StreamService(session))
    await eventually(lambda: letters.dead_letters(stream=unique), timeout=8, what="dead letter")
    (letter,) = letters.dead_letters(stream=unique, consumer="slow")
    assert letter.why == "max deliveries"
    assert (letter.stream_seq, letter.deliveries) == (1, 2)
    assert letter.advisory is not None and letter.advisory.kind == MAX_DELIVERIES
    assert letters.dead_letters(stream=unique, consumer="other") == []
    assert letters.missing() == 1
    original = await letters.original(letter)
    assert original.message is not None
    assert original.message.subject == f"{unique}.orders"
    assert original.message.data == b'{"order": 7}'
    assert original.message.headers == {"Trace": "abc"}
    assert letters.cached_original(letter) is original  # cached: no second fetch
    assert len(received) == 2
    assert balanced(watch)


async def test_term_gives_msg_terminated_and_a_removed_original_says_so(
    nc: Client, session: Session, watch: AdvisoryWatch, unique: str
) -> None:
    await make_stream(nc, unique)
    js = nc.jetstream()
    await js.publish(f"{unique}.a", b"first")
    sub = await js.pull_subscribe(f"{unique}.>", durable="terminator")
    (msg,) = await sub.fetch(1, timeout=2)
    await msg.term()
    letters = DeadLetters(watch, StreamService(session))
    await eventually(lambda: letters.dead_letters(stream=unique), timeout=5, what="terminated")
    (letter,) = letters.dead_letters(stream=unique)
    assert (letter.why, letter.consumer, letter.stream_seq) == ("terminated", "terminator", 1)
    assert letter.advisory is not None and letter.advisory.kind == MSG_TERMINATED
    # purged since: the original is gone, and the answer says so (and is cached)
    await js.purge_stream(unique)
    fetched = await letters.fetch_missing()
    assert fetched == 1
    original = letters.cached_original(letter)
    assert original is not None and original.message is None and original.problem == GONE
    assert await letters.fetch_missing() == 0


async def test_api_audit_is_counted_not_kept_unless_asked(
    nc: Client, watch: AdvisoryWatch, unique: str
) -> None:
    await make_stream(nc, unique)  # a STREAM.CREATED advisory and at least one API audit
    await eventually(lambda: watch.api_skipped >= 1, what="api audit counted")
    await eventually(
        lambda: any(a.kind == "STREAM.CREATED" and a.stream == unique for a in watch.advisories),
        what="stream created",
    )
    assert all(a.kind != API_KIND for a in watch.advisories)
    watch.include_api = True
    await nc.jetstream().stream_info(unique)
    info_call = f"$JS.API.STREAM.INFO.{unique}"
    await eventually(
        lambda: any(a.kind == API_KIND and info_call in a.detail for a in watch.advisories),
        what="api kept, saying what was called",
    )
    assert balanced(watch)


async def test_hostile_advisories_never_raise_and_are_counted(
    nc: Client, session: Session, watch: AdvisoryWatch
) -> None:
    """Anyone in the account may publish on the advisory subjects: broken JSON, a list, a huge
    body, control characters in names, strings where numbers belong. Nothing raises out of the
    read loop, the connection keeps working and the counters add up."""
    subject = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.x.y"
    hostile = json.dumps(
        {
            "type": "io.nats.jetstream.advisory.v1.max_deliver",
            "stream": "evil\x1b[2J\x1b]52;c;aGk=\x07\u202e",
            "consumer": ["not", "a", "string"],
            "stream_seq": "12",
            "deliveries": True,
        }
    ).encode()
    deep = b"[" * 50_000  # under the size cap, but json.loads raises RecursionError
    for data in (b"{not json", b"[1, 2]", b"\xff\xfe", b"{" * 100_000, deep, hostile):
        await nc.publish(subject, data)
    await nc.flush()
    await eventually(lambda: watch.received >= 6 and watch.advisories, what="hostile advisories")
    assert watch.undecodable == 5
    (advisory,) = [a for a in watch.advisories if a.subject == subject]
    assert advisory.stream.startswith("evil\x1b")  # kept as sent; the display sanitizes
    assert advisory.consumer == "y"  # not a string in the JSON: the subject's token
    assert (advisory.stream_seq, advisory.deliveries) == (None, None)
    letters = DeadLetters(watch, StreamService(session))
    (letter,) = letters.dead_letters()
    original = await letters.original(letter)
    assert original.message is None and original.problem
    assert balanced(watch)
    assert await session.nc.request("$JS.API.INFO", b"", timeout=2)  # the connection still reads


def test_kind_and_fields_from_the_subject() -> None:
    assert kind_of("$JS.EVENT.ADVISORY.API") == ("API", [])
    assert kind_of("$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.s") == ("STREAM.LEADER_ELECTED", ["s"])
    advisory = decode_advisory(
        "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.s.c",
        b'{"consumer_seq": 4, "reason": "bad", "leader": "n1", "action": "create"}',
        index=1,
        received=0.0,
    )
    assert (advisory.stream, advisory.consumer, advisory.seq) == ("s", "c", 4)
    assert advisory.detail == "reason: bad; action: create; leader: n1"
    assert advisory.matches("TERMIN") and advisory.matches("s") and not advisory.matches("zzz")


async def test_a_full_buffer_drops_the_oldest_and_counts_it(nc: Client, session: Session) -> None:
    small = AdvisoryWatch(capacity=3)
    await small.start(session)
    await session.nc.flush()
    try:
        for n in range(5):
            await nc.publish(f"$JS.EVENT.ADVISORY.STREAM.CREATED.s{n}", b'{"action": "create"}')
        await nc.flush()
        await eventually(lambda: small.received == 5, what="five advisories")
        assert [a.stream for a in small.advisories] == ["s2", "s3", "s4"]
        assert small.dropped == 2 and balanced(small)
        assert [a.stream for a in small.since(4)] == ["s4"]
    finally:
        await small.stop()
    await asyncio.sleep(0)


async def test_the_watch_survives_a_reconnect(fresh_server: EmbeddedServer) -> None:
    """nats-py subscribes again after a reconnect: advisories keep coming on the same watch."""
    async with Session([fresh_server.url]) as session:
        watch = AdvisoryWatch()
        await watch.start(session)
        fresh_server.kill()
        await eventually(lambda: session.status.state is ConnectionState.RECONNECTING, timeout=5)
        fresh_server.restart()
        await eventually(lambda: session.status.state is ConnectionState.CONNECTED, timeout=10)
        await session.nc.flush()
        await session.nc.publish("$JS.EVENT.ADVISORY.STREAM.CREATED.after", b'{"action": "create"}')
        await eventually(lambda: any(a.stream == "after" for a in watch.advisories), what="event")
        await watch.stop()
