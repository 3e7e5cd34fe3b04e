"""Where jstui's dialogs get their rules: `styles/dialogs.tcss`, which is not read at start-up.

Two thirds of jstui's own rules style dialogs, which cannot open before the first frame: parsing
them there cost ~5 ms of the wait for "connected". The dashboard reads the file once the panes
shown at start are built (`load_dialog_styles`: a new source only, since no widget it styles
exists yet). A dialog that opens before that reads it itself: every dialog screen inherits
`DialogStyles`, whose `CSS_PATH` Textual reads (once, restyling the app) when such a screen is
first shown, unless the dashboard read it already.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.types import CSSPathType

from jstui.paths import dialog_stylesheet

__all__ = ["DialogStyles", "add_stylesheet", "load_dialog_styles"]


class DialogStyles:
    """Mixed into every dialog screen, before its Textual screen class."""

    CSS_PATH: ClassVar[CSSPathType | None] = [dialog_stylesheet()]


def load_dialog_styles(app: App[object]) -> None:
    """Add the dialogs' rules to `app`'s stylesheet, if not read yet (call it before any dialog
    opened)."""
    add_stylesheet(app, dialog_stylesheet())


def add_stylesheet(app: App[object], sheet: Path) -> None:
    """Add the file `sheet` to `app`'s stylesheet as user CSS, once (keyed as Textual keys a
    `CSS_PATH`). No widget is restyled: the rules style the widgets mounted after this (a pane
    being built, the dialogs); `add_source`, unlike `read`, also drops the selector map built
    without them."""
    stylesheet = app.stylesheet
    if not stylesheet.has_source(str(sheet)):
        css = sheet.read_text(encoding="utf-8")
        stylesheet.add_source(css, read_from=(str(sheet), ""), is_default_css=False)
