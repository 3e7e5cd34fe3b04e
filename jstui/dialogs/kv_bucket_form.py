"""The create form of a key-value bucket: name, description, history, TTL, sizes, storage,
replicas and compression, in human units ("1h30m", "10MiB").

`KvBucketFormScreen(service)` dismisses with the new bucket's `BucketSummary`, or None when
cancelled. Each field is checked when the user leaves it by the parser `BucketSpec.validate` uses;
on save every bad field shows its message and nothing is sent; a refusal from the server (a name
in use, replicas the server cannot place) shows above the buttons. The form stays open either way.
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
from jstui.format.units import parse_count, parse_duration, parse_size
from jstui.nats.kv.model import BucketSpec, BucketSummary, bucket_name_problem
from jstui.nats.kv.service import KvService

__all__ = ["KvBucketFormScreen"]

FIELDS: tuple[tuple[str, str, str], ...] = (
    # (BucketSpec attribute, label, placeholder)
    ("name", "Name", "e.g. config (letters, digits, - and _)"),
    ("description", "Description", "optional"),
    ("history", "History", "revisions kept per key, 1 to 64 (default 1)"),
    ("ttl", "TTL", "how long a value lives: 1h, 7d; empty = for ever"),
    ("max_value_size", "Max value size", "e.g. 1MiB; empty = unlimited"),
    ("max_bytes", "Max bytes", "the whole bucket, e.g. 1GiB; empty = unlimited"),
    ("storage", "Storage", ""),
    ("replicas", "Replicas", "1"),
    ("compression", "Compression", ""),
)
PARSERS: dict[str, Callable[[str], object]] = {
    "history": parse_count,
    "ttl": parse_duration,
    "max_value_size": parse_size,
    "max_bytes": parse_size,
    "replicas": parse_count,
}
CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "storage": (("file", "file"), ("memory", "memory")),
    "compression": (("none", "none"), ("s2 (file storage, smaller on disk)", "s2")),
}


class KvBucketFormScreen(FormScreen[BucketSummary | None]):
    """Create a key-value bucket."""

    FORM_ERROR_ID = "kv-bucket-error"
    READ_ONLY_NOTICE = "buckets are not created."
    READ_ONLY_BUTTON = "kv-bucket-save"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]
    DEFAULT_CSS = """
    KvBucketFormScreen .kv-bucket-form { max-width: 96; height: 90%; }
    KvBucketFormScreen #kv-bucket-fields { height: 1fr; }
    """

    def __init__(self, service: KvService) -> None:
        super().__init__()
        self._service = service

    def compose(self) -> ComposeResult:
        spec = BucketSpec()
        with Vertical(classes="dialog kv-bucket-form") as dialog:
            dialog.border_title = "New key-value bucket"
            yield self.read_only_notice()
            with VerticalScroll(id="kv-bucket-fields"):
                for key, label, placeholder in FIELDS:
                    yield FormRow(
                        label,
                        self._field(key, getattr(spec, key), placeholder),
                        key=key,
                        error_id=f"kv-bucket-error-{key}",
                    )
            yield Static("", classes="form-error", id="kv-bucket-error", markup=False)
            yield Label(
                "Enter or ctrl+s creates, Escape cancels. Units: 9s 1h30m 7d · 10MiB 1.5GiB.",
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", id="kv-bucket-save", variant="primary")
                yield Button("Cancel", id="kv-bucket-cancel")

    @staticmethod
    def _field(key: str, value: str, placeholder: str) -> Input | Select[str]:
        widget_id = f"kv-bucket-{key}"
        if key in CHOICES:
            return Select(CHOICES[key], value=value, allow_blank=False, id=widget_id, compact=True)
        validators: list[Validator] = []
        if key == "name":
            validators = [ProblemOf(lambda text: bucket_name_problem(text.strip()))]
        else:
            validators = [ParsedBy(PARSERS[key])] if key in PARSERS else []
        return Input(
            "" if key == "history" else value,
            placeholder=placeholder,
            id=widget_id,
            compact=True,
            select_on_focus=False,
            validators=validators,
        )

    def on_mount(self) -> None:
        self.query_one("#kv-bucket-error").display = False
        self.query_one("#kv-bucket-name").focus()

    def spec(self) -> BucketSpec:
        def text(key: str) -> str:
            return self.query_one(f"#kv-bucket-{key}", Input).value.strip()

        def choice(key: str) -> str:
            value = self.query_one(f"#kv-bucket-{key}", Select).value
            return value if isinstance(value, str) else ""

        return BucketSpec(
            name=text("name"),
            description=self.query_one("#kv-bucket-description", Input).value,
            history=text("history") or "1",
            ttl=text("ttl"),
            max_value_size=text("max_value_size"),
            max_bytes=text("max_bytes"),
            storage=choice("storage"),
            replicas=text("replicas") or "1",
            compression=choice("compression"),
        )

    @on(Input.Submitted)
    @on(Button.Pressed, "#kv-bucket-save")
    def action_save(self) -> None:
        if not self.form_busy:
            self._save(self.spec())

    @on(Button.Pressed, "#kv-bucket-cancel")
    def action_cancel(self) -> None:
        if not self.form_busy:
            self.dismiss(None)

    @work(exclusive=True, group="kv-bucket", exit_on_error=False, description="create bucket")
    async def _save(self, spec: BucketSpec) -> None:
        service = self._service
        ok, created = await self.submit_form("kv-bucket-save", lambda: service.create_bucket(spec))
        if ok:
            self.dismiss(created)
