"""The create form of an object store: name, description, TTL, max bytes, storage, replicas and
compression, in human units ("7d", "10GiB").

`ObjectStoreFormScreen(service)` dismisses with the new store's `StoreSummary`, or None when
cancelled. Each field is checked when the user leaves it by the parser `StoreSpec.validate` uses;
on save every bad field shows its message and nothing is sent; a refusal from the server (a name
in use, replicas the server cannot place, more bytes than it has) shows above the buttons. The
form stays open either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import Validator
from textual.widgets import Button, Input, Label, Select, Static

from jstui.dialogs.form_row import FormRow, ParsedBy, ProblemOf
from jstui.dialogs.form_screen import FormScreen
from jstui.dialogs.kv_bucket_form import CHOICES  # storage and compression, as a KV bucket's
from jstui.format.units import parse_count, parse_duration, parse_size
from jstui.nats.objects.model import StoreSpec, StoreSummary, store_name_problem
from jstui.nats.objects.service import ObjectService

__all__ = ["ObjectStoreFormScreen"]

FIELDS: tuple[tuple[str, str, str], ...] = (
    # (StoreSpec attribute, label, placeholder)
    ("name", "Name", "e.g. files (letters, digits, - and _)"),
    ("description", "Description", "optional"),
    ("ttl", "TTL", "how long an object lives: 1h, 7d; empty = for ever"),
    ("max_bytes", "Max bytes", "the whole store, e.g. 10GiB; empty = unlimited"),
    ("storage", "Storage", ""),
    ("replicas", "Replicas", "1"),
    ("compression", "Compression", ""),
)
PARSERS: dict[str, Callable[[str], object]] = {
    "ttl": parse_duration,
    "max_bytes": parse_size,
    "replicas": parse_count,
}


class ObjectStoreFormScreen(FormScreen[StoreSummary | None]):
    """Create an object store."""

    FORM_ERROR_ID = "object-store-error"
    READ_ONLY_NOTICE = "object stores are not created."
    READ_ONLY_BUTTON = "object-store-save"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]
    DEFAULT_CSS = """
    ObjectStoreFormScreen .object-store-form { max-width: 96; height: auto; max-height: 90%; }
    ObjectStoreFormScreen #object-store-fields { height: auto; }
    """

    def __init__(self, service: ObjectService) -> None:
        super().__init__()
        self._service = service

    def compose(self) -> ComposeResult:
        spec = StoreSpec()
        with Vertical(classes="dialog object-store-form") as dialog:
            dialog.border_title = "New object store"
            yield self.read_only_notice()
            with VerticalScroll(id="object-store-fields"):
                for key, label, placeholder in FIELDS:
                    yield FormRow(
                        label,
                        self._field(key, getattr(spec, key), placeholder),
                        key=key,
                        error_id=f"object-store-error-{key}",
                    )
            yield Static("", classes="form-error", id="object-store-error", markup=False)
            yield Label(
                "Enter or ctrl+s creates, Escape cancels. Units: 9s 1h30m 7d · 10MiB 1.5GiB.",
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", id="object-store-save", variant="primary")
                yield Button("Cancel", id="object-store-cancel")

    @staticmethod
    def _field(key: str, value: str, placeholder: str) -> Input | Select[str]:
        widget_id = f"object-store-{key}"
        if key in CHOICES:
            return Select(CHOICES[key], value=value, allow_blank=False, id=widget_id, compact=True)
        validators: list[Validator] = []
        if key == "name":
            validators = [ProblemOf(lambda text: store_name_problem(text.strip()))]
        elif key in PARSERS:
            validators = [ParsedBy(PARSERS[key])]
        return Input(
            "",
            placeholder=placeholder,
            id=widget_id,
            compact=True,
            select_on_focus=False,
            validators=validators,
        )

    def on_mount(self) -> None:
        self.query_one("#object-store-error").display = False
        self.query_one("#object-store-name").focus()

    def spec(self) -> StoreSpec:
        def text(key: str) -> str:
            return self.query_one(f"#object-store-{key}", Input).value.strip()

        def choice(key: str) -> str:
            value = self.query_one(f"#object-store-{key}", Select).value
            return value if isinstance(value, str) else ""

        return StoreSpec(
            name=text("name"),
            description=self.query_one("#object-store-description", Input).value,
            ttl=text("ttl"),
            max_bytes=text("max_bytes"),
            storage=choice("storage"),
            replicas=text("replicas") or "1",
            compression=choice("compression"),
        )

    @on(Input.Submitted)
    @on(Button.Pressed, "#object-store-save")
    def action_save(self) -> None:
        if not self.form_busy:
            self._save(self.spec())

    @on(Button.Pressed, "#object-store-cancel")
    def action_cancel(self) -> None:
        if not self.form_busy:
            self.dismiss(None)

    @work(exclusive=True, group="object-store", exit_on_error=False, description="create store")
    async def _save(self, spec: StoreSpec) -> None:
        service = self._service
        ok, created = await self.submit_form(
            "object-store-save", lambda: service.create_bucket(spec)
        )
        if ok:
            self.dismiss(created)
