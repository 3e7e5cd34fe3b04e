"""The main screen: status line, the four panes and the footer."""

from __future__ import annotations

from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer

from jstui.messages import ConnectionChanged
from jstui.nats.session import ConnectionState
from jstui.widgets.base import Pane, SessionHost
from jstui.widgets.feeds import FeedsPane
from jstui.widgets.requests import RequestsPane
from jstui.widgets.status import StatusLine
from jstui.widgets.streams import StreamsPane
from jstui.widgets.workers import WorkersPane

COMPACT_WIDTH = 120
"""Below this width (or 32 rows) the panes are shown one at a time, switched by number keys."""
COMPACT_HEIGHT = 32
STATUS_POLL_SECONDS = 2.0
FOCUS_CHECK_SECONDS = 0.25


class DashboardScreen(Screen[None]):
    """All panes at once on a large terminal, one at a time on a small one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_pane(1)", "Streams", show=False),
        Binding("2", "show_pane(2)", "Feeds", show=False),
        Binding("3", "show_pane(3)", "Req/Reply", show=False),
        Binding("4", "show_pane(4)", "Workers", show=False),
        Binding("z", "toggle_maximize", "Max/restore"),
        Binding("question_mark", "app.help", "Help", key_display="?"),
    ]

    def compose(self) -> ComposeResult:
        host = self._host
        yield StatusLine(
            id="status-line", embedded=host.embedded is not None, read_only=host.settings.read_only
        )
        with Grid(id="panes"):
            yield StreamsPane(id="streams-pane")
            yield FeedsPane(id="feeds-pane")
            yield RequestsPane(id="requests-pane")
            yield WorkersPane(id="workers-pane")
        yield Footer()

    @property
    def _host(self) -> _DashboardHost:
        return self.app  # type: ignore[return-value]

    @property
    def panes(self) -> list[Pane]:
        return sorted(self.query(Pane), key=lambda pane: pane.PANE_NUMBER)

    def pane(self, number: int) -> Pane:
        return next(pane for pane in self.panes if number == pane.PANE_NUMBER)

    def on_mount(self) -> None:
        self.query_one(StatusLine).show(self._host.session.status)
        self.set_interval(STATUS_POLL_SECONDS, self._poll_status)
        # Focus can also vanish later, when a pane hides the focused widget (a tab switch, a
        # row removed); a cheap check keeps the keys working whatever caused it.
        self.set_interval(FOCUS_CHECK_SECONDS, self._ensure_focus)
        self.call_after_refresh(self.pane(1).focus_pane)

    def on_resize(self, event: events.Resize) -> None:
        compact = event.size.width < COMPACT_WIDTH or event.size.height < COMPACT_HEIGHT
        self.set_class(compact, "compact")
        if compact:
            self._mark_current(self._focused_pane() or self.pane(1))

    def _focused_pane(self) -> Pane | None:
        node = self.focused
        while node is not None:
            if isinstance(node, Pane):
                return node
            node = node.parent  # type: ignore[assignment]
        return None

    def _mark_current(self, current: Pane) -> None:
        for pane in self.panes:
            pane.set_class(pane is current, "current")

    @on(events.DescendantFocus)
    def _track_current_pane(self) -> None:
        pane = self._focused_pane()
        if pane is not None:
            self._mark_current(pane)

    def on_screen_resume(self) -> None:
        # A dialog that closes may leave nothing focused (its opener was hidden or removed
        # meanwhile); with no focus the panes' keys would stop working until a click.
        self.call_after_refresh(self._ensure_focus)

    def _ensure_focus(self) -> None:
        if self.focused is None and self.app.screen is self:
            current = next((pane for pane in self.panes if pane.has_class("current")), None)
            (current or self.pane(1)).focus_pane()

    def action_show_pane(self, number: int) -> None:
        pane = self.pane(number)
        if self.maximized is not None and self.maximized is not pane:
            self.minimize()
        self._mark_current(pane)
        pane.focus_pane()

    def action_toggle_maximize(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        pane = self._focused_pane() or self.pane(1)
        self.maximize(pane, container=False)

    @on(ConnectionChanged)
    def _connection_changed(self, message: ConnectionChanged) -> None:
        self.query_one(StatusLine).show(message.status)
        for pane in self.panes:
            pane.post_message(ConnectionChanged(message.status))

    def _poll_status(self) -> None:
        if self._host.session.status.state is ConnectionState.CONNECTED:
            self._fetch_status_figures()

    @work(exclusive=True, group="status-poll", exit_on_error=False, description="status poll")
    async def _fetch_status_figures(self) -> None:
        session = self._host.session
        rtt = await session.rtt()
        usage = await session.jetstream_usage()
        self.query_one(StatusLine).show(rtt=rtt, usage=usage)


class _DashboardHost(SessionHost):
    embedded: object | None
