"""A yes/no confirmation for destructive actions."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from jstui.dialogs.styles import DialogStyles


class ConfirmScreen(DialogStyles, ModalScreen[bool]):
    """Asks one question; dismisses with True only when the user confirms.

    `question` is a `Text` so callers can put network values (stream names) in it safely.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(False)", "Cancel"),
        Binding("y", "dismiss(True)", "Yes", show=False),
        Binding("n", "dismiss(False)", "No", show=False),
    ]

    def __init__(self, title: str, question: Text, *, confirm_label: str = "Yes") -> None:
        super().__init__(classes="dialog-screen")
        self._title = title
        self._question = question
        self._confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm-dialog") as dialog:
            dialog.border_title = self._title
            yield Static(self._question, id="confirm-question")
            yield Label("y to confirm, n or Escape to cancel", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._confirm_label, id="confirm-yes", variant="error")
                yield Button("Cancel", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self.dismiss(False)
