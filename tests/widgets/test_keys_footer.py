"""`KeysFooter` recomposes once per change of the keys it shows, and not at all without one.

Textual's footer recomposes (mounts its keys again and lays out the screen) on every bindings
signal, and one focus change sends two; opening a feed moved the focus twice and cost four
recomposes while its messages drained. The tests count recomposes after focus changes, waiting
for the first and then for the screen to refresh a few more times (no timing is asserted).
"""

from __future__ import annotations

import gc
import weakref
from typing import ClassVar

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Static

from jstui.widgets.navigation import KeysFooter
from tests.conftest import eventually


class Keyed(Static, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("z", "noop", "Zed")]


class OtherKeyed(Static, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("y", "noop", "Why")]


class CountingFooter(KeysFooter):
    def __init__(self) -> None:
        super().__init__()
        self.recomposes = 0

    async def recompose(self) -> None:
        self.recomposes += 1
        await super().recompose()


class FooterApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Keyed("a", id="a")
        yield Keyed("b", id="b")
        yield OtherKeyed("c", id="c")
        yield CountingFooter()


async def settle(app: FooterApp, frames: int = 5) -> None:
    """Let the screen refresh a few times (a second recompose would come after a refresh)."""
    refreshed: list[bool] = []
    for frame in range(1, frames + 1):
        app.screen.call_after_refresh(refreshed.append, True)
        await eventually(lambda: len(refreshed) >= frame, what="a refresh")  # noqa: B023


@pytest.mark.parametrize(
    ("target", "recomposes", "shown"),
    [("#c", 1, "Why"), ("#b", 0, "Zed")],
    ids=["other keys: one recompose", "same keys: none"],
)
async def test_a_focus_change_recomposes_the_footer_once_per_change_of_its_keys(
    target: str, recomposes: int, shown: str
) -> None:
    app = FooterApp()
    async with app.run_test():
        app.set_focus(app.query_one("#a"))
        await settle(app)
        footer = app.query_one(CountingFooter)
        before = footer.recomposes
        app.set_focus(app.query_one(target))
        if recomposes:
            await eventually(lambda: footer.recomposes > before, what="the footer's recompose")
        await settle(app)
        assert footer.recomposes == before + recomposes
        assert shown in {getattr(key, "description", "") for key in footer.children}


async def test_keys_the_footer_recomposed_away_are_let_go_of() -> None:
    """Each key is data-bound to the footer's `compact`, which registers a watcher on the footer;
    Textual drops a closed key's watcher only when `compact` changes (Textualize/textual#6666),
    so every recompose kept the old keys alive for good."""
    app = FooterApp()
    async with app.run_test():
        footer = app.query_one(CountingFooter)
        gone: weakref.WeakSet[Widget] = weakref.WeakSet()
        for target in ("#a", "#c") * 4:
            recomposed = footer.recomposes
            gone.update(footer.children)
            app.set_focus(app.query_one(target))
            await eventually(lambda: footer.recomposes > recomposed, what="a recompose")  # noqa: B023
            await settle(app)
        gone.difference_update(footer.children)
        gc.collect()
        assert len(gone) == 0, [repr(key) for key in gone]
        watching = getattr(footer, "__watchers", {}).get("compact", [])
        assert watching and all(node in footer.children for node, _ in watching)
