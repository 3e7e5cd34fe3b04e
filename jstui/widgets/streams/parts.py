"""`PartsView`: a widget showing a column of Rich renderables ("parts") that repaints only what
changed, for the Streams pane's detail.

Data flow: the pane calls `show(parts)` with each part as ``(key, build)``: `key` is a value that
says everything the part shows (compared with ``==``), `build` makes its renderable. A part whose
key equals the one at the same place last time keeps its rendered lines (no Rich render); the lines
of the new whole are compared with those on screen and only the lines that differ are repainted, so
an age ticking in one cell rewrites that line of the terminal, not the detail, and a line scrolled
out of view writes nothing. A new number of lines asks for a layout. A `Static` cannot do this:
its `update` re-renders everything and repaints the whole widget (Textual has no line diff).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Group, RenderableType
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

Part = tuple[object, Callable[[], RenderableType]]


class PartsView(Widget):
    """A column of parts, each rendered again only when its key changed."""

    DEFAULT_CSS = """
    PartsView {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._parts: tuple[Part, ...] = ()
        self._rendered: list[tuple[object, list[Strip]]] = []
        """Each part's key and lines, as last rendered at `_rendered_for`."""
        self._rendered_for: tuple[int, object] | None = None
        """The width and visual style the lines were rendered with."""
        self._lines: list[Strip] = []

    def render(self) -> RenderableType:
        """The whole content at once (for anything that asks a widget to render itself)."""
        return Group(*(build() for _key, build in self._parts))

    def show(self, parts: Sequence[Part]) -> None:
        """Show `parts`; repaint only the lines that differ from those on screen."""
        shown, self._parts = self._parts, tuple(parts)
        width = self.size.width
        if not width:  # not laid out yet, or hidden: the layout that gives it a width renders it
            # Once per change: the Streams pane hides its detail while it has no streams, and
            # asked for a layout of the whole screen (~8 ms) at every poll for an empty view.
            if [key for key, _build in self._parts] != [key for key, _build in shown]:
                self.refresh(layout=True)
            return
        before = self._lines
        after = self._lines_at(width)
        if len(after) != len(before):
            self.refresh(layout=True)
            return
        changed = [
            Region(0, y, width, 1)
            for y, (old, new) in enumerate(zip(before, after, strict=True))
            if old is not new and old != new
        ]
        if changed:
            self.refresh(*changed)

    @property
    def plain(self) -> str:
        """The text shown, one line per line (for tests)."""
        return "\n".join(strip.text.rstrip() for strip in self._lines)

    def _lines_at(self, width: int) -> list[Strip]:
        """Every line at `width`, rendering only the parts whose key changed."""
        style = self.visual_style
        if self._rendered_for != (width, style):
            self._rendered = []
            self._rendered_for = (width, style)
        rendered: list[tuple[object, list[Strip]]] = []
        for index, (key, build) in enumerate(self._parts):
            if index < len(self._rendered) and self._rendered[index][0] == key:
                rendered.append(self._rendered[index])
                continue
            visual = visualize(self, build(), markup=False)
            rendered.append((key, Visual.to_strips(self, visual, width, None, style)))
        self._rendered = rendered
        self._lines = [line for _key, lines in rendered for line in lines]
        return self._lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines_at(width))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self._rendered_for != (width, self.visual_style):
            self._lines_at(width)
        if y < len(self._lines):
            return self._lines[y]
        return Strip.blank(width, self.visual_style.rich_style)
