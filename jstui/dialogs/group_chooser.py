"""Choose one group to watch: for `--watch NAME` when the name fits several groups, and for the
palette's "Watch a group…".

Data flow: the Workers pane passes the groups it can offer (`GroupSummary`s from
`discover_groups`); the dialog lists them (kind, title, members, delivered; titles sanitized:
they came from the server) and dismisses with the chosen `GroupRef`, or None on Escape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from jstui.dialogs.styles import DialogStyles
from jstui.format.text import sanitize
from jstui.format.units import counted, format_count
from jstui.nats.observe.groups import GroupRef, GroupSummary


def option_text(group: GroupSummary) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{group.ref.kind.value:<17} ", style="dim")
    text.append(sanitize(group.ref.title, max_len=200), style="bold")
    text.append(
        f"  {counted(group.members, 'member')}, {format_count(group.delivered)} delivered",
        style="dim",
    )
    return text


class GroupChooserScreen(DialogStyles, ModalScreen[GroupRef | None]):
    """A list of groups; Enter watches the highlighted one, Escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, question: str, groups: Sequence[GroupSummary]) -> None:
        super().__init__(classes="dialog-screen")
        self._title = title
        self._question = question
        self._groups = {group.ref.key: group for group in groups}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog group-chooser") as dialog:
            dialog.border_title = self._title
            yield Label(sanitize(self._question, max_len=300), markup=False)
            yield OptionList(
                *(Option(option_text(g), id=key) for key, g in self._groups.items()),
                id="group-options",
            )
            yield Label("Enter watches it (without joining), Escape closes", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#group-options", OptionList).focus()

    @on(OptionList.OptionSelected, "#group-options")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        group = self._groups.get(event.option.id or "")
        self.dismiss(group.ref if group else None)
