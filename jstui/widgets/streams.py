"""The Streams pane: a live table of the server's streams, the selected stream's configuration,
state and consumers, and the keys that create, edit, purge, delete and browse streams.

Data flow: one long-lived worker asks the server for the stream list about once a second (and for
the selected stream's consumers), then diffs the keyed table rows in place inside
`app.batch_update()`, so the cursor and the scroll position survive every refresh. A change made
here wakes the worker at once. Every string that came from the server is sanitized (`jstui.format`)
and handed to widgets as rich `Text`, never as markup.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.stream_browser import StreamBrowserScreen
from jstui.dialogs.stream_form import StreamFormScreen
from jstui.dialogs.stream_purge import PurgeRequest, StreamPurgeScreen
from jstui.format.text import sanitize
from jstui.format.units import duration_field, format_age, format_count, format_size, size_field
from jstui.nats.errors import JstuiError, translate
from jstui.nats.names import stream_name_problem
from jstui.nats.session import ConnectionState, ConnectionStatus
from jstui.nats.streams.service import StreamService
from jstui.nats.streams.spec import StreamSpec
from jstui.nats.streams.summaries import ConsumerSummary, StreamSummary
from jstui.widgets.base import Pane

POLL_SECONDS = 1.0
"""How often the table is refreshed from the server (the issue asks for about once a second)."""

COVERED_CHECK_SECONDS = 0.25
"""While a dialog covers the dashboard, how often to look whether it has gone."""

NAME_WIDTH = 24
SUBJECTS_WIDTH = 24
"""Widest a name or subjects cell gets; longer values end in an ellipsis (the detail shows all)."""

EMPTY_HINT = (
    "No streams on this server yet.\n\n"
    "Press n to create one. The tutorial's example: name example_stream, subjects my.subject.*, "
    "max age 9s, max msgs 1000, max bytes 10MiB.\n\n"
    "Streams created by other programs (nats stream add, nats-py...) appear here by themselves."
)


@dataclass(frozen=True)
class _Column:
    key: str
    label: str
    numeric: bool = False


COLUMNS: tuple[_Column, ...] = (
    # Live figures come right after the name: in a quarter of the screen the last columns need a
    # sideways scroll, and the detail below repeats them for the selected stream.
    _Column("name", "Name"),
    _Column("messages", "Msgs", numeric=True),
    _Column("bytes", "Bytes", numeric=True),
    _Column("subjects", "Subjects"),
    _Column("retention", "Retention"),
    _Column("storage", "Storage"),
    _Column("replicas", "R", numeric=True),
    _Column("first", "First", numeric=True),
    _Column("last", "Last", numeric=True),
    _Column("consumers", "Cons", numeric=True),
)


def _clip(value: str, width: int) -> str:
    """The sanitized value, cut to `width` characters with an ellipsis."""
    text = sanitize(value, max_len=width + 16)
    return text if len(text) <= width else text[: width - 1] + "…"


def row_cells(summary: StreamSummary) -> tuple[str, ...]:
    """The plain text of a stream's table row, in `COLUMNS` order (already sanitized)."""
    return (
        _clip(summary.name, NAME_WIDTH),
        format_count(summary.messages),
        format_size(summary.bytes),
        _clip(", ".join(summary.subjects), SUBJECTS_WIDTH),
        sanitize(summary.retention, max_len=16),
        sanitize(summary.storage, max_len=16),
        str(summary.replicas),
        format_count(summary.first_seq),
        format_count(summary.last_seq),
        format_count(summary.consumer_count),
    )


def _cell(column: _Column, value: str) -> Text:
    return Text(value, justify="right" if column.numeric else "left", no_wrap=True)


def _limit_count(value: int | None) -> str:
    return "unlimited" if value is None or value <= 0 else format_count(value)


def _limit_size(value: int | None) -> str:
    return "unlimited" if value is None or value <= 0 else size_field(value)


def _limit_duration(seconds: float | None) -> str:
    return "unlimited" if not seconds else duration_field(seconds)


def _when(moment: datetime | None, now: float) -> str:
    if moment is None:
        return "never"
    local = moment.astimezone()
    return f"{local:%Y-%m-%d %H:%M:%S} ({format_age(now - moment.timestamp())})"


def _seq_with_time(seq: int, moment: datetime | None, now: float) -> str:
    if not seq:
        return "-"
    if moment is None:
        return format_count(seq)
    return f"{format_count(seq)}  {format_age(now - moment.timestamp())}"


def _enum_text(value: object) -> str:
    return sanitize(str(getattr(value, "value", value) or "-"), max_len=32)


def _pairs_grid(pairs: Sequence[tuple[str, str]], per_row: int) -> Table:
    """Label/value pairs laid out `per_row` to a row, with a gutter between them."""
    grid = Table.grid(padding=(0, 1), expand=False)
    for index in range(per_row):
        if index:
            grid.add_column(width=1)  # gutter
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
    for offset in range(0, len(pairs), per_row):
        cells: list[Text | str] = []
        for index, (label, value) in enumerate(pairs[offset : offset + per_row]):
            if index:
                cells.append("")
            cells += [Text(label), Text(value)]
        grid.add_row(*cells)
    return grid


def _consumers_table(
    consumers: Sequence[ConsumerSummary], *, width: int, now: float
) -> RenderableType:
    wide = width >= 100
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("Consumer", no_wrap=True, max_width=28)
    table.add_column("Pending", justify="right")
    table.add_column("Ack pend", justify="right")
    table.add_column("Redeliv", justify="right")
    table.add_column("Last active", no_wrap=True)
    if wide:
        table.add_column("Kind", no_wrap=True)
        table.add_column("Filter", no_wrap=True, max_width=30)
    for consumer in consumers:
        active = (
            format_age(now - consumer.last_active.timestamp()) if consumer.last_active else "never"
        )
        cells = [
            Text(_clip(consumer.name, 28)),
            Text(format_count(consumer.num_pending)),
            Text(format_count(consumer.num_ack_pending)),
            Text(format_count(consumer.num_redelivered)),
            Text(active),
        ]
        if wide:
            kind = ("push" if consumer.push else "pull") + (
                " durable" if consumer.durable else " ephemeral"
            )
            cells.append(Text(kind))
            cells.append(Text(_clip(", ".join(consumer.filter_subjects) or "all", 30)))
        table.add_row(*cells)
    return table


def render_detail(
    summary: StreamSummary,
    consumers: Sequence[ConsumerSummary] | None,
    *,
    width: int,
    now: float | None = None,
) -> RenderableType:
    """The selected stream: state, consumers, then its whole configuration (the part that changes
    comes first, so a quarter pane shows it without scrolling). Server strings are sanitized."""
    now = time.time() if now is None else now
    config = summary.config
    per_row = 3 if width >= 110 else 2 if width >= 60 else 1

    title = Text()
    title.append(sanitize(summary.name), style="bold")
    if summary.sealed:
        title.append("  sealed", style="bold reverse")
    if summary.description:
        title.append("  ")
        title.append(sanitize(summary.description, max_len=400), style="italic")

    state: list[tuple[str, str]] = [
        ("Messages", format_count(summary.messages)),
        ("Bytes", format_size(summary.bytes)),
        ("First seq", _seq_with_time(summary.first_seq, summary.first_time, now)),
        ("Last seq", _seq_with_time(summary.last_seq, summary.last_time, now)),
        ("Deleted", format_count(summary.num_deleted)),
        ("Subjects", format_count(summary.num_subjects)),
    ]

    settings: list[tuple[str, str]] = [
        ("Retention", sanitize(summary.retention)),
        ("Storage", sanitize(summary.storage)),
        ("Replicas", str(summary.replicas)),
    ]
    if config is not None:
        settings += [
            ("Max age", _limit_duration(config.max_age)),
            ("Max msgs", _limit_count(config.max_msgs)),
            ("Max bytes", _limit_size(config.max_bytes)),
            ("Msg size", _limit_size(config.max_msg_size)),
            ("Per subject", _limit_count(config.max_msgs_per_subject)),
            ("Discard", _enum_text(config.discard)),
            ("Dup window", _limit_duration(config.duplicate_window)),
        ]
    settings.append(("Direct get", "allowed" if summary.allow_direct else "no"))
    settings.append(("Created", _when(summary.created, now)))

    parts: list[RenderableType] = [title, _pairs_grid(state, per_row), Text()]
    heading = Text("Consumers", style="bold underline")
    heading.append(f" {format_count(summary.consumer_count)}", style="bold")
    parts.append(heading)
    if problem := stream_name_problem(summary.name):
        # Created by another program: the server took the name, but jstui will not put control
        # characters into an API subject, so it cannot look deeper or change this stream.
        parts.append(Text(f"jstui cannot manage this stream: its name {problem}.", style="dim"))
    elif consumers is None:
        parts.append(Text("loading…", style="dim"))
    elif not consumers:
        parts.append(Text("none", style="dim"))
    else:
        parts.append(_consumers_table(consumers, width=width, now=now))
    parts.append(Text())
    parts.append(Text("Configuration", style="bold underline"))
    subjects = Text()
    subjects.append("Subjects ", style="bold")
    subjects.append(sanitize(", ".join(summary.subjects) or "-", max_len=2000))
    parts.append(subjects)
    parts.append(_pairs_grid(settings, per_row))
    return Group(*parts)


class StreamsPane(Pane):
    """The streams of the account, refreshed live, with create / edit / purge / delete / browse."""

    PANE_TITLE = "Streams"
    PANE_NUMBER = 1
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

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._service: StreamService | None = None
        self._cells: dict[str, tuple[str, ...]] = {}
        """The plain text shown in each row, by stream name: the diff is made against it."""
        self._summaries: dict[str, StreamSummary] = {}
        self._consumers: dict[str, list[ConsumerSummary]] = {}
        self._selected: str | None = None
        self._wake = asyncio.Event()
        self._loaded = False
        self._problem = ""

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
        self._show_problem("connecting…")
        self._poll()

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
            self._show_problem("")
            self.refresh_now()
        elif status.state is ConnectionState.CONNECTED:
            self._show_problem(sanitize(status.error or "JetStream is not enabled"))
        elif status.state is ConnectionState.RECONNECTING:
            self._show_problem("reconnecting… the table shows the last known state")
        elif status.state is ConnectionState.CONNECTING:
            self._show_problem("connecting…")
        else:
            self._show_problem(f"not connected ({status.state.value})")

    def refresh_now(self) -> None:
        """Ask the refresh worker to run at once (after a change, or on selection)."""
        self._wake.set()

    def action_refresh_now(self) -> None:
        self.refresh_now()

    def _can_poll(self) -> bool:
        status = self.session.status
        return self.session.connected and status.jetstream

    def _covered(self) -> bool:
        """True while a dialog or the browser is over the dashboard: nobody reads the table."""
        return self.app.screen is not self.screen

    @work(exclusive=True, group="streams-poll", exit_on_error=False, description="streams table")
    async def _poll(self) -> None:
        # One fetch at a time, then wait: runs never overlap however slow the server is. While
        # the dashboard is covered, no fetch and no redraw (a redraw there would also repaint
        # the dialog on top); the table is refreshed as soon as it shows again.
        while True:
            if self._covered():
                await asyncio.sleep(COVERED_CHECK_SECONDS)
                continue
            self._wake.clear()
            if self._can_poll():
                await self._refresh_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    async def _refresh_once(self) -> None:
        try:
            summaries = await self.service.list_streams()
        except Exception as error:  # keep the table alive whatever happens; say what it was
            self._show_problem(f"cannot list streams: {sanitize(str(translate(error)))}")
            return
        self._show_problem("")
        self.apply(summaries)
        selected = self._selected
        if selected is None or stream_name_problem(selected):
            return  # the service refuses such names; the detail says why
        try:
            consumers = await self.service.consumers(selected)
        except Exception as error:
            self._show_problem(f"cannot list consumers: {sanitize(str(translate(error)))}")
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
                        *(_cell(c, v) for c, v in zip(COLUMNS, cells, strict=True)),
                        key=summary.name,
                    )
                    added = True
                elif old != cells:
                    for column, before, after in zip(COLUMNS, old, cells, strict=True):
                        if before != after:
                            table.update_cell(
                                summary.name, column.key, _cell(column, after), update_width=True
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

    def _show_problem(self, text: str) -> None:
        if text == self._problem:
            return
        self._problem = text
        with contextlib.suppress(Exception):
            problem = self.query_one("#streams-problem", Static)
            problem.update(Text(text))
            problem.display = bool(text)

    def _show_detail(self) -> None:
        empty = self._loaded and not self._summaries
        self.set_class(empty, "-empty")
        body = self.query_one("#streams-detail-body", Static)
        summary = self._summaries.get(self._selected or "")
        if summary is None:
            body.update("")
            return
        consumers = self._consumers.get(summary.name)
        width = max(self.query_one("#streams-detail").size.width, 40)
        body.update(render_detail(summary, consumers, width=width))

    def on_resize(self) -> None:
        self._show_detail()

    # -- actions -------------------------------------------------------------------------------

    def palette_commands(self) -> list[SystemCommand]:
        return [
            SystemCommand(
                "New stream", "Create a stream (Streams pane, n)", self.action_new_stream
            ),
            SystemCommand(
                "Edit stream", "Edit the selected stream (Streams pane, e)", self.action_edit_stream
            ),
            SystemCommand(
                "Purge stream",
                "Remove messages from the selected stream (Streams pane, p)",
                self.action_purge_stream,
            ),
            SystemCommand(
                "Delete stream",
                "Delete the selected stream (Streams pane, d)",
                self.action_delete_stream,
            ),
            SystemCommand(
                "Browse stream",
                "Read the selected stream's messages without consuming (Streams pane, b)",
                self.action_browse_stream,
            ),
        ]

    def _error(self, error: BaseException, title: str = "Streams") -> None:
        text = str(error) if isinstance(error, JstuiError) else str(translate(error))
        self.notify(sanitize(text), title=title, severity="error", markup=False)

    def _writable(self, action: str) -> bool:
        """False (and the refusal shown) when jstui runs read-only."""
        try:
            self.session.check_writable(action)
        except JstuiError as error:
            self._error(error, title="Read-only")
            return False
        return True

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
        try:
            config = await self.service.config(name)
        except JstuiError as error:
            self._error(error)
            return
        current = StreamSpec.from_config(config)
        result = await self.app.push_screen_wait(StreamFormScreen(self.service, current=current))
        if result is not None:
            self._changed(f"Saved stream {result.name}")

    def action_purge_stream(self) -> None:
        name = self._need_selection()
        if name is not None and self._writable("purge stream"):
            self._purge_stream(name)

    @work(group="streams-action", exit_on_error=False, description="purge stream")
    async def _purge_stream(self, name: str) -> None:
        try:
            summary = await self.service.summary(name)
        except JstuiError as error:
            self._error(error)
            return
        request = await self.app.push_screen_wait(StreamPurgeScreen(summary))
        if request is None:
            return
        try:
            # Count again right before asking: the stream may have grown while the dialog was open.
            count = await self._purge_count(name, request)
        except JstuiError as error:
            self._error(error)
            return
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
        try:
            purged = await self.service.purge(name, subject=request.subject, keep=request.keep)
        except JstuiError as error:
            self._error(error)
            return
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
        try:
            summary = await self.service.summary(name)
        except JstuiError as error:
            self._error(error)
            return
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
        try:
            await self.service.delete(name)
        except JstuiError as error:
            self._error(error)
            return
        if self._selected == name:
            self._selected = None
        self._changed(f"Deleted stream {name}")

    def action_browse_stream(self) -> None:
        name = self._need_selection()
        if name is not None:
            self.app.push_screen(StreamBrowserScreen(self.service, name))
