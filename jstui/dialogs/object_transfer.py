"""The put and get dialogs of the Object stores pane, each with a progress bar, the rate, and
the digest check at the end.

`ObjectPutScreen(service, bucket, existing)` asks for a file, the object's name (the file's name
when left empty) and a description; a name the bucket already holds (`existing`, the pane's live
objects) is replaced only after a confirmation that says what goes. `ObjectGetScreen(service,
entry)` asks where to save the object (the current directory and a file name made safe from the
object's name by default; a directory gets that name in it); an existing file is replaced only
after a confirmation. Both stream chunk by chunk through `ObjectService` while a timer draws the
`Transfer` (bytes, rate, time left); Escape or Cancel during a transfer stops it (nothing is
stored or written, the form says so), and once done the dialog shows the size, the time, the
rate and the SHA-256 it checked, and dismisses with the entry on Close. Errors (a file that
cannot be read, a server refusal, a digest mismatch) show in the form, which stays open.

Every name shown comes from `sanitize`; the object's name never goes into an `Input` as it is.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, ProgressBar, Static

from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.form_row import FormRow, ProblemOf
from jstui.dialogs.form_screen import FormScreen
from jstui.format.text import sanitize
from jstui.format.units import format_duration_short, format_size
from jstui.nats.errors import SpecErrors
from jstui.nats.objects.model import ObjectEntry, digest_hex, object_name_problem
from jstui.nats.objects.service import ObjectService
from jstui.nats.objects.transfer import Transfer

__all__ = ["ObjectGetScreen", "ObjectPutScreen", "safe_file_name"]

PROGRESS_SECONDS = 0.1
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._+-]+")


def safe_file_name(object_name: str) -> str:
    """A file name for an object: its last `/` part, with anything but letters, digits and
    `. _ + -` made `_`, no leading dot (nothing hidden, never `..`); "object" when nothing stays."""
    last = object_name.rsplit("/", 1)[-1]
    name = _UNSAFE_IN_FILE_NAME.sub("_", last).lstrip(".")[:120]
    return name or "object"


def file_problem(text: str) -> str | None:
    """Why the put cannot read the file at `text`, or None."""
    if not text.strip():
        return "a file to put is required"
    path = Path(text.strip()).expanduser()
    if not path.exists():
        return f"{sanitize(str(path), max_len=80)} does not exist"
    if not path.is_file():
        return f"{sanitize(str(path), max_len=80)} is not a file"
    return None


def progress_text(transfer: Transfer) -> str:
    """`12.0 MiB of 200.0 MiB · 63.1 MiB/s · 3s left`, or the summary once finished."""
    rate = transfer.rate
    done = f"{format_size(transfer.done)} of {format_size(transfer.total)}"
    if transfer.finished is None:
        left = (transfer.total - transfer.done) / rate if rate > 0 else None
        eta = f" · {format_duration_short(left)} left" if left is not None and left > 0 else ""
        return f"{done} · {format_size(rate)}/s{eta}"
    took = format_duration_short(transfer.elapsed)
    return f"Done: {format_size(transfer.done)} in {took} ({format_size(rate)}/s)"


def digest_line(transfer: Transfer) -> Text:
    ok = transfer.verified
    return Text.assemble(
        ("SHA-256 verified: " if ok else "SHA-256 MISMATCH: ", "bold green" if ok else "bold red"),
        transfer.digest,
    )


class TransferScreen(FormScreen[ObjectEntry | None]):
    """What both dialogs share: the progress lines, cancelling, and the finished state."""

    ID: ClassVar[str] = ""
    """The dialog's id stem: `<ID>-save`, `<ID>-cancel`, `<ID>-error`."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Start", priority=True),
    ]
    DEFAULT_CSS = """
    TransferScreen .object-transfer { max-width: 100; height: auto; }
    TransferScreen .transfer-progress { display: none; height: auto; margin-top: 1; }
    TransferScreen.-running .transfer-progress, TransferScreen.-done .transfer-progress {
        display: block;
    }
    TransferScreen ProgressBar { width: 1fr; }
    TransferScreen ProgressBar Bar { width: 1fr; }
    """

    transfer: Transfer | None = None
    result: ObjectEntry | None = None
    """The entry transferred, once done: Close dismisses with it."""

    def __init__(self, service: ObjectService) -> None:
        super().__init__()
        self._service = service

    def compose_progress(self) -> ComposeResult:
        with Vertical(classes="transfer-progress"):
            yield ProgressBar(id="transfer-bar", show_eta=False)
            yield Static("", id="transfer-status", markup=False)
            yield Static("", id="transfer-digest", markup=False)
        yield Static("", classes="form-error", id=f"{self.ID}-error", markup=False)
        with Horizontal(classes="dialog-buttons"):
            yield Button("Start", id=f"{self.ID}-save", variant="primary")
            yield Button("Cancel", id=f"{self.ID}-cancel")

    def on_mount(self) -> None:
        self.query_one(f"#{self.FORM_ERROR_ID}").display = False
        self.set_interval(PROGRESS_SECONDS, self._show_progress)

    def _show_progress(self) -> None:
        transfer = self.transfer
        if transfer is None:
            return
        self.query_one("#transfer-bar", ProgressBar).update(
            total=max(transfer.total, 1), progress=transfer.done if transfer.total else 1
        )
        self.query_one("#transfer-status", Static).update(Text(progress_text(transfer)))

    @on(Input.Submitted)
    @on(Button.Pressed, ".dialog-buttons > Button.-primary")
    def action_save(self) -> None:
        if self.result is not None:
            self.dismiss(self.result)
        elif not self.form_busy:
            self.start()

    @on(Button.Pressed, ".dialog-buttons > Button.-default")
    def action_cancel(self) -> None:
        if self.transfer is not None and self.form_busy:
            self.transfer.cancel()  # the transfer stops at its next chunk; the form says so
        elif not self.form_busy:
            self.dismiss(self.result)

    def start(self) -> None:
        raise NotImplementedError

    async def confirmed(self, title: str, question: Text) -> bool:
        answer: bool = await self.app.push_screen_wait(
            ConfirmScreen(title, question, confirm_label="Replace")
        )
        return answer

    async def run_transfer(
        self, transfer: Transfer, work: Callable[[Transfer], Awaitable[ObjectEntry]]
    ) -> None:
        """Run `work` with the progress shown; on success show the digest and offer Close."""
        self.transfer = transfer
        self.add_class("-running")
        self.remove_class("-done")
        self.query_one("#transfer-digest", Static).update("")
        ok, entry = await self.submit_form(f"{self.ID}-save", lambda: work(transfer))
        self.remove_class("-running")
        self._show_progress()
        if not ok or entry is None:
            self.transfer = None
            return
        self.result = entry
        self.add_class("-done")
        self.query_one("#transfer-digest", Static).update(digest_line(transfer))
        self.query_one(f"#{self.ID}-save", Button).label = "Close"
        self.query_one(f"#{self.ID}-cancel", Button).display = False
        self.query_one(f"#{self.ID}-save", Button).focus()
        for field in self.query(Input):
            field.disabled = True


class ObjectPutScreen(TransferScreen):
    """Put a file into `bucket`; `existing` are its live objects (by meta subject)."""

    ID = "object-put"
    FORM_ERROR_ID = "object-put-error"
    READ_ONLY_NOTICE = "objects are not put."
    READ_ONLY_BUTTON = "object-put-save"

    def __init__(
        self, service: ObjectService, bucket: str, existing: Mapping[str, ObjectEntry]
    ) -> None:
        super().__init__(service)
        self._bucket = bucket
        self._existing = {entry.name: entry for entry in existing.values()}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog object-transfer") as dialog:
            dialog.border_title = "Put a file"
            yield self.read_only_notice()
            yield Static(
                Text.assemble("Into object store ", (sanitize(self._bucket), "bold")),
                classes="dialog-intro",
            )
            yield FormRow(
                "File",
                Input(
                    placeholder="path of the file to put, e.g. ~/report.pdf",
                    id="object-put-path",
                    compact=True,
                    validators=[ProblemOf(file_problem)],
                ),
                key="path",
                error_id="object-put-path-error",
            )
            yield FormRow(
                "Object name",
                Input(
                    placeholder="default: the file's name",
                    id="object-put-name",
                    compact=True,
                    validators=[ProblemOf(lambda t: object_name_problem(t) if t else None)],
                ),
                key="name",
                error_id="object-put-name-error",
            )
            yield FormRow(
                "Description",
                Input(placeholder="optional", id="object-put-description", compact=True),
                key="description",
            )
            yield Label(
                "Enter or ctrl+s puts, Escape cancels (during the put: stops it).",
                classes="dialog-hint",
            )
            yield from self.compose_progress()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#object-put-path").focus()

    def start(self) -> None:
        text = self.query_one("#object-put-path", Input).value.strip()
        name = self.query_one("#object-put-name", Input).value.strip()
        description = self.query_one("#object-put-description", Input).value
        self._put(text, name, description)

    @work(exclusive=True, group="object-put", exit_on_error=False, description="put object")
    async def _put(self, text: str, name: str, description: str) -> None:
        errors: dict[str, str] = {}
        if problem := file_problem(text):
            errors["path"] = problem
        path = Path(text).expanduser()
        name = name or path.name
        if problem := object_name_problem(name):
            errors["name"] = problem
        if errors:
            self.show_form_error("")
            self.show_errors(SpecErrors(errors).errors)
            return
        size = path.stat().st_size
        existing = self._existing.get(name)
        if existing is not None:
            question = replace_object(self._bucket, existing, path, size)
            if not await self.confirmed("Replace object", question):
                return
        service, bucket = self._service, self._bucket
        await self.run_transfer(
            Transfer(total=size),
            lambda transfer: service.put_file(bucket, path, name, description, transfer),
        )


class ObjectGetScreen(TransferScreen):
    """Get `entry` into a file."""

    ID = "object-get"
    FORM_ERROR_ID = "object-get-error"

    def __init__(self, service: ObjectService, entry: ObjectEntry) -> None:
        super().__init__(service)
        self._entry = entry

    def compose(self) -> ComposeResult:
        entry = self._entry
        with Vertical(classes="dialog object-transfer") as dialog:
            dialog.border_title = "Get an object"
            if entry.is_link:
                what = f"a link to {sanitize(entry.link_bucket)}/{sanitize(entry.link_name)}"
            else:
                digest = digest_hex(entry.digest) or "none"
                what = f"{format_size(entry.size)}, SHA-256 {digest}"
            yield Static(
                Text.assemble(
                    "Object ",
                    (sanitize(entry.name), "bold"),
                    " of store ",
                    (sanitize(entry.bucket), "bold"),
                    f"\n{what}",
                ),
                classes="dialog-intro",
            )
            yield FormRow(
                "Save to",
                Input(
                    str(Path.cwd() / safe_file_name(entry.name)),
                    id="object-get-path",
                    compact=True,
                ),
                key="path",
                error_id="object-get-path-error",
            )
            yield Label(
                "Enter or ctrl+s saves, Escape cancels (during the get: stops it).",
                classes="dialog-hint",
            )
            yield from self.compose_progress()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#object-get-path").focus()

    def start(self) -> None:
        self._get(self.query_one("#object-get-path", Input).value.strip())

    @work(exclusive=True, group="object-get", exit_on_error=False, description="get object")
    async def _get(self, text: str) -> None:
        if not text:
            self.show_errors({"path": "where to save the object is required"})
            return
        target = Path(text).expanduser()
        if target.is_dir():
            target = target / safe_file_name(self._entry.name)
        overwrite = False
        if target.exists():
            if target.is_dir() or not await self.confirmed(
                "Replace file", replace_file(target, target.stat().st_size)
            ):
                self.show_errors({"path": f"{sanitize(str(target), max_len=80)} is kept"})
                return
            overwrite = True
        service, entry = self._service, self._entry
        await self.run_transfer(
            Transfer(total=entry.size),
            lambda transfer: service.get_file(entry, target, transfer, overwrite=overwrite),
        )


def replace_object(bucket: str, entry: ObjectEntry, path: Path, size: int) -> Text:
    return Text.assemble(
        "Object store ",
        (sanitize(bucket), "bold"),
        " already holds an object ",
        (sanitize(entry.name), "bold"),
        f" ({format_size(entry.size)}).\nReplace it with ",
        (sanitize(str(path)), "bold"),
        f" ({format_size(size)})? Its old chunks are purged.",
    )


def replace_file(path: Path, size: int) -> Text:
    return Text.assemble(
        "The file ",
        (sanitize(str(path)), "bold"),
        f" exists ({format_size(size)}).\nReplace it with the object's bytes?",
    )
