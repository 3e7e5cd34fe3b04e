"""What any client of a shared server can send at jstui's connection, and the connection survives.

nats-server accepts and stores a subject that is not valid UTF-8 (a raw ``PUB h.bad\\xff``);
nats-py 2.16 decodes subjects strictly, and the UnicodeDecodeError ends its read loop without a
word: the connection stays "connected" while nothing is read any more. jstui's connection
decodes such a subject with replacement characters instead, and a read loop that ends anyway is
noticed and the connection re-established.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from nats.aio.msg import Msg

from jstui.nats.embedded import EmbeddedServer
from jstui.nats.feeds.feed import Feed
from jstui.nats.feeds.spec import FeedMode, FeedSpec
from jstui.nats.session import ConnectionState, Session
from tests.conftest import eventually

BAD_SUBJECT = b"h.bad\xff\xfe"


async def raw_publish(server: EmbeddedServer, *commands: bytes) -> None:
    """Speak the protocol by hand, as a hostile client would: CONNECT, the commands, PING."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    await reader.readline()  # INFO
    writer.write(b'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n')
    for command in commands:
        writer.write(command)
    writer.write(b"PING\r\n")
    await writer.drain()
    assert (await asyncio.wait_for(reader.readline(), 5)).startswith(b"PONG")
    writer.close()


def hpub(subject: bytes, header: bytes, payload: bytes) -> bytes:
    sizes = f" {len(header)} {len(header) + len(payload)}\r\n".encode()
    return b"HPUB " + subject + sizes + header + payload + b"\r\n"


@pytest.fixture
async def own_session(fresh_server: EmbeddedServer) -> AsyncIterator[Session]:
    async with Session([fresh_server.url]) as connected:
        yield connected


async def test_undecodable_subject_is_delivered_and_the_connection_keeps_reading(
    fresh_server: EmbeddedServer, own_session: Session
) -> None:
    received: list[Msg] = []

    async def on_message(msg: Msg) -> None:
        received.append(msg)

    await own_session.nc.subscribe("h.>", cb=on_message)
    await own_session.nc.flush()
    await raw_publish(
        fresh_server,
        b"PUB " + BAD_SUBJECT + b" 5\r\nhello\r\n",
        hpub(BAD_SUBJECT, b"NATS/1.0\r\nX-A: \xff\r\n\r\n", b"world"),
        b"PUB h.after 2\r\nok\r\n",
    )
    await eventually(lambda: len(received) == 3, what="all three messages, the good one last")
    assert received[0].subject == "h.bad\ufffd\ufffd" and received[0].data == b"hello"
    assert received[1].data == b"world"
    assert received[2].subject == "h.after"
    assert own_session.status.state is ConnectionState.CONNECTED
    assert own_session.nc._reading_task is not None and not own_session.nc._reading_task.done()
    assert await own_session.rtt() is not None


async def test_jetstream_feed_passes_a_stored_undecodable_subject(
    fresh_server: EmbeddedServer, own_session: Session
) -> None:
    await own_session.jsm.add_stream(name="HOSTILE", subjects=["h.>"])
    await raw_publish(
        fresh_server,
        b"PUB " + BAD_SUBJECT + b" 3\r\none\r\n",
        b"PUB h.good 3\r\ntwo\r\n",
    )
    feed = Feed(own_session, FeedSpec("h.>", mode=FeedMode.JETSTREAM))
    async with feed:
        await eventually(lambda: len(feed.buffer) == 2, what="both stored messages")
    assert [m.data for m in feed.buffer] == [b"one", b"two"]
    assert feed.buffer[0].subject == "h.bad\ufffd\ufffd"


async def test_a_read_loop_that_ends_is_noticed_and_the_connection_comes_back(
    own_session: Session,
) -> None:
    seen: list[ConnectionState] = []
    own_session.add_listener(lambda status: seen.append(status.state))
    task = own_session.nc._reading_task
    assert task is not None
    task.cancel()  # whatever ends the read loop, the client stops reading while "connected"
    await eventually(
        lambda: ConnectionState.RECONNECTING in seen, timeout=5, what="the dead loop noticed"
    )
    await eventually(
        lambda: (
            own_session.status.state is ConnectionState.CONNECTED
            and own_session.nc._reading_task is not None
            and not own_session.nc._reading_task.done()
        ),
        timeout=15,
        what="reconnected with a live read loop",
    )
    assert "stopped reading" in own_session.status.error or seen[-1] is ConnectionState.CONNECTED
    assert await own_session.rtt() is not None
