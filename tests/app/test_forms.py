"""Forms: validators that call the service's parsers, errors under the field, keys that choose."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, RadioSet, Select

from jstui.dialogs.feed_dialog import FeedDialog
from jstui.dialogs.form_row import FormRow, ParsedBy, ProblemOf
from jstui.dialogs.form_screen import FormScreen
from jstui.format.units import parse_duration
from jstui.nats.feeds.spec import FeedMode
from jstui.nats.names import stream_name_problem
from jstui.nats.requests.spec import parse_timeout
from tests.app.conftest import AppFactory, wait_connected, wait_until


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


# -- keys in forms: radio sets choose with the arrows, Enter on a Select opens its list ------------


async def test_the_arrow_keys_choose_in_a_radio_set_of_a_form(make_app: AppFactory) -> None:
    """The feed meant as JetStream that came out as core: arrows used to move a highlight only."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await pilot.press("2", "n")
        await wait_until(pilot, lambda: isinstance(app.screen, FeedDialog), what="feed dialog")
        dialog = app.screen
        assert isinstance(dialog, FeedDialog)
        await pilot.press(*"orders.>", "tab")
        assert isinstance(app.focused, RadioSet)
        await pilot.press("down")
        assert dialog.mode is FeedMode.JETSTREAM
        await pilot.press("down")
        assert dialog.mode is FeedMode.CONSUME
        await pilot.press("up", "left")
        assert dialog.mode is FeedMode.CORE
        await pilot.press("right")
        await pilot.pause()
        assert dialog.mode is FeedMode.JETSTREAM
        assert dialog.query_one("#feed-deliver", Select).display  # the JetStream fields show


@pytest.mark.parametrize(
    "keys",
    [("1", "n"), ("2", "p"), ("3", "n"), ("3", "a"), ("4", "n")],
    ids=["stream", "publish", "request", "responder", "workers"],
)
async def test_enter_on_a_select_opens_its_list_in_every_form(
    make_app: AppFactory, keys: tuple[str, str]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await pilot.press(*keys)
        await wait_until(pilot, lambda: isinstance(app.screen, FormScreen), what="form")
        form = app.screen
        for _ in range(20):  # to the form's first Select
            await pilot.press("tab")
            if isinstance(app.focused, Select):
                break
        select = app.focused
        assert isinstance(select, Select), f"no Select reached in {type(form).__name__}"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form, "Enter submitted or closed the form"
        assert select.expanded
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is form and not select.expanded
