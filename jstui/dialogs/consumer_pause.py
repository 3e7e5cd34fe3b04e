"""The pause dialog of a consumer: until when, as a time or as a while from now.

`ConsumerPauseScreen(stream, name)` asks "30m", "2h", "1d" (from now) or a time
("2026-12-03 18:00", local unless a zone is given) and dismisses with that moment in UTC, or None
when cancelled. Checking happens here (`pause_until`); the pane sends it with
`ConsumerService.pause`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from jstui.dialogs.form_row import FormRow
from jstui.dialogs.form_screen import FormScreen
from jstui.format.text import sanitize
from jstui.format.units import duration_has_units, parse_duration
from jstui.nats.consumers.spec import parse_start_time


def pause_until(text: str, now: float | None = None) -> datetime:
    """The moment `text` means: a duration with units from now, or a time; `ValueError` for
    anything else or a moment not in the future."""
    raw = text.strip()
    now = time.time() if now is None else now
    if duration_has_units(raw):
        seconds = parse_duration(raw) or 0
        moment = datetime.fromtimestamp(now, UTC) + timedelta(seconds=seconds)
    else:
        try:
            moment = parse_start_time(raw)
        except ValueError:
            raise ValueError("a while (30m, 2h, 1d) or a time (2026-12-03 18:00)") from None
    if moment.timestamp() <= now:
        raise ValueError("that moment has passed: give a time in the future")
    return moment


class ConsumerPauseScreen(FormScreen[datetime | None]):
    """Ask until when a consumer pauses."""

    FORM_ERROR_ID = ""
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, stream: str, name: str) -> None:
        super().__init__()
        self._stream_name = stream
        self._consumer_name = name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog purge-dialog") as dialog:
            dialog.border_title = "Pause consumer"
            yield Static(
                Text.assemble(
                    "Pause ",
                    (sanitize(self._consumer_name), "bold"),
                    " on stream ",
                    (sanitize(self._stream_name), "bold"),
                    ": the server delivers nothing to it until then.",
                ),
                classes="dialog-intro",
            )
            yield FormRow(
                "Until",
                Input(placeholder="e.g. 30m, 2h, or 2026-12-03 18:00", id="pause-until"),
                key="until",
            )
            yield Label("Enter pauses, Escape cancels.", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Pause", id="pause-ok", variant="warning")
                yield Button("Cancel", id="pause-cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#pause-ok")
    def action_pause(self) -> None:
        try:
            moment = pause_until(self.query_one("#pause-until", Input).value)
        except ValueError as error:
            self.show_errors({"until": str(error)})
            return
        self.dismiss(moment)

    @on(Button.Pressed, "#pause-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
