"""`FeedsPane`: the Feeds pane — one tab per feed, the keys, and the dialogs they open.

Data flow (design.md, "Data flow of a live message"): nats-py appends each message to the feed's
ring buffer (`jstui.nats.feeds.Feed`); the pane's one timer (15 Hz) calls `FeedView.tick` on every
view, which draws at most a screenful plus a margin of the newest messages in one batch. Quiet
feeds need no 15 Hz: after a second with nothing new the timer drops to a cheap look at the
feeds' counters 4 times a second (`_look`), which goes back to 15 Hz on the first new message;
meanwhile the views tick once a second, for the decaying rates and the sparkline. With no feed
open there is no timer at all. The pane turns keys into calls on the current view (pause, follow,
filter) or its feed (acknowledge), and opens the dialogs (subscribe, publish, filter, export,
message detail) with the feed they act on; what a dialog returns comes back through its callback.
Failures the user caused are reported with `Pane.report_error`.
"""

from __future__ import annotations

import time
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widgets import Static, TabbedContent, TabPane

from jstui.format.text import sanitize
from jstui.nats.feeds.feed import Feed, FeedState, choose_mode
from jstui.nats.feeds.filter import FeedFilter
from jstui.nats.feeds.message import AckKind, FeedMessage
from jstui.nats.feeds.spec import FeedSpec, parse_feed_option
from jstui.nats.session import ConnectionState, ConnectionStatus
from jstui.widgets.base import Pane, PeriodicPoll
from jstui.widgets.feeds.log import FeedLog
from jstui.widgets.feeds.view import FeedView

__all__ = ["FeedsPane", "default_export_path"]

TICK_SECONDS = 1 / 15
"""Redraw rate of the feeds (10-20 Hz: smooth, and cheap because each tick is one batch)."""
FLOOD_TICK_SECONDS = 1 / 8
"""Tick rate while the feeds receive more than FLOOD_RATE. Such a flood is a backlog, whose log
and counters are drawn every third tick (`FeedView.tick`): about 3 Hz here, 5 Hz at 15 Hz. Lines
scroll by unread at either rate, and every frame (7-12 ms) is time not spent reading: ticking
at 8 Hz throughout, the 16 B ingest took 0.83-0.86 of a bare subscriber's rate, against
0.77-0.81 at 15 Hz (`feed_ingest.py --only ingest`, alternated); switched by rate as here, the
JetStream drain (`js_feed.py`) took 0.78-0.80 against 0.75-0.76."""
FLOOD_RATE = 20_000.0
"""Messages a second (all feeds together) from which the pane ticks at the flood rate, until
they fall below FLOOD_CALM_RATE."""
FLOOD_CALM_RATE = 10_000.0
QUIET_AFTER_SECONDS = 1.0
"""With nothing new for this long, the feeds are quiet and the timer slows down."""
QUIET_LOOK_SECONDS = 1.0
"""While quiet, how often the views tick anyway (rates decay, the sparkline moves on, a state
change shows). The first new message does not wait for it: it wakes the pane itself
(`Feed.wake_on_message`), so an idle jstui is not woken several times a second for nothing."""
ACK_MARKS = {AckKind.ACK: "acked", AckKind.NAK: "nak'd", AckKind.TERM: "terminated"}


class FeedsEmpty(Static, can_focus=True):
    """Shown while no feed is open; focusable so the pane's keys work."""


EMPTY_TEXT = (
    "No feed open.\n\n"
    "n  subscribe to a subject (core, or a JetStream stream)\n"
    "p  publish a message, or many\n\n"
    "Start-up feeds: jstui --feed SUBJECT[,core|js|consume,...]\n"
    "(no mode: JetStream when a stream captures SUBJECT, else core)"
)


class FeedsPane(Pane):
    PANE_TITLE = "Feeds"
    PANE_HELP = (
        "Live messages, one tab per feed. A core feed subscribes to a subject (wildcards * and >, "
        "optionally in a queue group). A JetStream feed reads the stream that captures the "
        "subject through an ordered consumer and never consumes; on work-queue and interest "
        "streams it reads stored messages by sequence, so they stay as they are. A consuming "
        "feed uses a durable (or ephemeral) consumer with explicit acks: ack, nak or terminate "
        "the selected message (this removes messages from work-queue streams).\n\n"
        "Each line: arrival time (JetStream: when it was stored, as MM-DD HH:MM on an earlier "
        "day), subject, stream/consumer sequence for JetStream (*N = delivered N times), size, "
        "header count (hN) and the start of the payload, with control characters made visible. "
        "The counters add up: recv = shown + filtered + skipped + dropped + new. Filtered: did "
        "not pass the view's filter. Skipped: more arrived at once than a screen shows; they are "
        "in the ring buffer, and moving the cursor up past the first line (Up, PageUp) brings "
        "them back. Dropped: really lost, either thrown away by the client past a JetStream "
        "feed's pending limit (slow) or overwritten in the ring buffer while the view was paused."
        " New: waiting while paused. A new filter counts the buffer again. The sparkline is "
        "messages per second over the last minute.\n\n"
        "Moving the cursor or scrolling up holds the view still and counts '+N new'; End goes "
        "back to the tail. Enter opens a message: metadata, headers, payload as text, JSON or "
        "hex, copy, publish again. / filters by subject pattern and payload regex without "
        "unsubscribing; e exports what the filter shows, or the whole buffer, as NDJSON.\n\n"
        "A core feed that receives more than the connection can carry (its replies and the other "
        "feeds would queue behind it for seconds) is suspended: unsubscribed at the server, so "
        "nothing more is received or counted. Its state line says since when and how fast it "
        "came; R subscribes again."
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
        Binding("R", "resume_feed", "Resume", key_display="R", priority=True),
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
    CHANGING_ACTIONS = frozenset({"publish", "answer"})

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._started_feeds = False
        self._timer: Timer | None = None
        self._busy = True
        self._seen_activity: tuple[object, ...] = ()
        self._drawn_still: tuple[str, ...] | None = None
        """What the last quiet tick drew when nothing moved any more (`_still`)."""
        self._active_at = 0.0
        self._flooding = False
        """Ticking at FLOOD_TICK_SECONDS: the feeds receive a flood."""
        self._counted = 0
        self._counted_at = 0.0
        """The feeds' messages received in all at the last busy tick, and when (their rate)."""
        self._ticked: list[FeedView] = []
        """The views the timer ticks, kept here: a DOM query four times a second would cost
        more than the rest of an idle tick."""
        self._next_id = 0

    def compose(self) -> ComposeResult:
        yield FeedsEmpty(EMPTY_TEXT, id="feeds-empty", markup=False)
        yield TabbedContent(id="feeds-tabs")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#feeds-tabs").display = False
        self._pace(busy=True)

    def _pace(self, *, busy: bool, flooding: bool = False) -> None:
        """Run the timer at 15 Hz (`busy`; 8 Hz `flooding`) or at the quiet rate (none while no
        feed is open)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._busy = busy
        self._flooding = busy and flooding
        self._drawn_still = None
        for view in self._ticked:  # quiet: the next message says so; busy: the timer looks
            view.feed.wake_on_message = None if busy else self._message_came
        if not busy and not self._ticked:
            return
        period = FLOOD_TICK_SECONDS if self._flooding else TICK_SECONDS
        self._timer = self.set_interval(
            period if busy else QUIET_LOOK_SECONDS, self._tick if busy else self._look
        )

    def _message_came(self) -> None:
        """A quiet feed received a message (called from its hot path: only schedule the look)."""
        if not self._busy:
            self.call_next(self._look)

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

    def _activity(self) -> tuple[object, ...]:
        """What a view's tick would draw or count, in short: unchanged means nothing to do."""
        return tuple(
            (view.feed.count, view.feed.state, view.feed.acks_sent, view.feed.error, view.paused)
            for view in self._ticked
        )

    def _tick(self, *, stats: bool = False) -> None:
        """The busy timer: every view draws what arrived (`stats`: and redraws its counters);
        a quiet second slows the timer down."""
        # A hidden pane ticks too: its views account for what arrives (shown, skipped) as it
        # comes; left for later, a flood would push messages out of the ring buffer unaccounted
        # and they would count as dropped. Quiet, a tick draws nothing anyway.
        for view in self._ticked:
            view.tick(stats=stats)
        activity = self._activity()
        now = time.monotonic()
        if activity != self._seen_activity:
            self._seen_activity = activity
            self._active_at = now
        elif self._busy and now - self._active_at >= QUIET_AFTER_SECONDS:
            self._pace(busy=False)
            return
        if self._busy:
            self._follow_rate(now)

    def _follow_rate(self, now: float) -> None:
        """Tick at the flood rate while the feeds receive a flood, at 15 Hz again once it ebbs."""
        total = sum(view.feed.count for view in self._ticked)
        elapsed = now - self._counted_at
        rate = (total - self._counted) / elapsed if elapsed > 0 else 0.0
        self._counted, self._counted_at = total, now
        flooding = rate >= (FLOOD_CALM_RATE if self._flooding else FLOOD_RATE)
        if flooding != self._flooding:
            self._pace(busy=True, flooding=flooding)

    def _look(self) -> None:
        """The quiet timer, or a quiet feed's first message: back to 15 Hz at once when anything
        moved, else tick (once a second)."""
        if self._busy:
            return  # a message's wake that came after the pane woke up already
        activity = self._activity()
        if activity != self._seen_activity:
            self._seen_activity = activity
            self._active_at = time.monotonic()
            self._pace(busy=True)
            self._tick()
            # Messages after a quiet spell: the polls that slowed down while nothing changed
            # (the Streams list's counts, the status line's usage) look again at their base pace.
            PeriodicPoll.hurry_all()
            return
        still = self._still()
        if still is not None and still == self._drawn_still:
            return  # the last tick drew this already: nothing on screen would change
        self._tick(stats=True)
        self._drawn_still = still

    def _still(self) -> tuple[str, ...] | None:
        """None while a rate or sparkline is still moving (a message in the last minute); else
        what the views say of the connection, the one thing that can still change them."""
        if any(any(view.feed.meter.history()) for view in self._ticked):
            return None
        return tuple(view.feed.outage_text() for view in self._ticked)

    async def open_feed(
        self, spec: FeedSpec, *, activate: bool = True, wait_for_stream: bool = False
    ) -> FeedView:
        """Open a feed in a new tab (the current one unless `activate` is False). A start-up
        feed (`wait_for_stream`) whose stream does not exist yet waits for it in its tab."""
        feed = Feed(self.session, spec)
        self._next_id += 1
        pane_id = f"feed-tab-{self._next_id}"
        view = FeedView(feed, wait_for_stream=wait_for_stream)
        tabs = self.query_one("#feeds-tabs", TabbedContent)
        tabs.display = True
        self.query_one("#feeds-empty").display = False
        await tabs.add_pane(TabPane(Content(_tab_title(spec)), view, id=pane_id))
        self._ticked.append(view)
        if self._timer is None or not self._busy:
            self._pace(busy=True)  # a new feed is news; when quiet again, all of them wake it
        if activate or len(self.views) == 1:
            tabs.active = pane_id
            if self.screen.focused is None or self in self.screen.focused.ancestors_with_self:
                view.log_widget.focus()
        return view

    async def close_feed(self, view: FeedView) -> None:
        tabs = self.query_one("#feeds-tabs", TabbedContent)
        try:
            pane = view.query_ancestor(TabPane)
        except NoMatches:
            return  # already removed (x pressed twice before the first close finished)
        if pane.id is None:
            return
        view.closing = True
        if view in self._ticked:
            self._ticked.remove(view)
        view.feed.wake_on_message = None
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
        self.report_error(f"{event.view.feed.spec.label}: {event.error}", title="Feed failed")

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
        for view in self.views:  # "reconnecting", "resuming", a core feed's gap: said at once
            view.refresh_stats()
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
        specs: list[FeedSpec] = []
        for raw in settings.feeds:
            with self.reporting_errors(title="--feed"):
                specs.append(parse_feed_option(raw, buffer=settings.feed_buffer))
        for spec in specs:
            # a bare --feed SUBJECT: JetStream when a stream captures it, else core
            settled = await choose_mode(self.session, spec)
            await self.open_feed(settled, activate=False, wait_for_stream=True)

    # -- actions ---------------------------------------------------------------------------------

    def action_new_feed(self) -> None:
        from jstui.dialogs.feed_dialog import FeedDialog  # on first use (start-up)

        subject = ""
        view = self.current
        if view is not None:
            subject = view.feed.spec.subject
        self.app.push_screen(
            FeedDialog(self.session, subject=subject, buffer=self.host.settings.feed_buffer),
            self._subscribe,
        )

    def _subscribe(self, spec: FeedSpec | None) -> None:
        """The subscribe dialog closed: open what it returned."""
        if spec is not None:
            self.run_worker(self.open_feed(spec), group="feeds-open", exit_on_error=False)

    def action_publish(self) -> None:
        from jstui.dialogs.publish import PublishScreen  # on first use (start-up)

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
        self.app.push_screen(PublishScreen(self.session, subject=subject, jetstream=jetstream))

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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "resume_feed":  # shown in the footer only while it can do something
            view = self.current
            return view is not None and view.feed.state is FeedState.SUSPENDED
        return super().check_action(action, parameters)

    def action_resume_feed(self) -> None:
        view = self.current
        if view is not None and view.feed.state is FeedState.SUSPENDED:
            self.run_worker(self._resume(view), group="feeds-resume", exit_on_error=False)

    async def _resume(self, view: FeedView) -> None:
        with self.reporting_errors(title="Resume"):
            await view.feed.resume()
        view.refresh_stats()
        self.refresh_bindings()

    def action_detail(self) -> None:
        from jstui.dialogs.message_detail import MessageDetailScreen

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
        from jstui.dialogs.feed_dialog import FilterDialog  # on first use (start-up)

        view = self.current
        if view is None:
            return
        self.app.push_screen(FilterDialog(view.filter), partial(self._filter_chosen, view))

    @staticmethod
    def _filter_chosen(view: FeedView, flt: FeedFilter | None) -> None:
        """The filter dialog closed: filter the view it was opened on, if that is still open."""
        if flt is not None and view.is_mounted:
            view.set_filter(flt)

    def action_export(self) -> None:
        from jstui.dialogs.feed_dialog import ExportDialog  # on first use (start-up)

        view = self.current
        if view is None:
            return
        self.app.push_screen(
            ExportDialog(view.feed, default_export_path(view.feed.spec), view.filter)
        )

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
        with self.reporting_errors():
            await view.feed.acknowledge(message, kind)
            view.log_widget.refresh()
            meta = message.meta
            seq = f" (stream sequence {meta.stream_seq})" if meta else ""
            self.notify(f"Message {ACK_MARKS[kind]}{seq}.", markup=False)

    def palette_commands(self) -> list[SystemCommand]:
        return self.offered(
            [
                (
                    "new_feed",
                    self.palette_command(
                        "Feeds: new feed", "Subscribe to a subject or stream", self.action_new_feed
                    ),
                ),
                (
                    "publish",
                    self.palette_command(
                        "Feeds: publish", "Publish one message or many", self.action_publish
                    ),
                ),
                (
                    "toggle_pause",
                    self.palette_command(
                        "Feeds: pause / resume",
                        "Hold the current feed still",
                        self.action_toggle_pause,
                    ),
                ),
                (
                    "filter",
                    self.palette_command(
                        "Feeds: filter", "Filter the current feed", self.action_filter
                    ),
                ),
                (
                    "export",
                    self.palette_command(
                        "Feeds: export",
                        "Write what the current feed shows, or its buffer, as NDJSON",
                        self.action_export,
                    ),
                ),
                (
                    "close_feed",
                    self.palette_command(
                        "Feeds: close feed", "Unsubscribe and close", self.action_close_feed
                    ),
                ),
            ]
        )


def _tab_title(spec: FeedSpec) -> str:
    label = sanitize(spec.label, max_len=40)
    return label


def default_export_path(spec: FeedSpec) -> Path:
    """``./jstui-<subject>-<time>.ndjson`` with the subject made file-name safe."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in spec.subject)[:60]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path.cwd() / f"jstui-{safe or 'feed'}-{stamp}.ndjson"
