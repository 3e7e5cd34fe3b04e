"""A flood never locks the user out: the Feeds pane with a core feed flooded by another process.

The flooding feed is suspended by the flood guard (jstui/nats/feeds/saturation.py), its state line
says so and since when, a second quiet feed keeps receiving, keys keep working, and R resumes.
No timing is asserted: only generous deadlines for things to happen.
"""

from __future__ import annotations

import asyncio

from nats.aio.client import Client

from jstui.app import JstuiApp
from jstui.nats.feeds.feed import FeedState
from jstui.widgets.feeds import FeedsPane, FeedView
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until
from tests.nats.test_feeds import flooding

BIG = (160, 45)


def views(app: JstuiApp) -> list[FeedView]:
    return app.dashboard.query_one(FeedsPane).views


async def test_a_flooded_feed_is_suspended_said_and_resumed_with_r(
    make_app: AppFactory, nats_url: str, nc: Client, unique: str
) -> None:
    flood_subject, quiet_subject = f"{unique}.flood", f"{unique}.quiet"
    app = make_app(feeds=(f"{flood_subject},core", f"{quiet_subject},core"))
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        await pilot.press("2")
        await wait_until(pilot, lambda: len(views(app)) == 2, 30, "two feeds")
        flood, quiet = (view.feed for view in views(app))
        await wait_until(
            pilot, lambda: flood.state is quiet.state is FeedState.LIVE, 30, "live feeds"
        )
        stop = asyncio.Event()

        async def paced() -> None:
            while not stop.is_set():
                await nc.publish(quiet_subject, b"tick")
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(paced())
        try:
            with flooding(nats_url, flood_subject):
                await wait_until(pilot, lambda: flood.state is FeedState.SUSPENDED, 60, "suspended")
                # the whole reason is on screen (the line wraps), with the key that resumes
                await wait_until(pilot, lambda: "R to resume" in screen_text(app), 30, "R")
                text = " ".join(screen_text(app).split())
                assert "not received since" in text and "more than this" in text, text
                assert "connection can carry" in text, text
                before = quiet.count
                await wait_until(pilot, lambda: quiet.count > before + 20, 30, "the quiet feed")
                assert quiet.state is FeedState.LIVE
                # keys still work: switch to the quiet feed and back
                await pilot.press("right_square_bracket")
                await wait_until(
                    pilot, lambda: f"core feed on {quiet_subject}" in screen_text(app), 30
                )
                await pilot.press("left_square_bracket")
                await wait_until(pilot, lambda: "not received since" in screen_text(app), 30)
            await pilot.press("R")
            await wait_until(pilot, lambda: flood.state is FeedState.LIVE, 30, "resumed")
            await nc.publish(flood_subject, b"after the flood")
            await wait_until(
                pilot, lambda: "after the flood" in screen_text(app), 30, "a new message drawn"
            )
            assert "not received since" not in screen_text(app)
            counts = flood.counts()
            assert counts.received == counts.accounted
        finally:
            stop.set()
            await ticker
