"""The confirmation for deleting one stored message, with the choice to erase it.

It names the stream, the sequence, the subject and the size of the message that goes (every
string from the server sanitized) and dismisses with "delete" (the message is removed: its bytes
may stay in the store's files until compaction), "erase" (the server overwrites them with random
data first, `no_erase=False`; slower) or None (cancelled). The browser then asks the server.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from jstui.dialogs.styles import DialogStyles
from jstui.format.text import sanitize
from jstui.format.units import format_count, format_size
from jstui.nats.streams.summaries import StoredMessage

DeleteChoice = Literal["delete", "erase"]


class MessageDeleteScreen(DialogStyles, ModalScreen[DeleteChoice | None]):
    """Delete, erase or keep the message `message` of stream `stream`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("n", "dismiss(None)", "No", show=False),
        Binding("y", "choose('delete')", "Delete", show=False),
        Binding("e", "choose('erase')", "Erase", show=False),
    ]

    def __init__(self, stream: str, message: StoredMessage) -> None:
        super().__init__(classes="dialog-screen")
        self._stream = stream
        self._message = message

    def compose(self) -> ComposeResult:
        message = self._message
        with Vertical(classes="dialog confirm-dialog") as dialog:
            dialog.border_title = "Delete message"
            yield Static(
                Text.assemble(
                    "Delete message ",
                    (format_count(message.seq), "bold"),
                    " (subject ",
                    (sanitize(message.subject, max_len=120), "bold"),
                    f", {format_size(len(message.data))}) from stream ",
                    (sanitize(self._stream), "bold"),
                    "?\nThis cannot be undone. Erase also overwrites its bytes in the store.",
                ),
                id="message-delete-question",
            )
            yield Label("y deletes, e erases, n or Escape cancels", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Delete", id="message-delete-yes", variant="error")
                yield Button("Erase", id="message-delete-erase", variant="warning")
                yield Button("Cancel", id="message-delete-no")

    def on_mount(self) -> None:
        self.query_one("#message-delete-no", Button).focus()

    def action_choose(self, choice: DeleteChoice) -> None:
        self.dismiss(choice)

    @on(Button.Pressed, "#message-delete-yes")
    def _delete(self) -> None:
        self.dismiss("delete")

    @on(Button.Pressed, "#message-delete-erase")
    def _erase(self) -> None:
        self.dismiss("erase")

    @on(Button.Pressed, "#message-delete-no")
    def _cancel(self) -> None:
        self.dismiss(None)
