"""A picture of the Server pane on the snapshot server (see test_snapshots.py for how the data and
the time are kept the same from run to run).

The pane shows figures the server measures (CPU, memory) and the clients' ephemeral ports, which
differ at every run, the monitoring probe's error text, and subscription counts that include the
system connection's reply inbox only while one of its questions is in flight. Those are masked on
their way from the observer to the pane, in this test only: CPU 0, memory 10 MiB, the server's
subscriptions 70, each connection's port 40000 plus its rank by name, its subscription count
0 (the table reads counts only, and jstui's own gathers open and close reply inboxes on both of its
connections while the picture is taken) and its pending bytes 0 (what the server is writing to it
at that instant: a PONG or a reply now and then, 445 B), and a fixed probe note. With the
stopped clocks every rate reads "-" (no time passed between two polls) and every age "<1m" or
"0s" (the clocks are behind the server's).
The system account is the snapshot server's, on its fixed port; the table is sorted by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from textual.pilot import Pilot

from jstui.app import JstuiApp
from jstui.config import Settings
from jstui.nats.embedded import EmbeddedServer
from jstui.nats.observe.observer import ConnectionsView, ServersView
from jstui.nats.session import ConnectionState
from jstui.widgets.server import ServerPane
from jstui.widgets.server.render import SORTS
from tests.app.conftest import built_pane, wait_until
from tests.snapshots.conftest import PINNED_SERVER_VERSION, SnapshotApp
from tests.snapshots.test_snapshots import WIDE, _settle

MASKED_MEMORY = 10 << 20
MASKED_SUBSCRIPTIONS = 70


PROBE_NOTE = "not found on port 8222 of the server's host (masked)"


def _mask_observer(app: JstuiApp) -> None:
    observer = app.observer
    servers, connections = observer.servers, observer.connections

    async def masked_servers() -> ServersView:
        view = await servers()
        observer.status.monitor = PROBE_NOTE
        return replace(
            view,
            servers=tuple(
                replace(s, cpu=0.0, mem=MASKED_MEMORY, subscriptions=MASKED_SUBSCRIPTIONS)
                for s in view.servers
            ),
        )

    async def masked_connections(**options: Any) -> ConnectionsView:
        view = await connections(**options)
        observer.status.monitor = PROBE_NOTE
        ranked = sorted(view.connections, key=lambda conn: (conn.name, conn.cid))
        return replace(
            view,
            connections=tuple(
                replace(conn, port=40000 + rank, subscription_count=0, pending_bytes=0)
                for rank, conn in enumerate(ranked)
            ),
        )

    observer.servers = masked_servers  # type: ignore[method-assign]
    observer.connections = masked_connections  # type: ignore[method-assign]


def server_pane(app: JstuiApp) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        _mask_observer(app)
        session = app.session
        await wait_until(
            pilot,
            lambda: session.status.state is ConnectionState.CONNECTED,
            timeout=30,  # a loaded machine (the suite's heaviest tests run beside it)
            what="connection",
        )
        assert session.status.server_version == PINNED_SERVER_VERSION
        await pilot.press("5")  # beyond the grid: shown maximized
        pane = await built_pane(pilot, ServerPane)
        heading = pane.query_one("#connections-heading")
        for _ in range(len(SORTS)):  # s cycles the sorts: name comes within one round
            if "sort: name" in str(heading.render()):
                break
            await pilot.press("s")
        assert "sort: name" in str(heading.render()), heading.render()
        pane.refresh_now()

        def masked_and_complete() -> bool:
            servers, connections = pane.servers_table, pane.connections_table
            if servers.row_count != 1 or connections.row_count != 2:
                return False
            mem = str(servers.get_cell_at((0, 5)))
            ports = [str(connections.get_cell_at((row, 2))) for row in range(2)]
            return mem == "10M" and all(":4000" in port for port in ports)

        await wait_until(pilot, masked_and_complete, timeout=30, what="masked figures")
        await _settle(pilot)

    return run_before


def test_server_pane(
    snap_compare: Callable[..., bool], snapshot_app: SnapshotApp, snapshot_server: EmbeddedServer
) -> None:
    """You should see the Server pane alone: the sources line (monitoring not found on port 8222,
    system account connected to nats://127.0.0.1:14229, own account not tried), the server
    jstui-snapshots 2.15.1 with 2 connections, 1 stream and rates "-", "Standalone server", and
    two connections sorted by name, jstui and jstui (system), from 127.0.0.1:40000/40001."""
    system = Settings(
        servers=(snapshot_server.url,),
        user=snapshot_server.system_user,
        password=snapshot_server.system_password,
    )
    app = snapshot_app(system=system)
    assert snap_compare(app, terminal_size=WIDE, run_before=server_pane(app))
