"""One message in full: metadata, headers, and the payload as text, pretty JSON or hex dump.

Everything shown goes through `jstui.format` (no control characters reach the terminal, nothing is
parsed as markup). The payload sits in a read-only `TextArea`, which draws only the visible lines,
so a 1 MB payload opens at once (text and JSON views keep the first 64 K characters, hex the
first 64 KiB, and say so).

"Publish again" hands the publish form the message's bytes and headers as they are; the form
puts them in its fields in escaped form where needed (`jstui.format.editable`). The copy keys
go through the terminal's clipboard protocol (OSC 52), which terminals cap (around 100 kB) and
drop silently beyond: a larger copy is refused with a word, and `e` saves the payload's exact
bytes to a file instead (`PayloadExportDialog`, which never overwrites a file).
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from jstui.dialogs.form_row import FormRow
from jstui.dialogs.form_screen import FormScreen
from jstui.dialogs.publish import PublishScreen
from jstui.dialogs.styles import DialogStyles
from jstui.format.payload import PayloadView, next_view, render_payload
from jstui.format.text import headers_lines, sanitize
from jstui.format.units import counted, format_age, format_size
from jstui.nats.errors import JstuiError
from jstui.nats.feeds.feed import Feed
from jstui.nats.feeds.message import AckKind, FeedMessage, message_to_json
from jstui.nats.publish import MSG_ID_HEADER

__all__ = ["CLIPBOARD_LIMIT", "MessageDetailScreen", "PayloadExportDialog", "metadata_text"]

CLIPBOARD_LIMIT = 100_000
"""Bytes the copy keys put on the clipboard at most (OSC 52 carries 4/3 as much in base64)."""

_VIEW_NAMES = {PayloadView.TEXT: "text", PayloadView.JSON: "JSON", PayloadView.HEX: "hex"}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def metadata_text(message: FeedMessage, feed: Feed | None = None) -> Text:
    """The metadata block: subject, times, size, reply, and JetStream delivery facts."""
    rows: list[tuple[str, str]] = [("subject", sanitize(message.subject, max_len=1024))]
    # ages are read from the feed's session clocks (a test may have stopped them)
    now = feed.session.clocks.wall() if feed is not None else datetime.now(UTC).timestamp()
    received = datetime.fromtimestamp(message.time, UTC)
    rows.append(
        (
            "received",
            f"{_iso(received)} ({format_age(now - message.time)})",
        )
    )
    rows.append(("size", f"{format_size(len(message.data))} ({len(message.data):,} bytes)"))
    meta = message.meta
    if meta is not None:
        rows.append(("stream", sanitize(meta.stream, max_len=256)))
        rows.append(("stream seq", f"{meta.stream_seq:,}"))
        if meta.consumer:
            rows.append(("consumer", sanitize(meta.consumer, max_len=256)))
            rows.append(("consumer seq", f"{meta.consumer_seq:,}"))
            rows.append(("delivered", counted(meta.delivered, "time")))
        if meta.pending is not None:
            rows.append(("pending", f"{meta.pending:,} more in the consumer"))
        if meta.timestamp is not None:
            age = now - meta.timestamp.timestamp()
            rows.append(("stored", f"{_iso(meta.timestamp)} ({format_age(age)})"))
        if meta.domain:
            rows.append(("domain", sanitize(meta.domain, max_len=256)))
    if message.reply and not message.reply.startswith("$JS.ACK."):
        rows.append(("reply to", sanitize(message.reply, max_len=1024)))
    if feed is not None:
        rows.append(("feed", sanitize(feed.describe(), max_len=300)))
        answered = feed.acks.get(message.index)
        if answered is not None:
            rows.append(("answered", answered.value))
    return aligned_rows(rows)


def aligned_rows(rows: list[tuple[str, str]]) -> Text:
    """Aligned ``name  value`` lines, names right-aligned in bold; values sanitized already."""
    width = max(len(name) for name, _ in rows)
    text = Text()
    for name, value in rows:
        text.append(f"{name.rjust(width)}  ", style="bold")
        text.append(f"{value}\n")
    text.rstrip()
    return text


class MessageDetailScreen(DialogStyles, ModalScreen[None]):
    """A message's detail. v cycles the payload view; c / j copy; e exports the payload; r
    publishes it again."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("v", "cycle_view", "Text/JSON/hex"),
        Binding("c", "copy_payload", "Copy payload"),
        Binding("j", "copy_json", "Copy as JSON"),
        Binding("e", "export_payload", "Export payload", show=False),
        Binding("r", "publish_again", "Publish again"),
        Binding("a", "answer('ack')", "Ack"),
        Binding("n", "answer('nak')", "Nak"),
        Binding("t", "answer('term')", "Term"),
    ]

    def __init__(self, message: FeedMessage, feed: Feed) -> None:
        super().__init__(classes="dialog-screen")
        self.message = message
        self.feed = feed
        view, text = render_payload(message.data)
        self.view = view
        self._payload_text = text

    def compose(self) -> ComposeResult:
        message = self.message
        with Vertical(classes="dialog detail-dialog") as box:
            box.border_title = f"Message #{message.index:,}"
            with VerticalScroll(id="detail-top"):
                yield Static(metadata_text(message, self.feed), id="detail-meta", markup=False)
                yield Label("Headers", classes="detail-section")
                lines = headers_lines(message.headers)
                yield Static(
                    Text("\n".join(lines) if lines else "(none)"),
                    id="detail-headers",
                    markup=False,
                )
            yield Static(self._payload_title(), id="detail-payload-title", markup=False)
            yield TextArea(
                self._payload_text,
                id="detail-payload",
                read_only=True,
                soft_wrap=self.view is PayloadView.TEXT,
                compact=True,
            )
            with Horizontal(classes="dialog-buttons detail-buttons"):
                if self._can_ack:
                    yield Button("Ack", id="detail-ack", variant="success", compact=True)
                    yield Button("Nak", id="detail-nak", compact=True)
                    yield Button("Term", id="detail-term", variant="error", compact=True)
                yield Button(
                    "Publish again",
                    id="detail-again",
                    compact=True,
                    disabled=self.feed.session.read_only,
                )
                yield Button("Close", id="detail-close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#detail-payload", TextArea).focus()

    @property
    def _can_ack(self) -> bool:
        return self.feed.can_ack

    def _payload_title(self) -> Text:
        views = " \u00b7 ".join(
            f"[{name}]" if view is self.view else name for view, name in _VIEW_NAMES.items()
        )
        return Text(f"Payload ({format_size(len(self.message.data))}) \u2014 v: {views}")

    @property
    def payload_text(self) -> str:
        """The payload as currently shown (tests read it)."""
        return self._payload_text

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer":
            return self._can_ack and not self.feed.session.read_only
        if action == "publish_again":
            return not self.feed.session.read_only  # read-only mode would refuse it
        return True

    def action_cycle_view(self) -> None:
        self.view, self._payload_text = render_payload(self.message.data, next_view(self.view))
        area = self.query_one("#detail-payload", TextArea)
        area.soft_wrap = self.view is PayloadView.TEXT
        area.load_text(self._payload_text)
        self.query_one("#detail-payload-title", Static).update(self._payload_title())

    def _copy(self, text: str, what: str) -> bool:
        """Put `text` on the clipboard, or say why not (too large for the terminal)."""
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > CLIPBOARD_LIMIT:
            self.notify(
                f"{what} not copied: {size:,} bytes is more than a terminal's clipboard takes "
                f"(about {CLIPBOARD_LIMIT // 1000} kB). Press e to export the payload to a file.",
                severity="warning",
                markup=False,
                timeout=10,
            )
            return False
        self.app.copy_to_clipboard(text)
        return True

    def action_copy_payload(self) -> None:
        data = self.message.data
        try:
            text, binary = data.decode("utf-8"), False
        except UnicodeDecodeError:
            text, binary = base64.b64encode(data).decode("ascii"), True
        if not self._copy(text, "Payload"):
            return
        if binary:
            self.notify("Binary payload copied as base64.", markup=False)
        else:
            self.notify(f"Payload copied ({len(data):,} bytes).", markup=False)

    def action_copy_json(self) -> None:
        text = json.dumps(message_to_json(self.message), ensure_ascii=False, indent=2)
        if self._copy(text, "Message as JSON"):
            self.notify("Message copied as JSON.", markup=False)

    def action_export_payload(self) -> None:
        default = Path.cwd() / f"payload-{self.message.index}.bin"
        self.app.push_screen(PayloadExportDialog(self.message.data, default))

    @on(Button.Pressed, "#detail-again")
    def action_publish_again(self) -> None:
        message = self.message
        headers = {
            key: value
            for key, value in (message.headers or {}).items()
            if key != MSG_ID_HEADER  # the same id would make the server drop it as a duplicate
        }
        jetstream = True if message.meta is not None else None
        self.dismiss(None)
        self.app.push_screen(
            PublishScreen(
                self.feed.session,
                subject=message.subject,
                payload=message.data,
                headers=headers,
                jetstream=jetstream,
            )
        )

    @on(Button.Pressed, "#detail-close")
    def _close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#detail-ack")
    def _ack(self) -> None:
        self.action_answer("ack")

    @on(Button.Pressed, "#detail-nak")
    def _nak(self) -> None:
        self.action_answer("nak")

    @on(Button.Pressed, "#detail-term")
    def _term(self) -> None:
        self.action_answer("term")

    def action_answer(self, kind: str) -> None:
        if self._can_ack:
            self._send_answer(AckKind(kind))

    @work(exclusive=True, group="detail-ack", exit_on_error=False, description="acknowledge")
    async def _send_answer(self, kind: AckKind) -> None:
        try:
            await self.feed.acknowledge(self.message, kind)
        except JstuiError as error:
            self.notify(sanitize(str(error)), severity="error", markup=False)
            return
        self.query_one("#detail-meta", Static).update(metadata_text(self.message, self.feed))
        self.notify(f"Message {kind.value} sent.", markup=False)


class PayloadExportDialog(FormScreen[Path | None]):
    """Asks for a file name and writes a payload's exact bytes there; never overwrites a file."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, data: bytes, default: Path) -> None:
        super().__init__()
        self._data = data
        self._default = default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog feed-dialog") as box:
            box.border_title = "Export the payload"
            yield Static(
                Text(f"The payload's {len(self._data):,} bytes, exactly as received."),
                classes="dialog-intro",
            )
            yield FormRow(
                "File",
                Input(str(self._default), id="payload-export-path", compact=True),
                key="path",
                error_id="payload-export-path-error",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", id="payload-export-ok", variant="primary")
                yield Button("Cancel", id="payload-export-cancel")

    def on_mount(self) -> None:
        self.query_one("#payload-export-path", Input).focus()

    @on(Button.Pressed, "#payload-export-ok")
    @on(Input.Submitted)
    def _submit(self) -> None:
        name = self.query_one("#payload-export-path", Input).value.strip()
        if not name:
            self.row("path").show_error("a file name is required")
            return
        self._export(Path(name).expanduser().absolute())

    @work(exclusive=True, group="payload-export", exit_on_error=False, description="export")
    async def _export(self, path: Path) -> None:
        try:
            await asyncio.to_thread(_write_new_file, path, self._data)
        except FileExistsError:
            self.row("path").show_error(f"{path} exists already: choose another name")
            return
        except OSError as error:
            self.row("path").show_error(f"cannot write {path}: {error.strerror or error}")
            return
        self.app.notify(
            f"Payload written to {path} ({len(self._data):,} bytes).",
            title="Export done",
            markup=False,
            timeout=10,
        )
        self.dismiss(path)

    @on(Button.Pressed, "#payload-export-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def _write_new_file(path: Path, data: bytes) -> None:
    with path.open("xb") as handle:  # "x": an existing file is never overwritten
        handle.write(data)
