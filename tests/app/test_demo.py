"""`jstui demo` against real servers: the panes come alive, and the presenter's chaos keys do
what they say to real processes (a worker's connection closed, the server SIGKILLed).

Each test runs on a server of its own (`fresh_server`), so the tutorial's names cannot meet
another test's; the test of someone else's server uses the session server with names of its own.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
import pytest
from click.testing import CliRunner
from nats.js.api import StorageType
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import DataTable, TabbedContent

from jstui.commands.demo import demo, demo_settings
from jstui.commands.demo_app import STOP_SECONDS, DemoApp, narration
from jstui.config import Settings
from jstui.nats.cluster import EmbeddedCluster
from jstui.nats.demo.actors import inbox_prefixes, is_inbox
from jstui.nats.demo.names import DemoNames, private_names, tutorial_names
from jstui.nats.demo.story import DemoStory
from jstui.nats.embedded import EmbeddedServer
from jstui.shutdown import GRACE_SECONDS
from jstui.widgets.feeds import FeedsPane
from jstui.widgets.registry import PANES, entry_named
from jstui.widgets.requests import RequestsPane
from jstui.widgets.workers import WorkersPane
from tests.app.conftest import built_pane, screen_text, wait_connected, wait_until
from tests.config.test_connect import running_server
from tests.interop.test_tutorial_watch import TutorialWorker
from tests.test_run import _read_until as read_until
from tests.test_run import start_in_pty

LIVE_SECONDS = 10.0


def demo_app(
    servers: list[str],
    names: DemoNames,
    *,
    embedded: EmbeddedServer | None = None,
    cluster: EmbeddedCluster | None = None,
    monitor_url: str | None = None,
) -> DemoApp:
    """The app `jstui demo` builds, on these servers."""
    settings = Settings(servers=tuple(servers), monitor_url=monitor_url)
    return DemoApp(demo_settings(settings, names), names=names, embedded=embedded, cluster=cluster)


def stream_messages(app: DemoApp) -> int:
    """The stream's message count as the Streams pane shows it (0 while it is not listed)."""
    found = re.search(rf"{app.names.stream}\s+([\d,]+)\s", screen_text(app))
    return int(found.group(1).replace(",", "")) if found else 0


def feed_sequences(app: DemoApp) -> list[int]:
    """The stream sequences the demo's feed holds, in arrival order."""
    view = app.dashboard.query_one(FeedsPane).views[0]
    metas = (message.meta for message in view.feed.buffer)
    return [meta.stream_seq for meta in metas if meta is not None]


async def wait_story(pilot: Pilot[Any], app: DemoApp) -> None:
    await wait_connected(pilot)
    await wait_until(pilot, lambda: app.story.started, timeout=LIVE_SECONDS, what="the story")


def watch_rows(app: DemoApp) -> list[str]:
    """The rows of the Request/Reply pane's Watch tab, as the table holds them."""
    table = app.dashboard.query_one("#requests-watch", DataTable)
    return [" ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


async def test_every_pane_has_live_data(fresh_server: EmbeddedServer) -> None:
    """Every grid pane (Streams, Feeds, Request/Reply, Workers) shows the story within 10 s of
    the start (the 3 s target is a benchmark: see the README): the Request/Reply pane's Watch tab
    matches the demo's stored requests with the replier's replies, as it would any program's."""
    names = tutorial_names()
    app = demo_app([fresh_server.url], names, embedded=fresh_server)
    started = time.monotonic()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_story(pilot, app)
        workers = await built_pane(pilot, WorkersPane)
        await wait_until(pilot, lambda: stream_messages(app) > 0, LIVE_SECONDS, "Streams live")
        await wait_until(pilot, lambda: len(feed_sequences(app)) > 0, LIVE_SECONDS, "Feeds live")

        def members_delivered() -> int:
            snapshot = workers.watcher.snapshot
            return sum(m.delivered for m in snapshot.members) if snapshot else 0

        await wait_until(pilot, lambda: members_delivered() > 0, LIVE_SECONDS, "Workers live")
        requests = await built_pane(pilot, RequestsPane)
        assert requests.query_one(TabbedContent).active == "requests-watch-tab"

        def replied_rows() -> list[str]:
            return [row for row in watch_rows(app) if f"{names.requests_subject} replied " in row]

        await wait_until(pilot, replied_rows, LIVE_SECONDS, "Request/Reply live: a row replied")
        assert "HELLO, CONSUMERS!" in replied_rows()[0] and " ms " in replied_rows()[0]
        await wait_until(
            pilot,
            lambda: re.search(r"my\.subject\.reques\S*\s+replied\s+[\d.]+ ms", screen_text(app)),
            what="the replied row on screen",
        )
        assert time.monotonic() - started < 4 * LIVE_SECONDS
        await wait_until(
            pilot,
            lambda: "example_stream stores every message" in screen_text(app),
            what="the narration, in the Streams pane's border",
        )
        member_names = {m.label for m in workers.watcher.snapshot.members}  # type: ignore[union-attr]
        assert {"jstui-demo-worker-1", "jstui-demo-worker-2", "jstui-demo-worker-3"} <= {
            label.split()[0] for label in member_names
        }
        help_keys = dict(app._key_sections())["Demo"]
        assert ("X", "SIGKILL the nats-server: jstui restarts it on the same store") in help_keys
        await pilot.press("I")
        await wait_until(
            pilot,
            lambda: "example_stream stores every message" not in screen_text(app),
            what="the narration hidden",
        )


async def test_kill_server_loses_nothing_and_the_feed_resumes_without_duplicates(
    fresh_server: EmbeddedServer,
) -> None:
    names = tutorial_names()
    app = demo_app([fresh_server.url], names, embedded=fresh_server)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_story(pilot, app)
        publisher = app.story.publisher
        await wait_until(pilot, lambda: len(feed_sequences(app)) >= 3, LIVE_SECONDS, "the feed")
        old_pid = fresh_server.pid
        await pilot.press("X", "X")  # the second finds it dead already: said, not raised
        await wait_until(
            pilot, lambda: app.story.recovery_seconds is not None, 30, "publishing again"
        )
        assert fresh_server.pid != old_pid  # restarted by jstui, on the same store
        after_kill = publisher.acked_count
        await wait_until(pilot, lambda: publisher.acked_count >= after_kill + 3, what="more acks")
        await pilot.press("P")  # pause: a fixed set of messages to compare
        await wait_until(pilot, lambda: app.story.traffic.paused, what="paused")
        acked = set(publisher.acked)

        nc = await nats.connect(fresh_server.url)
        try:
            jsm = nc.jsm()
            info = await jsm.stream_info(names.stream)
            last = info.state.last_seq
            stored = {}
            for seq in range(info.state.first_seq, last + 1):
                message = await jsm.get_msg(names.stream, seq)
                stored[seq] = message.data
        finally:
            await nc.close()
        assert acked <= set(stored), "an acknowledged message is missing after the kill"
        payloads = [data for seq, data in stored.items() if data.startswith(b"Message ")]
        assert len(payloads) == len(set(payloads)), "a message was stored twice"

        await wait_until(
            pilot, lambda: feed_sequences(app)[-1] == last, LIVE_SECONDS, "the feed caught up"
        )
        seen = feed_sequences(app)
        assert len(seen) == len(set(seen)), "the feed showed a message twice"
        assert set(seen) == set(range(seen[0], last + 1)), "the feed skipped a message"


async def test_the_tutorials_own_worker_joins_the_demos_group(
    fresh_server: EmbeddedServer,
) -> None:
    """What `jstui demo --port 4222` is for: a plain nats-py worker, written as the tutorial
    writes it (`js.subscribe("my.subject.*", queue="workers")`), binds to the demo's consumer and
    becomes a fourth member of the group the Workers pane watches."""
    names = tutorial_names()
    app = demo_app([fresh_server.url], names, embedded=fresh_server)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_story(pilot, app)
        workers = await built_pane(pilot, WorkersPane)
        worker = await TutorialWorker.start(fresh_server.url, names.wildcard, names.workers)
        try:

            def outside_member_delivered() -> bool:
                snapshot = workers.watcher.snapshot
                members = snapshot.members if snapshot else ()
                outside = [m for m in members if not m.label.startswith("jstui-demo-")]
                return len(members) == 4 and any(m.delivered for m in outside)

            await wait_until(pilot, outside_member_delivered, 20, "the tutorial's worker working")
            assert await worker.stop() > 0  # it handled tasks, and acked them
        finally:
            worker.kill()


async def test_kill_worker_brings_redeliveries(fresh_server: EmbeddedServer) -> None:
    names = tutorial_names()
    app = demo_app([fresh_server.url], names, embedded=fresh_server)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_story(pilot, app)
        story = app.story
        await wait_until(
            pilot,
            lambda: any(worker.held for worker in story.workers),
            LIVE_SECONDS,
            "a worker holding a message",
        )
        await pilot.press("K")
        await wait_until(pilot, lambda: story.killed_workers == 1, what="a worker killed")
        assert len(story.workers) == 2
        await wait_until(pilot, lambda: story.redelivered, 20, "redeliveries to the others")
        workers = await built_pane(pilot, WorkersPane)
        await wait_until(
            pilot,
            lambda: any("left" in line for line in screen_text(app).splitlines()),
            LIVE_SECONDS,
            "the killed member shown as left",
        )
        assert workers.watcher.snapshot is not None
        await pilot.press("W")
        await wait_until(pilot, lambda: len(story.workers) == 3, what="a worker added")
        assert story.workers[-1].name == "jstui-demo-worker-4"


async def test_on_someone_elses_server_names_are_private_and_removed(nats_url: str) -> None:
    names = private_names()
    app = demo_app([nats_url], names)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_story(pilot, app)
        assert app.check_action("demo_kill_server", ()) is False
        assert app.check_action("demo_kill_leader", ()) is False
        footer = screen_text(app).splitlines()[-1]
        assert "Pause traffic" in footer and "Kill server" not in footer
        help_keys = [key for key, _ in dict(app._key_sections())["Demo"]]
        assert "K" in help_keys and "X" not in help_keys and "L" not in help_keys
        await wait_until(pilot, lambda: app.story.publisher.acked_count > 0, what="publishing")
        traffic, requester = app.story.traffic, app.story.requester
        await pilot.press("plus")
        await wait_until(pilot, lambda: traffic.rate == 5, what="faster")
        await pilot.press("minus", "minus")
        await wait_until(pilot, lambda: traffic.rate == 2, what="slower")
        sent = requester.sent
        await pilot.press("N")
        await wait_until(pilot, lambda: requester.replied >= sent + 1, what="a request now")
        await only_inboxes_are_answered(pilot, app, nats_url)
    nc = await nats.connect(nats_url)
    try:
        with pytest.raises(nats.js.errors.NotFoundError):
            await nc.jsm().stream_info(names.stream)
    finally:
        await nc.close()
    assert names.stream.startswith("jstui_demo_") and names.private


async def only_inboxes_are_answered(pilot: Pilot[Any], app: DemoApp, url: str) -> None:
    """A stranger stores requests whose `reply-to` names a subject of its choosing: the replier
    acks them unanswered; one naming an inbox is answered."""
    replier, names = app.story.replier, app.names
    target = f"{names.subject_root}_victim.orders"
    nc = await nats.connect(url)
    try:
        hijacked = await nc.subscribe(f"{target}.>")
        inbox = nc.new_inbox()
        answered = await nc.subscribe(inbox)
        js = nc.jetstream()
        for reply_to in (f"{target}.created", f"{target}.*", "_INBOX", f"_INBOX..{target}"):
            await js.publish(names.requests_subject, b"buy", headers={"reply-to": reply_to})
        await js.publish(names.requests_subject, b"ping", headers={"reply-to": inbox})
        reply = await answered.next_msg(timeout=LIVE_SECONDS)
        assert reply.data == b"Response from jstui-demo-replier : PING"
        await nc.flush()  # the replier answers in order: a hijacked reply would be here by now
        assert hijacked.pending_msgs == 0, "the replier published to a subject not an inbox"
        await wait_until(pilot, lambda: replier.refused == 4, what="the strangers refused")
    finally:
        await nc.close()


def test_replies_go_to_inboxes_only() -> None:
    default, custom = inbox_prefixes({}), inbox_prefixes({"inbox_prefix": "_MY"})
    assert default == ("_INBOX.",) and custom == ("_INBOX.", "_MY.")
    assert is_inbox("_INBOX.abc.1", default) and is_inbox("_MY.x", custom)
    for subject in ("orders.new", "_INBOX", "_INBOX.", "_INBOX.>", "_INBOX.a b", "_MY.x"):
        assert not is_inbox(subject, default), subject


LIMITED_USER = "demo"
LIMITED_PASSWORD = "limited-pw"


@pytest.fixture
def one_consumer_server(tmp_path: Path) -> Iterator[str]:
    """A server whose only account may hold one consumer: the demo's stream is allowed, its
    second consumer refused. Yields the URL with the account's user."""
    config = (
        f"jetstream {{ store_dir: {str(tmp_path / 'js')!r} }}\n"
        "accounts { LIMITED { jetstream { max_consumers: 1 }\n"
        f"  users: [ {{ user: {LIMITED_USER}, password: {LIMITED_PASSWORD} }} ] }} }}\n"
    )
    with running_server(tmp_path, config=config) as url:
        yield url.replace("nats://", f"nats://{LIMITED_USER}:{LIMITED_PASSWORD}@")


async def stream_names(nc: nats.NATS) -> list[str]:
    return [info.config.name for info in await nc.jsm().streams_info() if info.config.name]


async def test_a_failed_start_leaves_no_stream_behind(one_consumer_server: str) -> None:
    """The account refuses the demo's second consumer: the start fails, and closes the
    publisher's connection on its way out; the stop must still delete the stream it made."""
    told: list[str] = []
    story = DemoStory([one_consumer_server], private_names(), told.append)
    with pytest.raises(nats.js.errors.APIError):
        await story.start()
    assert story.stream_asked and story.publisher.nc is not None and story.publisher.nc.is_closed
    await story.stop()
    nc = await nats.connect(one_consumer_server)
    try:
        assert await stream_names(nc) == []
    finally:
        await nc.close()


async def test_a_stop_during_the_create_leaves_no_stream_behind(nats_url: str) -> None:
    """A quit while the stream's create is on its way: the create may land after the first
    delete found nothing, so the stop looks again until the create was answered."""
    names = private_names()
    story = DemoStory([nats_url], names, lambda text: None)
    starting = asyncio.ensure_future(story.start())
    while not story.stream_asked:
        await asyncio.sleep(0.001)
    starting.cancel()
    await story.stop()
    with pytest.raises(RuntimeError):
        await story.start()  # once stopping, nothing more is created
    await asyncio.sleep(0.5)  # a create that slipped past would show by now
    nc = await nats.connect(nats_url)
    try:
        assert names.stream not in await stream_names(nc)
    finally:
        await nc.close()


async def test_quitting_stops_the_story_first(nats_url: str) -> None:
    """The story's stop (and the deletion of its stream) begins when the app is asked to exit,
    not once Textual has taken the screen down: a signal leaves 1.5 s for all of it."""
    names = private_names()
    app = demo_app([nats_url], names)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_story(pilot, app)
        app.exit()
        assert app.story.stopping
    assert STOP_SECONDS < GRACE_SECONDS
    nc = await nats.connect(nats_url)
    try:
        assert names.stream not in await stream_names(nc)
    finally:
        await nc.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses a pty")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
async def test_a_signal_ends_the_demo_in_time_and_removes_its_stream(
    nats_url: str, tmp_path: Path, signum: signal.Signals
) -> None:
    """`jstui demo --server URL --yes` in a terminal, ended by a signal: within 2 s, and the
    stream it made on that server is gone (the cleanup runs first, inside the signal's grace)."""
    process, master = start_in_pty(tmp_path, ["demo", "--server", nats_url, "--yes"])
    nc = await nats.connect(nats_url)
    try:

        async def demo_stream() -> list[str]:
            return [name for name in await stream_names(nc) if name.startswith("jstui_demo_")]

        screen = b""
        deadline = time.monotonic() + 30
        made: list[str] = []
        while not made and time.monotonic() < deadline:
            screen += await asyncio.to_thread(read_until, master, b"connected", 0.2)
            made = await demo_stream()
        assert made, screen[-2000:]
        mine = set(made)
        await asyncio.sleep(0.5)  # the programs running, the panes polling
        sent = time.monotonic()
        process.send_signal(signum)
        while process.poll() is None and time.monotonic() < sent + 10:
            await asyncio.to_thread(read_until, master, b"\x00", 0.05)  # keep the pty drained
        took = time.monotonic() - sent
        assert process.poll() is not None, "jstui demo did not end after the signal"
        assert took < 2.0, f"jstui demo took {took:.1f} s to end"
        assert not mine & set(await demo_stream()), "the demo's stream outlived it"
    finally:
        await nc.close()
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)


def test_the_command_says_what_it_creates_and_asks_first(nats_url: str) -> None:
    result = CliRunner().invoke(demo, ["--server", nats_url], input="n\n")
    assert result.exit_code == 1, result.output
    assert "will create" in result.output and "jstui_demo_" in result.output
    assert "Go ahead?" in result.output and "Aborted" in result.output


def test_cluster_and_server_do_not_go_together(nats_url: str) -> None:
    result = CliRunner().invoke(demo, ["--cluster", "--server", nats_url])
    assert result.exit_code == 2 and "--cluster" in result.output


def test_read_only_is_refused_on_someone_elses_server(nats_url: str) -> None:
    """The demo would create a stream there: --read-only's promise cannot hold."""
    result = CliRunner().invoke(demo, ["--read-only", "--server", nats_url, "--yes"])
    assert result.exit_code == 2 and "--read-only cannot hold" in result.output


async def test_kill_the_stream_leader_elects_another_and_publishing_goes_on(
    fresh_cluster: EmbeddedCluster,
) -> None:
    names = tutorial_names()
    app = demo_app(
        fresh_cluster.urls,
        names,
        cluster=fresh_cluster,
        monitor_url=",".join(fresh_cluster.monitor_urls),
    )
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_story(pilot, app)
        nc = await nats.connect(fresh_cluster.urls)
        try:
            info = await nc.jsm().stream_info(names.stream)
        finally:
            await nc.close()
        assert info.config.num_replicas == 3 and info.config.storage == StorageType.FILE
        leader = info.cluster.leader if info.cluster else None
        assert leader
        await pilot.press("L")
        await wait_until(
            pilot, lambda: app.story.leader_seconds is not None, 60, "a new stream leader"
        )
        await wait_until(pilot, lambda: app.story.recovery_seconds is not None, 30, "publishing")
        acked = app.story.publisher.acked_count
        await wait_until(pilot, lambda: app.story.publisher.acked_count > acked + 2, 20, "acks")
        await wait_until(
            pilot,
            lambda: fresh_cluster.node_named(leader).running,
            30,
            "the killed node restarted",
        )


def test_every_pane_has_narration() -> None:
    for names in (tutorial_names(), private_names("abc123")):
        told = narration(names)
        assert [pane.name for pane in PANES if not told.get(pane.name)] == []


def test_a_narration_that_says_try_names_the_key_that_creates_there() -> None:
    """The key in "the demo makes none: try c" must make one in that pane (KV said `n`, which
    puts a key and needs a bucket first)."""
    told = narration(tutorial_names())
    tried = {
        name: sentence.rsplit("try ", 1)[1] for name, sentence in told.items() if "try " in sentence
    }
    assert set(tried) == {"kv", "objects"}
    for name, key in tried.items():
        bindings = entry_named(name).pane_class.BINDINGS
        actions = {b.key: b.action for b in bindings if isinstance(b, Binding)}
        assert actions.get(key) == "new_bucket", (name, key, actions.get(key))


def test_tutorial_and_private_names_differ() -> None:
    tutorial, private = tutorial_names(), private_names("abc123")
    assert (tutorial.stream, tutorial.wildcard, tutorial.watch) == (
        "example_stream",
        "my.subject.*",
        "example_stream/workers",
    )
    assert private.stream == "jstui_demo_abc123_stream"
    assert private.requests_subject == "jstui_demo_abc123.subject.requests"
    settings = demo_settings(replace(Settings(), feeds=("a,core",)), tutorial)
    assert settings.feeds == ("a,core", "my.subject.*,js")
    assert settings.watch_requests == "my.subject.requests"
