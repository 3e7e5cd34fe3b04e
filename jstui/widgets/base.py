"""What every pane of the dashboard shares: a numbered title, the session, connection changes, and
the read-only rule for its keys and palette commands.

A pane's number (its key) is given by the pane registry (`jstui.widgets.registry`) when the
dashboard builds it. A pane never reaches for the dashboard: to come to the front (before a
palette command opens its dialog, say) it posts `Pane.ShowRequested`, which the dashboard handles.

A pane is idle when it cannot be seen: `shown` follows Textual's Show and Hide events (a pane
beyond the grid, a pane the small layout hides, a pane behind a maximized one), and the timers a
pane makes with `interval_while_shown` run only while it is shown, so hidden panes do no drawing.

A pane lists the actions that change something in `CHANGING_ACTIONS`. In `--read-only` mode
`check_action` hides them (Textual then neither shows them in the footer nor runs their keys),
and `offered` drops the palette commands that run them; the service layer refuses them anyway.

A maximized pane covers the dashboard's status line, so while the connection is down every pane
holds a line of its own saying so (the status line's words), shown by CSS only when maximized.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, ClassVar, Protocol, cast

from rich.text import Text
from textual import events, on
from textual.app import SystemCommand
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static

from jstui.format.text import sanitize
from jstui.messages import ConnectionChanged
from jstui.nats.errors import JstuiError
from jstui.nats.session import ConnectionState, ConnectionStatus, Session
from jstui.widgets.status import render_status

if TYPE_CHECKING:
    from textual.screen import Screen

    from jstui.config import Settings
    from jstui.nats.observe.advisories import AdvisoryWatch
    from jstui.nats.observe.deadletters import DeadLetters
    from jstui.nats.observe.observer import Observer


def jetstream_problem(status: ConnectionStatus, shown: str = "the table shows") -> str:
    """What a JetStream pane says about the connection ('' when it can ask the server): the one
    wording for the Streams, Consumers and Key/Value panes; `shown` names what stays on screen."""
    if status.state is ConnectionState.CONNECTED:
        return "" if status.jetstream else sanitize(status.error or "JetStream is not enabled")
    if status.state is ConnectionState.RECONNECTING:
        return f"reconnecting… {shown} the last known state"
    if status.state is ConnectionState.CONNECTING:
        return "connecting…"
    return f"not connected ({status.state.value})"


class SessionHost(Protocol):
    """What a pane needs of the app; keeps widgets from importing the app module."""

    session: Session
    settings: Settings
    observer: Observer
    advisories: AdvisoryWatch
    dead_letters: DeadLetters


class PeriodicPoll:
    """The one way jstui polls: the next run starts a period after the last one *finished*.

    Runs never overlap and a slow run is never cancelled by the next tick (cancelling a request
    half-way is what sets off the nats-py late-PONG bug that `Session` patches). `wake()` runs it
    at once, or as soon as the run in progress ends. ``when`` is asked before every run: a poll
    whose result nobody can see (not connected, a dialog on top) is skipped, not queued.
    Expected failures are the poll's own business; anything else ends the worker and reaches the
    app's central handler.

    The period adapts, so that an idle jstui is idle: a run that returns ``False`` (its answer
    did not change) doubles the period, up to ``longest``; any other result (``True``, ``None``)
    and `wake()` bring it back to ``seconds`` at once, and `hurry()` (the user is active) brings
    it back without running now. A poll that never returns ``False`` keeps a fixed period.
    """

    _all: ClassVar[weakref.WeakSet[PeriodicPoll]] = weakref.WeakSet()

    def __init__(
        self,
        owner: DOMNode,
        seconds: float,
        poll: Callable[[], Awaitable[object]],
        *,
        description: str,
        when: Callable[[], bool] = lambda: True,
        longest: float | None = None,
    ) -> None:
        self.seconds = seconds
        """The base period: while answers change, and after a wake."""
        self.longest = max(seconds, longest or seconds)
        """The longest period unchanged answers stretch it to."""
        self.period = seconds
        """The period now: the wait after the run that just finished."""
        self._poll = poll
        self._when = when
        self._wake = asyncio.Event()
        self._timeout: asyncio.TimerHandle | None = None
        self._finished = 0.0
        self.runs = 0
        PeriodicPoll._all.add(self)
        owner.run_worker(
            self._loop(), group=f"poll {description}", description=description, exit_on_error=False
        )

    def wake(self) -> None:
        """Run now (or when the run in progress ends), and poll at the base period again."""
        self.period = self.seconds
        self._wake.set()

    def hurry(self) -> None:
        """Back to the base period: the next run comes at most `seconds` after the last one."""
        if self.period == self.seconds:
            return
        self.period = self.seconds
        if self._timeout is not None and not self._wake.is_set():
            self._timeout.cancel()
            self._timeout = asyncio.get_running_loop().call_at(
                self._finished + self.seconds, self._wake.set
            )

    @classmethod
    def hurry_all(cls) -> None:
        """Every poll of the process back to its base period (a key pressed, say)."""
        for poll in list(cls._all):
            poll.hurry()

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                self._wake.clear()
                if self._when():
                    self.runs += 1
                    changed = await self._poll()
                    if changed is False and not self._wake.is_set():
                        self.period = min(self.period * 2, self.longest)
                    else:
                        self.period = self.seconds
                # The loop wakes every period even when `when` says no (a hidden pane): a timer
                # handle setting the event costs less than the task asyncio.wait_for makes.
                self._finished = loop.time()
                self._timeout = loop.call_later(self.period, self._wake.set)
                try:
                    await self._wake.wait()
                finally:
                    self._timeout.cancel()
                    self._timeout = None
        finally:
            PeriodicPoll._all.discard(self)


class ReportingErrors:
    """The block of `Pane.reporting_errors`. A class rather than `contextlib.contextmanager`:
    every request's Send path runs one, and the generator's start and end took ~7 us of it
    (measured in the app), against ~1 us for these two calls."""

    __slots__ = ("_pane", "_title")

    def __init__(self, pane: Pane, title: str) -> None:
        self._pane = pane
        self._title = title

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: object
    ) -> bool:
        if isinstance(error, JstuiError):
            self._pane.report_error(error, title=self._title)
            return True  # shown: the block ends here
        return False


class Pane(Vertical):
    """A dashboard pane. Subclasses set the title and help text, and react to connection changes
    in `connection_changed`; the registry gives each its number."""

    PANE_TITLE: ClassVar[str] = ""
    PANE_HELP: ClassVar[str] = ""
    """Plain text for the help screen: what the pane shows and how to read it."""
    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    Pane > .pane-outage { dock: top; height: 1; display: none; }
    Pane.-maximized > .pane-outage.-down { display: block; }
    """
    CHANGING_ACTIONS: ClassVar[frozenset[str]] = frozenset()
    """Actions (names without ``action_``) that change something on the server: publish, create,
    edit, delete, ack, start responders or workers. Read-only mode offers none of them."""

    number: int = 0
    """The pane's number key (1, 2, ...), set by the registry entry that builds the pane."""
    shown: bool = False
    """The pane is on screen (Textual sent Show, and no Hide since): laid out with room."""
    _shown_timers: list[tuple[Timer, Callable[[], object]]] | None = None
    _title_shown = ""
    _outage_line: Static | None = None
    """Made at the first outage; says it while the pane is maximized (see the module's doc)."""

    class ShowRequested(Message):
        """A pane asks to be brought to the front; the dashboard decides what that means (in the
        small layout: the one pane shown) and then calls `then`, if given."""

        def __init__(self, pane: Pane, then: Callable[[], object] | None = None) -> None:
            super().__init__()
            self.pane = pane
            self.then = then

    def on_mount(self) -> None:
        self.show_title(f"{self.number} {self.PANE_TITLE}")

    _home_screen: Screen[object] | None = None

    @property
    def covered(self) -> bool:
        """A dialog (or another screen: the browser's, a form) is over the dashboard: nobody
        sees the pane, and what it would draw waits until it is uncovered. The pane's screen is
        looked up once: `Widget.screen` walks the ancestors, ~10 µs a time on a busy loop (twice
        a request on the request console's Send path)."""
        home = self._home_screen
        if home is None:
            home = self._home_screen = self.screen
        return self.app.screen is not home

    def show_title(self, title: str) -> None:
        """Put `title` in the pane's border, as plain text: it may hold a stream name or a typed
        filter, and a "[...]" in either must not be read as markup. Unchanged, nothing is set
        (setting the border title redraws the pane even when equal)."""
        if title != self._title_shown:
            self._title_shown, self.border_title = title, Text(title)

    def interval_while_shown(self, seconds: float, callback: Callable[[], object]) -> Timer:
        """A timer calling `callback` every `seconds` while the pane is `shown`, paused while it
        is hidden; when the pane is shown again the callback runs at once, to catch up."""
        timer = self.set_interval(seconds, callback, pause=not self.shown)
        if self._shown_timers is None:
            self._shown_timers = []
        self._shown_timers.append((timer, callback))
        return timer

    @on(events.Show)
    def _resume_shown_timers(self) -> None:
        self.shown = True
        for timer, callback in self._shown_timers or ():
            timer.resume()
            self.call_later(callback)

    @on(events.Hide)
    def _pause_shown_timers(self) -> None:
        self.shown = False
        for timer, _callback in self._shown_timers or ():
            timer.pause()

    @property
    def host(self) -> SessionHost:
        return cast(SessionHost, self.app)

    @property
    def session(self) -> Session:
        return self.host.session

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self._show_outage(message.status)
        self.connection_changed(message.status)

    def _show_outage(self, status: ConnectionStatus) -> None:
        if not self.is_attached:
            # Removed (the app is closing, a pane rebuilt) with the news still in its queue:
            # mounting raised MountError, which ended the app with a traceback (seen in CI).
            return
        down = status.state not in (ConnectionState.CONNECTED, ConnectionState.CONNECTING)
        line = self._outage_line
        if down:
            text = render_status(status, rtt=None, usage=None, embedded=False, read_only=False)
            if line is None:  # docked at the top: where it is among the children is no matter
                self._outage_line = line = Static(text, classes="pane-outage", markup=False)
                self.mount(line)
            else:
                line.update(text)
        if line is not None:
            line.set_class(down, "-down")

    def connection_changed(self, status: ConnectionStatus) -> None:
        """Called with every new connection state; the default does nothing."""

    def report_error(self, error: BaseException | str, *, title: str = "") -> None:
        """Tell the user that an action of theirs failed: a notification titled with the pane.

        Errors of a form field are shown under that field by the form instead.
        """
        self.notify(
            sanitize(str(error), max_len=500),
            title=sanitize(title or self.PANE_TITLE),
            severity="error",
            markup=False,
        )

    def reporting_errors(self, *, title: str = "") -> ReportingErrors:
        """``with self.reporting_errors(): ...``: a `JstuiError` inside is shown with
        `report_error` and ends the block; anything else is a bug and propagates."""
        return ReportingErrors(self, title)

    def offers(self, action: str) -> bool:
        """False for an action read-only mode refuses (one of `CHANGING_ACTIONS`)."""
        return not (self.session.read_only and action in self.CHANGING_ACTIONS)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.offers(action)

    def offered(self, commands: Iterable[tuple[str, SystemCommand]]) -> list[SystemCommand]:
        """The palette commands of ``(action, command)`` pairs whose action the pane `offers`."""
        return [command for action, command in commands if self.offers(action)]

    def palette_commands(self) -> list[SystemCommand]:
        """The pane's main actions for the palette (ctrl+p), built with `palette_command` and
        filtered through `offered`."""
        return []

    def offered_actions(self, offers: Iterable[tuple[str, str, str]]) -> list[SystemCommand]:
        """Palette commands for ``(action, title, help)`` triples, each running the pane's
        ``action_<action>``, filtered through `offered`."""
        return self.offered(
            (action, self.palette_command(title, help_text, getattr(self, f"action_{action}")))
            for action, title, help_text in offers
        )

    def writable(self, action: str) -> bool:
        """False (and the refusal shown) when jstui runs read-only."""
        with self.reporting_errors(title="Read-only"):
            self.session.check_writable(action)
            return True
        return False

    def palette_command(
        self, title: str, help_text: str, action: Callable[[], object]
    ) -> SystemCommand:
        """A palette command that brings this pane to the front, then runs `action`: the user
        sees the pane the action works on (and its dialog opens over it)."""

        def show_then_run() -> None:
            self.post_message(self.ShowRequested(self, then=action))

        return SystemCommand(title, help_text, show_then_run)

    def focus_pane(self) -> None:
        """Give focus to the pane's main widget: the first one of the screen's focus chain inside
        the pane. The chain holds only displayed, enabled widgets (focusing one in a hidden tab
        would leave nothing focused)."""
        inside = (widget for widget in self.screen.focus_chain if self in widget.ancestors)
        target = next(inside, None)
        if target is not None:
            target.focus()
        else:
            self.focus()
