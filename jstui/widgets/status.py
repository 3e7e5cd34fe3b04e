"""The status line: connection state, server (its URL already masked by the session), the natscli
context in use, RTT and the account's JetStream usage. While reconnecting it says since when and,
once known, why; once back, the last outage stays at the end of the line: when, how long, why."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from jstui.format.lines import time_of_day
from jstui.format.text import sanitize
from jstui.format.units import format_duration_short, format_size
from jstui.nats.account import JetStreamUsage
from jstui.nats.session import ConnectionState, ConnectionStatus

SHORT_ID = 10
"""How much of a server id the line shows for a server without a name (the rest is noise that
pushed the outage and error text off the end of the line)."""

_STATE_STYLE = {
    ConnectionState.CONNECTING: ("◌ connecting", "bold yellow"),
    ConnectionState.CONNECTED: ("● connected", "bold green"),
    ConnectionState.RECONNECTING: ("◌ reconnecting", "bold yellow"),
    ConnectionState.CLOSED: ("○ closed", "bold red"),
    ConnectionState.FAILED: ("✖ failed", "bold red"),
}


def _limit(used: int, limit: int, *, size: bool) -> str:
    shown = format_size(used) if size else str(used)
    if limit is None or limit < 0:
        return shown
    return f"{shown}/{format_size(limit) if size else limit}"


def render_status(
    status: ConnectionStatus,
    *,
    rtt: float | None,
    usage: JetStreamUsage | None,
    embedded: bool,
    read_only: bool,
    context: str | None = None,
) -> Text:
    """The status line as plain text; every server-provided string is sanitized."""
    label, style = _STATE_STYLE[status.state]
    text = Text(label, style=style)
    outage = status.outage
    if status.state is ConnectionState.RECONNECTING:
        if status.since:
            text.append(f" since {time_of_day(status.since)}", style=style)
        if outage is not None and outage.cause:
            text.append("  ")
            text.append(sanitize(outage.cause), style="bold red")
    if status.url:
        text.append("  ")
        text.append(sanitize(status.url), style="bold")
        if embedded:
            text.append(" (embedded)", style="dim")
    if context:
        text.append("  ctx: ", style="dim")
        text.append(sanitize(context), style="bold")
    if status.server_name:
        name = status.server_name
        if name == status.server_id and len(name) > SHORT_ID:
            name = name[:SHORT_ID] + "\u2026"  # an unnamed server: its 56-character id, cut
        text.append(f"  {sanitize(name)}")
        if status.server_version:
            text.append(f" v{sanitize(status.server_version)}", style="dim")
    if status.cluster:
        text.append(f"  cluster {sanitize(status.cluster)}")
        if status.servers_known > 1:
            text.append(f" ({status.servers_known} servers known)", style="dim")
    if rtt is not None and status.state is ConnectionState.CONNECTED:
        text.append(f"  rtt {rtt * 1000:.1f} ms")
    if usage is not None and status.state is ConnectionState.CONNECTED:
        text.append("  JS ", style="bold")
        text.append(
            f"streams {_limit(usage.streams, usage.max_streams, size=False)} · "
            f"consumers {_limit(usage.consumers, usage.max_consumers, size=False)} · "
            f"mem {_limit(usage.memory, usage.max_memory, size=True)} · "
            f"file {_limit(usage.storage, usage.max_storage, size=True)}"
        )
    if status.state is ConnectionState.CONNECTED and outage is not None and outage.back:
        text.append(
            f"  last outage {time_of_day(outage.lost)}, {format_duration_short(outage.seconds)}",
            style="yellow",
        )
        if outage.cause:
            text.append(f": {sanitize(outage.cause)}", style="yellow")
    if read_only:
        text.append("  READ-ONLY", style="bold reverse")
    if status.error:
        text.append("  ")
        text.append(sanitize(status.error), style="bold red")
    return text


class StatusLine(Static):
    """One line at the top of the dashboard; redrawn only when what it says changed (the status
    poll brings the same figures most of the time), and never laid out again: its size is fixed
    by the stylesheet (one line, the screen's width)."""

    def __init__(
        self, *, embedded: bool, read_only: bool, context: str | None = None, **kwargs: object
    ) -> None:
        super().__init__("", markup=False, **kwargs)  # type: ignore[arg-type]
        self._embedded = embedded
        self._read_only = read_only
        self._context_name = context
        self._status = ConnectionStatus()
        self._rtt: float | None = None
        self._usage: JetStreamUsage | None = None
        self._shown: Text | None = None

    def retarget(self, context: str | None, *, embedded: bool) -> None:
        """After a switch of server: the context in use and whether it is jstui's own server."""
        self._context_name, self._embedded = context, embedded
        self.show()

    def show(
        self,
        status: ConnectionStatus | None = None,
        *,
        rtt: float | None = None,
        usage: JetStreamUsage | None = None,
    ) -> None:
        if status is not None:
            self._status = status
        if rtt is not None:
            self._rtt = rtt
        if usage is not None:
            self._usage = usage
        text = self._text()
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)

    def _text(self) -> Text:
        return render_status(
            self._status,
            rtt=self._rtt,
            usage=self._usage,
            embedded=self._embedded,
            read_only=self._read_only,
            context=self._context_name,
        )

    @property
    def plain(self) -> str:
        """The text shown, for tests and the help screen."""
        return self._text().plain
