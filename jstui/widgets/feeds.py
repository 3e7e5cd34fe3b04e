"""The Feeds pane: live message feeds in tabs, drawn in batches from each feed's ring buffer.

Data flow (design.md, "Data flow of a live message"): nats-py appends each message to the feed's
ring buffer (`jstui.nats.feeds.Feed`); the pane's one timer (15 Hz) asks each feed for at most a
screenful plus a margin of the newest messages (`Feed.take_new`), formats them through
`jstui.format` and appends them to the view's `FeedLog` in one batch. `FeedLog` is a `Log` that
draws its fixed columns straight into cached strips and never starts a thread (`Log.write_lines`
starts one per call). A paused view takes nothing: the buffer keeps filling and the pane says
"+N new"; End draws the newest screenful and follows again. Counters: received = shown +
filtered + dropped (+ new while paused).
"""

from __future__ import annotations

import time
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Self

from rich.cells import cell_len
from rich.highlighter import Highlighter
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import Log, Static, TabbedContent, TabPane

from jstui.dialogs.feed_dialog import ExportDialog, FeedDialog, FilterDialog
from jstui.dialogs.message_detail import MessageDetailScreen
from jstui.dialogs.publish import PublishScreen
from jstui.format.payload import payload_preview
from jstui.format.text import sanitize
from jstui.format.units import format_count, format_rate, format_size
from jstui.nats.errors import JstuiError, ValidationError
from jstui.nats.feeds.feed import Feed, FeedState
from jstui.nats.feeds.filter import NO_FILTER, FeedFilter
from jstui.nats.feeds.message import AckKind, FeedMessage
from jstui.nats.feeds.spec import FeedSpec, parse_feed_option
from jstui.nats.session import ConnectionState, ConnectionStatus
from jstui.widgets.base import Pane
from jstui.widgets.sparkline import SparkLine

__all__ = ["FeedLog", "FeedView", "FeedsPane", "compact_size", "format_line"]

TICK_SECONDS = 1 / 15
"""Redraw rate of the feeds (10-20 Hz: smooth, and cheap because each tick is one batch)."""
STATS_EVERY = 3
"""Counters and sparkline are redrawn every third tick (5 Hz)."""
LOG_LINES = 2_000
"""Lines a feed view keeps for scrolling back (the ring buffer keeps more for export)."""
MARGIN_LINES = 20
"""Lines drawn per tick beyond what fits on screen, so a quick scroll up finds them."""
STRIP_CACHE = 1_000
"""Rendered lines kept; a few screens' worth, emptied when full."""
TIME_WIDTH = 12
SEQ_WIDTH = 9
SIZE_WIDTH = 5
HDR_WIDTH = 3
MIN_SUBJECT = 8
MAX_SUBJECT = 32
MIN_PREVIEW = 16
_new_tuple = tuple.__new__
"""Builds a NamedTuple without its Python-level __new__ (hot rendering path)."""
ACK_MARKS = {AckKind.ACK: "acked", AckKind.NAK: "nak'd", AckKind.TERM: "terminated"}


def compact_size(n: int) -> str:
    """Bytes in at most 5 characters: ``16B``, ``999B``, ``1.0K``, ``12K``, ``1.0M``."""
    if n < 1000:
        return f"{n}B"
    for unit, scale in (("K", 1024), ("M", 1024**2), ("G", 1024**3)):
        value = n / scale
        if value < 9.95:
            return f"{value:.1f}{unit}"
        if value < 999.5:
            return f"{value:.0f}{unit}"
    return f"{n / 1024**4:.0f}T"


def _clock_text(moment: float) -> str:
    local = time.localtime(moment)
    return f"{time.strftime('%H:%M:%S', local)}.{int(moment * 1000) % 1000:03d}"


def _seq_text(message: FeedMessage) -> str:
    meta = message.meta
    if meta is None:
        return "-"
    text = f"{meta.stream_seq}/{meta.consumer_seq}" if meta.consumer else str(meta.stream_seq)
    if meta.delivered > 1:
        text += f"*{meta.delivered}"  # redelivered: how many times so far
    return text


def format_line(
    message: FeedMessage, subject_width: int, preview: int, jetstream: bool
) -> tuple[str, int]:
    """One safe line for a message, and the column where its payload starts.

    ``time subject [stream/consumer seq] size headers payload``; every network value goes through
    `jstui.format` (no control characters, no markup, one line).
    """
    subject = sanitize(message.subject, max_len=256)
    if len(subject) > subject_width:
        subject = subject[: subject_width - 1] + "\u2026"
    parts = [_clock_text(message.time), subject.ljust(subject_width)]
    if jetstream:
        parts.append(_seq_text(message).rjust(SEQ_WIDTH))
    count = message.header_count
    parts.append(compact_size(len(message.data)).rjust(SIZE_WIDTH))
    parts.append((f"h{count}" if count else "").ljust(HDR_WIDTH))
    head = " ".join(parts) + " "
    return head + payload_preview(message.data, preview), len(head)


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

    def __init__(self, feed: Feed, *, id: str | None = None) -> None:
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
        self._strips: dict[tuple[object, ...], Strip] = {}
        """Rendered lines by message and look (cursor, answered, base style, width)."""
        self._frame: tuple[Style, int, int, int] | None = None

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
        widest = max(map(cell_len, lines))
        if widest > self._width:
            self._width = widest
        self.virtual_size = Size(self._width, len(self._lines))
        self.refresh()
        if len(self._lines) != len(self.refs):  # never expected: lines are single-line by design
            self.reset()

    def reset(self) -> None:
        self.clear()
        self.refs.clear()
        self.cursor = None

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
            if len(self._strips) >= STRIP_CACHE:
                self._strips.clear()
            strip = self._strips[key] = self._line_strip(
                self._lines[y], subject_width, payload_start, rich_style, cursor, answered, width
            )
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


class FeedView(Vertical):
    """One feed: its state and counters, a rate sparkline, the column header and the lines."""

    class Failed(Message):
        def __init__(self, view: FeedView, error: str) -> None:
            super().__init__()
            self.view = view
            self.error = error

    def __init__(self, feed: Feed, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="feed-view")
        self.feed = feed
        self.filter: FeedFilter = NO_FILTER
        self.paused = False
        self.pause_reason = ""
        self.subject_width = self._initial_subject_width()
        self._ticks = 0
        self.closing = False
        """Set while the tab is being removed: the timer leaves the view alone."""
        # children are kept by reference: cheap to update, and no query can miss mid-removal
        self._log = FeedLog(feed, id="feed-log")
        self._acks_drawn = 0
        self._shown_info = self._info_text()
        self._shown_counts = self._counts_text()
        self._info = Static(self._shown_info, id="feed-info", markup=False)
        self._counts = Static(self._shown_counts, id="feed-counts", markup=False)
        self._spark = SparkLine(id="feed-spark")
        self._header = Static(self._header_text(), id="feed-header", markup=False)
        self._new_bar = Static("", id="feed-new", markup=False)
        self._filter_bar = Static("", id="feed-filter", markup=False)

    def _initial_subject_width(self) -> int:
        subject = self.feed.spec.subject
        wild = "*" in subject.split(".") or subject.endswith(">")
        width = len(subject) + (6 if wild else 0)
        return max(MIN_SUBJECT, min(MAX_SUBJECT, width))

    @property
    def jetstream(self) -> bool:
        return self.feed.spec.is_jetstream

    def compose(self) -> ComposeResult:
        yield self._info
        with Horizontal(id="feed-stats-row"):
            yield self._counts
            yield self._spark
        yield self._header
        yield self._log
        yield self._new_bar
        yield self._filter_bar

    def on_mount(self) -> None:
        self._new_bar.display = False
        self._filter_bar.display = False
        self.run_worker(
            self._run(),
            name=f"feed {self.feed.spec.label}",
            group="feeds",
            description=f"live feed {self.feed.spec.label}",
            exit_on_error=False,
        )

    async def _run(self) -> None:
        # The subscription lives as long as this worker: removing the view cancels it, and
        # Feed.run() unsubscribes on the way out.
        try:
            await self.feed.run()
        except JstuiError as error:
            self.post_message(self.Failed(self, str(error)))

    @property
    def log_widget(self) -> FeedLog:
        return self._log

    # -- the timer ------------------------------------------------------------------------------

    def tick(self) -> None:
        """Draw what arrived (unless paused); refresh counters every few ticks."""
        feed = self.feed
        log = self.log_widget
        if self.closing or not log.is_mounted:
            return  # the tab is still being built, or going away
        feed.sample_rates()
        if feed.acks_sent != self._acks_drawn:  # acked here or from the detail screen
            self._acks_drawn = feed.acks_sent
            log.refresh()
        if not self.paused and log.is_vertical_scrollbar_grabbed:
            self.pause("scrolled")
        if not self.paused:
            height = log.scrollable_content_region.height or 40
            messages = feed.take_new(height + MARGIN_LINES, self.filter)
            if messages:
                self._write(messages)
            elif log.scroll_offset.y < log.max_scroll_y:
                # a write made while the screen was not laid out (a dialog on top) left the
                # view short of the tail: following means showing the newest line
                log.scroll_end(animate=False, immediate=True, x_axis=False)
        self._ticks += 1
        if self._ticks % STATS_EVERY == 0:
            self.refresh_stats()

    def _preview_width(self) -> int:
        log = self.log_widget
        head = TIME_WIDTH + 1 + self.subject_width + 1 + SIZE_WIDTH + 1 + HDR_WIDTH + 1
        if self.jetstream:
            head += SEQ_WIDTH + 1
        width = log.scrollable_content_region.width or 80
        return max(MIN_PREVIEW, width - head)

    def _write(self, messages: list[FeedMessage]) -> None:
        if "*" in self.feed.spec.subject or ">" in self.feed.spec.subject:
            widest = max(len(m.subject) for m in messages)
            if widest > self.subject_width and self.subject_width < MAX_SUBJECT:
                self.subject_width = min(MAX_SUBJECT, widest)
                self._header.update(self._header_text())
        width = self.subject_width
        preview = self._preview_width()
        jetstream = self.jetstream
        lines: list[str] = []
        refs: list[tuple[FeedMessage, int, int]] = []
        for message in messages:
            line, payload_start = format_line(message, width, preview, jetstream)
            lines.append(line)
            refs.append((message, width, payload_start))
        log = self.log_widget
        log.add(lines, refs)
        if not self.paused:
            # add() has set the new virtual size: scroll now, drawn in the same frame
            log.scroll_end(animate=False, immediate=True, x_axis=False)

    def release(self) -> None:
        """The tab is gone: give back the ring buffer and the lines at once. (A removed widget
        can stay referenced for a while, e.g. by its container's layout cache until the next
        layout, and the buffer would stay with it.)"""
        self.feed.buffer.clear()
        self.log_widget.reset()

    def redraw(self) -> None:
        """Rebuild the lines from the ring buffer (after a filter change); counters stay."""
        log = self.log_widget
        log.reset()
        messages = self.feed.matching(self.filter, LOG_LINES)
        if messages:
            self._write(messages)
        log.scroll_end(animate=False, x_axis=False)

    # -- pause and follow ---------------------------------------------------------------------

    def pause(self, reason: str = "paused") -> None:
        if not self.paused:
            self.paused = True
            self.pause_reason = reason
            self.refresh_stats()

    def follow(self) -> None:
        """Back to the tail: draw the newest messages and follow again."""
        self.paused = False
        self.pause_reason = ""
        log = self.log_widget
        log.clear_cursor()
        messages = self.feed.take_new(
            (log.scrollable_content_region.height or 40) + MARGIN_LINES, self.filter
        )
        if messages:
            self._write(messages)
        log.scroll_end(animate=False, x_axis=False)
        self.refresh_stats()

    def toggle_pause(self) -> None:
        if self.paused:
            self.follow()
        else:
            self.pause("paused")

    def set_filter(self, flt: FeedFilter) -> None:
        self.filter = flt
        self.redraw()
        self.refresh_stats()

    # -- text ----------------------------------------------------------------------------------

    def _info_text(self) -> Text:
        feed = self.feed
        state = feed.state
        marks = {
            FeedState.STARTING: ("\u25cb starting", "feed-state-starting"),
            FeedState.LIVE: ("\u25cf live", "feed-state-live"),
            FeedState.FAILED: ("\u2716 failed", "feed-state-failed"),
            FeedState.CLOSED: ("\u25cb closed", "feed-state-closed"),
        }
        label, _ = marks[state]
        if state is FeedState.LIVE and self.paused:
            label = "\u2016 paused" if self.pause_reason == "paused" else "\u2016 held (scrolled)"
        text = Text(label, style="bold")
        text.append("  ")
        detail = feed.error if state is FeedState.FAILED else feed.describe()
        text.append(sanitize(detail, max_len=300))
        for note in feed.notes:
            text.append(f" \u00b7 {sanitize(note, max_len=200)}")
        if feed.error and state is not FeedState.FAILED:
            text.append(f" \u00b7 {sanitize(feed.error, max_len=200)}")
        return text

    def _counts_text(self) -> Text:
        c = self.feed.counts()
        text = Text()
        text.append("recv ")
        text.append(format_count(c.received), style="bold")
        text.append("  shown ")
        text.append(format_count(c.shown), style="bold")
        text.append("  dropped ")
        text.append(format_count(c.dropped), style="bold")
        if c.slow:
            text.append(f" ({format_count(c.slow)} slow)")
        if c.filtered or self.filter.active:
            text.append("  filtered ")
            text.append(format_count(c.filtered), style="bold")
        meter = self.feed.meter
        text.append(f"  {format_rate(meter.rate())} ")
        text.append(f"{format_size(meter.byte_rate())}/s ")
        return text

    def _header_text(self) -> Text:
        parts = ["time".ljust(TIME_WIDTH), "subject".ljust(self.subject_width)]
        if self.jetstream:
            parts.append("seq".rjust(SEQ_WIDTH))
        parts.append("size".rjust(SIZE_WIDTH))
        parts.append("hdr".ljust(HDR_WIDTH))
        parts.append("payload")
        return Text(" ".join(parts))

    def refresh_stats(self) -> None:
        if self.closing or not self._log.is_mounted:
            return
        # Static.update lays out the whole screen by default, five times a second here; only
        # the counts (width auto) need it, and only when their width changes.
        info = self._info_text()
        if info != self._shown_info:
            self._shown_info = info
            self._info.update(info, layout=False)
        counts = self._counts_text()
        if counts != self._shown_counts:
            relayout = counts.cell_len != self._shown_counts.cell_len
            self._shown_counts = counts
            self._counts.update(counts, layout=relayout)
        self._spark.set_values(self.feed.meter.history())
        new_bar = self._new_bar
        if self.paused:
            pending = self.feed.pending
            new_bar.update(
                Text(f"\u25bc +{format_count(pending)} new \u00b7 End to follow the tail")
            )
        new_bar.display = self.paused
        filter_bar = self._filter_bar
        if self.filter.active:
            filter_bar.update(
                Text(f"filter: {sanitize(self.filter.describe(), max_len=200)} \u00b7 / to change")
            )
        filter_bar.display = self.filter.active

    @on(FeedLog.Interacted)
    def _held(self, event: FeedLog.Interacted) -> None:
        event.stop()
        self.pause("scrolled")

    @on(events.Click, "#feed-new")
    def _clicked_new(self) -> None:
        self.follow()


class FeedsEmpty(Static, can_focus=True):
    """Shown while no feed is open; focusable so the pane's keys work."""


EMPTY_TEXT = (
    "No feed open.\n\n"
    "n  subscribe to a subject (core, or a JetStream stream)\n"
    "p  publish a message, or many\n\n"
    "Start-up feeds: jstui --feed SUBJECT[,js|consume,...]"
)


class FeedsPane(Pane):
    PANE_TITLE = "Feeds"
    PANE_NUMBER = 2
    PANE_HELP = (
        "Live messages, one tab per feed. A core feed subscribes to a subject (wildcards * and >, "
        "optionally in a queue group). A JetStream feed reads the stream that captures the "
        "subject through an ordered consumer and never consumes; on work-queue and interest "
        "streams it reads stored messages by sequence, so they stay as they are. A consuming "
        "feed uses a durable (or ephemeral) consumer with explicit acks: ack, nak or terminate "
        "the selected message (this removes messages from work-queue streams).\n\n"
        "Each line: arrival time, subject, stream/consumer sequence for JetStream (*N = "
        "delivered N times), size, header count (hN) and the start of the payload, with control "
        "characters made visible. The counters read: recv = shown + dropped (+ filtered, + new "
        "while paused). Dropped messages were received but not drawn: more arrived than a screen "
        "shows, they were overwritten in the ring buffer while paused, or (JetStream feeds) the "
        "client's pending limit was hit (slow). The sparkline is messages per second over the "
        "last minute.\n\n"
        "Moving the cursor or scrolling up holds the view still and counts '+N new'; End goes "
        "back to the tail. Enter opens a message: metadata, headers, payload as text, JSON or "
        "hex, copy, publish again. / filters by subject pattern and payload regex without "
        "unsubscribing; e exports the buffer as NDJSON."
    )
    # priority: checked when the key arrives, not after it has bubbled up from the focused log
    # through six widgets (one loop turn each): in a flood that halves the key-press latency
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_feed", "New feed", priority=True),
        Binding("p", "publish", "Publish", priority=True),
        Binding("space", "toggle_pause", "Pause", priority=True),
        Binding("end", "follow", "Tail", priority=True),
        Binding("slash", "filter", "Filter", key_display="/", priority=True),
        Binding("e", "export", "Export", priority=True),
        Binding("x", "close_feed", "Close feed", priority=True),
        Binding(
            "left_square_bracket",
            "switch(-1)",
            "Prev feed",
            key_display="[",
            show=False,
            priority=True,
        ),
        Binding(
            "right_square_bracket",
            "switch(1)",
            "Next feed",
            key_display="]",
            show=False,
            priority=True,
        ),
        Binding("a", "answer('ack')", "Ack", show=False, priority=True),
        Binding("k", "answer('nak')", "Nak", show=False, priority=True),
        Binding("T", "answer('term')", "Term", key_display="T", show=False, priority=True),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._started_feeds = False
        self._timer: Timer | None = None
        self._next_id = 0

    def compose(self) -> ComposeResult:
        yield FeedsEmpty(EMPTY_TEXT, id="feeds-empty", markup=False)
        yield TabbedContent(id="feeds-tabs")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#feeds-tabs").display = False
        self._timer = self.set_interval(TICK_SECONDS, self._tick)

    # -- views -----------------------------------------------------------------------------------

    @property
    def views(self) -> list[FeedView]:
        return list(self.query(FeedView))

    @property
    def current(self) -> FeedView | None:
        tabs = self.query_one("#feeds-tabs", TabbedContent)
        pane = tabs.active_pane
        if pane is None:
            return None
        found = pane.query(FeedView)
        return found.first() if found else None

    def _tick(self) -> None:
        for view in self.views:
            view.tick()

    async def open_feed(self, spec: FeedSpec, *, activate: bool = True) -> FeedView:
        """Open a feed in a new tab (the current one unless `activate` is False)."""
        feed = Feed(self.session, spec)
        self._next_id += 1
        pane_id = f"feed-tab-{self._next_id}"
        view = FeedView(feed)
        tabs = self.query_one("#feeds-tabs", TabbedContent)
        tabs.display = True
        self.query_one("#feeds-empty").display = False
        await tabs.add_pane(TabPane(Content(_tab_title(spec)), view, id=pane_id))
        if activate or len(self.views) == 1:
            tabs.active = pane_id
            if self.screen.focused is None or self in self.screen.focused.ancestors_with_self:
                view.log_widget.focus()
        return view

    async def close_feed(self, view: FeedView) -> None:
        tabs = self.query_one("#feeds-tabs", TabbedContent)
        pane = next((p for p in view.ancestors if isinstance(p, TabPane)), None)
        if pane is None or pane.id is None:
            return
        view.closing = True
        await tabs.remove_pane(pane.id)
        view.release()
        if not self.views:
            tabs.display = False
            self.query_one("#feeds-empty").display = True
            self.query_one("#feeds-empty").focus()
        else:
            self.focus_pane()

    def focus_pane(self) -> None:
        view = self.current
        if view is not None:
            view.log_widget.focus()
        else:
            self.query_one("#feeds-empty").focus()

    @on(FeedView.Failed)
    def _feed_failed(self, event: FeedView.Failed) -> None:
        event.view.refresh_stats()
        self.notify(
            sanitize(f"{event.view.feed.spec.label}: {event.error}", max_len=400),
            title="Feed failed",
            severity="error",
            markup=False,
        )

    @on(FeedLog.OpenRequested)
    def _open_requested(self, event: FeedLog.OpenRequested) -> None:
        event.stop()
        self.action_detail()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self) -> None:
        view = self.current
        if view is not None:
            view.refresh_stats()

    # -- start-up feeds ------------------------------------------------------------------------

    def connection_changed(self, status: ConnectionStatus) -> None:
        if status.state is ConnectionState.CONNECTED and not self._started_feeds:
            self._started_feeds = True
            self.run_worker(
                self._open_startup_feeds(),
                group="feeds-startup",
                description="open the --feed feeds",
                exit_on_error=False,
            )

    async def _open_startup_feeds(self) -> None:
        settings = self.host.settings
        for raw in settings.feeds:
            try:
                spec = parse_feed_option(raw, buffer=settings.feed_buffer)
            except ValidationError as error:
                self.notify(
                    sanitize(str(error), max_len=400),
                    title="--feed",
                    severity="error",
                    markup=False,
                )
                continue
            await self.open_feed(spec, activate=False)

    # -- actions ---------------------------------------------------------------------------------

    def action_new_feed(self) -> None:
        subject = ""
        view = self.current
        if view is not None:
            subject = view.feed.spec.subject

        def opened(spec: FeedSpec | None) -> None:
            if spec is not None:
                self.run_worker(self.open_feed(spec), group="feeds-open", exit_on_error=False)

        self.app.push_screen(
            FeedDialog(subject=subject, buffer=self.host.settings.feed_buffer), opened
        )

    def action_publish(self) -> None:
        view = self.current
        subject = ""
        jetstream: bool | None = None
        if view is not None:
            spec = view.feed.spec
            wildcard = any(t in ("*", ">") for t in spec.subject.split("."))
            subject = spec.subject if not wildcard else ""
            if wildcard:
                message = view.log_widget.selected
                subject = message.subject if message is not None else ""
            jetstream = True if spec.is_jetstream else None
        self.app.push_screen(PublishScreen(subject=subject, jetstream=jetstream))

    def action_toggle_pause(self) -> None:
        view = self.current
        if view is not None:
            view.toggle_pause()

    def action_follow(self) -> None:
        view = self.current
        if view is not None:
            view.follow()

    def action_switch(self, delta: int) -> None:
        tabs = self.query_one("#feeds-tabs", TabbedContent)
        panes = [p.id for p in tabs.query(TabPane) if p.id]
        if len(panes) < 2 or tabs.active not in panes:
            return
        tabs.active = panes[(panes.index(tabs.active) + delta) % len(panes)]
        self.focus_pane()

    def action_close_feed(self) -> None:
        view = self.current
        if view is not None:
            self.run_worker(self.close_feed(view), group="feeds-close", exit_on_error=False)

    def action_detail(self) -> None:
        view = self.current
        if view is None:
            return
        message = view.log_widget.selected
        if message is None:
            self.notify("No message to show yet.", severity="warning")
            return
        view.pause("scrolled")
        self.app.push_screen(MessageDetailScreen(message, view.feed))

    def action_filter(self) -> None:
        view = self.current
        if view is None:
            return

        def chosen(flt: FeedFilter | None) -> None:
            if flt is not None and view.is_mounted:
                view.set_filter(flt)

        self.app.push_screen(FilterDialog(view.filter), chosen)

    def action_export(self) -> None:
        view = self.current
        if view is None:
            return
        self.app.push_screen(ExportDialog(view.feed, default_export_path(view.feed.spec)))

    def action_answer(self, kind: str) -> None:
        view = self.current
        if view is None:
            return
        if not view.feed.can_ack:
            self.notify(
                "Only consuming feeds acknowledge messages (open one with mode 'consuming').",
                severity="warning",
            )
            return
        message = view.log_widget.selected
        if message is None:
            return
        self.run_worker(
            self._answer(view, message, AckKind(kind)), group="feeds-ack", exit_on_error=False
        )

    async def _answer(self, view: FeedView, message: FeedMessage, kind: AckKind) -> None:
        try:
            await view.feed.acknowledge(message, kind)
        except JstuiError as error:
            self.notify(sanitize(str(error)), severity="error", markup=False)
            return
        view.log_widget.refresh()
        meta = message.meta
        seq = f" (stream sequence {meta.stream_seq})" if meta else ""
        self.notify(f"Message {ACK_MARKS[kind]}{seq}.", markup=False)

    def palette_commands(self) -> list[SystemCommand]:
        return [
            SystemCommand(
                "Feeds: new feed", "Subscribe to a subject or stream", self.action_new_feed
            ),
            SystemCommand("Feeds: publish", "Publish one message or many", self.action_publish),
            SystemCommand(
                "Feeds: pause / resume", "Hold the current feed still", self.action_toggle_pause
            ),
            SystemCommand("Feeds: filter", "Filter the current feed", self.action_filter),
            SystemCommand(
                "Feeds: export", "Write the current feed's buffer as NDJSON", self.action_export
            ),
            SystemCommand("Feeds: close feed", "Unsubscribe and close", self.action_close_feed),
        ]


def _tab_title(spec: FeedSpec) -> str:
    label = sanitize(spec.label, max_len=40)
    return label


def default_export_path(spec: FeedSpec) -> Path:
    """``./jstui-<subject>-<time>.ndjson`` with the subject made file-name safe."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in spec.subject)[:60]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path.cwd() / f"jstui-{safe or 'feed'}-{stamp}.ndjson"
