"""The "Watch requests on a subject" form of the Request/Reply pane: which subject, and how long a
request may wait for its reply before it counts as unanswered.

`WatchRequestsFormScreen(subject, window, watching)` checks both fields here (the subject with
`jstui.nats.names.subject_problem`, the window with `jstui.format.units.parse_duration`) and
dismisses with a `WatchChoice`: the subject and window to watch, or ``stop`` when the user ends
the watch running now; None when cancelled. The pane starts or stops the watch. Watching changes
nothing on the server (plain subscriptions only), so read-only mode allows it and the form has no
read-only notice.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from jstui.format.units import duration_field, parse_duration
from jstui.nats.names import subject_problem

MAX_WINDOW = 3600.0
"""The longest reply window: requests wait in memory that long (capped in number too)."""


@dataclass(frozen=True)
class WatchChoice:
    subject: str = ""
    window: float = 5.0
    stop: bool = False
    """End the watch running now (subject and window unused)."""


def parse_window(text: str) -> float:
    """Seconds from "5s", "500ms", "2m" or a number; `ValueError` saying why otherwise."""
    seconds = parse_duration(text)  # raises ValueError with a hint
    if seconds is None:
        raise ValueError("give how long to wait for a reply, e.g. 5s or 500ms")
    if seconds > MAX_WINDOW:
        raise ValueError("at most 1h")
    return seconds


class WatchRequestsFormScreen(FormScreen[WatchChoice | None]):
    """Ask what to watch; dismisses with a `WatchChoice` or None."""

    FORM_ERROR_ID = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "watch", "Watch"),
    ]

    def __init__(self, subject: str = "", window: float = 5.0, watching: str | None = None) -> None:
        super().__init__()
        self._subject = subject
        self._window = window
        self._watching = watching

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog purge-dialog") as dialog:
            dialog.border_title = "Watch requests on a subject"
            intro = Text(
                "Shows other programs' requests on the subject (wildcards allowed), core "
                "requests and stored ones with a reply-to header, each with its replies and "
                "latency. jstui only listens: plain subscriptions, no queue group, no consumer. "
                "While it watches, a request nobody else answers times out at the requester "
                "instead of failing with 'no responders' (jstui received it)."
            )
            if self._watching:
                intro.append("\nWatching now: ", style="bold")
                intro.append(sanitize(self._watching, max_len=120))
            yield Static(intro, classes="dialog-intro", markup=False)
            yield FormRow(
                "Subject",
                Input(self._subject, placeholder="e.g. my.subject.requests", id="watch-subject"),
                key="subject",
            )
            yield FormRow(
                "Reply within",
                Input(duration_field(self._window), placeholder="5s", id="watch-window"),
                key="window",
                hint="a request with no reply by then says 'no reply'",
            )
            yield Label("Enter or ctrl+s watches, Escape cancels.", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Watch", id="watch-start", variant="primary")
                if self._watching:
                    yield Button("Stop watching", id="watch-stop", variant="warning")
                yield Button("Cancel", id="watch-cancel")

    def on_mount(self) -> None:
        self.query_one("#watch-subject", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#watch-start")
    def action_watch(self) -> None:
        subject = self.query_one("#watch-subject", Input).value.strip()
        errors: dict[str, str] = {}
        if problem := subject_problem(subject):
            errors["subject"] = problem
        try:
            window = parse_window(self.query_one("#watch-window", Input).value)
        except ValueError as error:
            errors["window"] = str(error)
        if errors:
            self.show_errors(errors)
            return
        self.dismiss(WatchChoice(subject, window))

    @on(Button.Pressed, "#watch-stop")
    def action_stop(self) -> None:
        self.dismiss(WatchChoice(stop=True))

    @on(Button.Pressed, "#watch-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
