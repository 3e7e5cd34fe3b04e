"""The Feeds pane under a backlog (a drain, a flood), driven by hand so that no timing is involved:
what a tick draws and counts, and that growing counters and lines lay nothing out.

The pane's timer is stopped in each test and the view's `tick` called directly, with the view's
tick count set to say whether it is the counters' tick (every `STATS_EVERY`-th).
"""

from __future__ import annotations

from typing import Any

import pytest
from nats.aio.client import Client
from textual.pilot import Pilot

from jstui.app import JstuiApp
from jstui.nats.feeds.feed import Feed
from jstui.nats.feeds.spec import FeedSpec
from jstui.widgets.feeds import FeedView
from jstui.widgets.navigation import KeysFooter
from tests.app.conftest import AppFactory, count_layouts, wait_connected, wait_until
from tests.app.test_feeds_pane import BIG, open_feed, pane


async def held_feed(pilot: Pilot[Any], subject: str) -> FeedView:
    """Open a core feed on `subject` and stop the pane's timer: the ticks are the test's."""
    await wait_connected(pilot)
    view = await open_feed(pilot, subject)
    assert isinstance(pilot.app, JstuiApp)
    timer = pane(pilot.app)._timer
    assert timer is not None
    timer.stop()
    await pilot.pause()
    return view


async def test_a_backlog_is_drawn_at_the_counters_rate_and_counted_as_it_comes(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    """More than a screen per tick (a drain, a flood) is drawn every STATS_EVERY ticks, not on
    every one; in between the older messages are accounted as skipped, so the ring buffer never
    overwrites more than before, and the newest screenful is what the next draw shows. The
    view's ticks are driven by hand (the pane's timer held) so that no timing is involved."""
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        view = await held_feed(pilot, f"{unique}.backlog")
        log = view.log_widget
        drawn = len(log.refs)
        for i in range(1, 1001):
            await nc.publish(f"{unique}.backlog", f"n{i}".encode())
        await nc.flush()
        await wait_until(pilot, lambda: view.feed.count == 1000, what="1000 received")
        limit = log.scrollable_content_region.height + 20  # MARGIN_LINES
        view._ticks = 1  # not the counters' tick
        view.tick()
        c = view.feed.counts()
        assert len(log.refs) == drawn, "a backlog is not drawn between the counters' ticks"
        assert (c.pending, c.skipped) == (limit, 1000 - limit)
        assert c.received == c.accounted == 1000
        view.tick()  # nothing more came: the flood is over, its newest screenful is drawn now
        c = view.feed.counts()
        assert c.pending == 0 and c.shown == limit and c.received == c.accounted
        newest = log.message_at(len(log.refs) - 1)
        assert newest is not None and newest.data == b"n1000"
        for i in range(1001, 2001):
            await nc.publish(f"{unique}.backlog", f"n{i}".encode())
        await nc.flush()
        await wait_until(pilot, lambda: view.feed.count == 2000, what="2000 received")
        view._ticks = 3  # the counters' tick draws a backlog
        view.tick()
        c = view.feed.counts()
        assert c.pending == 0 and c.shown == 2 * limit and c.received == c.accounted
        newest = log.message_at(len(log.refs) - 1)
        assert newest is not None and newest.data == b"n2000"
        # a trickle (less than a screen) is drawn on every tick
        await nc.publish(f"{unique}.backlog", b"one more")
        await nc.flush()
        await wait_until(pilot, lambda: view.feed.count == 2001, what="one more")
        view.tick()
        newest = log.message_at(len(log.refs) - 1)
        assert newest is not None and newest.data == b"one more"
        pane(app)._pace(busy=True)


async def test_a_backlog_drawn_into_the_view_lays_nothing_out(
    make_app: AppFactory, nc: Client, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A layout reflows the whole screen (~10 ms on the dashboard). The counters' box has its
    width from the styles and the log always has its scrollbar, so neither growing numbers nor
    the first screenful of lines lays anything out: three in a row at a drain's start before
    (benchmarks/js_feed.py). The counters show whole at this size, and the sparkline keeps its
    place beside them."""
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        view = await held_feed(pilot, f"{unique}.grow")
        counts = view.query_one("#feed-counts")
        spark = view.query_one("#feed-spark")
        boxes = (counts.region, spark.region)
        layouts = count_layouts(monkeypatch, view)
        sent = 0
        for total in (1, 100, 1000, 10_000):
            for i in range(sent, total):
                await nc.publish(f"{unique}.grow", f"n{i}".encode())
            sent = total
            await nc.flush()
            await wait_until(pilot, lambda total=total: view.feed.count == total, what="received")
            view._ticks = 0  # the counters' tick
            view.tick()
            await pilot.pause()
            assert f"recv {total:,}" in str(counts.render())
        assert layouts == []
        assert (counts.region, spark.region) == boxes
        assert view.log_widget.max_scroll_y > 0  # the lines outgrew the screen
        text = view.query_one("#feed-counts").render()
        assert "skipped" in str(text) and "dropped" in str(text) and "\u2026" not in str(text)
        pane(app)._pace(busy=True)


async def test_a_feed_subscribes_once_its_tab_is_drawn(
    make_app: AppFactory, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tab's first frames (the view laid out, the footer's keys for its focused log) come
    before the subscription: a stream drained at full speed held them back, and paid for them
    (the footer's recompose and layout, 40-55 ms, landed between the subscription and the first
    message). The footer says it is not settled for its first few looks, as on a loaded machine
    where its recompose takes frames more. The call is watched on the class, from before the
    feed opens: the start can come before `open_feed` returns."""
    app = make_app()
    heights: list[int] = []
    footer_keys: list[list[str]] = []
    looked: list[list[bool]] = []
    start = Feed.start

    async def start_when_drawn(feed: Feed, **options: Any) -> None:
        views = [view for view in app.query(FeedView) if view.feed is feed]
        heights.append(views[0].log_widget.size.height if views else 0)
        footer = app.screen.query_one(KeysFooter)
        footer_keys.append([str(getattr(key, "description", "")) for key in footer.children])
        looked.append(list(looks))
        await start(feed, **options)

    settled = KeysFooter.settled.fget
    assert settled is not None
    looks: list[bool] = []

    def settled_late(footer: KeysFooter) -> bool:
        looks.append(len(looks) >= 3 and settled(footer))
        return looks[-1]

    monkeypatch.setattr(Feed, "start", start_when_drawn)
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        await pilot.press("2")
        monkeypatch.setattr(KeysFooter, "settled", property(settled_late))
        feeds = pane(app)
        view = await feeds.open_feed(FeedSpec.create(f"{unique}.drawn", "core"))
        await wait_until(pilot, lambda: view.feed.state.value == "live", what="feed live")
        assert heights, "the feed had subscribed before its tab was drawn"
        assert heights[0] > 0, "the log was not laid out yet"
        assert app.app_focus  # (else Textual's footer would not recompose at all)
        assert looked[0][-1] and len(looked[0]) > 3, looked  # it waited for the footer
        assert "Detail" in footer_keys[0], footer_keys  # the focused log's Enter key
