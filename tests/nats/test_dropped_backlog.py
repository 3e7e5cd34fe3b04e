"""Messages for a subscription that is gone are dropped before nats-py parses them
(`client_fixes.drop_unsubscribed_backlog`): what a suspended flood leaves queued. Checked against
nats-py's own parser fed the same bytes in every split, and against a real server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nats.aio.client import Client
from nats.errors import ProtocolError
from nats.protocol.parser import Parser

from jstui.nats.client_fixes import drop_frames, drop_unsubscribed_backlog
from jstui.nats.session import Session

LIVE, GONE = 1, 2


def _wire() -> bytes:
    frames = [
        b"MSG flood %d 4\r\nxxxx\r\n" % GONE,
        b"MSG flood %d 4\r\nyyyy\r\n" % GONE,
        b"PONG\r\n",
        b"MSG reply.x %d _INBOX.a 2\r\nok\r\n" % LIVE,
        b"HMSG flood %d 12 14\r\nNATS/1.0\r\n\r\nhi\r\n" % GONE,
        b"HMSG reply.y %d 12 14\r\nNATS/1.0\r\n\r\nyo\r\n" % LIVE,
        b"MSG flood %d 0\r\n\r\n" % GONE,
        b"MSG quiet %d 3\r\nabc\r\n" % LIVE,
    ]
    return b"".join(frames)


class _Client:
    """What the parser calls back: records the messages and PONGs it delivers."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, bytes]] = []
        self.stats = {"in_msgs": 0, "in_bytes": 0}
        self._subs = {LIVE: object()}

    async def _process_msg(
        self, sid: int, subject: bytes, reply: bytes, data: bytes, hdr: Any
    ) -> None:
        self.stats["in_msgs"] += 1
        self.stats["in_bytes"] += len(data)
        if sid in self._subs:
            self.seen.append((sid, data))

    async def _process_pong(self) -> None:
        self.seen.append((0, b"PONG"))


def test_drop_frames_keeps_the_live_ones_in_order_and_a_cut_short_end() -> None:
    wire = _wire()
    live, dropped, dropped_bytes = drop_frames(wire + b"MSG flood 2 4\r\nxx", {LIVE})
    assert dropped == 4 and dropped_bytes == 4 + 4 + 2 + 0
    assert live.startswith(b"PONG\r\nMSG reply.x 1 _INBOX.a 2\r\nok\r\nHMSG reply.y")
    assert live.endswith(b"MSG quiet 1 3\r\nabc\r\nMSG flood 2 4\r\nxx")


def test_a_run_of_alike_frames_is_dropped_up_to_a_different_or_cut_short_one() -> None:
    """A flood repeats one control line; the run is skipped frame by frame without parsing, and
    it ends at the first other frame (a PONG, here) and at a last repeat cut short by the read."""
    alike = b"MSG flood %d 16\r\n" % GONE + b"p" * 16 + b"\r\n"
    # payloads that look like the control line do not confuse it: frames are cut by length
    tricky = b"MSG flood %d 16\r\n" % GONE + alike[:16] + b"\r\n"
    cut = b"MSG flood %d 16\r\n" % GONE + b"p" * 10
    wire = alike * 500 + tricky + b"PONG\r\n" + alike * 3 + cut
    live, dropped, dropped_bytes = drop_frames(wire, {LIVE})
    assert (dropped, dropped_bytes) == (504, 504 * 16)
    assert live == b"PONG\r\n" + cut


async def test_every_split_of_a_read_delivers_what_nats_py_delivers() -> None:
    wire = _wire()
    reference = _Client()
    await Parser(reference).parse(wire)
    for first in range(len(wire) + 1):
        for second in range(first, len(wire) + 1, 7):
            client = _Client()
            parser = Parser(client)
            client._ps = parser  # type: ignore[attr-defined]
            drop_unsubscribed_backlog(client)  # type: ignore[arg-type]
            for piece in (wire[:first], wire[first:second], wire[second:]):
                await parser.parse(piece)
            assert client.seen == reference.seen, (first, second)
            assert client.stats == reference.stats, (first, second)


async def test_a_request_is_answered_past_the_backlog_of_an_unsubscribed_flood(
    nc: Client, session: Session, unique: str
) -> None:
    jstui_nc = session.nc  # with jstui's client fixes

    async def ignore(msg: Any) -> None:
        await asyncio.sleep(0)

    flooded = await jstui_nc.subscribe(f"{unique}.flood", cb=ignore)

    async def echo(msg: Any) -> None:
        await msg.respond(msg.data)

    await nc.subscribe(f"{unique}.echo", cb=echo)
    await nc.flush()
    await jstui_nc.flush()
    for _ in range(20_000):
        await nc.publish(f"{unique}.flood", b"x" * 16)
    await flooded.unsubscribe()
    reply = await jstui_nc.request(f"{unique}.echo", b"ping", timeout=20)
    assert reply.data == b"ping"


async def test_a_malformed_line_is_left_to_nats_py_to_report() -> None:
    client = _Client()
    parser = Parser(client)
    client._ps = parser  # type: ignore[attr-defined]
    drop_unsubscribed_backlog(client)  # type: ignore[arg-type]
    with pytest.raises(ProtocolError):
        await parser.parse(b"MSG flood 2 x\r\nxxxx\r\n")
