"""How the user finds the panes: the compact pane switcher and the dashboard's footer of keys.

`PaneSwitcher` is a one-line tab strip built from the pane registry (``1 Streams  2 Feeds ...``);
the dashboard shows it above the panes, tells it which pane is current (`highlight`),
and receives `PaneSwitcher.PaneClicked` when the user clicks a tab. `KeysFooter` is Textual's
footer with the help key moved to the front, so that a narrow terminal, which cuts the footer at
its right end, never cuts off the one key that explains all the others.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from jstui.widgets.registry import PaneEntry

HELP_ACTION = "app.help"


class PaneTab(Static):
    """One tab of the switcher: the pane's number key and short name."""

    def __init__(self, entry: PaneEntry) -> None:
        super().__init__(f"{entry.key} {entry.tab}", id=f"tab-{entry.name}", markup=False)
        self.number = entry.number

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(PaneSwitcher.PaneClicked(self.number))


class PaneSwitcher(Horizontal):
    """The panes as a one-line tab strip; the current one is highlighted (class ``-current``)."""

    class PaneClicked(Message):
        """The user clicked the tab of pane `number`."""

        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

    def __init__(self, entries: Iterable[PaneEntry], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._entries = tuple(entries)

    def compose(self) -> ComposeResult:
        for entry in self._entries:
            yield PaneTab(entry)

    def highlight(self, number: int) -> None:
        for tab in self.query(PaneTab):
            tab.set_class(tab.number == number, "-current")


class KeysFooter(Footer):
    """Textual's `Footer` with the help key first, recomposed only when its keys change."""

    def __init__(self) -> None:
        super().__init__()
        self._composed_keys: tuple[object, ...] | None = None
        self._recompose_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        # Textual recomposes the footer (its keys mounted again, a layout of the screen) on every
        # bindings signal, and one focus change sends two of them (the focus watcher, then
        # `set_focus` once more after the next refresh): opening a feed cost four recomposes
        # while its messages drained. One is enough, and none when the keys stay the same.
        if self._recompose_pending:
            return
        if self._bindings_ready and self._composed_keys == _shown_keys(screen):
            return
        super().bindings_changed(screen)
        # (what Footer.bindings_changed checks before it schedules the recompose)
        self._recompose_pending = screen.app.app_focus and self.is_attached
        self._recompose_pending &= screen is self.screen

    async def recompose(self) -> None:
        self._recompose_pending = False
        await super().recompose()

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._composed_keys = _shown_keys(self.screen)
        keys: list[Widget] = list(super().compose())
        # FooterKey is not public; its `action` attribute is what tells the help key apart.
        first = [key for key in keys if getattr(key, "action", None) == HELP_ACTION]
        yield from first
        yield from (key for key in keys if key not in first)


def _shown_keys(screen: Screen) -> tuple[object, ...]:
    """What the footer shows of the screen's bindings (`Footer.compose` reads the same)."""
    return tuple(
        (binding.key, binding.key_display, binding.action, binding.description, enabled, tooltip)
        for (_, binding, enabled, tooltip) in screen.active_bindings.values()
        if binding.show
    )
