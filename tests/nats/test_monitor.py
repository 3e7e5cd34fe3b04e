"""The monitoring endpoint: external queue-group members found beside jstui's own."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from jstui.nats.embedded import EmbeddedServer, free_port
from jstui.nats.monitor import (
    MonitorClient,
    MonitorError,
    http_get_json,
    queue_members_from_connz,
)
from jstui.nats.session import Session
from jstui.nats.workers.load import LoadGenerator, LoadSpec
from jstui.nats.workers.pool import WorkerPool
from jstui.nats.workers.spec import PoolMode, PoolSpec

EXTERNAL = Path(__file__).resolve().parents[1] / "interop" / "workers_external.py"


class External:
    """Two nats-py workers in a separate program."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, url: str, mode: str, subject: str, queue: str, count: int = 2) -> External:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXTERNAL),
            url,
            mode,
            subject,
            queue,
            str(count),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line.strip() == b"ready", line
        return cls(process)

    async def stop(self) -> list[int]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        await asyncio.wait_for(self.process.wait(), 30)
        return [int(n) for n in line.split()]


async def until(predicate: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_external_core_workers_appear_with_their_counts(
    session: Session, nats_server: EmbeddedServer, unique: str
) -> None:
    subject = f"{unique}.jobs"
    pool = await WorkerPool(session, PoolSpec(subject=subject, queue="crew", count=2)).start()
    external = await External.start(nats_server.url, "core", subject, "crew")
    try:
        await LoadGenerator(session, LoadSpec(subject, count=400, rate=0)).run()
        monitor = MonitorClient(nats_server.monitor_url)
        own = session.nc.client_id
        identity = pool.queue_identity()
        assert identity == (subject, "crew")
        members = await monitor.queue_members(*identity, exclude_cid=own)
        assert len(members) == 2
        assert {m.name for m in members} == {"external-workers"}
        assert len({m.cid for m in members}) == 1  # one program, one connection, two members
        await until(lambda: pool.totals().handled > 0)
        counts = await external.stop()
        members_total = sum(m.delivered for m in members)
        assert members_total <= sum(counts)
        assert sum(counts) + pool.totals().handled == 400  # jstui's and theirs add up
        assert all(n > 0 for n in counts)
    finally:
        if external.process.returncode is None:
            external.process.kill()
        await pool.stop()


async def test_external_nats_py_workers_join_the_deliver_group(
    session: Session, nats_server: EmbeddedServer, unique: str
) -> None:
    await session.jsm.add_stream(name=unique, subjects=[f"{unique}.>"])
    spec = PoolSpec(subject=f"{unique}.>", mode=PoolMode.GROUP, queue="workers", count=2)
    pool = await WorkerPool(session, spec).start()
    # js.subscribe(subject, queue="workers") binds to jstui's consumer "workers"
    external = await External.start(nats_server.url, "group", f"{unique}.>", "workers")
    try:
        gen = LoadGenerator(
            session, LoadSpec(f"{unique}.t", count=300, rate=0, jetstream=True), pool.ledger
        )
        await gen.run()
        monitor = MonitorClient(nats_server.monitor_url)
        identity = pool.queue_identity()
        assert identity == (pool.deliver_subject, "workers")

        async def delivered_to_them() -> int:
            found = await monitor.queue_members(*identity, exclude_cid=session.nc.client_id)
            assert len(found) == 2
            return sum(m.delivered for m in found)

        deadline = time.monotonic() + 15
        while pool.totals().acked + await delivered_to_them() < 300:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        counts = await external.stop()
        assert sum(counts) + pool.totals().acked == 300
        assert sum(counts) > 0 and pool.totals().acked > 0
    finally:
        if external.process.returncode is None:
            external.process.kill()
        await pool.stop()


async def test_monitor_errors_are_short_and_typed() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(MonitorError, match="refused"):
        await MonitorClient(closed).connz()
    with pytest.raises(MonitorError, match="http"):
        MonitorClient("nats://127.0.0.1:4222")
    assert not await MonitorClient(closed).healthy()


async def test_monitor_reads_a_real_server(nats_server: EmbeddedServer, nats_url: str) -> None:
    data = await http_get_json(nats_server.monitor_url, "/varz")
    assert data["server_name"] == "jstui-test"
    with pytest.raises(MonitorError, match="404"):
        await http_get_json(nats_server.monitor_url, "/no-such-page")
    # not the monitoring port: a NATS port speaks INFO, not HTTP
    with pytest.raises(MonitorError):
        await http_get_json(nats_url.replace("nats://", "http://"), "/connz", timeout=2)
    assert await MonitorClient(nats_server.monitor_url).healthy()


def test_queue_members_from_connz_filters_and_excludes() -> None:
    data = {
        "connections": [
            {
                "cid": 1,
                "name": "jstui",
                "subscriptions_list_detail": [
                    {"subject": "a", "qgroup": "q", "sid": "1", "msgs": 5}
                ],
            },
            {
                "cid": 2,
                "name": "\x1b[31mevil",
                "subscriptions_list_detail": [
                    {"subject": "a", "qgroup": "q", "sid": "9", "msgs": 7},
                    {"subject": "a", "qgroup": "other", "sid": "2", "msgs": 1},
                    {"subject": "b", "qgroup": "q", "sid": "3", "msgs": 1},
                ],
            },
            "garbage",
        ]
    }
    found = queue_members_from_connz(data, "a", "q", exclude_cid=1)
    assert [(m.cid, m.sid, m.delivered) for m in found] == [(2, "9", 7)]
    assert found[0].label == "c2/s9"
