"""The create / edit form of a consumer.

One form for both: `ConsumerFormScreen(service, streams=[...])` creates (the stream chosen from
the list, the selected consumer's stream first), `ConsumerFormScreen(service, current=spec)`
edits. It dismisses with the `ConsumerEntry` the server answered, or None when cancelled.

Fields hold the consumer's real values, never their display text. A value an `Input` or
`TextArea` cannot hold safely (control characters, BiDi overrides: they would reach the terminal
raw) is not put into one: the row shows a sanitized preview and "kept as it is", and `spec()`
returns the real value, so the update leaves it untouched (`ConsumerService.update` sends only
what changed). The stream and the name of a consumer being edited are shown the same way.

In edit mode the fields the server will not change (measured, see `ConsumerSpec.IMMUTABLE`) are
disabled with the reason under them. Bad input is shown under each field, a refusal from the
server above the buttons with its own (sanitized) words; the form stays open with what was typed.
Choosing pull or push shows only the fields that mode has; a start sequence or time shows only
with the deliver policy that reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import Validator
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from jstui.dialogs.form_row import FormRow, ParsedBy, ProblemOf
from jstui.dialogs.form_screen import FormScreen
from jstui.format.text import sanitize
from jstui.format.units import parse_count, parse_duration
from jstui.nats.consumers.service import ConsumerService
from jstui.nats.consumers.spec import ACK_POLICIES, DELIVER_POLICIES, ConsumerSpec
from jstui.nats.consumers.summaries import ConsumerEntry
from jstui.nats.names import consumer_name_problem

FIELDS: tuple[tuple[str, str, str], ...] = (
    # (ConsumerSpec attribute, label, placeholder)
    ("stream", "Stream", ""),
    ("name", "Name", "e.g. workers (no spaces, '.', '*' or '>'); empty if ephemeral"),
    ("durable", "Durable", ""),
    ("mode", "Mode", ""),
    ("description", "Description", "optional"),
    ("deliver_subject", "Deliver subject", "push: where messages are sent, e.g. deliver.orders"),
    ("deliver_group", "Deliver group", "push: a queue group that shares the messages"),
    ("filter_subjects", "Filter subjects", "e.g. orders.new, orders.paid; empty = all"),
    ("deliver_policy", "Deliver policy", ""),
    ("start_seq", "Start sequence", "for 'by start sequence', e.g. 1000"),
    ("start_time", "Start time", "for 'by start time', e.g. 2026-12-03 17:00"),
    ("ack_policy", "Ack policy", ""),
    ("ack_wait", "Ack wait", "e.g. 30s; empty = server default (30s)"),
    ("max_deliver", "Max deliver", "e.g. 5; empty = unlimited"),
    ("backoff", "Backoff", "e.g. 1s, 10s, 1m (needs max deliver above their number)"),
    ("max_ack_pending", "Max ack pending", "e.g. 1000; empty = unlimited"),
    ("max_waiting", "Max waiting", "pull: parked pull requests, e.g. 512"),
    ("replicas", "Replicas", "empty = the stream's"),
    ("mem_storage", "Memory", ""),
    ("inactive_threshold", "Inactive after", "e.g. 1h; empty: never if durable, else 5s"),
    ("headers_only", "Headers only", ""),
    ("metadata", "Metadata", "key=value, one a line"),
)
"""Every field of the form, in order."""

PARSERS: dict[str, Callable[[str], object]] = {
    "ack_wait": parse_duration,
    "inactive_threshold": parse_duration,
    "max_deliver": parse_count,
    "max_ack_pending": parse_count,
    "max_waiting": parse_count,
    "start_seq": parse_count,
}
"""The fields checked alone when the user leaves them, by the parser `ConsumerSpec` uses."""

CHECKBOXES = {
    "durable": "durable: kept until deleted (else removed when unused)",
    "mem_storage": "keep its state in memory",
    "headers_only": "deliver headers only, no payloads",
}
SELECTS: dict[str, tuple[tuple[str, str], ...]] = {
    "mode": (("pull: workers fetch batches", "pull"), ("push: the server sends", "push")),
    "deliver_policy": tuple((policy.replace("_", " "), policy) for policy in DELIVER_POLICIES),
    "ack_policy": tuple((policy, policy) for policy in ACK_POLICIES),
}
PUSH_ONLY = frozenset({"deliver_subject", "deliver_group"})
PULL_ONLY = frozenset({"max_waiting"})
IDENTITY = frozenset({"stream", "name"})
"""Shown, never typed, when editing: a consumer keeps its stream and its name."""

KEPT_NOTE = "contains control characters: kept as it is"


def editable(key: str, value: str) -> bool:
    """Whether `value` can go into the field of `key` as it is: printable text only (line breaks
    too in the metadata box, a `TextArea`; an `Input` holds one line)."""
    lines = value.split("\n") if key == "metadata" else [value]
    return all(line.isprintable() for line in lines)


class ConsumerFormScreen(FormScreen[ConsumerEntry | None]):
    """Create a consumer, or edit one when `current` (its spec as the server has it) is given."""

    FORM_ERROR_ID = "consumer-form-error"
    READ_ONLY_NOTICE = "consumers are neither created nor changed."
    READ_ONLY_BUTTON = "consumer-form-save"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]
    DEFAULT_CSS = """
    #consumer-form-fields {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(
        self,
        service: ConsumerService,
        *,
        current: ConsumerSpec | None = None,
        streams: Sequence[str] = (),
        stream: str | None = None,
    ) -> None:
        super().__init__()
        self._service = service
        self._current = current
        self._stream_choices = list(streams)
        self._first_stream = stream if stream in self._stream_choices else None
        self._kept: dict[str, str] = {}
        """The text fields whose real value stays as the server has it, by spec key."""
        if current is not None:
            for key, _label, _placeholder in FIELDS:
                value = getattr(current, key)
                if isinstance(value, str) and (key in IDENTITY or not editable(key, value)):
                    self._kept[key] = value

    @property
    def editing(self) -> bool:
        return self._current is not None

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        spec = self._current or ConsumerSpec(stream=self._first_stream or "")
        with Vertical(classes="dialog stream-form") as dialog:
            dialog.border_title = "Edit consumer" if self.editing else "New consumer"
            yield self.read_only_notice()
            with VerticalScroll(id="consumer-form-fields"):
                for key, label, placeholder in FIELDS:
                    yield FormRow(
                        label,
                        self._field(key, spec, placeholder),
                        key=key,
                        hint=self._note(key),
                        id=f"row-{key}",
                        error_id=f"error-{key}",
                        classes="-tall" if key == "metadata" else None,
                    )
            yield Static("", classes="form-error", id="consumer-form-error", markup=False)
            yield Label(
                "ctrl+s saves, Escape cancels. Durations: 30s 1h30m; lists: commas.",
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Save" if self.editing else "Create",
                    id="consumer-form-save",
                    variant="primary",
                )
                yield Button("Cancel", id="consumer-form-cancel")

    def _field(self, key: str, spec: ConsumerSpec, placeholder: str) -> Widget:
        disabled = bool(self._disabled_reason(key))
        widget_id = f"field-{key}"
        value = getattr(spec, key)
        if key in self._kept:
            # Never the raw value in a field (the terminal would obey its escapes), never the
            # display text either (saving would write it back): a preview; the value is kept.
            return Static(
                Text(sanitize(value, max_len=500), style="italic" if key not in IDENTITY else ""),
                id=widget_id,
                classes="form-kept",
            )
        if key == "stream":
            options = [(sanitize(name, max_len=60), name) for name in self._stream_choices]
            return Select(
                options,
                value=self._first_stream if self._first_stream else Select.BLANK,
                prompt="choose a stream",
                id=widget_id,
                compact=True,
            )
        if key in CHECKBOXES:
            return Checkbox(
                CHECKBOXES[key], value=value, id=widget_id, compact=True, disabled=disabled
            )
        if key in SELECTS:
            known = [choice[1] for choice in SELECTS[key]]
            # A policy a newer server has and this list not: offered as it is, so it stays.
            extra = [] if value in known else [(sanitize(value, max_len=40), value)]
            return Select(
                [*SELECTS[key], *extra],
                value=value,
                allow_blank=False,
                id=widget_id,
                compact=True,
                disabled=disabled,
            )
        if key == "metadata":
            return TextArea(value, id=widget_id, disabled=disabled, soft_wrap=False)
        validators: list[Validator] = []
        if key == "name":
            validators.append(ProblemOf(lambda text: text and consumer_name_problem(text.strip())))
        elif key in PARSERS:
            validators.append(ParsedBy(PARSERS[key]))
        return Input(
            value,
            placeholder=placeholder,
            id=widget_id,
            compact=True,
            disabled=disabled,
            select_on_focus=False,
            validators=validators,
        )

    def _disabled_reason(self, key: str) -> str:
        """Why the server would refuse a change to this field on update ("" when it would not)."""
        if self._current is None:
            return ""
        return ConsumerSpec.IMMUTABLE.get(key, "")

    def _note(self, key: str) -> str:
        if key in self._kept and key not in IDENTITY:
            return KEPT_NOTE
        if reason := self._disabled_reason(key):
            return f"cannot change: {reason}"
        return ""

    def on_mount(self) -> None:
        self.query_one("#consumer-form-error").display = False
        self._show_mode(self._current.mode if self._current else "pull")
        self._show_start(self._current.deliver_policy if self._current else "all")
        # The first field to type in: the description on edit, else the stream until one is set.
        first = "description" if self.editing else "name" if self._first_stream else "stream"
        if first not in self._kept:
            self.query_one(f"#field-{first}").focus()

    @on(Select.Changed, "#field-mode")
    def _mode_changed(self, event: Select.Changed) -> None:
        self._show_mode(str(event.value))

    @on(Select.Changed, "#field-deliver_policy")
    def _policy_changed(self, event: Select.Changed) -> None:
        self._show_start(str(event.value))

    def _show_mode(self, mode: str) -> None:
        for key in PUSH_ONLY:
            self.row(key).display = mode == "push"
        for key in PULL_ONLY:
            self.row(key).display = mode == "pull"

    def _show_start(self, policy: str) -> None:
        """The start sequence or time only with the deliver policy that reads it."""
        self.row("start_seq").display = policy == "by_start_sequence"
        self.row("start_time").display = policy == "by_start_time"

    # -- reading -------------------------------------------------------------------------------

    def spec(self) -> ConsumerSpec:
        """The form as typed; kept fields (and, on edit, stream and name) as the server has them.
        Fields of the other mode are read as empty: a pull consumer has no deliver subject."""

        def text(key: str) -> str:
            if key in self._kept:
                return self._kept[key]
            field = self.query_one(f"#field-{key}")
            if isinstance(field, TextArea):
                return field.text
            return field.value if isinstance(field, Input) else ""

        def choice(key: str) -> str:
            value = self.query_one(f"#field-{key}", Select).value
            return value if isinstance(value, str) else ""

        def checked(key: str) -> bool:
            return self.query_one(f"#field-{key}", Checkbox).value

        mode = choice("mode")
        return ConsumerSpec(
            stream=self._kept.get("stream") or choice("stream"),
            name=self._kept.get("name") or text("name").strip(),
            durable=checked("durable"),
            mode=mode,  # type: ignore[arg-type]
            description=text("description"),
            deliver_subject=text("deliver_subject") if mode == "push" else "",
            deliver_group=text("deliver_group").strip() if mode == "push" else "",
            filter_subjects=text("filter_subjects"),
            deliver_policy=choice("deliver_policy"),  # type: ignore[arg-type]
            start_seq=text("start_seq"),
            start_time=text("start_time"),
            ack_policy=choice("ack_policy"),  # type: ignore[arg-type]
            ack_wait=text("ack_wait"),
            max_deliver=text("max_deliver"),
            backoff=text("backoff"),
            max_ack_pending=text("max_ack_pending"),
            max_waiting=text("max_waiting") if mode == "pull" else "",
            replicas=text("replicas").strip(),
            mem_storage=checked("mem_storage"),
            inactive_threshold=text("inactive_threshold"),
            headers_only=checked("headers_only"),
            metadata=text("metadata"),
        )

    @on(Input.Submitted)
    @on(Button.Pressed, "#consumer-form-save")
    def action_save(self) -> None:
        if not self.form_busy:
            self._save(self.spec())

    @on(Button.Pressed, "#consumer-form-cancel")
    def action_cancel(self) -> None:
        if not self.form_busy:
            self.dismiss(None)

    @work(exclusive=True, group="consumer-form", exit_on_error=False, description="save consumer")
    async def _save(self, spec: ConsumerSpec) -> None:
        service, current = self._service, self._current
        ok, result = await self.submit_form(
            "consumer-form-save",
            lambda: service.create(spec) if current is None else service.update(spec, base=current),
        )
        if ok:
            self.dismiss(result)
