"""Idle means idle: once started and settled, an app that receives nothing draws nothing.

No timing here (benchmarks/idle.py measures the CPU): the guard counts what the app asks its
driver to write. Every frame Textual puts on the terminal goes through `App._display(screen,
update)` with a renderable update (`Screen._compositor_refresh`); headless, `_display` writes
nothing but is called all the same, so counting its calls with an update counts the frames a real
terminal would get. A redraw of unchanged content (a `Static.update` with the same text, a layout
refresh) still makes a frame, so this catches it; what merely ticks without drawing does not.

The clocks stand still (`Clocks`, as in the snapshot tests), so ages, rates and the RTT in the
status line do not change: any frame is a redraw of what did not change.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import StreamConfig
from rich.console import RenderableType
from textual.pilot import Pilot
from textual.screen import Screen

from jstui.app import JstuiApp
from jstui.config import Settings
from jstui.nats.embedded import EmbeddedServer
from jstui.nats.feeds.feed import FeedState
from jstui.nats.session import Clocks
from jstui.widgets.base import PeriodicPoll
from jstui.widgets.events import EventsPane
from jstui.widgets.feeds import FeedsPane
from jstui.widgets.feeds.pane import FLOOD_RATE, FLOOD_TICK_SECONDS
from jstui.widgets.feeds.view import FeedView
from jstui.widgets.streams import StreamsPane
from jstui.widgets.workers import WorkersPane
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until

SETTLE_SECONDS = 3.0
"""Start-up over: the first polls answered, the feed's timer slowed down (after a quiet second)."""
WATCH_SECONDS = 4.0
"""Longer than every poll's base period (streams 1 s, status 2 s, groups 3 s)."""


class FrameCounter:
    """Wraps the app's `_display` and counts the frames it is handed."""

    def __init__(self, app: JstuiApp) -> None:
        self.frames = 0
        self._display = app._display
        app._display = self._count  # type: ignore[method-assign]  # the one hook Textual has

    def _count(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        if renderable is not None:
            self.frames += 1
        self._display(screen, renderable)


@pytest.fixture
def idle_url(fresh_server: EmbeddedServer) -> str:
    """A server of the test's own: the dashboard shows the whole server (its figures, every
    stream), and what earlier tests left behind on the shared one (a stream still being
    written or cleaned up) changed the picture now and then, a frame the app rightly drew."""
    return fresh_server.url


@pytest.fixture
async def tutorial_stream(idle_url: str) -> AsyncIterator[str]:
    """A stream like the tutorial's (`idle.subject.*` here), empty; removed after the test."""
    name = "idle_stream"
    nc = await nats.connect(idle_url)
    jsm = nc.jsm()
    await jsm.add_stream(StreamConfig(name=name, subjects=["idle.subject.*"]))
    yield name
    await jsm.delete_stream(name)
    await nc.close()


@pytest.mark.parametrize(
    "start_pane",
    [
        pytest.param(None, id="grid"),
        pytest.param("feeds", id="feeds-maximized"),
    ],
)
async def test_an_idle_dashboard_draws_nothing(
    idle_url: str, tutorial_stream: str, start_pane: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped = Clocks(wall=lambda: 1_717_243_200.0, monotonic=lambda: 1_000_000.0)
    settings = Settings(servers=(idle_url,), feeds=("idle.subject.*,js",), start_pane=start_pane)
    app = JstuiApp(settings, clocks=stopped)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        feeds = app.dashboard.query_one(FeedsPane)
        await wait_until(
            pilot,
            lambda: feeds.views and feeds.views[0].feed.state is FeedState.LIVE,
            what="the feed live",
        )
        shows = tutorial_stream if start_pane is None else "stream idle_stream"
        await wait_until(pilot, lambda: shows in screen_text(app), what="the stream")
        await asyncio.sleep(SETTLE_SECONDS)
        counter = FrameCounter(app)
        await asyncio.sleep(WATCH_SECONDS)
        assert counter.frames == 0, f"{counter.frames} frames drawn while nothing changed"
        # Unchanged answers slowed the polls down (`PeriodicPoll`)...
        polls = [app.dashboard.status_poll]
        if start_pane is None:
            streams = app.dashboard.query_one(StreamsPane)
            polls += [streams._poll, streams._consumer_poll]
        for poll in polls:
            assert poll is not None and poll.period > poll.seconds, poll
        if start_pane is None:
            # ...and a key brings them back to their base period (each runs soon, then slows
            # again). Keys bound with priority (the feed log's) never reach the screen.
            hurried: list[PeriodicPoll] = []
            monkeypatch.setattr(PeriodicPoll, "hurry", lambda poll: hurried.append(poll))
            await pilot.press("down")
            await wait_until(pilot, lambda: set(polls) <= set(hurried), what="the polls hurried")


@contextlib.asynccontextmanager
async def one_core_feed(
    make_app: AppFactory, subject: str
) -> AsyncIterator[tuple[Pilot[Any], FeedsPane, FeedView]]:
    """The app running with one core feed on `subject`: its pilot, the Feeds pane, the view."""
    app = make_app(feeds=(f"{subject},core",))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        feeds = app.dashboard.query_one(FeedsPane)
        await wait_until(pilot, lambda: feeds.views, what="the feed")
        yield pilot, feeds, feeds.views[0]


async def test_a_quiet_feed_slows_its_timer_and_wakes_on_the_first_message(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    subject = f"{unique}.quiet"
    async with one_core_feed(make_app, subject) as (pilot, feeds, view):
        await wait_until(pilot, lambda: not feeds._busy, what="the quiet pace")
        await nc.publish(subject, b"first after a quiet while")
        await nc.flush()
        await wait_until(pilot, lambda: view.feed.count == 1, what="the message received")
        await wait_until(
            pilot,
            lambda: "first after a quiet while" in screen_text(pilot.app),
            what="it drawn",
        )
        assert feeds._busy  # back at 15 Hz while messages may follow
        await wait_until(pilot, lambda: not feeds._busy, what="quiet again")


async def test_a_flood_is_ticked_less_often_until_it_ebbs(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    """Past FLOOD_RATE the feeds tick at the flood rate (each frame is time not spent reading);
    once the flood is over, at 15 Hz again and then at the quiet pace."""
    subject = f"{unique}.flood"
    async with one_core_feed(make_app, subject) as (pilot, feeds, view):
        view.feed.flood_protection = False  # (this test is about drawing, not suspending)
        await nc.publish(subject, b"wake up")  # busy pace, so that the rate is followed
        await wait_until(pilot, lambda: feeds._busy, what="the busy pace")

        async def flood() -> None:
            while not feeds._flooding:
                for _ in range(5_000):
                    await nc.publish(subject, b"x" * 16)
                await nc.flush()

        await asyncio.wait_for(flood(), 30)
        assert feeds._busy and feeds._flooding
        await wait_until(pilot, lambda: not feeds._flooding, what="the flood rate left")
        assert view.feed.count > FLOOD_RATE * FLOOD_TICK_SECONDS
        await wait_until(pilot, lambda: not feeds._busy, what="quiet again")


async def test_hidden_panes_keep_their_timers_paused(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await wait_until(pilot, lambda: app.dashboard.query_one(FeedsPane).shown, what="shown")
        # Beyond the grid: not even built until it is first shown, so no timer of its own yet.
        assert not app.dashboard.query(EventsPane)
        await pilot.press("6")
        await wait_until(pilot, lambda: app.dashboard.query(EventsPane), what="the Events pane")
        events = app.dashboard.query_one(EventsPane)
        await wait_until(pilot, lambda: events.shown, what="the Events pane shown")
        assert events._shown_timers
        # Textual's Timer has no public "paused" flag; `_active` is the event its loop waits on
        assert all(timer._active.is_set() for timer, _ in events._shown_timers)
        await pilot.press("z")
        await wait_until(pilot, lambda: not events.shown, what="the Events pane hidden")
        assert all(not timer._active.is_set() for timer, _ in events._shown_timers)
        await pilot.press("6")
        await wait_until(pilot, lambda: events.shown, what="the Events pane shown again")
        assert all(timer._active.is_set() for timer, _ in events._shown_timers)


async def test_the_workers_pane_ticks_only_while_jstui_has_pools(
    make_app: AppFactory, unique: str
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        assert app.dashboard.query_one(WorkersPane)._redraw_timer is None
    app = make_app(workers=(f"{unique}.work,mode=core,count=1",))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        workers = app.dashboard.query_one(WorkersPane)
        await wait_until(pilot, lambda: workers.pools.views, what="the pool")
        assert workers._redraw_timer is not None
