"""Fixes to nats-py 2.16 that every jstui connection gets (`apply_client_fixes`).

Each one replaces one method on the client *instance* (never the class: a plain nats-py client in
the same process, such as a test's publisher, keeps the library's behaviour) and says which bug it
mends. They are applied right after connecting; nats-py keeps them across reconnects because it
reuses the client object.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nats.aio.client import DEFAULT_BUFFER_SIZE, Client
from nats.aio.msg import Msg


def apply_client_fixes(nc: Client) -> None:
    _guard_late_pongs(nc)
    order_flush_pings(nc)
    tolerate_undecodable_subjects(nc)
    yield_between_full_reads(nc)


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
