"""One row of a form, the only way the dialogs lay out a field: label, field, hint, error line.

A dialog yields `FormRow("Subject", Input(..., id="feed-subject"), key="subject")`; the row puts
the label and the field (plus any `beside` widgets) on one line, an optional hint under them, and
an error line that takes room only while it says something. Errors reach a row two ways: the form
screen hands it the spec's message for its key (`show_error`), or, when the user leaves a field
that has `textual.validation` validators, the row runs them itself and shows the first failure.
Typing in the field clears its message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from jstui.format.text import sanitize
from jstui.nats.errors import ValidationError

__all__ = ["FormRow", "ParsedBy", "ProblemOf"]


class FormRow(Widget):
    """Label and field on one line, an optional hint, and the field's error line under them."""

    DEFAULT_CSS = """
    FormRow {
        height: auto;
        margin-top: 1;
    }
    FormRow > .form-row--line {
        height: auto;
        min-height: 1;
    }
    FormRow > .form-row--line > .form-row--label {
        width: 18;
        color: $text-muted;
    }
    FormRow > .form-row--line > .form-row--inline-label {
        width: auto;
        margin: 0 1 0 2;
        color: $text-muted;
    }
    FormRow > .form-row--line > Input,
    FormRow > .form-row--line > Select,
    FormRow > .form-row--line > RadioSet,
    FormRow > .form-row--line > TextArea {
        width: 1fr;
    }
    FormRow > .form-row--line > TextArea {
        height: 3;
    }
    FormRow.-tall > .form-row--line > TextArea {
        height: 6;
    }
    FormRow > .form-row--line > Button {
        margin-left: 1;
    }
    FormRow > .form-row--hint {
        height: auto;
        padding-left: 18;
        color: $text-muted;
        text-style: italic;
    }
    FormRow > .form-row--error {
        display: none;
        height: auto;
        padding-left: 18;
        color: $error;
    }
    """

    def __init__(
        self,
        label: str,
        field: Widget,
        *,
        key: str = "",
        error_keys: Iterable[str] = (),
        hint: str | Text = "",
        beside: Iterable[Widget] = (),
        id: str | None = None,
        classes: str | None = None,
        hint_id: str | None = None,
        error_id: str | None = None,
    ) -> None:
        """`key` names the field in the spec's errors (more names in `error_keys`); `beside`
        widgets follow the field on its line (a button, a second small field)."""
        super().__init__(id=id, classes=classes)
        self.label = label
        self.field = field
        self.key = key
        self.error_keys = (key, *error_keys) if key else tuple(error_keys)
        self._hint = hint
        self._beside = tuple(beside)
        self._hint_id = hint_id
        self._error_id = error_id
        if isinstance(field, Input) and field.validators:
            # the row checks its field when the user leaves it (see `_left`), not on every key
            field.validate_on = set()

    def compose(self) -> ComposeResult:
        with Horizontal(classes="form-row--line"):
            yield Label(self.label, classes="form-row--label")
            yield self.field
            yield from self._beside
        if self._hint:
            hint = self._hint if isinstance(self._hint, Text) else Text(self._hint)
            yield Static(hint, classes="form-row--hint", id=self._hint_id)
        yield Static("", classes="form-row--error", id=self._error_id, markup=False)

    @property
    def error(self) -> str:
        """The message shown under the field ("" when none)."""
        return str(self.query_one(".form-row--error", Static).render()) if self.invalid else ""

    @property
    def invalid(self) -> bool:
        return self.has_class("-invalid")

    def show_error(self, message: str) -> None:
        """Show `message` under the field and tint the field; "" clears both."""
        line = self.query_one(".form-row--error", Static)
        line.update(Text(sanitize(message, max_len=300)))
        line.display = bool(message)  # at once, not at the next style update
        self.set_class(bool(message), "-invalid")
        self.field.set_class(bool(message), "-invalid")

    def check(self) -> str:
        """Run the field's validators (Inputs only); show and return the first failure."""
        if not isinstance(self.field, Input) or not self.field.validators:
            return ""
        result = self.field.validate(self.field.value)
        message = result.failure_descriptions[0] if result and not result.is_valid else ""
        self.show_error(message)
        return message

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if event.input is self.field and self.invalid:
            self.show_error("")

    @on(Input.Blurred)
    def _left(self, event: Input.Blurred) -> None:
        # an empty field is checked on submit: tabbing through a new form marks nothing
        if event.input is self.field and event.value.strip():
            self.check()


class ParsedBy(Validator):
    """Valid when `parse(text)` accepts it; the failure is the parser's own message.

    `parse` is one of the service layer's parse functions (`parse_duration`, `parse_count`, ...),
    which raise `ValueError` or `ValidationError`, so a form never has a parsing rule of its own.
    """

    def __init__(self, parse: Callable[[str], object]) -> None:
        super().__init__()
        self._parse = parse

    def validate(self, value: str) -> ValidationResult:
        try:
            self._parse(value)
        except ValidationError as error:
            return self.failure(error.message, value)
        except ValueError as error:
            return self.failure(str(error), value)
        return self.success()


class ProblemOf(Validator):
    """Valid when `problem(text)` finds none (the service's `*_problem` checks return a message)."""

    def __init__(self, problem: Callable[[str], str | None]) -> None:
        super().__init__()
        self._problem = problem

    def validate(self, value: str) -> ValidationResult:
        problem = self._problem(value)
        return self.failure(problem, value) if problem else self.success()
