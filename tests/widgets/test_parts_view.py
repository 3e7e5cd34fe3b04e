"""`PartsView`: a part whose key is unchanged is not rendered again, a changed part repaints only
its lines that differ, and a new number of lines is laid out and shown.

This pins what the Streams detail relies on to stay quiet at idle (an age ticking in one line must
not repaint the detail), including Textual's private `_repaint_regions` (the lines the next frame
writes): an upgrade of Textual that changes it fails here, not on a user's screen.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region

from jstui.widgets.streams.parts import Part, PartsView


class PartsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield PartsView(id="parts")


class Builds:
    """Parts whose builds are counted, by key."""

    def __init__(self) -> None:
        self.built: list[object] = []

    def part(self, key: object, text: str) -> Part:
        def build() -> RenderableType:
            self.built.append(key)
            return Text(text)

        return (key, build)


def _screen(app: App[None]) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_only_a_changed_part_is_rendered_and_only_its_line_repainted() -> None:
    app = PartsApp()
    builds = Builds()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(PartsView)
        view.show([builds.part("a", "first"), builds.part("b", "age 1s"), builds.part("c", "last")])
        await pilot.pause()
        assert "age 1s" in _screen(app)
        builds.built.clear()
        await pilot.pause()  # nothing left to draw from the first show

        ticked = [builds.part("a", "first"), builds.part("b2", "age 2s"), builds.part("c", "last")]
        view.show(ticked)
        assert builds.built == ["b2"]
        offset = view.content_offset
        assert view._repaint_regions == {Region(0, 1, view.size.width, 1).translate(offset)}
        await pilot.pause()
        assert "age 2s" in _screen(app) and "first" in _screen(app)

        builds.built.clear()
        view.show(ticked)
        assert builds.built == [] and not view._repaint_regions  # equal: nothing at all


async def test_more_lines_are_laid_out() -> None:
    app = PartsApp()
    builds = Builds()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(PartsView)
        view.show([builds.part("a", "one")])
        await pilot.pause()
        assert view.size.height == 1
        view.show([builds.part("a", "one"), builds.part("b", "two\nthree")])
        await pilot.pause()
        assert view.size.height == 3
        assert "three" in _screen(app)
        assert view.plain == "one\ntwo\nthree"


async def test_a_hidden_view_asks_for_a_layout_only_when_its_parts_change() -> None:
    # The Streams pane hides its detail while it has no streams and keeps showing it nothing:
    # each of those asked for a layout of the whole screen. Parts given while hidden show when
    # it is shown again.
    app = PartsApp()
    builds = Builds()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(PartsView)
        view.display = False
        await pilot.pause()
        layouts: list[bool] = []
        refresh = view.refresh

        def counted(*regions: Region, layout: bool = False, **kwargs: bool) -> PartsView:
            layouts.append(layout)
            return refresh(*regions, layout=layout, **kwargs)

        view.refresh = counted  # type: ignore[method-assign]
        for _ in range(3):
            view.show(())
        assert True not in layouts
        view.show([builds.part("a", "shown later")])
        view.show([builds.part("a", "shown later")])
        assert layouts.count(True) == 1
        view.display = True
        await pilot.pause()
        assert "shown later" in _screen(app)
