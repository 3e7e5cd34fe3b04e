"""Shown when the first connection cannot be made: the reason (URL user info masked), retry or
quit."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from jstui.dialogs.styles import DialogStyles
from jstui.format.redact import redact_url
from jstui.format.text import sanitize


class ConnectFailedScreen(DialogStyles, ModalScreen[bool]):
    """Dismisses with True to retry, False to quit."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "dismiss(True)", "Retry"),
        Binding("q", "dismiss(False)", "Quit"),
        Binding("escape", "dismiss(False)", "Quit", show=False),
    ]

    def __init__(self, reason: str) -> None:
        super().__init__(classes="dialog-screen")
        self._reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog connect-failed-dialog") as dialog:
            dialog.border_title = "Cannot connect"
            # The session masks URLs at the source; masking again here costs nothing.
            reason = sanitize(redact_url(self._reason))
            yield Static(Text(reason, style="bold"), id="connect-reason")
            yield Static("r to retry, q to quit", classes="dialog-hint", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Retry", id="retry", variant="primary")
                yield Button("Quit", id="quit", variant="error")

    @on(Button.Pressed, "#retry")
    def _retry(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#quit")
    def _quit(self) -> None:
        self.dismiss(False)
