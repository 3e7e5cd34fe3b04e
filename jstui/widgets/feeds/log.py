"""`FeedLog`: the lines of one feed, drawn from cached strips, with a cursor.

Data flow: `FeedView` formats a batch of new messages (`jstui.format.lines.format_line`) and hands
the lines, with the message behind each, to `FeedLog.add` once per tick. `add` appends to the
`Log`'s line list without `Log.write_lines` (which starts a thread per call). Rendering builds each
visible line's segments straight from its fixed columns, once per message and look (cursor,
acknowledged, base style, width), and keeps them in an LRU cache: a frame of a still screen costs a
few dictionary look-ups. Acknowledgements are read from the feed (`Feed.acks`), the one place that
holds them. Keys and clicks move the cursor and post `Interacted` (the view holds still);
Enter and double clicks post `OpenRequested`. Moving up past the first line asks the view for
older messages (`load_older`, which pages back through the ring buffer) and `prepend`s them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import ClassVar, Self

from rich.cells import cell_len
from rich.highlighter import Highlighter
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Log

from jstui.format.lines import TIME_WIDTH
from jstui.nats.feeds.feed import Feed
from jstui.nats.feeds.message import FeedMessage

__all__ = ["LOG_LINES", "FeedLog"]

LOG_LINES = 2_000
"""Lines a feed view keeps for scrolling back (the ring buffer keeps more for export)."""
STRIP_CACHE = 1_000
"""Rendered lines kept, least recently drawn dropped first: a few screens' worth."""
_new_tuple = tuple.__new__
"""Builds a NamedTuple without its Python-level __new__ (hot rendering path)."""


class _FeedHighlighter(Highlighter):
    """Colours the columns of the line being rendered (the log says which one)."""

    def __init__(self, log: FeedLog) -> None:
        self._log = log

    def highlight(self, text: Text) -> None:
        self._log.style_line(text)


class FeedLog(Log):
    """A `Log` of feed lines that remembers which message each line shows, with a cursor.

    Keys move the cursor (and pause the feed: the pane keeps the view still while you read).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "feed-log--time",
        "feed-log--subject",
        "feed-log--meta",
        "feed-log--cursor",
        "feed-log--answered",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Previous message", show=False, priority=True),
        Binding("down", "cursor(1)", "Next message", show=False, priority=True),
        Binding("pageup", "cursor_page(-1)", "Page up", show=False, priority=True),
        Binding("pagedown", "cursor_page(1)", "Page down", show=False, priority=True),
        Binding("home", "cursor_home", "First line", show=False, priority=True),
        Binding("enter", "open", "Detail", priority=True),
    ]

    class Interacted(Message):
        """The user moved the cursor or scrolled up: the feed should hold still."""

    class OpenRequested(Message):
        """Enter or a double click on a line."""

    def __init__(
        self,
        feed: Feed,
        *,
        load_older: Callable[[], int] | None = None,
        id: str | None = None,
    ) -> None:
        # auto_scroll off: the view decides when to follow (a paused or scrolled view holds still)
        super().__init__(highlight=True, max_lines=LOG_LINES, auto_scroll=False, id=id)
        self.highlighter = _FeedHighlighter(self)
        self.refs: deque[tuple[FeedMessage, int, int]] = deque(maxlen=LOG_LINES)
        """Per line: the message, its subject width and where its payload starts."""
        self.cursor: int | None = None
        self._feed = feed
        """Read for its acknowledgements (answered lines are greyed out); never written here."""
        self._render_y = 0
        self._styles: dict[str, Style] = {}
        self._strips: LRUCache[tuple[object, ...], Strip] = LRUCache(STRIP_CACHE)
        """Rendered lines by message and look (cursor, answered, base style, width)."""
        self._frame: tuple[Style, int, int, int] | None = None
        self._load_older = load_older
        """Called when the cursor goes up past the first line; returns how many lines it put
        above it (`prepend`)."""
        self.trimmed_tail = False
        """Older lines pushed the newest ones out (`prepend`): following must redraw the tail."""

    # -- content ---------------------------------------------------------------------------------

    def add(self, lines: list[str], refs: list[tuple[FeedMessage, int, int]]) -> None:
        """Append lines (one per message, from `format_line`) in one batch.

        Not `Log.write_lines`: that starts a thread per call to measure the new lines' width. A
        batch is at most a screenful plus a margin of lines no wider than the view, so measuring
        them here costs microseconds.
        """
        if not lines:
            return
        self.refs.extend(refs)
        self._lines.extend(lines)
        if self.max_lines is not None and len(self._lines) > self.max_lines:
            self._prune_max_lines()
        # At least as wide as the view: lines are formatted to fit it, but their widths vary by a
        # cell or two (sequence numbers grow), and each new widest line would lay out the screen
        widest = max(max(map(cell_len, lines)), self.scrollable_content_region.width)
        if widest > self._width:
            self._width = widest
        self._grow_to(Size(self._width, len(self._lines)))
        self.refresh()
        if len(self._lines) != len(self.refs):  # never expected: lines are single-line by design
            self.reset()

    def _grow_to(self, size: Size) -> None:
        """Set the virtual size. `virtual_size` is a layout reactive: assigning it lays out the
        whole screen, once a tick while the log fills (measured: 18 layouts of the dashboard in
        a 1.4 s drain of a JetStream feed). The log's own size never depends on it, so while
        the vertical scrollbar is shown (always, in the Feeds pane's styles) and no horizontal
        one can come (a new width with `overflow-x: hidden`, or the same width), the scrollbars
        are updated in place and nothing else is laid out."""
        old = self.virtual_size
        container = self.scrollable_content_region.height
        width_free = size.width == old.width or self.styles.overflow_x == "hidden"
        if width_free and self.show_vertical_scrollbar and container > 0:
            self.set_reactive(FeedLog.virtual_size, size)
            self._scroll_update(size)
        elif size != old:
            self.virtual_size = size

    def prepend(self, lines: list[str], refs: list[tuple[FeedMessage, int, int]]) -> int:
        """Put older lines above the first one, keeping the view on the same lines; past
        `LOG_LINES`, the newest lines make room (and `trimmed_tail` says so). Returns how many."""
        if not lines:
            return 0
        added = len(lines)
        excess = len(self._lines) + added - LOG_LINES
        if excess > 0:
            del self._lines[len(self._lines) - excess :]
            for _ in range(min(excess, len(self.refs))):
                self.refs.pop()
            self.trimmed_tail = True
        self._lines[0:0] = lines
        self.refs.extendleft(reversed(refs))
        self._render_line_cache.clear()  # Log's cache is keyed by line number
        self._width = max(self._width, max(map(cell_len, lines)))
        self.virtual_size = Size(self._width, len(self._lines))
        if self.cursor is not None:
            self.cursor = min(self.cursor + added, len(self._lines) - 1)
        self.scroll_to(y=self.scroll_offset.y + added, animate=False, immediate=True)
        self.refresh()
        return added

    def reset(self) -> None:
        self.clear()
        self.refs.clear()
        self.cursor = None
        self.trimmed_tail = False

    def clear(self) -> Self:
        self._strips.clear()
        return super().clear()

    def message_at(self, line: int | None) -> FeedMessage | None:
        if line is None or not 0 <= line < len(self.refs):
            return None
        return self.refs[line][0]

    @property
    def selected(self) -> FeedMessage | None:
        """The message under the cursor, else the newest one."""
        if self.cursor is not None:
            return self.message_at(self.cursor)
        return self.refs[-1][0] if self.refs else None

    # -- rendering ---------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name, partial=True)
        return style

    def render_lines(self, crop: Region) -> list[Strip]:
        # Log.render_line looks up the widget's style, size and scroll offset for every line;
        # they cannot change while one frame is drawn, so take them once.
        scroll_x, scroll_y = self.scroll_offset
        self._frame = (self.rich_style, scroll_x, scroll_y, self.size.width)
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        frame = self._frame
        if frame is None:
            scroll_x, scroll_y = self.scroll_offset
            frame = (self.rich_style, scroll_x, scroll_y, self.size.width)
        rich_style, scroll_x, scroll_y, width = frame
        line = self._render_y = scroll_y + y
        if line >= len(self._lines):
            return Strip.blank(width, rich_style)
        strip = self._feed_line(line, rich_style, width)
        if scroll_x or strip.cell_length != width:
            # (skipped when it would return the strip itself: it caches that result in the
            # strip, a reference cycle left for the garbage collector)
            strip = strip.crop_extend(scroll_x, scroll_x + width, rich_style)
        return strip.apply_offsets(scroll_x, line)

    def _feed_line(self, y: int, rich_style: Style, width: int) -> Strip:
        # Log renders every visible line through a Rich Text and a highlighter on every frame.
        # A feed line has fixed columns: build its segments directly, once per message and look.
        if self.text_selection is not None or not 0 <= y < len(self.refs):
            return self._render_line_strip(y, rich_style)  # Log's own path, for the selection
        message, subject_width, payload_start = self.refs[y]
        cursor = y == self.cursor
        answered = message.index in self._feed.acks
        key = (message.index, subject_width, payload_start, cursor, answered, rich_style, width)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._line_strip(
                self._lines[y], subject_width, payload_start, rich_style, cursor, answered, width
            )
            self._strips.set(key, strip)
        return strip

    def _line_strip(
        self,
        line: str,
        subject_width: int,
        payload_start: int,
        base: Style,
        cursor: bool,
        answered: bool,
        width: int,
    ) -> Strip:
        """The columns of `format_line` in their component styles (as `style_line` does),
        padded to `width` so that the cursor's colour spans the row and cropping is a no-op."""
        overlay = Style()
        if answered:
            overlay += self._style("feed-log--answered")
        if cursor:
            overlay += self._style("feed-log--cursor")
        plain = base + overlay
        subject_start = TIME_WIDTH + 1
        subject_end = subject_start + subject_width
        columns = (
            (0, TIME_WIDTH, base + self._style("feed-log--time") + overlay),
            (TIME_WIDTH, subject_start, plain),
            (subject_start, subject_end, base + self._style("feed-log--subject") + overlay),
            (subject_end, payload_start, base + self._style("feed-log--meta") + overlay),
            (payload_start, len(line), plain),
        )
        segments = [
            _new_tuple(Segment, (line[start:end], style, None))  # Segment(text, style)
            for start, end, style in columns
            if end > start
        ]
        length = cell_len(line)
        if length < width:
            segments.append(_new_tuple(Segment, (" " * (width - length), plain, None)))
            length = width
        return Strip(segments, length)

    def style_line(self, text: Text) -> None:
        """Colours a line rendered the Log's way (while text is selected)."""
        line = self._render_y
        if not 0 <= line < len(self.refs):
            return
        message, subject_width, payload_start = self.refs[line]
        subject_start = TIME_WIDTH + 1
        subject_end = subject_start + subject_width
        text.stylize(self._style("feed-log--time"), 0, TIME_WIDTH)
        text.stylize(self._style("feed-log--subject"), subject_start, subject_end)
        text.stylize(self._style("feed-log--meta"), subject_end, payload_start)
        if message.index in self._feed.acks:
            text.stylize(self._style("feed-log--answered"))
        if line == self.cursor:
            text.stylize(self._style("feed-log--cursor"))

    # -- cursor ----------------------------------------------------------------------------------

    def _move_cursor(self, line: int) -> None:
        if line < 0 and self._load_older is not None:
            line += self._load_older()  # page back through the ring buffer
        if not self.refs:
            return
        line = max(0, min(len(self.refs) - 1, line))
        previous, self.cursor = self.cursor, line
        for y in {previous, line}:
            if y is not None:
                self.refresh_lines(y)
        self.scroll_to_region_line(line)
        self.post_message(self.Interacted())

    def scroll_to_region_line(self, line: int) -> None:
        top = self.scroll_offset.y
        height = max(1, self.scrollable_content_region.height)
        if line < top:
            self.scroll_to(y=line, animate=False, immediate=True)
        elif line >= top + height:
            self.scroll_to(y=line - height + 1, animate=False, immediate=True)

    def _start_line(self) -> int:
        # the first press selects the newest line on screen
        return min(
            len(self.refs) - 1, self.scroll_offset.y + self.scrollable_content_region.height - 1
        )

    def action_cursor(self, delta: int) -> None:
        if self.cursor is None:
            self._move_cursor(self._start_line())  # the first press selects the newest line
        else:
            self._move_cursor(self.cursor + delta)

    def action_cursor_page(self, direction: int) -> None:
        page = max(1, self.scrollable_content_region.height - 1)
        start = self._start_line() if self.cursor is None else self.cursor
        self._move_cursor(start + direction * page)

    def action_cursor_home(self) -> None:
        self._move_cursor(0)

    def clear_cursor(self) -> None:
        if self.cursor is not None:
            previous, self.cursor = self.cursor, None
            self.refresh_lines(previous)

    def action_open(self) -> None:
        self.post_message(self.OpenRequested())

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.post_message(self.Interacted())

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        line = self.scroll_offset.y + offset.y
        if 0 <= line < len(self.refs):
            self._move_cursor(line)
            if event.chain >= 2:
                self.post_message(self.OpenRequested())
