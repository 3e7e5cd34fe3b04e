"""The message browser of one stream. It never consumes.

Messages are read with get-message by sequence (direct get when the stream allows it) through
`StreamService.page`, never through a consumer, so work-queue and interest streams keep every
message the user looks at.

One page fills the table: PgDn goes on in the current order (older when newest first), PgUp goes
back the other way, `o` flips the order, `g` jumps to a sequence, `f` filters by subject
(wildcards allowed). The selected message's sequence, subject, time, headers and payload are shown
beside (wide terminal) or below (narrow) the list; `v` cycles the payload between text, pretty JSON
and a hex dump.

`d` deletes the selected message (or erases it: its bytes overwritten) after a confirmation that
names it; a stream that denies deletes refuses at once, saying why, and read-only mode hides `d`
and `i`. `e` exports a range of sequences to an NDJSON file and `i` publishes such a file into this
stream (`stream_ndjson`). The browser can open filtered on a subject (the subjects view does that).

Focus moves one level at a time, and says so: Enter on a message moves into its detail (the
detail's border lights up and its title says how to scroll and how to go back), Escape from the
detail or from a field goes back to the list, and Escape on the list closes the browser. The
footer names what Escape does where the focus is ("Back to list" or "Close").
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, ScrollableContainer
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from jstui.dialogs.styles import DialogStyles
from jstui.format.editable import EscapeError, escape_text, unescape_text
from jstui.format.payload import PayloadView, next_view, payload_preview, render_payload
from jstui.format.text import headers_lines, sanitize
from jstui.format.units import counted, format_age, format_count, format_size
from jstui.nats.errors import JstuiError
from jstui.nats.names import subject_problem
from jstui.nats.session import Session
from jstui.nats.streams.service import StreamService
from jstui.nats.streams.summaries import StoredMessage, StreamSummary

WIDE = 120
"""From this width the detail is shown beside the list instead of below it."""

DEFAULT_PAGE = 20
MAX_PAGE = 200
MAX_PAYLOAD_SHOWN = 64 * 1024
"""Bytes of a payload rendered in the detail; the rest is counted, not drawn (a 1 MB payload
would stall the UI for seconds)."""


def _time(message: StoredMessage, *, full: bool) -> str:
    if message.time is None:
        return "-"
    local = message.time.astimezone()
    if not full:
        # The time of day for today's messages; older ones need the date to be read right.
        today = datetime.now(local.tzinfo).date()
        return f"{local:%H:%M:%S}" if local.date() == today else f"{local:%Y-%m-%d %H:%M}"
    millis = local.microsecond // 1000
    return f"{local:%Y-%m-%d %H:%M:%S}.{millis:03d} {local:%Z}"


def render_message(message: StoredMessage, view: PayloadView | None) -> tuple[PayloadView, Text]:
    """The detail of one message; every part of it is sanitized. Returns the payload view used."""
    text = Text()
    text.append("Seq ", style="bold")
    text.append(format_count(message.seq))
    text.append("  Subject ", style="bold")
    text.append(f"{sanitize(message.subject)}\n")
    text.append("Time ", style="bold")
    text.append(_time(message, full=True))
    if message.time is not None:
        text.append(f" ({format_age(time.time() - message.time.timestamp())})")
    text.append("  Size ", style="bold")
    text.append(f"{format_size(len(message.data))}\n")
    lines = headers_lines(message.headers)
    text.append("Headers", style="bold")
    if not lines:
        text.append(" none\n", style="dim")
    else:
        text.append("\n")
        for line in lines:
            text.append(f"  {line}\n")
    data = message.data[:MAX_PAYLOAD_SHOWN]
    used, body = render_payload(data, view)
    text.append("\nPayload", style="bold")
    text.append(f"  as {used.value} (v: text / json / hex)", style="dim")
    if len(message.data) > len(data):
        text.append(
            f"  first {format_size(len(data))} of {format_size(len(message.data))}", style="dim"
        )
    text.append("\n")
    text.append(body)
    return used, text


ConfirmFirst = Callable[[StreamSummary, str], Awaitable[bool]]
"""Asked before a change ("delete message", "import", "purge") with the stream's summary: False
stops it. The Streams pane passes its bucket warning (a KV bucket or object store behind the
stream); dialogs cannot reach the widgets that word it."""


CHANGING_ACTIONS = frozenset({"delete_message", "import"})
"""The browser's keys that change the stream: hidden in read-only mode (the service refuses
them there too)."""


class StreamBrowserScreen(DialogStyles, Screen[None]):
    """Browse stream `name` page by page, newest first, without consuming anything."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # One key, two meanings: `check_action` enables the one that fits where the focus is.
        Binding("escape", "back", "Back to list"),
        Binding("escape", "close", "Close"),
        Binding("pagedown", "next_page", "Next page", key_display="PgDn", priority=True),
        Binding("pageup", "previous_page", "Prev page", key_display="PgUp", priority=True),
        Binding("o", "toggle_order", "Order"),
        Binding("g", "jump", "Go to seq"),
        Binding("f", "filter", "Filter"),
        Binding("v", "cycle_view", "Text/JSON/hex"),
        Binding("d", "delete_message", "Delete msg"),
        Binding("e", "export", "Export"),
        Binding("i", "import", "Import"),
        Binding("r", "reload", "Reload", show=False),
    ]

    def __init__(
        self,
        service: StreamService,
        name: str,
        *,
        subject: str | None = None,
        confirm_first: ConfirmFirst | None = None,
    ) -> None:
        super().__init__(classes="stream-browser")
        self._service = service
        self._confirm_first = confirm_first
        self.stream = name
        self.newest_first = True
        self.subject: str | None = subject
        self.messages: list[StoredMessage] = []
        """The page on screen, in the order shown."""
        self._by_seq: dict[int, StoredMessage] = {}
        self._next_start: int | None = None
        self._summary: StreamSummary | None = None
        self._view: PayloadView | None = None
        """The payload view the user chose with `v`; None lets each payload pick its own."""
        self._shown_view: PayloadView | None = None
        self._shown_seq: int | None = None

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="browser-title")
        with Horizontal(id="browser-tools"):
            yield Label("Filter", classes="browser-label")
            yield Input(
                placeholder="subject, wildcards ok; empty = all",
                id="browser-filter",
                compact=True,
            )
            yield Label("Go to seq", classes="browser-label")
            yield Input(placeholder="number", id="browser-jump", compact=True, type="integer")
        yield Static("", id="browser-error", markup=False)
        with Container(id="browser-body"):
            table: DataTable[Text] = DataTable(id="browser-table", cursor_type="row")
            table.border_title = "Messages"
            table.add_column(Text("Seq", justify="right"), key="seq")
            table.add_column("Time", key="time")
            table.add_column("Subject", key="subject")
            table.add_column(Text("Size", justify="right"), key="size")
            table.add_column("Payload", key="payload")
            yield table
            with ScrollableContainer(id="browser-detail") as detail:
                detail.border_title = "Message"
                yield Static(id="browser-detail-body")
        yield Static(id="browser-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#browser-error").display = False
        if self.subject:
            self.query_one("#browser-filter", Input).value = escape_text(self.subject)
        self.query_one("#browser-table").focus()
        self._focus_moved()
        self._update_title()
        # After the first layout, so that the first page fills the table's real height.
        self.call_after_refresh(self.action_reload)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#browser-table", DataTable)

    # -- loading -------------------------------------------------------------------------------

    def _page_size(self) -> int:
        """As many messages as the table shows at once (one page = one screenful)."""
        height = self.table.size.height - 1  # the header row
        return min(MAX_PAGE, max(5, height)) if height > 1 else DEFAULT_PAGE

    def _show_error(self, message: str) -> None:
        error = self.query_one("#browser-error", Static)
        error.update(Text(sanitize(message, max_len=500)))
        error.display = bool(message)

    @work(exclusive=True, group="browser-load", exit_on_error=False, description="browse stream")
    async def _load(
        self,
        start: int | None,
        *,
        direction_newest_first: bool,
        select: int | None = None,
    ) -> None:
        """Fetch one page from `start` in the given direction and show it in the view's order.

        A page fetched against the view's order (PgUp) is reversed before it is shown.
        """
        count = self._page_size()
        try:
            self._summary = await self._service.summary(self.stream)
            page = await self._service.page(
                self.stream,
                start=start,
                count=count,
                newest_first=direction_newest_first,
                subject=self.subject,
            )
        except JstuiError as error:
            self._show_error(str(error))
            return
        self._show_error("")
        self._update_title()
        if direction_newest_first != self.newest_first:
            if not page:
                self.notify(
                    "Already at the newest message."
                    if self.newest_first
                    else "Already at the oldest message.",
                    markup=False,
                )
                return
            shown = list(reversed(page))
            last = shown[-1].seq
            self._next_start = last - 1 if self.newest_first else last + 1
        else:
            shown = list(page)
            self._next_start = page.next_start
        self._fill(shown, select)

    def _fill(self, shown: Sequence[StoredMessage], select: int | None) -> None:
        table = self.table
        self.messages = list(shown)
        self._by_seq = {m.seq: m for m in shown}
        preview = max(20, table.size.width - 48)
        with self.app.batch_update():
            table.clear()
            for message in shown:
                table.add_row(
                    Text(format_count(message.seq), justify="right"),
                    Text(_time(message, full=False)),
                    Text(sanitize(message.subject, max_len=60), no_wrap=True),
                    Text(format_size(len(message.data)), justify="right"),
                    Text(payload_preview(message.data, width=preview), no_wrap=True),
                    key=str(message.seq),
                )
            if select is not None and select in self._by_seq:
                table.move_cursor(row=table.get_row_index(str(select)))
        if shown:
            self._show_message(self.messages[table.cursor_row if table.cursor_row >= 0 else 0])
        else:
            self._show_message(None)
        self._update_status()

    def _update_title(self) -> None:
        title = Text()
        title.append("Browse ", style="bold")
        title.append(sanitize(self.stream), style="bold")
        summary = self._summary
        if summary is not None:
            title.append(f"  {counted(summary.messages, 'message')}")
            if summary.messages:
                title.append(
                    f", seq {format_count(summary.first_seq)}-{format_count(summary.last_seq)}"
                )
            title.append(f"  {summary.retention}", style="dim")
        title.append("  read-only view, never consumes", style="dim italic")
        self.query_one("#browser-title", Static).update(title)

    def _update_status(self) -> None:
        status = Text()
        order = "newest first" if self.newest_first else "oldest first"
        status.append(order, style="bold")
        status.append("  subject ")
        status.append(sanitize(self.subject) if self.subject else "all", style="bold")
        if self.messages:
            status.append(
                f"  showing {format_count(self.messages[0].seq)}"
                f"-{format_count(self.messages[-1].seq)} ({len(self.messages)})"
            )
            more = "older" if self.newest_first else "newer"
            if self._next_start is None:
                status.append(f"  no {more} messages", style="dim")
            else:
                status.append(f"  PgDn: {more}", style="dim")
        else:
            status.append("  no messages" + (" on this subject" if self.subject else ""))
        self.query_one("#browser-status", Static).update(status)

    # -- the detail ----------------------------------------------------------------------------

    def _show_message(self, message: StoredMessage | None) -> None:
        body = self.query_one("#browser-detail-body", Static)
        if message is None:
            self._shown_seq = self._shown_view = None
            body.update(Text("No message to show.", style="dim"))
            return
        self._shown_seq = message.seq
        self._shown_view, text = render_message(message, self._view)
        # A hex dump is only readable unwrapped: it scrolls sideways instead on a narrow screen.
        body.set_class(self._shown_view is PayloadView.HEX, "-nowrap")
        body.update(text)

    @property
    def detail_text(self) -> str:
        """The detail as plain text (what the user reads), for tests and copy."""
        content = self.query_one("#browser-detail-body", Static).content
        return content.plain if isinstance(content, Text) else str(content)

    @on(DataTable.RowHighlighted, "#browser-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is not None and int(key) != self._shown_seq:
            self._show_message(self._by_seq.get(int(key)))

    @on(DataTable.RowSelected, "#browser-table")
    def _selected(self) -> None:
        self.query_one("#browser-detail").focus()

    # -- where the focus is ----------------------------------------------------------------------

    @property
    def away_from_list(self) -> bool:
        """True while the focus is in the detail or a field: Escape goes back to the list."""
        return self.focused is not None and self.focused is not self.table

    def on_descendant_focus(self) -> None:
        self._focus_moved()

    def on_descendant_blur(self) -> None:
        self._focus_moved()

    def _focus_moved(self) -> None:
        """Say in the borders and the footer where the focus is and what Escape will do."""
        detail = self.query_one("#browser-detail")
        in_detail = self.focused is detail
        detail.border_subtitle = "↑↓ scroll · Esc back to the list" if in_detail else ""
        self.table.border_subtitle = "" if in_detail else "Enter reads the message · Esc closes"
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return self.away_from_list
        if action == "close":
            return not self.away_from_list
        if action in CHANGING_ACTIONS:  # read-only mode hides them, as the Streams pane does
            session = getattr(self.app, "session", None)
            return not (isinstance(session, Session) and session.read_only)
        return True

    # -- actions -------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.table.focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_next_page(self) -> None:
        if self._next_start is None:
            older = "older" if self.newest_first else "newer"
            self.notify(f"No {older} messages.", markup=False)
            return
        self._load(self._next_start, direction_newest_first=self.newest_first)

    def action_previous_page(self) -> None:
        if not self.messages:
            self.action_reload()
            return
        first = self.messages[0].seq
        start = first + 1 if self.newest_first else first - 1
        if start < 1:
            self.notify("Already at the oldest message.", markup=False)
            return
        self._load(start, direction_newest_first=not self.newest_first)

    def action_toggle_order(self) -> None:
        self.newest_first = not self.newest_first
        self._load(None, direction_newest_first=self.newest_first)

    def action_reload(self) -> None:
        self._load(None, direction_newest_first=self.newest_first)

    def action_cycle_view(self) -> None:
        if self._shown_seq is None:
            return
        self._view = next_view(self._shown_view or PayloadView.TEXT)
        self._show_message(self._by_seq.get(self._shown_seq))

    # -- delete, export, import ----------------------------------------------------------------

    def action_delete_message(self) -> None:
        message = self._by_seq.get(self._shown_seq) if self._shown_seq is not None else None
        if message is None:
            self.notify("No message selected.", markup=False)
            return
        if self._summary is not None and (refusal := self._summary.delete_refusal):
            self._show_error(f"cannot delete a message of stream {self.stream}: {refusal}")
            return
        self._delete_message(message)

    async def _confirmed_first(self, action: str) -> bool:
        """The pane's question before `action` (a bucket behind the stream); errors are shown."""
        if self._confirm_first is None:
            return True
        try:
            summary = self._summary or await self._service.summary(self.stream)
        except JstuiError as error:
            self._show_error(str(error))
            return False
        return await self._confirm_first(summary, action)

    @work(group="browser-change", exit_on_error=False, description="delete message")
    async def _delete_message(self, message: StoredMessage) -> None:
        from jstui.dialogs.message_delete import MessageDeleteScreen  # on first use

        if not await self._confirmed_first("delete message"):
            return
        choice = await self.app.push_screen_wait(MessageDeleteScreen(self.stream, message))
        if choice is None:
            return
        try:
            await self._service.delete_message(self.stream, message.seq, erase=choice == "erase")
        except JstuiError as error:
            self._show_error(f"delete {message.seq}: {error}")
            return
        done = "Erased" if choice == "erase" else "Deleted"
        self.notify(f"{done} message {format_count(message.seq)}.", markup=False)
        # The same page again, without it; the cursor on its neighbour.
        index = self.messages.index(message)
        rest = self.messages[:index] + self.messages[index + 1 :]
        neighbour = rest[min(index, len(rest) - 1)].seq if rest else None
        self._load(self.messages[0].seq, direction_newest_first=self.newest_first, select=neighbour)

    def action_export(self) -> None:
        from jstui.dialogs.stream_ndjson import ExportScreen  # on first use

        summary = self._summary
        first = summary.first_seq if summary else 1
        last = summary.last_seq if summary else 0
        self.app.push_screen(
            ExportScreen(self._service, self.stream, first=first, last=last, subject=self.subject)
        )

    @work(group="browser-change", exit_on_error=False, description="import")
    async def action_import(self) -> None:
        from jstui.dialogs.stream_ndjson import ImportScreen  # on first use

        if await self._confirmed_first("import"):
            await self.app.push_screen_wait(ImportScreen(self._service, self.stream))
            self.action_reload()

    def action_jump(self) -> None:
        self.query_one("#browser-jump", Input).focus()

    def action_filter(self) -> None:
        self.query_one("#browser-filter", Input).focus()

    @on(Input.Submitted, "#browser-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        try:  # the field holds a subject from the server in escaped form (`format.editable`)
            subject = unescape_text(event.value.strip())
        except EscapeError as error:
            self._show_error(f"filter: {error.reason}")
            return
        if subject and (problem := subject_problem(subject)):
            self._show_error(f"filter: {problem}")
            return
        self.subject = subject or None
        self.table.focus()
        self._load(None, direction_newest_first=self.newest_first)

    @on(Input.Submitted, "#browser-jump")
    def _jump_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text.isdigit() or int(text) < 1:
            self._show_error("go to seq: type a sequence number (1 or more)")
            return
        seq = int(text)
        summary = self._summary
        if (
            summary is not None
            and summary.last_seq
            and not (summary.first_seq <= seq <= summary.last_seq)
        ):
            self._show_error(
                f"go to seq: {seq} is outside the stream "
                f"({format_count(summary.first_seq)}-{format_count(summary.last_seq)})"
            )
            return
        self.table.focus()
        self._load(seq, direction_newest_first=self.newest_first, select=seq)
