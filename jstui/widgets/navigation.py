"""How the user finds the panes: the compact pane switcher and the dashboard's footer of keys.

`PaneSwitcher` is a one-line tab strip built from the pane registry (``1 Streams  2 Feeds ...``);
the dashboard shows it above the panes, tells it which pane is current (`highlight`),
and receives `PaneSwitcher.PaneClicked` when the user clicks a tab. `KeysFooter` is Textual's
footer with the help key moved to the front, and with what does not fit left out whole: Textual
lays the keys out in a row that runs on under the command-palette key docked at the right end
(cut mid-word, at 80 columns); `KeysFooter.arrange` takes that layout and keeps the keys that fit
before the palette key, then `MoreKeys` ("…", a click opens the help) where the rest would be.
Room goes first to the help key (the one that lists all the others), then to the pane's and the
app's own keys, last to the keys every screen has (Quit, Max/restore: `GENERAL_ACTIONS`).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.geometry import Size
from textual.layout import DockArrangeResult, WidgetPlacement
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from jstui.widgets.registry import PaneEntry

HELP_ACTION = "app.help"
GENERAL_ACTIONS = frozenset({"quit", "toggle_maximize"})
"""The actions of the footer keys every screen shows (Quit, Max/restore): the first left out."""


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


class MoreKeys(Static):
    """The "…" that ends a footer too narrow for all its keys; the help lists them all."""

    def __init__(self) -> None:
        super().__init__("…", markup=False)
        self.tooltip = "More keys: ? lists them all"

    async def on_click(self, event: events.Click) -> None:
        event.stop()
        await self.run_action(HELP_ACTION)


class KeysFooter(Footer):
    """Textual's `Footer` with the help key first, the keys that do not fit left out whole, and
    recomposed only when its keys change."""

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
        _forget_closed_watchers(self)

    @property
    def settled(self) -> bool:
        """Shows the screen's current keys, with no recompose to come (Textual's footer does not
        recompose while the app has no focus: then it is as settled as it will be)."""
        if not self.app.app_focus:
            return True
        return not self._recompose_pending and self._composed_keys == _shown_keys(self.screen)

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._composed_keys = _shown_keys(self.screen)
        keys: list[Widget] = list(super().compose())
        # FooterKey is not public; its `action` attribute is what tells the help key apart.
        first = [key for key in keys if getattr(key, "action", None) == HELP_ACTION]
        yield from first
        yield from (key for key in keys if key not in first)
        if keys:
            yield MoreKeys()

    def arrange(self, size: Size, optimal: bool = False) -> DockArrangeResult:
        """Textual's arrangement (cached by Textual) when every key fits before the docked
        palette key; otherwise the keys that fit, in `_leave_out_rank` order, packed to the left
        in their own order, and `MoreKeys` after them."""
        arrangement = super().arrange(size, optimal)
        docked = [placement for placement in arrangement.placements if placement.fixed]
        in_row = [placement for placement in arrangement.placements if not placement.fixed]
        more = next((p for p in in_row if isinstance(p.widget, MoreKeys)), None)
        keys = [placement for placement in in_row if placement is not more]
        # the palette key is the only widget Footer docks, at the right end
        right_end = min((p.region.x - p.margin.left for p in docked), default=size.width)
        if more is None or all(key.region.right <= right_end for key in keys):
            return _placed(arrangement, [*docked, *keys])
        kept: list[WidgetPlacement] = []
        # Stop at the first key that does not fit (no smaller one after it): what is left out
        # is the end of a rank, never a key here and there.
        for candidate in sorted(keys, key=_leave_out_rank):
            row = sorted([*kept, candidate], key=lambda placement: placement.region.x)
            if _packed([*row, more])[-1].region.right > right_end:
                break
            kept = row
        return _placed(arrangement, [*docked, *_packed([*kept, more])])


def _leave_out_rank(placement: WidgetPlacement) -> int:
    """The order in which keys find room: the help key (it lists every key) first; last, the
    keys of every screen, which the help lists under "Everywhere"; the pane's and the app's own
    keys in between."""
    action = getattr(placement.widget, "action", None)  # FooterKey's; groups have none
    return 0 if action == HELP_ACTION else 2 if action in GENERAL_ACTIONS else 1


def _packed(row: list[WidgetPlacement]) -> list[WidgetPlacement]:
    """`row` moved to the left, each right after the one before (margins collapse, as in
    Textual's horizontal layout)."""
    packed: list[WidgetPlacement] = []
    for placement in row:
        if packed:
            previous = packed[-1]
            x = previous.region.right + max(previous.margin.right, placement.margin.left)
        else:
            x = placement.margin.left
        packed.append(placement._replace(region=placement.region._replace(x=x)))
    return packed


def _placed(arrangement: DockArrangeResult, placements: list[WidgetPlacement]) -> DockArrangeResult:
    """`arrangement` with only `placements`: the widgets left out are neither drawn nor counted
    as shown (Textual sends them `Hide`, as it would for ``display: none``)."""
    widgets = {placement.widget for placement in placements}
    return DockArrangeResult(placements, widgets, arrangement.scroll_spacing)


def _forget_closed_watchers(node: Widget) -> None:
    """Drop the watchers of `node`'s reactives that belong to closed widgets.

    Footer's keys are data-bound to its `compact`, so each key registers a watcher on the footer.
    Textual forgets a closed widget's watcher only when the watched attribute next changes
    (Textualize/textual#6666), and `compact` never does: every recompose left the old keys, with
    their styles and rendered lines, alive for as long as the app ran (about 5,500 objects per
    feed opened and closed, as many per pane switch that changes the keys)."""
    watchers: dict[str, list[tuple[object, object]]] = getattr(node, "__watchers", {})
    for entries in watchers.values():
        entries[:] = [entry for entry in entries if not getattr(entry[0], "_closing", False)]


def footer_settled(screen: Screen) -> bool:
    """The screen's footer (if it has one) shows its current keys (`KeysFooter.settled`)."""
    return all(footer.settled for footer in screen.query(KeysFooter))


def _shown_keys(screen: Screen) -> tuple[object, ...]:
    """What the footer shows of the screen's bindings (`Footer.compose` reads the same)."""
    return tuple(
        (binding.key, binding.key_display, binding.action, binding.description, enabled, tooltip)
        for (_, binding, enabled, tooltip) in screen.active_bindings.values()
        if binding.show
    )
