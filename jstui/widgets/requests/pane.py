"""The Request/Reply pane: a console for requests and the responders jstui runs.

`render` builds the text of the detail and the rows (pure); `history`, `stats` and `responders`
hold the three tabs' tables; `help` the help text.

Three tabs: History (one row per request, the selected one in full below), Stats (latency per
subject with a sparkline) and Responders (jstui's responders with their counters). The service
objects (`RequestConsole`, `ResponderManager`) own the data; NATS callbacks only append to it and
bump counters. A request is a task sent on the key; its outcome is drawn the moment it is known
(row, detail, summary), and a 2 Hz timer, paused while nothing can change, redraws the rest.

The `--responder` responders start once connected; a stored one whose stream does not exist yet
waits for it (`wait_for_stream`), and the pane says "waiting for a stream on SUBJECT" meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from jstui.format.payload import PayloadView, next_view, render_payload
from jstui.format.text import sanitize
from jstui.nats.errors import JstuiError, ValidationError
from jstui.nats.requests.console import RequestConsole
from jstui.nats.requests.record import RequestRecord
from jstui.nats.requests.saved import SavedRequests
from jstui.nats.requests.spec import RequestSpec
from jstui.nats.responders.running import Responder, ResponderManager
from jstui.nats.responders.spec import ResponderMode, ResponderSpec, parse_responder_option
from jstui.nats.session import ConnectionState, ConnectionStatus
from jstui.nats.stream_lookup import wait_for_stream
from jstui.widgets.base import Pane
from jstui.widgets.requests.help import REQUESTS_HELP
from jstui.widgets.requests.history import HistoryTable
from jstui.widgets.requests.render import render_record, status_style
from jstui.widgets.requests.responders import ResponderTable
from jstui.widgets.requests.stats import StatsView
from jstui.widgets.requests.watch import RequestWatchView

REFRESH_SECONDS = 0.5
HISTORY_ROWS = 200
"""Requests kept and listed; the oldest go first."""
BURST_REDRAW_SECONDS = 1.0
BURST_ROWS = 20
"""More history rows than this came or went between two redraws: a script, not a person."""
SOON_SECONDS = 0.05
WATCH_HELP = "Other programs' requests on a subject, matched with their replies"
WATCH_STOP = "Unsubscribe from the watched subject and its reply inboxes"


class RequestsPane(Pane):
    PANE_TITLE = "Request/Reply"
    PANE_HELP = REQUESTS_HELP

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_request", "New request"),
        Binding("r", "resend", "Re-send"),
        Binding("e", "edit_request", "Edit & send"),
        Binding("a", "add_responder", "Start responders"),
        Binding("x", "stop_responder", "Stop responder"),
        Binding("t", "next_tab", "Next tab"),
        Binding("w", "watch_requests", "Watch requests"),
        Binding("v", "cycle_view", "Payload view", show=False),
        Binding("c", "clear_history", "Clear history", show=False),
    ]
    CHANGING_ACTIONS = frozenset({"add_responder"})
    """Requests are checked one by one (`RequestConsole.check_allowed`): most change nothing.
    Watching requests only subscribes, so read-only mode allows it."""
    TABS = ("history", "stats", "responders", "watch")

    has_responders: var[bool] = var(False, toggle_class="-has-responders")
    """Some responder runs or ran: the table replaces the hint of the Responders tab."""

    saved_requests_dir: ClassVar[Path | None] = None
    """Where saved requests live; None is the user's config directory (tests point it elsewhere)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.console: RequestConsole | None = None
        self.responders: ResponderManager | None = None
        self.saved = SavedRequests(self.saved_requests_dir)
        self._seen_version = -1
        """The console's version the history shows."""
        self._detail_key: tuple[int, int, PayloadView | None] | None = None
        self._view: PayloadView | None = None
        self._detail_view_used: PayloadView | None = None
        self._history_drawn_at = 0.0
        """When the history's rows were last brought up to date (monotonic seconds)."""
        self._soon_timer: Timer | None = None
        self._asleep = False  # the 2 Hz redraw is paused: all is drawn (`_tick`, `_wake`)
        self._outcome_drawn_at = 0.0
        """When a redraw last showed a new outcome (monotonic seconds), and which one: only those
        count for the burst rule, so a waiting row drawn just before does not hold back the reply
        that follows it."""
        self._outcome_drawn: RequestRecord | None = None
        self._sending: set[asyncio.Task[RequestRecord]] = set()
        """Requests in flight (plain tasks, cancelled when the pane goes)."""
        self._started_from_settings = False
        self._last_record: RequestRecord | None = None
        self._waiting: dict[str, str] = {}
        """--responder options waiting for their stream, with what they wait for."""

    def compose(self) -> ComposeResult:
        watching = "requests-watch-tab" if self.host.settings.watch_requests else ""
        with TabbedContent(id="requests-tabs", initial=watching):  # (opens on the watch)
            with TabPane("History", id="requests-history-tab"):
                yield HistoryTable(id="requests-history")
                with VerticalScroll(id="requests-detail-box"):
                    yield Static(
                        Text("No requests yet: press n to send one.", style="dim"),
                        id="requests-detail",
                        markup=False,
                    )
            with TabPane("Stats", id="requests-stats-tab"):
                yield StatsView(id="requests-stats-view")
            with TabPane("Responders", id="requests-responders-tab"):
                yield ResponderTable(id="requests-responders")
                yield Static(
                    Text("No responders: press a to start some.", style="dim"),
                    id="requests-responders-hint",
                    markup=False,
                )
            with TabPane("Watch", id="requests-watch-tab"):
                yield RequestWatchView(id="requests-watch-view")
        yield Static("", id="requests-summary", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        # What every request draws into, looked up once: a `query_one` walks the pane's widgets
        # and matches a selector each time, a measurable part of the Send path.
        try:
            self._tabs = self.query_one(TabbedContent)
            self._history = self.query_one(HistoryTable)
            self._detail = self.query_one("#requests-detail", Static)
            self._summary = self.query_one("#requests-summary", Static)
            self.watch_view = self.query_one(RequestWatchView)
        except NoMatches:
            return  # mounted while the app quits, before all of its widgets: nothing to set up
        self.console = RequestConsole(self.session, max_history=HISTORY_ROWS)
        self.responders = ResponderManager(self.session)
        self._refresh_timer = self.set_interval(REFRESH_SECONDS, self._tick)
        self._show_summary()
        if self.session.status.state is ConnectionState.CONNECTED:
            self.connection_changed(self.session.status)

    def focus_pane(self) -> None:
        self._tab_table(self.query_one(TabbedContent).active).focus()

    def _tab_table(self, tab_id: str) -> DataTable[Any]:
        """The table of a tab: what gets the focus when the tab is shown."""
        tab = tab_id.removeprefix("requests-").removesuffix("-tab")
        return self.query_one(f"#requests-{tab if tab in self.TABS else 'history'}", DataTable)

    def connection_changed(self, status: ConnectionStatus) -> None:
        if self.is_mounted:
            self._sync_responders()  # "waiting: connection lost since ...", or running again
        if status.state in (ConnectionState.CLOSED, ConnectionState.FAILED):
            # nats-py gave up (or the server is gone for good): nothing answers any more
            if self.responders is not None:
                self.responders.connection_lost("connection closed")
                self.refresh_views()
            return
        if status.state is ConnectionState.CONNECTED and not self._started_from_settings:
            self._started_from_settings = True
            if subject := self.host.settings.watch_requests:
                self.watch_view.start(subject)
            for option in self.host.settings.responders:
                try:
                    spec = parse_responder_option(option)
                except ValidationError as error:
                    self.report_error(error, title="--responder")
                    continue
                self._start_from_settings(option, spec)

    @work(group="responders-startup", exit_on_error=False, description="start a --responder")
    async def _start_from_settings(self, option: str, spec: ResponderSpec) -> None:
        """Start a --responder; a stored one first waits for the stream of its subject."""
        if spec.mode is ResponderMode.STORED:
            try:
                await wait_for_stream(
                    self.session,
                    spec.subject,
                    stream=spec.stream,
                    waiting=partial(self._show_waiting, option),
                )
            except JstuiError as error:
                self.report_error(f"{option}: {error}", title="--responder")
                return
            finally:
                if self.is_mounted:  # (not when the app closes while it waits)
                    self._show_waiting(option, "")
        self.start_responders(spec)

    def _show_waiting(self, option: str, text: str) -> None:
        """Say in the summary line (seen from every tab) which --responder waits, and why."""
        if text:
            self._waiting[option] = text
        else:
            self._waiting.pop(option, None)
        self._show_summary()

    def palette_commands(self) -> list[SystemCommand]:
        stop_all = self.palette_command(
            "Stop all responders", "Stop every responder jstui runs", self.stop_all_responders
        )
        commands = self.offered_actions(
            [
                ("new_request", "New request", "Send a request, gather or stored request"),
                ("add_responder", "Start responders", "Answer requests from jstui"),
                ("watch_requests", "Watch requests on a subject…", WATCH_HELP),
                ("clear_history", "Clear request history", "Forget the history and statistics"),
            ]
        ) + self.offered([("stop_responder", stop_all)])
        if self.watch_view.watching:
            stop = self.watch_view.stop
            commands.append(self.palette_command("Stop watching requests", WATCH_STOP, stop))
        return commands

    # -- actions -------------------------------------------------------------------------------

    def action_new_request(self) -> None:
        self._open_form(None)

    def action_edit_request(self) -> None:
        record = self.selected_record()
        if record is None:
            self.notify("Select a request in the history first.", severity="warning")
            return
        self._open_form(record.spec)

    def action_resend(self) -> None:
        record = self.selected_record()
        if record is None:
            self.notify("Select a request in the history first.", severity="warning")
            return
        self.send_request(record.spec)

    def _open_form(self, spec: RequestSpec | None) -> None:
        from jstui.dialogs.request_form import RequestFormScreen  # on first use (start-up)

        def closed(sent: RequestSpec | None) -> None:
            if sent is not None:
                self._draw_now()  # with the reply when it came while the form waited

        form = RequestFormScreen(self.saved, spec, send=self.send_request)
        self.app.push_screen(form, closed)

    def action_add_responder(self) -> None:
        from jstui.dialogs.responder_form import ResponderFormScreen  # on first use (start-up)

        record = self._last_record
        members = list(self.responders or ())
        subject = record.spec.subject if record else members[-1].spec.subject if members else ""

        def started(result: ResponderSpec | None) -> None:
            if result is not None:
                self.start_responders(result)
                self._show_tab("requests-responders-tab")

        self.app.push_screen(ResponderFormScreen(subject), started)

    def action_stop_responder(self) -> None:
        table = self.query_one(ResponderTable)
        tabs = self.query_one(TabbedContent)
        if tabs.active != "requests-responders-tab":
            self._show_tab("requests-responders-tab")
            self.notify("Select a responder, then press x to stop it.", severity="information")
            return
        responder_id = table.selected_id
        if responder_id is None or self.responders is None:
            self.notify("No responders to stop.", severity="warning")
            return
        stopped = self.responders.stop(responder_id)
        if stopped is not None:
            self.notify(f"Stopped {sanitize(stopped.name)}", markup=False)
        self.refresh_views()

    def stop_all_responders(self) -> None:
        if self.responders is not None:
            self.responders.stop_all()
            self.refresh_views()

    def _show_tab(self, tab_id: str) -> None:
        # After a dialog closes, Textual gives the focus back to the widget that had it, and
        # TabbedContent follows the focus: switch once that is done, and move the focus along.
        def switch() -> None:
            self._tabs.active = tab_id
            # Focus the shown tab's table at once, not later: the hidden tab's focused widget
            # would hand the focus to a sibling in its own tab, and the tab follow it back.
            self.screen.set_focus(self._tab_table(tab_id))

        if self._tabs.active != tab_id or self.covered:
            self.call_after_refresh(switch)

    def action_watch_requests(self) -> None:
        from jstui.dialogs.watch_requests_form import WatchChoice, WatchRequestsFormScreen

        view = self.watch_view
        record = self._last_record
        subject = view.watching or (view.request_watch.subject if view.request_watch else "")
        subject = subject or (record.spec.subject if record else "")

        def chosen(choice: WatchChoice | None) -> None:
            if choice is not None and choice.stop:
                view.stop()
            elif choice is not None:
                view.start(choice.subject, choice.window)
                self._show_tab("requests-watch-tab")

        form = WatchRequestsFormScreen(subject, view.window, view.watching)
        self.app.push_screen(form, chosen)

    def on_request_watch_view_changed(self, event: RequestWatchView.Changed) -> None:
        """The title says what the pane watches (seen whichever tab is shown)."""
        watching = f" · watching {sanitize(event.subject, max_len=60)}" if event.subject else ""
        self.show_title(f"{self.number} {self.PANE_TITLE}{watching}")

    def action_next_tab(self) -> None:
        order = [f"requests-{tab}-tab" for tab in self.TABS]
        tabs = self.query_one(TabbedContent)
        tabs.active = order[(order.index(tabs.active) + 1) % len(order)]
        self.focus_pane()

    def action_cycle_view(self) -> None:
        current = self._view or (self._detail_view_used or PayloadView.TEXT)
        self._view = next_view(current)
        self.notify(f"Payloads shown as {self._view.value}", timeout=2)
        self._update_detail(force=True)

    def action_clear_history(self) -> None:
        if self.console is None:
            return
        self.console.clear()
        self.query_one(HistoryTable).forget()
        self.query_one(StatsView).forget()
        self._last_record = None
        self._detail_key = None
        self.refresh_views()

    # -- sending and starting (workers) --------------------------------------------------------

    def send_request(self, spec: RequestSpec) -> asyncio.Task[RequestRecord]:
        """Send `spec` now; its row appears in the history, selected, and its outcome is drawn as
        soon as it is known (`_sent`). A plain task on the console's own coroutine: a Textual
        worker costs state messages and a turn, and a wrapping coroutine another frame on the
        path the user waits for (its name too: the task's repr names `RequestConsole.send`)."""
        assert self.console is not None
        self._history.follow_next = True
        self._show_tab("requests-history-tab")
        self._soon()  # the row appears while the request waits (a gather can take seconds)
        task = asyncio.get_running_loop().create_task(self.console.send(spec))
        self._sending.add(task)
        task.add_done_callback(self._sent)
        self._wake()
        return task

    def _sent(self, task: asyncio.Task[RequestRecord]) -> None:
        """Draw the outcome; it runs before whoever awaits the task wakes. A request read-only
        mode refused (`ReadOnlyError`) was never sent; anything else raised is a bug, shown."""
        self._sending.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            self._last_record = task.result()
            try:
                self._draw_outcome()
            except Exception as failed:  # a bug: shown, not left to asyncio's handler (stderr)
                self.report_error(f"drawing the outcome failed: {failed}", title="Request")
        elif isinstance(error, JstuiError):
            self.report_error(error, title="Request refused")
        else:
            self.report_error(f"the request failed: {error}", title="Request")

    def on_unmount(self) -> None:
        for task in self._sending:  # (a worker would be cancelled by Textual)
            task.cancel()

    def _draw_outcome(self) -> None:
        """Draw a finished request now (its row, the detail, the summary): the reply is what the
        user waits for. A burst (a held key, a script) is redrawn once per SOON_SECONDS instead
        (its history rows once a second when they come by the dozen: `_in_burst`), and the
        statistics, graph and responders follow on the timer."""
        if self.covered:
            return  # under the form that sent it: drawn as the form closes
        if time.monotonic() - self._outcome_drawn_at < SOON_SECONDS:
            self._soon()
            return
        self._draw_now()

    def _draw_now(self) -> None:
        if self._soon_timer is not None:  # (set when the request was sent: no longer needed)
            self._soon_timer.stop()
            self._soon_timer = None
        self._note_outcome_drawn()
        self._show_summary()
        self._sync_history()
        history = self._history  # (a row added under a dialog: scroll to it)
        if history.row_count:
            history.move_cursor(row=history.cursor_row, animate=False)

    def _soon(self) -> None:
        """Redraw shortly: a request still waiting shows its row to a person at once, while a
        burst (a held key, many requests in flight) coalesces into one redraw per SOON_SECONDS."""
        if self._soon_timer is None:
            self._soon_timer = self.set_timer(SOON_SECONDS, self._redraw_soon)

    def _redraw_soon(self) -> None:
        self._soon_timer = None
        if self.covered:
            return  # the form that sent it is still closing: it draws as it closes
        self._note_outcome_drawn()
        self._show_summary()
        self.refresh_views()

    def _note_outcome_drawn(self) -> None:
        if self._last_record is not self._outcome_drawn:
            self._outcome_drawn = self._last_record
            self._outcome_drawn_at = time.monotonic()

    def start_responders(self, spec: ResponderSpec) -> None:
        """Start `spec.count` responders, each one a worker on the shared connection."""
        self._start(spec)

    @work(group="responders-start", exit_on_error=False, description="start responders")
    async def _start(self, spec: ResponderSpec) -> None:
        assert self.responders is not None
        with self.reporting_errors(title="Responder not started"):
            await self.responders.start(spec, runner=self._run_responder)
        self.refresh_views()
        self._wake()

    def _run_responder(self, responder: Responder) -> None:
        self.run_worker(
            responder.run(),
            group="responders",
            exit_on_error=False,
            description=f"responder {responder.name} on {sanitize(responder.spec.subject)}",
        )

    # -- redraw (timer) ------------------------------------------------------------------------

    def _tick(self) -> None:
        """The 2 Hz redraw; it stops when all is drawn and nothing can change (`_wake` restarts)."""
        if self.covered:
            return  # catch up once uncovered
        self.refresh_views()
        members = self.responders.responders if self.responders is not None else {}
        running = any(member.running for member in members.values())
        drawn = self.console is None or self.console.version == self._seen_version
        if drawn and not self._sending and not running:
            self._refresh_timer.pause()
            self._asleep = True

    def _wake(self) -> None:
        """Restart the 2 Hz redraw, its first tick a period from now. A paused Textual timer
        whose wait has run out ticks at once when resumed: every request then drew its row as
        "waiting", and its reply a moment later, two relayouts of the screen for one request."""
        if self._asleep:
            self._asleep = False
            self._refresh_timer.reset()

    def on_show(self) -> None:
        if self.console is not None:  # catch up with what changed while hidden (a small terminal)
            self.refresh_views()
            self._wake()

    def selected_record(self) -> RequestRecord | None:
        selected = self._history.selected_id
        if self.console is None or selected is None:
            return None
        return self.console.get(selected)

    def refresh_views(self) -> None:
        """Redraw what changed since the last call (called at 2 Hz and after actions). The
        statistics are drawn only while their tab shows: in a burst of requests every subject's
        percentiles and row were redrawn at each redraw, for a tab nobody saw."""
        self._sync_history()
        if self._tabs.active == "requests-stats-tab" and self.console is not None:
            self.query_one(StatsView).sync(self.console)
        self._sync_responders()

    @on(TabbedContent.TabActivated, "#requests-tabs")
    def _tab_shown(self) -> None:
        self.refresh_views()  # the statistics catch up with what came while hidden

    def _sync_history(self) -> None:
        """Bring the history rows and the detail up to date."""
        if self.console is None or not self.display:
            return  # hidden (another pane shown on a small terminal): catch up when shown
        if self.console.version == self._seen_version:
            return
        records = self.console.history
        history = self._history
        gone = [record_id for record_id in history.shown if record_id not in records]
        added = len(records) - (len(history.shown) - len(gone))
        if self._in_burst(len(gone) + added):
            return
        self._seen_version = self.console.version
        self._history_drawn_at = time.monotonic()
        history.sync(records, self.app.theme_variables, gone)
        self._update_detail()

    def _sync_responders(self) -> None:
        if self.responders is None:
            return
        members = self.responders.responders
        error_style = f"bold {self.app.theme_variables.get('error', 'red')}"
        self.query_one(ResponderTable).sync(members, error_style)
        self.has_responders = bool(members)
        running = sum(1 for r in members.values() if r.running)
        label = f"Responders {running}" if running else "Responders"
        try:
            tab = self._tabs.get_tab("requests-responders-tab")
        except NoMatches:  # its tabs are not mounted yet (start-up, quit): the next tick labels it
            return
        if str(tab.label) != label:
            tab.label = label

    def _in_burst(self, rows: int) -> bool:
        """True while requests pour in faster than a human sends them (a script, a benchmark):
        more than BURST_ROWS rows came or went since the history was drawn, and that was less
        than BURST_REDRAW_SECONDS ago. Nobody reads rows at that rate, and each redraw of dozens
        of new rows (the table, the detail, a layout) took ~15 ms, redone at every SOON_SECONDS:
        half of the UI loop's time. The history is then drawn once a second; the summary line
        shows each outcome as it comes."""
        if rows <= BURST_ROWS:
            return False
        return time.monotonic() - self._history_drawn_at < BURST_REDRAW_SECONDS

    # -- detail --------------------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#requests-history")
    def _history_highlighted(self) -> None:
        self._update_detail()

    def _update_detail(self, force: bool = False) -> None:
        record = self.selected_record()
        detail = self._detail
        if record is None:
            if self._detail_key is not None or force:
                detail.update(Text("No requests yet: press n to send one.", style="dim"))
            self._detail_key = None
            return
        key = (record.id, record.version, self._view)
        if key == self._detail_key and not force:
            return
        if self._detail_key is None or self._detail_key[0] != record.id:
            self.query_one("#requests-detail-box", VerticalScroll).scroll_home(animate=False)
        self._detail_key = key
        shown = detail.content_size
        detail.update(render_record(record, self._view), layout=False)
        # As many lines as before (one reply after another): no relayout of the whole screen
        # (~5 ms a request). The width is fixed by then (the box keeps its scrollbar's room).
        if not shown.width or detail.get_content_height(shown, shown, shown.width) != shown.height:
            detail.refresh(layout=True)
        self._detail_view_used = self._view or render_payload(record.spec.payload[:1024])[0]

    def _show_summary(self) -> None:
        summary = self._summary
        record = self._last_record
        if self._waiting:
            waiting = " · ".join(self._waiting.values())
            summary.update(Text(sanitize(f"--responder: {waiting}", max_len=300)), layout=False)
            return
        if record is None:
            summary.update(
                Text("n new request · a start responders · w watch requests · t next tab", "dim"),
                layout=False,
            )
            return
        text = Text("last: ", style="dim")
        text.append(
            sanitize(record.summary(), max_len=300),
            style=status_style(record, self.app.theme_variables),
        )
        summary.update(text, layout=False)  # one line, fixed height: no relayout needed
