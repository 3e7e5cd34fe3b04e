"""The main screen: status line, pane switcher, the panes of the registry and the footer.

The panes, their number keys and the switcher's tabs all come from the pane registry
(`jstui.widgets.registry.PANES`). The app hands connection changes to the dashboard, which shows
them in the status line and passes a copy to every pane. The status line's figures (RTT,
JetStream usage) come from a `PeriodicPoll`. The layout is state: `compact` (a small terminal: one
pane at a time, the switcher shown) and `current_pane` (the one shown then) set CSS classes, and
styles/app.tcss shows and hides the panes from them. A pane asks to come to the front with
`Pane.ShowRequested`; the settings' `start_pane` opens jstui on one pane, maximized.

A large terminal shows the first `GRID_PANES` panes in a 2x2 grid; the panes after them (Server,
Events, ...) have no room there, so their number key shows them maximized over the grid, and
leaving them (`z`, or a grid pane's key) brings the grid back. The switcher, shown in both
layouts, is where the user sees that they exist.
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

from jstui.messages import ConnectionChanged
from jstui.nats.session import ConnectionState
from jstui.widgets.base import Pane, PeriodicPoll, SessionHost
from jstui.widgets.navigation import KeysFooter, PaneSwitcher
from jstui.widgets.registry import PANES, entry_named
from jstui.widgets.status import StatusLine

COMPACT_WIDTH = 120
"""Below this width (or 32 rows) the panes are shown one at a time, switched by number keys."""
COMPACT_HEIGHT = 32
GRID_PANES = 4
"""Panes shown together in the large layout; the others are shown maximized, one at a time."""
STATUS_POLL_SECONDS = 2.0
FOCUS_CHECK_SECONDS = 0.25


class DashboardScreen(Screen[None]):
    """All panes at once on a large terminal, one at a time on a small one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(e.key, f"show_pane({e.number})", e.tab, show=False) for e in PANES),
        Binding("z", "toggle_maximize", "Max/restore"),
        Binding("question_mark", "app.help", "Help", key_display="?"),
    ]

    compact: var[bool] = var(False, toggle_class="compact")
    """A small terminal: the panes are shown one at a time (see COMPACT_WIDTH)."""
    ESCAPE_TO_MINIMIZE = False
    """Escape belongs to the panes (a filter box, a dialog); `z` restores a maximized pane. The
    panes beyond the grid are always shown maximized: Escape must not send them away."""

    current_pane: var[int] = var(1, always_update=True)
    """The number of the pane the user is in: the one shown when `compact`."""
    _last_grid_pane: int = 1
    """The grid pane to come back to when a pane beyond the grid is left."""

    def compose(self) -> ComposeResult:
        host = self._host
        yield StatusLine(
            id="status-line",
            embedded=host.embedded is not None,
            read_only=host.settings.read_only,
            context=host.settings.context,
        )
        yield PaneSwitcher(PANES, id="pane-switcher")
        with Grid(id="panes"):
            for entry in PANES:
                pane = entry.build()
                pane.set_class(entry.number > GRID_PANES, "-beyond-grid")
                yield pane
        yield KeysFooter().data_bind(compact=DashboardScreen.compact)

    @property
    def _host(self) -> _DashboardHost:
        return self.app  # type: ignore[return-value]

    @property
    def panes(self) -> list[Pane]:
        return sorted(self.query(Pane), key=lambda pane: pane.number)

    def pane(self, number: int) -> Pane:
        return next(pane for pane in self.panes if number == pane.number)

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
        self.call_after_refresh(self._open_start_pane)

    def _open_start_pane(self) -> None:
        start = self._host.settings.start_pane
        if start is None:
            self.pane(1).focus_pane()
            return
        pane = self.pane(entry_named(start).number)
        self.action_show_pane(pane.number)
        self.maximize(pane, container=False)

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_WIDTH or event.size.height < COMPACT_HEIGHT
        if self.compact:
            self._mark_current(self._focused_pane() or self.pane(1))
        elif self.current_pane > GRID_PANES and self.maximized is None:
            # back from the small layout on a pane that has no room in the grid
            self.maximize(self.pane(self.current_pane), container=False)

    def _focused_pane(self) -> Pane | None:
        focused = self.focused
        if focused is None:
            return None
        try:
            return focused.query_ancestor(Pane)
        except NoMatches:
            return None

    def _mark_current(self, current: Pane) -> None:
        self.current_pane = current.number

    def watch_current_pane(self, number: int) -> None:
        for pane in self.panes:
            pane.set_class(number == pane.number, "current")
        self.query_one(PaneSwitcher).highlight(number)

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
        if number <= GRID_PANES:
            self._last_grid_pane = number
        self._mark_current(pane)
        if number > GRID_PANES and not self.compact and self.maximized is not pane:
            self.maximize(pane, container=False)
        pane.focus_pane()

    @on(Pane.ShowRequested)
    def _show_requested(self, message: Pane.ShowRequested) -> None:
        message.stop()
        self.action_show_pane(message.pane.number)
        if message.then is not None:
            message.then()

    @on(PaneSwitcher.PaneClicked)
    def _tab_clicked(self, message: PaneSwitcher.PaneClicked) -> None:
        self.action_show_pane(message.number)

    def action_toggle_maximize(self) -> None:
        if self.maximized is not None:
            shown = self.maximized
            self.minimize()
            if isinstance(shown, Pane) and shown.number > GRID_PANES and not self.compact:
                self.action_show_pane(self._last_grid_pane)  # it has no place in the grid
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
