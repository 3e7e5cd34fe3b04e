"""The request watcher against a real server: plain nats-py requesters and responders (core
requests, scatter-gather, the stored-request pattern with a stream and a durable consumer that
answers to the ``reply-to`` header's inbox) watched by `RequestWatch`; rows matched with their
latency, timeouts, the caps, and nothing left behind on the server once it stops."""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from jstui.nats.embedded import EmbeddedServer
from jstui.nats.errors import ValidationError
from jstui.nats.requests.watch import INBOX_CATCH_ALLS, RequestWatch
from jstui.nats.requests.watched import WatchOutcome
from jstui.nats.session import ConnectionState, Session
from tests.conftest import eventually


@pytest.fixture
async def responder_nc(nats_url: str) -> AsyncIterator[Client]:
    """A second plain nats-py program: the responders."""
    client = await nats.connect(nats_url)
    yield client
    await client.drain()


async def _answer_on(
    client: Client, subject: str, prefix: bytes, *, delay: float = 0.0, count: int = 1
) -> None:
    """`count` plain responders on `subject` answering `prefix` + the request, after `delay`."""

    async def answer(msg: Msg) -> None:
        await asyncio.sleep(delay)
        await msg.respond(prefix + msg.data)

    for _ in range(count):
        await client.subscribe(subject, cb=answer)
    await client.flush()


async def _watch(session: Session, subject: str, **options: Any) -> RequestWatch:
    watch = RequestWatch(session, subject, **options)
    await watch.start()
    return watch


def _subscriptions(server: EmbeddedServer, cid: int) -> list[str]:
    """The subjects the server holds for connection `cid` (monitoring endpoint)."""
    url = f"{server.monitor_url}/connz?subs=1&cid={cid}"
    with urllib.request.urlopen(url, timeout=5) as answer:
        connz = json.load(answer)
    connections = connz["connections"]
    return list(connections[0].get("subscriptions_list", [])) if connections else []


async def test_core_requests_are_matched_with_latency_and_counts_add_up(
    session: Session, nc: Client, responder_nc: Client, unique: str
) -> None:
    subject = f"{unique}.svc.echo"

    await _answer_on(responder_nc, subject, b"pong ")
    watch = await _watch(session, f"{unique}.svc.*")
    try:
        for number in range(5):
            reply = await nc.request(subject, f"ping {number}".encode(), timeout=2)
            assert reply.data == f"pong ping {number}".encode()
        await nc.publish(subject, b"not a request")
        await eventually(lambda: watch.counts.replied == 5, what="5 requests matched")
        await eventually(lambda: watch.counts.not_requests == 1, what="the plain message")
        records = list(watch.requests.values())
        assert [r.data for r in records] == [f"ping {n}".encode() for n in range(5)]
        for record in records:
            assert record.outcome is WatchOutcome.REPLIED and record.replies == 1
            assert record.reply_data == b"pong " + record.data
            assert record.first_latency is not None and 0 < record.first_latency < 2
            assert record.reply_to.startswith("_INBOX.") and not record.stored
            assert not record.late  # caught by the inbox catch-all, made before the subject's
        counts = watch.counts
        assert counts.seen == 5 and counts.waiting == 0 and counts.adds_up
        assert watch.latency.count == 5 and watch.latency.max < 2
    finally:
        await watch.stop()


async def test_stored_requests_are_matched_through_the_reply_to_header(
    session: Session, nc: Client, responder_nc: Client, unique: str
) -> None:
    """The tutorial's pattern: the request is stored in a stream with a reply-to header and a
    durable consumer answers to that inbox; the stream's acknowledgement names the sequence."""
    stream, subject = f"{unique}_requests", f"{unique}.requests"
    js = nc.jetstream()
    await js.add_stream(name=stream, subjects=[subject])
    responder_js = responder_nc.jetstream()

    async def reply(msg: Msg) -> None:
        inbox = (msg.headers or {}).get("reply-to")
        if inbox:
            text = msg.data.decode().upper()
            await responder_nc.publish(inbox, f"Response from replier : {text}".encode())
        await msg.ack()

    await responder_js.subscribe(subject, durable="replier", cb=reply, manual_ack=True)
    consumers_before = (await js.stream_info(stream)).state.consumer_count
    watch = await _watch(session, subject)
    try:
        for _ in range(2):
            inbox = nc.new_inbox()
            sub = await nc.subscribe(inbox)
            await nc.flush()
            ack = await js.publish(subject, b"Hello, Consumers!", headers={"reply-to": inbox})
            answer = await sub.next_msg(timeout=5)
            assert answer.data == b"Response from replier : HELLO, CONSUMERS!"
            await sub.unsubscribe()
        await eventually(lambda: watch.counts.replied == 2, what="2 stored requests matched")
        record = list(watch.requests.values())[-1]
        assert record.stored and record.reply_to == inbox and record.ack_to
        assert record.reply_data == b"Response from replier : HELLO, CONSUMERS!"
        await eventually(lambda: record.seq == ack.seq, what="the stream's acknowledgement")
        assert record.stream == stream
        assert watch.counts.adds_up
        # watching made no consumer: the durable is still the only one
        assert (await js.stream_info(stream)).state.consumer_count == consumers_before
    finally:
        await watch.stop()
        await js.delete_stream(stream)


async def test_unanswered_request_says_no_reply_and_gather_counts_replies(
    session: Session, nc: Client, responder_nc: Client, unique: str
) -> None:
    subject = f"{unique}.quiet"
    gather = f"{unique}.gather"

    await _answer_on(responder_nc, gather, b"here: ", count=3)
    watch = await _watch(session, f"{unique}.*", window=0.6)
    try:
        # Nobody answers (and because jstui's subscription receives the request, the requester
        # waits out its timeout instead of hearing "no responders": the module says why).
        with pytest.raises(nats.errors.TimeoutError):
            await nc.request(subject, b"anyone?", timeout=0.3)
        inbox = nc.new_inbox()
        replies = await nc.subscribe(inbox)
        await nc.flush()
        await nc.publish(gather, b"all of you", reply=inbox)
        for _ in range(3):
            await replies.next_msg(timeout=2)
        await eventually(lambda: watch.counts.no_reply == 1, what="the timeout")
        await eventually(lambda: watch.counts.replies == 3, what="3 gathered replies")
        quiet, gathered = watch.requests.values()
        assert quiet.outcome is WatchOutcome.NO_REPLY and quiet.outcome_text == "no reply in 0.6s"
        assert not gathered.stored and not gathered.late  # `_INBOX.<id>`: caught by `_INBOX.*`
        assert gathered.replies == 3 and gathered.outcome_text == "3 replies"
        await eventually(lambda: gathered.closed, what="the gather's window to end")
        counts = watch.counts
        assert (counts.seen, counts.replied, counts.no_reply, counts.waiting) == (2, 1, 1, 0)
    finally:
        await watch.stop()


async def test_pending_requests_are_capped_oldest_cut_short(
    session: Session, nc: Client, unique: str
) -> None:
    subject = f"{unique}.capped"
    watch = await _watch(session, subject, window=30, max_pending=2)
    try:
        for number in range(3):
            await nc.publish(subject, str(number).encode(), reply=f"_INBOX.{unique}.r{number}")
        await eventually(lambda: watch.counts.seen == 3, what="3 requests")
        first = next(iter(watch.requests.values()))
        assert first.cut_short and first.outcome_text == "no reply (cut short)"
        counts = watch.counts
        assert (counts.no_reply, counts.cut_short, counts.waiting) == (1, 1, 2)
        assert counts.adds_up
    finally:
        await watch.stop()


async def test_custom_reply_subjects_are_listened_on_per_request(
    session: Session, nc: Client, responder_nc: Client, unique: str
) -> None:
    subject, replies = f"{unique}.custom", f"{unique}.replies"

    # not instant: on this one shared test loop an instant answer can beat the subscription
    await _answer_on(responder_nc, subject, b"here: ", delay=0.05)
    watch = await _watch(session, subject, window=0.6)
    try:
        inbox = await nc.subscribe(f"{replies}.1")
        await nc.flush()
        await nc.publish(subject, b"to a custom inbox", reply=f"{replies}.1")
        await inbox.next_msg(timeout=2)
        await eventually(lambda: watch.counts.replied == 1, what="the reply")
        record = next(iter(watch.requests.values()))
        assert record.late and record.outcome_text == "replied"
        assert watch.listening == 4  # the subject, two catch-alls, the reply subject
        await eventually(lambda: record.closed, what="the window to end")
        await eventually(lambda: watch.listening == 3, what="its subscription to go")
    finally:
        await watch.stop()


async def test_too_much_other_inbox_traffic_drops_the_catch_all(
    session: Session, nc: Client, responder_nc: Client, unique: str
) -> None:
    subject = f"{unique}.busy"

    await _answer_on(responder_nc, subject, b"late but here: ", delay=0.2)
    watch = await _watch(session, subject, other_inbox_budget=5)
    try:
        for number in range(20):
            await nc.publish(f"_INBOX.{unique}.other{number}", b"not for a watched request")
        await eventually(lambda: watch.catch_all_note != "", what="the catch-all dropped")
        assert "_INBOX.*.*:" in watch.catch_all_note and "_INBOX.*:" not in watch.catch_all_note
        await nc.request(subject, b"still matched?", timeout=2)
        await eventually(lambda: watch.counts.replied == 1, what="the reply, caught per request")
        assert next(iter(watch.requests.values())).late
    finally:
        await watch.stop()


async def test_stopping_leaves_no_subscription_on_the_server(
    session: Session, nats_server: EmbeddedServer, nc: Client, unique: str
) -> None:
    subject = f"{unique}.gone"
    cid = session.nc.client_id
    assert cid is not None
    before = _subscriptions(nats_server, cid)
    watch = await _watch(session, f"{subject}.>", window=30)
    # one request whose reply subject needs its own subscription, left waiting at the stop
    await nc.publish(f"{subject}.a", b"x", reply=f"{unique}.custom.reply")
    await eventually(lambda: watch.listening == 4, what="the reply subscription")
    during = _subscriptions(nats_server, cid)
    assert {f"{subject}.>", *INBOX_CATCH_ALLS, f"{unique}.custom.reply"} <= set(during)
    await watch.stop()
    assert sorted(_subscriptions(nats_server, cid)) == sorted(before)
    assert watch.listening == 0


def test_bad_subjects_and_windows_are_refused(session: Session) -> None:
    with pytest.raises(ValidationError, match="empty token"):
        RequestWatch(session, "a..b")
    with pytest.raises(ValidationError, match="more than 0s"):
        RequestWatch(session, "a.b", window=0)


async def test_reply_subjects_are_listened_on_at_once_and_never_a_bad_one(
    session: Session, nats_server: EmbeddedServer, nc: Client, unique: str
) -> None:
    """With the pinned nats-py the SUB for a reply subject is written from the read loop (not a
    loop turn later); a reply-to header that is no valid subject (a space would make the SUB a
    queue subscription, a wildcard would listen on far too much) is never subscribed to."""
    subject = f"{unique}.hdr"
    watch = await _watch(session, subject)
    try:
        await nc.publish(subject, b"a", headers={"reply-to": f"{unique}.ok.inbox"})
        await nc.publish(subject, b"b", headers={"reply-to": f"{unique}.bad inbox"})
        await nc.publish(subject, b"c", headers={"reply-to": f"{unique}.wild.>"})
        await eventually(lambda: watch.counts.seen == 3, what="3 requests")
        good, spaced, wild = watch.requests.values()
        assert watch._exact.get(f"{unique}.ok.inbox") is not None
        assert good.stored and not good.unheard
        assert "spaces" in spaced.unheard and "wildcard" in wild.unheard
        cid = session.nc.client_id
        assert cid is not None
        held = _subscriptions(nats_server, cid)
        assert f"{unique}.ok.inbox" in held
        assert not any(s.startswith((f"{unique}.bad", f"{unique}.wild")) for s in held)
    finally:
        await watch.stop()


async def test_the_watch_resumes_by_itself_after_the_server_restarts(
    fresh_server: EmbeddedServer, unique: str
) -> None:
    """The demo's "kill the server": nats-py subscribes again after the reconnect, the catch-alls
    and the watched subject included, so requests are matched again with nothing to redo."""
    subject = f"{unique}.svc"
    async with Session([fresh_server.url]) as session:
        requester = await nats.connect(fresh_server.url, reconnect_time_wait=0.2)
        responder = await nats.connect(fresh_server.url, reconnect_time_wait=0.2)
        try:
            await _answer_on(responder, subject, b"up: ")
            watch = await _watch(session, subject)
            await requester.request(subject, b"before", timeout=2)
            await eventually(lambda: watch.counts.replied == 1, what="the first request")
            fresh_server.kill()
            await eventually(
                lambda: session.status.state is not ConnectionState.CONNECTED, what="lost"
            )
            fresh_server.restart()
            await eventually(
                lambda: (
                    session.status.state is ConnectionState.CONNECTED
                    and requester.is_connected
                    and responder.is_connected
                ),
                timeout=20,
                what="everyone back",
            )
            for _ in range(10):  # the responder may subscribe again a moment after the others
                with contextlib.suppress(nats.errors.TimeoutError):
                    await requester.request(subject, b"after", timeout=1)
                    break
            await eventually(lambda: watch.counts.replied == 2, what="matched after the restart")
            assert list(watch.requests.values())[-1].reply_data == b"up: after"
            assert watch.counts.adds_up
            await watch.stop()
        finally:
            await requester.close()
            await responder.close()
