"""What the app says when its own embedded nats-server dies: the status line shows since when it
is reconnecting and why, jstui restarts the server on the same store, and once back the line
keeps the last outage (when, how long, why)."""

from __future__ import annotations

import os
import signal
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable

from jstui.app import JstuiApp
from jstui.config import Settings
from jstui.nats.embedded import EmbeddedServer
from jstui.nats.session import Session
from jstui.widgets.feeds import FeedsPane, FeedView
from jstui.widgets.requests import RequestsPane
from jstui.widgets.requests.responders import ResponderTable
from jstui.widgets.status import StatusLine
from jstui.widgets.workers import WorkersPane
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until


async def test_the_embedded_server_killed_is_said_restarted_and_reconnected(
    fresh_server: EmbeddedServer,
) -> None:
    app = JstuiApp(Settings(servers=(fresh_server.url,)), embedded=fresh_server)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        line = app.dashboard.query_one(StatusLine)
        pid = fresh_server.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await wait_until(
            pilot,
            lambda: (
                "reconnecting since" in line.plain
                and "embedded nats-server killed by SIGKILL" in line.plain
            ),
            what="the outage said",
        )
        await wait_until(
            pilot, lambda: "● connected" in line.plain, timeout=20, what="connected again"
        )
        await wait_until(pilot, lambda: "last outage" in line.plain, what="the last outage")
        assert "restarted on the same store" in line.plain and fresh_server.pid != pid


async def test_reconnect_now_from_the_palette(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        line = app.dashboard.query_one(StatusLine)
        await pilot.press("ctrl+p")
        await pilot.press(*"Reconnect now")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: "last outage" in line.plain and "reconnect asked for" in line.plain,
            what="the reconnect said",
        )
        assert "● connected" in line.plain


async def test_a_pool_says_it_is_waiting_while_the_connection_is_lost(
    fresh_server: EmbeddedServer, unique: str
) -> None:
    app = JstuiApp(Settings(servers=(fresh_server.url,), workers=(f"{unique}.w.*,count=2",)))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await pilot.press("4")
        pane = app.dashboard.query_one(WorkersPane)
        await wait_until(pilot, lambda: pane.pool is not None, what="the pool")
        await wait_until(pilot, lambda: "2/2 running" in screen_text(app), what="running")
        fresh_server.kill()
        await wait_until(
            pilot,
            lambda: "2/2 waiting: connection lost since" in screen_text(app),
            what="the pool waiting",
        )
        table = pane.query_one("#workers-table", DataTable)
        await wait_until(
            pilot,
            lambda: all(str(table.get_row(key)[-1]).strip() == "waiting" for key in ("m1", "m2")),
            what="each member waiting",
        )
        fresh_server.restart()
        await wait_until(
            pilot, lambda: "2/2 running" in screen_text(app), timeout=20, what="running again"
        )


async def show_feed(pilot: Pilot[Any], feeds: FeedsPane, view: FeedView) -> None:
    """Switch tabs with `]` until `view` is the one shown."""
    for _ in range(len(feeds.views)):
        if feeds.current is view:
            return
        await pilot.press("right_square_bracket")
        await pilot.pause()
    assert feeds.current is view


async def test_feeds_say_what_the_outage_means_for_them(
    fresh_server: EmbeddedServer, unique: str
) -> None:
    """A JetStream feed: "reconnecting", then live again from where it was. A core feed: after
    the outage, for how long it received nothing."""
    js_feed, core_feed = f"{unique}.s.*", f"{unique}.core"
    async with Session([fresh_server.url]) as setup:
        await setup.js.add_stream(name=unique, subjects=[f"{unique}.s.>"])
        await setup.js.publish(f"{unique}.s.a", b"before")
    app = JstuiApp(Settings(servers=(fresh_server.url,), feeds=(js_feed, core_feed)))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await pilot.press("2")
        feeds = app.dashboard.query_one(FeedsPane)
        await wait_until(pilot, lambda: len(feeds.views) == 2, what="two feeds")
        views = {view.feed.spec.subject: view for view in feeds.views}
        await wait_until(pilot, lambda: views[js_feed].feed.count == 1, what="the stored one")
        await show_feed(pilot, feeds, views[js_feed])
        fresh_server.kill()
        await wait_until(
            pilot,
            lambda: (
                "◌ reconnecting" in screen_text(app) and "resuming from seq 2" in screen_text(app)
            ),
            what="the JetStream feed waiting",
        )
        fresh_server.restart()
        await wait_until(pilot, lambda: "● live" in screen_text(app), timeout=20, what="live")
        await show_feed(pilot, feeds, views[core_feed])
        await wait_until(
            pilot,
            lambda: "messages then were missed" in screen_text(app),
            what="the core feed's gap",
        )


async def test_responders_say_they_are_waiting_while_the_connection_is_lost(
    fresh_server: EmbeddedServer, unique: str
) -> None:
    app = JstuiApp(Settings(servers=(fresh_server.url,), responders=(f"{unique}.svc",)))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await pilot.press("3")
        pane = app.dashboard.query_one(RequestsPane)
        await wait_until(
            pilot,
            lambda: pane.responders is not None and len(pane.responders.responders) == 1,
            what="the responder",
        )
        table = pane.query_one(ResponderTable)
        state = lambda: str(table.get_row_at(0)[4])  # noqa: E731
        await wait_until(pilot, lambda: table.row_count == 1 and state() == "running")
        fresh_server.kill()
        await wait_until(
            pilot,
            lambda: state().startswith("waiting: connection lost since"),
            what="the responder waiting",
        )
        fresh_server.restart()
        await wait_until(pilot, lambda: state() == "running", timeout=20, what="running again")
