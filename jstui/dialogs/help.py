"""The help screen: every key, per area, and what each pane shows."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from jstui.dialogs.styles import DialogStyles

KeySection = tuple[str, list[tuple[str, str]]]


def help_text(sections: list[KeySection], notes: list[tuple[str, str]]) -> Text:
    text = Text()
    for title, keys in sections:
        if not keys:
            continue
        text.append(f"{title}\n", style="bold underline")
        width = max(len(key) for key, _ in keys)
        for key, description in keys:
            text.append(f"  {key.ljust(width)}  ", style="bold")
            text.append(f"{description}\n")
        text.append("\n")
    for title, body in notes:
        if body:
            text.append(f"{title}\n", style="bold underline")
            text.append(f"{body}\n\n")
    return text


class HelpScreen(DialogStyles, ModalScreen[None]):
    """Lists the keys of the app, the dashboard and every pane; Escape or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, sections: list[KeySection], notes: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog-screen")
        self._text = help_text(sections, notes)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help-dialog") as box:
            box.border_title = "jstui help"
            box.border_subtitle = "Escape to close"
            yield Static(self._text, id="help-text")
