"""The base of every form dialog: its `FormRow`s, their errors, and the busy/submit flow.

A form composes `FormRow`s (each names its spec key) and, optionally, one `Static` with the id
`FORM_ERROR_ID` for errors that belong to no field. `show_errors(spec_errors)` puts each message
under its row (the first bad field gets the focus) and the rest in that Static; `submit_form`
runs the service call with the form busy and routes its errors the same way. A short terminal
gets the `-small` class, which drops the blank lines between rows (styles/dialogs.tcss).

A form that changes something names it in `READ_ONLY_NOTICE` and yields `read_only_notice()` at
its top: in `--read-only` mode the notice says what is refused as soon as the form opens, and the
button that makes the change (`READ_ONLY_BUTTON`) stays disabled. Submitting another way (Enter,
ctrl+s) still reaches the service, which refuses and says why.

Choices follow what a user expects of a form: Enter on a `Select` opens its list (Textual's own
binding; the forms submit on Enter only from an `Input`), and the arrow keys in a `RadioSet`
choose the next or previous option at once, as radio groups do in browsers and desktop dialogs.
Textual's `RadioSet` only moves a highlight with the arrows and waits for Enter or Space, which
users missed: a feed meant as JetStream came out as core.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar, TypeVar

from rich.text import Text
from textual import events, on
from textual.screen import ModalScreen
from textual.widgets import Button, RadioSet, Static

from jstui.dialogs.form_row import FormRow
from jstui.dialogs.styles import DialogStyles
from jstui.format.text import sanitize
from jstui.nats.errors import JstuiError, ServerAPIError, SpecErrors
from jstui.nats.session import Session

ResultT = TypeVar("ResultT")
T = TypeVar("T")

RADIO_NEXT_KEYS = frozenset({"down", "right"})
RADIO_PREVIOUS_KEYS = frozenset({"up", "left"})

SMALL_HEIGHT = 36
"""Below this many rows (or 100 columns) a form drops the blank lines between its rows."""


class ReadOnlyNotice(Static):
    """The line at the top of a form that says what read-only mode refuses in it."""

    DEFAULT_CSS = """
    ReadOnlyNotice {
        height: auto;
        margin-bottom: 1;
        color: $text-warning;
        text-style: bold;
    }
    """


class FormScreen(DialogStyles, ModalScreen[ResultT]):
    """A modal form of `FormRow`s; dismisses with `ResultT`."""

    FORM_ERROR_ID: ClassVar[str] = ""
    """The id of the Static that shows errors belonging to no field ("" when the form has none)."""
    READ_ONLY_NOTICE: ClassVar[str] = ""
    """What read-only mode refuses in this form, said when it opens ("" changes nothing)."""
    READ_ONLY_BUTTON: ClassVar[str] = ""
    """The id of the button that makes the change: disabled in read-only mode."""
    form_busy = False
    """True while `submit_form` waits for the server: the form's keys and buttons do nothing."""

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height < SMALL_HEIGHT or event.size.width < 100, "-small")

    @property
    def read_only(self) -> bool:
        """jstui runs with --read-only (the app's session says so; a bare test app has none)."""
        session = getattr(self.app, "session", None)
        return isinstance(session, Session) and session.read_only

    def read_only_notice(self) -> ReadOnlyNotice:
        """The notice to yield at the top of the form; shown only in read-only mode."""
        notice = ReadOnlyNotice(
            Text(f"Read-only mode: {self.READ_ONLY_NOTICE}"), id="read-only-notice", markup=False
        )
        notice.display = self.read_only and bool(self.READ_ONLY_NOTICE)
        return notice

    def _refused(self, button_id: str) -> bool:
        """The button makes a change that read-only mode refuses (the notice says which)."""
        refusing = bool(self.READ_ONLY_NOTICE and self.READ_ONLY_BUTTON)
        return refusing and button_id == self.READ_ONLY_BUTTON and self.read_only

    @on(events.Mount)
    def _disable_refused_button(self) -> None:
        if self._refused(self.READ_ONLY_BUTTON):
            self.query_one(f"#{self.READ_ONLY_BUTTON}", Button).disabled = True

    def on_key(self, event: events.Key) -> None:
        # The key reaches the screen on its way up from the focused widget, before the app looks
        # up the RadioSet's own bindings for it: stopping it here replaces them.
        radio_set = self.focused
        if not isinstance(radio_set, RadioSet) or event.key not in (
            RADIO_NEXT_KEYS | RADIO_PREVIOUS_KEYS
        ):
            return
        event.stop()
        event.prevent_default()
        if event.key in RADIO_NEXT_KEYS:
            radio_set.action_next_button()
        else:
            radio_set.action_previous_button()
        radio_set.action_toggle_button()

    def rows(self) -> list[FormRow]:
        return list(self.query(FormRow))

    def row(self, key: str) -> FormRow:
        """The row whose spec key is `key`."""
        return next(row for row in self.rows() if row.key == key)

    def show_errors(self, errors: dict[str, str]) -> None:
        """One message under each field at fault; the first bad field shown gets the focus.

        Messages for keys no row takes go to the form's own error line (`FORM_ERROR_ID`)."""
        taken: set[str] = set()
        first: FormRow | None = None
        for row in self.rows():
            message = next((errors[k] for k in row.error_keys if errors.get(k)), "")
            taken.update(row.error_keys)
            row.show_error(message)
            if message and first is None and row.display:
                first = row
        others = {k: v for k, v in errors.items() if k not in taken}
        self.show_form_error("; ".join(f"{k}: {v}" for k, v in others.items()))
        if first is not None:
            first.field.focus()
            first.scroll_visible()

    def show_form_error(self, message: str) -> None:
        if not self.FORM_ERROR_ID:
            return
        error = self.query_one(f"#{self.FORM_ERROR_ID}", Static)
        error.update(Text(sanitize(message, max_len=1000)))
        error.display = bool(message)

    async def submit_form(
        self, button_id: str, action: Callable[[], Awaitable[T]]
    ) -> tuple[bool, T | None]:
        """Run `action` (create, update, start...) with the form busy and its button disabled.

        `SpecErrors` go under their fields and any other `JstuiError` above the buttons (the user
        fixes the form and tries again); returns ``(True, result)`` on success, else
        ``(False, None)``.
        """
        self.form_busy = True
        button = self.query_one(f"#{button_id}", Button)
        button.disabled = True
        try:
            result = await action()
        except SpecErrors as errors:
            self.show_form_error("")
            self.show_errors(errors.errors)
            return False, None
        except ServerAPIError as error:
            self.show_errors({})
            self.show_form_error(f"The server refused: {error.description}")
            return False, None
        except JstuiError as error:
            self.show_errors({})
            self.show_form_error(str(error))
            return False, None
        finally:
            self.form_busy = False
            button.disabled = self._refused(button_id)
        return True, result
