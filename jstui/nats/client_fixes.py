"""Fixes to nats-py 2.16 that every jstui connection gets (`apply_client_fixes`).

Each one replaces one method on the client *instance* (never the class: a plain nats-py client in
the same process, such as a test's publisher, keeps the library's behaviour) and says which bug it
mends. They are applied right after connecting; nats-py keeps them across reconnects because it
reuses the client object.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Container
from typing import TYPE_CHECKING, Any

from nats.aio.client import DEFAULT_BUFFER_SIZE, Client
from nats.aio.msg import Msg
from nats.protocol.parser import AWAITING_CONTROL_LINE, AWAITING_MSG_PAYLOAD

if TYPE_CHECKING:  # nats-py's JetStream package loads on first use (see jstui.nats)
    from nats.js.client import JetStreamContext


def apply_client_fixes(nc: Client) -> None:
    _guard_late_pongs(nc)
    order_flush_pings(nc)
    tolerate_undecodable_subjects(nc)
    drop_unsubscribed_backlog(nc)
    yield_between_full_reads(nc)  # (after: it wraps the parse that drops, and sees full reads)


def fail_refused_async_publishes(js: JetStreamContext) -> None:
    """Let a JetStream error reply fail its `publish_async` future (call before the first
    `publish_async`, which subscribes the handler).

    nats-py 2.16's reply handler calls `APIError.from_error`, which *raises* the error instead of
    returning it: the exception goes to the subscription's error callback and the future never
    completes, nor frees its place in the pending semaphore. A bulk publish then counted every
    refused message (wrong stream, too large, stream full) as unknown, without the server's
    reason, and 4,000 refusals would stall publishing for good.
    """
    import nats.js.errors  # (loaded already: `js` is made from that package)

    original = js._handle_async_reply

    async def handle_async_reply(msg: Msg) -> None:
        token = msg.subject[len(js._nc._inbox_prefix) + 22 + 2 :]
        future = js._publish_async_futures.get(token)
        if future is not None and not future.done() and msg.data[:1] == b"{":
            try:
                error = json.loads(msg.data).get("error")
            except ValueError:
                error = None
            if error:
                try:
                    nats.js.errors.APIError.from_error(error)
                except nats.js.errors.APIError as refused:
                    future.set_exception(refused)
                    return
        await original(msg)

    js._handle_async_reply = handle_async_reply  # type: ignore[method-assign]  # instance fix


def _guard_late_pongs(nc: Client) -> None:
    """Make a PONG that arrives after its `rtt()`/`flush()` timed out or was cancelled harmless.

    nats-py 2.16 calls `set_result` on that PING's future even when it is already cancelled; the
    `InvalidStateError` ends the client's read loop for good, and the connection goes silently
    dead without a reconnect. A status poll cancelled under load is enough to trigger it.
    """

    async def process_pong() -> None:
        pongs: list[asyncio.Future[bool]] = nc._pongs
        if pongs:
            future = pongs.pop(0)  # each PONG answers the oldest PING, even an abandoned one
            if not future.done():
                future.set_result(True)
            nc._pongs_received += 1
            nc._pings_outstanding = 0

    nc._process_pong = process_pong  # type: ignore[method-assign]


_PING = b"PING\r\n"


def order_flush_pings(nc: Client) -> None:
    """Make `flush()` mean what it says: its PING goes out after everything queued before it.

    nats-py 2.16 writes a flush's PING straight to the socket, while commands queued just before
    it (a SUB, a PUB) wait in the pending buffer for the flusher task. The PONG can then come back
    before the server has seen them: "subscribed and flushed" did not mean that the server had the
    subscription, and a request from another connection met "no responders" now and then (seen
    in the test suite, confirmed with the server's trace). nats.py2 fixed the same bug in 2017
    (PR #24) by letting the flusher send the PING; this does that again.
    """

    async def send_ping(future: asyncio.Future[bool] | None = None) -> None:
        if future is None:
            future = asyncio.get_running_loop().create_future()
        nc._pongs.append(future)
        await nc._send_command(_PING)
        await nc._flush_pending()

    nc._send_ping = send_ping  # type: ignore[method-assign]


def tolerate_undecodable_subjects(nc: Client) -> None:
    """Deliver a message whose subject is not UTF-8, decoded with replacement characters.

    nats-server accepts and stores any bytes as a subject (a raw ``PUB h.bad\\xff``); nats-py 2.16
    decodes subjects strictly, and the UnicodeDecodeError ends its read loop without a word, so any
    client of a shared server could freeze every jstui watching it, and a JetStream feed would stop
    at that sequence every time. Headers are already decoded leniently by nats-py.

    This is nats-py's `_build_message` with a fallback; the strict decode stays first, so a valid
    subject costs what it did (a ``try`` is free in Python 3.11 until something raises).
    """
    msg_class = nc.msg_class

    def build_message(
        sid: int, subject: bytes, reply: bytes, data: bytes, headers: dict[str, str] | None
    ) -> Msg:
        try:
            subject_text = subject.decode()
            reply_text = reply.decode()
        except UnicodeDecodeError:
            subject_text = subject.decode("utf-8", "replace")
            reply_text = reply.decode("utf-8", "replace")
        message: Any = msg_class(
            subject=subject_text,
            reply=reply_text,
            data=data,
            headers=headers,
            _client=nc,
            _sid=sid,
        )
        return message  # a Msg, or the subclass the client was configured with

    nc._build_message = build_message  # type: ignore[method-assign]


def yield_between_full_reads(nc: Client) -> None:
    """Give the loop a turn after each full read of a flood, not only when the socket is empty.

    nats-py's read loop reads 32 KiB, parses it and reads again; asyncio's reader returns at once
    while its buffer holds data (up to 256 KiB per socket read), so an unpaced flood held the loop
    for eight reads in a row, 100-250 ms on a loaded machine, before a key press or a timer ran. A
    full read means more is waiting: yield then. Short reads (no flood) cost nothing more.
    """
    parser = nc._ps
    parse = parser.parse

    async def parse_then_yield(data: bytes = b"") -> None:
        await parse(data)
        if len(data) >= DEFAULT_BUFFER_SIZE:
            await asyncio.sleep(0)

    parser.parse = parse_then_yield  # type: ignore[method-assign]


_MSG_OPS = (b"MSG ", b"HMSG ")
_CRLF = b"\r\n"


def drop_unsubscribed_backlog(nc: Client) -> None:
    """Drop messages for subscriptions that are gone without parsing them one by one.

    A flooded core feed is suspended by unsubscribing (jstui/nats/feeds/saturation.py), but the
    server still sends all it had queued for it: up to seconds of reading, and every reply and
    PONG waits behind it. nats-py parses each such message in full (about 2 us) only to drop it,
    since no subscription has its sid. When a read starts with such a message, this takes the
    read apart frame by frame (about 2 us a message; a run of frames with the same control line,
    as a flood sends them, about 0.2 us each), counts the dropped ones in `nc.stats` as nats-py
    would, and parses only the rest. A read that starts with a live message (a feed that
    keeps up, a flood not yet suspended) goes to the parser as it came.
    """
    parser = nc._ps
    parse = parser.parse

    async def parse_live(data: bytes = b"") -> None:
        if parser.state == AWAITING_MSG_PAYLOAD:  # finish the message the last read split
            rest = parser.needed + len(_CRLF) - len(parser.buf)
            if rest > len(data):
                await parse(data)
                return
            await parse(data[:rest])
            data = data[rest:]
        if parser.state != AWAITING_CONTROL_LINE or not data:
            await parse(data)
            return
        if parser.buf:  # the start of a control line the last read split
            data = bytes(parser.buf) + data
            parser.buf.clear()
        try:
            first = _frame(data, 0)
            if first is None or first[1] < 0 or first[1] in nc._subs:
                await parse(data)
                return
            live, dropped, dropped_bytes = drop_frames(data, nc._subs)
        except (ValueError, IndexError):  # a malformed line: nats-py's parser says what is wrong
            await parse(data)
            return
        nc.stats["in_msgs"] += dropped
        nc.stats["in_bytes"] += dropped_bytes
        await parse(live)

    parser.parse = parse_live  # type: ignore[method-assign]


def _frame(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """The complete frame at `pos`: (its end, the sid of a MSG or HMSG or -1, its payload size
    without headers); None when it is cut short (the rest comes with the next read)."""
    eol = data.find(_CRLF, pos)
    if eol < 0:
        return None
    if not data.startswith(_MSG_OPS, pos):
        return eol + len(_CRLF), -1, 0  # PING, PONG, +OK, -ERR, INFO: one line
    fields = data[pos:eol].split()  # op subject sid [reply] [header size] size
    size = int(fields[-1])
    end = eol + len(_CRLF) + size + len(_CRLF)
    if end > len(data):
        return None
    payload = size - int(fields[-2]) if fields[0] == b"HMSG" else size  # as nats-py counts it
    return end, int(fields[2]), payload


def drop_frames(data: bytes, subscribed: Container[int]) -> tuple[bytes, int, int]:
    """`data` without the complete messages for sids not `subscribed`, how many were dropped, and
    their payload bytes. Other frames, and a last frame cut short, are kept in order."""
    live = bytearray()
    pos = dropped = dropped_bytes = 0
    total = len(data)
    while (frame := _frame(data, pos)) is not None:
        end, sid, size = frame
        if sid >= 0 and sid not in subscribed:
            # A flood is one frame over and over: the same control line (subject, sid, size),
            # so the same length. Each whole frame that repeats the line is skipped unparsed.
            length = end - pos
            line = data[pos : data.index(_CRLF, pos) + len(_CRLF)]
            count = 1
            while end + length <= total and data.startswith(line, end):
                end += length
                count += 1
            dropped += count
            dropped_bytes += size * count
        else:
            live += data[pos:end]
        pos = end
    live += data[pos:]
    return bytes(live), dropped, dropped_bytes
