"""The create / edit form of a stream.

One form for both: `StreamFormScreen(service)` creates, `StreamFormScreen(service, current=spec)`
edits (the spec comes from the stream's current config). It dismisses with the `StreamSummary`
the server answered, or None when cancelled.

The fields hold the stream's real values, never their display text. A value an `Input` cannot hold
safely (control characters, BiDi overrides: `Input` draws them raw, and the terminal would obey
them) is not put into one: the row shows a sanitized preview and "kept as it is", and `spec()`
returns the real value, so the update leaves it untouched (`StreamService.update` sends only what
changed from the spec the form started from; saving an unchanged form sends nothing).

Bad input is caught by `StreamSpec.validate()` and shown under each field; a refusal from the
server is shown above the buttons with the server's own (sanitized) description. In both cases the
form stays open with what the user typed, and nothing has changed on the server.

A field is disabled, with the reason under it, when the server would refuse it: on an edit, what
`StreamSpec.locked_reason` names (a mirror's origin, a first sequence, a one-way switch already
on); on any form, a feature the connected server's version lacks (`StreamService.unsupported`,
from the table in `jstui.nats.features`). Turning a one-way switch on (sealed, deny delete, deny
purge) asks first, saying that it cannot be undone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

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
from jstui.format.units import parse_count, parse_duration, parse_size
from jstui.nats.names import stream_name_problem
from jstui.nats.streams.origins import parse_origin, parse_transform
from jstui.nats.streams.service import StreamService
from jstui.nats.streams.spec import StreamSpec
from jstui.nats.streams.summaries import StreamSummary

FIELDS: tuple[tuple[str, str, str], ...] = (
    # (StreamSpec attribute, label, placeholder)
    ("name", "Name", "e.g. example_stream (no spaces, '.', '*' or '>')"),
    ("description", "Description", "optional"),
    ("subjects", "Subjects", "e.g. my.subject.*, orders.> (comma separated)"),
    ("retention", "Retention", ""),
    ("storage", "Storage", ""),
    ("replicas", "Replicas", "1"),
    ("max_age", "Max age", "e.g. 9s, 1h30m, 7d; empty = unlimited"),
    ("max_msgs", "Max msgs", "e.g. 1000; empty = unlimited"),
    ("max_bytes", "Max bytes", "e.g. 10MiB, 1.5GiB; empty = unlimited"),
    ("max_msg_size", "Max msg size", "e.g. 1MiB; empty = unlimited"),
    ("max_msgs_per_subject", "Max msgs/subject", "e.g. 10; empty = unlimited"),
    ("discard", "Discard", ""),
    ("duplicate_window", "Dup window", "e.g. 2m; empty = server default (2m)"),
    ("allow_direct", "Direct get", ""),
    ("mirror", "Mirror of", "STREAM [filter=SUBJECT] [start=SEQ|TIME] [api=PREFIX|domain=D]"),
    ("sources", "Sources", "one a line: STREAM [filter=SUBJECT] [start=SEQ|TIME] [api=PREFIX]"),
    ("subject_transform", "Transform", "e.g. orders.* -> eu.orders.{{wildcard(1)}}"),
    ("republish", "Republish", "e.g. orders.> -> copies.orders.>"),
    ("republish_headers_only", "", ""),
    ("compression", "Compression", ""),
    ("first_seq", "First seq", "e.g. 1000; empty = 1"),
    ("allow_rollup", "Roll-up", ""),
    ("deny_delete", "Deny delete", ""),
    ("deny_purge", "Deny purge", ""),
    ("sealed", "Sealed", ""),
    ("metadata", "Metadata", "key=value, one a line"),
)
"""Every field of the form, in order."""

CHECKBOXES = {
    "allow_direct": "allow direct get (any replica answers reads)",
    "republish_headers_only": "republish headers only (no payload)",
    "allow_rollup": "allow roll-up (a Nats-Rollup header purges older messages)",
    "deny_delete": "deny delete (messages can never be deleted; one-way)",
    "deny_purge": "deny purge (the stream can never be purged; one-way)",
    "sealed": "sealed (no more messages, deletes or purges; one-way)",
}
"""The switches of the form and what each says beside its box."""

TRIMMED = frozenset({"name", "replicas", "mirror"})
"""The fields read without their surrounding spaces (the others as typed)."""

MULTILINE_FIELDS = frozenset({"sources", "metadata"})
"""The fields typed in a `TextArea`, one item a line."""

PARSERS: dict[str, Callable[[str], object]] = {
    "max_age": parse_duration,
    "duplicate_window": parse_duration,
    "max_msgs": parse_count,
    "max_msgs_per_subject": parse_count,
    "max_bytes": parse_size,
    "max_msg_size": parse_size,
    "first_seq": parse_count,
    "mirror": parse_origin,
    "subject_transform": parse_transform,
    "republish": parse_transform,
}
"""The fields checked alone when the user leaves them, by the parser `StreamSpec.validate` uses."""

CHOICE_FIELDS = frozenset({"retention", "storage", "discard", "compression", *CHECKBOXES})
"""The fields that are a Select or a Checkbox; every other field is typed text."""

KEPT_NOTE = "contains control characters: kept as it is"
"""Under a field whose real value cannot be shown in an `Input` (see the module docstring)."""


def editable_in_input(value: str, *, multiline: bool = False) -> bool:
    """Whether `value` can go into an `Input` (or, `multiline`, a `TextArea`) as it is: printable
    text only, line breaks too in a `TextArea` (no ESC, BEL, BiDi override or other character
    that the widget would pass raw to the terminal)."""
    lines = value.split("\n") if multiline else [value]
    return all(line.isprintable() for line in lines)


RETENTION_CHOICES = (
    ("limits: keep until a limit removes them", "limits"),
    ("interest: keep until every consumer acked", "interest"),
    ("workqueue: keep until one consumer acked", "workqueue"),
)
STORAGE_CHOICES = (("file", "file"), ("memory", "memory"))
COMPRESSION_CHOICES = (("none", "none"), ("s2: compress stored messages", "s2"))
DISCARD_CHOICES = (
    ("old: drop the oldest messages at a limit", "old"),
    ("new: refuse new messages at a limit", "new"),
)


class StreamFormScreen(FormScreen[StreamSummary | None]):
    """Create a stream, or edit one when `current` (its spec as the server has it) is given."""

    FORM_ERROR_ID = "stream-form-error"
    READ_ONLY_NOTICE = "streams are neither created nor changed."
    READ_ONLY_BUTTON = "stream-form-save"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]

    def __init__(self, service: StreamService, *, current: StreamSpec | None = None) -> None:
        super().__init__()
        self._service = service
        self._current = current
        self._kept: dict[str, str] = {}
        """The text fields whose real value stays as the server has it, by spec key."""
        if current is not None:
            for key, _label, _placeholder in FIELDS:
                value = getattr(current, key)
                multiline = key in MULTILINE_FIELDS
                if key not in CHOICE_FIELDS and not editable_in_input(value, multiline=multiline):
                    self._kept[key] = value

    @property
    def editing(self) -> bool:
        return self._current is not None

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        spec = self._current or StreamSpec()
        with Vertical(classes="dialog stream-form") as dialog:
            dialog.border_title = "Edit stream" if self.editing else "New stream"
            yield self.read_only_notice()
            if self.editing:
                yield Static(
                    Text.assemble("Stream ", (sanitize(spec.name), "bold")),
                    id="stream-form-title",
                    classes="dialog-intro",
                )
            with VerticalScroll(id="stream-form-fields"):
                for key, label, placeholder in FIELDS:
                    yield FormRow(
                        label,
                        self._field(key, spec, placeholder),
                        key=key,
                        hint=self._note(key),
                        id=f"row-{key}",
                        classes="-tall" if key in MULTILINE_FIELDS else None,
                        hint_id=f"note-{key}",
                        error_id=f"error-{key}",
                    )
            yield Static("", classes="form-error", id="stream-form-error", markup=False)
            yield Label(
                "Enter or ctrl+s saves, Escape cancels. Units: 9s 1h30m · 10MiB 1.5GiB.",
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Save" if self.editing else "Create", id="stream-form-save", variant="primary"
                )
                yield Button("Cancel", id="stream-form-cancel")

    def _field(self, key: str, spec: StreamSpec, placeholder: str) -> Widget:
        disabled = bool(self._disabled_reason(key))
        widget_id = f"field-{key}"
        if key == "retention":
            choices: tuple[tuple[str, str], ...] = RETENTION_CHOICES
            if self.editing and spec.retention != "workqueue":
                # limits <-> interest may change; workqueue can be neither entered nor left.
                choices = tuple(c for c in choices if c[1] != "workqueue")
            return self._select(widget_id, choices, spec.retention, disabled)
        if key == "storage":
            return self._select(widget_id, STORAGE_CHOICES, spec.storage, disabled)
        if key == "discard":
            return self._select(widget_id, DISCARD_CHOICES, spec.discard, disabled)
        if key == "compression":
            return self._select(widget_id, COMPRESSION_CHOICES, spec.compression, disabled)
        if key in CHECKBOXES:
            return Checkbox(
                CHECKBOXES[key],
                value=getattr(spec, key),
                id=widget_id,
                compact=True,
                disabled=disabled,
            )
        value = getattr(spec, key)
        if key in self._kept:
            # Never the raw value in an Input (the terminal would obey its escapes), never the
            # display text either (saving would write it back): a preview, and the value is kept.
            return Static(
                Text(sanitize(value, max_len=500), style="italic"),
                id=widget_id,
                classes="form-kept",
            )
        if key in MULTILINE_FIELDS:
            return TextArea(value, id=widget_id, disabled=disabled, soft_wrap=False)
        validators: list[Validator] = []
        if key == "name" and not self.editing:
            validators.append(ProblemOf(lambda text: stream_name_problem(text.strip())))
        elif key in PARSERS:
            validators.append(ParsedBy(_optional(PARSERS[key])))
        return Input(
            value,
            placeholder=placeholder,
            id=widget_id,
            compact=True,
            disabled=disabled,
            select_on_focus=False,
            validators=validators,
        )

    @staticmethod
    def _select(
        widget_id: str, choices: tuple[tuple[str, str], ...], value: str, disabled: bool
    ) -> Select[str]:
        known = [c[1] for c in choices]
        options = list(choices) if value in known else [*choices, (value, value)]
        return Select(
            options, value=value, allow_blank=False, id=widget_id, compact=True, disabled=disabled
        )

    def _disabled_reason(self, key: str) -> str:
        """Why the server would refuse this field ("" when it would not): a feature the
        connected server lacks, a stream sealed only after creation, or a change the server
        refuses on update (`StreamSpec.locked_reason`)."""
        if reason := self._service.unsupported(key):
            return reason
        if self._current is None:
            return "a stream is sealed by an edit, after creation" if key == "sealed" else ""
        return self._current.locked_reason(key)

    def _note(self, key: str) -> str:
        """The line under a field in edit mode that says what the server will not change."""
        if key in self._kept:
            return KEPT_NOTE
        if reason := self._disabled_reason(key):
            return f"cannot change: {reason}"
        if self.editing and key == "retention":
            return f"workqueue is not offered: {StreamSpec.RETENTION_WORKQUEUE_REASON}"
        return ""

    def on_mount(self) -> None:
        self.query_one("#stream-form-error").display = False
        wanted = ("description", "subjects", "max_age") if self.editing else ("name",)
        first = next(key for key in wanted if key not in self._kept)
        self.query_one(f"#field-{first}").focus()

    # -- reading and showing -------------------------------------------------------------------

    def spec(self) -> StreamSpec:
        """The form as typed (names and subjects trimmed); kept fields as the server has them."""
        values: dict[str, Any] = {}
        for key, _label, _placeholder in FIELDS:
            field = self.query_one(f"#field-{key}")
            if key in self._kept:
                values[key] = self._kept[key]
            elif isinstance(field, Checkbox):
                values[key] = field.value
            elif isinstance(field, Select):
                values[key] = field.value if isinstance(field.value, str) else ""
            elif isinstance(field, TextArea):
                values[key] = field.text
            elif isinstance(field, Input):
                values[key] = field.value.strip() if key in TRIMMED else field.value
        if self._current is not None:
            # An edit cannot rename: the name is the stream's own, whatever it looks like.
            values["name"] = self._current.name
        return StreamSpec(**values)

    @on(Input.Submitted)
    @on(Button.Pressed, "#stream-form-save")
    def action_save(self) -> None:
        if not self.form_busy:
            self._save(self.spec())

    @on(Button.Pressed, "#stream-form-cancel")
    def action_cancel(self) -> None:
        if not self.form_busy:
            self.dismiss(None)

    @work(exclusive=True, group="stream-form", exit_on_error=False, description="save stream")
    async def _save(self, spec: StreamSpec) -> None:
        service, current = self._service, self._current
        one_way = spec.one_way_changes(current) if current is not None else []
        if one_way and not await self._confirm_one_way(spec.name, one_way):
            return
        ok, result = await self.submit_form(
            "stream-form-save",
            lambda: service.create(spec) if current is None else service.update(spec, base=current),
        )
        if ok:
            self.dismiss(result)

    async def _confirm_one_way(self, name: str, keys: list[str]) -> bool:
        """Ask before a switch that can never be turned off again goes on."""
        from jstui.dialogs.confirm import ConfirmScreen  # on first use: only an edit needs it

        question = Text.assemble("Stream ", (sanitize(name), "bold"), ":\n")
        for key in keys:
            question.append(f"• {ONE_WAY_EFFECTS[key]}\n")
        question.append("This can never be undone: the server refuses to switch it off again.")
        sealing = "sealed" in keys
        confirm = ConfirmScreen(
            "Seal stream" if sealing else "Switch on for good",
            question,
            confirm_label="Seal" if sealing else "Yes",
        )
        confirmed: bool = await self.app.push_screen_wait(confirm)
        return confirmed


ONE_WAY_EFFECTS = {
    "sealed": "sealed: no message can be added, deleted or purged any more, and no limit removes "
    "old ones",
    "deny_delete": "deny delete: no message can be deleted from it any more",
    "deny_purge": "deny purge: it can never be purged (nor rolled up)",
}
"""What each one-way switch does, said in the confirmation."""


def _optional(parse: Callable[[str], object]) -> Callable[[str], object]:
    """`parse`, with an empty field accepted (an empty mirror or transform is none)."""

    def parse_or_none(text: str) -> object:
        return parse(text) if text.strip() else None

    return parse_or_none
