"""The Workers pane watching groups it is not part of: plain nats-py programs' queue groups, a
pull consumer, `--watch NAME` at start-up (one match, several), hostile names, and never joining."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig
from textual.pilot import Pilot
from textual.widgets import DataTable

from jstui.app import JstuiApp
from jstui.dialogs.group_chooser import GroupChooserScreen
from jstui.nats.observe.groups import GroupKind, WatchState
from jstui.widgets.workers import WorkersPane
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until

HOSTILE_NAME = "evil\x1b[2J[red]boss[/red]\u202eman"
"""A connection name with an escape sequence, markup and a right-to-left override."""


def pane_of(app: JstuiApp) -> WorkersPane:
    pane = app.dashboard.pane(4)
    assert isinstance(pane, WorkersPane)
    return pane


def watch_rows(pane: WorkersPane) -> dict[str, str]:
    table = pane.query_one("#watch-table", DataTable)
    return {
        str(key.value): " ".join(str(cell) for cell in table.get_row(key)) for key in table.rows
    }


@asynccontextmanager
async def queue_workers(
    url: str, subject: str, queue: str, names: list[str]
) -> AsyncIterator[list[Client]]:
    """Plain nats-py programs, one connection each, subscribed to `subject` in `queue`."""
    clients = [await nats.connect(url, name=name) for name in names]

    async def handle(msg: Msg) -> None:
        pass

    try:
        for client in clients:
            await client.subscribe(subject, queue=queue, cb=handle)
            await client.flush()
        yield clients
    finally:
        for client in clients:
            await client.close()


async def publish(url: str, subject: str, count: int) -> None:
    nc = await nats.connect(url, name="publisher")
    try:
        for n in range(count):
            await nc.publish(subject, str(n).encode())
        await nc.flush()
    finally:
        await nc.close()


async def test_an_external_core_queue_group_is_watched_from_start_without_joining(
    make_app: AppFactory, nats_url: str, unique: str
) -> None:
    subject = f"{unique}.jobs\u202e[b]"  # a right-to-left override and markup in a subject
    names = ["alpha", HOSTILE_NAME]
    async with queue_workers(nats_url, subject, "crew", names) as clients:
        await publish(nats_url, subject, 60)
        app = make_app(watch=f"{subject}@crew")
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_connected(pilot)
            pane = pane_of(app)
            await wait_until(pilot, lambda: pane.showing == "watch", what="the group shown")
            snapshot_of = lambda: pane.watcher.snapshot  # noqa: E731
            await wait_until(
                pilot,
                lambda: (s := snapshot_of()) is not None and s.members_total == 60,
                what="both members counted",
            )
            snapshot = snapshot_of()
            assert snapshot is not None and snapshot.ref.kind is GroupKind.CORE
            assert len(snapshot.members) == 2
            await wait_until(pilot, lambda: len(watch_rows(pane)) == 2, what="two rows")
            rows = watch_rows(pane)
            for member in snapshot.members:
                assert f"{member.delivered:,}" in rows[member.key]
            assert sum(m.delivered for m in snapshot.members) == 60
            text = screen_text(app)
            shown_subject = f"{unique}.jobs\\u202e[b]"  # as sanitize shows it
            assert f"{shown_subject}@crew" in text  # in the group list and the summary
            assert "core queue group" in text
            assert "\x1b" not in text and "\u202e" not in text  # sanitized, not interpreted
            assert "evil\u241b[2J" in text  # the escape made visible
            assert "watching (not joined)" in text
            # jstui watched without joining: its own connection holds no subscription there
            seen = await app.observer.connections(filter_subject=subject)
            own = [c for c in seen.connections if c.cid == app.session.nc.client_id]
            assert not [s for c in own for s in c.subscriptions if s.queue == "crew"]
            assert {c.name for c in seen.connections if c.subscriptions} == set(names)
            # a member leaves: marked, its last count kept
            await clients[0].close()
            await wait_until(
                pilot,
                lambda: any(
                    m.state is WatchState.LEFT for m in (pane.watcher.snapshot or snapshot).members
                ),
                what="a member marked left",
            )
            await wait_until(pilot, lambda: " left" in " ".join(watch_rows(pane).values()))


async def test_a_pull_consumer_shows_its_figures_and_why_members_are_not_listed(
    make_app: AppFactory, nats_url: str, unique: str
) -> None:
    nc = await nats.connect(nats_url, name="pull-worker")
    try:
        js = nc.jetstream()
        await js.add_stream(name=unique, subjects=[f"{unique}.>"])
        await js.add_consumer(
            unique, ConsumerConfig(durable_name="pullers", ack_policy=AckPolicy.EXPLICIT)
        )
        for n in range(20):
            await js.publish(f"{unique}.task", str(n).encode())
        sub = await js.pull_subscribe_bind("pullers", stream=unique)
        for msg in await sub.fetch(5, timeout=5):
            await msg.ack()
        app = make_app(watch=f"{unique}/pullers")
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_connected(pilot)
            pane = pane_of(app)
            await wait_until(
                pilot,
                lambda: (s := pane.watcher.snapshot) is not None and s.consumer is not None,
                what="consumer figures",
            )
            snapshot = pane.watcher.snapshot
            assert snapshot is not None and snapshot.ref.kind is GroupKind.PULL
            assert snapshot.consumer is not None and snapshot.consumer.delivered == 5
            await wait_until(pilot, lambda: "ack floor" in screen_text(app), what="figures shown")
            text = screen_text(app)
            assert "consumer delivered 5" in text
            assert "pending 15" in text and "waiting pulls" in text
            assert any("pull" in note.lower() for note in snapshot.notes)  # the caveat
    finally:
        await nc.jetstream().delete_stream(unique)  # no pull consumer left for other tests
        await nc.close()


async def test_a_watch_at_start_leaves_the_user_on_the_pane_they_started_on(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    """`jstui --pane events --watch NAME` (what `jstui demo --pane events` does): the group is
    watched in the Workers pane, which does not take the screen from the Events pane."""
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.>"])
    try:
        await js.add_consumer(
            unique, ConsumerConfig(durable_name="pullers", ack_policy=AckPolicy.EXPLICIT)
        )
        app = make_app(watch=f"{unique}/pullers", start_pane="events")
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_connected(pilot)
            pane = pane_of(app)
            await wait_until(
                pilot,
                lambda: pane.watch_pending is None and pane.showing == "watch",
                what="the group found and watched",
            )
            await pilot.pause(0.3)  # (a request to show the pane would be handled by now)
            dashboard = app.dashboard
            assert dashboard.maximized is dashboard.pane(6)
            assert dashboard.current_pane == 6
            assert "─ 6 Events" in screen_text(app) and "─ 4 Workers" not in screen_text(app)
    finally:
        await js.delete_stream(unique)


@asynccontextmanager
async def two_groups_of_one_name(
    url: str, unique: str, members_of_b: list[str]
) -> AsyncIterator[str]:
    """Queue groups of one name on `{unique}.a` (one member) and `{unique}.b`; yields the name."""
    queue = f"{unique}q"
    async with (
        queue_workers(url, f"{unique}.a", queue, ["a1"]),
        queue_workers(url, f"{unique}.b", queue, members_of_b),
    ):
        yield queue


async def choose_the_second_group(pilot: Pilot[Any], unique: str, queue: str) -> WorkersPane:
    """In the chooser that `--watch QUEUE` opened for `{unique}.a` and `{unique}.b`, pick the
    second; the Workers pane that watches it."""
    app = pilot.app
    assert isinstance(app, JstuiApp)
    await wait_until(pilot, lambda: isinstance(app.screen, GroupChooserScreen), what="the chooser")
    await wait_until(pilot, lambda: f"{unique}.b@{queue}" in screen_text(app))
    assert f"{unique}.a@{queue}" in screen_text(app)
    await pilot.press("down", "enter")
    await wait_until(pilot, lambda: not isinstance(app.screen, GroupChooserScreen))
    return pane_of(app)


async def test_an_ambiguous_watch_name_opens_a_chooser(
    make_app: AppFactory, nats_url: str, unique: str
) -> None:
    async with two_groups_of_one_name(nats_url, unique, ["b1", "b2"]) as queue:
        app = make_app(watch=queue)
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_connected(pilot)
            pane = await choose_the_second_group(pilot, unique, queue)
            await wait_until(
                pilot,
                lambda: (s := pane.watcher.snapshot) is not None and len(s.members) == 2,
                what="the second group watched",
            )
            assert pane.watcher.ref is not None and pane.watcher.ref.subject == f"{unique}.b"
            await pilot.press("left_square_bracket")  # [ steps to the entry above: the other one
            await wait_until(
                pilot,
                lambda: pane.watcher.ref is not None and pane.watcher.ref.subject == f"{unique}.a",
                what="[ steps to the other group",
            )


async def test_an_ambiguous_watch_asks_over_the_pane_the_user_started_on(
    make_app: AppFactory, nats_url: str, unique: str
) -> None:
    async with two_groups_of_one_name(nats_url, unique, ["b1"]) as queue:
        app = make_app(watch=queue, start_pane="events")
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_connected(pilot)
            pane = await choose_the_second_group(pilot, unique, queue)
            await wait_until(
                pilot,
                lambda: pane.watcher.ref is not None and pane.watcher.ref.subject == f"{unique}.b",
                what="the chosen group watched",
            )
            await pilot.pause(0.3)  # (a request to show the pane would be handled by now)
            dashboard = app.dashboard
            assert app.screen is dashboard and dashboard.maximized is dashboard.pane(6)


async def test_watch_waits_for_a_group_that_is_not_there_yet(
    make_app: AppFactory, nats_url: str, unique: str
) -> None:
    app = make_app(watch=f"{unique}late")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = pane_of(app)
        await wait_until(pilot, lambda: pane.discovered, what="first discovery")
        assert f"waiting for group {unique}late" in screen_text(app)
        async with queue_workers(nats_url, f"{unique}.late", f"{unique}late", ["late"]):
            await wait_until(
                pilot, lambda: pane.watch_pending is None, timeout=15, what="picked when it came"
            )
            assert pane.watcher.ref is not None and pane.watcher.ref.queue == f"{unique}late"
            await wait_until(
                pilot, lambda: f"waiting for group {unique}late" not in screen_text(app)
            )
