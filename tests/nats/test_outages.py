"""Why the connection was lost, against real servers: the embedded server killed (jstui notices,
restarts it on the same store, the session reconnects, the data is there) and a server that
closes jstui's connection as a slow consumer (the server's own reason is shown)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from nats.aio.client import Client
from nats.aio.msg import Msg

from jstui.nats.cluster import EmbeddedCluster
from jstui.nats.embedded import EmbeddedServer, free_port
from jstui.nats.feeds.feed import Feed
from jstui.nats.feeds.spec import FeedMode, FeedSpec
from jstui.nats.observe.observer import Observer
from jstui.nats.outages import EmbeddedWatch, describe_exit, explain_closed_connection
from jstui.nats.session import ConnectionState, Session
from jstui.widgets.status import render_status
from tests.config.test_connect import running_server
from tests.conftest import eventually


async def _ignore(msg: Msg) -> None:
    return None


def test_exits_in_words() -> None:
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(1) == "exited with code 1"


async def test_the_embedded_server_killed_is_restarted_on_the_same_store(
    fresh_server: EmbeddedServer, unique: str
) -> None:
    async with Session([fresh_server.url]) as session:
        js = session.js
        await js.add_stream(name=unique, subjects=[f"{unique}.>"])
        for i in range(5):
            await js.publish(f"{unique}.x", b"m%d" % i)
        said: list[str] = []
        watch = EmbeddedWatch(fresh_server, session, check_seconds=0.1)
        watch.on_change = said.append
        running = asyncio.create_task(watch.run())
        try:
            pid = fresh_server.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)  # a crash: not jstui's own stop() or kill()
            await eventually(
                lambda: session.status.state is ConnectionState.RECONNECTING, what="lost"
            )
            since = session.status.since
            assert since > 0
            await eventually(
                lambda: session.status.state is ConnectionState.CONNECTED,
                timeout=20,
                what="reconnected to the restarted server",
            )
            assert watch.restarts == 1 and fresh_server.pid != pid
            outage = session.status.outage
            assert outage is not None and outage.lost == since and outage.back >= since
            assert (
                outage.cause
                == "embedded nats-server killed by SIGKILL, restarted on the same store"
            )
            assert any("restarting it on the same store" in text for text in said)
            info = await js.stream_info(unique)
            assert info.state.messages == 5
        finally:
            running.cancel()
    fresh_server.stop()
    assert fresh_server.exit_code is None  # a stop is not a death to report


async def test_a_slow_consumer_disconnect_is_explained_by_the_server(tmp_path: Path) -> None:
    """The server closes a connection that does not read in time; once back, jstui asks the
    server's closed-connections list why, and the session's last outage says it. A core feed
    on another subject, which lost messages through no fault of its own, says so."""
    monitor = free_port()
    config = 'write_deadline: "200ms"\nmax_pending: 2MB\n'
    with running_server(tmp_path, "-m", str(monitor), config=config) as url:
        async with Session([url]) as session, Session([url], name="flooder") as flooder:
            observer = Observer(session, monitor_urls=(f"http://127.0.0.1:{monitor}",))
            await session.nc.subscribe("flood", cb=_ignore)
            quiet = Feed(session, FeedSpec.create("quiet", FeedMode.CORE))
            await quiet.start()
            await session.nc.flush()
            reader = session.nc._transport._io_reader  # type: ignore[union-attr]
            transport = reader._transport  # the asyncio transport under nats-py's stream
            transport.pause_reading()  # jstui stops reading: the server's writes back up
            payload = b"x" * 4096
            try:
                for _ in range(4000):
                    await flooder.nc.publish("flood", payload)
                await flooder.nc.flush()
                await asyncio.sleep(0.5)
            finally:
                transport.resume_reading()
            await eventually(
                lambda: session.status.outage is not None and session.status.outage.back > 0,
                timeout=20,
                what="lost and back",
            )
            reason = await explain_closed_connection(session, observer)
            assert reason.startswith("closed by the server: Slow Consumer"), reason
            outage = session.status.outage
            assert outage is not None and outage.cause == reason
            gap = quiet.outage_text()
            assert gap.startswith("connection lost ") and gap.endswith(
                ": messages then were missed"
            ), gap
            await quiet.stop()
            await observer.close()


async def test_connected_to_one_node_the_session_knows_the_whole_cluster(
    cluster: EmbeddedCluster,
) -> None:
    """Given one node's URL, the client learns the others from the cluster (for fail-over)."""
    async with Session([cluster.nodes[0].url]) as session:
        await eventually(lambda: session.status.servers_known == 3, what="3 servers known")
        assert session.status.cluster and session.status.server_name == "n1"
        text = render_status(
            session.status, rtt=None, usage=None, embedded=False, read_only=False
        ).plain
        assert f"cluster {session.status.cluster} (3 servers known)" in text
        assert "n1" in text


async def test_reconnect_now_drops_and_comes_back_with_subscriptions(
    session: Session, nc: Client, unique: str
) -> None:
    got: list[Msg] = []

    async def keep(msg: Msg) -> None:
        got.append(msg)

    await session.nc.subscribe(f"{unique}.after", cb=keep)
    assert await session.reconnect_now()
    await eventually(
        lambda: session.status.outage is not None and session.status.outage.back > 0,
        what="dropped and back",
    )
    assert session.status.state is ConnectionState.CONNECTED
    assert session.status.outage is not None
    assert session.status.outage.cause == "reconnect asked for from jstui"
    await session.nc.flush()
    await nc.publish(f"{unique}.after", b"still here")
    await eventually(lambda: len(got) == 1, what="the subscription restored")
