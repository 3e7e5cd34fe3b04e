"""Pure builders of what the Server pane draws: the sources line, the servers table's rows, the
cluster lines (routes, gateways, leaf nodes, the meta group), and the connections table's rows,
their sort orders and filter.

Data flow: `ServersView` / `ConnectionsView` models from the `Observer`, the links parsed by
`cluster_view`, rates from `CounterRates` and the app's wall clock go in; tuples of plain strings
(one per column, already sanitized and cut to the column's fixed width) and Rich `Text` come out.
Ages (uptime, idle) are computed from the server's start and last-activity times with the app's
clock, so stopped clocks give stable pictures. No widget, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from jstui.format.text import sanitize
from jstui.format.units import (
    compact_size,
    format_count,
    format_duration_short,
    format_rate,
    format_size,
)
from jstui.nats.observe.cluster_view import MetaView, ServerLinks, replica_state
from jstui.nats.observe.model import Connection, ServerSummary
from jstui.nats.observe.observer import ObserverStatus

__all__ = [
    "CONNECTION_COLUMNS",
    "SERVER_COLUMNS",
    "SORTS",
    "Column",
    "Sort",
    "cluster_lines",
    "connection_cells",
    "matches",
    "server_cells",
    "sources_text",
]

LEADER_MARK = "*"


@dataclass(frozen=True)
class Column:
    """A table column: key, header, fixed width (set up front: measuring whole columns on every
    update is what made big tables slow), alignment."""

    key: str
    label: str
    width: int
    numeric: bool = False

    def fit(self, value: str) -> str:
        """`value` cut to the column's width with an ellipsis."""
        return value if len(value) <= self.width else value[: self.width - 1] + "…"


SERVER_COLUMNS: tuple[Column, ...] = (
    Column("name", "Server", 16),
    Column("version", "Version", 7),
    Column("cluster", "Cluster", 9),
    Column("uptime", "Up", 5, numeric=True),
    Column("cpu", "CPU%", 4, numeric=True),
    Column("mem", "Mem", 5, numeric=True),
    Column("conns", "Conns", 5, numeric=True),
    Column("subs", "Subs", 5, numeric=True),
    Column("in_msgs", "Msg in", 7, numeric=True),
    Column("out_msgs", "Msg out", 7, numeric=True),
    Column("in_bytes", "B in", 7, numeric=True),
    Column("out_bytes", "B out", 7, numeric=True),
    Column("slow", "Slow", 4, numeric=True),
    Column("streams", "Strm", 4, numeric=True),
    Column("consumers", "Cons", 4, numeric=True),
    Column("js_mem", "JS mem", 6, numeric=True),
    Column("js_file", "JS file", 7, numeric=True),
    Column("api_errors", "APIerr", 6, numeric=True),
)

CONNECTION_COLUMNS: tuple[Column, ...] = (
    Column("name", "Connection", 24),
    Column("server", "Server", 12),
    Column("address", "Address", 21),
    Column("client", "Client", 14),
    Column("subs", "Subs", 5, numeric=True),
    Column("pending", "Pend", 5, numeric=True),
    Column("in_msgs", "Msg in", 7, numeric=True),
    Column("out_msgs", "Msg out", 7, numeric=True),
    Column("in_bytes", "B in", 7, numeric=True),
    Column("out_bytes", "B out", 7, numeric=True),
    Column("uptime", "Up", 5, numeric=True),
    Column("idle", "Idle", 5, numeric=True),
    Column("account", "Account", 10),
)

Rates = tuple[float, ...] | None
"""msgs in, msgs out, bytes in, bytes out per second; None before the second poll."""


def _rate(rates: Rates, index: int) -> str:
    return "-" if rates is None else format_rate(rates[index])


def _byte_rate(rates: Rates, index: int) -> str:
    return "-" if rates is None else compact_size(round(rates[index])) + "/s"


def _age(moment: datetime | None, now: float) -> str:
    """Time since `moment` by the app's clock ("0s" when the clock is behind the server's)."""
    if moment is None:
        return "-"
    return format_duration_short(max(0.0, now - moment.timestamp()))


def coarse_age(moment: datetime | None, now: float) -> str:
    """Time since `moment` in one unit, under a minute as ``<1m``: ``<1m``, ``5m``, ``3h``,
    ``2d``. A connection row's uptime and idle time use it because a cell that ticks at every
    poll costs an update and a redraw of the table: with 1,000 connections, the seconds of
    every row's uptime and idle were most of the work of a poll. The detail (Enter) is exact."""
    if moment is None:
        return "-"
    seconds = max(0.0, now - moment.timestamp())
    if seconds < 60:
        return "<1m"
    for unit, size in (("d", 86400), ("h", 3600)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds // 60)}m"


def _cells(columns: Sequence[Column], values: Sequence[str]) -> tuple[str, ...]:
    return tuple(column.fit(value) for column, value in zip(columns, values, strict=True))


def server_cells(
    server: ServerSummary, rates: Rates, *, now: float, meta_leader: str = ""
) -> tuple[str, ...]:
    """A servers table row in `SERVER_COLUMNS` order; the meta leader's name is marked."""
    name = sanitize(server.name, max_len=64)
    js = server.jetstream
    return _cells(
        SERVER_COLUMNS,
        (
            f"{LEADER_MARK} {name}" if meta_leader and server.name == meta_leader else name,
            sanitize(server.version, max_len=16),
            sanitize(server.cluster, max_len=32) or "-",
            _age(server.start, now),
            f"{server.cpu:.0f}",
            compact_size(server.mem),
            format_count(server.connections),
            format_count(server.subscriptions),
            _rate(rates, 0),
            _rate(rates, 1),
            _byte_rate(rates, 2),
            _byte_rate(rates, 3),
            format_count(server.slow_consumers),
            format_count(js.streams) if js else "-",
            format_count(js.consumers) if js else "-",
            compact_size(js.memory) if js else "-",
            compact_size(js.storage) if js else "-",
            format_count(js.api_errors) if js else "-",
        ),
    )


def server_counters(server: ServerSummary) -> tuple[int, int, int, int]:
    return (server.in_msgs, server.out_msgs, server.in_bytes, server.out_bytes)


def connection_counters(connection: Connection) -> tuple[int, int, int, int]:
    return (connection.in_msgs, connection.out_msgs, connection.in_bytes, connection.out_bytes)


def connection_label(connection: Connection) -> str:
    """The connection's name, or its address and client library when unnamed (sanitized)."""
    return sanitize(connection.label, max_len=200)


def connection_cells(connection: Connection, rates: Rates, *, now: float) -> tuple[str, ...]:
    """A connections table row in `CONNECTION_COLUMNS` order."""
    return _cells(
        CONNECTION_COLUMNS,
        (
            connection_label(connection),
            sanitize(connection.server, max_len=64),
            sanitize(connection.address, max_len=64),
            sanitize(connection.client, max_len=64),
            format_count(connection.subscription_count),
            compact_size(connection.pending_bytes),
            _rate(rates, 0),
            _rate(rates, 1),
            _byte_rate(rates, 2),
            _byte_rate(rates, 3),
            coarse_age(connection.start, now),
            coarse_age(connection.last_activity, now),
            sanitize(connection.account, max_len=64) or "-",
        ),
    )


@dataclass(frozen=True)
class Sort:
    """A sort order of the connections table: its name, the column it marks, the key."""

    name: str
    column: str
    key: Callable[[Connection, Rates, float], float | str]
    descending: bool


def _rate_key(index: int) -> Callable[[Connection, Rates, float], float]:
    return lambda _conn, rates, _now: rates[index] if rates is not None else -1.0


SORTS: tuple[Sort, ...] = (
    # By the text shown (sanitized), so the order is the one the user reads.
    Sort("name", "name", lambda conn, _rates, _now: connection_label(conn).casefold(), False),
    Sort("server", "server", lambda conn, _rates, _now: conn.server.casefold(), False),
    Sort("subs", "subs", lambda conn, _rates, _now: conn.subscription_count, True),
    Sort("pending", "pending", lambda conn, _rates, _now: conn.pending_bytes, True),
    Sort("msgs in/s", "in_msgs", _rate_key(0), True),
    Sort("msgs out/s", "out_msgs", _rate_key(1), True),
    Sort("bytes in/s", "in_bytes", _rate_key(2), True),
    Sort("bytes out/s", "out_bytes", _rate_key(3), True),
    Sort(
        "uptime",
        "uptime",
        lambda conn, _rates, now: now - conn.start.timestamp() if conn.start else 0.0,
        True,
    ),
    Sort(
        "idle",
        "idle",
        lambda conn, _rates, now: (
            now - conn.last_activity.timestamp() if conn.last_activity else 0.0
        ),
        False,
    ),
)


def matches(connection: Connection, needle: str) -> bool:
    """The filter: `needle` (case-insensitive) in the name, address, client library or account."""
    if not needle:
        return True
    wanted = needle.casefold()
    return any(
        wanted in field.casefold()
        for field in (
            connection.label,
            connection.address,
            connection.client,
            connection.account,
        )
    )


def _found(text: str, ok: bool | None) -> Text:
    return Text(sanitize(text, max_len=300), style="" if ok else "dim")


def sources_text(status: ObserverStatus) -> Text:
    """What jstui can see and from where, then what would give more (sanitized: reasons and URLs
    come from servers and the user's flags; URLs are shown redacted by the observer)."""
    text = Text()
    text.append("Monitoring ", style="bold")
    text.append_text(_found(status.monitor, status.monitor_ok))
    text.append("  System account ", style="bold")
    text.append_text(_found(status.system, status.system_ok))
    text.append("  Own account ", style="bold")
    text.append_text(_found(status.account, status.account_ok))
    hint = status.hint()
    if hint:
        text.append("\n")
        text.append(sanitize(hint, max_len=300), style="italic")
    return text


def _peer_list(names: Sequence[str]) -> str:
    return ", ".join(sanitize(name, max_len=40) for name in names) or "none"


def cluster_lines(
    links: dict[str, ServerLinks], meta: MetaView | None, *, server_count: int
) -> list[Text]:
    """Routes, gateways and leaf nodes per server, then the meta group (leader's view)."""
    lines: list[Text] = []
    linked = [item for item in links.values() if item.routes or item.gateways or item.leafs]
    if not linked and meta is None:
        if server_count == 1:
            lines.append(Text("Standalone server: no routes, gateways or leaf nodes", "dim"))
        return lines
    for item in links.values():
        line = Text()
        line.append(sanitize(item.server, max_len=40), style="bold")
        line.append(f"  routes to {_peer_list([peer.name for peer in item.routes])}")
        if item.gateways:
            line.append(f"  gateways {_peer_list([gw.name for gw in item.gateways])}")
        if item.leafs:
            names = [leaf.name or leaf.address for leaf in item.leafs]
            line.append(f"  leaf nodes {_peer_list(names)}")
        lines.append(line)
    if meta is not None:
        line = Text()
        line.append("Meta group ", style="bold")
        if meta.cluster:
            line.append(sanitize(meta.cluster, max_len=40) + " ")
        line.append(f"leader {LEADER_MARK} {sanitize(meta.leader or 'none', max_len=40)}")
        line.append(f"  size {meta.size}")
        if not meta.from_leader:
            line.append("  replicas: waiting for the leader's answer", style="dim")
        for replica in meta.replicas:
            state = replica_state(replica)
            line.append("  ")
            line.append(sanitize(replica.name, max_len=40))
            line.append(f" {state}", style="" if state == "current" else "bold")
            if replica.lag:
                line.append(f" lag {format_count(replica.lag)}")
        lines.append(line)
    return lines


def subscriptions_summary(connection: Connection) -> str:
    """A one-line summary for the connection detail's title (sanitized)."""
    return (
        f"{connection_label(connection)}: {format_count(connection.subscription_count)} "
        f"subscriptions, {format_size(connection.pending_bytes)} pending"
    )
