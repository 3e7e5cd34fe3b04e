"""The Consumers pane: a live table of every stream's consumers (or one stream's), the selected
consumer's state and whole configuration, and the keys that create, edit, delete, pause and
resume consumers, filter the table and limit it to one stream.

Data flow: one `PeriodicPoll` lists the consumers about once a second (`STREAM.NAMES`, then one
`CONSUMER.LIST` per stream, through `ConsumerService.consumer_pages`). Each consumer's row is
turned into plain strings (`render.row_cells`) and compared with what the table shows: only
changed cells are written (`LiveTable.update_cells`); rows that came, went or moved are placed in
one step (`LiveTable.place_rows`), with column widths counted from the strings, never measured.
Rows are keyed by stream and name, so the cursor stays on its consumer through refreshes and
filtering. Every server string is sanitized in `render` and reaches widgets as rich `Text`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
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

from jstui.format.columns import ColumnWidths
from jstui.format.text import sanitize
from jstui.format.units import format_count
from jstui.nats.consumers.service import ConsumerService
from jstui.nats.consumers.spec import ConsumerSpec
from jstui.nats.consumers.summaries import ConsumerEntry
from jstui.nats.errors import translate
from jstui.nats.session import ConnectionStatus
from jstui.widgets.base import Pane, PeriodicPoll, jetstream_problem
from jstui.widgets.consumers.render import COLUMNS, cell, render_detail, row_cells, row_clock
from jstui.widgets.table import LiveTable

POLL_SECONDS = 1.0
"""How often the table is refreshed from the server."""

BUILD_SLICE = 200
"""Rows whose strings are built in one go (~10 ms of the loop here) before keys get a turn."""

EMPTY_HINT = (
    "No consumers yet.\n\n"
    "Press n to create one (a pull consumer is what workers fetch from). Consumers made by "
    "other programs (nats consumer add, nats-py's pull_subscribe or subscribe) appear here "
    "by themselves."
)


class ConsumersPane(Pane):
    """Every consumer of the account, refreshed live, with create / edit / delete / pause /
    resume, a filter and a limit to one stream."""

    PANE_TITLE = "Consumers"
    PANE_HELP = (
        "The table lists the consumers of every stream and refreshes about once a second: name, "
        "stream, kind (pull or push, durable or ephemeral), pending (stored messages not yet "
        "sent to it), ack pending (sent but not acknowledged), redelivered, waiting pulls (pull "
        "requests parked at the server), ack floor and last delivered (stream sequences), last "
        "active, paused, filter subjects, deliver and ack policy. Below, the selected "
        "consumer's state and whole configuration. / filters by a piece of a name, stream or "
        "filter subject (Escape clears); o limits the table to the selected consumer's stream "
        "(o again shows all). n creates a consumer (durable or ephemeral, pull or push), e "
        "edits the selected one (fields the server cannot change are shown disabled, with the "
        "reason), d deletes it (it says who is attached), p pauses it until a time or for a "
        "while (nats-server 2.11 or newer) and u resumes it. Durations take units: 30s, 1h30m. "
        "With --read-only every change is refused."
    )
    DEFAULT_CSS = """
    ConsumersPane #consumers-table {
        height: auto;
        max-height: 50%;
        min-height: 3;
        scrollbar-size-vertical: 1;
    }
    ConsumersPane #consumers-problem {
        height: auto;
        color: $warning;
        display: none;
    }
    ConsumersPane.-problem #consumers-problem {
        display: block;
    }
    ConsumersPane #consumers-detail {
        height: 1fr;
        min-height: 4;
        border-top: solid $panel-lighten-2;
        scrollbar-size-vertical: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_consumer", "New"),
        Binding("e", "edit_consumer", "Edit"),
        Binding("d", "delete_consumer", "Delete"),
        Binding("p", "pause_consumer", "Pause"),
        Binding("u", "resume_consumer", "Resume"),
        Binding("o", "only_stream", "One stream", show=False),
        Binding("slash", "filter", "Filter", key_display="/", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("r", "refresh_now", "Refresh", show=False),
    ]
    CHANGING_ACTIONS = frozenset(
        {"new_consumer", "edit_consumer", "delete_consumer", "pause_consumer", "resume_consumer"}
    )

    filter_text: var[str] = var("")
    """The filter typed after /: a piece of a name, stream or filter subject, any case."""
    only_stream: var[str | None] = var(None)
    """The one stream whose consumers are listed (None: every stream)."""
    problem: var[str] = var("")
    """What keeps the table from being current (already sanitized)."""
    filtering: var[bool] = var(False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._service: ConsumerService | None = None
        self.entries: dict[str, ConsumerEntry] = {}
        """Every consumer of the last list, by row key (shown or filtered out)."""
        self._shown: dict[str, tuple[str, ...]] = {}
        """The rows in the table, top to bottom, and the text they show."""
        self._held: dict[str, tuple[ConsumerEntry, tuple[str, str], tuple[str, ...]]] = {}
        """Each consumer's last entry, clock cells and row strings, by row key."""
        self._widths = ColumnWidths([column.label for column in COLUMNS])
        """The widest string of each column among the rows shown, kept up to date by counts."""
        self._selected: str | None = None
        self._loaded = False
        self._detail_inputs: object = None
        self._poll: PeriodicPoll | None = None

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        filter_input = Input(
            placeholder="filter: part of a name, stream or filter subject (Escape clears)",
            id="consumers-filter",
        )
        filter_input.display = False
        filter_input.disabled = True
        yield filter_input
        table: LiveTable[Text] = LiveTable(
            id="consumers-table", cursor_type="row", zebra_stripes=True
        )
        for column in COLUMNS:
            table.add_column(
                Text(column.label, justify="right" if column.numeric else "left"), key=column.key
            )
        yield table
        yield Static(id="consumers-problem", markup=False)
        with VerticalScroll(id="consumers-detail"):
            yield Static(id="consumers-detail-body")

    def on_mount(self) -> None:
        if self.host.settings.read_only:
            self.border_subtitle = "read-only: changes are refused"
        self.problem = "connecting…"
        self._poll = PeriodicPoll(
            self,
            POLL_SECONDS,
            self._refresh_once,
            description="consumers table",
            when=lambda: self._can_poll() and not self.covered,
        )
        self.app.screen_change_signal.subscribe(self, self._screen_changed)

    def _screen_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            self.refresh_now()

    @property
    def service(self) -> ConsumerService:
        if self._service is None:
            self._service = ConsumerService(self.session)
        return self._service

    @property
    def table(self) -> LiveTable[Text]:
        return self.query_one("#consumers-table", LiveTable)

    @property
    def selected(self) -> ConsumerEntry | None:
        """The consumer under the cursor, if any."""
        return self.entries.get(self._selected or "")

    @property
    def row_keys(self) -> list[str]:
        return list(self._shown)

    # -- refreshing ----------------------------------------------------------------------------

    def connection_changed(self, status: ConnectionStatus) -> None:
        self.problem = jetstream_problem(status)
        if not self.problem:
            self.refresh_now()

    def refresh_now(self) -> None:
        if self._poll is not None:
            self._poll.wake()

    def action_refresh_now(self) -> None:
        self.refresh_now()

    def _can_poll(self) -> bool:
        return self.shown and self.session.connected and self.session.status.jetstream

    async def _refresh_once(self) -> None:
        entries: dict[str, ConsumerEntry] = {}
        try:
            async for page in self.service.consumer_pages(self.only_stream):
                entries.update((entry.key, entry) for entry in page)
        except Exception as error:  # keep the table alive whatever happens; say what it was
            self.problem = f"cannot list consumers: {sanitize(str(translate(error)))}"
            return
        self.problem = ""
        # The rows' strings are built here, a slice at a time with the loop's turns between, so
        # that `apply` finds them held: at 1,000 busy consumers that is half of its work.
        now = self.session.clocks.wall()
        shown = [entry for entry in entries.values() if self._matches(entry)]
        for start in range(0, len(shown), BUILD_SLICE):
            if start:
                await asyncio.sleep(0)
            for entry in shown[start : start + BUILD_SLICE]:
                self._row_of(entry, now)
        self.apply(entries.values())

    def apply(self, entries: Iterable[ConsumerEntry]) -> None:
        """Make the table show these consumers (every one the list gave) in one step."""
        self.entries = {entry.key: entry for entry in entries}
        self._loaded = True
        self._place()

    def _matches(self, entry: ConsumerEntry) -> bool:
        wanted = self.filter_text.strip().casefold()
        if self.only_stream is not None and entry.stream != self.only_stream:
            return False
        if not wanted:
            return True
        return any(
            wanted in text.casefold() for text in (entry.name, entry.stream, *entry.filter_subjects)
        )

    def _row_of(self, entry: ConsumerEntry, now: float) -> tuple[str, ...]:
        """The row's strings: those held when neither the consumer nor its clock cells changed
        (most rows of a large, quiet account), else built anew."""
        clock = row_clock(entry, now)
        held = self._held.get(entry.key)
        if held is not None and held[0] == entry and held[1] == clock:
            return held[2]
        cells = row_cells(entry, now)
        self._held[entry.key] = (entry, clock, cells)
        return cells

    def _place(self) -> None:
        """Show the matching rows in order, write only changed cells, keep the cursor's row."""
        table = self.table
        if self._selected in self._shown:
            self._selected = self._key_at_cursor()
        now = self.session.clocks.wall()
        for gone in self._held.keys() - self.entries.keys():
            del self._held[gone]
        wanted = sorted(
            (e for e in self.entries.values() if self._matches(e)),
            key=lambda e: (e.stream.casefold(), e.name.casefold(), e.key),
        )
        cells = {entry.key: self._row_of(entry, now) for entry in wanted}
        changes: list[tuple[str, str, Text]] = []
        for key, before in self._shown.items():
            after = cells.get(key)
            if after is None:
                self._widths.remove(before)
            elif after != before:
                self._widths.change(before, after)
                changes.extend(
                    (key, column.key, cell(column, new))
                    for column, old, new in zip(COLUMNS, before, after, strict=True)
                    if old != new
                )
        for key, row in cells.items():
            if key not in self._shown:
                self._widths.add(row)
        with self.app.batch_update():
            if changes:
                table.update_cells(changes)
            table.place_rows(
                list(cells),
                lambda key: [cell(c, v) for c, v in zip(COLUMNS, cells[key], strict=True)],
            )
            self._shown = cells
            widths = self._widths.widths()
            table.set_widths(dict(zip((c.key for c in COLUMNS), widths, strict=True)))
            if self._selected in cells:
                index = table.get_row_index(self._selected)
                if index != table.cursor_row:
                    table.move_cursor(row=index, scroll=False)
            else:
                self._selected = self._key_at_cursor()
            self._show_title(len(cells))
            self._show_detail()

    def _show_title(self, shown: int) -> None:
        extra = []
        if self.only_stream is not None:
            extra.append(f"stream {sanitize(self.only_stream, max_len=40)}")
        if self.filter_text.strip():
            extra.append(f"{format_count(shown)} of {format_count(len(self.entries))} consumers")
        title = f"{self.number} {self.PANE_TITLE}" + "".join(f" · {part}" for part in extra)
        self.show_title(title)

    def _key_at_cursor(self) -> str | None:
        table = self.table
        if table.row_count == 0:
            return None
        row = min(max(table.cursor_row, 0), table.row_count - 1)
        key = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return str(key) if key is not None else None

    @on(DataTable.RowHighlighted, "#consumers-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = self._key_at_cursor()
        if key != self._selected:
            self._selected = key
            self._show_detail()

    def _show_detail(self) -> None:
        body = self.query_one("#consumers-detail-body", Static)
        entry = self.selected
        if entry is None:
            if self._detail_inputs is not None or not self.entries:
                self._detail_inputs = None
                body.update(Text(EMPTY_HINT if self._loaded and not self.entries else ""))
            return
        now = self.session.clocks.wall()
        inputs = (entry, self._shown.get(entry.key), tuple(sorted(entry.config.items(), key=str)))
        if inputs == self._detail_inputs:
            return
        self._detail_inputs = inputs
        body.update(render_detail(entry, now=now))

    # -- filter and one stream -----------------------------------------------------------------

    def action_filter(self) -> None:
        self.filtering = True
        self.query_one("#consumers-filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#consumers-filter", Input).value = ""
        self.filter_text = ""
        self.filtering = False
        self.table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter" and not (self.filtering or self.filter_text):
            return False
        return super().check_action(action, parameters)

    @on(Input.Changed, "#consumers-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value

    @on(Input.Submitted, "#consumers-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.table.focus()

    def watch_filtering(self, filtering: bool) -> None:
        with contextlib.suppress(NoMatches):
            filter_input = self.query_one("#consumers-filter", Input)
            filter_input.display = filtering
            filter_input.disabled = not filtering

    def watch_filter_text(self) -> None:
        if self._loaded:
            self._place()

    def action_only_stream(self) -> None:
        """Limit the table to the selected consumer's stream; again: every stream."""
        if self.only_stream is not None:
            self.only_stream = None
        elif (entry := self.selected) is not None:
            self.only_stream = entry.stream
        else:
            self.notify("Select a consumer first: its stream is the one kept.", markup=False)

    def watch_only_stream(self) -> None:
        if self._loaded:
            self._place()
            self.refresh_now()

    def watch_problem(self, text: str) -> None:
        self.set_class(bool(text), "-problem")
        with contextlib.suppress(NoMatches):
            self.query_one("#consumers-problem", Static).update(Text(text))

    # -- actions -------------------------------------------------------------------------------

    def palette_commands(self) -> list[SystemCommand]:
        offers = (
            ("new_consumer", "New consumer", "Create a consumer (Consumers pane, n)"),
            ("edit_consumer", "Edit consumer", "Edit the selected consumer (Consumers pane, e)"),
            (
                "delete_consumer",
                "Delete consumer",
                "Delete the selected consumer (Consumers pane, d)",
            ),
            ("pause_consumer", "Pause consumer", "Pause the selected consumer (Consumers pane, p)"),
            (
                "resume_consumer",
                "Resume consumer",
                "Resume the selected paused consumer (Consumers pane, u)",
            ),
        )
        return self.offered_actions(offers)

    def _need_selection(self) -> ConsumerEntry | None:
        entry = self.selected
        if entry is None:
            self.notify("Select a consumer first (or press n to create one).", markup=False)
        return entry

    def _changed(self, message: str) -> None:
        self.notify(sanitize(message), markup=False)
        self.refresh_now()

    def action_new_consumer(self) -> None:
        if self.writable("create consumer"):
            self._new_consumer()

    @work(group="consumers-action", exit_on_error=False, description="create consumer")
    async def _new_consumer(self) -> None:
        from jstui.dialogs.consumer_form import ConsumerFormScreen  # on first use (start-up)

        with self.reporting_errors():
            streams = await self.service.stream_names()
            if not streams:
                self.notify("There is no stream yet: create one first (Streams pane, n).")
                return
            selected = self.selected
            stream = self.only_stream or (selected.stream if selected else None)
            result = await self.app.push_screen_wait(
                ConsumerFormScreen(self.service, streams=streams, stream=stream)
            )
            if result is not None:
                self._selected = result.key
                self._changed(f"Created consumer {result.name} on {result.stream}")

    def action_edit_consumer(self) -> None:
        entry = self._need_selection()
        if entry is not None and self.writable("edit consumer"):
            self._edit_consumer(entry)

    @work(group="consumers-action", exit_on_error=False, description="edit consumer")
    async def _edit_consumer(self, entry: ConsumerEntry) -> None:
        from jstui.dialogs.consumer_form import ConsumerFormScreen  # on first use (start-up)

        with self.reporting_errors():
            fresh = await self.service.info(entry.stream, entry.name)
            current = ConsumerSpec.from_config(fresh.stream, fresh.config, name=fresh.name)
            result = await self.app.push_screen_wait(
                ConsumerFormScreen(self.service, current=current)
            )
            if result is not None:
                self._changed(f"Saved consumer {result.name}")

    def action_delete_consumer(self) -> None:
        entry = self._need_selection()
        if entry is not None and self.writable("delete consumer"):
            self._delete_consumer(entry)

    @work(group="consumers-action", exit_on_error=False, description="delete consumer")
    async def _delete_consumer(self, entry: ConsumerEntry) -> None:
        from jstui.dialogs.confirm import ConfirmScreen  # on first use (start-up)

        with self.reporting_errors():
            fresh = await self.service.info(entry.stream, entry.name)
            if fresh.push:
                attached = (
                    "A subscriber is bound to it now and will get nothing more."
                    if fresh.push_bound
                    else "No subscriber is bound to it now."
                )
            else:
                attached = (
                    f"{format_count(fresh.num_waiting)} pull request"
                    f"{'s are' if fresh.num_waiting != 1 else ' is'} waiting on it now."
                )
            question = Text.assemble(
                "Delete consumer ",
                (sanitize(fresh.name), "bold"),
                " of stream ",
                (sanitize(fresh.stream), "bold"),
                f" ({fresh.kind}), with its ",
                (format_count(fresh.num_pending), "bold"),
                " pending and ",
                (format_count(fresh.num_ack_pending), "bold"),
                f" unacknowledged messages?\n{attached}\n"
                "The stream's messages stay. This cannot be undone.",
            )
            if not await self.app.push_screen_wait(
                ConfirmScreen("Delete consumer", question, confirm_label="Delete")
            ):
                return
            await self.service.delete(fresh.stream, fresh.name)
            self._changed(f"Deleted consumer {fresh.name}")

    def action_pause_consumer(self) -> None:
        entry = self._need_selection()
        if entry is None or not self.writable("pause consumer"):
            return
        if reason := self.service.pause_unsupported():
            self.report_error(reason, title="Pause")
            return
        self._pause_consumer(entry)

    @work(group="consumers-action", exit_on_error=False, description="pause consumer")
    async def _pause_consumer(self, entry: ConsumerEntry) -> None:
        from jstui.dialogs.consumer_pause import ConsumerPauseScreen  # on first use (start-up)

        with self.reporting_errors():
            until = await self.app.push_screen_wait(ConsumerPauseScreen(entry.stream, entry.name))
            if until is not None:
                paused = await self.service.pause(entry.stream, entry.name, until)
                moment = paused.pause_until or until
                self._changed(f"Paused {paused.name} until {moment.astimezone():%Y-%m-%d %H:%M}")

    def action_resume_consumer(self) -> None:
        entry = self._need_selection()
        if entry is None or not self.writable("resume consumer"):
            return
        if not entry.paused:
            self.notify("This consumer is not paused.", markup=False)
            return
        self._resume_consumer(entry)

    @work(group="consumers-action", exit_on_error=False, description="resume consumer")
    async def _resume_consumer(self, entry: ConsumerEntry) -> None:
        with self.reporting_errors():
            resumed = await self.service.resume(entry.stream, entry.name)
            self._changed(f"Resumed {resumed.name}")
