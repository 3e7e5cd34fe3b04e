"""`BucketFormScreen`: the create form a key-value bucket and an object store share (both are
streams with a convention on top, and their forms differ only in fields and words).

A subclass names its fields (`FIELDS`: spec attribute, label, placeholder), the parsers that check
them (`PARSERS`), the fields picked from a list (`CHOICES`), its name rule (`name_problem`), the
spec it builds (`spec_type`) and the ids' prefix (`PREFIX`); everything else is here. Each field is
checked when the user leaves it by the parser its spec's `validate` uses; on save (Enter, ctrl+s,
the Create button) the spec goes to `create` through `FormScreen.submit_form`: every bad field
shows its message and nothing is sent, a refusal from the server shows above the buttons, and the
form stays open. It dismisses with what `create` returned, or None when cancelled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import Validator
from textual.widgets import Button, Input, Label, Select, Static

from jstui.dialogs.form_row import FormRow, ParsedBy, ProblemOf
from jstui.dialogs.form_screen import FormScreen

__all__ = ["STORAGE_CHOICES", "BucketFormScreen"]

SummaryT = TypeVar("SummaryT")

STORAGE_CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "storage": (("file", "file"), ("memory", "memory")),
    "compression": (("none", "none"), ("s2 (file storage, smaller on disk)", "s2")),
}
"""Storage and compression, picked from a list in both forms."""


class BucketFormScreen(FormScreen[SummaryT | None]):
    """Create a bucket of the kind the subclass describes."""

    PREFIX: ClassVar[str] = ""
    """Of every widget id: `<PREFIX>-<field>`, `<PREFIX>-save`, `<PREFIX>-error`... (the last two
    are the form's `READ_ONLY_BUTTON` and `FORM_ERROR_ID`)."""
    TITLE: ClassVar[str] = ""
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    """(spec attribute, label, placeholder), in form order."""
    PARSERS: ClassVar[dict[str, Callable[[str], object]]] = {}
    CHOICES: ClassVar[dict[str, tuple[tuple[str, str], ...]]] = STORAGE_CHOICES
    PREFILLED: ClassVar[frozenset[str]] = frozenset()
    """Text fields that open with the spec's default (the others open empty, the placeholder
    saying the default)."""
    DEFAULT_WHEN_EMPTY: ClassVar[dict[str, str]] = {}
    """What an empty text field means."""
    RAW_FIELDS: ClassVar[frozenset[str]] = frozenset({"description"})
    """Text fields taken as typed (not stripped)."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.FORM_ERROR_ID = f"{cls.PREFIX}-error"
        cls.READ_ONLY_BUTTON = f"{cls.PREFIX}-save"

    def __init__(self, create: Callable[[Any], Awaitable[SummaryT]]) -> None:
        super().__init__()
        self._create = create

    # What a subclass says: the spec it builds and the name rule.
    spec_type: ClassVar[Callable[..., Any]]

    @staticmethod
    def name_problem(name: str) -> str | None:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        spec = self.spec_type()
        prefix = self.PREFIX
        with Vertical(classes=f"dialog {prefix}-form") as dialog:
            dialog.border_title = self.TITLE
            yield self.read_only_notice()
            with VerticalScroll(id=f"{prefix}-fields"):
                for key, label, placeholder in self.FIELDS:
                    yield FormRow(
                        label,
                        self._field(key, getattr(spec, key), placeholder),
                        key=key,
                        error_id=f"{prefix}-error-{key}",
                    )
            yield Static("", classes="form-error", id=f"{prefix}-error", markup=False)
            yield Label(
                "Enter or ctrl+s creates, Escape cancels. Units: 9s 1h30m 7d · 10MiB 1.5GiB.",
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", id=f"{prefix}-save", variant="primary")
                yield Button("Cancel", id=f"{prefix}-cancel")

    def _field(self, key: str, value: str, placeholder: str) -> Input | Select[str]:
        widget_id = f"{self.PREFIX}-{key}"
        if key in self.CHOICES:
            return Select(
                self.CHOICES[key], value=value, allow_blank=False, id=widget_id, compact=True
            )
        validators: list[Validator] = []
        if key == "name":
            validators = [ProblemOf(lambda text: self.name_problem(text.strip()))]
        elif key in self.PARSERS:
            validators = [ParsedBy(self.PARSERS[key])]
        return Input(
            value if key in self.PREFILLED else "",
            placeholder=placeholder,
            id=widget_id,
            compact=True,
            select_on_focus=False,
            validators=validators,
        )

    def on_mount(self) -> None:
        self.query_one(f"#{self.PREFIX}-error").display = False
        self.query_one(f"#{self.PREFIX}-name").focus()

    def spec(self) -> Any:
        """The spec as the form holds it now (checked by the service, not here)."""
        values: dict[str, str] = {}
        for key, _label, _placeholder in self.FIELDS:
            widget = self.query_one(f"#{self.PREFIX}-{key}")
            if isinstance(widget, Select):
                values[key] = widget.value if isinstance(widget.value, str) else ""
            elif isinstance(widget, Input):
                text = widget.value if key in self.RAW_FIELDS else widget.value.strip()
                values[key] = text or self.DEFAULT_WHEN_EMPTY.get(key, "")
        return self.spec_type(**values)

    @on(Input.Submitted)
    def action_save(self) -> None:
        if not self.form_busy:
            spec = self.spec()
            self.run_worker(
                self._save(spec),
                group=self.PREFIX,
                exclusive=True,
                exit_on_error=False,
                description=f"create {self.TITLE.removeprefix('New ')}",
            )

    def action_cancel(self) -> None:
        if not self.form_busy:
            self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == f"{self.PREFIX}-save":
            self.action_save()
        elif event.button.id == f"{self.PREFIX}-cancel":
            self.action_cancel()

    async def _save(self, spec: Any) -> None:
        create = self._create
        ok, created = await self.submit_form(f"{self.PREFIX}-save", lambda: create(spec))
        if ok:
            self.dismiss(created)
