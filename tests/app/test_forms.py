"""The form row: validators that call the service's parsers, and errors shown under the field."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Input

from jstui.dialogs.form_row import FormRow, ParsedBy, ProblemOf
from jstui.format.units import parse_duration
from jstui.nats.names import stream_name_problem
from jstui.nats.requests.spec import parse_timeout


def test_parsed_by_fails_with_the_parsers_own_message() -> None:
    validator = ParsedBy(parse_duration)
    assert validator.validate("9s").is_valid
    assert validator.validate("").is_valid  # empty means unlimited to the parser
    result = validator.validate("soon")
    assert not result.is_valid
    try:
        parse_duration("soon")
    except ValueError as error:
        assert result.failure_descriptions == [str(error)]


def test_parsed_by_reads_a_validation_error_message() -> None:
    result = ParsedBy(parse_timeout).validate("0")
    assert result.failure_descriptions == ["a timeout must be more than 0"]


def test_problem_of_uses_the_check_message() -> None:
    validator = ProblemOf(stream_name_problem)
    assert validator.validate("orders").is_valid
    assert validator.validate("a b").failure_descriptions == [stream_name_problem("a b")]


class _OneRow(App[None]):
    def compose(self) -> ComposeResult:
        yield FormRow(
            "Max age",
            Input(id="age", validators=[ParsedBy(parse_duration)], compact=True),
            key="max_age",
            error_id="age-error",
        )
        yield Input(id="other", compact=True)


async def test_leaving_a_bad_field_shows_its_message_and_typing_clears_it() -> None:
    app = _OneRow()
    async with app.run_test() as pilot:
        row = app.query_one(FormRow)
        field = app.query_one("#age", Input)
        field.focus()
        await pilot.press(*"soon")
        assert row.error == ""  # nothing while typing
        await pilot.press("tab")
        await pilot.pause()
        assert row.error.startswith("not a duration")
        assert app.query_one("#age-error").display
        assert field.has_class("-invalid")
        field.focus()
        await pilot.press("backspace")
        await pilot.pause()
        assert row.error == ""
        assert not app.query_one("#age-error").display
        assert not field.has_class("-invalid")


async def test_an_empty_field_is_not_marked_when_left_but_the_form_can_mark_it() -> None:
    app = _OneRow()
    async with app.run_test() as pilot:
        row = app.query_one(FormRow)
        app.query_one("#age", Input).focus()
        await pilot.press("tab")
        await pilot.pause()
        assert row.error == ""
        row.show_error("needed")
        assert row.error == "needed"
        row.show_error("")
        assert row.error == ""
