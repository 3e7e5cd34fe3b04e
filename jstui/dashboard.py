"""The main screen: status line, pane switcher, the panes of the registry and the footer.

The panes, their number keys and the switcher's tabs all come from the pane registry
(`jstui.widgets.registry.PANES`). Only the panes shown at start are built (the grid's, or the
`--pane` one) with those that have start-up work (`--feed`, `--responder`, `--workers`, `--watch`),
and only after the first frame and the first connection attempt's outcome (or
`PANES_AFTER_SECONDS`), one per refresh: the status line, switcher and footer come first (the
grid's cells stay empty for a moment), and "connected" is drawn as soon as it is true instead of
after ~200 widgets and their modules; the panes, which show nothing without it, follow at once.
`pane(number)` builds any other the first time it is asked for, so a hidden pane costs nothing,
not even its module's import, until it is shown. The app hands connection changes to the dashboard,
which shows them in the status line and passes a copy to every pane built. The status line's figures
(RTT, JetStream usage) come from a `PeriodicPoll`. The layout is state: `compact` (a small terminal:
one pane at a time, the switcher shown) and `current_pane` (the one shown then) set CSS classes, and
styles/app.tcss shows and hides the panes from them. A pane asks to come to the front with
`Pane.ShowRequested`; the settings' `start_pane` opens jstui on one pane, maximized.

A large terminal shows the first `GRID_PANES` panes in a 2x2 grid; the panes after them (Server,
Events, ...) have no room there, so their number key shows them maximized over the grid, and leaving
them (`z`, or a grid pane's key) brings the grid back. The switcher, shown in both layouts, is where
the user sees that they exist.
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
from textual.timer import Timer
from textual.widget import AwaitMount

from jstui.messages import ConnectionChanged
from jstui.nats.session import ConnectionState
from jstui.paths import pane_stylesheet
from jstui.widgets.base import Pane, PeriodicPoll, SessionHost
from jstui.widgets.navigation import KeysFooter, PaneSwitcher
from jstui.widgets.registry import PANES, PaneEntry, entry_named
from jstui.widgets.status import StatusLine

COMPACT_WIDTH = 120
"""Below this width (or 32 rows) the panes are shown one at a time, switched by number keys."""
COMPACT_HEIGHT = 32
GRID_PANES = 4
"""Panes shown together in the large layout; the others are shown maximized, one at a time."""
STATUS_POLL_SECONDS = 2.0
STATUS_POLL_LONGEST = 8.0
"""While the account's JetStream usage stays the same the status poll slows down to this."""
PANES_AFTER_SECONDS = 1.0
"""The panes shown at start are built once the first connection attempt has an outcome, so that
the frame saying so is not held up by them; at the latest this long after the screen mounted."""
FOCUS_CHECK_SECONDS = 1.0
"""Fallback for focus lost without a Blur (a focused widget removed); a Blur checks at once."""


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

    def __init__(self) -> None:
        super().__init__()
        self._built: dict[int, Pane] = {}
        """The panes built so far, by number."""
        self._mounting: dict[int, AwaitMount] = {}
        """Panes built after the screen's compose, until someone waits for their mount."""
        self._start_pane_opened = False
        self._building_for: int | None = None
        """The pane just switched to while it is still being built (see `_track_current_pane`)."""
        """Until the start pane is shown, the grid is not what the user sees: build nothing."""
        self._to_build: list[int] = []
        """Panes still to build after the first frame, one per refresh (`_build_panes_at_start`)."""
        self._quitting = False
        """Set by `stop_building`: the app is about to close, build nothing more at start-up."""
        self._building_started = False
        self._build_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        host = self._host
        yield StatusLine(
            id="status-line",
            embedded=host.embedded is not None,
            read_only=host.settings.read_only,
            context=host.settings.context,
        )
        yield PaneSwitcher(PANES, id="pane-switcher")
        yield Grid(id="panes")  # filled after the first frame (`_build_panes_at_start`)
        yield KeysFooter().data_bind(compact=DashboardScreen.compact)

    @property
    def _host(self) -> _DashboardHost:
        return self.app  # type: ignore[return-value]

    def _panes_at_start(self) -> list[int]:
        """The numbers of the panes composed with the screen: those shown first, and those the
        settings give work to at start-up (their pane opens the feeds, responders, pools)."""
        settings = self._host.settings
        if settings.start_pane is None:
            shown = set(range(1, GRID_PANES + 1))
        else:
            shown = {entry_named(settings.start_pane).number}
        with_work = {
            "feeds": bool(settings.feeds),
            "requests": bool(settings.responders or settings.watch_requests),
            "workers": bool(settings.workers or settings.watch),
        }
        shown |= {entry_named(name).number for name, wanted in with_work.items() if wanted}
        return sorted(shown)

    def _new_pane(self, entry: PaneEntry) -> Pane:
        sheet = pane_stylesheet(entry.name)
        if sheet is not None:
            # Read as the pane is first built, not at start-up: its rules style only the pane,
            # which is styled from them as it mounts (the widgets styled before are not theirs).
            from jstui.dialogs.styles import add_stylesheet

            add_stylesheet(self.app, sheet)
        pane = entry.build()
        pane.set_class(entry.number > GRID_PANES, "-beyond-grid")
        self._built[entry.number] = pane
        return pane

    @property
    def built_panes(self) -> list[Pane]:
        """The panes built so far, in number order (the others have not been shown yet)."""
        return [self._built[number] for number in sorted(self._built)]

    @property
    def panes(self) -> list[Pane]:
        """Every pane of the registry, in number order; those not built yet are built now."""
        return [self.pane(entry.number) for entry in PANES]

    def pane(self, number: int) -> Pane:
        """The pane with this number key, built (and mounted in its place) if it was not yet.

        A pane built late is told the connection's state at once, as the others were when it
        changed; its own compose and mount follow, before it handles that message.
        """
        built = self._built.get(number)
        if built is not None:
            return built
        later = [pane for known, pane in sorted(self._built.items()) if known > number]
        pane = self._new_pane(PANES[number - 1])
        pane.set_class(number == self.current_pane, "current")
        self._mounting[number] = self.query_one("#panes", Grid).mount(
            pane, before=later[0] if later else None
        )
        pane.post_message(ConnectionChanged(self._host.session.status))
        return pane

    @property
    def start_panes_built(self) -> bool:
        """Every pane shown at start is built and mounted (they follow the first frame)."""
        return (
            self._start_pane_opened
            and not self._to_build
            and all(pane.is_mounted for pane in self._built.values())
        )

    def stop_building(self) -> list[AwaitMount]:
        """Build no more panes at start-up; the mounts of panes built late that may still be
        under way. The app waits for them before it closes: a pane whose compose comes after
        the app began closing mounts no children, and its own mount handler then fails."""
        self._quitting = True
        self._to_build.clear()
        return [
            mounting
            for number, mounting in self._mounting.items()
            if not self._built[number].is_mounted
        ]

    async def build_all_panes(self) -> None:
        """Build every pane not built yet and wait until they are mounted (the help screen
        reads the keys of their widgets)."""
        for entry in PANES:
            self.pane(entry.number)
        mounting, self._mounting = self._mounting, {}
        for mounted in mounting.values():
            await mounted

    def _ensure_grid(self) -> None:
        """Build the grid's panes that are missing (jstui started on one pane maximized)."""
        if self._start_pane_opened and not self.compact and self.maximized is None:
            for number in range(1, GRID_PANES + 1):
                self.pane(number)

    def on_mount(self) -> None:
        self.query_one(StatusLine).show(self._host.session.status)
        self._usage: object = None
        """The JetStream usage the status poll saw last."""
        self.status_poll = PeriodicPoll(
            self,
            STATUS_POLL_SECONDS,
            self._fetch_status_figures,
            description="status poll",
            when=lambda: self._host.session.status.state is ConnectionState.CONNECTED,
            longest=STATUS_POLL_LONGEST,
        )
        # Focus can also vanish later, when a pane hides the focused widget (a tab switch, a
        # row removed); a cheap check keeps the keys working whatever caused it.
        self.set_interval(FOCUS_CHECK_SECONDS, self._ensure_focus)
        self._to_build = self._panes_at_start()
        if self._host.session.status.state is ConnectionState.CONNECTING:
            self._build_timer = self.set_timer(PANES_AFTER_SECONDS, self._start_building)
        else:
            self._start_building()

    def _start_building(self) -> None:
        """Build the panes shown at start, after the next frame (once)."""
        if self._building_started:
            return
        self._building_started = True
        if self._build_timer is not None:
            self._build_timer.stop()
        self.call_after_refresh(self._open_start_pane)  # builds that pane, then the others:
        self.call_after_refresh(self._build_panes_at_start)

    def _build_panes_at_start(self) -> None:
        """Build the next pane shown at start, then the one after it once that is drawn: the
        loop stays free for keys and the connection between them."""
        while self._to_build and self._to_build[0] in self._built:
            self._to_build.pop(0)
        if self._to_build:
            self.pane(self._to_build.pop(0))
            self.call_after_refresh(self._build_panes_at_start)
        elif not self._quitting:
            # The dialogs' rules, after everything the start shows (a dialog that opened sooner
            # read them itself). Imported here: the app's modules load no dialog module.
            from jstui.dialogs.styles import load_dialog_styles

            load_dialog_styles(self.app)

    def _open_start_pane(self) -> None:
        if self._quitting:  # quit before the first frame (SIGTERM, ctrl+q)
            return
        start = self._host.settings.start_pane
        if start is None:
            first = self.pane(1)  # built just now: focused once it is mounted
            first.call_after_refresh(self._focus_start_pane, first)
        else:
            pane = self.pane(entry_named(start).number)
            self.action_show_pane(pane.number)
            self.maximize(pane, container=False)
        self._start_pane_opened = True

    def _focus_start_pane(self, pane: Pane) -> None:
        """Focus the first pane once it is mounted, unless a pane key (or a click) went to
        another pane meanwhile: that pane keeps the focus, not one hidden behind it."""
        if self.current_pane == pane.number:
            pane.focus_pane()

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_WIDTH or event.size.height < COMPACT_HEIGHT
        if self.compact:
            self._mark_current(self._focused_pane() or self.pane(self._first_pane()))
        elif self.current_pane > GRID_PANES and self.maximized is None:
            # back from the small layout on a pane that has no room in the grid
            self.maximize(self.pane(self.current_pane), container=False)
        else:
            self._ensure_grid()

    def _first_pane(self) -> int:
        start = self._host.settings.start_pane
        return 1 if start is None else entry_named(start).number

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
        for pane in self.built_panes:
            pane.set_class(number == pane.number, "current")
        self.query_one(PaneSwitcher).highlight(number)

    @on(events.DescendantFocus)
    def _track_current_pane(self) -> None:
        pane = self._focused_pane()
        if pane is None:
            return
        if self._building_for is not None and pane.number != self._building_for:
            # The pane switched to is still being built: the focus its hidden predecessor
            # handed on inside itself must not switch back to it.
            return
        self._mark_current(pane)

    def on_screen_resume(self) -> None:
        # A dialog that closes may leave nothing focused (its opener was hidden or removed
        # meanwhile); with no focus the panes' keys would stop working until a click.
        self.call_after_refresh(self._ensure_focus)

    def on_descendant_blur(self) -> None:
        # Focus left a widget: if it went nowhere (the widget was hidden or disabled), give it
        # back to the current pane after this refresh, without waiting for the fallback timer.
        self.call_after_refresh(self._ensure_focus)

    def _ensure_focus(self) -> None:
        if not self._start_pane_opened:  # it gets the focus; building pane 1 here would be wrong
            return
        if self.focused is None and self.app.screen is self:
            pane = self.pane(self.current_pane)
            if pane.is_mounted:  # one being built is focused once mounted (`action_show_pane`)
                pane.focus_pane()

    def action_show_pane(self, number: int) -> None:
        pane = self.pane(number)
        if self.maximized is not None and self.maximized is not pane:
            self.minimize()
        if number <= GRID_PANES:
            self._last_grid_pane = number
        self._mark_current(pane)
        if number > GRID_PANES and not self.compact and self.maximized is not pane:
            self.maximize(pane, container=False)
        if pane.is_mounted:
            self._building_for = None
            pane.focus_pane()
        else:  # just built: its widgets exist once it is mounted and laid out
            self._building_for = number
            pane.call_after_refresh(self._focus_built, pane)

    def _focus_built(self, pane: Pane) -> None:
        if self._building_for == pane.number:
            self._building_for = None
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

    def watch_maximized(self, maximized: object) -> None:
        if maximized is None:  # the grid comes back: it may miss panes if jstui began on one
            self._ensure_grid()

    def action_toggle_maximize(self) -> None:
        if self.maximized is not None:
            shown = self.maximized
            self.minimize()
            if isinstance(shown, Pane) and shown.number > GRID_PANES and not self.compact:
                self.action_show_pane(self._last_grid_pane)  # it has no place in the grid
            return
        pane = self._focused_pane() or self.pane(1)
        self.maximize(pane, container=False)

    def connection_target_changed(self, context: str | None, *, embedded: bool) -> None:
        """jstui switched servers: the status line names the new context (or none)."""
        self.query_one(StatusLine).retarget(context, embedded=embedded)

    @on(ConnectionChanged)
    def _connection_changed(self, message: ConnectionChanged) -> None:
        self.query_one(StatusLine).show(message.status)
        if message.status.state is not ConnectionState.CONNECTING:
            self._start_building()  # after the frame that shows the outcome
        for pane in self.built_panes:  # a pane built later is told then
            pane.post_message(ConnectionChanged(message.status))
        if message.status.state is ConnectionState.CONNECTED:
            PeriodicPoll.hurry_all()  # (re)connected: polls that slowed down look again soon

    async def _fetch_status_figures(self) -> bool:
        """Show RTT and usage; True when the usage changed (the RTT's jitter is no change)."""
        session = self._host.session
        rtt = await session.rtt()
        usage = await session.jetstream_usage()
        self.query_one(StatusLine).show(rtt=rtt, usage=usage)
        changed, self._usage = usage != self._usage, usage
        if changed:
            # Messages stored or removed somewhere in the account: the polls that slowed down
            # while nothing changed (the Streams list, say) look again within their base period.
            PeriodicPoll.hurry_all()
        return changed

    def on_key(self) -> None:
        # The user is active: every poll back to its base period (none runs at once for it).
        PeriodicPoll.hurry_all()


class _DashboardHost(SessionHost):
    embedded: object | None
