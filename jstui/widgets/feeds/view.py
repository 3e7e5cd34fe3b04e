"""`FeedView`: one feed in its tab — state line, counters and rate sparkline, column header, the
lines (`FeedLog`), and the "+N new" and filter bars.

Data flow: the pane's timer calls `tick()` on every view. Unless the view is paused, `tick` takes
at most a screenful plus a margin of the newest matching messages from the feed's ring buffer
(`Feed.take_new`), formats them (`jstui.format.lines`) and adds them to the `FeedLog` in one batch
(while more arrive per tick than a screen shows, only every `STATS_EVERY` ticks: the older ones
are counted as skipped in between, `Feed.skip_all_but`); every `STATS_EVERY` ticks it redraws the
counters (defined in docs/architecture.md, "Feed counters", and shown term by term), which change
only the widgets whose text changed. Moving the cursor up past the first line pages back through
the ring buffer (`Feed.older`): the messages skipped in a flood stay reachable. A new filter
re-accounts the buffer (`Feed.refilter`) and redraws. The view's state is reactive: `paused` sets
the `-paused` class and `filter` the `-filtered` class, and `styles/feeds.tcss` shows the "+N new"
bar and the filter bar from them; the filter bar is data-bound to `filter` and describes it.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import var
from textual.widgets import Sparkline, Static

from jstui.format.lines import format_line, head_width, header_line
from jstui.format.text import sanitize
from jstui.format.units import format_count, format_rate, format_size
from jstui.nats.errors import JstuiError
from jstui.nats.feeds.feed import Feed, FeedState
from jstui.nats.feeds.filter import NO_FILTER, FeedFilter
from jstui.nats.feeds.message import FeedMessage
from jstui.nats.session import ConnectionState
from jstui.widgets.feeds.log import LOG_LINES, FeedLog
from jstui.widgets.navigation import footer_settled

__all__ = ["FeedView"]

STATS_EVERY = 3
"""Counters and sparkline are redrawn every third tick (5 Hz at the pane's 15 Hz, about 3 Hz at
its flood rate); so are the lines while more arrive per tick than a screen shows (`tick`)."""
MARGIN_LINES = 20
"""Lines drawn per tick beyond what fits on screen, so a quick scroll up finds them."""
MIN_SUBJECT = 8
MAX_SUBJECT = 32
"""Bounds of the subject column; a wildcard feed widens it up to this as subjects arrive."""
MIN_PREVIEW = 16
"""Payload characters shown however narrow the view."""
START_AFTER_FRAMES = 2
"""Screen refreshes a new view waits for before its feed subscribes (see `on_mount`)."""
LAYOUT_WAIT_FRAMES = 20
"""More refreshes it waits for while its log is not laid out yet (a loaded machine) or the
footer's keys not recomposed; a view never laid out (hidden) subscribes after them all the
same."""
OLDER_BATCH = 200
"""Messages loaded from the ring buffer at a time when the cursor goes up past the first line."""
STATE_MARKS = {
    FeedState.WAITING: "\u25cc waiting",
    FeedState.STARTING: "\u25cb starting",
    FeedState.LIVE: "\u25cf live",
    FeedState.SUSPENDED: "\u25a0 suspended",
    FeedState.FAILED: "\u2716 failed",
    FeedState.CLOSED: "\u25cb closed",
}


class NewLinesBar(Static):
    """Says "+N new" under a paused view (shown by the view's `-paused` class); a click follows."""

    pending: var[int] = var(0)
    """Messages waiting in the ring buffer since the view paused."""

    def watch_pending(self, pending: int) -> None:
        # one line of fixed height: no layout needed when the text changes
        self.update(
            Text(f"\u25bc +{format_count(pending)} new \u00b7 End to follow the tail"), layout=False
        )


class FilterBar(Static):
    """The view's filter in words (shown by the view's `-filtered` class); bound to
    `FeedView.filter`."""

    filter: var[FeedFilter] = var(NO_FILTER)

    def watch_filter(self, flt: FeedFilter) -> None:
        self.update(
            Text(f"filter: {sanitize(flt.describe(), max_len=200)} \u00b7 / to change"),
            layout=False,
        )


class FeedView(Vertical):
    """One feed: its state and counters, a rate sparkline, the column header and the lines."""

    paused: var[bool] = var(False, toggle_class="-paused")
    """Holding still: nothing new is drawn, the buffer fills and the "+N new" bar shows."""
    pause_reason: var[str] = var("")
    """Why the view holds still: "paused" (the key) or "scrolled" (cursor, scroll, detail)."""
    filter: var[FeedFilter] = var(NO_FILTER, init=False)
    """Which messages are drawn (the subscription is unchanged); sets the `-filtered` class."""

    class Failed(Message):
        def __init__(self, view: FeedView, error: str) -> None:
            super().__init__()
            self.view = view
            self.error = error

    def __init__(self, feed: Feed, *, wait_for_stream: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, classes="feed-view")
        self.feed = feed
        self.wait_for_stream = wait_for_stream
        """A start-up feed: wait for its stream to appear instead of failing."""
        self.subject_width = self._initial_subject_width()
        self._ticks = 0
        self.closing = False
        """Set while the tab is being removed: the timer leaves the view alone."""
        # children are kept by reference: cheap to update, and no query can miss mid-removal
        self._log = FeedLog(feed, load_older=self._load_older, id="feed-log")
        self._acks_drawn = 0
        self._shown_info = self._info_text()
        self._shown_counts = self._counts_text()
        self._info = Static(self._shown_info, id="feed-info", markup=False)
        self._counts = Static(self._shown_counts, id="feed-counts", markup=False)
        self._spark = Sparkline(id="feed-spark")
        self._header = Static(self._header_text(), id="feed-header", markup=False)
        self._new_bar = NewLinesBar(id="feed-new", markup=False)
        self._filter_bar = FilterBar(id="feed-filter", markup=False)

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
        yield self._filter_bar.data_bind(FeedView.filter)

    def on_mount(self) -> None:
        # The feed subscribes once the tab is on screen: its first frames (the view laid out,
        # the footer's keys for the focused log, recomposed a frame or more later) come first.
        # Started at once, a JetStream feed draining a stream at 150k msgs/s held those frames
        # back, and drew them while it drained (benchmarks/js_feed.py: six full layouts of the
        # screen inside the drain); started before the footer's keys, their recompose and
        # layout (40-55 ms) came between the subscription and the first message.
        self._start_after_frames(START_AFTER_FRAMES)

    def _start_after_frames(self, frames: int) -> None:
        if self.closing or not self.is_attached:
            return  # closed before it started: nothing to subscribe
        built = self._log.size.height and footer_settled(self.screen)
        if frames > 0 or (frames > -LAYOUT_WAIT_FRAMES and not built):
            self.call_after_refresh(self._start_after_frames, frames - 1)
            return
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
            await self.feed.run(wait_for_stream=self.wait_for_stream)
        except JstuiError as error:
            self.post_message(self.Failed(self, str(error)))

    @property
    def log_widget(self) -> FeedLog:
        return self._log

    def watch_filter(self, flt: FeedFilter) -> None:
        self.set_class(flt.active, "-filtered")

    # -- the timer ------------------------------------------------------------------------------

    def tick(self, *, stats: bool = False) -> None:
        """Draw what arrived (unless paused); refresh counters every few ticks, or now (`stats`:
        the pane's once-a-second tick while the feed is quiet)."""
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
        due = self._ticks % STATS_EVERY == 0
        self._ticks += 1
        if not self.paused:
            limit = (log.scrollable_content_region.height or 40) + MARGIN_LINES
            if not (due or stats) and feed.pending > limit and not self.filter.active:
                # A backlog (a drain, a flood): more arrived than a screen shows, and the lines
                # go by too fast to read. Draw it at the rate of the counters, not of the tick:
                # each frame costs a render, a layout of the log and the garbage it leaves. The
                # older ones are accounted now (skipped, as a draw would count them), so the
                # ring buffer never overwrites more than before; the newest screenful waits.
                feed.skip_all_but(limit)
                return
            messages = feed.take_new(limit, self.filter)
            if messages:
                self._write(messages)
            elif log.scroll_offset.y < log.max_scroll_y:
                # a write made while the screen was not laid out (a dialog on top) left the
                # view short of the tail: following means showing the newest line
                log.scroll_end(animate=False, immediate=True, x_axis=False)
        if stats or due:
            self.refresh_stats()

    def _preview_width(self) -> int:
        width = self.log_widget.scrollable_content_region.width or 80
        return max(MIN_PREVIEW, width - head_width(self.subject_width, self.jetstream))

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
        messages = self.feed.refilter(self.filter, LOG_LINES)
        if messages:
            self._write(messages)
        log.scroll_end(animate=False, x_axis=False)

    def _redraw_tail(self) -> None:
        """Rebuild the lines from the newest accounted messages, counters untouched (the log
        dropped its newest lines to make room for older ones)."""
        log = self.log_widget
        log.reset()
        messages = self.feed.older(self.feed.count + 1, self.filter, LOG_LINES)
        if messages:
            self._write(messages)

    def _load_older(self) -> int:
        """Put up to `OLDER_BATCH` older buffered messages above the first line; how many."""
        log = self.log_widget
        first = log.message_at(0)
        before = first.index if first is not None else self.feed.count + 1
        messages = self.feed.older(before, self.filter, OLDER_BATCH)
        if not messages:
            return 0
        width = self.subject_width
        preview = self._preview_width()
        lines: list[str] = []
        refs: list[tuple[FeedMessage, int, int]] = []
        for message in messages:
            line, payload_start = format_line(message, width, preview, self.jetstream)
            lines.append(line)
            refs.append((message, width, payload_start))
        return log.prepend(lines, refs)

    # -- pause and follow ---------------------------------------------------------------------

    def pause(self, reason: str = "paused") -> None:
        if not self.paused:
            self.pause_reason = reason
            self.paused = True
            self.refresh_stats()

    def follow(self) -> None:
        """Back to the tail: draw the newest messages and follow again."""
        self.paused = False
        self.pause_reason = ""
        log = self.log_widget
        log.clear_cursor()
        if log.trimmed_tail:
            self._redraw_tail()
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
        label = STATE_MARKS[state]
        outage = feed.outage_text() if state is FeedState.LIVE else ""
        if state is FeedState.LIVE and feed.leaderless_since is not None:
            # its stream has no leader: nothing stored can come; the mark says "waiting" once
            label, outage = "\u25cc waiting", outage.removesuffix(": waiting")
        elif feed.interrupted:
            connected = feed.session.status.state is ConnectionState.CONNECTED
            label = "\u25cc resuming" if connected else "\u25cc reconnecting"
        elif state is FeedState.LIVE and self.paused:
            label = "\u2016 paused" if self.pause_reason == "paused" else "\u2016 held (scrolled)"
        text = Text(label, style="bold")
        text.append("  ")
        if outage:  # first: the rest of the line is what it always says
            text.append(outage, style="bold")
            text.append(" \u00b7 ")
        if state is FeedState.FAILED:
            detail = feed.error
        elif state is FeedState.SUSPENDED:
            detail = f"{suspension_text(feed)} \u00b7 {feed.describe()}"
        elif state is FeedState.WAITING:
            # the mark says "waiting": "waiting  for a stream on X", not "waiting  waiting ..."
            detail = f"{feed.waiting.removeprefix('waiting ')} \u00b7 {feed.describe()}"
        else:
            detail = feed.describe()
        text.append(sanitize(detail, max_len=300))
        for note in feed.notes:
            text.append(f" \u00b7 {sanitize(note, max_len=200)}")
        if feed.error and state is not FeedState.FAILED:
            text.append(f" \u00b7 {sanitize(feed.error, max_len=200)}")
        return text

    def _counts_text(self) -> Text:
        """The counters' line."""
        # received = shown + filtered + skipped + dropped + pending (docs/architecture.md), term
        # by term; only a zero term is left out (filtered with no filter, new while following)
        c = self.feed.counts()
        text = Text()
        terms = [("recv ", c.received), ("  shown ", c.shown)]
        if c.filtered or self.filter.active:
            terms.append(("  filtered ", c.filtered))
        terms += [("  skipped ", c.skipped), ("  dropped ", c.dropped)]
        if c.pending or self.paused:
            terms.append(("  new ", c.pending))
        for label, value in terms:
            text.append(label)
            number = format_count(value)
            text.append(number, style="bold")
            if label == "  dropped " and c.dropped:
                lost = [f"{format_count(c.slow)} slow"] if c.slow else []
                lost += [f"{format_count(c.overwritten)} overwritten"] if c.overwritten else []
                text.append(f" ({', '.join(lost)})")
        meter = self.feed.meter
        text.append(f"  {format_rate(meter.rate())} {format_size(meter.byte_rate())}/s")
        return text

    def _header_text(self) -> Text:
        return Text(header_line(self.subject_width, self.jetstream))

    def refresh_stats(self) -> None:
        if self.closing or not self._log.is_mounted:
            return
        # Static.update lays out the whole screen by default, five times a second here; none of
        # these lines changes its box (the counters' width comes from the styles).
        info = self._info_text()
        if info != self._shown_info:
            self._shown_info = info
            self._info.update(info, layout=False)
            suspended = self.feed.state is FeedState.SUSPENDED
            if suspended != self.has_class("-suspended"):
                # a suspended feed's line wraps (styles/feeds.tcss) and the footer offers R;
                # only then: new bindings rebuild the footer, a layout of the whole screen
                self.set_class(suspended, "-suspended")
                self.refresh_bindings()
        # The counters' box has its width from the styles (what the sparkline leaves), not from
        # the text: numbers growing through a drain never lay out the screen.
        counts = self._counts_text()
        if counts != self._shown_counts:
            self._shown_counts = counts
            self._counts.update(counts, layout=False)
        self._spark.data = self.feed.meter.history()  # repaints only when a value changed
        if self.paused:
            self._new_bar.pending = self.feed.pending

    @on(FeedLog.Interacted)
    def _held(self, event: FeedLog.Interacted) -> None:
        event.stop()
        self.pause("scrolled")

    @on(events.Click, "#feed-new")
    def _clicked_new(self) -> None:
        self.follow()


def suspension_text(feed: Feed) -> str:
    """Why a suspended feed receives nothing, and since when (saturation.py decided it)."""
    suspension = feed.suspended
    if suspension is None:
        return "R to resume"
    since = datetime.fromtimestamp(suspension.since).strftime("%H:%M:%S")
    rate = suspension.rate
    about = f"{rate / 1000:,.0f}k" if rate >= 1000 else f"{rate:,.0f}"  # an estimate: no digits
    return (
        f"not received since {since}: over {about} msgs/s is more than this connection can "
        f"carry (at least {suspension.lag:.1f} s behind) \u00b7 R to resume"
    )
