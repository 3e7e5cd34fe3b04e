"""The Server pane: what jstui can see of the NATS system, its servers and cluster links, and a
live connections table like nats-top.

Data flow: two `PeriodicPoll`s (about every 2 s, only while the pane is on screen, connected and
not under a dialog) ask the app's one `Observer`: `servers()` plus the raw ROUTEZ / GATEWAYZ /
LEAFZ answers (parsed by `cluster_view`) for the servers table and the cluster lines, and
`connections()` for the connections table. Counters become rates in `CounterRates`; `render`
turns models into sanitized plain strings per fixed-width column. Both tables are keyed and
diffed: rows are added and removed as servers and connections come and go, only changed cells
are updated (`update_width=False`: the widths are fixed up front, so no column is re-measured),
and nothing is touched when nothing changed. The observer parses big answers off the event
loop, so a slow source never blocks keys. Enter opens a connection's subscriptions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.css.query import NoMatches
from textual.widgets import DataTable, Input, Static

from jstui.dialogs.connection_detail import ConnectionDetailScreen
from jstui.format.text import sanitize
from jstui.format.units import format_count
from jstui.nats.errors import JstuiError
from jstui.nats.observe.cluster_view import MetaView, ServerLinks, links_from_answers, meta_view
from jstui.nats.observe.model import Connection
from jstui.nats.observe.observer import ConnectionsView, Observer, ServersView
from jstui.nats.session import ConnectionState, ConnectionStatus
from jstui.widgets.base import Pane, PeriodicPoll
from jstui.widgets.server.rates import CounterRates
from jstui.widgets.server.render import (
    CONNECTION_COLUMNS,
    SERVER_COLUMNS,
    SORTS,
    Column,
    cluster_lines,
    connection_cells,
    connection_counters,
    matches,
    server_cells,
    server_counters,
    sources_text,
)
from jstui.widgets.table import LiveTable

SERVERS_POLL_SECONDS = 2.0
CONNECTIONS_POLL_SECONDS = 2.0
APPLY_SLICE = 100
"""Rows diffed between two turns of the event loop (about 3 ms of work here)."""
NO_SERVER_FIGURES = (
    "Server figures need a monitoring URL (--monitor http://host:8222) or system account "
    "credentials (--system-user/--system-password, --system-creds or --system-context); "
    "the connections below are this account's own."
)


class KeyedCell(Text):
    """The first cell of a connections row: it knows its row's key, so the table can be put in
    the pane's own order (DataTable's sort hands the key function cells, not row keys)."""

    def __init__(self, text: str, row_key: str) -> None:
        super().__init__(text, no_wrap=True)
        self.row_key = row_key


def _cell(column: Column, value: str) -> Text:
    return Text(value, justify="right" if column.numeric else "left", no_wrap=True)


def _server_cell(key: str, index: int, column: Column, value: str) -> Text:
    return _cell(column, value)


def _connection_cell(key: str, index: int, column: Column, value: str) -> Text:
    """A connections row's cell; the first knows its row (`KeyedCell`)."""
    return KeyedCell(value, key) if index == 0 else _cell(column, value)


CellBuilder = Callable[[str, int, Column, str], Text]
"""Makes the cell of row `key`, column number `index`, from its text."""


def _changed_cells(
    key: str,
    columns: Sequence[Column],
    before: Sequence[str],
    after: Sequence[str],
    build: CellBuilder,
) -> list[tuple[str, str, Text]]:
    """The cells of row `key` whose text went from `before` to `after`, for `update_cells`."""
    return [
        (key, column.key, build(key, index, column, new))
        for index, (column, old, new) in enumerate(zip(columns, before, after, strict=True))
        if old != new
    ]


def _header(column: Column, marked: bool = False) -> Text:
    label = column.label + ("▼" if marked else "")
    return Text(label, justify="right" if column.numeric else "left", style="bold")


class ServerPane(Pane):
    """Servers, cluster links and connections, as the observation sources show them."""

    PANE_TITLE = "Server"
    PANE_HELP = (
        "What jstui can see of the NATS system. The first line says where the figures come "
        "from: the monitoring endpoint (found, probed, or not), the system account (connected, "
        "refused, or no credentials) and this account's own view, and what would show more. "
        "The servers table lists every server that answered: version, cluster, uptime, CPU "
        "(percent of one core), memory, connections, subscriptions, messages and bytes in and "
        "out per second (from successive polls, so '-' until the second one), slow consumers, "
        "and JetStream: streams, consumers, memory and file used, API errors; * marks the "
        "JetStream meta leader. Below it: each server's routes, gateways and leaf nodes, and "
        "the meta group's replicas as the leader sees them (current, lagging or offline). "
        "The connections table is like nats-top: name (or address and client library when "
        "unnamed), server, address, client library, subscriptions, pending bytes, rates, "
        "uptime and idle time. s cycles the sort column (the header shows ▼), / filters by "
        "name, address, client library or account, Enter shows a connection's subscriptions. "
        "Without monitoring or system credentials only this account's connections are shown."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "cycle_sort", "Sort"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("r", "refresh_now", "Refresh", show=False),
        Binding("escape", "close_filter", "Clear filter", show=False),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._server_cells: dict[str, tuple[str, ...]] = {}
        self._connection_cells: dict[str, tuple[str, ...]] = {}
        self._connections: dict[str, Connection] = {}
        self._server_rates = CounterRates()
        self._connection_rates = CounterRates()
        self._rates: dict[str, tuple[float, ...] | None] = {}
        self._sort_index = 4  # msgs in/s, like nats-top's default of the busiest first
        self._filter = ""
        self._polls: list[PeriodicPoll] = []
        self.servers_view: ServersView | None = None
        self.connections_view: ConnectionsView | None = None
        self._applying = asyncio.Lock()
        self._shown_text: dict[str, str] = {}

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="server-sources", markup=False)
        yield Static(id="server-note", markup=False)
        servers: LiveTable[Text] = LiveTable(
            id="servers-table", cursor_type="row", zebra_stripes=True
        )
        for column in SERVER_COLUMNS:
            servers.add_column(_header(column), key=column.key, width=column.width)
        yield servers
        yield Static(id="server-cluster", markup=False)
        yield Static(id="connections-heading", markup=False)
        yield Input(placeholder="filter: name, address, client, account", id="connections-filter")
        connections: LiveTable[Text] = LiveTable(
            id="connections-table", cursor_type="row", zebra_stripes=True
        )
        for column in CONNECTION_COLUMNS:
            connections.add_column(_header(column), key=column.key, width=column.width)
        yield connections

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#connections-filter").display = False
        self._show_headers()
        self._polls = [
            PeriodicPoll(
                self,
                SERVERS_POLL_SECONDS,
                self._poll_servers,
                description="server pane servers",
                when=self._can_poll,
            ),
            PeriodicPoll(
                self,
                CONNECTIONS_POLL_SECONDS,
                self._poll_connections,
                description="server pane connections",
                when=self._can_poll,
            ),
        ]
        # Rows out of view are left as they were (their uptime and idle change at every poll)
        # and written when they come into view.
        self.connections_table.rows_in_view = self._write_connections

    @property
    def observer(self) -> Observer:
        return self.host.observer

    @property
    def servers_table(self) -> LiveTable[Text]:
        return self.query_one("#servers-table", LiveTable)

    @property
    def connections_table(self) -> LiveTable[Text]:
        return self.query_one("#connections-table", LiveTable)

    def _now(self) -> float:
        return self.session.clocks.wall()

    def _can_poll(self) -> bool:
        """Poll only what somebody can see: connected, the pane shown, no dialog over it."""
        if not self.session.connected or not self.display or self.covered:
            return False
        if not self.size.area:  # laid out nowhere (the layout has no room for it)
            return False
        maximized = self.screen.maximized
        return maximized is None or maximized is self

    def connection_changed(self, status: ConnectionStatus) -> None:
        if status.state is ConnectionState.CONNECTED:
            self.refresh_now()
        else:
            self._note(f"not connected ({status.state.value}): the tables show the last poll")

    def refresh_now(self) -> None:
        for poll in self._polls:
            poll.wake()

    def action_refresh_now(self) -> None:
        self.refresh_now()

    def on_show(self) -> None:
        self.refresh_now()  # shown again (a number key, a restored layout): fresh figures now

    def _note(self, text: str) -> None:
        with contextlib.suppress(NoMatches):
            note = self.query_one("#server-note", Static)
            self._show(note, Text(text, style="italic"))

    def _show(self, widget: Static, text: Text) -> None:
        """Update a line above or between the tables only when it changed, and hide it when
        empty: each update of these auto-height lines lays the pane out again, which costs
        more than a poll's table diff when 1,000 connections are listed."""
        if self._shown_text.get(widget.id or "") == text.markup:
            return
        self._shown_text[widget.id or ""] = text.markup
        widget.update(text)
        widget.display = bool(text.plain)

    def _show_sources(self) -> None:
        self._show(self.query_one("#server-sources", Static), sources_text(self.observer.status))

    # -- servers -------------------------------------------------------------------------------

    async def _poll_servers(self) -> None:
        observer = self.observer
        await observer.start()  # waits for the sources the app is finding, if not found yet
        view = await observer.servers()
        links: dict[str, ServerLinks] = {}
        if view.servers:
            answers = await asyncio.gather(
                *(observer.server_data(kind) for kind in ("ROUTEZ", "GATEWAYZ", "LEAFZ")),
                return_exceptions=True,
            )
            pairs = [
                [(item.server, item.data) for item in answer[0]]
                if not isinstance(answer, BaseException)
                else []
                for answer in answers
            ]
            links = links_from_answers(*pairs)
        self.servers_view = view
        self._show_sources()
        meta = meta_view(view.servers)
        await self._apply_servers(view, meta)
        lines = cluster_lines(links, meta, server_count=len(view.servers))
        cluster = self.query_one("#server-cluster", Static)
        self._show(cluster, Text("\n").join(lines))

    async def _apply_servers(self, view: ServersView, meta: MetaView | None) -> None:
        table = self.servers_table
        if not view.servers:
            self._note(NO_SERVER_FIGURES if not view.note else f"{NO_SERVER_FIGURES} ({view.note})")
            if table.display:
                table.display = False
        else:
            self._note(f"some servers did not answer: {view.note}" if view.note else "")
            if not table.display:
                table.display = True
        leader = meta.leader if meta is not None else ""
        now = self._now()
        monotonic = self.session.clocks.monotonic()
        wanted = {}
        for server in view.servers:
            key = server.server_id or server.name
            rates = self._server_rates.update(key, server_counters(server), monotonic)
            wanted[key] = server_cells(server, rates, now=now, meta_leader=leader)
        self._server_rates.forget_others(wanted)
        await self._diff(table, self._server_cells, wanted, SERVER_COLUMNS)

    async def _diff(
        self,
        table: LiveTable[Text],
        shown: dict[str, tuple[str, ...]],
        wanted: dict[str, tuple[str, ...]],
        columns: Sequence[Column],
        build: CellBuilder = _server_cell,
    ) -> None:
        """Make `table` show `wanted` (cells by row key), touching only what changed; `shown`
        (what the table shows) is updated with it. The work is cut into slices of
        `APPLY_SLICE` rows with a turn of the event loop between them: with 1,000 connections
        every row's uptime and idle change at each poll, and keys must not wait for all of it.
        `build(key, index, column, value)` makes a cell."""
        gone = [key for key in shown if key not in wanted]
        changed = [(key, cells) for key, cells in wanted.items() if shown.get(key) != cells]
        for start in range(0, max(len(gone), len(changed)), APPLY_SLICE):
            if start:
                await asyncio.sleep(0)  # let keys and a refresh through
            with self.app.batch_update():
                for key in gone[start : start + APPLY_SLICE]:
                    table.remove_row(key)
                    del shown[key]
                updates: list[tuple[str, str, Text]] = []
                for key, cells in changed[start : start + APPLY_SLICE]:
                    old = shown.get(key)
                    if old is None:
                        row = enumerate(zip(columns, cells, strict=True))
                        table.add_row(
                            *(build(key, index, column, value) for index, (column, value) in row),
                            key=key,
                        )
                    else:
                        updates += _changed_cells(key, columns, old, cells, build)
                    shown[key] = cells
                # only the changed rows are drawn again (DataTable.update_cell redraws all)
                table.update_cells(updates)

    # -- connections ---------------------------------------------------------------------------

    async def _poll_connections(self) -> None:
        observer = self.observer
        await observer.start()
        try:
            # the table shows subscription counts only: their lists (half the answer) are asked
            # for one connection when its detail opens
            view = await observer.connections(subscriptions=False)
        except JstuiError as error:
            self._show_sources()
            self._heading(f"cannot list connections: {sanitize(str(error), max_len=300)}")
            return
        self.connections_view = view
        self._show_sources()
        monotonic = self.session.clocks.monotonic()
        connections = {conn.key: conn for conn in view.connections}
        self._rates = {
            key: self._connection_rates.update(key, connection_counters(conn), monotonic)
            for key, conn in connections.items()
        }
        self._connection_rates.forget_others(connections)
        self._connections = connections
        await self._apply_connections()

    def _visible_connections(self) -> list[Connection]:
        """The connections passing the filter, in the current sort order."""
        sort = SORTS[self._sort_index]
        now = self._now()
        shown = [conn for conn in self._connections.values() if matches(conn, self._filter)]
        shown.sort(key=lambda conn: conn.key)  # ties stay in a stable order
        shown.sort(
            key=lambda conn: sort.key(conn, self._rates.get(conn.key), now),
            reverse=sort.descending,
        )
        return shown

    async def _apply_connections(self) -> None:
        """Show the connections (filtered, sorted); one apply at a time, since an apply yields
        to the loop between slices and a sort or filter key may start another meanwhile."""
        async with self._applying:
            await self._apply_connections_now()

    async def _apply_connections_now(self) -> None:
        table = self.connections_table
        now = self._now()
        order = self._visible_connections()
        selected = self.selected_key
        in_view = table.in_view()
        shown = self._connection_cells
        wanted: dict[str, tuple[str, ...] | None] = {}
        for index, conn in enumerate(order):
            if index and not index % (APPLY_SLICE * 2):
                await asyncio.sleep(0)  # building 1,000 rows' text takes a while too
                in_view = table.in_view()  # (a scroll meanwhile moved the view)
            key = conn.key
            if key in shown and not in_view(key):
                wanted[key] = None  # as it is after this loop (a scroll may write it meanwhile)
                table.hold(key)
            else:
                wanted[key] = connection_cells(conn, self._rates.get(key), now=now)
                table.release(key)
        await self._diff(
            table,
            self._connection_cells,
            {key: shown[key] if cells is None else cells for key, cells in wanted.items()},
            CONNECTION_COLUMNS,
            build=_connection_cell,
        )
        keys = list(wanted)
        if [row.key.value for row in table.ordered_rows] != keys:
            position = {key: index for index, key in enumerate(keys)}
            table.sort("name", key=lambda cell: position[cell.row_key])
            if selected in position:
                table.move_cursor(row=position[selected], scroll=False)
        table.write_held()  # rows the new order brought into view
        self._heading()

    def _write_connections(self, keys: list[str]) -> None:
        """Write the held connection rows that came into view, as they are now."""
        now = self._now()
        updates: list[tuple[str, str, Text]] = []
        for key in keys:
            conn = self._connections.get(key)
            old = self._connection_cells.get(key)
            if conn is None or old is None:
                continue
            cells = connection_cells(conn, self._rates.get(key), now=now)
            self._connection_cells[key] = cells
            updates += _changed_cells(key, CONNECTION_COLUMNS, old, cells, _connection_cell)
        if updates:
            self.connections_table.update_cells(updates)

    def _heading(self, problem: str = "") -> None:
        view = self.connections_view
        text = Text()
        text.append("Connections ", style="bold underline")
        shown, total = len(self._connection_cells), len(self._connections)
        text.append(
            format_count(total) if shown == total else f"{shown:,} of {total:,}", style="bold"
        )
        if view is not None:
            text.append(f"  from the {view.source.value}", style="dim")
            if view.partial and view.note:
                text.append(f" ({sanitize(view.note, max_len=200)})", style="dim")
        text.append(f"  sort: {SORTS[self._sort_index].name}")
        if self._filter:
            text.append("  filter: ")
            text.append(sanitize(self._filter, max_len=60), style="bold")
        if problem:
            text.append("\n")
            text.append(problem, style="bold")
        self._show(self.query_one("#connections-heading", Static), text)

    def _show_headers(self) -> None:
        marked = SORTS[self._sort_index].column
        table = self.connections_table
        for column in CONNECTION_COLUMNS:
            table.columns[column.key].label = _header(column, column.key == marked)  # type: ignore[index]
        table.refresh()
        self._heading()

    @property
    def selected_key(self) -> str | None:
        table = self.connections_table
        if table.row_count == 0:
            return None
        row = min(max(table.cursor_row, 0), table.row_count - 1)
        key = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return str(key) if key is not None else None

    @property
    def selected_connection(self) -> Connection | None:
        return self._connections.get(self.selected_key or "")

    # -- actions -------------------------------------------------------------------------------

    def action_cycle_sort(self) -> None:
        self._sort_index = (self._sort_index + 1) % len(SORTS)
        self._show_headers()
        self._reapply()

    def action_filter(self) -> None:
        box = self.query_one("#connections-filter", Input)
        box.display = True
        box.focus()

    def _reapply(self) -> None:
        """Show the last polled connections again, in the new order or filter."""
        self.run_worker(self._apply_connections(), group="server-apply", description="apply")

    def action_close_filter(self) -> None:
        box = self.query_one("#connections-filter", Input)
        if box.display:
            box.value = ""  # Input.Changed clears the filter
            box.display = False
            self.connections_table.focus()

    @on(Input.Changed, "#connections-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter = event.value.strip()
        self._reapply()

    @on(Input.Submitted, "#connections-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        box = self.query_one("#connections-filter", Input)
        box.display = bool(self._filter)
        self.connections_table.focus()

    @on(DataTable.RowSelected, "#connections-table")
    def _connection_chosen(self, event: DataTable.RowSelected) -> None:
        connection = self.selected_connection
        if connection is not None:
            self._open_detail(connection)

    @work(exclusive=True, group="connection-detail", exit_on_error=False)
    async def _open_detail(self, connection: Connection) -> None:
        """The connection with its subscriptions, read now; the table's copy if that fails."""
        detailed = connection
        try:
            view = await self.observer.connections(cid=connection.cid)
            detailed = next(
                (found for found in view.connections if found.key == connection.key), connection
            )
        except JstuiError as error:
            self.notify(sanitize(f"subscriptions not read: {error}", max_len=300), markup=False)
        self.app.push_screen(ConnectionDetailScreen(detailed, now=self._now()))
