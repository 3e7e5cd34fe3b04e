"""The feed counters against the real server, as docs/architecture.md defines them:

    received = shown + filtered + skipped + dropped + pending,  dropped = slow + overwritten

in every mode, while paused, during a flood and with a filter; skipped messages reachable by
paging back; export of what the filter shows, never over a file unasked; the mode a bare
`--feed SUBJECT` gets; a start-up feed waiting for its stream.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest
from nats.aio.client import Client

from jstui.nats.feeds.feed import Feed, FeedState, choose_mode
from jstui.nats.feeds.filter import NO_FILTER, FeedFilter
from jstui.nats.feeds.message import export_messages
from jstui.nats.feeds.spec import FeedMode, FeedSpec, parse_feed_option
from jstui.nats.session import Session
from tests.conftest import eventually


def assert_balanced(feed: Feed) -> None:
    c = feed.counts()
    assert c.received == c.shown + c.filtered + c.skipped + c.dropped + c.pending, c
    assert c.dropped == c.slow + c.overwritten, c
    assert c.accounted == c.received, c


async def publish(nc: Client, subject: str, first: int, count: int) -> None:
    for i in range(first, first + count):
        await nc.publish(subject, f"m{i} {'even' if i % 2 == 0 else 'odd'}".encode())


@pytest.mark.parametrize("mode", ["core", "js", "consume"])
async def test_counters_add_up_in_every_mode_while_paused_and_in_a_flood(
    session: Session, nc: Client, unique: str, mode: str
) -> None:
    subject = f"{unique}.flood"
    if mode != "core":
        await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.>"])
    # consuming feeds get at most max_ack_pending (1,000) unacknowledged messages: stay below
    total, chunk, buffer = 900, 100, 200
    feed = Feed(session, FeedSpec.create(subject, mode, buffer=buffer))
    async with feed:
        for n in range(total // chunk):
            await publish(nc, subject, n * chunk, chunk)
            await asyncio.sleep(0)  # messages arrive while the view takes and counts
            paused = 2 <= n <= 6  # 500 messages while paused: more than the buffer holds
            if not paused:
                feed.take_new(limit=40)
            assert_balanced(feed)
            if paused and n > 2:
                assert feed.counts().pending > 0
            await asyncio.sleep(0.01)
            assert_balanced(feed)
        await nc.flush()
        await eventually(lambda: feed.counts().received == total, what=f"{total} received")
        assert_balanced(feed)
        feed.take_new(limit=40)
        c = feed.counts()
        assert c.pending == 0 and c.slow == 0
        assert c.overwritten > 0  # paused for longer than the ring buffer holds: lost
        assert c.skipped > 0  # more than a screenful at once: still in the buffer
        assert_balanced(feed)
        # a filter on, as a view would use it
        flt = FeedFilter.create(payload="even")
        await publish(nc, subject, total, chunk)
        await nc.flush()
        await eventually(lambda: feed.counts().received == total + chunk)
        shown = feed.take_new(limit=1000, flt=flt)
        assert len(shown) == chunk // 2
        assert_balanced(feed)


async def test_skipping_all_but_the_newest_keeps_the_counters_adding_up(
    session: Session, nc: Client, unique: str
) -> None:
    """What a view does between the draws of a backlog (`Feed.skip_all_but`): the older messages
    are skipped (overwritten, if the ring buffer already lost them), the newest stay pending."""
    subject = f"{unique}.backlog"
    feed = Feed(session, FeedSpec.create(subject, "core", buffer=100))
    async with feed:
        await publish(nc, subject, 1, 250)
        await nc.flush()
        await eventually(lambda: feed.count == 250, what="250 received")
        feed.skip_all_but(30)
        c = feed.counts()
        assert (c.pending, c.overwritten, c.skipped, c.shown) == (30, 150, 70, 0)
        assert_balanced(feed)
        feed.skip_all_but(30)  # nothing new: nothing changes
        assert feed.counts() == c
        shown = feed.take_new(limit=10)
        assert [m.data for m in shown] == [
            f"m{i} {'even' if i % 2 == 0 else 'odd'}".encode() for i in range(241, 251)
        ]
        c = feed.counts()
        assert (c.pending, c.skipped, c.shown) == (0, 90, 10)
        assert_balanced(feed)
        skipped = feed.older(241, NO_FILTER, 500)  # still in the buffer: reachable
        assert [m.index for m in skipped] == list(range(151, 241))


async def test_skipped_messages_are_reachable_by_paging_back(
    session: Session, nc: Client, unique: str
) -> None:
    subject = f"{unique}.skip"
    feed = Feed(session, FeedSpec.create(subject, buffer=1000))
    async with feed:
        await publish(nc, subject, 1, 500)
        await nc.flush()
        await eventually(lambda: feed.count == 500)
        drawn = feed.take_new(limit=20)
        c = feed.counts()
        assert (c.shown, c.skipped, c.dropped) == (20, 480, 0)
        older = feed.older(drawn[0].index, NO_FILTER, 200)
        assert [m.index for m in older] == list(range(281, 481))
        assert [m.index for m in feed.older(281, NO_FILTER, 1000)] == list(range(1, 281))
        assert feed.older(1, NO_FILTER, 10) == []
        evens = feed.older(481, FeedFilter.create(payload="even"), 5)
        assert [m.data for m in evens] == [f"m{i} even".encode() for i in range(472, 481, 2)]
        # paging back never reaches what the view has not taken yet
        await publish(nc, subject, 501, 10)
        await nc.flush()
        await eventually(lambda: feed.pending == 10)
        assert feed.older(10_000, NO_FILTER, 1)[0].index == 500
        assert feed.counts() == replace(c, received=510, pending=10, bytes=feed.bytes)


async def test_a_new_filter_re_accounts_the_buffer_and_counters_add_up(
    session: Session, nc: Client, unique: str
) -> None:
    subject = f"{unique}.refilter"
    feed = Feed(session, FeedSpec.create(subject, buffer=100))
    async with feed:
        await publish(nc, subject, 0, 60)
        await nc.flush()
        await eventually(lambda: feed.count == 60)
        assert len(feed.take_new(limit=1000)) == 60
        await publish(nc, subject, 60, 60)
        await nc.flush()
        await eventually(lambda: feed.count == 120)
        assert len(feed.take_new(limit=1000)) == 60
        c = feed.counts()
        assert (c.shown, c.filtered, c.skipped, c.dropped) == (120, 0, 0, 0)
        # 20 shown messages have left the buffer (they stay shown); of the 100 still in it,
        # the 50 "even" ones pass the filter, the 50 "odd" ones are filtered
        redraw = feed.refilter(FeedFilter.create(payload="even"), limit=1000)
        assert len(redraw) == 50 and all(m.data.endswith(b"even") for m in redraw)
        c = feed.counts()
        assert (c.shown, c.filtered, c.skipped, c.dropped) == (70, 50, 0, 0)
        assert_balanced(feed)
        # a redraw shows at most `limit`: older matches are skipped, reachable by paging back
        redraw = feed.refilter(NO_FILTER, limit=30)
        assert [m.index for m in redraw] == list(range(91, 121))
        c = feed.counts()
        assert (c.shown, c.filtered, c.skipped) == (20 + 30, 0, 70)
        assert_balanced(feed)


async def test_export_writes_what_the_filter_shows_and_never_overwrites_unasked(
    session: Session, nc: Client, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = f"{unique}.export"
    feed = Feed(session, FeedSpec.create(subject))
    async with feed:
        await publish(nc, subject, 0, 10)
        await nc.flush()
        await eventually(lambda: feed.count == 10)
        flt = FeedFilter.create(payload="odd")
        target = tmp_path / "shown.ndjson"
        path, count = await export_messages(feed.exportable(flt), target)
        assert (path, count) == (target, 5)
        payloads = [json.loads(line)["payload"] for line in target.read_text().splitlines()]
        assert payloads == [f"m{i} odd" for i in range(1, 10, 2)]
        with pytest.raises(FileExistsError):
            await export_messages(feed.exportable(), target)
        assert len(target.read_text().splitlines()) == 5  # untouched
        path, count = await export_messages(feed.exportable(), target, overwrite=True)
        assert count == 10 and len(target.read_text().splitlines()) == 10
        monkeypatch.chdir(tmp_path)
        path, count = await export_messages(feed.exportable(), "relative.ndjson")
        assert path == tmp_path / "relative.ndjson" and path.is_absolute() and path.is_file()


async def test_a_bare_feed_reads_the_stream_that_captures_it(
    session: Session, nc: Client, unique: str
) -> None:
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.stored.>"])
    spec = await choose_mode(session, parse_feed_option(f"{unique}.stored.*"))
    assert (spec.mode, spec.stream, spec.auto_mode) == (FeedMode.JETSTREAM, unique, False)
    spec = await choose_mode(session, parse_feed_option(f"{unique}.plain.*"))
    assert (spec.mode, spec.stream, spec.auto_mode) == (FeedMode.CORE, None, False)
    chosen = parse_feed_option(f"{unique}.stored.*,core")
    assert await choose_mode(session, chosen) == chosen


async def test_a_start_up_feed_waits_for_its_stream(
    session: Session, nc: Client, unique: str
) -> None:
    subject = f"{unique}.wait.*"
    feed = Feed(session, FeedSpec.create(subject, "js"))
    task = asyncio.create_task(feed.run(wait_for_stream=True))
    try:
        await eventually(lambda: feed.state is FeedState.WAITING, what="waiting")
        assert feed.waiting == f"waiting for a stream on {subject}"
        js = nc.jetstream()
        await js.add_stream(name=unique, subjects=[f"{unique}.wait.>"])
        await js.publish(f"{unique}.wait.a", b"stored")
        await eventually(lambda: feed.state is FeedState.LIVE, timeout=10, what="live")
        await eventually(lambda: feed.count == 1, what="the stored message")
        assert feed.stream == unique and feed.waiting == ""
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
