"""The Streams pane: a live table of the server's streams, the selected stream's configuration,
state and consumers, and the keys that create, edit, purge, delete, browse, filter and sort.

Data flow: one `PeriodicPoll` lists the streams about once a second, page by page (the API pages
by 256; there is no "changed since"). Each page is diffed against what the pane holds as it
arrives: a stream whose summary is unchanged costs one comparison, a changed one gets its row's
plain strings rebuilt (`render`) and only its changed cells written (`LiveTable.update_cells`).
After the last page, `rows.TableView` (filter, sort) gives the names to show and
`LiveTable.place_rows` puts them in order; column widths come from the strings held
(`ColumnWidths`), never from measuring cells. The cursor stays on its stream throughout.

A second poll fetches only the selected stream's consumers; moving the cursor shows at once what
the pane already holds for that stream and wakes that poll, never the list. The detail is redrawn
only where its text changed (`PartsView` renders the parts whose text changed and repaints only
the lines that differ: a ticking age rewrites one line). Every string that came from the server
is sanitized in `render` and handed to widgets as rich `Text`, never as markup.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.coordinate import Coordinate
from textual.css.query import NoMatches
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from jstui.format.lines import time_of_day
from jstui.format.text import sanitize
from jstui.format.units import counted, format_count
from jstui.nats.errors import translate
from jstui.nats.names import fits_api_subject
from jstui.nats.session import ConnectionState, ConnectionStatus
from jstui.nats.streams.service import StreamService
from jstui.nats.streams.spec import StreamSpec
from jstui.nats.streams.summaries import ConsumerSummary, StreamSummary
from jstui.widgets.base import Pane, PeriodicPoll, jetstream_problem
from jstui.widgets.streams.buckets import confirm_bucket_change
from jstui.widgets.streams.parts import PartsView
from jstui.widgets.streams.render import COLUMNS, detail_parts, stale_problem
from jstui.widgets.streams.rows import HeldRows, TableView
from jstui.widgets.table import LiveTable

POLL_SECONDS = 1.0
"""How often the table is refreshed from the server (the issue asks for about once a second)..."""
POLL_LONGEST = 5.0
"""...while its answers change; unchanged ones stretch the period up to this (`PeriodicPoll`)."""
AGES_SECONDS = 1.0
"""The detail's ages ("3s ago") are brought up to date this often while the pane is shown, between
polls that may have slowed down; only a line whose text changed is drawn again."""

TAKE_SLICE = 128
"""Streams diffed in one go: 128 changed rows are ~10 ms of the UI loop here, so a page of 256
busy streams is applied in two slices, with keys and frames in between."""

EMPTY_HINT = (
    "No streams on this server yet.\n\n"
    "Press n to create one. The tutorial's example: name example_stream, subjects my.subject.*, "
    "max age 9s, max msgs 1000, max bytes 10MiB.\n\n"
    "Streams created by other programs (nats stream add, nats-py...) appear here by themselves."
)


class StreamsPane(Pane):
    """The streams of the account, refreshed live, with create / edit / purge / delete / browse,
    a filter and sorting by any column."""

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
        "and when it was last active. / filters the table by a piece of a stream's name or "
        "subjects (any case; the title then says how many streams match), Enter goes back to "
        "the table and Escape clears the filter. s sorts by the next column, S flips the "
        "order, and a click on a column's header sorts by it (again: the other way); numbers "
        "sort as numbers. The cursor stays on its stream through refreshes, filter and sort. "
        "n creates a stream, e edits the selected one (fields the "
        "server cannot change are shown disabled), p purges messages (all, on one subject, or "
        "all but the newest N), d deletes it; each destructive change asks first and names how "
        "many messages go. b or Enter opens the message browser, which reads messages by "
        "sequence and never consumes them, so work-queue and interest streams stay as they are; "
        "there PgDn and PgUp turn the pages, o flips newest / oldest first, g jumps to a "
        "sequence, f filters by subject (wildcards allowed), v shows the payload as text, "
        "pretty JSON or a hex dump, d deletes the selected message (or erases it), e exports a "
        "range of sequences to an NDJSON file and i publishes such a file into the stream, and "
        "Escape closes it. u lists the stream's subjects with their message counts (a tree by "
        "subject token when there are many; / filters); b browses the selected subject and p "
        "purges it. "
        "A name marked [kv] or [obj] is the stream that keeps a key/value bucket or an object "
        "store (the detail names the pane that manages it; purge and delete warn first), "
        "[mirror] a mirror of another stream. "
        "Limits accept human units: 9s, 1h30m, 10MiB, 1.5GiB; empty means unlimited. With "
        "--read-only every change is refused."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_stream", "New"),
        Binding("e", "edit_stream", "Edit"),
        Binding("p", "purge_stream", "Purge"),
        Binding("d", "delete_stream", "Delete"),
        Binding("b", "browse_stream", "Browse"),
        Binding("u", "stream_subjects", "Subjects", show=False),
        Binding("slash", "filter", "Filter", key_display="/", show=False),
        Binding("s", "next_sort", "Sort", show=False),
        Binding("S", "flip_sort", "Reverse sort", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("r", "refresh_now", "Refresh", show=False),
    ]
    CHANGING_ACTIONS = frozenset({"new_stream", "edit_stream", "purge_stream", "delete_stream"})

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._service: StreamService | None = None
        self._rows = HeldRows()
        self._consumers: dict[str, list[ConsumerSummary]] = {}
        self._selected: str | None = None
        self._loaded = False
        self._poll: PeriodicPoll | None = None
        self._consumer_poll: PeriodicPoll | None = None
        self._listed_at = 0.0
        """When the last list of the streams came (wall clock; 0: none yet)."""
        self._leaderless: dict[str, float] = {}
        """Streams the last list left out for want of a leader: when their rows were listed."""

    empty: var[bool] = var(False, toggle_class="-empty")
    """The server has no stream (once the first list came): the hint replaces the detail."""
    problem: var[str] = var("")
    """What keeps the table from being current (already sanitized); shown above the detail."""
    view: var[TableView] = var(TableView)
    """The table's filter and sort; a change re-orders the rows the pane holds at once."""
    filtering: var[bool] = var(False)
    """The filter input shows (after /, until Escape)."""

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        filter_input = Input(
            placeholder="filter: part of a name or subject (Escape clears)",
            id="streams-filter",
        )
        # Hidden and disabled until /: the screen's first focus goes to the first focusable
        # widget whether displayed or not, and keys typed then must not land in the filter.
        filter_input.display = False
        filter_input.disabled = True
        yield filter_input
        table: LiveTable[Text] = LiveTable(
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
            yield PartsView(id="streams-detail-body")
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
            when=lambda: self._can_poll() and not self.covered,
            longest=POLL_LONGEST,
        )
        self._consumer_poll = PeriodicPoll(
            self,
            POLL_SECONDS,
            self._refresh_consumers,
            description="selected stream's consumers",
            when=lambda: self._can_poll() and not self.covered and self._selected is not None,
            longest=POLL_LONGEST,
        )
        self.interval_while_shown(AGES_SECONDS, self._show_detail)
        self.table.rows_in_view = self._write_rows
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
    def table(self) -> LiveTable[Text]:
        return self.query_one("#streams-table", LiveTable)

    @property
    def selected(self) -> str | None:
        """The name of the stream under the cursor, if any."""
        return self._selected

    @property
    def _summaries(self) -> dict[str, StreamSummary]:
        """Every stream of the last list, by name."""
        return self._rows.summaries

    @property
    def row_names(self) -> list[str]:
        """The names in the table, top to bottom."""
        return list(self._rows.shown)

    # -- refreshing ----------------------------------------------------------------------------

    def connection_changed(self, status: ConnectionStatus) -> None:
        problem = jetstream_problem(status)
        if status.state is ConnectionState.RECONNECTING and self._listed_at:
            problem = f"reconnecting since {time_of_day(status.since)}"
        self._say(problem)
        if not problem:
            self.refresh_now()

    def _say(self, problem: str) -> None:
        """Show why the table is not current, with the age of what it shows."""
        self.problem = stale_problem(problem, self._listed_at, self._leaderless)

    def refresh_now(self) -> None:
        """Ask both polls to run at once (after a change)."""
        for poll in (self._poll, self._consumer_poll):
            if poll is not None:
                poll.wake()

    def action_refresh_now(self) -> None:
        self.refresh_now()

    def _can_poll(self) -> bool:
        status = self.session.status
        return self.session.connected and status.jetstream

    async def _refresh_once(self) -> bool | None:
        """List the streams; False when nothing changed (the poll then slows down)."""
        version, listed = self._rows.version, set[str]()
        selected_before = self._summaries.get(self._selected or "")
        try:
            # Each page is applied as it comes: the loop gets its turn between pages.
            async for page in self.service.stream_pages():
                for start in range(0, len(page), TAKE_SLICE):
                    if start:
                        await asyncio.sleep(0)  # keys and frames get their turn
                    self._take(page[start : start + TAKE_SLICE])
                listed.update(summary.name for summary in page)
        except Exception as error:  # keep the table alive whatever happens; say what it was
            self._say(f"cannot list streams: {sanitize(str(translate(error)))}")
            return None
        # A stream without a leader is left out of the list, not gone: its row stays, said stale.
        self._leaderless = {
            name: self._leaderless.get(name, self._listed_at if name in self._summaries else 0.0)
            for name in self.service.unavailable
        }
        listed.update(self._leaderless)
        self._listed_at = self.session.clocks.wall()
        self._say("")
        self._finish(listed)
        selected = self._summaries.get(self._selected or "")
        if selected != selected_before and self._consumer_poll is not None:
            self._consumer_poll.wake()  # messages came or went: its consumers moved too
        return self._rows.version != version

    async def _refresh_consumers(self) -> bool | None:
        """Fetch the selected stream's consumers; False when they did not change."""
        selected = self._selected
        if selected is None or selected not in self._summaries or not fits_api_subject(selected):
            # Any name the server accepted fits (it refuses dots, wildcards and whitespace);
            # a name that could not be put into an API subject is said in the detail.
            return None
        try:
            consumers = await self.service.consumers(selected)
        except Exception as error:
            self.problem = f"cannot list consumers: {sanitize(str(translate(error)))}"
            return None
        unchanged = self._consumers.get(selected) == consumers
        self._consumers = {selected: consumers}
        if selected == self._selected:
            self._show_detail()
        return not unchanged

    def apply(self, summaries: Sequence[StreamSummary]) -> None:
        """Make the table show `summaries` (all streams of the account) in one step."""
        self._take(summaries)
        self._finish({summary.name for summary in summaries})

    def _take(self, summaries: Iterable[StreamSummary]) -> None:
        """Hold the streams of one page; rows on screen get their changed cells written."""
        changes = self._rows.take(summaries, self.table)
        if changes:
            self.table.update_cells(changes)

    def _write_rows(self, names: list[str]) -> None:
        """Write the held rows that came into view (scrolled to, sorted or filtered into it)."""
        if changes := self._rows.written(names):
            self.table.update_cells(changes)

    def _finish(self, listed: set[str]) -> None:
        """After the last page: forget streams that went, then place rows, widths, cursor."""
        self._rows.keep_only(listed)
        self._loaded = True
        self._place(scroll=False)

    def _place(self, *, scroll: bool) -> None:
        """Show the rows the view asks for, in its order, and keep the cursor on its stream."""
        table = self.table
        if self._selected in self._rows.shown:
            # A key may have moved the cursor while its RowHighlighted waits in the queue: the
            # cursor is the truth, or this refresh would pull it back to the previous stream.
            self._select(self._key_at_cursor())
        names = self.view.order(self._summaries.values())
        with self.app.batch_update():
            self._rows.place(table, names)
            keep = self._selected
            if keep in self._rows.shown:
                index = table.get_row_index(keep)
                if index != table.cursor_row or scroll:
                    table.move_cursor(row=index, scroll=scroll)
            else:
                self._selected = self._key_at_cursor()
            self._show_title(len(names))
            self._show_detail()

    def _show_title(self, shown: int) -> None:
        extra = self.view.describe(shown, len(self._summaries))
        title = f"{self.number} {self.PANE_TITLE}" + (f" · {extra}" if extra else "")
        self.show_title(title)

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
        if self._select(self._key_at_cursor()):
            self._show_detail()  # what the pane holds for it, at once

    def _select(self, name: str | None) -> bool:
        """Make `name` the selected stream; True when it changed. Its consumers follow (their
        own poll is woken); the list is not asked again."""
        if name is None or name == self._selected:
            return False
        self._selected = name
        if self._consumer_poll is not None:
            self._consumer_poll.wake()
        if self._poll is not None:
            self._poll.hurry()  # the user looks: the list back to once a second, not at once
        return True

    @on(DataTable.RowSelected, "#streams-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_browse_stream()

    @on(DataTable.HeaderSelected, "#streams-table")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        if event.column_key.value is not None:
            self.view = self.view.sorted_by(event.column_key.value)

    # -- filter and sort -----------------------------------------------------------------------

    def action_filter(self) -> None:
        self.filtering = True
        self.query_one("#streams-filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#streams-filter", Input).value = ""
        self.view = TableView(sort=self.view.sort, descending=self.view.descending)
        self.filtering = False
        self.table.focus()

    def action_next_sort(self) -> None:
        self.view = self.view.next_sort()

    def action_flip_sort(self) -> None:
        self.view = self.view.sorted_by(self.view.sort)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter" and not (self.filtering or self.view.filter):
            return False  # Escape keeps its meaning elsewhere when there is nothing to clear
        return super().check_action(action, parameters)

    @on(Input.Changed, "#streams-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.view = TableView(event.value, self.view.sort, self.view.descending)

    @on(Input.Submitted, "#streams-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.table.focus()

    def watch_filtering(self, filtering: bool) -> None:
        with contextlib.suppress(NoMatches):
            filter_input = self.query_one("#streams-filter", Input)
            filter_input.display = filtering
            filter_input.disabled = not filtering

    def watch_view(self) -> None:
        if self._loaded:
            self._place(scroll=True)

    def watch_problem(self, text: str) -> None:
        self.set_class(bool(text), "-problem")
        with contextlib.suppress(NoMatches):  # not composed yet, or already gone
            self.query_one("#streams-problem", Static).update(Text(text))

    def _show_detail(self) -> None:
        self.empty = self._loaded and not self._summaries
        body = self.query_one("#streams-detail-body", PartsView)
        summary = self._summaries.get(self._selected or "")
        if summary is None:
            body.show(())
            return
        consumers = self._consumers.get(summary.name)
        width = max(self.query_one("#streams-detail").size.width, 40)
        now = self.session.clocks.wall()
        # Only the lines whose text changed are drawn again (an age, a count): `PartsView`.
        body.show(detail_parts(summary, consumers, width=width, now=now))

    def on_resize(self) -> None:
        self._show_detail()

    # -- actions -------------------------------------------------------------------------------

    def palette_commands(self) -> list[SystemCommand]:
        offers = (
            ("new_stream", "New stream", "Create a stream (Streams pane, n)"),
            ("edit_stream", "Edit stream", "Edit the selected stream (Streams pane, e)"),
            (
                "purge_stream",
                "Purge stream",
                "Remove messages from the selected stream (Streams pane, p)",
            ),
            ("delete_stream", "Delete stream", "Delete the selected stream (Streams pane, d)"),
            (
                "browse_stream",
                "Browse stream",
                "Read the selected stream's messages without consuming (Streams pane, b)",
            ),
            (
                "stream_subjects",
                "Stream subjects",
                "The selected stream's subjects with their message counts (Streams pane, u)",
            ),
        )
        return self.offered_actions(offers)

    def _need_selection(self) -> str | None:
        if self._selected is None or self._selected not in self._summaries:
            self.notify("Select a stream first (or press n to create one).", markup=False)
            return None
        return self._selected

    def _changed(self, message: str) -> None:
        self.notify(sanitize(message), markup=False)
        self.refresh_now()

    def action_new_stream(self) -> None:
        if self.writable("create stream"):
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
        if name is not None and self.writable("edit stream"):
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
        if name is not None and self.writable("purge stream"):
            self._purge_stream(name)

    @work(group="streams-action", exit_on_error=False, description="purge stream")
    async def _purge_stream(self, name: str) -> None:
        from jstui.dialogs.stream_purge import purge_with_confirmation  # on first use

        with self.reporting_errors():
            summary = await self.service.summary(name)
            if not await confirm_bucket_change(self.app, summary, "purge"):
                return
            purged = await purge_with_confirmation(self.app, self.service, name)
            if purged is not None:
                self._changed(f"Purged {counted(purged, 'message')} from {name}")

    def action_delete_stream(self) -> None:
        name = self._need_selection()
        if name is not None and self.writable("delete stream"):
            self._delete_stream(name)

    @work(group="streams-action", exit_on_error=False, description="delete stream")
    async def _delete_stream(self, name: str) -> None:
        from jstui.dialogs.confirm import ConfirmScreen  # on first use (start-up)

        with self.reporting_errors():
            summary = await self.service.summary(name)
            if not await confirm_bucket_change(self.app, summary, "delete"):
                return
            question = Text.assemble(
                "Delete stream ",
                (sanitize(name), "bold"),
                " with its ",
                (format_count(summary.messages), "bold"),
                " message" if summary.messages == 1 else " messages",  # (the count in bold)
                f" and {counted(summary.consumer_count, 'consumer')}?\nThis cannot be undone.",
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
            self.app.push_screen(
                StreamBrowserScreen(self.service, name, confirm_first=self._confirm_bucket)
            )

    def action_stream_subjects(self) -> None:
        from jstui.dialogs.stream_subjects import StreamSubjectsScreen  # on first use

        name = self._need_selection()
        if name is not None:
            self.app.push_screen(
                StreamSubjectsScreen(self.service, name, confirm_first=self._confirm_bucket)
            )

    async def _confirm_bucket(self, summary: StreamSummary, action: str) -> bool:
        """The bucket warning, for the browser's and the subjects view's changes."""
        return await confirm_bucket_change(self.app, summary, action)
