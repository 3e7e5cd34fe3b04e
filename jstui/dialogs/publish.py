"""The publish form: one message or many, core or JetStream, with the acknowledgement shown.

`PublishScreen(session, subject, payload, headers, jetstream)` is importable by any pane. It stays
open after each publish so a series ("Message 1", "Message 2", ...) is quick; Escape closes it
(or first stops a bulk publish that is running).

What it is given may come from the server ("publish again", a selected message's subject), and
Textual's `Input` and `TextArea` draw their text unescaped, so nothing goes into a field raw: the
payload and the header values go in through `jstui.format.editable` (plain text as it is, anything
else escaped, with "Payload as: escaped" so the box reads back to exactly the original bytes), and
a subject that is not plain text is left out, with the reason under its row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.timer import Timer
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static, TextArea

from jstui.dialogs.form_row import FormRow
from jstui.dialogs.form_screen import FormScreen
from jstui.format.editable import PayloadFormat, editable_headers, editable_payload, escape_bytes
from jstui.format.text import sanitize
from jstui.format.units import format_rate
from jstui.nats.errors import JstuiError, NotConnectedError, SpecErrors
from jstui.nats.publish import BulkPublish, PublishMode, PublishSpec, has_template, publish_once
from jstui.nats.session import Session

__all__ = ["PublishScreen"]

_MODES = [
    ("auto: JetStream if a stream captures the subject", PublishMode.AUTO.value),
    ("core (no acknowledgement)", PublishMode.CORE.value),
    ("JetStream (wait for the stream's ack)", PublishMode.JETSTREAM.value),
]
_PAYLOAD_FORMATS = [
    ("text: as typed; {{i}} and {{time}} filled in", PayloadFormat.TEXT.value),
    ("escaped: \\x1b, \\u202e, \\\\ ... become bytes; sent exactly", PayloadFormat.ESCAPED.value),
]
_FIELDS = ("subject", "mode", "msg_id", "headers", "payload", "payload_format", "count", "rate")


class PublishScreen(FormScreen[None]):
    """Publish form with bulk publishing; ``{{i}}`` and ``{{time}}`` work in payload and id."""

    READ_ONLY_NOTICE = "nothing is published (jstui was started with --read-only)."
    READ_ONLY_BUTTON = "publish-ok"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("ctrl+s", "publish", "Publish"),
    ]

    def __init__(
        self,
        session: Session,
        subject: str = "",
        payload: bytes = b"",
        headers: Mapping[str, str] | None = None,
        jetstream: bool | None = None,
    ) -> None:
        super().__init__()
        self._session = session
        self._subject = subject if subject.isprintable() else ""
        self._subject_left_out = "" if subject.isprintable() else subject
        self._payload, self._payload_format = editable_payload(payload)
        if self._payload_format is PayloadFormat.TEXT and has_template(self._payload):
            # in a text payload {{i}} would be filled in: escaped, it goes out as it came
            self._payload, self._payload_format = escape_bytes(payload), PayloadFormat.ESCAPED
        self._headers = editable_headers((headers or {}).items())
        self._mode = (
            PublishMode.AUTO
            if jetstream is None
            else PublishMode.JETSTREAM
            if jetstream
            else PublishMode.CORE
        )
        self._bulk: BulkPublish | None = None
        self._progress_timer: Timer | None = None
        self.published = 0
        """Publishes that went through since the form opened (tests and the status read it)."""

    @property
    def session(self) -> Session:
        return self._session

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog publish-dialog") as box:
            box.border_title = "Publish"
            yield self.read_only_notice()
            yield FormRow(
                "Subject",
                Input(
                    self._subject,
                    placeholder="e.g. my.subject.test",
                    id="publish-subject",
                    compact=True,
                ),
                key="subject",
                error_id="publish-subject-error",
            )
            yield FormRow(
                "Mode",
                Select[str](
                    _MODES,
                    value=self._mode.value,
                    allow_blank=False,
                    id="publish-mode",
                    compact=True,
                ),
                key="mode",
                error_id="publish-mode-error",
            )
            yield FormRow(
                "Message id",
                Input(
                    placeholder="optional, de-duplicates JetStream publishes ({{i}} allowed)",
                    id="publish-msg_id",
                    compact=True,
                ),
                key="msg_id",
                error_id="publish-msg_id-error",
            )
            yield FormRow(
                "Headers",
                TextArea(
                    self._headers,
                    id="publish-headers",
                    compact=True,
                    soft_wrap=False,
                    placeholder="Key: Value, one per line",
                ),
                key="headers",
                error_id="publish-headers-error",
            )
            yield FormRow(
                "Payload",
                TextArea(
                    self._payload,
                    id="publish-payload",
                    compact=True,
                    placeholder="text or JSON; {{i}} = message number, {{time}} = now",
                ),
                key="payload",
                error_id="publish-payload-error",
                classes="-tall",
            )
            yield FormRow(
                "Payload as",
                Select[str](
                    _PAYLOAD_FORMATS,
                    value=self._payload_format.value,
                    allow_blank=False,
                    id="publish-payload_format",
                    compact=True,
                ),
                key="payload_format",
                error_id="publish-payload_format-error",
            )
            yield FormRow(
                "Count",
                Input("1", id="publish-count", compact=True),
                key="count",
                error_id="publish-count-error",
            )
            yield FormRow(
                "Rate /s",
                Input(placeholder="empty: as fast as possible", id="publish-rate", compact=True),
                key="rate",
                error_id="publish-rate-error",
            )
            yield ProgressBar(id="publish-progress", show_eta=False)
            yield Static("", id="publish-result", markup=False)
            yield Label(
                "ctrl+s to publish (the form stays open) · Escape to close", classes="dialog-hint"
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Publish", id="publish-ok", variant="primary")
                yield Button("Stop", id="publish-stop", variant="error")
                yield Button("Resend", id="publish-resend", variant="warning")
                yield Button("Close", id="publish-close")

    def on_mount(self) -> None:
        self.query_one("#publish-progress").display = False
        self.query_one("#publish-stop").display = False
        self.query_one("#publish-resend").display = False
        target = "#publish-payload" if self._subject else "#publish-subject"
        self.query_one(target).focus()
        if self._subject_left_out:
            self.row("subject").show_error(
                f"left out: the subject {sanitize(self._subject_left_out, max_len=200)} holds "
                "control characters, and jstui does not publish to such subjects"
            )

    # -- helpers ----------------------------------------------------------------------------------

    def _result(self, message: str, *, ok: bool) -> None:
        result = self.query_one("#publish-result", Static)
        result.update(Text(sanitize(message, max_len=500)))
        result.set_class(ok, "-ok")
        result.set_class(not ok, "-error")

    def spec_from_fields(self) -> PublishSpec | None:
        self.show_errors({})
        max_payload: int | None = None
        with contextlib.suppress(NotConnectedError):
            max_payload = self.session.nc.max_payload
        try:
            return PublishSpec.create(
                self.query_one("#publish-subject", Input).value,
                self.query_one("#publish-payload", TextArea).text,
                self.query_one("#publish-headers", TextArea).text,
                str(self.query_one("#publish-mode", Select).value),
                payload_format=str(self.query_one("#publish-payload_format", Select).value),
                msg_id=self.query_one("#publish-msg_id", Input).value,
                count=self.query_one("#publish-count", Input).value,
                rate=self.query_one("#publish-rate", Input).value,
                max_payload=max_payload,
            )
        except SpecErrors as errors:
            # a message for no field of this form (none is known today) goes under the subject
            self.show_errors(
                {
                    name if name in _FIELDS else "subject": text
                    for name, text in errors.errors.items()
                }
            )
            self._result("check the fields marked above", ok=False)
            return None

    # -- actions -----------------------------------------------------------------------------------

    @on(Button.Pressed, "#publish-ok")
    @on(Input.Submitted)
    def action_publish(self) -> None:
        if self._bulk is not None and not self._bulk.done:
            self._result("a bulk publish is running: Stop it first", ok=False)
            return
        spec = self.spec_from_fields()
        if spec is None:
            return
        if spec.count == 1:
            self._publish_one(spec)
        else:
            self._publish_bulk(spec)

    @work(exclusive=True, group="publish", exit_on_error=False, description="publish a message")
    async def _publish_one(self, spec: PublishSpec) -> None:
        self._result("publishing\u2026", ok=True)
        try:
            result = await publish_once(self.session, spec)
        except JstuiError as error:
            self._result(str(error), ok=False)
            return
        self.published += 1
        self._result(f"\u2713 {result.describe()}", ok=not result.duplicate)

    def _publish_bulk(self, spec: PublishSpec) -> None:
        self._run_bulk(BulkPublish(self.session, spec))

    @work(exclusive=True, group="publish", exit_on_error=False, description="bulk publish")
    async def _run_bulk(self, bulk: BulkPublish) -> None:
        self._bulk = bulk
        bar = self.query_one("#publish-progress", ProgressBar)
        bar.update(total=bulk.total, progress=0)
        bar.display = True
        self.query_one("#publish-stop").display = True
        self.query_one("#publish-resend").display = False
        self._progress_timer = self.set_interval(0.1, self._show_progress)
        try:
            await bulk.run()
        except JstuiError as error:
            self._result(str(error), ok=False)
        finally:
            if self._progress_timer is not None:
                self._progress_timer.stop()
            self.query_one("#publish-stop").display = False
        self.published += bulk.confirmed
        self._show_progress()  # `run` returns only once every outcome is counted
        self._offer_resend(bulk)

    def _offer_resend(self, bulk: BulkPublish) -> None:
        missing = len(bulk.unacknowledged)
        resend = self.query_one("#publish-resend", Button)
        resend.display = bulk.jetstream and missing > 0
        if not resend.display:
            return
        resend.label = f"Resend {missing:,}"
        self._result(
            f"{bulk.describe()} \u00b7 {missing:,} without an acknowledgement. Resend sends "
            "them again with the same message ids: within the stream's duplicate window the "
            "server drops those it already stored.",
            ok=False,
        )

    def _show_progress(self) -> None:
        bulk = self._bulk
        if bulk is None:
            return
        self.query_one("#publish-progress", ProgressBar).update(progress=bulk.confirmed)
        text = bulk.describe()
        if not bulk.done:
            text += f" \u00b7 now {format_rate(bulk.meter.rate())}"
        if bulk.error:
            text += f" \u00b7 {bulk.error}"
        self._result(text, ok=not bulk.error and not bulk.unacknowledged)

    @on(Button.Pressed, "#publish-resend")
    def _resend(self) -> None:
        bulk = self._bulk
        if bulk is not None and bulk.done and bulk.unacknowledged:
            self._run_bulk(bulk.resend())

    @on(Button.Pressed, "#publish-stop")
    def _stop(self) -> None:
        if self._bulk is not None and not self._bulk.done:
            self._bulk.cancel()

    @on(Button.Pressed, "#publish-close")
    def action_close(self) -> None:
        if self._bulk is not None and not self._bulk.done:
            self._bulk.cancel()  # first Escape stops the bulk publish, the next one closes
            return
        self.dismiss(None)
