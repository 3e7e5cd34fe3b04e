"""The detail of one JetStream advisory (its JSON) and of one dead letter (its original message).

`AdvisoryDetailScreen` shows what the advisory says, field by field, and its JSON pretty-printed.
`DeadLetterDetailScreen` shows why the consumer gave up on the message and the original read
from the stream by sequence without consuming (read here if the pane has not yet), with
"Publish again": the publish form prefilled through `publish_again_screen`, which puts the
untrusted subject, headers and payload into the form's fields only in escaped form (the form
does it, `jstui.format.editable`); nothing is sent before the user presses Publish.

Everything shown goes through `jstui.format` (sanitized, never markup). The layout reuses the
message detail's classes (styles/dialogs.tcss).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from jstui.dialogs.message_detail import aligned_rows
from jstui.dialogs.publish import PublishScreen
from jstui.dialogs.stream_browser import render_message
from jstui.dialogs.styles import DialogStyles
from jstui.format.payload import PayloadView, next_view, pretty_json
from jstui.format.text import sanitize, sanitize_multiline
from jstui.format.units import format_count
from jstui.nats.errors import JstuiError
from jstui.nats.observe.advisories import Advisory
from jstui.nats.observe.deadletters import DeadLetter, DeadLetters, Original
from jstui.nats.publish import MSG_ID_HEADER
from jstui.nats.session import Session
from jstui.nats.streams.summaries import StoredMessage

__all__ = ["AdvisoryDetailScreen", "DeadLetterDetailScreen", "publish_again_screen"]


def _iso(moment: float) -> str:
    return (
        datetime.fromtimestamp(moment, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def advisory_rows(advisory: Advisory) -> list[tuple[str, str]]:
    """The advisory's fields that are present, sanitized."""
    rows = [
        ("kind", sanitize(advisory.kind, max_len=200)),
        ("subject", sanitize(advisory.subject, max_len=1024)),
        ("received", _iso(advisory.received)),
    ]
    if advisory.type:
        rows.append(("type", sanitize(advisory.type, max_len=200)))
    for name, value in (
        ("stream", advisory.stream),
        ("consumer", advisory.consumer),
        ("reason", advisory.reason),
        ("action", advisory.action),
        ("leader", advisory.leader),
    ):
        if value:
            rows.append((name, sanitize(value, max_len=1024)))
    for name, number in (
        ("stream seq", advisory.stream_seq),
        ("consumer seq", advisory.consumer_seq),
        ("deliveries", advisory.deliveries),
    ):
        if number is not None:
            rows.append((name, format_count(number)))
    return rows


def publish_again_screen(session: Session, message: StoredMessage) -> PublishScreen:
    """The publish form prefilled with `message` (escaped where needed, by the form). The
    message id header is left out: the stream would drop the copy as a duplicate."""
    headers = {k: v for k, v in (message.headers or {}).items() if k != MSG_ID_HEADER}
    return PublishScreen(session, subject=message.subject, payload=message.data, headers=headers)


class AdvisoryDetailScreen(DialogStyles, ModalScreen[None]):
    """One advisory: its fields, then its JSON pretty-printed (sanitized)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Close")]

    def __init__(self, advisory: Advisory) -> None:
        super().__init__(classes="dialog-screen")
        self.advisory = advisory
        raw = advisory.raw.encode("utf-8", "replace")
        # cut or broken JSON is shown as the text it is
        text = pretty_json(raw) or sanitize_multiline(raw)
        if advisory.raw_cut:
            text += "\n… (cut: the advisory was longer)"
        self.json_text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog detail-dialog advisory-detail") as box:
            box.border_title = f"Advisory #{self.advisory.index:,}"
            with VerticalScroll(id="detail-top"):
                yield Static(aligned_rows(advisory_rows(self.advisory)), id="detail-meta")
            yield Static(Text("JSON"), id="detail-payload-title")
            yield TextArea(self.json_text, id="detail-payload", read_only=True, compact=True)
            with Horizontal(classes="dialog-buttons detail-buttons"):
                yield Button("Close", id="detail-close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#detail-payload", TextArea).focus()

    @on(Button.Pressed, "#detail-close")
    def _close(self) -> None:
        self.dismiss(None)


class DeadLetterDetailScreen(DialogStyles, ModalScreen[None]):
    """One dead letter: why, and the original message (subject, headers, payload); p or the
    button publishes it again through the publish form."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("p", "publish_again", "Publish again"),
        Binding("v", "cycle_view", "Text/JSON/hex"),
    ]

    def __init__(self, letters: DeadLetters, letter: DeadLetter, session: Session) -> None:
        super().__init__(classes="dialog-screen")
        self.letters = letters
        self.letter = letter
        self.session = session
        self.original: Original | None = letters.cached_original(letter)
        self.view: PayloadView | None = None
        """How the payload is shown; None until the first render picks one."""

    def compose(self) -> ComposeResult:
        letter = self.letter
        with Vertical(classes="dialog detail-dialog dead-letter-detail") as box:
            box.border_title = "Dead letter"
            with VerticalScroll(id="detail-top"):
                yield Static(self._facts(), id="detail-meta")
            yield Static(Text("Original message"), id="detail-payload-title")
            with VerticalScroll(id="dead-letter-original"):
                yield Static(self._original_text(), id="dead-letter-body")
            with Horizontal(classes="dialog-buttons detail-buttons"):
                yield Button(
                    "Publish again",
                    id="detail-again",
                    compact=True,
                    disabled=self.session.read_only or letter.key is None,
                )
                yield Button("Close", id="detail-close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#dead-letter-original").focus()
        if self.original is None:
            self._read_original()

    def _facts(self) -> Text:
        letter = self.letter
        why = letter.why if not letter.reason else f"{letter.why} ({letter.reason})"
        rows = [
            ("why", sanitize(why, max_len=1024)),
            ("stream", sanitize(letter.stream, max_len=1024)),
            ("consumer", sanitize(letter.consumer, max_len=1024)),
            ("stream seq", "-" if letter.stream_seq is None else format_count(letter.stream_seq)),
            ("deliveries", "-" if letter.deliveries is None else format_count(letter.deliveries)),
            ("received", _iso(letter.received)),
        ]
        return aligned_rows(rows)

    def _original_text(self) -> Text:
        original = self.original
        if original is None:
            return Text("reading the message from the stream (without consuming it)…")
        if original.message is None:
            return Text(sanitize(original.problem, max_len=500).capitalize() + ".")
        self.view, text = render_message(original.message, self.view)
        return text

    @property
    def body_text(self) -> str:
        """The original as shown (tests read it)."""
        return self._original_text().plain

    @work(exclusive=True, group="dead-letter", exit_on_error=False, description="read original")
    async def _read_original(self) -> None:
        try:
            self.original = await self.letters.original(self.letter)
        except JstuiError as error:
            self.original = Original(None, f"cannot read it now: {error}")
        self.query_one("#dead-letter-body", Static).update(self._original_text())

    def action_cycle_view(self) -> None:
        if self.view is not None:
            self.view = next_view(self.view)
            self.query_one("#dead-letter-body", Static).update(self._original_text())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "publish_again":
            return not self.session.read_only  # read-only mode would refuse it
        return True

    @on(Button.Pressed, "#detail-again")
    def action_publish_again(self) -> None:
        original = self.original
        if original is None or original.message is None:
            reason = "it is still being read" if original is None else original.problem
            self.notify(f"Nothing to publish: {sanitize(reason)}.", markup=False)
            return
        self.dismiss(None)
        self.app.push_screen(publish_again_screen(self.session, original.message))

    @on(Button.Pressed, "#detail-close")
    def _close(self) -> None:
        self.dismiss(None)
