"""A key's history: every revision the bucket keeps of it, newest first, and the chosen one's value.

`KvHistoryScreen(service, bucket, key)` reads the revisions once when it opens (through a
short-lived ordered consumer the service deletes afterwards; nothing is consumed) and lists them:
revision, operation (PUT, DEL, PURGE), time and a one-line preview. The value of the revision
under the cursor shows below, as pretty JSON, text or a hex dump (`render_payload`), sanitized.
Escape closes.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from jstui.dialogs.styles import DialogStyles
from jstui.format.payload import render_payload
from jstui.format.text import sanitize
from jstui.format.units import counted, format_count
from jstui.nats.errors import JstuiError
from jstui.nats.kv.model import KeyEntry
from jstui.nats.kv.preview import value_preview
from jstui.nats.kv.service import KvService

__all__ = ["KvHistoryScreen"]


def revision_time(entry: KeyEntry) -> str:
    if not entry.created:
        return ""
    return datetime.fromtimestamp(entry.created).astimezone().strftime("%Y-%m-%d %H:%M:%S")


class KvHistoryScreen(DialogStyles, ModalScreen[None]):
    """The revisions of `key` in `bucket`, newest first."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]
    DEFAULT_CSS = """
    KvHistoryScreen .kv-history { max-width: 110; height: 90%; }
    KvHistoryScreen #kv-history-table { height: 1fr; min-height: 5; }
    KvHistoryScreen #kv-history-value { height: 1fr; border-top: solid $accent; }
    """

    def __init__(self, service: KvService, bucket: str, key: str) -> None:
        super().__init__(classes="dialog-screen")
        self._service = service
        self._bucket = bucket
        self._key = key
        self.entries: list[KeyEntry] = []
        """The revisions shown, newest first (empty until read)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog kv-history") as dialog:
            dialog.border_title = "Key history"
            yield Static(self._title(), id="kv-history-title", markup=False)
            table: DataTable[Text] = DataTable(id="kv-history-table", cursor_type="row")
            for label in ("Rev", "Op", "Time", "Value"):
                table.add_column(label, key=label.lower())
            yield table
            with VerticalScroll(id="kv-history-value"):
                yield Static("reading…", id="kv-history-body", markup=False)
            yield Label("Arrows choose a revision, Escape closes.", classes="dialog-hint")

    def _title(self, tail: str = "") -> Text:
        return Text.assemble(
            "Key ",
            (sanitize(self._key), "bold"),
            " in bucket ",
            (sanitize(self._bucket), "bold"),
            tail,
        )

    def on_mount(self) -> None:
        self.query_one("#kv-history-table").focus()
        self._load()

    @work(exclusive=True, exit_on_error=False, description="read key history")
    async def _load(self) -> None:
        body = self.query_one("#kv-history-body", Static)
        try:
            entries = await self._service.history(self._bucket, self._key)
        except JstuiError as error:
            body.update(Text(f"cannot read the history: {sanitize(str(error))}"))
            return
        self.entries = list(reversed(entries))
        table = self.query_one("#kv-history-table", DataTable)
        for entry in self.entries:
            preview = "" if entry.deleted else value_preview(entry.value)
            table.add_row(
                Text(format_count(entry.revision), justify="right"),
                Text(entry.operation),
                Text(revision_time(entry)),
                Text(preview, no_wrap=True),
                key=str(entry.revision),
            )
        kept = len(entries)
        self.query_one("#kv-history-title", Static).update(
            self._title(f": {counted(kept, 'kept revision')}")
        )
        self._show(0)

    @on(DataTable.RowHighlighted, "#kv-history-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show(event.cursor_row)

    def _show(self, index: int) -> None:
        body = self.query_one("#kv-history-body", Static)
        if not 0 <= index < len(self.entries):
            body.update(Text("no revision kept" if not self.entries else ""))
            return
        entry = self.entries[index]
        if entry.deleted:
            body.update(Text(f"{entry.operation}: the key was deleted at this revision"))
            return
        view, text = render_payload(entry.value)
        body.update(Text(f"({view.value})\n{text}"))

    def action_close(self) -> None:
        self.dismiss(None)
