"""The message browser's NDJSON export and import dialogs (the format: `nats.streams.ndjson`).

`ExportScreen` asks for a range of sequences (the stream's whole range to start with), a subject
filter (the browser's) and a file that does not exist yet, then runs `NdjsonExport`. `ImportScreen`
asks for a file and runs `NdjsonImport` into the browser's stream; read-only mode refuses it (the
form says so when it opens). Both show a progress bar and the counters while the job runs, a
timer reading the job's fields ten times a second; Escape or Cancel stops the job (an import
still counts the acknowledgements in flight), and then closes. The import lists the bad and
refused lines by number at the end, every reason sanitized.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Button, Input, ProgressBar, Static

from jstui.dialogs.form_row import FormRow, ParsedBy, ProblemOf
from jstui.dialogs.form_screen import FormScreen
from jstui.format.text import sanitize
from jstui.format.units import format_count, parse_count
from jstui.nats.errors import JstuiError, SpecErrors
from jstui.nats.feeds.message import export_target
from jstui.nats.names import subject_problem
from jstui.nats.session import Session
from jstui.nats.streams.ndjson import NdjsonExport, NdjsonImport
from jstui.nats.streams.service import StreamService

PROBLEMS_SHOWN = 50
"""Bad lines listed in the dialog; the rest are counted."""


def default_file_name(stream: str, first: int, last: int) -> str:
    """``<stream>-<first>-<last>.ndjson`` with anything unusual in the name made ``_`` (the
    name comes from the server and lands in a field)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", stream)[:64] or "stream"
    return f"{safe}-{first}-{last}.ndjson"


class _NdjsonScreen(FormScreen[None]):
    """What both dialogs share: the rows, a progress bar, the counters, Go and Cancel."""

    FORM_ERROR_ID = "ndjson-error"
    TITLE: ClassVar[str] = ""
    GO_LABEL: ClassVar[str] = ""
    READ_ONLY_BUTTON = "ndjson-go"
    DEFAULT_CSS = """
    .ndjson-dialog { max-width: 96; }
    .ndjson-dialog #ndjson-progress { height: 1; margin-top: 1; }
    .ndjson-dialog #ndjson-status { height: auto; margin-top: 1; }
    .ndjson-dialog #ndjson-problems { height: auto; max-height: 12; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel / close")]

    def __init__(self, service: StreamService, stream: str) -> None:
        super().__init__()
        self.service = service
        self.stream = stream
        self.running = False
        self.job: NdjsonExport | NdjsonImport | None = None
        self._timer: Timer | None = None

    def fields(self) -> ComposeResult:
        raise NotImplementedError

    def intro(self) -> Text:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog ndjson-dialog") as dialog:
            dialog.border_title = self.TITLE
            yield self.read_only_notice()
            yield Static(self.intro(), classes="dialog-intro")
            yield from self.fields()
            yield ProgressBar(id="ndjson-progress", show_eta=False)
            yield Static(id="ndjson-status", markup=False)
            with VerticalScroll(id="ndjson-problems"):
                yield Static(id="ndjson-problems-body", markup=False)
            yield Static(id="ndjson-error", classes="form-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.GO_LABEL, id="ndjson-go", variant="primary")
                yield Button("Cancel", id="ndjson-cancel")

    def on_mount(self) -> None:
        for hidden in ("#ndjson-progress", "#ndjson-problems", "#ndjson-error"):
            self.query_one(hidden).display = False
        self.query_one(Input).focus()

    @property
    def status_text(self) -> str:
        """The counters line, as the user reads it (tests too)."""
        content = self.query_one("#ndjson-status", Static).content
        return content.plain if isinstance(content, Text) else str(content)

    def _show_status(self, text: str, progress: float) -> None:
        self.query_one("#ndjson-status", Static).update(Text(sanitize(text, max_len=500)))
        self.query_one("#ndjson-progress", ProgressBar).update(total=1000, progress=progress * 1000)

    def _started(self) -> None:
        self.running = True
        self.query_one("#ndjson-go", Button).disabled = True
        self.query_one("#ndjson-progress").display = True
        self._timer = self.set_interval(0.1, self.show_progress)

    def _finished(self) -> None:
        self.running = False
        if self._timer is not None:
            self._timer.stop()
        self.show_progress()
        self.query_one("#ndjson-cancel", Button).label = "Close"
        self.query_one("#ndjson-go", Button).disabled = self._refused("ndjson-go")

    def show_progress(self) -> None:
        if self.job is not None:
            self._show_status(self.job.describe(), self.job.progress)

    def stop(self) -> None:
        """Ask the running job to stop."""
        if self.job is not None:
            self.job.cancel()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ndjson-go")
    def action_go(self) -> None:
        if not self.running and not self.form_busy:
            self.show_errors({})
            self.run_worker(self.run_job(), group="ndjson", exit_on_error=False)

    async def run_job(self) -> None:
        raise NotImplementedError

    @on(Button.Pressed, "#ndjson-cancel")
    def action_cancel(self) -> None:
        if self.running:
            self.stop()
        else:
            self.dismiss(None)


class ExportScreen(_NdjsonScreen):
    """Export sequences `first`..`last` of `stream` (on `subject`) to a new NDJSON file."""

    TITLE = "Export to NDJSON"
    GO_LABEL = "Export"

    def __init__(
        self,
        service: StreamService,
        stream: str,
        *,
        first: int,
        last: int,
        subject: str | None = None,
    ) -> None:
        super().__init__(service, stream)
        self.first, self.last, self.subject = max(1, first), last, subject

    def intro(self) -> Text:
        return Text.assemble(
            "Messages of stream ",
            (sanitize(self.stream), "bold"),
            " to a file, one JSON object per line (seq, subject, time, headers, data as base64,"
            " and text when it is UTF-8). Nothing is consumed.",
        )

    def fields(self) -> ComposeResult:
        yield FormRow(
            "From seq",
            Input(
                str(self.first), id="ndjson-first", compact=True, validators=[ParsedBy(parse_count)]
            ),
            key="first",
        )
        yield FormRow(
            "To seq",
            Input(
                str(self.last), id="ndjson-last", compact=True, validators=[ParsedBy(parse_count)]
            ),
            key="last",
        )
        yield FormRow(
            "Subject",
            Input(
                self.subject or "",
                placeholder="empty = every subject; wildcards allowed",
                id="ndjson-subject",
                compact=True,
                validators=[ProblemOf(lambda t: subject_problem(t.strip()) if t.strip() else None)],
            ),
            key="subject",
        )
        yield FormRow(
            "File",
            Input(
                default_file_name(self.stream, self.first, self.last),
                id="ndjson-file",
                compact=True,
            ),
            key="file",
            hint="a new file (an existing one is never overwritten)",
        )

    def _job(self) -> NdjsonExport:
        """The export the form describes; `SpecErrors` name the fields at fault."""
        errors: dict[str, str] = {}
        bounds: dict[str, int] = {}
        for key in ("first", "last"):
            try:
                value = parse_count(self.query_one(f"#ndjson-{key}", Input).value)
            except ValueError as error:
                errors[key] = str(error)
                continue
            if not value:
                errors[key] = "a sequence number, 1 or more"
            else:
                bounds[key] = value
        if len(bounds) == 2 and bounds["first"] > bounds["last"]:
            errors["last"] = "must not be below From seq"
        subject = self.query_one("#ndjson-subject", Input).value.strip() or None
        if subject and (problem := subject_problem(subject)):
            errors["subject"] = problem
        name = self.query_one("#ndjson-file", Input).value.strip()
        path = export_target(name)
        if not name:
            errors["file"] = "the file to write"
        elif path.exists():
            errors["file"] = "already exists: choose a new name"
        if errors:
            raise SpecErrors(errors)
        return NdjsonExport(
            self.service,
            self.stream,
            path,
            first=bounds["first"],
            last=bounds["last"],
            subject=subject,
        )

    async def run_job(self) -> None:
        try:
            self.job = job = self._job()
        except SpecErrors as errors:
            self.show_errors(errors.errors)
            return
        self._started()
        try:
            await job.run()
        except JstuiError as error:
            self.show_form_error(str(error))
        finally:
            self._finished()


class ImportScreen(_NdjsonScreen):
    """Publish the lines of an NDJSON file into `stream`."""

    TITLE = "Import NDJSON"
    GO_LABEL = "Import"
    READ_ONLY_NOTICE = "nothing is imported."

    def intro(self) -> Text:
        return Text.assemble(
            "Publish every line of an NDJSON file (the export's format) into stream ",
            (sanitize(self.stream), "bold"),
            ": each line's subject, headers and data. Lines on subjects the stream does not"
            " capture, and lines that are not messages, are reported by number.",
        )

    def fields(self) -> ComposeResult:
        yield FormRow(
            "File",
            Input(placeholder="path of an .ndjson file", id="ndjson-file", compact=True),
            key="file",
        )

    async def run_job(self) -> None:
        session = getattr(self.app, "session", None)
        name = self.query_one("#ndjson-file", Input).value.strip()
        if not name:
            self.show_errors({"file": "the file to read"})
            return
        if not isinstance(session, Session):
            return
        ok, job = await self.submit_form(
            "ndjson-go",
            lambda: NdjsonImport.open(session, self.service, self.stream, Path(name).expanduser()),
        )
        if not ok or job is None:
            return
        self.job = job
        self._started()
        try:
            await job.run()
        finally:
            self._finished()
            self._show_problems(job)

    def _show_problems(self, job: NdjsonImport) -> None:
        if job.error and not job.failed:  # a refused line's reason is in the list below
            self.show_form_error(job.error)
        if not job.problems:
            return
        text = Text()
        for number, reason in job.problems[:PROBLEMS_SHOWN]:
            text.append(f"line {format_count(number)}: ", style="bold")
            text.append(f"{sanitize(reason, max_len=300)}\n")
        listed = job.bad_lines + job.failed + job.unknown
        if listed > PROBLEMS_SHOWN:
            text.append(f"... {format_count(listed - PROBLEMS_SHOWN)} more", style="dim")
        self.query_one("#ndjson-problems-body", Static).update(text)
        self.query_one("#ndjson-problems").display = True

    @property
    def problems_text(self) -> str:
        content = self.query_one("#ndjson-problems-body", Static).content
        return content.plain if isinstance(content, Text) else str(content)
