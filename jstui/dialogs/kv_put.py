"""The put form of the Key/Value pane: a new key, or an edit of the selected one.

`KvPutScreen(service, bucket)` puts a new key, `KvPutScreen(service, bucket, entry)` edits `entry`
(the key's revision as the table showed it). Either way the value is stored with the revision that
was read as the expected last one (0 for a new key), so the server refuses the put when someone
else changed the key since the form opened; the form then says which revision is there now
("changed by someone else since you opened it: revision 7 is now 9") and nothing is overwritten.
It dismisses with the new revision, or None when cancelled.

The value goes into the box through `jstui.format.editable`: plain text as it is, anything else
(ESC, BEL, a BiDi override, bytes that are not UTF-8) escaped, with "escaped" chosen, so the box
reads back to exactly the stored bytes and the terminal never sees the raw characters. A JSON value
is recognised and "json" chosen: it is then checked before it is sent, the error shown under the
value with its line and column. A key is shown, never put in an `Input`, when editing.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from jstui.dialogs.form_row import FormRow, ProblemOf
from jstui.dialogs.form_screen import FormScreen
from jstui.format.editable import PayloadFormat, editable_payload
from jstui.format.payload import pretty_json
from jstui.format.text import sanitize
from jstui.nats.errors import SpecErrors
from jstui.nats.kv.model import KeyEntry, key_problem, value_bytes
from jstui.nats.kv.service import KvService

__all__ = ["KvPutScreen"]

FORMATS = (
    ("text: stored as typed (UTF-8)", "text"),
    ("JSON: checked before it is stored", "json"),
    ("escaped: \\x1b, \\u202e, \\\\ ... become bytes", "escaped"),
)


def initial_value(entry: KeyEntry | None) -> tuple[str, str]:
    """What the value box starts with, and how it is read back (see the module docstring)."""
    if entry is None or entry.deleted:
        return "", "text"
    text, payload_format = editable_payload(entry.value)
    if payload_format is PayloadFormat.ESCAPED:
        return text, "escaped"
    return text, "json" if pretty_json(entry.value) is not None else "text"


class KvPutScreen(FormScreen[int | None]):
    """Put a key into `bucket`; with `entry`, edit that key from the revision it had."""

    FORM_ERROR_ID = "kv-put-error"
    READ_ONLY_NOTICE = "keys are neither put nor changed."
    READ_ONLY_BUTTON = "kv-put-save"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]
    DEFAULT_CSS = """
    KvPutScreen .kv-put { max-width: 100; height: auto; }
    KvPutScreen #kv-put-value { height: 10; }
    """

    def __init__(self, service: KvService, bucket: str, entry: KeyEntry | None = None) -> None:
        super().__init__()
        self._service = service
        self._bucket = bucket
        self._entry = entry
        self._value, self._format = initial_value(entry)

    @property
    def last_revision(self) -> int:
        """The revision the put expects to replace (0: the key must not exist)."""
        return self._entry.revision if self._entry is not None else 0

    def compose(self) -> ComposeResult:
        entry = self._entry
        with Vertical(classes="dialog kv-put") as dialog:
            dialog.border_title = "Edit key" if entry else "Put key"
            yield self.read_only_notice()
            if entry is not None:
                yield Static(
                    Text.assemble(
                        "Key ",
                        (sanitize(entry.key), "bold"),
                        " in bucket ",
                        (sanitize(self._bucket), "bold"),
                        f", revision {entry.revision}"
                        + (f" ({entry.operation})" if entry.deleted else "")
                        + ". Saved only if nobody changed it since.",
                    ),
                    id="kv-put-title",
                    classes="dialog-intro",
                )
            else:
                yield FormRow(
                    "Key",
                    Input(
                        placeholder="e.g. config.colour (letters, digits, - / _ = .)",
                        id="kv-put-key",
                        compact=True,
                        validators=[ProblemOf(lambda text: key_problem(text.strip()))],
                    ),
                    key="key",
                    error_id="kv-put-key-error",
                )
            yield FormRow(
                "Value as",
                Select(FORMATS, value=self._format, allow_blank=False, id="kv-put-format"),
                key="format",
            )
            yield FormRow(
                "Value",
                TextArea(self._value, id="kv-put-value", soft_wrap=True),
                key="value",
                error_id="kv-put-value-error",
            )
            yield Static("", classes="form-error", id="kv-put-error", markup=False)
            yield Label("ctrl+s saves, Escape cancels.", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", id="kv-put-save", variant="primary")
                yield Button("Cancel", id="kv-put-cancel")

    def on_mount(self) -> None:
        self.query_one(f"#{self.FORM_ERROR_ID}").display = False
        first = "#kv-put-value" if self._entry is not None else "#kv-put-key"
        self.query_one(first).focus()

    def key(self) -> str:
        if self._entry is not None:
            return self._entry.key  # the key's own, whatever it looks like
        return self.query_one("#kv-put-key", Input).value.strip()

    def value_format(self) -> str:
        value = self.query_one("#kv-put-format", Select).value
        return value if isinstance(value, str) else "text"

    @on(Input.Submitted)
    @on(Button.Pressed, "#kv-put-save")
    def action_save(self) -> None:
        if not self.form_busy:
            self._save(self.key(), self.query_one("#kv-put-value", TextArea).text)

    @on(Button.Pressed, "#kv-put-cancel")
    def action_cancel(self) -> None:
        if not self.form_busy:
            self.dismiss(None)

    @work(exclusive=True, group="kv-put", exit_on_error=False, description="put key")
    async def _save(self, key: str, text: str) -> None:
        service, bucket, last = self._service, self._bucket, self.last_revision
        value_format = self.value_format()

        async def put() -> int:
            errors: dict[str, str] = {}
            if problem := key_problem(key):
                errors["key"] = problem
            try:
                data = value_bytes(text, value_format)
            except ValueError as error:
                errors["value"] = str(error)
            if errors:
                raise SpecErrors(errors)
            return await service.update(bucket, key, data, last=last)

        ok, revision = await self.submit_form("kv-put-save", put)
        if ok:
            self.dismiss(revision)
