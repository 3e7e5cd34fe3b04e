"""Dialogs of the Feeds pane: subscribe (`FeedDialog`), filter (`FilterDialog`), export
(`ExportDialog`).

The subscribe form looks up the stream that captures the subject as it is typed: until the user
picks a mode, the mode follows the subject (JetStream non-consuming when a stream captures it,
core otherwise), and a submit settles it the same way. The export dialog writes what the view
shows (its filter applied) or the whole buffer, shows the absolute path, and asks before it
replaces a file.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, Static

from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.form_row import FormRow, ProblemOf
from jstui.dialogs.form_screen import FormScreen
from jstui.format.text import sanitize
from jstui.format.units import counted
from jstui.nats.errors import JstuiError, SpecErrors
from jstui.nats.feeds.filter import FeedFilter
from jstui.nats.feeds.message import export_messages, export_target
from jstui.nats.feeds.spec import DEFAULT_BUFFER, Deliver, FeedMode, FeedSpec
from jstui.nats.names import subject_problem
from jstui.nats.stream_lookup import find_stream

if TYPE_CHECKING:
    from jstui.nats.feeds.feed import Feed
    from jstui.nats.session import Session

__all__ = ["ExportDialog", "FeedDialog", "FilterDialog"]

_DELIVER = [
    ("all stored messages, then new ones", Deliver.ALL.value),
    ("new messages only", Deliver.NEW.value),
    ("the last message, then new ones", Deliver.LAST.value),
    ("the last message of each subject", Deliver.LAST_PER_SUBJECT.value),
    ("from a stream sequence", Deliver.SEQUENCE.value),
    ("from a time (10m ago, or ISO time)", Deliver.TIME.value),
]
_MODE_IDS = {
    "mode-core": FeedMode.CORE,
    "mode-js": FeedMode.JETSTREAM,
    "mode-consume": FeedMode.CONSUME,
}
LOOKUP_DELAY = 0.3
"""Seconds of no typing before the subject's stream is looked up."""
CONSUME_WARNING = (
    "Consuming: this feed acknowledges only what you ack (a), nak (k) or terminate (T); "
    "acked and terminated messages are removed from work-queue streams. A durable name keeps "
    "the consumer on the server after the feed closes."
)


class FeedDialog(FormScreen[FeedSpec | None]):
    """Subscribe form. Dismisses with a validated `FeedSpec` (stream found for JetStream)."""

    FORM_ERROR_ID = "feed-form-error"
    READ_ONLY_NOTICE = "consuming feeds are refused; core and non-consuming feeds are fine."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Subscribe"),
    ]

    def __init__(
        self,
        session: Session,
        *,
        subject: str = "",
        mode: FeedMode | None = None,
        buffer: int = DEFAULT_BUFFER,
    ) -> None:
        """`mode` None: the mode follows the subject until the user picks one."""
        super().__init__()
        self._session = session
        self._subject = subject if subject.isprintable() else ""  # never raw into an Input
        self._mode = mode or FeedMode.CORE
        self._buffer = buffer
        self._mode_chosen = mode is not None
        """The user picked a mode: it no longer follows the subject."""
        self._auto_presses: list[str] = []
        """Radio buttons pressed by `_follow_subject`, whose `Changed` (a message, handled
        later) is not the user's choice."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog feed-dialog") as box:
            box.border_title = "New feed"
            yield self.read_only_notice()
            yield FormRow(
                "Subject",
                Input(
                    self._subject,
                    placeholder="e.g. orders.> or my.subject.*",
                    id="feed-subject",
                    compact=True,
                    validators=[ProblemOf(lambda text: subject_problem(text.strip()))],
                ),
                key="subject",
                error_id="feed-subject-error",
            )
            modes = RadioSet(
                RadioButton(
                    "core subscription",
                    id="mode-core",
                    value=self._mode is FeedMode.CORE,
                    compact=True,
                ),
                RadioButton(
                    "JetStream, non-consuming (looks, never removes)",
                    id="mode-js",
                    value=self._mode is FeedMode.JETSTREAM,
                    compact=True,
                ),
                RadioButton(
                    "JetStream, consuming (explicit acks)",
                    id="mode-consume",
                    value=self._mode is FeedMode.CONSUME,
                    compact=True,
                ),
                id="feed-mode",
                compact=True,
            )
            yield FormRow(
                "Mode", modes, key="mode", hint=CONSUME_WARNING, hint_id="feed-consume-warning"
            )
            yield Static("", id="feed-mode-note", classes="dialog-hint", markup=False)
            yield FormRow(
                "Queue group",
                Input(placeholder="optional", id="feed-queue", compact=True),
                key="queue",
                error_id="feed-queue-error",
                classes="core-only",
            )
            yield FormRow(
                "Deliver",
                Select[str](
                    _DELIVER,
                    value=Deliver.ALL.value,
                    allow_blank=False,
                    id="feed-deliver",
                    compact=True,
                ),
                key="deliver",
                error_id="feed-deliver-error",
                classes="js-only",
            )
            yield FormRow(
                "Start at",
                Input(
                    placeholder="sequence (e.g. 100) or time (10m, 2024-05-01T12:00Z)",
                    id="feed-start",
                    compact=True,
                ),
                key="start",
                error_keys=("start_seq", "since"),
                error_id="feed-start-error",
                classes="js-only start-row",
            )
            yield FormRow(
                "Stream",
                Input(placeholder="found from the subject", id="feed-stream", compact=True),
                key="stream",
                error_id="feed-stream-error",
                classes="js-only",
            )
            yield FormRow(
                "Durable",
                Input(placeholder="empty: an ephemeral consumer", id="feed-durable", compact=True),
                key="durable",
                error_id="feed-durable-error",
                classes="consume-only",
            )
            yield FormRow(
                "Buffer",
                Input(str(self._buffer), id="feed-buffer", compact=True),
                key="buffer",
                error_id="feed-buffer-error",
            )
            yield Static("", id="feed-form-error", classes="form-error", markup=False)
            yield Label("Enter or ctrl+s to subscribe · Escape to cancel", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Subscribe", id="feed-ok", variant="primary")
                yield Button("Cancel", id="feed-cancel")

    def on_mount(self) -> None:
        self.show_form_error("")
        self._show_mode_fields()
        self.query_one("#feed-subject", Input).focus()
        if self._subject:
            self._look_up_stream(self._subject)

    @property
    def mode(self) -> FeedMode:
        pressed = self.query_one("#feed-mode", RadioSet).pressed_button
        return _MODE_IDS.get(pressed.id or "", FeedMode.CORE) if pressed else FeedMode.CORE

    @property
    def deliver(self) -> Deliver:
        return Deliver(str(self.query_one("#feed-deliver", Select).value))

    def _show_mode_fields(self) -> None:
        mode = self.mode
        for row in self.query(".core-only"):
            row.display = mode is FeedMode.CORE
        for row in self.query(".js-only"):
            row.display = mode is not FeedMode.CORE
        for row in self.query(".consume-only"):
            row.display = mode is FeedMode.CONSUME
        self.query_one("#feed-consume-warning").display = mode is FeedMode.CONSUME
        deliver = self.deliver
        self.query_one(".start-row").display = mode is not FeedMode.CORE and deliver in (
            Deliver.SEQUENCE,
            Deliver.TIME,
        )

    @on(RadioSet.Changed, "#feed-mode")
    @on(Select.Changed, "#feed-deliver")
    def _changed(self, event: RadioSet.Changed | Select.Changed) -> None:
        if isinstance(event, RadioSet.Changed):
            pressed = event.pressed.id or ""
            if pressed in self._auto_presses:
                self._auto_presses.remove(pressed)
            else:
                self._mode_chosen = True
                self.query_one("#feed-mode-note", Static).update("")
        self._show_mode_fields()

    def _follow_subject(self, stream: str | None) -> None:
        """Unless the user picked a mode: JetStream when `stream` captures the subject."""
        if self._mode_chosen:
            return
        button = "#mode-js" if stream else "#mode-core"
        note = Text()
        if stream:
            note.append(f"stream {sanitize(stream, max_len=80)} captures this subject: ")
            note.append("JetStream, non-consuming, shows what it stores")
        self.query_one("#feed-mode-note", Static).update(note)
        radio = self.query_one(button, RadioButton)
        if not radio.value:
            self._auto_presses.append(radio.id or "")
            radio.value = True

    @on(Input.Changed, "#feed-subject")
    def _subject_changed(self, event: Input.Changed) -> None:
        self._look_up_stream(event.value)

    @work(exclusive=True, group="feed-lookup", exit_on_error=False, description="find the stream")
    async def _look_up_stream(self, subject: str) -> None:
        await asyncio.sleep(LOOKUP_DELAY)  # exclusive: a key press cancels the last look-up
        subject = subject.strip()
        if not subject or subject_problem(subject):
            return
        self._follow_subject(await self._stream_for(subject))

    async def _stream_for(self, subject: str) -> str | None:
        try:
            return await find_stream(self._session, subject)
        except JstuiError:
            return None

    def spec_from_fields(self) -> FeedSpec | None:
        """Validate the form; mark bad fields and return None, or return the spec."""
        self.show_errors({})
        mode = self.mode
        deliver = self.deliver if mode is not FeedMode.CORE else Deliver.ALL
        start = self.query_one("#feed-start", Input).value.strip()
        value = lambda name: self.query_one(f"#feed-{name}", Input).value  # noqa: E731
        try:
            return FeedSpec.create(
                value("subject"),
                mode,
                queue=value("queue") if mode is FeedMode.CORE else None,
                deliver=deliver,
                start_seq=start if deliver is Deliver.SEQUENCE else None,
                since=start if deliver is Deliver.TIME else None,
                durable=value("durable") if mode is FeedMode.CONSUME else None,
                stream=value("stream") if mode is not FeedMode.CORE else None,
                buffer=value("buffer").strip().replace(",", "").replace("_", "") or "0",
            )
        except SpecErrors as errors:
            self.show_errors(errors.errors)
            return None

    @on(Button.Pressed, "#feed-ok")
    @on(Input.Submitted)
    def action_submit(self) -> None:
        spec = self.spec_from_fields()
        if spec is None:
            return
        if spec.queue and self._session.read_only:
            self.show_form_error(
                "read-only: a feed in a queue group takes messages from its members; watch the "
                "group in the Workers pane instead"
            )
            return
        if spec.is_jetstream:
            self._check_stream(spec)
        elif self._mode_chosen:
            self.dismiss(spec)
        else:
            self._settle_mode(spec)

    @work(exclusive=True, group="feed-dialog", exit_on_error=False, description="find the stream")
    async def _settle_mode(self, spec: FeedSpec) -> None:
        """The mode was left to follow the subject: JetStream if a stream captures it."""
        stream = await self._stream_for(spec.subject)
        if stream is None:
            self.dismiss(spec)
            return
        self.dismiss(
            FeedSpec.create(spec.subject, FeedMode.JETSTREAM, stream=stream, buffer=spec.buffer)
        )

    @work(exclusive=True, group="feed-dialog", exit_on_error=False, description="find the stream")
    async def _check_stream(self, spec: FeedSpec) -> None:
        session = self._session
        field = "stream" if spec.stream else "subject"
        try:
            if spec.stream:
                await session.jsm.stream_info(spec.stream)
                stream = spec.stream
            else:
                stream = await find_stream(session, spec.subject)
            if spec.mode is FeedMode.CONSUME:
                session.check_writable("open a consuming feed")
        except JstuiError as error:
            if "read-only" in str(error):
                self.show_form_error(str(error))
            else:
                self.row(field).show_error(str(error))
            return
        except Exception as error:  # the API's own errors (stream not found ...)
            text = getattr(error, "description", None) or str(error)
            self.row(field).show_error(sanitize(str(text), max_len=200))
            return
        self.dismiss(replace(spec, stream=stream))

    @on(Button.Pressed, "#feed-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class FilterDialog(FormScreen[FeedFilter | None]):
    """Subject pattern and payload regex; dismisses with the new filter (empty = none)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply"),
    ]

    def __init__(self, current: FeedFilter) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog feed-dialog") as box:
            box.border_title = "Filter the feed"
            yield FormRow(
                "Subject",
                Input(
                    self._current.subject,
                    placeholder="NATS pattern, e.g. orders.*.eu",
                    id="filter-subject",
                    compact=True,
                ),
                key="subject",
                error_id="filter-subject-error",
            )
            yield FormRow(
                "Payload",
                Input(
                    self._current.payload,
                    placeholder='regular expression, e.g. "status": "failed"',
                    id="filter-payload",
                    compact=True,
                ),
                key="payload",
                error_id="filter-payload-error",
            )
            yield Label(
                "Only the lines shown change; the feed stays subscribed. Empty both to clear.",
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply", id="filter-ok", variant="primary")
                yield Button("Clear", id="filter-clear")
                yield Button("Cancel", id="filter-cancel")

    def on_mount(self) -> None:
        self.query_one("#filter-subject", Input).focus()

    @on(Button.Pressed, "#filter-ok")
    @on(Input.Submitted)
    def action_apply(self) -> None:
        self.show_errors({})
        try:
            flt = FeedFilter.create(
                self.query_one("#filter-subject", Input).value,
                self.query_one("#filter-payload", Input).value,
            )
        except SpecErrors as errors:
            self.show_errors(errors.errors)
            return
        self.dismiss(flt)

    @on(Button.Pressed, "#filter-clear")
    def _clear(self) -> None:
        self.dismiss(FeedFilter())

    @on(Button.Pressed, "#filter-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ExportDialog(FormScreen[Path | None]):
    """Asks what to write (what the view shows with its filter, or the whole buffer) and where
    (the absolute path is shown as the name is typed), asks before replacing a file, writes
    NDJSON and says where it went."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, feed: Feed, default: Path, flt: FeedFilter | None = None) -> None:
        super().__init__()
        self._feed = feed
        self._default = default
        self._filter = flt if flt is not None else FeedFilter()

    def compose(self) -> ComposeResult:
        count = len(self._feed.buffer)
        with Vertical(classes="dialog feed-dialog") as box:
            box.border_title = "Export as NDJSON"
            yield Static(
                Text(
                    f"{count:,} buffered messages of {sanitize(self._feed.spec.label)}: one "
                    "JSON object per line (subject, sequences, time, headers, payload as UTF-8 "
                    "text or base64)."
                ),
                classes="dialog-intro",
            )
            if self._filter.active:
                shown = len(self._feed.exportable(self._filter))
                what = sanitize(self._filter.describe(), max_len=80)
                yield FormRow(
                    "Write",
                    RadioSet(
                        RadioButton(
                            f"what is shown ({what}): {counted(shown, 'message')}",
                            id="export-shown",
                            value=True,
                            compact=True,
                        ),
                        RadioButton(
                            f"the whole buffer: {counted(count, 'message')}",
                            id="export-all",
                            compact=True,
                        ),
                        id="export-what",
                        compact=True,
                    ),
                    key="what",
                )
            yield FormRow(
                "File",
                Input(str(self._default), id="export-path", compact=True),
                key="path",
                error_id="export-path-error",
            )
            yield Static("", id="export-target", classes="dialog-hint", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", id="export-ok", variant="primary")
                yield Button("Cancel", id="export-cancel")

    def on_mount(self) -> None:
        self._show_target()
        self.query_one("#export-path", Input).focus()

    @on(Input.Changed, "#export-path")
    def _show_target(self) -> None:
        """Say where the file goes: a relative name is taken from the working directory."""
        path = self.query_one("#export-path", Input).value.strip()
        text = Text()
        if path:
            target = export_target(path)
            text.append(f"writes {sanitize(str(target), max_len=300)}")
            if target.exists():
                text.append("  (exists: you will be asked before it is replaced)", "bold")
        self.query_one("#export-target", Static).update(text)

    @property
    def whole_buffer(self) -> bool:
        """True when the whole buffer is to be written (always, when the view has no filter)."""
        if not self._filter.active:
            return True
        pressed = self.query_one("#export-what", RadioSet).pressed_button
        return pressed is not None and pressed.id == "export-all"

    @on(Button.Pressed, "#export-ok")
    @on(Input.Submitted)
    def _submit(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            self.row("path").show_error("a file name is required")
            return
        target = export_target(path)
        if target.is_file():
            self._ask_overwrite(target)
            return
        self._export(target, overwrite=False)

    def _ask_overwrite(self, target: Path) -> None:
        question = Text(f"{sanitize(str(target), max_len=300)} exists. Replace it?")

        def answered(replace_it: bool | None) -> None:
            if replace_it:
                self._export(target, overwrite=True)
            else:
                self.row("path").show_error("the file exists: choose another name")

        self.app.push_screen(
            ConfirmScreen("Replace file?", question, confirm_label="Replace"), answered
        )

    @work(exclusive=True, group="feed-export", exit_on_error=False, description="export NDJSON")
    async def _export(self, target: Path, *, overwrite: bool) -> None:
        feed = self._feed
        messages = feed.exportable() if self.whole_buffer else feed.exportable(self._filter)
        try:
            written, count = await export_messages(messages, target, overwrite=overwrite)
        except FileExistsError:
            self._ask_overwrite(target)  # it appeared since the check
            return
        except JstuiError as error:
            message = getattr(error, "message", str(error))
            self.row("path").show_error(message)
            return
        self.app.notify(
            f"Exported {counted(count, 'message')} to {written}",
            title="Export done",
            markup=False,
            timeout=10,
        )
        self.dismiss(written)

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
