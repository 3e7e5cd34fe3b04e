"""The purge dialog: which messages of a stream to remove.

It only asks *what* to purge (everything, the messages on one subject, or all but the newest N)
and dismisses with a `PurgeRequest`; it can open with a subject filled in (the subjects view does
that). `purge_with_confirmation` is the whole flow the Streams pane and the subjects view share:
the dialog, then a count of what would go right before a `ConfirmScreen` names the stream and the
count, then the purge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.form_row import FormRow, ParsedBy, ProblemOf
from jstui.dialogs.form_screen import FormScreen
from jstui.format.editable import EscapeError, escape_text, unescape_text
from jstui.format.text import sanitize
from jstui.format.units import format_count, parse_count
from jstui.nats.errors import JstuiError
from jstui.nats.names import subject_problem
from jstui.nats.streams.service import StreamService
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


def _subject_field_problem(text: str) -> str | None:
    """What is wrong with the subject field (escaped form, `jstui.format.editable`)."""
    try:
        return subject_problem(unescape_text(text.strip()))
    except EscapeError as error:
        return error.reason


class StreamPurgeScreen(FormScreen[PurgeRequest | None]):
    """Choose all / by subject / keep the newest N for the stream in `summary`."""

    READ_ONLY_NOTICE = "nothing is purged."
    READ_ONLY_BUTTON = "purge-go"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, summary: StreamSummary, *, subject: str | None = None) -> None:
        super().__init__()
        self._summary = summary
        self._subject = subject
        """A subject to purge, chosen before (the dialog opens on "only the messages on a
        subject" with it filled in, escaped: it came from the server)."""

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
                yield RadioButton("All messages", value=not self._subject, id="purge-all")
                yield RadioButton(
                    "Only the messages on a subject",
                    value=bool(self._subject),
                    id="purge-by-subject",
                )
                yield RadioButton("All but the newest N messages", id="purge-keep")
            yield FormRow(
                "Subject",
                Input(
                    escape_text(self._subject or ""),
                    placeholder="e.g. orders.eu.* (wildcards allowed)",
                    id="purge-subject",
                    compact=True,
                    disabled=not self._subject,
                    validators=[ProblemOf(_subject_field_problem)],
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
        if self._subject:
            self.query_one("#purge-subject", Input).focus()  # chosen already: Enter goes on
        else:
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
            text = self.query_one("#purge-subject", Input).value.strip()
            problem = _subject_field_problem(text) if text else "type the subject to purge"
            subject = "" if problem else unescape_text(text)
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


async def purge_with_confirmation(
    app: App[object], service: StreamService, name: str, *, subject: str | None = None
) -> int | None:
    """Ask what to purge from stream `name` (the dialog, `subject` filled in), count it, confirm
    with the count, purge; the number purged, or None when the user cancelled. Server errors
    leave as `JstuiError`, and so does a stream that refuses purges (sealed, deny_purge): said
    before the dialog opens, not after the user filled it in."""
    summary = await service.summary(name)
    if summary.purge_refusal:
        raise JstuiError(f"stream {sanitize(name)}: {summary.purge_refusal}")
    request = await app.push_screen_wait(StreamPurgeScreen(summary, subject=subject))
    if request is None:
        return None
    # Count again right before asking: the stream may have grown while the dialog was open.
    total = await service.count(name, request.subject)
    count = max(0, total - (request.keep or 0))
    question = Text.assemble(
        "Purge ",
        (format_count(count), "bold"),
        " message" if count == 1 else " messages",
        " from stream ",
        (sanitize(name), "bold"),
        request.describe(),
        "?\nThis cannot be undone.",
    )
    if not await app.push_screen_wait(
        ConfirmScreen("Purge stream", question, confirm_label="Purge")
    ):
        return None
    return await service.purge(name, subject=request.subject, keep=request.keep)
