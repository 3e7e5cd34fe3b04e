"""The shared connection: connect, fail fast with a reason, follow a server restart."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time

import nats
import nats.errors
import pytest
from nats.aio.client import Client

from jstui.nats.account import jetstream_answers
from jstui.nats.client_fixes import order_flush_pings
from jstui.nats.embedded import EmbeddedServer, find_nats_server, free_port
from jstui.nats.errors import ConnectError, ReadOnlyError
from jstui.nats.session import ConnectionState, ConnectionStatus, Session


async def _wait_for_state(session: Session, state: ConnectionState, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while session.status.state is not state:
        if time.monotonic() > deadline:
            raise AssertionError(f"state is {session.status.state}, wanted {state}")
        await asyncio.sleep(0.05)


async def test_connects_and_reports_server(nats_server: EmbeddedServer) -> None:
    seen: list[ConnectionStatus] = []
    session = Session([nats_server.url])
    session.add_listener(seen.append)
    await session.connect()
    try:
        assert session.status.state is ConnectionState.CONNECTED
        assert session.status.server_name == "jstui-test"
        assert session.status.server_version
        assert session.status.jetstream is True
        assert session.status.url == nats_server.url
        assert seen[0].state is ConnectionState.CONNECTING
        rtt = await session.rtt()
        assert rtt is not None and rtt > 0
        usage = await session.jetstream_usage()
        assert usage is not None and usage.max_streams == -1
    finally:
        await session.close()
    assert session.status.state is ConnectionState.CLOSED


async def test_rtt_leaves_out_a_stall_of_the_loop(session: Session) -> None:
    """A loop blocked while one PING is out (a long frame) is not the connection's RTT."""
    loop = asyncio.get_running_loop()
    loop.call_soon(time.sleep, 0.3)  # runs right after the first PING is queued
    rtt = await session.rtt()
    assert rtt is not None and 0 < rtt < 0.3


async def test_refused_port_fails_within_five_seconds() -> None:
    session = Session([f"nats://127.0.0.1:{free_port()}"])
    started = time.monotonic()
    with pytest.raises(ConnectError, match="connection refused"):
        await session.connect()
    assert time.monotonic() - started < 5
    assert session.status.state is ConnectionState.FAILED


async def test_wrong_password_fails_fast_with_reason() -> None:
    port = free_port()
    server = subprocess.Popen(
        [str(find_nats_server()), "-a", "127.0.0.1", "-p", str(port), "--user", "a", "--pass", "b"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await asyncio.sleep(0.3)
        session = Session(
            [f"nats://127.0.0.1:{port}"], connect_options={"user": "a", "password": "x"}
        )
        started = time.monotonic()
        with pytest.raises(ConnectError, match="authorization violation"):
            await session.connect()
        assert time.monotonic() - started < 3
    finally:
        server.terminate()
        server.wait()


async def test_server_without_jetstream_is_reported() -> None:
    port = free_port()
    server = subprocess.Popen(
        [str(find_nats_server()), "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await asyncio.sleep(0.3)
        async with Session([f"nats://127.0.0.1:{port}"]) as session:
            assert session.status.state is ConnectionState.CONNECTED
            assert session.status.jetstream is False
            assert "JetStream is not enabled" in session.status.error
    finally:
        server.terminate()
        server.wait()


async def test_a_client_closed_before_it_is_adopted_has_no_jetstream(nats_url: str) -> None:
    """The JetStream probe at connect asks on the client being adopted: one closed meanwhile (a
    server switch leaves time for that) reads as JetStream unavailable, as it did when the probe
    went through nats-py's manager, never as an error out of the connect."""
    session = Session(servers=[nats_url])
    client = await nats.connect(nats_url)
    await client.close()
    assert await jetstream_answers(client, session.jetstream_api_prefix) is False
    async with Session(servers=[nats_url]) as connected:
        assert connected.status.jetstream
        assert await jetstream_answers(connected.nc, connected.jetstream_api_prefix) is True


async def test_reconnects_after_server_restart(fresh_server: EmbeddedServer) -> None:
    async with Session([fresh_server.url]) as session:
        fresh_server.kill()
        await _wait_for_state(session, ConnectionState.RECONNECTING, timeout=5)
        fresh_server.restart()
        await _wait_for_state(session, ConnectionState.CONNECTED, timeout=10)
        assert session.status.error == ""


def test_read_only_refuses_changes() -> None:
    session = Session(["nats://127.0.0.1:1"], read_only=True)
    with pytest.raises(ReadOnlyError, match="read-only mode: create stream"):
        session.check_writable("create stream")
    Session(["nats://127.0.0.1:1"]).check_writable("create stream")


async def test_a_late_pong_does_not_kill_the_connection(nats_server: EmbeddedServer) -> None:
    """An rtt() that times out leaves a PING whose PONG arrives later; the reader must survive."""
    async with Session([nats_server.url]) as session:
        for _ in range(20):
            with contextlib.suppress(nats.errors.TimeoutError):
                await session.nc.rtt(timeout=0.000_001)
        await asyncio.sleep(0.1)
        reply_subject = session.nc.new_inbox()
        sub = await session.nc.subscribe(reply_subject)
        await session.nc.publish(reply_subject, b"still alive")
        message = await sub.next_msg(timeout=2)
        assert message.data == b"still alive"
        assert await session.rtt() is not None


async def _writes_after_subscribe_and_flush(client: Client) -> list[bytes]:
    """What reaches the socket, in order, for a subscribe followed by a flush."""
    written: list[bytes] = []
    transport = client._transport
    assert transport is not None
    original_write, original_writelines = transport.write, transport.writelines

    def write(data: bytes) -> None:
        written.append(bytes(data))
        original_write(data)

    def writelines(lines: list[bytes]) -> None:
        written.extend(bytes(line) for line in lines)
        original_writelines(lines)

    transport.write = write  # type: ignore[method-assign]
    transport.writelines = writelines  # type: ignore[method-assign]
    try:
        await client.subscribe("order.check")
        await client.flush(timeout=2)
    finally:
        transport.write, transport.writelines = original_write, original_writelines
    return [line for line in written if line.startswith((b"SUB", b"PING"))]


async def test_flush_sends_its_ping_after_what_was_queued_before(nats_url: str) -> None:
    # Plain nats-py 2.16 writes the PING first: the PONG can beat the SUB (the bug).
    plain = await nats.connect(nats_url)
    try:
        assert [w[:4] for w in await _writes_after_subscribe_and_flush(plain)] == [b"PING", b"SUB "]
    finally:
        await plain.close()
    # jstui's connection, and any client given the fix, keeps the order.
    async with Session([nats_url]) as session:
        writes = await _writes_after_subscribe_and_flush(session.nc)
        assert [w[:4] for w in writes] == [b"SUB ", b"PING"]
    fixed = await nats.connect(nats_url)
    order_flush_pings(fixed)
    try:
        assert [w[:4] for w in await _writes_after_subscribe_and_flush(fixed)] == [b"SUB ", b"PING"]
    finally:
        await fixed.close()
