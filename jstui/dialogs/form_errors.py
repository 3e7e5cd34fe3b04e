"""Error messages under a form's fields, shared by the forms that validate field by field.

A form lays out each field as `#field-KEY` with a `Static` `#error-KEY` under it, plus one
`Static` for errors that belong to no field. Typing in a field clears its message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import ClassVar, TypeVar

from rich.text import Text
from textual.containers import Horizontal
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from jstui.format.text import sanitize
from jstui.nats.errors import JstuiError, ServerAPIError, SpecErrors

T = TypeVar("T")


def field_row(
    label: str,
    field: Widget,
    *,
    error_id: str | None = None,
    classes: str = "feed-row",
    label_classes: str = "feed-label",
) -> Iterator[Widget]:
    """A form row (label, field) and the line under it for the field's error, if it has one.

    Use as ``yield from field_row(...)`` in `compose`.
    """
    yield Horizontal(Label(label, classes=label_classes), field, classes=classes)
    if error_id is not None:
        yield Static("", id=error_id, classes="field-error", markup=False)


class FieldErrorsMixin(DOMNode):
    """Mix into a `ModalScreen` form; set `FORM_ERROR_ID` and implement `error_keys()`."""

    FORM_ERROR_ID: ClassVar[str] = ""
    """The id of the Static that shows errors belonging to no field."""
    form_busy = False
    """True while `submit_form` waits for the server: the form's keys and buttons do nothing."""

    def error_keys(self) -> list[str]:
        """The keys of the fields that have an `#error-KEY` line, in screen order."""
        return []

    def error_visible(self, key: str) -> bool:
        """Whether a message for `key` may be shown (a form may hide rows that do not apply)."""
        return True

    def show_errors(self, errors: dict[str, str]) -> None:
        """One message under each field at fault; the first bad field gets the focus."""
        keys = self.error_keys()
        first: str | None = None
        for key in keys:
            message = errors.get(key, "")
            static = self.query_one(f"#error-{key}", Static)
            static.update(Text(sanitize(message, max_len=300)))
            static.display = bool(message) and self.error_visible(key)
            if message and first is None:
                first = key
        others = {k: v for k, v in errors.items() if k not in keys}
        self.show_form_error("; ".join(f"{k}: {v}" for k, v in others.items()))
        if first is not None:
            widget = self.query_one(f"#field-{first}")
            widget.focus()
            widget.scroll_visible()

    def show_form_error(self, message: str) -> None:
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
            button.disabled = False
        return True, result

    def on_input_changed(self, event: Input.Changed) -> None:
        key = (event.input.id or "").removeprefix("field-")
        if key and self.query(f"#error-{key}"):
            self.query_one(f"#error-{key}").display = False
