"""Streams beyond the basics, against a real server: subjects with counts (and as a tree), delete
and erase of one message, NDJSON export and import, and the refused `publish_async` fix."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.client import Client
from nats.js.api import StreamConfig

from jstui.nats.session import Session

# -- a refused publish_async fails its future (nats-py 2.16 left it pending) -----------------------


async def test_a_refused_async_publish_fails_with_the_servers_reason(
    session: Session, nc: Client, unique: str
) -> None:
    await nc.jsm().add_stream(StreamConfig(name=f"{unique}_pa", subjects=[f"{unique}.pa"]))
    future = await session.js.publish_async(f"{unique}.pa", b"x", stream="not_this_one")
    with pytest.raises(Exception, match="expected stream does not match"):
        await asyncio.wait_for(future, 3)
    assert session.js.publish_async_pending() == 0
