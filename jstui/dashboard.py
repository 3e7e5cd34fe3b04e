"""The main screen: status line, the four panes and the footer.

The app hands connection changes to the dashboard, which shows them in the status line and passes a
copy to every pane. The status line's figures (RTT, JetStream usage) come from a `PeriodicPoll`. The
layout is state: `compact` (a small terminal: one pane at a time) and `current_pane` (the one shown
then) set CSS classes, and styles/app.tcss shows and hides the panes from them.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.css.query import NoMatches
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer

from jstui.messages import ConnectionChanged
from jstui.nats.session import ConnectionState
from jstui.widgets.base import Pane, PeriodicPoll, SessionHost
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

    compact: var[bool] = var(False, toggle_class="compact")
    """A small terminal: the panes are shown one at a time (see COMPACT_WIDTH)."""
    current_pane: var[int] = var(1, always_update=True)
    """The number of the pane the user is in: the one shown when `compact`."""

    def compose(self) -> ComposeResult:
        host = self._host
        yield StatusLine(
            id="status-line",
            embedded=host.embedded is not None,
            read_only=host.settings.read_only,
            context=host.settings.context,
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
        self.status_poll = PeriodicPoll(
            self,
            STATUS_POLL_SECONDS,
            self._fetch_status_figures,
            description="status poll",
            when=lambda: self._host.session.status.state is ConnectionState.CONNECTED,
        )
        # Focus can also vanish later, when a pane hides the focused widget (a tab switch, a
        # row removed); a cheap check keeps the keys working whatever caused it.
        self.set_interval(FOCUS_CHECK_SECONDS, self._ensure_focus)
        self.call_after_refresh(self.pane(1).focus_pane)

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_WIDTH or event.size.height < COMPACT_HEIGHT
        if self.compact:
            self._mark_current(self._focused_pane() or self.pane(1))

    def _focused_pane(self) -> Pane | None:
        focused = self.focused
        if focused is None:
            return None
        try:
            return focused.query_ancestor(Pane)
        except NoMatches:
            return None

    def _mark_current(self, current: Pane) -> None:
        self.current_pane = current.PANE_NUMBER

    def watch_current_pane(self, number: int) -> None:
        for pane in self.panes:
            pane.set_class(number == pane.PANE_NUMBER, "current")

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
            self.pane(self.current_pane).focus_pane()

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

    async def _fetch_status_figures(self) -> None:
        session = self._host.session
        rtt = await session.rtt()
        usage = await session.jetstream_usage()
        self.query_one(StatusLine).show(rtt=rtt, usage=usage)


class _DashboardHost(SessionHost):
    embedded: object | None
