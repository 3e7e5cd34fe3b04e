"""The purge dialog: which messages of a stream to remove.

It only asks *what* to purge (everything, the messages on one subject, or all but the newest N)
and dismisses with a `PurgeRequest`. The pane then counts what would go, asks for confirmation in a
`ConfirmScreen` that names the stream and the count, and purges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from jstui.dialogs.form_row import FormRow, ParsedBy, ProblemOf
from jstui.dialogs.form_screen import FormScreen
from jstui.format.text import sanitize
from jstui.format.units import format_count, parse_count
from jstui.nats.names import subject_problem
from jstui.nats.streams.summaries import StreamSummary


@dataclass(frozen=True)
class PurgeRequest:
    """What to purge: messages on `subject` (None = every subject), keeping the newest `keep`."""

    subject: str | None = None
    keep: int | None = None

    def describe(self) -> Text:
        """The tail of the confirmation question ("on subject x", "keeping the newest 10")."""
        text = Text()
        if self.subject:
            text.append(" on subject ")
            text.append(sanitize(self.subject), style="bold")
        if self.keep:
            text.append(f", keeping the newest {format_count(self.keep)}")
        return text


class StreamPurgeScreen(FormScreen[PurgeRequest | None]):
    """Choose all / by subject / keep the newest N for the stream in `summary`."""

    READ_ONLY_NOTICE = "nothing is purged."
    READ_ONLY_BUTTON = "purge-go"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, summary: StreamSummary) -> None:
        super().__init__()
        self._summary = summary

    def compose(self) -> ComposeResult:
        summary = self._summary
        with Vertical(classes="dialog purge-dialog") as dialog:
            dialog.border_title = "Purge stream"
            yield self.read_only_notice()
            yield Static(
                Text.assemble(
                    "Stream ",
                    (sanitize(summary.name), "bold"),
                    " holds ",
                    (format_count(summary.messages), "bold"),
                    " message" if summary.messages == 1 else " messages",
                    f" (sequences {format_count(summary.first_seq)}"
                    f"-{format_count(summary.last_seq)})."
                    if summary.messages
                    else ".",
                ),
                id="purge-summary",
            )
            with RadioSet(id="purge-mode"):
                yield RadioButton("All messages", value=True, id="purge-all")
                yield RadioButton("Only the messages on a subject", id="purge-by-subject")
                yield RadioButton("All but the newest N messages", id="purge-keep")
            yield FormRow(
                "Subject",
                Input(
                    placeholder="e.g. orders.eu.* (wildcards allowed)",
                    id="purge-subject",
                    compact=True,
                    disabled=True,
                    validators=[ProblemOf(lambda text: subject_problem(text.strip()))],
                ),
                key="subject",
                error_id="purge-subject-error",
            )
            yield FormRow(
                "Keep newest",
                Input(
                    placeholder="N messages",
                    id="purge-keep-count",
                    compact=True,
                    disabled=True,
                    validators=[ParsedBy(parse_count)],
                ),
                key="keep",
                error_id="purge-keep-error",
            )
            yield Label(
                "Next you see how many messages go, and confirm.",
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Purge…", id="purge-go", variant="error")
                yield Button("Cancel", id="purge-cancel")

    def on_mount(self) -> None:
        self.query_one(RadioSet).focus()

    @property
    def mode(self) -> str:
        pressed = self.query_one(RadioSet).pressed_button
        return (pressed.id or "purge-all") if pressed is not None else "purge-all"

    @on(RadioSet.Changed)
    def _mode_changed(self) -> None:
        mode = self.mode
        subject = self.query_one("#purge-subject", Input)
        keep = self.query_one("#purge-keep-count", Input)
        subject.disabled = mode != "purge-by-subject"
        keep.disabled = mode != "purge-keep"
        if not subject.disabled:
            subject.focus()
        elif not keep.disabled:
            keep.focus()

    def request(self) -> PurgeRequest | None:
        """The request the form describes, or None after showing what is wrong."""
        mode = self.mode
        self.show_errors({})
        if mode == "purge-by-subject":
            subject = self.query_one("#purge-subject", Input).value.strip()
            problem = subject_problem(subject) if subject else "type the subject to purge"
            if problem:
                self.row("subject").show_error(problem)
                self.query_one("#purge-subject", Input).focus()
                return None
            return PurgeRequest(subject=subject)
        if mode == "purge-keep":
            text = self.query_one("#purge-keep-count", Input).value
            try:
                keep = parse_count(text)
            except ValueError as error:
                self.row("keep").show_error(str(error))
                self.query_one("#purge-keep-count", Input).focus()
                return None
            if not keep:
                self.row("keep").show_error("how many of the newest messages to keep (1+)")
                self.query_one("#purge-keep-count", Input).focus()
                return None
            return PurgeRequest(keep=keep)
        return PurgeRequest()

    @on(Input.Submitted)
    @on(Button.Pressed, "#purge-go")
    def action_purge(self) -> None:
        request = self.request()
        if request is not None:
            self.dismiss(request)

    @on(Button.Pressed, "#purge-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
