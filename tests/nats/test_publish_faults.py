"""Bulk publish under faults, against real servers: every message ends acked, failed or
unknown, the figures add up before the run says "done", and a resend of the unacknowledged ones
(same message ids) leaves each message in the stream exactly once."""

from __future__ import annotations

import asyncio
import re

from nats.aio.client import Client
from nats.aio.msg import Msg

from jstui.nats.embedded import EmbeddedServer
from jstui.nats.publish import MSG_ID_HEADER, BulkPublish, PublishSpec
from jstui.nats.session import Session
from tests.conftest import eventually


def _adds_up(bulk: BulkPublish) -> bool:
    outcomes = bulk.acked + bulk.duplicates + bulk.failed + bulk.unknown
    return bulk.sent == outcomes and len(bulk.unacknowledged) == bulk.failed + bulk.unknown


async def test_messages_without_an_ack_are_unknown_and_counted_before_done(
    session: Session, nc: Client, unique: str
) -> None:
    """A subscriber that never answers: no stream stores, no 503 comes, no ack ever."""
    swallowed: list[Msg] = []

    async def swallow(msg: Msg) -> None:
        swallowed.append(msg)

    await nc.subscribe(f"{unique}.silent", cb=swallow)
    await nc.flush()
    bulk = BulkPublish(session, PublishSpec.create(f"{unique}.silent", "x", mode="js", count=20))
    await bulk.run()
    assert bulk.done and _adds_up(bulk)
    assert (bulk.sent, bulk.acked, bulk.failed, bulk.unknown) == (20, 0, 0, 20)
    assert bulk.unacknowledged == list(range(1, 21))
    assert "20 unknown" in bulk.describe() and "0 failed" in bulk.describe()
    await eventually(lambda: len(swallowed) == 20, what="the 20 messages")
    ids = [msg.headers[MSG_ID_HEADER] for msg in swallowed if msg.headers]
    assert ids == [f"jstui-{bulk.run_id}-{i}" for i in range(1, 21)]


async def test_every_bulk_message_has_an_id_and_a_resend_stores_nothing_twice(
    session: Session, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.>"])
    spec = PublishSpec.create(f"{unique}.ids", "n={{i}}", mode="js", count=30)
    bulk = BulkPublish(session, spec)
    await bulk.run()
    assert (bulk.acked, bulk.unknown, bulk.failed) == (30, 0, 0) and _adds_up(bulk)
    # as if the acks of 5, 6 and 30 were lost: the resend is answered "duplicate"
    bulk.unacknowledged = [5, 6, 30]
    again = bulk.resend()
    await again.run()
    assert (again.total, again.sent, again.duplicates, again.acked) == (3, 3, 3, 0)
    assert _adds_up(again) and "3 already stored" in again.describe()
    assert (await js.stream_info(unique)).state.messages == 30


async def test_a_server_killed_mid_run_loses_nothing_silently(
    fresh_server: EmbeddedServer, unique: str
) -> None:
    """kill -9 while 6,000 publishes run, restart on the same store: the run ends with every
    outcome counted, and resending the unacknowledged ones makes the stream hold each message
    number exactly once."""
    count = 6000
    async with Session([fresh_server.url]) as session:
        js = session.nc.jetstream()
        await js.add_stream(name=unique, subjects=[f"{unique}.>"])
        spec = PublishSpec.create(f"{unique}.bulk", "n={{i}}", mode="js", count=count, rate=3000)
        bulk = BulkPublish(session, spec)
        task = asyncio.create_task(bulk.run())
        await eventually(lambda: bulk.sent >= 1500, timeout=20, what="a part sent")
        fresh_server.kill()
        await asyncio.sleep(0.5)
        await asyncio.to_thread(fresh_server.restart)
        await asyncio.wait_for(task, timeout=60)
        assert bulk.done and _adds_up(bulk), bulk.describe()
        run = bulk
        for _ in range(5):  # a resend may itself meet a reconnect: repeat while some are unknown
            if not run.unacknowledged:
                break
            run = run.resend()
            await run.run()
            assert _adds_up(run), run.describe()
        assert not run.unacknowledged, run.describe()
        info = await js.stream_info(unique)
        numbers: list[int] = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            stored = await session.jsm.get_msg(unique, seq)
            match = re.fullmatch(rb"n=(\d+)", stored.data or b"")
            assert match is not None
            numbers.append(int(match.group(1)))
        assert sorted(numbers) == list(range(1, count + 1))
