"""The request form: subject, mode, timeout, reply limit, headers, payload; send, save or load.

A request to edit again or a saved one (a file anyone may have written) fills the form through
`jstui.format.editable`: Textual's `Input` and `TextArea` draw their text unescaped, so header
values go in escaped and a payload that is not plain text goes in escaped with "Payload as:
escaped", which reads back to exactly the bytes it was. Saved names are shown sanitized.

Send hands the spec to the `send` function the pane gave (which starts the request at once) and
closes the form when the request is answered or after `CLOSE_GRACE` seconds, whichever comes
first: the screen under the form is then redrawn once, with the reply already in it, instead of
once for the form closing and again for the reply. The form dismisses with the spec it sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from jstui.dialogs.form_row import FormRow, ParsedBy
from jstui.dialogs.form_screen import FormScreen
from jstui.format.editable import PayloadFormat, editable_headers, editable_payload
from jstui.format.text import sanitize
from jstui.nats.errors import JstuiError, SpecErrors, ValidationError
from jstui.nats.requests.record import RequestRecord
from jstui.nats.requests.saved import SavedRequests
from jstui.nats.requests.spec import RequestMode, RequestSpec, parse_max_replies, parse_timeout

_MODES = [
    ("request: first reply wins", RequestMode.REQUEST.value),
    ("gather: every reply until timeout / N", RequestMode.GATHER.value),
    ("stored: through a stream, reply-to inbox", RequestMode.STORED.value),
]
_PAYLOAD_FORMATS = [
    ("text: as typed", PayloadFormat.TEXT.value),
    ("escaped: \\x1b, \\u202e, \\\\ ... become bytes", PayloadFormat.ESCAPED.value),
]
CLOSE_GRACE = 0.05
"""Seconds the form stays after Send while the request is on its way (a quick reply is drawn in the
same redraw as the form closing; a slow one shows as waiting)."""


class RequestFormScreen(FormScreen[RequestSpec | None]):
    """Dismisses with the spec to send, or None. Saving keeps the form open."""

    READ_ONLY_NOTICE = (
        "stored requests, and requests on a subject a stream captures (the stream would store "
        "them), are refused."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "send", "Send"),
    ]

    def __init__(
        self,
        saved: SavedRequests,
        spec: RequestSpec | None = None,
        *,
        send: Callable[[RequestSpec], asyncio.Future[RequestRecord]] | None = None,
    ) -> None:
        super().__init__()
        self._saved = saved
        self._spec = spec
        self._send = send
        """Starts the request; without it the form only dismisses with the spec."""
        self._sent = False
        self._loaded: dict[str, RequestSpec] = {}

    def compose(self) -> ComposeResult:
        spec = self._spec
        payload, payload_format = editable_payload(spec.payload if spec else b"")
        with VerticalScroll(classes="dialog request-form") as box:
            box.border_title = "Request"
            yield self.read_only_notice()
            yield FormRow(
                "Saved",
                Select[str]([], prompt="load a saved request", id="request-load", compact=True),
            )
            yield FormRow(
                "Subject",
                Input(
                    spec.subject if spec else "",
                    placeholder="e.g. my.subject.requests",
                    id="request-subject",
                    compact=True,
                ),
                key="subject",
                error_id="request-subject-error",
            )
            yield FormRow(
                "Mode",
                Select[str](
                    _MODES,
                    value=(spec.mode if spec else RequestMode.REQUEST).value,
                    allow_blank=False,
                    id="request-mode",
                    compact=True,
                ),
                key="mode",
                error_id="request-mode-error",
            )
            yield FormRow(
                "Timeout",
                Input(
                    spec.timeout_text if spec else "2s",
                    placeholder="2s",
                    id="request-timeout",
                    compact=True,
                    validators=[ParsedBy(parse_timeout)],
                ),
                key="timeout",
                error_id="request-timeout-error",
            )
            yield FormRow(
                "Max replies",
                Input(
                    str(spec.max_replies) if spec and spec.max_replies else "",
                    placeholder="all until timeout",
                    id="request-max_replies",
                    compact=True,
                    validators=[ParsedBy(parse_max_replies)],
                ),
                key="max_replies",
                error_id="request-max_replies-error",
            )
            yield FormRow(
                "Headers",
                TextArea(
                    editable_headers(spec.headers) if spec else "",
                    id="request-headers",
                    compact=True,
                    soft_wrap=False,
                    placeholder="Key: Value, one per line",
                ),
                key="headers",
                error_id="request-headers-error",
            )
            yield FormRow(
                "Payload",
                TextArea(
                    payload,
                    id="request-payload",
                    compact=True,
                    placeholder="request body (text or JSON)",
                ),
                key="payload",
                error_id="request-payload-error",
                classes="-tall",
            )
            yield FormRow(
                "Payload as",
                Select[str](
                    _PAYLOAD_FORMATS,
                    value=payload_format.value,
                    allow_blank=False,
                    id="request-payload_format",
                    compact=True,
                ),
                key="payload_format",
                error_id="request-payload_format-error",
            )
            yield FormRow(
                "Save as",
                Input(placeholder="name", id="request-name", compact=True),
                key="name",
                beside=[Button("Save", id="request-save", compact=True)],
                error_id="request-name-error",
            )
            yield Static("", id="request-form-message", classes="form-error", markup=False)
            yield Label("ctrl+s or Enter to send · Escape to cancel", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send", id="request-send", variant="primary")
                yield Button("Cancel", id="request-cancel")

    def on_mount(self) -> None:
        self._message("")
        self.query_one("#request-subject", Input).focus()
        self._load_saved()

    # -- saved requests ----------------------------------------------------------------------

    @work(exclusive=True, group="request-form-load", exit_on_error=False, description="load saved")
    async def _load_saved(self) -> None:
        try:
            self._loaded = await asyncio.to_thread(self._saved.load)
        except JstuiError as error:
            self._message(f"saved requests: {error}")
            return
        select = self.query_one("#request-load", Select)
        select.set_options((sanitize(name, max_len=64), name) for name in sorted(self._loaded))
        if not self._loaded:
            select.prompt = "no saved requests yet"

    @on(Select.Changed, "#request-load")
    def _load(self, event: Select.Changed) -> None:
        spec = self._loaded.get(str(event.value)) if event.value != Select.NULL else None
        if spec is None:
            return
        self._fill(spec)
        name = str(event.value)  # the saved file's own key: anyone may have written it
        self.query_one("#request-name", Input).value = name if name.isprintable() else ""
        self._message("")

    def _fill(self, spec: RequestSpec) -> None:
        self.query_one("#request-subject", Input).value = spec.subject
        self.query_one("#request-mode", Select).value = spec.mode.value
        self.query_one("#request-timeout", Input).value = spec.timeout_text
        limit = str(spec.max_replies) if spec.max_replies else ""
        self.query_one("#request-max_replies", Input).value = limit
        self.query_one("#request-headers", TextArea).text = editable_headers(spec.headers)
        payload, payload_format = editable_payload(spec.payload)
        self.query_one("#request-payload_format", Select).value = payload_format.value
        self.query_one("#request-payload", TextArea).text = payload

    @on(Button.Pressed, "#request-save")
    @on(Input.Submitted, "#request-name")
    def _save_pressed(self, event: Button.Pressed | Input.Submitted) -> None:
        event.stop()
        spec = self._spec_from_fields()
        if spec is None:
            return
        self._clear_errors()
        name = self.query_one("#request-name", Input).value
        try:
            name = SavedRequests.check_name(name)
        except ValidationError as error:
            self.row("name").show_error(error.message)
            return
        self.row("name").show_error("")
        self._save(name, spec)

    @work(exclusive=True, group="request-form-save", exit_on_error=False, description="save")
    async def _save(self, name: str, spec: RequestSpec) -> None:
        try:
            await asyncio.to_thread(self._saved.save, name, spec)
        except JstuiError as error:
            self._message(str(error))
            return
        self._loaded[name] = spec
        select = self.query_one("#request-load", Select)
        select.set_options((sanitize(n, max_len=64), n) for n in sorted(self._loaded))
        self._message(f"saved as {name}", ok=True)

    # -- sending -----------------------------------------------------------------------------

    def _spec_from_fields(self) -> RequestSpec | None:
        mode = self.query_one("#request-mode", Select).value
        try:
            spec = RequestSpec.from_form(
                subject=self.query_one("#request-subject", Input).value,
                mode=str(mode),
                payload=self.query_one("#request-payload", TextArea).text,
                headers=self.query_one("#request-headers", TextArea).text,
                timeout=self.query_one("#request-timeout", Input).value,
                max_replies=self.query_one("#request-max_replies", Input).value,
                payload_format=str(self.query_one("#request-payload_format", Select).value),
            )
        except SpecErrors as errors:
            self.show_errors(errors.errors)
            self._message("fix the fields marked in red")
            return None
        return spec

    def _clear_errors(self) -> None:
        """Clear the messages of a failed attempt (only when the form stays open: clearing them
        redraws every row, which Send, closing the form, need not wait for)."""
        self.show_errors({})
        self._message("")

    def _message(self, message: str, ok: bool = False) -> None:
        widget = self.query_one("#request-form-message", Static)
        widget.update(Text(sanitize(message)))
        widget.set_class(ok, "-ok")
        widget.display = bool(message)

    async def action_send(self) -> None:
        if self._sent:
            return  # Send pressed again while the request goes out: it is sent once
        spec = self._spec_from_fields()
        if spec is None:
            return
        if self._send is not None:
            self._sent = True
            sending = self._send(spec)
            # A refusal (read-only mode) is the pane's to show, as every outcome is: the form
            # only waits a moment for it.
            with contextlib.suppress(TimeoutError, JstuiError):
                await asyncio.wait_for(asyncio.shield(sending), CLOSE_GRACE)
        self.dismiss(spec)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#request-send")
    async def _send_pressed(self) -> None:
        await self.action_send()

    @on(Input.Submitted, "#request-subject, #request-timeout, #request-max_replies")
    async def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        await self.action_send()

    @on(Button.Pressed, "#request-cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)
