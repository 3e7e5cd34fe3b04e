"""The Server pane in the real app: servers, connections (hostile names, sort, filter, detail),
a monitoring endpoint that does not answer, and a 3-node cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from textual.widgets import DataTable, Static

from jstui.app import JstuiApp
from jstui.config import Settings
from jstui.dialogs.connection_detail import ConnectionDetailScreen
from jstui.nats.cluster import EmbeddedCluster
from jstui.nats.embedded import EmbeddedServer
from jstui.widgets.server import ServerPane
from jstui.widgets.streams import StreamsPane
from tests.app.conftest import AppFactory, built_pane, screen_text, wait_connected, wait_until


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """A server of this module's own, so the pane lists this module's connections only.

    Once these tests timed out after tests/app/test_requests_pane.py on the shared server;
    later that pair passed, and the shared server then held no connection and no leftover
    subscription (checked through /connz), so nothing leaks there. Overrides the session
    fixture, so `nats_url`, `nc` and `make_app` use it too."""
    server = EmbeddedServer(
        store_dir=tmp_path_factory.mktemp("server-pane"), server_name="jstui-test"
    )
    server.start()
    yield server
    server.stop()


HOSTILE_NAME = "\x1b]52;c;AAAA\x07evil"


def _system(server: EmbeddedServer) -> Settings:
    return Settings(servers=(server.url,), user=server.system_user, password=server.system_password)


def _plain(widget: Static) -> str:
    return str(widget.render())


@pytest.fixture
async def hostile_client(nats_url: str, unique: str) -> AsyncIterator[Client]:
    """A plain nats-py program with a hostile name and one queue subscription."""
    client = await nats.connect(nats_url, name=HOSTILE_NAME)
    await client.subscribe(f"{unique}.jobs", queue="crew")
    await client.flush()
    yield client
    await client.close()


def _names(table: DataTable[Any]) -> list[str]:
    return [str(table.get_cell(row.key, "name")) for row in table.ordered_rows]


async def test_servers_and_connections_with_a_hostile_client_name(
    make_app: AppFactory, nats_server: EmbeddedServer, hostile_client: Client, unique: str
) -> None:
    app = make_app(system=_system(nats_server))
    async with app.run_test(size=(100, 40)) as pilot:  # compact: the Server pane alone
        await wait_connected(pilot)
        await pilot.press("5")
        pane = await built_pane(pilot, ServerPane)
        servers = pane.servers_table
        connections = pane.connections_table
        await wait_until(pilot, lambda: servers.row_count == 1, what="the server row")
        assert "jstui-test" in str(servers.get_cell_at((0, 0)))
        await wait_until(
            pilot, lambda: any("evil" in name for name in _names(connections)), what="hostile"
        )
        hostile_row = next(name for name in _names(connections) if "evil" in name)
        assert "\x1b" not in hostile_row and "\x07" not in hostile_row
        text = screen_text(app)
        assert "\x1b" not in text and "\x07" not in text
        assert "System account connected" in _plain(pane.query_one("#server-sources", Static))

        # Filter: only the hostile client's connection is left; Escape clears the filter.
        await pilot.press("slash", *"evil")
        await wait_until(pilot, lambda: connections.row_count == 1, what="filtered table")
        assert "filter: evil" in _plain(pane.query_one("#connections-heading", Static))
        await pilot.press("escape")
        await wait_until(pilot, lambda: connections.row_count > 1, what="filter cleared")

        # Sort: s cycles the column, the heading and the header say which.
        await pilot.press("s")
        heading = _plain(pane.query_one("#connections-heading", Static))
        assert "sort: msgs out/s" in heading
        for _ in range(5):
            await pilot.press("s")
        assert "sort: name" in _plain(pane.query_one("#connections-heading", Static))
        names = _names(connections)
        assert names == sorted(names, key=str.casefold) or len(names) < 2

        # Enter: the connection's subscriptions, with the subject the client subscribed to.
        index = next(i for i, name in enumerate(_names(connections)) if "evil" in name)
        connections.focus()
        connections.move_cursor(row=index)
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, ConnectionDetailScreen), what="detail"
        )
        detail = screen_text(app)
        assert f"{unique}.jobs" in detail and "crew" in detail and "\x1b" not in detail
        await pilot.press("escape")


async def test_monitoring_unreachable_is_said_and_the_rest_works(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    app = make_app(monitor_url="http://127.0.0.1:9")  # a dead port; no system user
    async with app.run_test(size=(100, 40)) as pilot:  # compact: one pane at a time
        await wait_connected(pilot)
        await pilot.press("5")
        pane = await built_pane(pilot, ServerPane)
        note = pane.query_one("#server-note", Static)
        await wait_until(pilot, lambda: "Server figures need" in _plain(note), what="the note")
        sources = _plain(pane.query_one("#server-sources", Static))
        assert "not answering" in sources and "no system credentials" in sources
        assert not pane.servers_table.display
        # The connections table still works from this account's own view.
        await wait_until(
            pilot, lambda: pane.connections_table.row_count >= 1, what="own connections"
        )
        assert "own account" in _plain(pane.query_one("#connections-heading", Static))
        # Other panes are unaffected: the Streams pane lists a new stream.
        js = nc.jetstream()
        await js.add_stream(name=unique, subjects=[f"{unique}.>"])
        try:
            await pilot.press("1")
            streams = app.dashboard.query_one(StreamsPane)
            await wait_until(pilot, lambda: unique in streams._summaries, what="stream row")
        finally:
            await js.delete_stream(unique)


async def test_a_cluster_shows_cluster_a_meta_leader_and_r3_placement(
    cluster: EmbeddedCluster, unique: str
) -> None:
    node = cluster.nodes[0]
    urls = tuple(cluster.urls)
    system = Settings(servers=urls, user=node.system_user, password=node.system_password)
    app = JstuiApp(Settings(servers=urls, system=system))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await pilot.press("5")  # beyond the grid: shown maximized
        pane = await built_pane(pilot, ServerPane)
        await wait_until(pilot, lambda: pane.servers_table.row_count == 3, what="three nodes")
        leader = cluster.meta_leader()
        await wait_until(
            pilot,
            lambda: f"leader * {leader}" in _plain(pane.query_one("#server-cluster", Static)),
            what="the meta leader line",
        )
        rows = [str(pane.servers_table.get_cell_at((i, 0))) for i in range(3)]
        assert sum(row.startswith("* ") for row in rows) == 1
        cluster = _plain(pane.query_one("#server-cluster", Static))
        assert cluster.count("routes to") == 3

        js = app.session.nc.jetstream()
        await js.add_stream(name=unique, subjects=[f"{unique}.>"], num_replicas=3)
        try:
            await pilot.press("1")
            streams = app.dashboard.query_one(StreamsPane)
            await wait_until(pilot, lambda: unique in streams._summaries, what="stream row")
            streams.table.move_cursor(row=streams.table.get_row_index(unique))

            def placement_shown() -> bool:
                text = screen_text(app)
                return "Leader " in text and text.count("Replica ") == 2

            await wait_until(pilot, placement_shown, what="placement lines")
        finally:
            await js.delete_stream(unique)


async def test_connection_rows_out_of_view_are_written_as_they_come_into_view(
    make_app: AppFactory, nats_server: EmbeddedServer
) -> None:
    """A connection far below the screen changes (it subscribes): its row keeps what it showed
    while nobody can see it (at 1,000 connections every row's cells were built at each poll)
    and shows the change as soon as the user scrolls to it."""
    clients = [await nats.connect(nats_server.url, name=f"c{n:03d}") for n in range(150)]
    try:
        app = make_app(system=_system(nats_server))
        async with app.run_test(size=(100, 40)) as pilot:
            await wait_connected(pilot)
            await pilot.press("5")
            pane = await built_pane(pilot, ServerPane)
            table = pane.connections_table
            await wait_until(pilot, lambda: table.row_count >= 150, what="150 connections")
            while "sort: name" not in _plain(pane.query_one("#connections-heading", Static)):
                await pilot.press("s")
            await wait_until(pilot, lambda: _names(table)[:1] == ["c000"], what="by name")
            last = next(
                row.key.value
                for row in table.ordered_rows
                if "c149" in str(table.get_cell(row.key, "name"))
            )
            assert last is not None and not table.in_view()(last)
            assert str(table.get_cell(last, "subs")) == "0"
            for n in range(3):
                await clients[149].subscribe(f"far.{n}")
            await clients[149].flush()
            poll = pane._polls[1]
            await wait_until(
                pilot, lambda: pane._connections[last].subscription_count == 3, 20, "listed"
            )
            runs = poll.runs
            await wait_until(pilot, lambda: poll.runs > runs, 20, "one more poll")
            assert str(table.get_cell(last, "subs")) == "0"  # out of view: not written
            poll._when = lambda: False  # no poll from here: the scroll writes the row
            await pilot.pause(6)  # a poll under way ends meanwhile
            runs = poll.runs
            table.focus()
            await pilot.press("ctrl+end")
            await pilot.pause()
            assert table.in_view()(last) and poll.runs == runs
            assert str(table.get_cell(last, "subs")) == "3"
            assert any("c149" in line and " 3 " in line for line in screen_text(app).splitlines())
    finally:
        for client in clients:
            await client.close()
