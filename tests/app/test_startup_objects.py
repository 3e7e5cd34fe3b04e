"""The start-up objects (`--feed`, `--responder`, `--workers`) on a server without their stream:
each pane says what it waits for, and all three start once a plain nats-py client creates the
stream (the README's showcase command on a fresh install)."""

from __future__ import annotations

from nats.aio.client import Client

from jstui.nats.feeds.feed import FeedState
from jstui.nats.feeds.spec import FeedMode
from jstui.nats.workers.pool import PoolState
from jstui.widgets.feeds import FeedsPane
from jstui.widgets.requests import RequestsPane
from jstui.widgets.workers import WorkersPane
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until


async def test_showcase_objects_wait_for_their_stream_then_start(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    subjects = f"{unique}.*"
    requests = f"{unique}.requests"
    app = make_app(
        feeds=(f"{subjects},js", f"{unique}.bare"),
        responders=(f"{requests},stored",),
        workers=(f"{subjects},mode=group,queue=workers,count=2",),
    )
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_connected(pilot)
        feeds = app.dashboard.query_one(FeedsPane)
        responders = app.dashboard.query_one(RequestsPane)
        workers = app.dashboard.query_one(WorkersPane)
        await wait_until(pilot, lambda: len(feeds.views) == 2, what="two feed tabs")
        feed = feeds.views[0].feed
        await wait_until(pilot, lambda: feed.state is FeedState.WAITING, what="feed waiting")
        # a bare --feed SUBJECT with no stream capturing it is a core feed
        assert feeds.views[1].feed.spec.mode is FeedMode.CORE
        await wait_until(
            pilot,
            lambda: f"--responder: waiting for a stream on {requests}" in screen_text(app),
            what="the requests pane says the responder waits",
        )
        await wait_until(
            pilot,
            lambda: f"\u25cc waiting  for a stream on {subjects}" in screen_text(app),
            what="the feed's state line says it waits",
        )
        text = screen_text(app)
        assert f"--workers {subjects},mode=group,queue=workers,count=2: waiting for a" in text
        assert "no stream captures" not in screen_text(app)  # no error toasts

        await nc.jetstream().add_stream(name=unique, subjects=[subjects])

        await wait_until(pilot, lambda: feed.state is FeedState.LIVE, what="feed live")
        await wait_until(
            pilot,
            lambda: (
                any(r.running for r in (responders.responders.responders.values()))
                if responders.responders
                else False
            ),
            what="responder running",
        )
        await wait_until(
            pilot,
            lambda: workers.pool is not None and workers.pool.state is PoolState.RUNNING,
            what="pool running",
        )
        assert feed.stream == unique
        await nc.publish(f"{unique}.test", b"Message 1")
        await wait_until(pilot, lambda: feed.count >= 1, what="the feed reads the stream")
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "waiting for a stream" not in text
        assert "no stream captures" not in text
