"""The observation layer: queue-group members outside jstui seen from each source, the monitoring
client's errors, and the parsing of what servers answer."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest
from nats.aio.client import Client

from jstui.nats.cluster import EmbeddedCluster
from jstui.nats.embedded import EmbeddedServer, free_port
from jstui.nats.observe.http import MonitorClient, MonitorError, probe_url
from jstui.nats.observe.model import (
    connections_from_connz,
    parse_go_duration,
    parse_time,
    queue_members,
)
from jstui.nats.observe.observer import Observer, SourceKind
from jstui.nats.observe.system import SystemConnection, gather
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
        observer = Observer(session, monitor_urls=[nats_server.monitor_url])
        await observer.start()
        own = session.nc.client_id
        identity = pool.queue_identity()
        assert identity == (subject, "crew")
        seen = await observer.connections(filter_subject=subject)
        await observer.close()
        assert seen.source is SourceKind.MONITOR and not seen.partial
        members = queue_members(seen.connections, *identity, exclude=lambda c: c.cid == own)
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
        # No monitoring URL, no system user: the account's own view ($SYS.REQ.ACCOUNT.PING.CONNZ).
        observer = Observer(session, probe_monitor=False)
        await observer.start()
        identity = pool.queue_identity()
        assert identity == (pool.deliver_subject, "workers")
        own = session.nc.client_id

        async def delivered_to_them() -> int:
            seen = await observer.connections(filter_subject=identity[0])
            assert seen.source is SourceKind.ACCOUNT
            found = queue_members(seen.connections, *identity, exclude=lambda c: c.cid == own)
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
    # credentials in the URL are used, never shown
    with pytest.raises(MonitorError) as caught:
        await MonitorClient(closed.replace("http://", "http://bob:s3cret@")).varz()
    assert "s3cret" not in str(caught.value)
    assert probe_url("nats://alice:pw@demo.example:4222") == "http://demo.example:8222"
    assert probe_url("nats://[::1]:4222") == "http://[::1]:8222"


async def test_monitor_reads_a_real_server(nats_server: EmbeddedServer, nats_url: str) -> None:
    monitor = MonitorClient(nats_server.monitor_url)
    data = await monitor.varz()
    assert data["server_name"] == "jstui-test"
    with pytest.raises(MonitorError, match="404"):
        await monitor.get("/no-such-page")
    assert await monitor.healthy()
    connz = await monitor.connz()
    assert connz["partial"] is False and len(connz["connections"]) == connz["total"]
    await monitor.aclose()
    # not the monitoring port: a NATS port speaks INFO, not HTTP
    with pytest.raises(MonitorError):
        await MonitorClient(nats_url.replace("nats://", "http://")).varz()


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
    connections = connections_from_connz(data, "n1")
    found = queue_members(connections, "a", "q", exclude=lambda c: c.cid == 1)
    assert [(m.cid, m.subscription.sid, m.delivered) for m in found] == [(2, "9", 7)]
    assert found[0].key == "n1/2/9"
    assert found[0].label == "\x1b[31mevil"  # raw: the widgets sanitize


def test_unnamed_connections_are_labelled_by_address_and_client() -> None:
    [conn] = connections_from_connz(
        {
            "connections": [
                {"cid": 4, "ip": "10.0.0.7", "port": 5222, "lang": "go", "version": "1.4"}
            ]
        }
    )
    assert conn.label == "10.0.0.7:5222 go 1.4"


def test_server_formats_are_parsed_and_tolerated() -> None:
    assert parse_go_duration("1h2m3.5s") == pytest.approx(3723.5)
    assert parse_go_duration("817µs") == pytest.approx(817e-6)
    assert parse_go_duration("2d3h") == pytest.approx(2 * 86400 + 3 * 3600)
    assert parse_go_duration("soon") is None
    when = parse_time("2026-12-03T10:15:07.101856123Z")
    assert when is not None and when.microsecond == 101856
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time(17) is None
    # mistyped fields give zeros and empty texts, never an exception
    [conn] = connections_from_connz({"connections": [{"cid": "x", "in_msgs": [1], "name": 5}]})
    assert (conn.cid, conn.in_msgs, conn.name) == (0, 0, "5")


async def test_gather_stops_at_the_expected_count_and_says_no_responders(session: Session) -> None:
    result = await gather(session.nc, "$SYS.REQ.ACCOUNT.PING.CONNZ", {}, expected=1)
    assert len(result.answered) == 1 and result.seconds < 1.0
    nobody = await gather(session.nc, "no.one.listens.here", {})
    assert nobody.no_responders and not nobody.replies


async def system_observer(session: Session, server: EmbeddedServer) -> Observer:
    """An observer with the server's system user, started."""
    system = SystemConnection(
        [server.url], {"user": server.system_user, "password": server.system_password}
    )
    observer = Observer(session, system=system)
    await observer.start()
    return observer


async def test_system_source_sees_every_connection_and_the_server(
    session: Session, nats_server: EmbeddedServer
) -> None:
    observer = await system_observer(session, nats_server)
    try:
        assert observer.status.system_ok, observer.status.system
        seen = await observer.connections()
        assert seen.source is SourceKind.SYSTEM
        assert session.nc.client_id in {conn.cid for conn in seen.connections}
        servers = await observer.servers()
        [server] = servers.servers
        assert server.name == "jstui-test" and server.jetstream is not None
        assert nats_server.system_password not in repr(observer.status)
    finally:
        await observer.close()


async def test_a_refused_system_user_is_reported_and_the_account_view_remains(
    session: Session, nats_server: EmbeddedServer
) -> None:
    system = SystemConnection([nats_server.url], {"user": "sys", "password": "wrong"})
    observer = Observer(session, system=system, probe_monitor=False)
    await observer.start()
    try:
        assert not observer.status.system_ok
        assert observer.status.system.startswith("refused")
        assert "wrong" not in observer.status.system
        seen = await observer.connections()
        assert seen.source is SourceKind.ACCOUNT
        assert "system credentials" in observer.status.hint()
    finally:
        await observer.close()


async def test_a_probe_of_port_8222_that_finds_nothing_says_so(session: Session) -> None:
    observer = Observer(session)  # the test server's monitor is not on 8222
    await observer.start()
    try:
        assert not observer.status.monitor_ok
        assert "8222" in observer.status.monitor
    finally:
        await observer.close()


async def test_the_system_account_sees_the_whole_cluster_and_a_node_going(
    fresh_cluster: EmbeddedCluster,
) -> None:
    node = fresh_cluster.nodes[0]  # both of jstui's connections on n1: another node may go
    async with Session([node.url]) as app_session:
        system = SystemConnection(
            [node.url], {"user": node.system_user, "password": node.system_password}
        )
        observer = Observer(app_session, system=system)
        await observer.start()
        try:
            view = await observer.servers()
            assert [server.name for server in view.servers] == ["n1", "n2", "n3"]
            leaders = {
                s.jetstream.meta.leader for s in view.servers if s.jetstream and s.jetstream.meta
            }
            assert leaders == {fresh_cluster.meta_leader()}
            seen = await observer.connections()
            assert set(seen.servers) == {"n1", "n2", "n3"}
            assert {c.name for c in seen.connections} >= {"jstui", "jstui (system)"}
            # a follower other than n1 goes away
            victim = next(
                n for n in fresh_cluster.nodes[1:] if n.name != fresh_cluster.meta_leader()
            )
            victim.kill()
            view = await observer.servers()
            assert victim.name not in [server.name for server in view.servers]
            assert "1 of 3 servers did not answer" in view.note
        finally:
            await observer.close()


async def test_a_subject_filter_through_the_system_account_names_the_account(
    session: Session, nats_server: EmbeddedServer, nc: Client, unique: str
) -> None:
    await nc.subscribe(f"{unique}.jobs", queue="crew")
    await nc.flush()
    observer = await system_observer(session, nats_server)
    try:
        assert observer.account == "$G"
        seen = await observer.connections(filter_subject=f"{unique}.jobs")
        assert seen.source is SourceKind.SYSTEM and not seen.partial, seen.note
        assert [conn.cid for conn in seen.connections] == [nc.client_id]
    finally:
        await observer.close()
