"""Direct delivery (jstui/nats/direct.py) against a real server and the pinned nats-py."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from jstui.nats import direct as direct_module
from jstui.nats.direct import DirectDelivery, is_direct, subscribe_direct
from jstui.nats.embedded import EmbeddedServer
from tests.conftest import eventually

LIMITS = {"pending_msgs_limit": 10, "pending_bytes_limit": 1024}


async def test_pinned_nats_py_takes_the_direct_path(nc: Client, unique: str) -> None:
    got: list[Msg] = []
    sub = await subscribe_direct(nc, f"{unique}.>", got.append, **LIMITS)
    assert is_direct(sub)  # an upgrade of nats-py that breaks this falls back (tested below)
    for i in range(3000):  # far past both pending limits: nothing is ever pending
        await nc.publish(f"{unique}.a.{i % 3}", str(i).encode(), headers={"n": str(i)})
    await nc.flush()
    await eventually(lambda: len(got) == 3000, what="all 3000 delivered")
    assert [m.data for m in got] == [str(i).encode() for i in range(3000)]  # in order
    assert got[7].subject == f"{unique}.a.1" and got[7].headers == {"n": "7"}
    assert sub.pending_msgs == 0 and sub.pending_bytes == 0
    await sub.unsubscribe()
    await nc.publish(f"{unique}.a.0", b"late")
    await nc.flush()
    await asyncio.sleep(0.05)
    assert len(got) == 3000


async def test_queue_group_members_share_messages(nc: Client, unique: str) -> None:
    first: list[Msg] = []
    second: list[Msg] = []
    subs = [
        await subscribe_direct(nc, unique, first.append, queue="q", **LIMITS),
        await subscribe_direct(nc, unique, second.append, queue="q", **LIMITS),
    ]
    for _ in range(400):
        await nc.publish(unique, b"x")
    await nc.flush()
    await eventually(lambda: len(first) + len(second) == 400, what="400 shared")
    assert first and second
    for sub in subs:
        await sub.unsubscribe()


async def test_a_failing_handler_is_counted_and_the_connection_lives_on(
    nc: Client, unique: str
) -> None:
    seen: list[bytes] = []

    def handler(msg: Msg) -> None:
        if msg.data == b"boom":
            raise ValueError("handler bug")
        seen.append(msg.data)

    sub = await subscribe_direct(nc, unique, handler, **LIMITS)
    for payload in (b"1", b"boom", b"2"):
        await nc.publish(unique, payload)
    await nc.flush()
    await eventually(lambda: seen == [b"1", b"2"], what="messages after the failure")
    delivery = sub._pending_queue
    assert isinstance(delivery, DirectDelivery)
    assert delivery.errors == 1 and isinstance(delivery.last_error, ValueError)
    assert nc.is_connected
    assert (await nc.request("$JS.API.INFO", b"", timeout=2)).data  # the read loop still runs
    await sub.unsubscribe()


async def test_drain_and_close_with_a_direct_subscription(unique: str, nats_url: str) -> None:
    import nats

    client = await nats.connect(nats_url)
    got: list[Msg] = []
    await subscribe_direct(client, unique, got.append, **LIMITS)
    await client.publish(unique, b"x")
    await client.flush()
    await eventually(lambda: len(got) == 1)
    await asyncio.wait_for(client.drain(), 5)
    assert client.is_closed


async def test_falls_back_to_a_callback_subscription(
    nc: Client, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(direct_module, "_supports_direct", lambda sub: False)
    got: list[bytes] = []
    before = set(nc._subs)
    sub = await subscribe_direct(nc, unique, lambda msg: got.append(msg.data), **LIMITS)
    assert not is_direct(sub)
    assert sub._pending_msgs_limit == 10  # the limits apply on this path
    assert set(nc._subs) - before == {sub._id}  # the trial subscription is gone
    for i in range(5):
        await nc.publish(unique, str(i).encode())
    await nc.flush()
    await eventually(lambda: got == [b"0", b"1", b"2", b"3", b"4"])
    await sub.unsubscribe()


async def test_a_direct_subscription_survives_a_server_restart(
    fresh_server: EmbeddedServer,
) -> None:
    import nats

    client = await nats.connect(
        fresh_server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2
    )
    try:
        got: list[bytes] = []
        sub = await subscribe_direct(client, "restart.x", lambda m: got.append(m.data), **LIMITS)
        await client.publish("restart.x", b"before")
        await client.flush()
        await eventually(lambda: got == [b"before"])
        fresh_server.kill()
        await eventually(lambda: client.is_reconnecting, what="reconnecting")
        fresh_server.restart()
        await eventually(lambda: client.is_connected, what="reconnected", timeout=15)
        assert is_direct(sub)
        await client.publish("restart.x", b"after")
        await client.flush()
        await eventually(lambda: got == [b"before", b"after"], what="delivered after restart")
    finally:
        await client.close()
