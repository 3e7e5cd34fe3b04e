"""The dialogs' rules (styles/dialogs.tcss) are not read at start-up: the dashboard reads them
once the panes shown at start are built, and a dialog that opens before reads them itself."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from rich.text import Text
from textual.app import App
from textual.screen import Screen

import jstui.dialogs
from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.styles import DialogStyles
from jstui.paths import app_stylesheet, dialog_stylesheet
from tests.app.conftest import AppFactory, wait_connected, wait_until


def _styled_as_a_dialog(screen: Screen[object]) -> bool:
    """The confirmation's box has the `.dialog` rule's width (80%) and the screen the
    `.dialog-screen` rule's centring."""
    width = screen.query_one(".dialog").styles.width
    return width is not None and width.value == 80 and screen.styles.align_horizontal == "center"


async def test_the_dashboard_reads_the_dialog_rules_after_the_start_panes(
    make_app: AppFactory,
) -> None:
    app = make_app()
    sheet = str(dialog_stylesheet())
    assert "dialog-screen" not in app_stylesheet().read_text(encoding="utf-8")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await wait_until(pilot, lambda: app.dashboard.start_panes_built, what="start panes")
        await wait_until(pilot, lambda: app.stylesheet.has_source(sheet), what="dialog rules")
        await app.push_screen(ConfirmScreen("Delete", Text("Really?")))
        await pilot.pause()
        assert _styled_as_a_dialog(app.screen)


class BareApp(App[None]):
    """No dashboard: nothing reads the dialogs' rules but the dialog itself."""


async def test_a_dialog_opened_before_the_rules_were_read_reads_them() -> None:
    app = BareApp()
    async with app.run_test(size=(100, 30)) as pilot:
        assert not app.stylesheet.has_source(str(dialog_stylesheet()))
        await app.push_screen(ConfirmScreen("Delete", Text("Really?")))
        await pilot.pause()
        assert app.stylesheet.has_source(str(dialog_stylesheet()))
        assert _styled_as_a_dialog(app.screen)


def test_every_dialog_screen_reads_the_dialog_rules_itself() -> None:
    """A new dialog must inherit `DialogStyles` too, or it is unstyled when opened early."""
    screens = []
    for module_info in pkgutil.iter_modules(jstui.dialogs.__path__, "jstui.dialogs."):
        module = importlib.import_module(module_info.name)
        screens += [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, Screen) and cls.__module__ == module.__name__
        ]
    assert len(screens) >= 15
    assert [cls.__name__ for cls in screens if not issubclass(cls, DialogStyles)] == []
