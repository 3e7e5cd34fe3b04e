"""The Streams pane: a live table of the server's streams, the selected stream's configuration,
state and consumers, and the keys that create, edit, purge, delete and browse streams.

Data flow: a `PeriodicPoll` asks the server for the stream list about once a second (and for the
selected stream's consumers), then diffs the keyed table rows in place inside `app.batch_update()`,
so the cursor and the scroll position survive every refresh. A change made here wakes the poll at
once. What a row and the detail show is built by `render` (pure); every string that came from the
server is sanitized there and handed to widgets as rich `Text`, never as markup.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.coordinate import Coordinate
from textual.css.query import NoMatches
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import DataTable, Static

from jstui.format.text import sanitize
from jstui.format.units import format_count
from jstui.nats.errors import translate
from jstui.nats.names import fits_api_subject
from jstui.nats.session import ConnectionState, ConnectionStatus
from jstui.nats.streams.service import StreamService
from jstui.nats.streams.spec import StreamSpec
from jstui.nats.streams.summaries import ConsumerSummary, StreamSummary
from jstui.widgets.base import Pane, PeriodicPoll
from jstui.widgets.streams.render import COLUMNS, cell, render_detail, row_cells

if TYPE_CHECKING:
    from jstui.dialogs.stream_purge import PurgeRequest

POLL_SECONDS = 1.0
"""How often the table is refreshed from the server (the issue asks for about once a second)."""

EMPTY_HINT = (
    "No streams on this server yet.\n\n"
    "Press n to create one. The tutorial's example: name example_stream, subjects my.subject.*, "
    "max age 9s, max msgs 1000, max bytes 10MiB.\n\n"
    "Streams created by other programs (nats stream add, nats-py...) appear here by themselves."
)


class StreamsPane(Pane):
    """The streams of the account, refreshed live, with create / edit / purge / delete / browse."""

    PANE_TITLE = "Streams"
    PANE_HELP = (
        "The table lists every stream of the account and refreshes about once a second: name, "
        "subjects, retention policy (limits keeps messages until a limit removes them; interest "
        "until every consumer has acknowledged them; workqueue until one consumer has), storage "
        "(file or memory), replicas (R), messages and bytes stored, the first and last sequence "
        "numbers, and the number of consumers. Move with the arrow keys; below the table you "
        "see the selected stream's whole configuration and state, and its consumers: pending "
        "is how many stored messages the consumer has not yet been sent, ack pending how many "
        "it was sent but has not acknowledged, redelivered how many were sent more than once, "
        "and when it was last active. n creates a stream, e edits the selected one (fields the "
        "server cannot change are shown disabled), p purges messages (all, on one subject, or "
        "all but the newest N), d deletes it; each destructive change asks first and names how "
        "many messages go. b or Enter opens the message browser, which reads messages by "
        "sequence and never consumes them, so work-queue and interest streams stay as they are; "
        "there PgDn and PgUp turn the pages, o flips newest / oldest first, g jumps to a "
        "sequence, f filters by subject (wildcards allowed), v shows the payload as text, "
        "pretty JSON or a hex dump, and Escape closes it. "
        "Limits accept human units: 9s, 1h30m, 10MiB, 1.5GiB; empty means unlimited. With "
        "--read-only every change is refused."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_stream", "New"),
        Binding("e", "edit_stream", "Edit"),
        Binding("p", "purge_stream", "Purge"),
        Binding("d", "delete_stream", "Delete"),
        Binding("b", "browse_stream", "Browse"),
        Binding("r", "refresh_now", "Refresh", show=False),
    ]
    CHANGING_ACTIONS = frozenset({"new_stream", "edit_stream", "purge_stream", "delete_stream"})

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._service: StreamService | None = None
        self._cells: dict[str, tuple[str, ...]] = {}
        """The plain text shown in each row, by stream name: the diff is made against it."""
        self._summaries: dict[str, StreamSummary] = {}
        self._consumers: dict[str, list[ConsumerSummary]] = {}
        self._selected: str | None = None
        self._loaded = False
        self._poll: PeriodicPoll | None = None

    empty: var[bool] = var(False, toggle_class="-empty")
    """The server has no stream (once the first list came): the hint replaces the detail."""
    problem: var[str] = var("")
    """What keeps the table from being current (already sanitized); shown above the detail."""

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(
            id="streams-table", cursor_type="row", zebra_stripes=True
        )
        for column in COLUMNS:
            table.add_column(
                Text(column.label, justify="right" if column.numeric else "left"),
                key=column.key,
            )
        yield table
        yield Static(id="streams-problem", markup=False)
        # Focusable, so that Tab reaches it and the arrow keys scroll a long detail.
        with VerticalScroll(id="streams-detail"):
            yield Static(id="streams-detail-body")
        yield Static(EMPTY_HINT, id="streams-empty", markup=False)

    def on_mount(self) -> None:
        if self.host.settings.read_only:
            # Say it where the keys are: n, e, p and d will be refused.
            self.border_subtitle = "read-only: changes are refused"
        self.problem = "connecting…"
        # While a dialog or the browser covers the dashboard nobody reads the table: no fetch (a
        # redraw there would also repaint the dialog on top), and a fetch as soon as it shows again.
        self._poll = PeriodicPoll(
            self,
            POLL_SECONDS,
            self._refresh_once,
            description="streams table",
            when=lambda: self._can_poll() and not self._covered(),
        )
        self.app.screen_change_signal.subscribe(self, self._screen_changed)

    def _screen_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            self.refresh_now()

    @property
    def service(self) -> StreamService:
        """The stream operations, on the app's one connection."""
        if self._service is None:
            self._service = StreamService(self.session)
        return self._service

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#streams-table", DataTable)

    @property
    def selected(self) -> str | None:
        """The name of the stream under the cursor, if any."""
        return self._selected

    # -- refreshing ----------------------------------------------------------------------------

    def connection_changed(self, status: ConnectionStatus) -> None:
        if status.state is ConnectionState.CONNECTED and status.jetstream:
            self.problem = ""
            self.refresh_now()
        elif status.state is ConnectionState.CONNECTED:
            self.problem = sanitize(status.error or "JetStream is not enabled")
        elif status.state is ConnectionState.RECONNECTING:
            self.problem = "reconnecting… the table shows the last known state"
        elif status.state is ConnectionState.CONNECTING:
            self.problem = "connecting…"
        else:
            self.problem = f"not connected ({status.state.value})"

    def refresh_now(self) -> None:
        """Ask the poll to run at once (after a change, or on selection)."""
        if self._poll is not None:
            self._poll.wake()

    def action_refresh_now(self) -> None:
        self.refresh_now()

    def _can_poll(self) -> bool:
        status = self.session.status
        return self.session.connected and status.jetstream

    def _covered(self) -> bool:
        """True while a dialog or the browser is over the dashboard: nobody reads the table."""
        return self.app.screen is not self.screen

    async def _refresh_once(self) -> None:
        try:
            summaries = await self.service.list_streams()
        except Exception as error:  # keep the table alive whatever happens; say what it was
            self.problem = f"cannot list streams: {sanitize(str(translate(error)))}"
            return
        self.problem = ""
        self.apply(summaries)
        selected = self._selected
        if selected is None or not fits_api_subject(selected):
            # Any name the server accepted fits (it refuses dots, wildcards and whitespace);
            # a name that could not be put into an API subject is said in the detail.
            return
        try:
            consumers = await self.service.consumers(selected)
        except Exception as error:
            self.problem = f"cannot list consumers: {sanitize(str(translate(error)))}"
            return
        self._consumers = {selected: consumers}
        if selected == self._selected:
            self._show_detail()

    def apply(self, summaries: Sequence[StreamSummary]) -> None:
        """Diff the rows against `summaries`: remove, update changed cells, add, keep the cursor."""
        table = self.table
        summaries = sorted(summaries, key=lambda s: s.name.casefold())
        wanted = {s.name: s for s in summaries}
        keep = self._selected
        added = False
        with self.app.batch_update():
            for name in [n for n in self._cells if n not in wanted]:
                table.remove_row(name)
                del self._cells[name]
            for summary in summaries:
                cells = row_cells(summary)
                old = self._cells.get(summary.name)
                if old is None:
                    table.add_row(
                        *(cell(c, v) for c, v in zip(COLUMNS, cells, strict=True)),
                        key=summary.name,
                    )
                    added = True
                elif old != cells:
                    for column, before, after in zip(COLUMNS, old, cells, strict=True):
                        if before != after:
                            table.update_cell(
                                summary.name, column.key, cell(column, after), update_width=True
                            )
                self._cells[summary.name] = cells
            if added:
                table.sort("name", key=lambda cell: cell.plain.casefold())
            self._summaries = wanted
            self._loaded = True
            if keep in wanted:
                index = table.get_row_index(keep)
                if index != table.cursor_row:
                    table.move_cursor(row=index, scroll=False)
            elif wanted:
                self._selected = self._key_at_cursor()
            else:
                self._selected = None
            self._show_detail()

    def _key_at_cursor(self) -> str | None:
        table = self.table
        if table.row_count == 0:
            return None
        row = min(max(table.cursor_row, 0), table.row_count - 1)
        key = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return str(key) if key is not None else None

    @on(DataTable.RowHighlighted, "#streams-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # The row under the cursor now: the event's own key may be stale after a sort.
        name = self._key_at_cursor()
        if name is None or name == self._selected:
            return
        self._selected = name
        self._show_detail()
        self.refresh_now()  # fetch the newly selected stream's consumers now

    @on(DataTable.RowSelected, "#streams-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_browse_stream()

    def watch_problem(self, text: str) -> None:
        self.set_class(bool(text), "-problem")
        with contextlib.suppress(NoMatches):  # not composed yet, or already gone
            self.query_one("#streams-problem", Static).update(Text(text))

    def _show_detail(self) -> None:
        self.empty = self._loaded and not self._summaries
        body = self.query_one("#streams-detail-body", Static)
        summary = self._summaries.get(self._selected or "")
        if summary is None:
            body.update("")
            return
        consumers = self._consumers.get(summary.name)
        width = max(self.query_one("#streams-detail").size.width, 40)
        body.update(render_detail(summary, consumers, width=width, now=self.session.clocks.wall()))

    def on_resize(self) -> None:
        self._show_detail()

    # -- actions -------------------------------------------------------------------------------

    def palette_commands(self) -> list[SystemCommand]:
        return self.offered(
            [
                (
                    "new_stream",
                    self.palette_command(
                        "New stream", "Create a stream (Streams pane, n)", self.action_new_stream
                    ),
                ),
                (
                    "edit_stream",
                    self.palette_command(
                        "Edit stream",
                        "Edit the selected stream (Streams pane, e)",
                        self.action_edit_stream,
                    ),
                ),
                (
                    "purge_stream",
                    self.palette_command(
                        "Purge stream",
                        "Remove messages from the selected stream (Streams pane, p)",
                        self.action_purge_stream,
                    ),
                ),
                (
                    "delete_stream",
                    self.palette_command(
                        "Delete stream",
                        "Delete the selected stream (Streams pane, d)",
                        self.action_delete_stream,
                    ),
                ),
                (
                    "browse_stream",
                    self.palette_command(
                        "Browse stream",
                        "Read the selected stream's messages without consuming (Streams pane, b)",
                        self.action_browse_stream,
                    ),
                ),
            ]
        )

    def _writable(self, action: str) -> bool:
        """False (and the refusal shown) when jstui runs read-only."""
        with self.reporting_errors(title="Read-only"):
            self.session.check_writable(action)
            return True
        return False

    def _need_selection(self) -> str | None:
        if self._selected is None or self._selected not in self._summaries:
            self.notify("Select a stream first (or press n to create one).", markup=False)
            return None
        return self._selected

    def _changed(self, message: str) -> None:
        self.notify(sanitize(message), markup=False)
        self.refresh_now()

    def action_new_stream(self) -> None:
        if self._writable("create stream"):
            self._new_stream()

    @work(group="streams-action", exit_on_error=False, description="create stream")
    async def _new_stream(self) -> None:
        from jstui.dialogs.stream_form import StreamFormScreen  # on first use (start-up)

        result = await self.app.push_screen_wait(StreamFormScreen(self.service))
        if result is not None:
            self._selected = result.name
            self._changed(f"Created stream {result.name}")

    def action_edit_stream(self) -> None:
        name = self._need_selection()
        if name is not None and self._writable("edit stream"):
            self._edit_stream(name)

    @work(group="streams-action", exit_on_error=False, description="edit stream")
    async def _edit_stream(self, name: str) -> None:
        from jstui.dialogs.stream_form import StreamFormScreen  # on first use (start-up)

        with self.reporting_errors():
            config = await self.service.config(name)
            current = StreamSpec.from_config(config)
            result = await self.app.push_screen_wait(
                StreamFormScreen(self.service, current=current)
            )
            if result is not None:
                self._changed(f"Saved stream {result.name}")

    def action_purge_stream(self) -> None:
        name = self._need_selection()
        if name is not None and self._writable("purge stream"):
            self._purge_stream(name)

    @work(group="streams-action", exit_on_error=False, description="purge stream")
    async def _purge_stream(self, name: str) -> None:
        from jstui.dialogs.confirm import ConfirmScreen  # on first use (start-up)
        from jstui.dialogs.stream_purge import StreamPurgeScreen  # on first use (start-up)

        with self.reporting_errors():
            summary = await self.service.summary(name)
            request = await self.app.push_screen_wait(StreamPurgeScreen(summary))
            if request is None:
                return
            # Count again right before asking: the stream may have grown while the dialog was open.
            count = await self._purge_count(name, request)
            question = Text.assemble(
                "Purge ",
                (format_count(count), "bold"),
                " message" if count == 1 else " messages",
                " from stream ",
                (sanitize(name), "bold"),
                request.describe(),
                "?\nThis cannot be undone.",
            )
            if not await self.app.push_screen_wait(
                ConfirmScreen("Purge stream", question, confirm_label="Purge")
            ):
                return
            purged = await self.service.purge(name, subject=request.subject, keep=request.keep)
            self._changed(f"Purged {format_count(purged)} message{'s' * (purged != 1)} from {name}")

    async def _purge_count(self, name: str, request: PurgeRequest) -> int:
        """How many messages the purge will remove, as the server counts them now."""
        total = await self.service.count(name, request.subject)
        return max(0, total - (request.keep or 0))

    def action_delete_stream(self) -> None:
        name = self._need_selection()
        if name is not None and self._writable("delete stream"):
            self._delete_stream(name)

    @work(group="streams-action", exit_on_error=False, description="delete stream")
    async def _delete_stream(self, name: str) -> None:
        from jstui.dialogs.confirm import ConfirmScreen  # on first use (start-up)

        with self.reporting_errors():
            summary = await self.service.summary(name)
            question = Text.assemble(
                "Delete stream ",
                (sanitize(name), "bold"),
                " with its ",
                (format_count(summary.messages), "bold"),
                " message" if summary.messages == 1 else " messages",
                f" and {format_count(summary.consumer_count)} consumer"
                f"{'s' * (summary.consumer_count != 1)}?\nThis cannot be undone.",
            )
            if not await self.app.push_screen_wait(
                ConfirmScreen("Delete stream", question, confirm_label="Delete")
            ):
                return
            await self.service.delete(name)
            if self._selected == name:
                self._selected = None
            self._changed(f"Deleted stream {name}")

    def action_browse_stream(self) -> None:
        from jstui.dialogs.stream_browser import StreamBrowserScreen

        name = self._need_selection()
        if name is not None:
            self.app.push_screen(StreamBrowserScreen(self.service, name))
