"""The responder form: what to answer, how, how many; shows the matching --responder option."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from jstui.dialogs.form_row import FormRow
from jstui.dialogs.form_screen import FormScreen
from jstui.format.text import sanitize
from jstui.nats.errors import SpecErrors
from jstui.nats.responders.spec import ResponderSpec

_MODES = [
    ("core: subscribe and msg.respond", "core"),
    ("stored: durable consumer, reply-to header", "stored"),
]
_BEHAVIOURS = [
    ("echo: the payload back", "echo"),
    ("upper: Response from <name> : <PAYLOAD>", "upper"),
    ("delay: echo after a fixed delay", "delay"),
    ("random: echo after a random delay", "random"),
    ("fail: no reply at all", "fail"),
    ("error: an error header reply", "error"),
]
_STORED_ONLY = ("stream", "durable", "max_age")


class ResponderFormScreen(FormScreen[ResponderSpec | None]):
    """Dismisses with the spec to start, or None."""

    READ_ONLY_NOTICE = "responders are refused (they publish replies)."
    READ_ONLY_BUTTON = "responder-start"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "start", "Start"),
    ]

    def __init__(self, subject: str = "") -> None:
        super().__init__()
        self._subject = subject

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog responder-form") as box:
            box.border_title = "Start responders"
            yield self.read_only_notice()
            yield from self._input_row(
                "subject", "Subject", "e.g. my.subject.requests", self._subject
            )
            yield FormRow(
                "Mode",
                Select[str](
                    _MODES, value="core", allow_blank=False, id="responder-mode", compact=True
                ),
            )
            yield FormRow(
                "Behaviour",
                Select[str](
                    _BEHAVIOURS,
                    value="echo",
                    allow_blank=False,
                    id="responder-behaviour",
                    compact=True,
                ),
            )
            # the behaviour's only free part is its delay, so a bad behaviour is said there
            yield FormRow(
                "Delay ms",
                Input(placeholder="200, or 50-500 for random", id="responder-delay", compact=True),
                error_keys=("behaviour",),
                id="responder-delay-row",
                error_id="responder-behaviour-error",
            )
            yield from self._input_row("count", "Count", "1", "1")
            yield from self._input_row("queue", "Queue", "none: every member answers")
            yield from self._input_row("name", "Name", "responder-N")
            yield from self._input_row("stream", "Stream", "found from the subject")
            yield from self._input_row("durable", "Durable", "<name>_<subject>, or the queue")
            yield from self._input_row("max_age", "Max age", "60s: skip older requests")
            yield Static("", id="responder-preview", classes="dialog-hint", markup=False)
            yield Static("", id="responder-form-message", classes="form-error", markup=False)
            yield Label("ctrl+s or Enter to start · Escape to cancel", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start", id="responder-start", variant="primary")
                yield Button("Cancel", id="responder-cancel")

    def _input_row(self, name: str, label: str, placeholder: str, value: str = "") -> ComposeResult:
        yield FormRow(
            label,
            Input(value, placeholder=placeholder, id=f"responder-{name}", compact=True),
            key=name,
            id=f"responder-{name}-row",
            error_id=f"responder-{name}-error",
        )

    def on_mount(self) -> None:
        self.query_one("#responder-form-message").display = False
        self.query_one("#responder-subject", Input).focus()
        self._update_visibility()
        self._preview()

    def _value(self, name: str) -> str:
        return self.query_one(f"#responder-{name}", Input).value

    def _select(self, name: str) -> str:
        return str(self.query_one(f"#responder-{name}", Select).value)

    def _behaviour_text(self) -> str:
        behaviour = self._select("behaviour")
        delay = self._value("delay").strip()
        if behaviour in ("delay", "random"):
            return f"{behaviour}={delay}"
        return behaviour

    def _update_visibility(self) -> None:
        stored = self._select("mode") == "stored"
        for name in _STORED_ONLY:
            self.query_one(f"#responder-{name}-row").display = stored
        delayed = self._select("behaviour") in ("delay", "random")
        self.query_one("#responder-delay-row").display = delayed

    def _spec(self) -> ResponderSpec:
        stored = self._select("mode") == "stored"
        return ResponderSpec.from_form(
            subject=self._value("subject"),
            mode=self._select("mode"),
            queue=self._value("queue"),
            count=self._value("count"),
            behaviour=self._behaviour_text(),
            name=self._value("name"),
            stream=self._value("stream") if stored else "",
            durable=self._value("durable") if stored else "",
            max_age=self._value("max_age") if stored else "",
        )

    def _preview(self) -> None:
        """The --responder option for what the form says, so it can be given at launch."""
        preview = self.query_one("#responder-preview", Static)
        try:
            spec = self._spec()
        except SpecErrors:
            preview.update(Text("at launch: jstui --responder ... (fill in the form)"))
            return
        preview.update(Text(f"at launch: jstui --responder {sanitize(spec.short_form())}"))

    @on(Select.Changed)
    def _select_changed(self) -> None:
        self._update_visibility()
        self._preview()

    @on(Input.Changed)
    def _input_changed(self) -> None:
        self._preview()

    def action_start(self) -> None:
        try:
            spec = self._spec()
        except SpecErrors as errors:
            self.show_errors(errors.errors)
            summary = self.query_one("#responder-form-message", Static)
            summary.update(Text("fix the fields marked in red"))
            summary.display = True
            return
        self.dismiss(spec)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#responder-start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_start()

    @on(Button.Pressed, "#responder-cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)
