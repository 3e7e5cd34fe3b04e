"""The Textual application: owns the settings, the embedded server handle and the one Session."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from pathlib import PurePath
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from jstui.config import Settings
from jstui.dashboard import DashboardScreen
from jstui.format.redact import redact_url
from jstui.format.text import sanitize
from jstui.gctuning import CollectorTuning
from jstui.messages import ConnectionChanged
from jstui.nats.embedded import EmbeddedServer, EmbeddedServerError
from jstui.nats.errors import ConnectError, JstuiError
from jstui.nats.outages import EmbeddedWatch, explain_closed_connection
from jstui.nats.session import Clocks, ConnectionState, ConnectionStatus, Outage, Session
from jstui.paths import app_stylesheet
from jstui.widgets.base import Pane
from jstui.widgets.registry import PANES

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.widget import AwaitMount

    from jstui.dialogs.help import KeySection
    from jstui.nats.observe.advisories import AdvisoryWatch
    from jstui.nats.observe.deadletters import DeadLetters
    from jstui.nats.observe.observer import Observer
    from jstui.nats.observe.system import SystemConnection

EXIT_CANNOT_CONNECT = 2
EXIT_MOUNT_WAIT = 1.0
"""At most this long a quit waits for panes being built (SIGTERM's deadline is 1.5 s)."""


def describe_user(user: object) -> str:
    """What a `ConnectionUser` that could not follow a switch was, in a few words."""
    spec = getattr(user, "spec", None)
    subject = getattr(spec, "subject", "")
    kind = {"Feed": "feed", "WorkerPool": "worker pool"}.get(type(user).__name__, "")
    return f"{kind or type(user).__name__} on {subject}" if subject else type(user).__name__


def session_for(settings: Settings, clocks: Clocks | None = None) -> Session:
    """The app's one connection, configured from the resolved settings; it carries the clocks
    every pane reads the time from (the system's unless a test hands in stopped ones)."""
    return Session(
        servers=list(settings.servers),
        connect_options=settings.connect_options(),
        jetstream_options=settings.jetstream_options(),
        read_only=settings.read_only,
        clocks=clocks or Clocks(),
    )


def system_connection_for(settings: Settings) -> SystemConnection | None:
    """The system user's connection when there are credentials for it (the embedded server
    always has), for the `Observer`."""
    from jstui.nats.observe.system import SystemConnection  # (see `JstuiApp.observer`)

    if settings.system is None:
        return None
    return SystemConnection(settings.system.servers, settings.system.connect_options())


def observer_for(settings: Settings, session: Session) -> Observer:
    """The app's one `Observer`: the system user's connection, the monitoring URLs, else a probe
    of port 8222."""
    from jstui.nats.observe.observer import Observer  # (see `JstuiApp.observer`)

    system = system_connection_for(settings)
    return Observer(session, monitor_urls=settings.monitor_urls, system=system)


class JstuiApp(App[int]):
    """jstui. `embedded` is the server jstui started itself, if any (shown in the status line);
    `clocks` is where every time, age, rate and round-trip time shown is read from; `collector`
    the garbage-collector tuning, applied after the first frame (the command paused it)."""

    TITLE = "jstui"
    CSS_PATH: ClassVar[list[str | PurePath]] = [app_stylesheet()]
    """The panes' own stylesheets are read as each is first built (`DashboardScreen`)."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        embedded: EmbeddedServer | None = None,
        clocks: Clocks | None = None,
        collector: CollectorTuning | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.embedded = embedded
        self.session = session_for(settings, clocks)
        self.session.add_listener(self._on_session_status)
        self._observer_started = False
        self._asked: Outage | None = None
        """The last outage whose cause the server was asked for."""
        self._first_connect: asyncio.Future[None] | None = None
        """The connection attempt started at load, until the connect worker awaits it."""
        self.dashboard = DashboardScreen()
        self.collector = collector or CollectorTuning()
        self._exit_after_mounts: asyncio.Future[None] | None = None
        """`exit` waiting for panes under way to mount (held so that the task is not lost)."""
        self._unmounted = False
        if settings.theme:
            self.theme = settings.theme

    # The observation services are made when first asked for, after the first frame (the
    # observer starts once "connected" is drawn, the panes that ask are built after it): their
    # modules are a tenth of what start-up imports before that frame.

    @cached_property
    def observer(self) -> Observer:
        """The app's one view of the server (system account, monitoring): `observer_for`."""
        return observer_for(self.settings, self.session)

    @cached_property
    def advisories(self) -> AdvisoryWatch:
        """JetStream advisories of the account, on the shared connection (Events, Workers)."""
        from jstui.nats.observe.advisories import AdvisoryWatch

        return AdvisoryWatch()

    @cached_property
    def dead_letters(self) -> DeadLetters:
        """Messages a consumer gave up on, from the advisories (Workers)."""
        from jstui.nats.observe.deadletters import DeadLetters
        from jstui.nats.streams.service import StreamService

        return DeadLetters(self.advisories, StreamService(self.session))

    def get_default_screen(self) -> Screen[None]:
        return self.dashboard

    def on_load(self) -> None:
        # Reaching the server is round trips (and the embedded server's boot): started before
        # the screen is composed, they overlap with that work instead of following it. The
        # connect worker, started once the app is mounted, takes the outcome.
        self._first_connect = asyncio.ensure_future(self._reach_server())

    def on_mount(self) -> None:
        self._connect()
        self.call_after_refresh(self._tune_collector)  # once the first screen is built

    async def _reach_server(self) -> None:
        if self.embedded is not None:  # started in the background while the UI was imported
            await asyncio.to_thread(self.embedded.wait_until_ready)
        await self.session.connect()

    def exit(
        self, result: int | None = None, return_code: int = 0, message: RenderableType | None = None
    ) -> None:
        """Exit once the panes being built have mounted (the grid's are built after the first
        frame: a quit right after it, SIGTERM or ctrl+q, would close a pane mid-mount)."""
        mounting = self.dashboard.stop_building()
        if not mounting:
            super().exit(result, return_code, message)
            return

        async def exit_once_mounted() -> None:
            async def mounted(awaited: AwaitMount) -> None:
                await awaited

            # bounded: a mount that never completes must not keep jstui from quitting
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    asyncio.gather(*(mounted(each) for each in mounting)), EXIT_MOUNT_WAIT
                )
            super(JstuiApp, self).exit(result, return_code, message)

        self._exit_after_mounts = asyncio.ensure_future(exit_once_mounted())

    def _tune_collector(self) -> None:
        if not self._unmounted:  # an app that quits at once must not leave the process tuned
            self.collector.apply()

    async def on_unmount(self) -> None:
        self._unmounted = True
        if self._first_connect is not None:  # quit before the connect worker took it over
            self._first_connect.cancel()
            with contextlib.suppress(BaseException):
                await self._first_connect
        self.collector.restore()
        made = vars(self)  # (a service never asked for was never made: nothing to stop)
        if "advisories" in made:
            await self.advisories.stop()
        if "observer" in made:
            await self.observer.close()
        await self.session.close()

    def _on_session_status(self, status: ConnectionStatus) -> None:
        self.dashboard.post_message(ConnectionChanged(status))
        if status.state is not ConnectionState.CONNECTED:
            return
        if not self._observer_started:
            self._observer_started = True  # once: the sources outlive reconnects
            # After the frame that shows "connected" (queued behind the message above): finding
            # the sources imports httpx and makes a client (~50 ms). A pane that asks earlier
            # starts them itself (`Observer._sources_found`).
            self.dashboard.call_after_refresh(self._start_observer)
            if self.embedded is not None:
                watch = EmbeddedWatch(self.embedded, self.session)
                self.run_worker(watch.run(), group="embedded-watch", exit_on_error=False)
        outage = status.outage
        if outage is not None and outage.back and not outage.cause and outage is not self._asked:
            self._asked = outage  # once per outage: its cause comes back as a new status
            self._ask_why_closed()

    @work(group="outage", exit_on_error=False, description="ask why the connection closed")
    async def _ask_why_closed(self) -> None:
        if not self._unmounted:  # (a late start would make an observer nobody closes)
            await explain_closed_connection(self.session, self.observer)

    @work(group="observer", exit_on_error=False, description="find the observation sources")
    async def _start_observer(self) -> None:
        if self._unmounted:  # (a late start would make services nobody stops)
            return
        await self.advisories.start(self.session)
        await self.observer.start()

    @work(exclusive=True, group="connect", exit_on_error=False, description="connect to NATS")
    async def _connect(self) -> None:
        first, self._first_connect = self._first_connect, None
        try:
            await (first if first is not None else self._reach_server())
        except EmbeddedServerError as error:
            self.exit(return_code=1, message=f"jstui: {error}")
        except ConnectError as error:
            from jstui.dialogs.connect_failed import ConnectFailedScreen  # rarely needed

            retry = await self.push_screen_wait(ConnectFailedScreen(str(error)))
            if retry:
                self._connect()
            else:
                self.exit(return_code=EXIT_CANNOT_CONNECT, message=str(error))

    @on(Worker.StateChanged)
    def _report_worker_error(self, event: Worker.StateChanged) -> None:
        """The one place where a failed worker becomes a message for the user."""
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        text = str(error) if isinstance(error, JstuiError) else f"{type(error).__name__}: {error}"
        self.notify(sanitize(redact_url(text)), title="Error", severity="error", markup=False)

    async def action_help(self) -> None:
        from jstui.dialogs.help import HelpScreen  # dialogs load when first opened

        await self.dashboard.build_all_panes()  # the help lists the keys of every pane
        self.push_screen(HelpScreen(self._key_sections(), self._pane_notes()))

    def _key_sections(self) -> list[KeySection]:
        general: list[tuple[str, str]] = [
            *((entry.key, f"show the {entry.title} pane") for entry in PANES),
            ("tab / shift+tab", "move the focus to the next / previous widget"),
            ("z", "maximize the focused pane, or restore the layout"),
            ("?", "this help"),
            ("ctrl+p", "command palette: main actions, themes"),
            ("ctrl+q", "quit"),
        ]
        sections: list[KeySection] = [("Everywhere", general)]
        for pane in self.dashboard.built_panes:  # all of them once `action_help` built them
            sections.append((pane.PANE_TITLE, _bindings_of([pane, *pane.query("*")])))
        return sections

    def _pane_notes(self) -> list[tuple[str, str]]:
        return [(pane.PANE_TITLE, pane.PANE_HELP) for pane in self.dashboard.built_panes]

    @work(group="reconnect", exit_on_error=False, description="reconnect now")
    async def action_reconnect(self) -> None:
        if not await self.session.reconnect_now():
            self.notify("Not connected: jstui is already trying to connect.", severity="warning")

    async def switch_connection(self, flags: Mapping[str, str | None]) -> str:
        """Move jstui to the server or natscli context of `flags` (from the palette's dialogs):
        the session switches (every feed and pool follows or stops saying why), then what
        hangs on the connection beyond it: advisories, the observer (system connection,
        monitoring), the embedded server's watch, the status line. Returns what to tell the
        user; raises `ConfigError` or `ConnectError` when nothing changed."""
        from jstui.config.resolve import switch_target  # only when switching

        target = await asyncio.to_thread(switch_target, self.settings, flags)  # reads files
        stopped = await self.session.switch_to(
            target.servers, target.connect_options(), target.jetstream_options()
        )
        self.settings = target
        if self.embedded is not None:  # the server jstui started is no longer the one used
            self.workers.cancel_group(self, "embedded-watch")
        await self.advisories.stop()
        with contextlib.suppress(JstuiError):
            await self.advisories.start(self.session)
        await self.observer.retarget(
            monitor_urls=target.monitor_urls, system=system_connection_for(target)
        )
        self._start_observer()
        self.dashboard.connection_target_changed(target.context, embedded=False)
        where = f"context {target.context}" if target.context else self.session.shown_servers
        said = [f"Connected to {where}."]
        said += [f"Stopped: {describe_user(user)}: {why}" for user, why in stopped.items()]
        return sanitize(" ".join(said), max_len=2000)

    @work(group="connect-to", exit_on_error=False, description="connect to a server")
    async def action_connect_server(self) -> None:
        from jstui.dialogs.connect_to import ConnectServerScreen  # dialogs load when opened

        said = await self.push_screen_wait(ConnectServerScreen(self.switch_connection))
        if said:
            self.notify(said, title="Connection", markup=False)

    @work(group="connect-to", exit_on_error=False, description="connect to a context")
    async def action_connect_context(self) -> None:
        from jstui.config.context import context_names, default_config_home
        from jstui.dialogs.connect_to import ContextChooserScreen

        names = context_names(default_config_home())
        chooser = ContextChooserScreen(self.switch_connection, names, self.settings.context)
        said = await self.push_screen_wait(chooser)
        if said:
            self.notify(said, title="Connection", markup=False)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Show every key", self.action_help)
        yield SystemCommand(
            "Reconnect now",
            "Drop the connection and connect again (another server of the cluster first)",
            self.action_reconnect,
        )
        yield SystemCommand(
            "Connect to server…",
            "Switch jstui to another server (URL, credentials optional); every pane follows",
            self.action_connect_server,
        )
        yield SystemCommand(
            "Connect to context…",
            "Switch jstui to one of the natscli contexts saved here; every pane follows",
            self.action_connect_context,
        )
        for entry in PANES:
            yield SystemCommand(
                entry.palette_title,
                entry.palette_help,
                _caller(self.dashboard.action_show_pane, entry.number),
            )
            yield from self.dashboard.pane(entry.number).palette_commands()


def _caller(function: Callable[[int], object], argument: int) -> Callable[[], None]:
    def call() -> None:
        function(argument)

    return call


def _bindings_of(widgets: Iterable[object]) -> list[tuple[str, str]]:
    """Keys a pane and its jstui widgets bind, for the help screen (Textual's own are left out)."""
    seen: set[tuple[str, str]] = set()
    keys: list[tuple[str, str]] = []
    for widget in widgets:
        # Each jstui class's own BINDINGS, not inherited ones: a jstui subclass of a Textual
        # widget (ResponderTable is a DataTable) must not list the DataTable's cursor keys.
        own = (
            cls.__dict__.get("BINDINGS", [])
            for cls in type(widget).__mro__
            if cls.__module__.startswith("jstui.")
        )
        for binding in (binding for bindings in own for binding in bindings):
            if not isinstance(binding, Binding) or not binding.description:
                continue
            key = binding.key_display or binding.key
            entry = (key, binding.description)
            if entry not in seen:
                seen.add(entry)
                keys.append(entry)
    return keys


__all__ = ["EXIT_CANNOT_CONNECT", "JstuiApp", "Pane", "session_for"]
