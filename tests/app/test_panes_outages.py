"""Panes while they cannot be current (#15, defect 6). The Streams pane keeps its rows while the
connection is down and says since when they are stale; a stream whose leader does not answer (its
only replica's server killed) keeps its row and is named as leaderless instead of vanishing. A
maximized pane, which covers the status line, says the outage on a line of its own."""

from __future__ import annotations

import asyncio
import re

from nats.js.api import StreamConfig
from textual.widgets import Static

from jstui.app import JstuiApp
from jstui.config import Settings
from jstui.nats.cluster import EmbeddedCluster
from jstui.nats.embedded import EmbeddedServer
from jstui.nats.session import Session
from jstui.widgets.server import ServerPane
from jstui.widgets.streams import StreamsPane
from tests.app.conftest import built_pane, wait_connected, wait_until

CLOCK = r"\d\d:\d\d:\d\d"


async def move_meta_leader_off(cluster: EmbeddedCluster, node: str) -> None:
    """Killing the meta leader as well would make the server's stream list itself time out until
    a new meta leader is elected ("cannot list streams"), hiding the stream's own outage: these
    tests kill a stream's server, so the meta leader is moved off that node first."""
    if cluster.meta_leader() != node:
        return
    async with Session(cluster.system_urls) as system:
        await system.nc.request("$JS.API.META.LEADER.STEPDOWN", b"", timeout=5)
    deadline = asyncio.get_running_loop().time() + 20
    while cluster.meta_leader() in (node, None):
        assert asyncio.get_running_loop().time() < deadline, "the meta leader stays"
        await asyncio.sleep(0.2)


async def test_while_reconnecting_the_table_says_its_data_is_stale(
    fresh_server: EmbeddedServer, unique: str
) -> None:
    async with Session([fresh_server.url]) as setup:
        await setup.js.add_stream(name=unique, subjects=[f"{unique}.>"])
    app = JstuiApp(Settings(servers=(fresh_server.url,)))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await built_pane(pilot, StreamsPane)
        await wait_until(pilot, lambda: unique in pane.row_names, what="the stream listed")
        fresh_server.kill()
        stale = re.compile(f"reconnecting since {CLOCK}: stale data from {CLOCK}")
        await wait_until(pilot, lambda: bool(stale.fullmatch(pane.problem)), what="stale said")
        assert unique in pane.row_names  # the last known state stays on screen
        await asyncio.to_thread(fresh_server.restart)
        await wait_until(pilot, lambda: pane.problem == "", timeout=20, what="current again")
        assert unique in pane.row_names


async def test_a_stream_without_a_leader_keeps_its_row_and_says_so(
    fresh_cluster: EmbeddedCluster, unique: str
) -> None:
    """An R1 stream on a node that is killed has no leader until the node comes back: the
    server's list leaves it out (as "missing"); the table must not drop it."""
    stranded = unique
    async with Session(list(fresh_cluster.urls)) as setup:
        await setup.jsm.add_stream(
            StreamConfig(name=stranded, subjects=[f"{stranded}.>"], num_replicas=1)
        )
        info = await setup.jsm.stream_info(stranded)
        assert info.cluster is not None and info.cluster.leader
        node = info.cluster.leader
    await move_meta_leader_off(fresh_cluster, node)
    app = JstuiApp(Settings(servers=tuple(fresh_cluster.urls)))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await built_pane(pilot, StreamsPane)
        await wait_until(pilot, lambda: stranded in pane.row_names, what="listed")
        fresh_cluster.node_named(node).kill()
        said = re.compile(f".*stream {stranded}: leader unavailable: stale data from {CLOCK}")
        await wait_until(
            pilot, lambda: bool(said.fullmatch(pane.problem)), timeout=30, what="leaderless said"
        )
        assert stranded in pane.row_names  # not dropped while the server lists it as missing


async def test_a_maximized_pane_says_the_outage_itself(fresh_server: EmbeddedServer) -> None:
    app = JstuiApp(Settings(servers=(fresh_server.url,)))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await pilot.press("5")  # beyond the grid: shown maximized, over the status line
        pane = await built_pane(pilot, ServerPane)
        await wait_until(pilot, lambda: app.dashboard.maximized is pane, what="maximized")
        assert not app.dashboard.query_one("#status-line").region.height  # covered
        fresh_server.kill()

        def outage_line() -> Static | None:
            lines = [line for line in pane.query(".pane-outage") if line.display]
            return lines[0] if len(lines) == 1 and isinstance(lines[0], Static) else None

        await wait_until(pilot, lambda: outage_line() is not None, what="the outage line")
        line = outage_line()
        assert line is not None and line.region.height == 1  # on screen, in the pane
        assert str(line.render()).startswith("◌ reconnecting since ")
        grid_pane = await built_pane(pilot, StreamsPane)  # not maximized: no line of its own
        assert not [line for line in grid_pane.query(".pane-outage") if line.display]
        await asyncio.to_thread(fresh_server.restart)
        await wait_until(pilot, lambda: outage_line() is None, timeout=20, what="line gone")


async def test_the_selected_stream_says_when_its_leader_is_gone(
    fresh_cluster: EmbeddedCluster, unique: str
) -> None:
    """During the election that follows the stream leader's death the server's list leaves the
    stream out (as "missing"): the pane keeps its row, the problem line names it as leaderless
    until a new leader answers, then clears by itself."""
    async with Session(list(fresh_cluster.urls)) as setup:
        await setup.jsm.add_stream(
            StreamConfig(name=unique, subjects=[f"{unique}.>"], num_replicas=3)
        )
        info = await setup.jsm.stream_info(unique)
        assert info.cluster is not None and info.cluster.leader
        leader = fresh_cluster.node_named(info.cluster.leader)
    await move_meta_leader_off(fresh_cluster, info.cluster.leader)
    elsewhere = next(node for node in fresh_cluster.nodes if node is not leader)
    app = JstuiApp(Settings(servers=(elsewhere.url,)))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await built_pane(pilot, StreamsPane)
        await wait_until(pilot, lambda: pane.selected == unique, what="the stream selected")
        await wait_until(pilot, lambda: pane.problem == "", what="all current")
        leader.kill()
        said = re.compile(f".*stream {unique}: leader unavailable: stale data from {CLOCK}.*")
        await wait_until(
            pilot, lambda: bool(said.fullmatch(pane.problem)), timeout=30, what="leaderless said"
        )
        await wait_until(
            pilot, lambda: f"stream {unique}" not in pane.problem, timeout=40, what="new leader"
        )
