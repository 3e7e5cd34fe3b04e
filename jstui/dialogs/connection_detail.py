"""One connection of the Server pane in detail: who it is and its subscriptions.

Data flow: the pane hands in the `Connection` it last polled (a frozen model from the observer)
and the app's wall clock; the screen renders it once, as a Rich table of subscriptions (subject,
queue group, messages delivered). Every string came from a server or a client: it is sanitized
and shown as `Text`, never markup. Escape closes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from jstui.dialogs.styles import DialogStyles
from jstui.format.text import sanitize
from jstui.format.units import format_count, format_duration_short, format_size
from jstui.nats.observe.model import Connection

MAX_SUBSCRIPTIONS_SHOWN = 500
"""A client may hold thousands of subscriptions; past this many the list says how many more."""


def _since(moment: datetime | None, now: float) -> str:
    return "-" if moment is None else format_duration_short(max(0.0, now - moment.timestamp()))


def _pairs(connection: Connection, now: float) -> list[tuple[str, str]]:
    return [
        ("Name", sanitize(connection.name, max_len=300) or "(none)"),
        ("Server", sanitize(connection.server, max_len=100)),
        ("Connection id", str(connection.cid)),
        ("Address", sanitize(connection.address, max_len=100) or "-"),
        ("Client", sanitize(connection.client, max_len=100) or "-"),
        ("Account", sanitize(connection.account, max_len=100) or "-"),
        ("Uptime", _since(connection.start, now)),
        ("Idle", _since(connection.last_activity, now)),
        ("RTT", sanitize(connection.rtt, max_len=32) or "-"),
        ("Pending", format_size(connection.pending_bytes)),
        (
            "Messages in / out",
            f"{format_count(connection.in_msgs)} / {format_count(connection.out_msgs)}",
        ),
        (
            "Bytes in / out",
            f"{format_size(connection.in_bytes)} / {format_size(connection.out_bytes)}",
        ),
    ]


def _subscriptions(connection: Connection) -> list[RenderableType]:
    heading = Text("Subscriptions ", style="bold underline")
    heading.append(format_count(connection.subscription_count), style="bold")
    subscriptions = sorted(connection.subscriptions, key=lambda sub: (sub.subject, sub.queue))
    if not subscriptions:
        shown = "none" if not connection.subscription_count else "no detail from this source"
        return [heading, Text(shown, style="dim")]
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("Subject", overflow="fold")
    table.add_column("Queue", overflow="fold")
    table.add_column("Delivered", justify="right", no_wrap=True)
    for sub in subscriptions[:MAX_SUBSCRIPTIONS_SHOWN]:
        table.add_row(
            Text(sanitize(sub.subject, max_len=300)),
            Text(sanitize(sub.queue, max_len=100) or "-"),
            Text(format_count(sub.msgs)),
        )
    parts: list[RenderableType] = [heading, table]
    if len(subscriptions) > MAX_SUBSCRIPTIONS_SHOWN:
        more = len(subscriptions) - MAX_SUBSCRIPTIONS_SHOWN
        parts.append(Text(f"… and {format_count(more)} more", style="dim"))
    return parts


def render_connection(connection: Connection, *, now: float) -> RenderableType:
    """The connection's subscriptions (subject, queue, delivered) first, what the user opened it
    for, then its fields."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in _pairs(connection, now):
        grid.add_row(Text(label), Text(value))
    return Group(*_subscriptions(connection), Text(), grid)


class ConnectionDetailScreen(DialogStyles, ModalScreen[None]):
    """A connection and its subscriptions, as last polled; Escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, connection: Connection, *, now: float) -> None:
        super().__init__(classes="dialog-screen")
        self.connection = connection
        self._body = render_connection(connection, now=now)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog connection-dialog") as box:
            box.border_title = "Connection " + sanitize(self.connection.label, max_len=60)
            box.border_subtitle = "Escape to close"
            yield Static(self._body, id="connection-detail")
