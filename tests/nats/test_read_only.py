"""`--read-only` against a real server: every change a user can ask for is refused, with a reason,
before anything is sent; looking still works.

Every user-initiated action that changes something, and the test that shows it refused:

- create, edit, purge, delete a stream (`StreamService`): test_streams.py
  `test_read_only_refuses_before_touching_the_server`,
  `test_read_only_session_leaves_streams_alone`;
- delete or erase one message, import an NDJSON file into a stream
  (`StreamService.delete_message`, `NdjsonImport.open`): test_stream_subjects_ndjson.py
  `test_delete_and_erase_one_message`,
  `test_import_reports_bad_lines_by_number_and_publishes_the_rest`;
- publish (the Publish form, "publish again") and bulk publish (`publish_once`,
  `BulkPublish.run`): test_publish.py `test_publish_refused_in_read_only`;
- a consuming feed, which creates a consumer and takes messages (`Feed.start`): test_feeds.py
  `test_consuming_and_acks_refused_in_read_only`;
- ack, nak, term (`Feed.acknowledge`): here, `test_acks_are_refused`;
- a core feed in a queue group, which takes its share of the group's messages from the real
  members (`Feed.start`): here, `test_a_feed_in_a_queue_group_is_refused`;
- responders, which publish replies (stored ones also create durables) (`ResponderManager.start`,
  `Responder.run`): test_responders.py `test_read_only_refuses_responders`;
- worker pools, which join queue groups and create consumers, and the load generator, which
  publishes (`WorkerPool.start`, `LoadGenerator.run`): test_workers.py
  `test_read_only_refuses_pools_and_load`;
- stored requests (`RequestConsole.check_allowed`): test_requests.py
  `test_read_only_refuses_stored_requests_before_sending`;
- core and gather requests on a subject a stream captures, which the stream stores
  (`RequestConsole.check_allowed`): here, `test_requests_a_stream_would_store_are_refused`;
- requests on NATS's API subjects (`$JS.`, `$SYS.`, a custom JetStream API prefix)
  (`RequestConsole.check_allowed`): here, `test_requests_on_api_subjects_are_refused`.

The UI side (footers and the palette do not offer these actions, forms say "read-only" when they
open) is tested in tests/app/test_read_only.py.

Still allowed, because it changes nothing a user keeps: core and gather requests where no stream
captures the subject, core feeds, non-consuming JetStream feeds (an ordered consumer, or reads by
sequence on work-queue and interest streams), the stream browser (get-message and direct get),
and jstui's own reads (JetStream API info and names, monitoring, discovery).
"""

from __future__ import annotations

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from jstui.nats.errors import ReadOnlyError
from jstui.nats.feeds.feed import Feed
from jstui.nats.feeds.message import AckKind
from jstui.nats.feeds.spec import FeedSpec
from jstui.nats.requests.console import RequestConsole
from jstui.nats.requests.record import RequestStatus
from jstui.nats.requests.spec import RequestMode, RequestSpec
from jstui.nats.session import Session
from jstui.nats.streams.service import StreamService
from tests.conftest import eventually


async def _stored(nc: Client, stream: str) -> int:
    return (await nc.jetstream().stream_info(stream)).state.messages


@pytest.mark.parametrize("mode", [RequestMode.REQUEST, RequestMode.GATHER])
async def test_requests_a_stream_would_store_are_refused(
    nats_url: str, nc: Client, unique: str, mode: RequestMode
) -> None:
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.subject.*"])
    subject = f"{unique}.subject.requests"
    async with Session([nats_url]) as writer:
        # The defect: a core request there is a publish, and its "reply" is the stream's PubAck.
        stored = await RequestConsole(writer).send(RequestSpec(subject, mode, timeout=1))
        assert stored.status is RequestStatus.REPLIED
        assert b'"seq":1' in stored.replies[0].data.replace(b" ", b"")
    assert await _stored(nc, unique) == 1
    async with Session([nats_url], read_only=True) as viewer:
        console = RequestConsole(viewer)
        with pytest.raises(ReadOnlyError) as refused:
            await console.send(RequestSpec(subject, mode, timeout=1))
        assert not console.history
    assert str(refused.value) == (
        f"read-only mode: a request on {subject} is not allowed: stream {unique} captures "
        f"{subject}, so a request there would store a message"
    )
    assert await _stored(nc, unique) == 1


@pytest.mark.parametrize(
    "subject", ["$JS.API.STREAM.DELETE.{unique}", "$JS.API.STREAM.PURGE.{unique}", "$SYS.REQ.X"]
)
async def test_requests_on_api_subjects_are_refused(
    nats_url: str, nc: Client, unique: str, subject: str
) -> None:
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.*"])
    await nc.jetstream().publish(f"{unique}.a", b"kept")
    subject = subject.format(unique=unique)
    async with Session([nats_url], read_only=True) as viewer:
        with pytest.raises(ReadOnlyError, match="NATS API subject"):
            await RequestConsole(viewer).send(RequestSpec(subject))
    assert await _stored(nc, unique) == 1


async def test_requests_no_stream_captures_are_allowed(
    nats_url: str, nc: Client, unique: str
) -> None:
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.stored.*"])
    subject = f"{unique}.service"

    async def answer(msg: Msg) -> None:
        await msg.respond(b"pong")

    await nc.subscribe(subject, cb=answer)
    await nc.flush()
    async with Session([nats_url], read_only=True) as viewer:
        console = RequestConsole(viewer)
        record = await console.send(RequestSpec(subject, payload=b"ping"))
        gathered = await console.send(
            RequestSpec(subject, RequestMode.GATHER, timeout=1, max_replies=1)
        )
    assert record.status is RequestStatus.REPLIED and record.replies[0].data == b"pong"
    assert gathered.status is RequestStatus.REPLIED
    assert await _stored(nc, unique) == 0


async def test_acks_are_refused(nats_url: str, nc: Client, unique: str) -> None:
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.>"])
    await js.publish(f"{unique}.job", b"job")
    session = Session([nats_url])
    async with session:
        feed = Feed(session, FeedSpec.create(f"{unique}.>", "consume", durable="viewer"))
        async with feed:
            await eventually(lambda: feed.count == 1, what="the job delivered")
            session.read_only = True  # as if the consuming feed had been opened before
            for kind in AckKind:
                with pytest.raises(ReadOnlyError, match=f"{kind.value} a message"):
                    await feed.acknowledge(feed.buffer[0], kind)
            info = await js.consumer_info(unique, "viewer")
            assert (info.num_ack_pending, info.ack_floor.stream_seq) == (1, 0)


async def test_a_feed_in_a_queue_group_is_refused(nats_url: str, nc: Client, unique: str) -> None:
    got: list[Msg] = []

    async def member(msg: Msg) -> None:
        got.append(msg)

    await nc.subscribe(f"{unique}.work", queue="crew", cb=member)
    async with Session([nats_url], read_only=True) as viewer:
        feed = Feed(viewer, FeedSpec.create(f"{unique}.work", "core", queue="crew"))
        with pytest.raises(ReadOnlyError, match="join a queue group"):
            await feed.start()
        for n in range(20):
            await nc.publish(f"{unique}.work", str(n).encode())
        await nc.flush()
        await eventually(lambda: len(got) == 20, what="every message with the real member")


async def test_looking_is_allowed(nats_url: str, nc: Client, unique: str) -> None:
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.>"], allow_direct=True)
    await js.publish(f"{unique}.a", b"one")
    async with Session([nats_url], read_only=True) as viewer:
        streams = StreamService(viewer)
        assert (await streams.summary(unique)).messages == 1
        message = await streams.get_message(unique, 1)
        assert message.data == b"one"
        feed = Feed(viewer, FeedSpec.create(f"{unique}.>", "js"))
        async with feed:
            await eventually(lambda: feed.count == 1, what="the stored message")
    assert await _stored(nc, unique) == 1
