"""The small forms of the Workers pane (pool, member, load), built the same way.

Each field is one `FormRow` (label, input or choice, error line). A field with a parser is
checked when the user leaves it; the whole form is checked again before anything starts; every
problem is shown next to its field, the first bad field gets the focus, and nothing changes on
the server until the input is right.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from jstui.dialogs.form_row import FormRow, ParsedBy
from jstui.dialogs.form_screen import FormScreen

T = TypeVar("T")
N = TypeVar("N")


@dataclass(frozen=True)
class WorkerField:
    """One row: an Input (no `choices`) or a Select of (label, value) `choices`.

    `parse` (a function that raises `ValueError`) checks the Input alone when the user leaves it.
    """

    key: str
    label: str
    placeholder: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    parse: Callable[[str], object] | None = None


class WorkerForm(FormScreen[T | None], Generic[T]):
    """A dialog of `WorkerField`s; subclasses turn the values into a result in `submit()`."""

    FORM_ERROR_ID = "worker-form-error"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Start", priority=True),
    ]
    FORM_CLASS: ClassVar[str] = ""
    SUBMIT_LABEL: ClassVar[str] = "Start"
    HINT: ClassVar[str] = "Enter or ctrl+s starts, Escape cancels."
    READ_ONLY_BUTTON = "worker-form-submit"

    def __init__(self, title: str, fields: Sequence[WorkerField], values: dict[str, str]) -> None:
        super().__init__()
        self._title = title
        self._fields = tuple(fields)
        self._values = values

    def compose(self) -> ComposeResult:
        with Vertical(classes=f"dialog worker-form {self.FORM_CLASS}") as dialog:
            dialog.border_title = self._title
            yield self.read_only_notice()
            intro = self.intro()
            if intro is not None:
                yield Static(intro, classes="dialog-intro")
            with VerticalScroll(classes="worker-form-fields"):
                for spec in self._fields:
                    yield FormRow(
                        spec.label,
                        self._widget(spec),
                        key=spec.key,
                        id=f"row-{spec.key}",
                        error_id=f"error-{spec.key}",
                    )
            yield Static("", classes="form-error", id="worker-form-error", markup=False)
            yield Label(self.HINT, classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.SUBMIT_LABEL, id="worker-form-submit", variant="primary")
                yield Button("Cancel", id="worker-form-cancel")

    def intro(self) -> Text | None:
        """An optional line above the fields (e.g. which member is edited)."""
        return None

    def _widget(self, spec: WorkerField) -> Widget:
        value = self._values.get(spec.key, "")
        if spec.choices:
            known = [choice[1] for choice in spec.choices]
            return Select(
                list(spec.choices),
                value=value if value in known else known[0],
                allow_blank=False,
                id=f"field-{spec.key}",
                compact=True,
            )
        return Input(
            value,
            placeholder=spec.placeholder,
            id=f"field-{spec.key}",
            compact=True,
            # tabbing into a field selects it, so typing replaces the value (most are numbers)
            select_on_focus=True,
            validators=[ParsedBy(spec.parse)] if spec.parse else None,
        )

    def on_mount(self) -> None:
        self.query_one("#worker-form-error").display = False
        self.update_visibility()
        if self._fields:
            self.query_one(f"#field-{self._fields[0].key}").focus()

    # -- reading and showing ------------------------------------------------------------------

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for spec in self._fields:
            widget = self.query_one(f"#field-{spec.key}")
            if isinstance(widget, Select):
                out[spec.key] = widget.value if isinstance(widget.value, str) else ""
            elif isinstance(widget, Input):
                out[spec.key] = widget.value
        return out

    def set_row_visible(self, key: str, visible: bool) -> None:
        self.query_one(f"#row-{key}").display = visible

    def update_visibility(self) -> None:
        """Show only the rows that apply (subclasses hide rows by the current choices)."""

    @on(Select.Changed)
    def _choice_changed(self) -> None:
        self.update_visibility()

    @on(Input.Submitted)
    @on(Button.Pressed, "#worker-form-submit")
    def action_save(self) -> None:
        if not self.form_busy:
            self._submit(self.values())

    @on(Button.Pressed, "#worker-form-cancel")
    def action_cancel(self) -> None:
        if not self.form_busy:
            self.dismiss(None)

    @work(exclusive=True, group="worker-form", exit_on_error=False, description="worker form")
    async def _submit(self, values: dict[str, str]) -> None:
        ok, result = await self.submit_form("worker-form-submit", lambda: self.submit(values))
        if ok:
            self.dismiss(result)

    @abstractmethod
    async def submit(self, values: dict[str, str]) -> T:
        """Check `values` and act; raise `SpecErrors` (per field) or `JstuiError` to stay open.

        Each dialog (pool, member, load) supplies its own."""


def parse_whole_number(text: str) -> int:
    """`text` as an int ("1,000" and "1_000" too); raises `ValueError` with the form's message."""
    try:
        return int(text.strip().replace(",", "").replace("_", ""))
    except ValueError:
        raise ValueError("a whole number" if text.strip() else "needed") from None


def parse_real_number(text: str) -> float:
    """`text` as a float, "" as 0; raises `ValueError` with the form's message."""
    try:
        return float(text.strip().replace(",", "").replace("_", "") or "0")
    except ValueError:
        raise ValueError("a number") from None


def parsed(parse: Callable[[str], N], text: str, errors: dict[str, str], key: str, default: N) -> N:
    """`parse(text)`; when it raises `ValueError`, note its message for `key` and return `default`.

    A form collects every bad field this way before it reports them all at once."""
    try:
        return parse(text)
    except ValueError as error:
        errors[key] = str(error)
        return default
